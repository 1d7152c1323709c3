"""Shared test setup: JAX's persistent compilation cache, and implicit rank promotion
(`x + y` with arrays of different ranks) made an error, as Equinox and Diffrax test."""

import os
from pathlib import Path

import jax

_CACHE = Path(os.environ.get("SELFGUIDE_JAX_CACHE", Path(__file__).parent.parent / ".jax_cache"))
jax.config.update("jax_compilation_cache_dir", str(_CACHE))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
jax.config.update("jax_numpy_rank_promotion", "raise")
