"""Cancellation that reaches inside long kernels.

The runner checks its ``cancel()`` callable between layers; one layer can itself take long (a local
response norm over millions of channels, a huge convolution). :func:`cancellable` makes the callable
visible to the kernels running in this thread (a ``ContextVar``, so concurrent runs in other
threads keep their own), and a kernel calls :func:`check_cancel` between chunks of its work::

    with cancellable(lambda: stop_requested):
        runner_work()          # kernels call check_cancel() → raises Cancelled when asked

Outside :func:`cancellable` (or with ``None``) :func:`check_cancel` costs one lookup and does nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

CancelCheck = Callable[[], bool]


class Cancelled(Exception):
    """The run was cancelled; outputs computed before the current layer stay cached."""


_current: ContextVar[CancelCheck | None] = ContextVar("designer_cancel_check", default=None)


@contextlib.contextmanager
def cancellable(check: CancelCheck | None) -> Iterator[None]:
    """Let :func:`check_cancel` consult ``check`` in this thread while the block runs."""
    token = _current.set(check)
    try:
        yield
    finally:
        _current.reset(token)


def check_cancel(where: str = "") -> None:
    """Raise :class:`Cancelled` when the active check says so (a no-op outside :func:`cancellable`)."""
    check = _current.get()
    if check is not None and check():
        raise Cancelled(f"cancelled{' ' + where if where else ''}")
