"""The commands that use a model as it is: ``nfe info``, ``nfe generate``, ``nfe tags`` and
``nfe import-stylegan2``, with the model options and loading the other commands share."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nfe_core.cli.common import (
    EXIT_USAGE,
    CliError,
    Parser,
    number_from_to,
    progress_bar,
    subparser,
)
from nfe_core.defaults import DEFAULT_TRUNCATION
from nfe_core.facebox import FIGURES
from nfe_core.imageio import ImageError, Picture, load_image, write_format

if TYPE_CHECKING:
    import torch

    from nfe_core.facebox import FaceBox
    from nfe_core.models.classifier import AttributeClassifier


# --------------------------------------------------------------------------------------------
# nfe info


def add_info(subparsers: argparse._SubParsersAction[Parser]) -> None:
    parser = subparser(
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


def _report_lines(figures: dict, indent: str, places: int | None = 4) -> list[str]:
    """The report's figures, one per line; tables (dicts) indented under their name. Floats
    with ``places`` decimals (None: as they are)."""
    lines = []
    for key, value in figures.items():
        if isinstance(value, dict) and value:
            lines.append(f"{indent}{key}:")
            lines.extend(_report_lines(value, indent + "  ", places))
        elif isinstance(value, float) and places is not None:
            lines.append(f"{indent}{key}: {value:.{places}f}")
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
        line = f"  {key}: {network['parameters']:,} parameters ({network['file']})"
        if key == "segmenter":
            kept = [attribute for attribute, _ in network["config"]["owners"]]
            line += f"; keeps edits of {', '.join(kept) or 'none'} to their regions"
            recolours = [attribute for attribute, _ in network["config"].get("recolours", ())]
            if recolours:
                line += f" ({', '.join(recolours)}: in the face's own shapes)"
            spills = [
                f"{attribute} also the {' and '.join(regions)}"
                for attribute, regions in network["config"].get("spills", ())
            ]
            if spills:
                line += f" ({'; '.join(spills)})"
            for key, words in (
                ("palettes", "targets in their class's colours in the"),
                ("picture_palettes", "targets on pictures turned to drawn faces' colours in the"),
            ):
                said = [f"{a} {words} {region}" for a, region, _ in network["config"].get(key, ())]
                if said:
                    line += f" ({'; '.join(said)})"
            strokes = network["config"].get("strokes", ())
            if strokes:
                holds = list(network["config"].get("holds", ()))
                held = " and ".join([", ".join(holds[:-1]), holds[-1]] if len(holds) > 1 else holds)
                around = f", around the {held} where none fit" if holds else ""
                line += f" ({' and '.join(strokes)} drawn as lines on pictures{around})"
            drawn = network["config"].get("figures", ())
            figures = [f"{a}={'/'.join(c)}" for a, c, _ in drawn if not FIGURES[c[0]].pair]
            pairs = [f"{a}" for a, c, _ in drawn if FIGURES[c[0]].pair]
            if figures:
                line += f" ({', '.join(figures)} drawn whole on pictures)"
            if pairs:
                line += f" ({', '.join(pairs)} drawn whole on both sides of pictures' faces)"
            below = network["config"].get("below_eyes", ())
            if below:
                line += f" ({', '.join(below)} changed only below pictures' eyes)"
        lines.append(line)
    training = record["training"]
    lines.append("training:" if training else "training: (not recorded)")
    lines.extend(_report_lines(training, "  ", places=None))
    attributes = record["attributes"]
    if attributes:
        lines.append(f"attributes ({len(attributes)}):")
        for attribute in attributes:
            accuracy = attribute.get("svm_test_accuracy")
            figure = f", SVM balanced test accuracy {accuracy:.4f}" if accuracy is not None else ""
            low, high = attribute["strength_range"]
            rows = attribute.get("layers")
            where = f", W+ rows {rows[0]}:{rows[1]}" if rows else ""
            lines.append(
                f"  {attribute['name']} ({attribute['kind']}{figure}, "
                f"strengths {low:g}..{high:g}{where})"
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
    bundle = open_model(args.bundle, args.device or "cpu", hint="pass a bundle folder")
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


def open_model(path: Path | None, device: str | None, hint: str = "pass --model BUNDLE"):
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


truncation = number_from_to(float, 0.0, 1.0)  # psi: 0 the mean face, 1 no truncation


def add_generate(subparsers: argparse._SubParsersAction[Parser]) -> None:
    parser = subparser(
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
    add_model_options(parser)
    parser.add_argument(
        "--seed", type=int, default=0, metavar="S", help="the (first) face's seed (default: 0)"
    )
    parser.add_argument(
        "--truncation",
        type=truncation,
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


def add_model_options(parser: argparse.ArgumentParser) -> None:
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
    bundle = open_model(args.model, args.device)
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
# nfe tags

_RUNNER_UP = 0.1  # a second class is shown when its probability is above this


def add_tags(subparsers: argparse._SubParsersAction[Parser]) -> None:
    parser = subparser(
        subparsers,
        "tags",
        summary="read a face's attributes (hair colour, glasses...) from pictures",
        description=(
            "Show each picture to the model's attribute classifier and print, for every\n"
            "attribute, the class it sees and how sure it is (a probability from 0 to 1),\n"
            f"plus the runner-up class when that is above {_RUNNER_UP:g}.\n\n"
            "The whole picture is read, squeezed to the classifier's square input if it is\n"
            "not square, so crop it to the face first for the best answer, or give --find to\n"
            "read the face the model finds in it (as 'nfe edit' frames it). Transparent areas\n"
            "are put on white. The classifier knows the attributes the model was trained\n"
            "with ('nfe info' lists them).\n\n"
            "A picture that cannot be read prints 'error: PATH: REASON' on stderr; the others\n"
            "are still read, and the exit status is 2 if any failed (0 if all are fine)."
        ),
        epilog=(
            "examples:\n"
            "  nfe tags face.png\n"
            "  nfe tags faces/*.png --model run/bundle\n"
            "  nfe tags --find illustration.png   # the face in it, not the whole page\n"
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
    parser.add_argument(
        "--find",
        action="store_true",
        help="read the face the model finds in each picture (the whole picture where it finds "
        "none, which a note says) instead of the whole picture",
    )
    add_model_options(parser)


def _tags(args: argparse.Namespace) -> int:
    bundle = open_model(args.model, args.device)
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
        box = None
        if args.find:
            from nfe_core.pipeline import find_picture_face

            found = find_picture_face(bundle, picture)
            if found is None:
                sys.stdout.flush()
                sys.stderr.write(f"note: {path}: no face found; reading the whole picture\n")
            else:
                box = found.box
        record = _tag_record(classifier, picture, bundle.device, box)
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
    classifier: AttributeClassifier,
    picture: Picture,
    device: torch.device,
    box: FaceBox | None = None,
) -> dict[str, Any]:
    """``{attribute: {"label": class, "scores": {class: probability}}}`` for one picture, or
    for the face in its ``box`` as the model is shown it (:func:`~nfe_core.pipeline.face_crop`)."""
    import numpy as np
    from PIL import Image

    from nfe_core.pipeline import face_crop
    from nfe_core.sampling import pixels_to_images

    size = classifier.config.resolution
    if box is not None:
        pixels = face_crop(picture, box, size)[1].astype(np.float32)
    else:
        rgb = picture.rgb
        if picture.alpha is not None:  # transparent areas on white
            rgb = Image.new("RGB", rgb.size, (255, 255, 255))
            rgb.paste(picture.rgb, mask=picture.alpha)
        pixels = np.asarray(rgb.resize((size, size), Image.Resampling.LANCZOS), np.float32)
    probabilities = classifier.predict(pixels_to_images(pixels).to(device))
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


def add_import_stylegan2(subparsers: argparse._SubParsersAction[Parser]) -> None:
    parser = subparser(
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
