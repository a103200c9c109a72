"""The ``nfe`` command line: work with pictures and models from a terminal.

Each subcommand is a pair of functions: ``_add_<name>(subparsers)`` declares its arguments and
help, and ``_<name>(args)`` does the work and returns the exit status. To add a command, write
the pair and list the adder in :data:`_COMMANDS`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from nfe_core.cli.common import (
    EXIT_USAGE,
    CliError,
    Parser,
    dispatch,
    make_command_parser,
    progress_bar,
    run,
)
from nfe_core.imageio import (
    WRITE_SUFFIXES,
    ImageError,
    Picture,
    load_image,
    save_picture,
    write_format,
)

_DESCRIPTION = """\
Neural Face Editor on the command line: convert and inspect pictures, check and import
models (and, in later versions, edit faces) without opening the desktop app.

Run 'nfe COMMAND --help' for what each command does."""

_EPILOG = """\
examples:
  nfe probe face.png
  nfe convert scan.tiff face.png
  nfe info run/bundle"""

_Handler = Callable[[argparse.Namespace], int]


def _quality(text: str) -> int:
    """argparse type: a JPEG/WebP quality from 1 to 100."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"expected a number from 1 to 100, got {value}")
    return value


def _subparser(
    subparsers: argparse._SubParsersAction[Parser],
    name: str,
    *,
    summary: str,
    description: str,
    epilog: str,
    handler: _Handler,
) -> Parser:
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    return parser


# --------------------------------------------------------------------------------------------
# nfe convert


def _add_convert(subparsers: argparse._SubParsersAction[Parser]) -> None:
    suffixes = ", ".join(WRITE_SUFFIXES)
    parser = _subparser(
        subparsers,
        "convert",
        summary="convert a picture to PNG, JPEG or WebP",
        description=(
            "Read a picture (PNG, JPEG, WebP, BMP, TIFF or GIF) and save it as PNG, JPEG or\n"
            f"WebP, chosen by OUTPUT's extension ({suffixes}).\n\n"
            "The picture is turned upright by its EXIF orientation and saved as 8-bit RGB.\n"
            "Transparency and the colour (ICC) profile are kept; JPEG has no transparency,\n"
            "so transparent areas become white there. OUTPUT is written completely or not at\n"
            "all: an existing OUTPUT is only replaced with --force."
        ),
        epilog=(
            "examples:\n"
            "  nfe convert scan.tiff face.png\n"
            "  nfe convert face.png face.jpg --quality 90\n"
            "  nfe convert face.webp face.png --force     # replace an existing face.png"
        ),
        handler=_convert,
    )
    parser.add_argument("input", metavar="INPUT", type=Path, help="the picture to read")
    parser.add_argument(
        "output", metavar="OUTPUT", type=Path, help=f"the file to write ({suffixes})"
    )
    parser.add_argument(
        "--quality",
        type=_quality,
        default=95,
        metavar="Q",
        help="JPEG/WebP quality from 1 (smallest file) to 100 (best); PNG is always lossless "
        "(default: 95)",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace OUTPUT if it exists (even if it is INPUT)"
    )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(os.path.abspath(a)) == Path(os.path.abspath(b))


def _convert(args: argparse.Namespace) -> int:
    source: Path = args.input
    target: Path = args.output
    fmt = write_format(target)  # refuse an unknown extension before reading anything
    if not args.force:
        if _same_file(source, target):
            raise CliError(
                f"{target}: INPUT and OUTPUT are the same file; pass --force to overwrite it"
            )
        if target.exists() or target.is_symlink():
            raise CliError(f"{target}: the file already exists; pass --force to replace it")
    picture = load_image(source)
    save_picture(picture, target, quality=args.quality)
    if fmt == "JPEG" and picture.alpha is not None:
        sys.stderr.write(
            f"note: {target}: JPEG has no transparency; transparent areas were made white\n"
        )
    width, height = picture.size
    print(f"{source} -> {target} ({fmt}, {width}x{height})")
    return 0


# --------------------------------------------------------------------------------------------
# nfe probe


def _add_probe(subparsers: argparse._SubParsersAction[Parser]) -> None:
    parser = _subparser(
        subparsers,
        "probe",
        summary="check pictures and print their format, mode and size",
        description=(
            "Open each picture the way the editor does and print one line for it: the path,\n"
            "the file format, the colour mode it was stored in, its size (width x height), and\n"
            "whether it has transparency (alpha) and a colour (ICC) profile.\n\n"
            "A file that cannot be read prints 'error: PATH: REASON' on stderr; the others are\n"
            "still checked, and the exit status is 2 if any failed (0 if all are fine)."
        ),
        epilog=(
            "examples:\n"
            "  nfe probe face.png\n"
            "  nfe probe pictures/*.jpg\n"
            "  nfe probe --json *.png > pictures.jsonl     # one JSON object per line"
        ),
        handler=_probe,
    )
    parser.add_argument("images", metavar="IMAGE", nargs="+", type=Path, help="pictures to check")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per picture instead (keys: path, format, mode, width, "
        "height, alpha, icc_profile)",
    )


def _probe_record(path: Path, picture: Picture) -> dict[str, object]:
    width, height = picture.size
    return {
        "path": str(path),
        "format": picture.source_format,
        "mode": picture.source_mode,
        "width": width,
        "height": height,
        "alpha": picture.alpha is not None,
        "icc_profile": picture.icc_profile is not None,
    }


def _probe_line(record: dict[str, object]) -> str:
    def yes(flag: object) -> str:
        return "yes" if flag else "no"

    return (
        f"{record['path']}: {record['format']}, mode {record['mode']}, "
        f"{record['width']}x{record['height']}, alpha: {yes(record['alpha'])}, "
        f"ICC profile: {yes(record['icc_profile'])}"
    )


def _probe(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.images:
        try:
            picture = load_image(path)
        except ImageError as exc:
            failed += 1
            sys.stdout.flush()
            sys.stderr.write(f"error: {exc}\n")
            continue
        record = _probe_record(path, picture)
        print(json.dumps(record) if args.json else _probe_line(record), flush=True)
    return EXIT_USAGE if failed else 0


# --------------------------------------------------------------------------------------------
# nfe info


def _add_info(subparsers: argparse._SubParsersAction[Parser]) -> None:
    parser = _subparser(
        subparsers,
        "info",
        summary="check a model bundle and describe the model",
        description=(
            "Open and check every file of a model bundle (the folder holding bundle.json and\n"
            "its safetensors files), then describe the model: name, description, resolution,\n"
            "latent sizes, parameters per network, how it was trained, its attributes and its\n"
            "quality figures.\n\n"
            "Without BUNDLE, the default model that ships with NFE is described. A defective\n"
            "bundle prints 'error: FILE: REASON' and exits with status 2."
        ),
        epilog=(
            "examples:\n"
            "  nfe info                          # the default model\n"
            "  nfe info run/bundle\n"
            "  nfe info --json run/bundle > model.json\n"
            "  nfe info --device cuda run/bundle # load it onto the GPU"
        ),
        handler=_info,
    )
    parser.add_argument(
        "bundle",
        metavar="BUNDLE",
        type=Path,
        nargs="?",
        default=None,
        help="the bundle folder (default: the default model)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object instead (the quality figures under 'report')",
    )
    parser.add_argument(
        "--device",
        choices=("cpu", "cuda", "mps"),
        default=None,
        help="load the networks onto this device, to check that they work there (default: cpu)",
    )


def _info_record(path: Path, meta: dict, parameters: dict[str, int]) -> dict[str, object]:
    from nfe_core.models import GeneratorConfig

    generator = GeneratorConfig.from_dict(meta["networks"]["generator"]["config"])
    return {
        "path": str(path),
        "name": meta["name"],
        "description": meta["description"],
        "created": meta["created"],
        "format_version": meta["format_version"],
        "resolution": meta["resolution"],
        "z_dim": meta["z_dim"],
        "w_dim": meta["w_dim"],
        "mapping_layers": meta["mapping_layers"],
        "num_ws": generator.num_ws,
        "networks": {
            key: {"file": entry["file"], "parameters": parameters[key], "config": entry["config"]}
            for key, entry in meta["networks"].items()
        },
        "training": meta["training"],
        "attributes": meta["attributes"],
        "report": meta["report"],
    }


def _info_value(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _info_lines(record: dict) -> list[str]:
    lines = [
        f"bundle: {record['path']} (every file checked)",
        f"name: {record['name']}",
        f"description: {record['description'] or '(none)'}",
        f"created: {record['created']} (format version {record['format_version']})",
        f"resolution: {record['resolution']}x{record['resolution']} px",
        f"latents: z {record['z_dim']}, w {record['w_dim']} ({record['num_ws']} rows in W+), "
        f"mapping layers: {record['mapping_layers']}",
        "networks:",
    ]
    for key, network in record["networks"].items():
        lines.append(f"  {key}: {network['parameters']:,} parameters ({network['file']})")
    training = record["training"]
    lines.append("training:" if training else "training: (not recorded)")
    lines.extend(f"  {key}: {_info_value(value)}" for key, value in training.items())
    attributes = record["attributes"]
    if attributes:
        lines.append(f"attributes ({len(attributes)}):")
        for attribute in attributes:
            accuracy = attribute.get("svm_test_accuracy")
            figure = f", SVM balanced test accuracy {accuracy:.4f}" if accuracy is not None else ""
            low, high = attribute["strength_range"]
            lines.append(
                f"  {attribute['name']} ({attribute['kind']}{figure}, strengths {low:g}..{high:g})"
            )
    else:
        lines.append("attributes: none yet")
    report = record["report"]
    if report:
        lines.append("quality report:")
        lines.extend(f"  {key}: {_info_value(value)}" for key, value in report.items())
    else:
        lines.append("quality report: none yet")
    lines.append(f"loaded on: {record['device']}")
    return lines


def _info(args: argparse.Namespace) -> int:
    bundle = _open_model(args.bundle, args.device or "cpu", hint="pass a bundle folder")
    path = bundle.root
    parameters = {
        key: sum(p.numel() for p in module.parameters()) for key, module in bundle.networks.items()
    }
    record = _info_record(path, bundle.meta, parameters)
    record["device"] = str(bundle.device)
    if args.json:
        print(json.dumps(record, indent=2, ensure_ascii=False))
    else:
        print("\n".join(_info_lines(record)))
    return 0


def _open_model(path: Path | None, device: str | None, hint: str = "pass --model BUNDLE"):
    """The bundle at ``path`` (default: the shipped default model) loaded on ``device``
    (default: the best available); every file is checked first."""
    from nfe_core.bundle import default_bundle_path, load_bundle
    from nfe_core.device import resolve_device

    if path is None:
        path = default_bundle_path()
        if not path.is_dir():
            raise CliError(f"no default model is installed at {path}; {hint}")
    return load_bundle(path, resolve_device(device))


# --------------------------------------------------------------------------------------------
# nfe generate


def _truncation(text: str) -> float:
    """argparse type: a truncation psi from 0 (the mean face) to 1 (no truncation)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {value}")
    return value


def _add_generate(subparsers: argparse._SubParsersAction[Parser]) -> None:
    parser = _subparser(
        subparsers,
        "generate",
        summary="render faces of a model from seeds",
        description=(
            "Render the face a seed stands for (the same seed always gives the same face of\n"
            "the same model) and write it to OUT. With --count N, write N faces from seeds\n"
            "S, S+1, ... as OUT's name with _0000, _0001, ... added. --truncation pulls faces\n"
            "towards the model's mean face: 1 is none, lower is more typical and less varied."
        ),
        epilog=(
            "examples:\n"
            "  nfe generate --seed 7 -o face.png\n"
            "  nfe generate --seed 100 --count 16 --truncation 0.6 -o faces/face.png\n"
            "  nfe generate --model run/bundle --seed 3 -o face.webp"
        ),
        handler=_generate,
    )
    _add_model_options(parser)
    parser.add_argument(
        "--seed", type=int, default=0, metavar="S", help="the (first) face's seed (default: 0)"
    )
    parser.add_argument(
        "--truncation",
        type=_truncation,
        default=0.7,
        metavar="T",
        help="from 0 (the mean face) to 1 (no truncation) (default: 0.7)",
    )
    parser.add_argument(
        "--count", type=int, default=1, metavar="N", help="how many faces (default: 1)"
    )
    parser.add_argument(
        "-o", "--out", type=Path, required=True, metavar="OUT", help="picture to write"
    )
    parser.add_argument("--force", action="store_true", help="replace existing pictures")


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        metavar="BUNDLE",
        help="the model bundle folder (default: the default model that ships with NFE)",
    )
    parser.add_argument(
        "--device",
        choices=("cpu", "cuda", "mps"),
        default=None,
        help="where the model runs (default: the best available)",
    )


def _generate(args: argparse.Namespace) -> int:
    from nfe_core.imageio import save_image
    from nfe_core.sampling import render_seeds

    out: Path = args.out
    write_format(out)  # an unsupported picture type fails before the model loads
    if args.count < 1:
        raise CliError(f"--count: expected a number of at least 1, got {args.count}")
    if args.seed < 0:
        raise CliError(f"--seed: expected a whole number of at least 0, got {args.seed}")
    if args.count == 1:
        targets = [out]
    else:
        targets = [out.with_name(f"{out.stem}_{i:04d}{out.suffix}") for i in range(args.count)]
    if not args.force:
        existing = [t for t in targets if t.exists() or t.is_symlink()]
        if existing:
            raise CliError(f"{existing[0]}: the file already exists; pass --force to replace it")
    bundle = _open_model(args.model, args.device)
    seeds = [args.seed + i for i in range(args.count)]
    with progress_bar("generating", args.count, unit="face", quiet=args.count < 8) as bar:
        for done, (seed, target) in enumerate(zip(seeds, targets, strict=True), start=1):
            (image,) = render_seeds(bundle.generator, [seed], args.truncation)
            save_image(image, target)
            bar(done, args.count)
    first = targets[0] if args.count == 1 else f"{targets[0]} ... {targets[-1].name}"
    print(f"wrote {args.count} face(s) of {bundle.name}, seeds {seeds[0]}..{seeds[-1]}: {first}")
    return 0


# --------------------------------------------------------------------------------------------
# nfe import-stylegan2

_IMPORT_SOURCE = "rosinality stylegan2-pytorch checkpoint"


def _add_import_stylegan2(subparsers: argparse._SubParsersAction[Parser]) -> None:
    parser = _subparser(
        subparsers,
        "import-stylegan2",
        summary="turn a StyleGAN2 checkpoint (rosinality .pt) into a model bundle",
        description=(
            "Import the EMA generator (g_ema) and mean latent (latent_avg) of a StyleGAN2\n"
            "checkpoint in the rosinality stylegan2-pytorch layout and save it as a model\n"
            "bundle. Resolution, channels and mapping depth are read from the weights.\n\n"
            "The checkpoint is read without running any code in it (torch.load with\n"
            "weights_only; only its argparse options object is allowed). BUNDLE is written\n"
            "completely or not at all; an existing bundle is only replaced with --force."
        ),
        epilog=(
            "examples:\n"
            "  nfe import-stylegan2 550000.pt --out models/anime\n"
            "  nfe import-stylegan2 550000.pt --out models/anime --name 'Anime 256' --force\n"
            "  nfe info models/anime"
        ),
        handler=_import_stylegan2,
    )
    parser.add_argument(
        "checkpoint", metavar="CHECKPOINT", type=Path, help="the .pt checkpoint to import"
    )
    parser.add_argument(
        "--out", metavar="BUNDLE", type=Path, required=True, help="the bundle folder to write"
    )
    parser.add_argument(
        "--name", help="the model's name (default: the checkpoint's file name without .pt)"
    )
    parser.add_argument(
        "--description", default=None, help="a sentence about the model (default: where from)"
    )
    parser.add_argument(
        "--force", action="store_true", help="replace BUNDLE if a model bundle is already there"
    )


def _check_import_target(out: Path, force: bool) -> None:
    """Refuse an unusable --out before the (slow) import, in the command's own words."""
    from nfe_core.bundle import META_FILE

    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise CliError(f"{out}: a file with this name already exists; expected a bundle folder")
    parent = out.absolute().parent
    if not parent.is_dir():
        raise CliError(f"{out}: the folder it goes in does not exist ({parent})")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not (out / META_FILE).is_file():
        raise CliError(
            f"{out}: the folder is not empty and is not a model bundle; refusing to replace it"
        )
    if not force:
        raise CliError(f"{out}: a model bundle already exists here; pass --force to replace it")


def _import_stylegan2(args: argparse.Namespace) -> int:
    from nfe_core.bundle import save_bundle
    from nfe_core.models import Generator
    from nfe_core.models.rosinality import import_rosinality

    source: Path = args.checkpoint
    out: Path = args.out
    name = args.name if args.name is not None else source.stem
    if not name.strip():
        raise CliError("--name must not be empty")
    _check_import_target(out, args.force)
    imported = import_rosinality(source)
    generator = Generator(imported.config)
    try:
        generator.load_state_dict(imported.state_dict, strict=True)
    except RuntimeError as exc:
        raise CliError(f"{source}: the weights do not fit the generator ({exc})") from None
    description = args.description
    if description is None:
        description = f"StyleGAN2 generator imported from {source.name}"
    training = {"source": _IMPORT_SOURCE, "checkpoint": source.name, "args": imported.args}
    save_bundle(
        out, generator, name=name, description=description, training=training, overwrite=args.force
    )
    count = sum(p.numel() for p in generator.parameters())
    size = imported.config.resolution
    print(f"{source} -> {out} ({size}x{size} px generator, {count:,} parameters)")
    return 0


# --------------------------------------------------------------------------------------------
# The command


_COMMANDS: tuple[Callable[[argparse._SubParsersAction[Parser]], None], ...] = (
    _add_generate,
    _add_convert,
    _add_probe,
    _add_info,
    _add_import_stylegan2,
)


def build_parser() -> Parser:
    """The ``nfe`` argument parser with all its subcommands."""
    return make_command_parser("nfe", _DESCRIPTION, _EPILOG, _COMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``nfe`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    return run(lambda args: dispatch(build_parser(), args), argv)


if __name__ == "__main__":
    raise SystemExit(main())
