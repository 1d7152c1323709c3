"""Checks of plain Python arguments (counts, sizes, real numbers), shared by every public call.

Each check names the call and the argument, says what was expected, shows what came and,
where there is one, the fix; it runs before any work is done.
"""

import functools
import math
import numbers
import sys
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array


def check_int(
    caller: str, name: str, value: object, *, minimum: int = 0, hint: str = ""
) -> int:
    """`value` as an `int >= minimum`; `TypeError` for a non-integer (a string, a float, a
    bool), `ValueError` below the minimum."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral,)):
        raise TypeError(
            f"{caller}: `{name}` must be a whole number (int), got {value!r} "
            f"({type(value).__name__}).{' ' + hint if hint else ''}"
        )
    value = int(value)
    if value < minimum:
        raise ValueError(
            f"{caller}: `{name}` must be >= {minimum}, got {value}.{' ' + hint if hint else ''}"
        )
    return value


def check_optional_dim(caller: str, name: str, value: object) -> int:
    """A size that may be absent: `None` means 0 (e.g. no conditioning)."""
    return 0 if value is None else check_int(caller, name, value, minimum=0)


def check_real(
    caller: str,
    name: str,
    value: object,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    allow_inf: bool = False,
    hint: str = "",
) -> float:
    """`value` as a finite real number (or `inf`, if allowed) in `[minimum, maximum]`."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{caller}: `{name}` must be a real number, got {value!r} "
            f"({type(value).__name__}).{' ' + hint if hint else ''}"
        )
    value = float(value)
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise ValueError(
            f"{caller}: `{name}` must be a finite number, got {value}."
            f"{' ' + hint if hint else ''}"
        )
    if minimum is not None and value < minimum:
        raise ValueError(
            f"{caller}: `{name}` must be >= {minimum:g}, got {value:g}."
            f"{' ' + hint if hint else ''}"
        )
    if maximum is not None and value > maximum:
        raise ValueError(
            f"{caller}: `{name}` must be <= {maximum:g}, got {value:g}."
            f"{' ' + hint if hint else ''}"
        )
    return value


def float_array(name: str, value, *, nonnegative: bool, allow_inf: bool = False) -> Array:
    """A float32 array; outside a trace, checked to be a number (not NaN, finite unless
    `allow_inf`) and, if asked, non-negative."""
    if isinstance(value, str) or value is None:
        raise TypeError(f"{name} must be a number, got {value!r}.")
    arr = jnp.asarray(value, dtype=jnp.float32)
    if not isinstance(arr, jax.core.Tracer):
        values = np.asarray(arr)
        if np.any(np.isnan(values)) or (not allow_inf and np.any(np.isinf(values))):
            raise ValueError(
                f"{name} must be a finite number, got {values}; every sample would be NaN."
            )
        if nonnegative and np.any(values < 0):
            raise ValueError(f"{name} must be >= 0, got {values}.")
    return arr


_LIBRARY_FILES = tuple(
    str(Path(module.__file__).resolve().parent)
    for module in (sys.modules[__name__.rsplit(".", 1)[0]], jax, __import__("equinox"))
)


@functools.lru_cache(maxsize=4096)
def _in_library(filename: str) -> bool:
    """Whether code from `filename` is selfguide's, Equinox's or JAX's (resolved once per file:
    the check sits on the per-call path of sampling)."""
    return str(Path(filename).resolve()).startswith(_LIBRARY_FILES)


def warn_caller(message: str, category: type[Warning]) -> None:
    """`warnings.warn`, attributed to the first frame outside selfguide, Equinox and JAX
    (the user's call), however deep inside them the check runs."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and _in_library(frame.f_code.co_filename):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, category, stacklevel=level)
