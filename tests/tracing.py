"""Count how often JAX traces a jitted function, from its compilation log: a trace means a
new compiled program, so a test that expects none can fail."""

import contextlib
import logging

import jax


class _Collect(logging.Handler):
    def __init__(self, name: str):
        super().__init__(logging.DEBUG)
        self.prefix = f"Finished tracing {name} for jit"
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(self.prefix):
            self.seen.append(message)


@contextlib.contextmanager
def traces(name: str):
    """Within the block, the log lines of each trace of the jitted function `name`."""
    handler = _Collect(name)
    logger = logging.getLogger("jax")
    logger.addHandler(handler)
    try:
        with jax.log_compiles(True):
            yield handler.seen
    finally:
        logger.removeHandler(handler)
