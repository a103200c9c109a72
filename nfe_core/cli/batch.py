"""``nfe batch``: the same edits on many pictures, sharded across torchrun processes, with
Ctrl+C stopping after the current picture."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from nfe_core.cli.common import EXIT_CANCELLED, CliError, Parser, progress_bar, quality, subparser
from nfe_core.cli.editing import (
    add_edit_options,
    add_inversion_options,
    edits_from_args,
    inversion_steps,
    layers,
    warn_other_model,
)
from nfe_core.cli.model import add_model_options, open_model
from nfe_core.naming import DEFAULT_PATTERN

# --------------------------------------------------------------------------------------------
# nfe batch

_BATCH_FAILED = 1


def add_batch(subparsers: argparse._SubParsersAction[Parser]) -> None:
    parser = subparser(
        subparsers,
        "batch",
        summary="apply the same edits to many pictures",
        description=(
            "Edit every picture in INPUTS (files, and folders searched recursively for\n"
            "pictures) as 'nfe edit IMAGE' does - invert the face in --box (or the face the\n"
            "model finds in each picture), apply the edits, paste only the edit back - and\n"
            "write the results into the --out folder, named\n"
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
    add_edit_options(parser)
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
        type=quality,
        default=95,
        metavar="Q",
        help="JPEG/WebP quality from 1 to 100 (default: 95)",
    )
    parser.add_argument(
        "--layers",
        type=layers,
        default=None,
        metavar="START:STOP",
        help="edit only these W+ rows (default: all)",
    )
    add_inversion_options(parser)
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bar (errors and the summary still)"
    )
    add_model_options(parser)


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
    edits, _, preset = edits_from_args(args, "give")
    if args.out.exists() and not args.out.is_dir():
        raise CliError(f"{args.out}: a file with this name exists; --out must be a folder")
    bundle = open_model(args.model, _rank_device(args.device))
    warn_other_model(preset, bundle, f"{prefix}the preset ")
    steps, tune_steps = inversion_steps(args)
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
            find=not args.no_find,
            steps=steps,
            tune_steps=tune_steps,
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
    for source in summary.unfound:
        sys.stderr.write(f"note: {prefix}{source}: no face found; its centred square edited\n")
    sys.stderr.flush()
    done, total = len(summary.done), summary.total
    line = (
        f"{prefix}edited {done} of {total} picture{'s' if total != 1 else ''} into {args.out} "
        f"in {summary.seconds:.1f} s"
    )
    if summary.failed:
        line += f"; {len(summary.failed)} failed"
    if summary.unfound:
        line += f"; no face found in {len(summary.unfound)} (their centred squares edited)"
    if summary.cancelled:
        line += f"; cancelled, {len(summary.skipped)} not edited"
    print(line, flush=True)
    if summary.cancelled:
        return EXIT_CANCELLED
    return _BATCH_FAILED if summary.failed else 0
