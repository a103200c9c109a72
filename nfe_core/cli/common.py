"""What every NFE command line shares: parser, `--device`/`--seed`, errors, progress.

Conventions (README, "Command line"): on bad input a command prints one line starting
with ``error:`` on stderr and exits with status 2, never a traceback; anything that runs
for more than a second shows a progress bar on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

EXIT_USAGE = 2
EXIT_CANCELLED = 130
DEFAULT_SEED = 0

T = TypeVar("T")


class CliError(Exception):
    """A problem with the user's input, reported as ``error: <message>`` and exit status 2."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one ``error:`` line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_USAGE)


def make_parser(prog: str, description: str, epilog: str | None = None) -> Parser:
    return Parser(
        prog=prog,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def make_command_parser(
    prog: str,
    description: str,
    epilog: str,
    commands: Sequence[Callable[[argparse._SubParsersAction], None]],
) -> Parser:
    """A parser with ``--version`` and one subcommand per adder in ``commands``.

    Each adder declares its subcommand on the subparsers object it is given and sets a
    ``handler(args) -> int`` default; :func:`dispatch` calls it.
    """
    from nfe_core import __version__

    parser = make_parser(prog, description, epilog)
    parser.add_argument("--version", action="version", version=f"{prog} {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", title="commands", parser_class=Parser, required=True
    )
    for add in commands:
        add(subparsers)
    return parser


def dispatch(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    """Parse ``argv`` and run the chosen subcommand's handler; returns the exit status.

    ``--help``, ``--version`` and usage errors make argparse exit; their status is returned
    instead, so ``main(argv)`` can be called from tests.
    """
    if argv is None:
        argv = sys.argv[1:]
    try:
        args = parser.parse_args(_boxes_joined(argv))
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_USAGE)
    return args.handler(args)


_BOX_BEFORE_EDGE = re.compile(r"^-\d+\s*,")


def _boxes_joined(argv: Sequence[str]) -> list[str]:
    """``argv`` with ``--box -40,-60,300,300`` (a box reaching past the picture's left or top
    edge) given as ``--box=-40,-60,300,300``: argparse takes a value that starts with ``-``
    and is not a number for another option."""
    joined: list[str] = []
    for arg in argv:
        if joined and joined[-1] == "--box" and _BOX_BEFORE_EDGE.match(arg):
            joined[-1] = f"--box={arg}"
        else:
            joined.append(arg)
    return joined


def add_seed_option(parser: argparse.ArgumentParser, what: str = "the random draws") -> None:
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        metavar="K",
        help=f"seed for {what}; the same seed gives the same result (default: {DEFAULT_SEED})",
    )


def add_device_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device",
        choices=("cpu", "cuda", "mps"),
        default=None,
        help="where the model runs (default: the best available: cuda, then mps, then cpu)",
    )


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f"expected a number of at least {minimum}, got {value}"
            )
        return value

    return parse


positive_int = whole_number(1)


_Handler = Callable[[argparse.Namespace], int]


def number_from_to(kind: type[int] | type[float], low: float, high: float) -> Callable[[str], Any]:
    """An argparse type: a whole number (``int``) or a number (``float``) from ``low`` to
    ``high``."""
    words = "a whole number" if kind is int else "a number"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {words}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"expected a number from {low:g} to {high:g}, got {value}"
            )
        return value

    return parse


quality = number_from_to(int, 1, 100)  # JPEG/WebP quality


def subparser(
    subparsers: argparse._SubParsersAction[Parser],
    name: str,
    *,
    summary: str,
    description: str,
    epilog: str,
    handler: _Handler,
) -> Parser:
    """Declare subcommand ``name``: ``summary`` is its line in the parent's list of commands,
    and ``handler(args)`` runs it."""
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    return parser


@contextmanager
def progress_bar(
    desc: str, total: int, *, unit: str = "it", quiet: bool = False
) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(step, total)`` callable for core functions, drawn as a bar on stderr."""
    from tqdm import tqdm

    bar = tqdm(
        total=total,
        desc=desc,
        unit=unit,
        disable=quiet,
        file=sys.stderr,
        dynamic_ncols=True,
        leave=False,
    )

    def update(step: int, total: int) -> None:
        bar.total = total
        bar.update(step - bar.n)

    try:
        yield update
    finally:
        bar.close()


def run(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """Run a command's ``main``, turning expected failures into ``error:`` lines.

    Known input problems (CliError, and errors from nfe_core that carry a user-facing
    message: image, file-writing and bundle errors, ValueError from argument validation)
    exit with 2; Ctrl+C or a cancelled job exits with 130. Anything else is a bug and keeps
    its traceback.
    """
    from nfe_core.fileio import FileWriteError
    from nfe_core.imageio import ImageError
    from nfe_core.jobs import Cancelled

    try:
        return main(argv)
    except (CliError, ImageError, FileWriteError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    except Cancelled as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_CANCELLED
    except KeyboardInterrupt:
        sys.stderr.write("error: cancelled\n")
        return EXIT_CANCELLED
    except BrokenPipeError:
        # the reader went away (e.g. `nfe info --json | head`): not an error of ours; point
        # stdout at devnull so Python's own flush at exit does not complain either
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if not _is_bundle_error(exc):
            raise
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE


def _is_bundle_error(exc: Exception) -> bool:
    """Whether ``exc`` is a BundleError, without importing torch for commands that never
    touch a bundle: if ``nfe_core.bundle`` was never imported, it cannot have raised one."""
    bundle = sys.modules.get("nfe_core.bundle")
    return bundle is not None and isinstance(exc, bundle.BundleError)
