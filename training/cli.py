"""The ``nfe-train`` command line: data, training and reports."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from nfe_core.cli.common import (
    CliError,
    Parser,
    add_seed_option,
    dispatch,
    make_command_parser,
    positive_int,
    progress_bar,
    run,
)

_DESCRIPTION = """\
Neural Face Editor training tools: render the procedural anime-face set, train models and
write their quality reports.

Run 'nfe-train COMMAND --help' for what each command does."""

_EPILOG = """\
example:
  nfe-train synth --count 64 --size 64 --out faces --grid faces.png"""


def _size(text: str) -> int:
    from training.synth.render import MAX_SIZE, MIN_SIZE

    value = positive_int(text)
    if not MIN_SIZE <= value <= MAX_SIZE:
        raise argparse.ArgumentTypeError(
            f"expected a size from {MIN_SIZE} to {MAX_SIZE} pixels, got {value}"
        )
    return value


def _add_synth(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synth",
        help="render labelled procedural anime faces to a folder",
        description=(
            "Render COUNT procedural anime faces of SIZE x SIZE pixels into folder OUT as\n"
            "000000.png, 000001.png, ... with their ground-truth labels in OUT/labels.csv\n"
            "(a 'file' column and one column per attribute). The same --seed gives the same\n"
            "faces. The folder is written completely or not at all."
        ),
        epilog="example:\n  nfe-train synth --count 1000 --size 128 --out faces --grid grid.png",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--count", type=positive_int, required=True, metavar="N", help="number of faces to render"
    )
    p.add_argument(
        "--size",
        type=_size,
        required=True,
        metavar="S",
        help="side of the square pictures in pixels, 32 to 512",
    )
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="folder to write; must not exist or be empty (see --force)",
    )
    add_seed_option(p, "drawing the faces")
    p.add_argument(
        "--grid",
        type=Path,
        metavar="FILE",
        help="also write a labelled 8x8 grid of the first faces (.png, .jpg or .webp)",
    )
    p.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="W",
        help="worker processes (default: one per CPU core)",
    )
    p.add_argument(
        "--force", action="store_true", help="replace OUT if it already holds a face set"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_synth)


def _synth(args: argparse.Namespace) -> int:
    from nfe_core.imageio import save_image, write_format
    from training.synth.grid import face_grid
    from training.synth.render import render_face
    from training.synth.writer import SetWriteError, face_params, write_face_set

    if args.grid is not None:
        write_format(args.grid)  # an unsupported grid type fails before any work is done
    try:
        with progress_bar("rendering", args.count, unit="face", quiet=args.quiet) as bar:
            write_face_set(
                args.out,
                args.count,
                args.size,
                args.seed,
                workers=args.workers,
                overwrite=args.force,
                progress=bar,
            )
    except SetWriteError as exc:
        raise CliError(str(exc)) from None
    if args.grid is not None:
        params = face_params(args.seed, min(64, args.count))
        faces = [(p, render_face(p, args.size).image) for p in params]
        save_image(face_grid(faces), args.grid)
    print(
        f"wrote {args.count} faces of {args.size}x{args.size} px to {args.out}"
        + (f" and a sample grid to {args.grid}" if args.grid else ""),
        file=sys.stderr,
    )
    return 0


_COMMANDS = (_add_synth,)


def build_parser() -> Parser:
    """The ``nfe-train`` argument parser with all its subcommands."""
    return make_command_parser("nfe-train", _DESCRIPTION, _EPILOG, _COMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``nfe-train``; returns the exit status."""
    return run(lambda args: dispatch(build_parser(), args), argv)


if __name__ == "__main__":
    raise SystemExit(main())
