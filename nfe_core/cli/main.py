"""The ``nfe`` command line: work with pictures and models from a terminal.

Each subcommand is a pair of functions in the module of its kind (``pictures``, ``model``,
``editing``, ``batch``): ``add_<name>(subparsers)`` declares its arguments and help, and
``_<name>(args)`` does the work and returns the exit status. To add a command, write the pair
and list the adder in :data:`_COMMANDS`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from nfe_core.cli.batch import add_batch
from nfe_core.cli.common import Parser, dispatch, make_command_parser, run
from nfe_core.cli.editing import add_edit, add_invert
from nfe_core.cli.model import add_generate, add_import_stylegan2, add_info, add_tags
from nfe_core.cli.pictures import add_convert, add_probe

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


_COMMANDS: tuple[Callable[[argparse._SubParsersAction[Parser]], None], ...] = (
    add_generate,
    add_edit,
    add_invert,
    add_batch,
    add_tags,
    add_convert,
    add_probe,
    add_info,
    add_import_stylegan2,
)


def build_parser() -> Parser:
    """The ``nfe`` argument parser with all its subcommands."""
    return make_command_parser("nfe", _DESCRIPTION, _EPILOG, _COMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``nfe`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    return run(lambda args: dispatch(build_parser(), args), argv)


if __name__ == "__main__":
    raise SystemExit(main())
