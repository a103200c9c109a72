"""The ``nfe`` command line: work with pictures and models from a terminal.

Each subcommand is a pair of functions: ``_add_<name>(subparsers)`` declares its arguments and
help, and ``_<name>(args)`` does the work and returns the exit status. To add a command, write
the pair and list the adder in :data:`_COMMANDS`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nfe_core.cli.common import (
    EXIT_CANCELLED,
    EXIT_USAGE,
    CliError,
    Parser,
    dispatch,
    make_command_parser,
    positive_int,
    progress_bar,
    run,
    whole_number,
)
from nfe_core.defaults import DEFAULT_STEPS, DEFAULT_TRUNCATION
from nfe_core.imageio import (
    WRITE_SUFFIXES,
    ImageError,
    Picture,
    load_image,
    save_picture,
    write_format,
)
from nfe_core.naming import DEFAULT_PATTERN

if TYPE_CHECKING:
    import numpy as np
    import torch
    from torch import Tensor

    from nfe_core.bundle import Bundle
    from nfe_core.editing import Boundaries, Edit, Step
    from nfe_core.facebox import FaceBox
    from nfe_core.models import Generator
    from nfe_core.models.classifier import AttributeClassifier
    from nfe_core.pipeline import Inverted
    from nfe_core.presets import Preset

_DESCRIPTION = """\
Neural Face Editor on the command line: render and edit faces, read a picture's
attributes, convert and inspect pictures, check and import models, without opening the
desktop app.

Run 'nfe COMMAND --help' for what each command does."""

_EPILOG = """\
examples:
  nfe generate --seed 7 -o face.png
  nfe edit --seed 7 --set hair_color=blue --set glasses=true -o edited.png
  nfe edit picture.png --box 120,80,256,256 --set hair_color=pink -o pink.png
  nfe batch pictures/ --set hair_color=pink --out pink/
  nfe tags face.png
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


def _report_lines(figures: dict, indent: str) -> list[str]:
    """The report's figures, one per line; tables (dicts) indented under their name."""
    lines = []
    for key, value in figures.items():
        if isinstance(value, dict) and value:
            lines.append(f"{indent}{key}:")
            lines.extend(_report_lines(value, indent + "  "))
        elif isinstance(value, float):
            lines.append(f"{indent}{key}: {value:.4f}")
        else:
            lines.append(f"{indent}{key}: {_info_value(value)}")
    return lines


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
        lines.extend(_report_lines(report, "  "))
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
        default=DEFAULT_TRUNCATION,
        metavar="T",
        help=f"from 0 (the mean face) to 1 (no truncation) (default: {DEFAULT_TRUNCATION})",
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
# nfe edit

_STRIP_MIN_FRAME = 128  # px: a smaller model's strip frames are enlarged (nearest) to this
_STRIP_GAP = 4  # px of white between strip frames


def _layers(text: str) -> tuple[int, int]:
    """argparse type: W+ rows ``START:STOP`` (START included, STOP not, as a Python slice)."""
    start, sep, stop = text.partition(":")
    try:
        if not sep:
            raise ValueError(text)
        value = (int(start), int(stop))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected START:STOP (W+ rows, e.g. 0:4), got {text!r}"
        ) from None
    if not 0 <= value[0] < value[1]:
        raise argparse.ArgumentTypeError(f"expected 0 <= START < STOP, got {text!r}")
    return value


def _add_edit_options(parser: argparse.ArgumentParser) -> None:
    """--set and --preserve, as 'nfe edit' and 'nfe batch' take them."""
    parser.add_argument(
        "--set",
        dest="edits",
        action="append",
        default=[],
        metavar="EDIT",
        help="an edit: ATTR=CLASS, ATTR=+X or ATTR:CLASS=+X; repeat for more, applied in order",
    )
    parser.add_argument(
        "--preserve",
        action="append",
        default=[],
        metavar="ATTR[,ATTR]",
        help="attributes every edit keeps as they are (repeat or separate with commas)",
    )


def _add_edit(subparsers: argparse._SubParsersAction[Parser]) -> None:
    suffixes = ", ".join(WRITE_SUFFIXES)
    parser = _subparser(
        subparsers,
        "edit",
        summary="change a face's attributes (hair colour, glasses...) and render it",
        description=(
            "Take a face - a picture IMAGE, the one a seed stands for (as 'nfe generate'\n"
            "renders it), or a latent file that 'nfe invert' or 'nfe edit --save-latent'\n"
            "wrote - apply attribute edits to it in order and write the picture to OUT. Each\n"
            "--set is one edit, made from where the one before left the face:\n\n"
            "  ATTR=CLASS        move the face into that class (hair_color=blue, glasses=true)\n"
            "  ATTR=+X, ATTR=-X  move it X spreads along the attribute's one direction\n"
            "                    (two-class and ordered attributes: glasses=+2, hair_length=-1)\n"
            "  ATTR:CLASS=+X     move it X spreads along one class's direction\n"
            "                    (hair_color:blue=+1.5)\n\n"
            "A spread is how much faces typically differ along a direction: +1 is a clear\n"
            "change, +3 a strong one. --preserve keeps the attributes it names where they\n"
            "are while the others are edited. 'nfe info' lists a model's attributes and\n"
            "their classes. --preset FILE takes the edits (and preserved attributes) from a\n"
            "preset file instead; --write-preset FILE saves this command's --set/--preserve\n"
            "as one, for 'nfe batch --preset' or the app.\n\n"
            "With IMAGE (any picture 'nfe convert' reads, any size), the face in --box (the\n"
            "largest centred square unless given) is inverted as 'nfe invert' does, edited,\n"
            "and only the edit is pasted back: OUT has IMAGE's size, transparency and colour\n"
            "profile, and pixels the edit does not reach keep their exact values.\n\n"
            "Unless --quiet, one line per edit on stderr says how far it moved the face, in\n"
            "spreads from the plane that separates the class from the others (positive: on\n"
            "the class's side), and which class the face is in afterwards.\n\n"
            "--strip ATTR writes a row of frames to OUT instead of one face (after any --set\n"
            "edits): the face at evenly spaced strengths over the attribute's range (-3..+3\n"
            "unless the model gives another) along ATTR's direction or ATTR:CLASS's; for an\n"
            "attribute with one direction per class (hair_color) and no :CLASS, the face as\n"
            "it is and then moved into each class. Frames are at least 128 px (smaller\n"
            "models are enlarged, pixels kept sharp), with a white gap between them.\n\n"
            "OUT and the --save-latent file are written completely or not at all; existing\n"
            "files are only replaced with --force."
        ),
        epilog=(
            "examples:\n"
            "  nfe edit --seed 7 --set hair_color=blue -o blue.png\n"
            "  nfe edit --seed 7 --set glasses=true --set hair_length=+1.5 "
            "--preserve hair_color -o out.png\n"
            "  nfe edit --seed 7 --set hair_color:pink=+2 --layers 0:6 -o pink.webp "
            "--save-latent pink.npz\n"
            "  nfe edit --latent pink.npz --set mouth=open -o smile.png\n"
            "  nfe edit picture.png --box 120,80,256,256 --set hair_color=pink -o pink.png\n"
            "  nfe edit picture.png --preset pink.json -o pink.png\n"
            "  nfe edit --seed 7 --strip hair_length -o strip.png     # 7 frames, -3..+3\n"
            "  nfe edit --seed 7 --strip hair_color -o colours.png    # one frame per colour"
        ),
        handler=_edit,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "image",
        metavar="IMAGE",
        type=Path,
        nargs="?",
        default=None,
        help="edit the face in this picture (inverted first; see --box, --steps)",
    )
    source.add_argument("--seed", type=int, metavar="S", help="start from the face of seed S")
    source.add_argument(
        "--latent",
        type=Path,
        metavar="FILE",
        help="start from the W or W+ latent in FILE (.npz, e.g. from --save-latent)",
    )
    parser.add_argument(
        "--truncation",
        type=_truncation,
        default=None,
        metavar="T",
        help="with --seed: from 0 (the mean face) to 1 (no truncation) "
        f"(default: {DEFAULT_TRUNCATION}, as 'nfe generate')",
    )
    _add_edit_options(parser)
    parser.add_argument(
        "--preset",
        type=Path,
        default=None,
        metavar="FILE",
        help="take the edits and preserved attributes from this preset file (instead of "
        "--set/--preserve)",
    )
    parser.add_argument(
        "--write-preset",
        type=Path,
        default=None,
        metavar="FILE",
        help="also save the --set/--preserve edits as a preset for this model (.json)",
    )
    parser.add_argument(
        "--layers",
        type=_layers,
        default=None,
        metavar="START:STOP",
        help="edit only these W+ rows (early rows: shape and pose, late rows: colour); "
        "the latent becomes W+ (default: all)",
    )
    _add_inversion_options(parser, "with IMAGE: ")
    parser.add_argument(
        "--strip",
        metavar="ATTR[:CLASS]",
        default=None,
        help="write a strip of frames along this attribute instead of one face",
    )
    parser.add_argument(
        "--strip-steps",
        type=positive_int,
        default=7,
        metavar="K",
        help="frames in a strength strip, at least 2 (default: 7); a strip of classes has "
        "one frame per class",
    )
    parser.add_argument(
        "-o",
        "--out",
        type=Path,
        required=True,
        metavar="OUT",
        help=f"picture to write ({suffixes})",
    )
    parser.add_argument(
        "--save-latent",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the edited latent to FILE (.npz), with the seed or latent file it "
        "came from and the edits",
    )
    parser.add_argument("--force", action="store_true", help="replace existing files")
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no per-edit lines or progress bar on stderr (warnings and errors still)",
    )
    _add_model_options(parser)


def _check_target(path: Path, force: bool) -> None:
    """Refuse a file that exists (without --force) or whose folder is missing, before work."""
    if path.is_dir():
        raise CliError(f"{path}: a folder with this name already exists")
    if not force and (path.exists() or path.is_symlink()):
        raise CliError(f"{path}: the file already exists; pass --force to replace it")
    folder = path.absolute().parent
    if not folder.is_dir():
        raise CliError(f"{path}: the folder it goes in does not exist ({folder})")


def _preserved(items: Sequence[str]) -> tuple[str, ...]:
    """``--preserve`` values (names, or comma-separated names) as one tuple."""
    names = (name.strip() for item in items for name in item.split(","))
    return tuple(dict.fromkeys(name for name in names if name))


def _others(preserve: tuple[str, ...], attribute: str) -> tuple[str, ...]:
    """What an edit of ``attribute`` preserves: ``--preserve`` less the attribute itself."""
    return tuple(name for name in preserve if name != attribute)


def _box(text: str) -> FaceBox:
    """argparse type: a face box ``x,y,w,h`` in picture pixels."""
    from nfe_core.facebox import BoxError, parse_box

    try:
        return parse_box(text)
    except BoxError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


_steps = whole_number(0)  # refinement steps (0: the encoder's guess alone)


def _add_inversion_options(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    parser.add_argument(
        "--box",
        type=_box,
        default=None,
        metavar="X,Y,W,H",
        help=f"{prefix}the face's rectangle in picture pixels: left, top, width, height; "
        "clamped to the picture (default: the largest centred square)",
    )
    parser.add_argument(
        "--steps",
        type=_steps,
        default=None,
        metavar="N",
        help=f"{prefix}refinement steps after the encoder's guess; more is closer and slower, "
        f"0 is the encoder alone (default: {DEFAULT_STEPS})",
    )


def _edits_from_args(
    args: argparse.Namespace, what: str
) -> tuple[list[Edit], tuple[str, ...], Preset | None]:
    """The edits, preserved attributes and preset (if any) of --set/--preserve or --preset."""
    from nfe_core.presets import edits_with_preserve, load_preset

    if args.preset is None:
        preserve = _preserved(args.preserve)
        return edits_with_preserve(args.edits, preserve), preserve, None
    if args.edits or args.preserve:
        raise CliError(f"--preset holds the edits; {what} either --preset or --set/--preserve")
    preset = load_preset(args.preset)  # PresetError (a ValueError) is one error line
    return preset.edits(), _preserved(preset.preserve), preset


def _warn_other_model(preset: Preset | None, bundle: Bundle, prefix: str = "") -> None:
    if preset is not None and not preset.matches(bundle):
        sys.stderr.write(
            f"warning: {prefix}{preset.name!r} was made for {preset.describe_model()}, not "
            f"{bundle.name!r}; its edits may look different here\n"
        )


def _edit(args: argparse.Namespace) -> int:
    import numpy as np

    from nfe_core.editing import apply_steps
    from nfe_core.imageio import save_image
    from nfe_core.sampling import tile_frames

    out: Path = args.out
    write_format(out)  # an unsupported picture type fails before the model loads
    _check_target(out, args.force)
    if args.save_latent is not None:
        if args.save_latent.suffix.lower() != ".npz":
            raise CliError(
                f"--save-latent: expected a file name ending in .npz, got {args.save_latent}"
            )
        _check_target(args.save_latent, args.force)
    if args.write_preset is not None:
        if args.write_preset.suffix.lower() != ".json":
            raise CliError(
                f"--write-preset: expected a file name ending in .json, got {args.write_preset}"
            )
        if args.preset is not None or not args.edits:
            raise CliError("--write-preset saves the --set edits; give them with --set")
        _check_target(args.write_preset, args.force)
    if args.seed is not None and args.seed < 0:
        raise CliError(f"--seed: expected a whole number of at least 0, got {args.seed}")
    if args.latent is not None and args.truncation is not None:
        raise CliError("--truncation goes with --seed; a latent file is used as it is")
    if args.image is not None:
        if args.truncation is not None:
            raise CliError("--truncation goes with --seed; a picture is inverted as it is")
        if args.strip is not None:
            raise CliError("--strip goes with --seed or --latent, not with a picture")
    elif args.box is not None or args.steps is not None:
        raise CliError("--box and --steps go with a picture to invert (IMAGE)")
    if not args.edits and args.preset is None and args.strip is None:
        raise CliError(
            "nothing to do: give an edit with --set (e.g. --set hair_color=blue) or --strip ATTR"
        )
    if args.strip_steps < 2:
        raise CliError(f"--strip-steps: expected at least 2 frames, got {args.strip_steps}")
    edits, preserve, preset = _edits_from_args(args, "give")  # EditError: one error line
    picture = load_image(args.image) if args.image is not None else None

    bundle = _open_model(args.model, args.device)
    boundaries = bundle.boundaries
    if len(boundaries) == 0:
        raise CliError(
            "this model has no attribute sliders yet; "
            f"run 'nfe-train attributes --model {bundle.root}'"
        )
    for edit in edits:
        boundaries.check(edit)
    _warn_other_model(preset, bundle, "the preset ")
    new_preset = None
    if args.write_preset is not None:
        from nfe_core.presets import preset_for_model

        new_preset = preset_for_model(args.write_preset.stem, args.edits, preserve, bundle)
    strip = (
        _strip_frames(args.strip, preserve, boundaries, args.strip_steps) if args.strip else None
    )
    generator = bundle.generator
    if args.layers is not None and args.layers[1] > generator.num_ws:
        start, stop = args.layers
        raise CliError(
            f"--layers: this model's W+ has {generator.num_ws} rows (0:{generator.num_ws}); "
            f"got {start}:{stop}"
        )

    if picture is not None:
        _edit_picture(args, bundle, picture, edits, preserve)
    else:
        latent, base, origin = _start_latent(args, bundle)
        edited, steps = apply_steps(
            latent, edits, boundaries, layers=args.layers, num_ws=generator.num_ws
        )
        if not args.quiet:
            for line in _step_lines(latent, steps, boundaries, args.layers):
                sys.stderr.write(line + "\n")

        size = generator.config.resolution
        if strip is None:
            save_image(_render(generator, edited), out)
            what = f"{size}x{size} px"
        else:
            labels, frame_edits = strip
            frames = _render_strip(
                generator, edited, frame_edits, boundaries, args.layers, args.quiet
            )
            tiled = tile_frames(np.stack(frames)[None], gap=_STRIP_GAP, min_side=_STRIP_MIN_FRAME)
            save_image(tiled, out)
            if not args.quiet:
                sys.stderr.write(f"strip {args.strip}, left to right: {', '.join(labels)}\n")
            side = tiled.shape[0]
            what = f"{len(frames)} frames of {side}x{side} px along {args.strip}"
        if args.save_latent is not None:
            _save_edited_latent(
                args.save_latent, edited, base, edits, preserve, args.layers, bundle
            )
        if edits:
            origin += f", {len(edits)} edit{'s' if len(edits) != 1 else ''}"
        saved = f"; latent: {args.save_latent}" if args.save_latent is not None else ""
        print(f"wrote {out} ({what}; {origin}){saved}")
    if new_preset is not None:
        from nfe_core.presets import save_preset

        save_preset(args.write_preset, new_preset)
        print(f"wrote preset {args.write_preset} ({len(edits)} edits, for {bundle.name!r})")
    return 0


def _edit_picture(
    args: argparse.Namespace,
    bundle: Bundle,
    picture: Picture,
    edits: list[Edit],
    preserve: tuple[str, ...],
) -> None:
    """``nfe edit IMAGE``: invert the face, edit it, paste the edit back, save at full size."""
    from nfe_core.editing import apply_steps
    from nfe_core.pipeline import check_can_invert, edit_inverted, paste

    check_can_invert(bundle)
    inverted = _invert_with_bar(args, bundle, picture)
    edited = edit_inverted(bundle, inverted, edits, args.layers)
    if not args.quiet:
        start = inverted.latent.to(bundle.device)
        _, steps = apply_steps(start, edits, bundle.boundaries, layers=args.layers)
        for line in _step_lines(start, steps, bundle.boundaries, args.layers):
            sys.stderr.write(line + "\n")
    out: Path = args.out
    save_picture(paste(picture, inverted, edited.render), out)
    _note_jpeg_alpha(out, picture)
    if args.save_latent is not None:
        base = inverted.source_record(str(args.image))
        _save_edited_latent(
            args.save_latent, edited.latent, base, edits, preserve, args.layers, bundle
        )
    width, height = picture.size
    count = f"{len(edits)} edit{'s' if len(edits) != 1 else ''}"
    saved = f"; latent: {args.save_latent}" if args.save_latent is not None else ""
    print(
        f"wrote {out} ({width}x{height} px; picture {args.image}, box {inverted.box}, "
        f"inverted in {inverted.seconds:.2f} s, {count}){saved}"
    )


def _invert_with_bar(args: argparse.Namespace, bundle: Bundle, picture: Picture) -> Inverted:
    """``invert_picture`` with --box/--steps and a progress bar; Ctrl+C cancels."""
    from nfe_core.pipeline import invert_picture

    steps = DEFAULT_STEPS if args.steps is None else args.steps
    with progress_bar("inverting", steps, unit="step", quiet=args.quiet or steps == 0) as bar:
        return invert_picture(bundle, picture, args.box, steps, progress=bar)


def _note_jpeg_alpha(out: Path, picture: Picture) -> None:
    if write_format(out) == "JPEG" and picture.alpha is not None:
        sys.stderr.write(
            f"note: {out}: JPEG has no transparency; transparent areas were made white\n"
        )


def _start_latent(args: argparse.Namespace, bundle: Bundle) -> tuple[Tensor, dict[str, Any], str]:
    """The face to edit on the model's device, the record of where it came from, and that
    in words."""
    import torch

    from nfe_core.latent import load_latent
    from nfe_core.sampling import z_for_seed

    generator = bundle.generator
    if args.seed is not None:
        psi = DEFAULT_TRUNCATION if args.truncation is None else args.truncation
        z = z_for_seed(args.seed, generator.config.z_dim).unsqueeze(0).to(bundle.device)
        with torch.no_grad():
            w = generator.truncate(generator.mapping(z), psi)[0]
        source = {"kind": "seed", "seed": args.seed, "truncation": psi}
        return w, source, f"seed {args.seed} of {bundle.name}"
    path: Path = args.latent
    loaded = load_latent(path, generator.config.w_dim)
    if loaded.is_wplus and loaded.w.shape[0] != generator.num_ws:
        raise CliError(
            f"{path}: the latent has {loaded.w.shape[0]} W+ rows but this model needs "
            f"{generator.num_ws}; it was made for another model"
        )
    from nfe_core.pipeline import model_record

    made_for = loaded.model.get("fingerprint")
    if made_for != model_record(bundle)["fingerprint"]:
        if made_for is None:
            note = "does not say which model it was made for"
        else:
            note = f"was made for another model ({loaded.model.get('name', 'unnamed')!r})"
        sys.stderr.write(
            f"warning: {path} {note}; with {bundle.name!r} the face may look different\n"
        )
    source = {"kind": "latent", "file": str(path), "source": loaded.source, "model": loaded.model}
    return loaded.w.to(bundle.device), source, f"latent {path}"


def _step_lines(
    latent: Tensor, steps: Sequence[Step], boundaries: Boundaries, layers: tuple[int, int] | None
) -> list[str]:
    """One line per edit: the aimed-at plane's distance before and after, in spreads, and the
    class the face is in afterwards."""
    if latent.ndim == 1:
        position = latent.double()
    else:
        rows = latent if layers is None else latent[layers[0] : layers[1]]
        position = rows.double().mean(dim=0)
    lines = []
    for step in steps:
        position = position + step.delta.double()  # every edited row moves by delta
        plane = boundaries[step.boundary]
        before, after = step.before / plane.spread, step.after / plane.spread
        now = boundaries.current_class(step.edit.attribute, position)
        lines.append(
            f"{step.edit}: {step.boundary} {before:+.2f} -> {after:+.2f} spreads, now {now}"
        )
    return lines


def _strip_frames(
    spec: str, preserve: tuple[str, ...], boundaries: Boundaries, steps: int
) -> tuple[list[str], list[Edit | None]]:
    """A strip's frame labels and edits (None: the face as it is)."""
    import numpy as np

    from nfe_core.editing import Edit, EditError, parse_edit

    try:
        probe = parse_edit(f"{spec}=+1")
    except EditError:
        raise CliError(
            f"--strip: expected ATTR or ATTR:CLASS (e.g. hair_length, hair_color:blue), "
            f"got {spec!r}"
        ) from None
    preserve = _others(preserve, probe.attribute)
    probe = dataclasses.replace(probe, preserve=preserve)
    info = boundaries.info(probe.attribute)
    single = info.single_direction()
    if probe.direction is None and single is None:  # one direction per class: class targets
        for target in info.classes:
            boundaries.check(Edit(info.name, target=target, preserve=preserve))
        targets = [Edit(info.name, target=target, preserve=preserve) for target in info.classes]
        return ["as it is", *info.classes], [None, *targets]
    boundaries.check(probe)
    aim = info.class_boundary(probe.direction) if probe.direction else None
    along = aim if aim is not None else single
    assert along is not None  # check() made sure there is a direction
    low, high = along.strength_range
    strengths = [round(float(s), 6) for s in np.linspace(low, high, steps)]
    edits = [
        Edit(info.name, strength=s, direction=probe.direction, preserve=preserve) for s in strengths
    ]
    return [f"{s:+g}" for s in strengths], edits


def _render(generator: Generator, latent: Tensor) -> np.ndarray:
    """The face (R, R, 3) uint8 of a W (w_dim,) or W+ (num_ws, w_dim) latent, fixed noise."""
    import torch

    from nfe_core.sampling import images_to_uint8

    with torch.no_grad():
        images = generator.synthesis(latent.unsqueeze(0).float(), noise_mode="const")
    return images_to_uint8(images)[0]


def _render_strip(
    generator: Generator,
    latent: Tensor,
    edits: Sequence[Edit | None],
    boundaries: Boundaries,
    layers: tuple[int, int] | None,
    quiet: bool,
) -> list[np.ndarray]:
    from nfe_core.editing import apply

    frames = []
    with progress_bar("rendering", len(edits), unit="frame", quiet=quiet) as bar:
        for done, edit in enumerate(edits, start=1):
            moved = latent
            if edit is not None:
                moved = apply(latent, [edit], boundaries, layers=layers, num_ws=generator.num_ws)
            frames.append(_render(generator, moved))
            bar(done, len(edits))
    return frames


def _save_edited_latent(
    path: Path,
    latent: Tensor,
    base: dict[str, Any],
    edits: Sequence[Edit],
    preserve: tuple[str, ...],
    layers: tuple[int, int] | None,
    bundle: Bundle,
) -> None:
    from nfe_core.latent import Latent, save_latent

    source = {
        "kind": "edit",
        "base": base,
        "edits": [str(edit) for edit in edits],
        "preserve": list(preserve),
        "layers": list(layers) if layers is not None else None,
    }
    from nfe_core.pipeline import model_record

    save_latent(path, Latent(latent, source, model_record(bundle)))


# --------------------------------------------------------------------------------------------
# nfe invert


def _add_invert(subparsers: argparse._SubParsersAction[Parser]) -> None:
    parser = _subparser(
        subparsers,
        "invert",
        summary="find the latent of the face in a picture (for editing it)",
        description=(
            "Find the W+ latent whose render looks like the face in IMAGE: the model's encoder\n"
            "guesses it, then --steps refinement steps bring the render closer while keeping\n"
            "the latent where edits work well. The face is the --box rectangle (the largest\n"
            "centred square unless given), resized to the model's input; a small face is\n"
            "upscaled, transparent areas are put on white.\n\n"
            "OUT (.npz) holds the latent, the picture, box, steps and seconds it took, and\n"
            "which model it belongs to; 'nfe edit --latent OUT' edits it. The model needs an\n"
            "encoder ('nfe-train encoder'). OUT is written completely or not at all; an\n"
            "existing OUT is only replaced with --force."
        ),
        epilog=(
            "examples:\n"
            "  nfe invert face.png -o face.npz\n"
            "  nfe invert picture.png --box 120,80,256,256 --steps 100 -o face.npz\n"
            "  nfe edit --latent face.npz --set hair_color=pink -o pink.png"
        ),
        handler=_invert,
    )
    parser.add_argument("image", metavar="IMAGE", type=Path, help="the picture to invert")
    _add_inversion_options(parser)
    parser.add_argument(
        "-o", "--out", type=Path, required=True, metavar="OUT", help="latent file to write (.npz)"
    )
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")
    parser.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    _add_model_options(parser)


def _invert(args: argparse.Namespace) -> int:
    from nfe_core.latent import Latent, save_latent
    from nfe_core.pipeline import check_can_invert, model_record

    out: Path = args.out
    if out.suffix.lower() != ".npz":
        raise CliError(f"-o: expected a file name ending in .npz, got {out}")
    _check_target(out, args.force)
    picture = load_image(args.image)
    bundle = _open_model(args.model, args.device)
    check_can_invert(bundle)
    inverted = _invert_with_bar(args, bundle, picture)
    latent = Latent(inverted.latent, inverted.source_record(str(args.image)), model_record(bundle))
    save_latent(out, latent)
    rows, w_dim = latent.w.shape
    print(
        f"wrote {out} (W+ {rows}x{w_dim}; {args.image}, box {inverted.box}, "
        f"{inverted.steps_done} steps in {inverted.seconds:.2f} s)"
    )
    return 0


# --------------------------------------------------------------------------------------------
# nfe batch

_BATCH_FAILED = 1


def _add_batch(subparsers: argparse._SubParsersAction[Parser]) -> None:
    parser = _subparser(
        subparsers,
        "batch",
        summary="apply the same edits to many pictures",
        description=(
            "Edit every picture in INPUTS (files, and folders searched recursively for\n"
            "pictures) as 'nfe edit IMAGE' does - invert the face in --box, apply the edits,\n"
            "paste only the edit back - and write the results into the --out folder, named\n"
            "by --pattern ({stem}: the input's name without extension, {name}: with it,\n"
            "{ext}: --format's extension, {index}: its place in the sorted list).\n\n"
            "Nothing is ever overwritten: a name that is taken (an input, an earlier result)\n"
            "gets _1, _2... before its extension. A picture that fails is listed as\n"
            "'error: FILE: REASON' and the others go on. Exit status: 0 when every picture\n"
            "was written, 1 when some failed, 2 for bad arguments, 130 when cancelled\n"
            "(Ctrl+C stops after the current picture; press it twice to stop at once).\n\n"
            "Under 'torchrun --nproc_per_node N' each process edits its share of the sorted\n"
            "inputs (RANK and WORLD_SIZE from the environment) and prints its own summary;\n"
            "on a machine with several GPUs each process takes the one LOCAL_RANK names."
        ),
        epilog=(
            "examples:\n"
            "  nfe batch pictures/ --set hair_color=pink --out pink/\n"
            "  nfe batch a.png b.jpg --preset pink.json --out pink/ --format webp\n"
            "  nfe batch scans/ --set glasses=true --preserve hair_color --out out/ "
            "--pattern '{index:04d}_{stem}.{ext}'\n"
            "  torchrun --standalone --nproc_per_node 4 -m nfe_core.cli.main batch pictures/ "
            "--preset pink.json --out pink/"
        ),
        handler=_batch,
    )
    parser.add_argument(
        "inputs", metavar="INPUTS", type=Path, nargs="+", help="pictures and folders of pictures"
    )
    _add_edit_options(parser)
    parser.add_argument(
        "--preset", type=Path, default=None, metavar="FILE", help="take the edits from a preset"
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="the folder to write (made if needed)",
    )
    parser.add_argument(
        "--format",
        choices=("png", "jpg", "webp"),
        default="png",
        help="the pictures' format (default: png)",
    )
    parser.add_argument(
        "--pattern",
        default=DEFAULT_PATTERN,
        metavar="P",
        help=f"output file names (default: {DEFAULT_PATTERN})",
    )
    parser.add_argument(
        "--quality",
        type=_quality,
        default=95,
        metavar="Q",
        help="JPEG/WebP quality from 1 to 100 (default: 95)",
    )
    parser.add_argument(
        "--layers",
        type=_layers,
        default=None,
        metavar="START:STOP",
        help="edit only these W+ rows (default: all)",
    )
    _add_inversion_options(parser)
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bar (errors and the summary still)"
    )
    _add_model_options(parser)


def _rank_device(name: str | None) -> str | None:
    """With several GPUs under torchrun, each process takes the one ``LOCAL_RANK`` names."""
    import torch

    if name not in (None, "cuda") or not torch.cuda.is_available():
        return name
    local = os.environ.get("LOCAL_RANK", "").strip()
    if not local.isdigit():
        return name
    return f"cuda:{int(local) % torch.cuda.device_count()}"


@contextlib.contextmanager
def _stop_on_ctrl_c() -> Iterator[Callable[[], bool]]:
    """A ``should_stop`` that turns true on the first Ctrl+C; a second one interrupts."""
    import signal
    import threading

    pressed: list[bool] = []
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return

    def handler(signum: int, frame: object) -> None:
        if pressed:
            raise KeyboardInterrupt
        pressed.append(True)
        sys.stderr.write("\nstopping after this picture (Ctrl+C again to stop now)\n")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: bool(pressed)
    finally:
        signal.signal(signal.SIGINT, previous)


def _batch(args: argparse.Namespace) -> int:
    from nfe_core.batch import (
        BATCH_FORMATS,
        expand_inputs,
        output_name,
        run_batch,
        shard_from_env,
    )

    rank, world = shard_from_env()  # BatchError (a ValueError) is one error line
    prefix = f"rank {rank} of {world}: " if world > 1 else ""
    output_name(args.pattern, Path("picture.png"), BATCH_FORMATS[args.format], 0)
    if not args.edits and args.preset is None:
        raise CliError(
            "nothing to do: give edits with --set (e.g. --set hair_color=blue) or --preset"
        )
    edits, _, preset = _edits_from_args(args, "give")
    if args.out.exists() and not args.out.is_dir():
        raise CliError(f"{args.out}: a file with this name exists; --out must be a folder")
    bundle = _open_model(args.model, _rank_device(args.device))
    _warn_other_model(preset, bundle, f"{prefix}the preset ")
    steps = DEFAULT_STEPS if args.steps is None else args.steps
    shard = len(expand_inputs(args.inputs, exclude=args.out)[rank::world])
    quiet = args.quiet or rank != 0
    with (
        _stop_on_ctrl_c() as should_stop,
        progress_bar(f"{prefix}editing", shard, unit="picture", quiet=quiet) as bar,
    ):
        summary = run_batch(
            bundle,
            args.inputs,
            edits,
            args.out,
            fmt=args.format,
            pattern=args.pattern,
            box=args.box,
            steps=steps,
            layers=args.layers,
            quality=args.quality,
            rank=rank,
            world=world,
            progress=bar,
            should_stop=should_stop,
        )
    sys.stdout.flush()
    for source, reason in summary.failed:
        sys.stderr.write(f"error: {prefix}{source}: {reason}\n")
    sys.stderr.flush()
    done, total = len(summary.done), summary.total
    line = (
        f"{prefix}edited {done} of {total} picture{'s' if total != 1 else ''} into {args.out} "
        f"in {summary.seconds:.1f} s"
    )
    if summary.failed:
        line += f"; {len(summary.failed)} failed"
    if summary.cancelled:
        line += f"; cancelled, {len(summary.skipped)} not edited"
    print(line, flush=True)
    if summary.cancelled:
        return EXIT_CANCELLED
    return _BATCH_FAILED if summary.failed else 0


# --------------------------------------------------------------------------------------------
# nfe tags

_RUNNER_UP = 0.1  # a second class is shown when its probability is above this


def _add_tags(subparsers: argparse._SubParsersAction[Parser]) -> None:
    parser = _subparser(
        subparsers,
        "tags",
        summary="read a face's attributes (hair colour, glasses...) from pictures",
        description=(
            "Show each picture to the model's attribute classifier and print, for every\n"
            "attribute, the class it sees and how sure it is (a probability from 0 to 1),\n"
            f"plus the runner-up class when that is above {_RUNNER_UP:g}.\n\n"
            "The whole picture is read, squeezed to the classifier's square input if it is\n"
            "not square, so crop it to the face first for the best answer. Transparent areas\n"
            "are put on white. The classifier knows the attributes the model was trained\n"
            "with ('nfe info' lists them).\n\n"
            "A picture that cannot be read prints 'error: PATH: REASON' on stderr; the others\n"
            "are still read, and the exit status is 2 if any failed (0 if all are fine)."
        ),
        epilog=(
            "examples:\n"
            "  nfe tags face.png\n"
            "  nfe tags faces/*.png --model run/bundle\n"
            "  nfe tags --json face.png       # {attribute: {label, scores: {class: p}}}\n"
            "  nfe tags --json a.png b.png    # the same, keyed by path"
        ),
        handler=_tags,
    )
    parser.add_argument("images", metavar="IMAGE", nargs="+", type=Path, help="pictures to read")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object instead: {attribute: {'label': class, 'scores': {class: "
        "probability}}} for one picture; for several, such objects keyed by the path given",
    )
    _add_model_options(parser)


def _tags(args: argparse.Namespace) -> int:
    bundle = _open_model(args.model, args.device)
    classifier = bundle.classifier
    if classifier is None:
        raise CliError(
            f"{bundle.root}: this model has no attribute classifier; put one in with "
            f"'nfe-train attributes --model {bundle.root} --classifier RUN_DIR'"
        )
    several = len(args.images) > 1
    records: dict[str, dict[str, Any]] = {}
    failed = 0
    for path in args.images:
        try:
            picture = load_image(path)
        except ImageError as exc:
            failed += 1
            sys.stdout.flush()
            sys.stderr.write(f"error: {exc}\n")
            continue
        record = _tag_record(classifier, picture, bundle.device)
        if args.json:
            records[str(path)] = record
            continue
        lines = _tag_lines(record)
        if several:
            lines = [f"{path}:", *(f"  {line}" for line in lines)]
        print("\n".join(lines), flush=True)
    if args.json and records:
        result = records if several else next(iter(records.values()))
        print(json.dumps(result, indent=2, ensure_ascii=False))
    return EXIT_USAGE if failed else 0


def _tag_record(
    classifier: AttributeClassifier, picture: Picture, device: torch.device
) -> dict[str, Any]:
    """``{attribute: {"label": class, "scores": {class: probability}}}`` for one picture."""
    import numpy as np
    import torch
    from PIL import Image

    rgb = picture.rgb
    if picture.alpha is not None:  # transparent areas on white
        rgb = Image.new("RGB", rgb.size, (255, 255, 255))
        rgb.paste(picture.rgb, mask=picture.alpha)
    size = classifier.config.resolution
    pixels = np.asarray(rgb.resize((size, size), Image.Resampling.LANCZOS), np.float32)
    image = torch.from_numpy(pixels / 127.5 - 1.0).permute(2, 0, 1).unsqueeze(0).to(device)
    probabilities = classifier.predict(image)
    record = {}
    for name, classes in classifier.config.attributes:
        scores = [float(p) for p in probabilities[name][0].cpu()]
        best = max(range(len(classes)), key=scores.__getitem__)
        record[name] = {
            "label": classes[best],
            "scores": {c: round(p, 6) for c, p in zip(classes, scores, strict=True)},
        }
    return record


def _tag_lines(record: dict[str, Any]) -> list[str]:
    """``hair_color: blue (0.97)``, with ``; pink 0.21`` for a runner-up above 0.1."""
    lines = []
    for name, entry in record.items():
        ranked = sorted(entry["scores"].items(), key=lambda item: -item[1])
        (best, p), rest = ranked[0], ranked[1:]
        extra = f"; {rest[0][0]} {rest[0][1]:.2f}" if rest and rest[0][1] > _RUNNER_UP else ""
        lines.append(f"{name}: {best} ({p:.2f}{extra})")
    return lines


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
    _add_edit,
    _add_invert,
    _add_batch,
    _add_tags,
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
