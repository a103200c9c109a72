"""``nfe convert`` and ``nfe probe``: pictures in and out, with no model involved."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from nfe_core.cli.common import EXIT_USAGE, CliError, Parser, quality, subparser
from nfe_core.imageio import (
    WRITE_SUFFIXES,
    ImageError,
    Picture,
    load_image,
    save_picture,
    write_format,
)

# --------------------------------------------------------------------------------------------
# nfe convert


def add_convert(subparsers: argparse._SubParsersAction[Parser]) -> None:
    suffixes = ", ".join(WRITE_SUFFIXES)
    parser = subparser(
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
        type=quality,
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


def add_probe(subparsers: argparse._SubParsersAction[Parser]) -> None:
    parser = subparser(
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
