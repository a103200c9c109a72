"""Checks the command-line tests share."""

from __future__ import annotations


def one_error_line(err: str, *, alone: bool = True) -> str:
    """The one ``error: ...`` line of a command's stderr, with no traceback; ``alone``: and
    nothing else on stderr (otherwise progress lines may surround it)."""
    lines = err.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, err
    assert not alone or len(lines) == 1, err
    assert "Traceback" not in err
    return errors[0]
