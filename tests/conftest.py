"""Shared test setup: JAX's persistent compilation cache, a quicker CPU code generator, and
implicit rank promotion (`x + y` with arrays of different ranks) made an error, as Equinox
and Diffrax test.

Compilation, not running, is most of the suite's time: LLVM's optimisation level 0 compiles
a fifth faster. It changes how fast the generated code runs, not what it computes (XLA's own
graph passes, fusion included, run as usual). Set `XLA_FLAGS` with
`--xla_backend_optimization_level` yourself to test at another level.
"""

import os
from pathlib import Path

if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0"
    ).strip()

import jax  # noqa: E402  (after XLA_FLAGS: the backend reads it when it starts)

_CACHE = Path(os.environ.get("SELFGUIDE_JAX_CACHE", Path(__file__).parent.parent / ".jax_cache"))
jax.config.update("jax_compilation_cache_dir", str(_CACHE))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
jax.config.update("jax_numpy_rank_promotion", "raise")


import signal  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _default_ctrl_c_handler():
    """Every test starts with Python's own Ctrl-C handler, the state a user's program is in:
    training installs its stop-after-the-chunk handler only over that one, so a handler left
    behind by a library in the same test process would change what the Ctrl-C tests see."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
