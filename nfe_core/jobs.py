"""What long-running core functions share: progress and cancellation, with no Qt in sight.

A long function takes ``progress(step, total)`` and ``should_stop() -> bool`` callables
(either may be None), reports after each unit of work and calls :func:`check_stop` between
units; the desktop's workers and the command lines adapt these to signals and progress bars.
"""

from __future__ import annotations

from collections.abc import Callable

ProgressFn = Callable[[int, int], None]
StopFn = Callable[[], bool]


class Cancelled(Exception):
    """The job stopped early because ``should_stop()`` said so; nothing was left half-done."""

    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message)


def check_stop(should_stop: StopFn | None) -> None:
    """Raise :class:`Cancelled` if ``should_stop`` is given and says stop."""
    if should_stop is not None and should_stop():
        raise Cancelled()
