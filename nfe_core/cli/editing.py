"""``nfe edit`` and ``nfe invert``: edit one face's attributes, from a seed, a latent file or
a picture, and find the latent of a picture's face; with the edit and inversion options
that ``nfe batch`` shares."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nfe_core.cli.common import (
    CliError,
    Parser,
    positive_int,
    progress_bar,
    subparser,
    whole_number,
)
from nfe_core.cli.model import add_model_options, open_model, truncation
from nfe_core.defaults import DEFAULT_STEPS, DEFAULT_TRUNCATION, DEFAULT_TUNE_STEPS
from nfe_core.imageio import WRITE_SUFFIXES, Picture, load_image, save_picture, write_format

if TYPE_CHECKING:
    import numpy as np
    from torch import Tensor

    from nfe_core.bundle import Bundle
    from nfe_core.editing import Boundaries, Edit, Step
    from nfe_core.facebox import FaceBox
    from nfe_core.models import Generator
    from nfe_core.pipeline import Inverted
    from nfe_core.presets import Preset


# --------------------------------------------------------------------------------------------
# nfe edit

_STRIP_MIN_FRAME = 128  # px: a smaller model's strip frames are enlarged (nearest) to this
_STRIP_GAP = 4  # px of white between strip frames


def layers(text: str) -> tuple[int, int]:
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


def add_edit_options(parser: argparse.ArgumentParser) -> None:
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


def add_edit(subparsers: argparse._SubParsersAction[Parser]) -> None:
    suffixes = ", ".join(WRITE_SUFFIXES)
    parser = subparser(
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
            "With IMAGE (any picture 'nfe convert' reads, any size), the face in --box (unless\n"
            "given, the face the model finds; where it finds none, the largest centred\n"
            "square) is inverted as 'nfe invert' does, edited,\n"
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
        type=truncation,
        default=None,
        metavar="T",
        help="with --seed: from 0 (the mean face) to 1 (no truncation) "
        f"(default: {DEFAULT_TRUNCATION}, as 'nfe generate')",
    )
    add_edit_options(parser)
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
        type=layers,
        default=None,
        metavar="START:STOP",
        help="edit only these W+ rows (early rows: shape and pose, late rows: colour); "
        "the latent becomes W+ (default: all)",
    )
    add_inversion_options(parser, "with IMAGE: ")
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
    add_model_options(parser)


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


def add_inversion_options(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    parser.add_argument(
        "--box",
        type=_box,
        default=None,
        metavar="X,Y,W,H",
        help=f"{prefix}the face's rectangle in picture pixels: left, top, width, height; "
        "it may reach past the picture's edge by a quarter of its side (a face cut by the "
        "edge), and is cut back to that (default: where the model finds the face; where it finds "
        "none, the largest centred square)",
    )
    parser.add_argument(
        "--no-find",
        action="store_true",
        help=f"{prefix}without --box, take the largest centred square instead of looking for "
        "the face",
    )
    parser.add_argument(
        "--steps",
        type=_steps,
        default=None,
        metavar="N",
        help=f"{prefix}refinement steps after the encoder's guess; more is closer and slower, "
        f"0 is the encoder alone (default: {DEFAULT_STEPS})",
    )
    parser.add_argument(
        "--tune-steps",
        type=_steps,
        default=None,
        metavar="N",
        help=f"{prefix}pivotal tuning steps after those: a copy of the generator learns the "
        f"picture's own details, so edits keep them; 0 is none (default: {DEFAULT_TUNE_STEPS})",
    )


def edits_from_args(
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


def warn_other_model(preset: Preset | None, bundle: Bundle, prefix: str = "") -> None:
    if preset is not None and not preset.matches(bundle):
        sys.stderr.write(
            f"warning: {prefix}{preset.name!r} was made for {preset.describe_model()}, not "
            f"{bundle.name!r}; its edits may look different here\n"
        )


def _edit(args: argparse.Namespace) -> int:
    import numpy as np

    from nfe_core.editing import apply_steps
    from nfe_core.imageio import save_image
    from nfe_core.pipeline import draw_edits, face_generator, land_edits
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
    elif args.box is not None or args.steps is not None or args.tune_steps is not None:
        raise CliError("--box, --steps and --tune-steps go with a picture to invert (IMAGE)")
    elif args.no_find:
        raise CliError("--no-find goes with a picture to invert (IMAGE)")
    if not args.edits and args.preset is None and args.strip is None:
        raise CliError(
            "nothing to do: give an edit with --set (e.g. --set hair_color=blue) or --strip ATTR"
        )
    if args.strip_steps < 2:
        raise CliError(f"--strip-steps: expected at least 2 frames, got {args.strip_steps}")
    edits, preserve, preset = edits_from_args(args, "give")  # EditError: one error line
    picture = load_image(args.image) if args.image is not None else None

    bundle = open_model(args.model, args.device)
    boundaries = bundle.boundaries
    if len(boundaries) == 0:
        raise CliError(
            "this model has no attribute sliders yet; "
            f"run 'nfe-train attributes --model {bundle.root}'"
        )
    for edit in edits:
        boundaries.check(edit)
    warn_other_model(preset, bundle, "the preset ")
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
        latent, base, origin, tuned = _start_latent(args, bundle)
        generator = face_generator(bundle, tuned)
        if strip is None:
            drawn = draw_edits(bundle, latent, edits, generator, layers=args.layers)
            landed, model_drawn = drawn.edits, drawn.model_drawn
        else:
            landed = land_edits(bundle, latent, edits, args.layers, generator=generator)
            model_drawn = ()
        edited, steps = apply_steps(
            latent, landed, boundaries, layers=args.layers, num_ws=generator.num_ws
        )
        if not args.quiet:
            for line in _step_lines(latent, steps, boundaries, args.layers, generator.num_ws):
                sys.stderr.write(line + "\n")
            for name in model_drawn:
                sys.stderr.write(
                    f"{name}: drawn by the model's own generator (the face's tuned one does "
                    "not show the target)\n"
                )

        size = generator.config.resolution
        if strip is None:
            image = drawn.image
            save_image(image, out)
            what = f"{size}x{size} px"
        else:
            labels, frame_edits = strip
            frames = _render_strip(bundle, generator, edited, frame_edits, args.layers, args.quiet)
            tiled = tile_frames(np.stack(frames)[None], gap=_STRIP_GAP, min_side=_STRIP_MIN_FRAME)
            save_image(tiled, out)
            if not args.quiet:
                sys.stderr.write(f"strip {args.strip}, left to right: {', '.join(labels)}\n")
            side = tiled.shape[0]
            what = f"{len(frames)} frames of {side}x{side} px along {args.strip}"
        if args.save_latent is not None:
            _save_edited_latent(
                args.save_latent, edited, base, edits, preserve, args.layers, bundle, tuned
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
        _, steps = apply_steps(start, edited.edits, bundle.boundaries, layers=args.layers)
        num_ws = bundle.generator.num_ws
        for line in _step_lines(start, steps, bundle.boundaries, args.layers, num_ws):
            sys.stderr.write(line + "\n")
    out: Path = args.out
    pasted = paste(
        picture, inverted, edited.render, edited.redrawn, edited.recolour, edited.reshape
    )
    save_picture(pasted, out)
    _note_jpeg_alpha(out, picture)
    if args.save_latent is not None:
        base = inverted.source_record(str(args.image))
        _save_edited_latent(
            args.save_latent, edited.latent, base, edits, preserve, args.layers, bundle,
            inverted.tuned,
        )  # fmt: skip
    width, height = picture.size
    count = f"{len(edits)} edit{'s' if len(edits) != 1 else ''}"
    saved = f"; latent: {args.save_latent}" if args.save_latent is not None else ""
    print(
        f"wrote {out} ({width}x{height} px; picture {args.image}, box {inverted.box}, "
        f"inverted in {inverted.seconds:.2f} s, {count}){saved}"
    )


def _invert_with_bar(args: argparse.Namespace, bundle: Bundle, picture: Picture) -> Inverted:
    """``invert_picture`` with --box (or the face found, :func:`_face_box`),
    --steps/--tune-steps and a progress bar; Ctrl+C cancels."""
    from nfe_core.pipeline import invert_picture

    box = _face_box(args, bundle, picture, str(args.image))
    steps, tune_steps = inversion_steps(args)
    total = steps + tune_steps
    with progress_bar("inverting", total, unit="step", quiet=args.quiet or total == 0) as bar:
        return invert_picture(bundle, picture, box, steps, progress=bar, tune_steps=tune_steps)


def _face_box(
    args: argparse.Namespace, bundle: Bundle, picture: Picture, name: str
) -> FaceBox | None:
    """--box, or without it (and without --no-find) the box of the face the model finds in
    the picture; None (the largest centred square) where it finds none, which a note on
    stderr says."""
    from nfe_core.pipeline import find_picture_face

    if args.box is not None or args.no_find or bundle.segmenter is None:
        return args.box
    found = find_picture_face(bundle, picture)
    if found is None:
        sys.stderr.write(
            f"note: {name}: no face found; inverting the largest centred square "
            "(give --box X,Y,W,H to place it)\n"
        )
        return None
    return found.box


def inversion_steps(args: argparse.Namespace) -> tuple[int, int]:
    """--steps and --tune-steps, their defaults where not given."""
    steps = DEFAULT_STEPS if args.steps is None else args.steps
    tune_steps = DEFAULT_TUNE_STEPS if args.tune_steps is None else args.tune_steps
    return steps, tune_steps


def _note_jpeg_alpha(out: Path, picture: Picture) -> None:
    if write_format(out) == "JPEG" and picture.alpha is not None:
        sys.stderr.write(
            f"note: {out}: JPEG has no transparency; transparent areas were made white\n"
        )


def _start_latent(
    args: argparse.Namespace, bundle: Bundle
) -> tuple[Tensor, dict[str, Any], str, dict[str, Tensor] | None]:
    """The face to edit on the model's device, the record of where it came from, that in
    words, and the tuned weights that draw it (an inverted picture's face) or None."""
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
        return w, source, f"seed {args.seed} of {bundle.name}", None
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
    return loaded.w.to(bundle.device), source, f"latent {path}", loaded.tuned


def _step_lines(
    latent: Tensor,
    steps: Sequence[Step],
    boundaries: Boundaries,
    layers: tuple[int, int] | None,
    num_ws: int,
) -> list[str]:
    """One line per edit: the aimed-at plane's distance before and after, in spreads, and the
    class the face is in afterwards (read where the model draws the attribute)."""
    from nfe_core.editing import apply

    lines = []
    moved = latent
    for step in steps:  # each edit from where the one before left the face, as apply does
        moved = apply(moved, [step.edit], boundaries, layers=layers, num_ws=num_ws)
        plane = boundaries[step.boundary]
        before, after = step.before / plane.spread, step.after / plane.spread
        now = boundaries.current_class(step.edit.attribute, moved)
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
    bundle: Bundle,
    generator: Generator,
    latent: Tensor,
    edits: Sequence[Edit | None],
    layers: tuple[int, int] | None,
    quiet: bool,
) -> list[np.ndarray]:
    """One frame per edit of ``latent`` (None: the face itself), each kept to its attribute's
    regions (:func:`~nfe_core.pipeline.confine_render`)."""
    from nfe_core.editing import apply
    from nfe_core.pipeline import confine_render

    base = _render(generator, latent)
    frames = []
    with progress_bar("rendering", len(edits), unit="frame", quiet=quiet) as bar:
        for done, edit in enumerate(edits, start=1):
            frame = base
            if edit is not None:
                moved = apply(
                    latent, [edit], bundle.boundaries, layers=layers, num_ws=generator.num_ws
                )
                frame = confine_render(bundle, base, _render(generator, moved), [edit])
            frames.append(frame)
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
    tuned: dict[str, Tensor] | None = None,
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

    save_latent(path, Latent(latent, source, model_record(bundle), tuned))


# --------------------------------------------------------------------------------------------
# nfe invert


def add_invert(subparsers: argparse._SubParsersAction[Parser]) -> None:
    parser = subparser(
        subparsers,
        "invert",
        summary="find the latent of the face in a picture (for editing it)",
        description=(
            "Find the W+ latent whose render looks like the face in IMAGE: the model's encoder\n"
            "guesses it, then --steps refinement steps bring the render closer while keeping\n"
            "the latent where edits work well. The face is the --box rectangle (unless given,\n"
            "the face the model finds in the picture, or where it finds none the largest\n"
            "centred square), resized to the model's input; a small face is upscaled,\n"
            "transparent areas are put on white.\n\n"
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
    add_inversion_options(parser)
    parser.add_argument(
        "-o", "--out", type=Path, required=True, metavar="OUT", help="latent file to write (.npz)"
    )
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")
    parser.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    add_model_options(parser)


def _invert(args: argparse.Namespace) -> int:
    from nfe_core.latent import Latent, save_latent
    from nfe_core.pipeline import check_can_invert, model_record

    out: Path = args.out
    if out.suffix.lower() != ".npz":
        raise CliError(f"-o: expected a file name ending in .npz, got {out}")
    _check_target(out, args.force)
    picture = load_image(args.image)
    bundle = open_model(args.model, args.device)
    check_can_invert(bundle)
    inverted = _invert_with_bar(args, bundle, picture)
    latent = Latent(
        inverted.latent, inverted.source_record(str(args.image)), model_record(bundle),
        inverted.tuned,
    )  # fmt: skip
    save_latent(out, latent)
    rows, w_dim = latent.w.shape
    print(
        f"wrote {out} (W+ {rows}x{w_dim}; {args.image}, box {inverted.box}, "
        f"{inverted.steps_done} steps in {inverted.seconds:.2f} s)"
    )
    return 0
