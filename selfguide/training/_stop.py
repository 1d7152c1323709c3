"""Ctrl-C during training: the first stops the loop after the chunk that is running (so the
checkpoint holds the work up to it), a second stops at once.

Stopping between chunks never unwinds an exception through JAX's tracing or XLA's
compilation: a `KeyboardInterrupt` raised in there can be lost in a callback, or leave the
compiler to crash the interpreter at exit.
"""

import contextlib
import os
import signal
import threading
from collections.abc import Iterator


class StopRequest:
    """Set by the first Ctrl-C; the loop reads `requested` after each chunk."""

    def __init__(self) -> None:
        self.requested = False


@contextlib.contextmanager
def stop_on_ctrl_c(name: str) -> Iterator[StopRequest]:
    """Within the block, the first Ctrl-C sets `requested` and says so on stderr, the second
    raises `KeyboardInterrupt`. Only on the main thread and only where Python's default
    handler is in place (a program with its own SIGINT handler keeps it)."""
    request = StopRequest()
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield request
        return

    def handler(signum, frame):
        if request.requested:
            raise KeyboardInterrupt
        request.requested = True
        # os.write, not print: the signal may arrive in the middle of another write.
        os.write(2, f"\n{name}: stopping after this chunk; Ctrl-C again stops at once.\n".encode())

    signal.signal(signal.SIGINT, handler)
    try:
        yield request
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
