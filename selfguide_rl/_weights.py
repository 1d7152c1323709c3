"""Weights from advantages (SWG-MATH §4): what self-weighted guidance tilts the behaviour by.

With `A = min(Q1, Q2)_target(s, a) − V(s)`:

| kind | formula |
|---|---|
| `"expectile"` | `τ` if `A > 0` else `1 − τ` |
| `"smooth_expectile"` | `s = sigmoid(3 A)`, `s τ + (1 − s)(1 − τ)` |
| `"exponential"` | `clip(exp(β A), 1e-3, w_max)` |
| `"linex"` | `τ |exp(τ A) − 1| / |A|` (`τ²` at `A = 0`, its limit) |

Weights are computed once, after value learning, and attached to the actions with
`selfguide.augment(actions, w, rescale=True)`.
"""

from typing import Literal

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

WeightKind = Literal["expectile", "smooth_expectile", "exponential", "linex"]
WEIGHT_KINDS: tuple[str, ...] = ("expectile", "smooth_expectile", "exponential", "linex")


def expectile_weight(adv: Float[ArrayLike, "*b"], tau: float) -> Float[Array, "*b"]:
    """`τ` where `A > 0`, else `1 − τ` (IDQL's implicit policy for the expectile loss)."""
    adv = jnp.asarray(adv, dtype=jnp.float32)
    return jnp.where(adv > 0, tau, 1.0 - tau)


def smooth_expectile_weight(
    adv: Float[ArrayLike, "*b"], tau: float, sharpness: float = 3.0
) -> Float[Array, "*b"]:
    """`s τ + (1 − s)(1 − τ)` with `s = sigmoid(3 A)` (paper Eq. 21)."""
    s = jax.nn.sigmoid(sharpness * jnp.asarray(adv, dtype=jnp.float32))
    return s * tau + (1.0 - s) * (1.0 - tau)


def exponential_weight(
    adv: Float[ArrayLike, "*b"], beta: float = 3.0, w_max: float = 100.0, w_min: float = 1e-3
) -> Float[Array, "*b"]:
    """`clip(exp(β A), w_min, w_max)` (IQL/AWR's advantage weights)."""
    return jnp.clip(jnp.exp(beta * jnp.asarray(adv, dtype=jnp.float32)), w_min, w_max)


def linex_weight(adv: Float[ArrayLike, "*b"], tau: float) -> Float[Array, "*b"]:
    """`τ |exp(τ A) − 1| / |A|`, the implicit policy of the linex value loss (IDQL Eq. 22).

    At `A = 0` the ratio is replaced by its limit `τ²`.
    """
    adv = jnp.asarray(adv, dtype=jnp.float32)
    small = jnp.abs(adv) < 1e-6
    safe = jnp.where(small, 1.0, adv)
    ratio = tau * jnp.abs(jnp.expm1(jnp.minimum(tau * safe, 30.0))) / jnp.abs(safe)
    return jnp.where(small, tau**2, ratio)


def compute_weights(
    adv: Float[ArrayLike, "*b"],
    kind: str,
    *,
    tau: float = 0.7,
    beta: float = 3.0,
    w_max: float = 100.0,
) -> Float[Array, "*b"]:
    """Weights from advantages by name (see the module table).

    **Arguments:**

    - `adv`: advantages `A(s, a)`.
    - `kind`: `"expectile"`, `"smooth_expectile"`, `"exponential"` or `"linex"`.
    - `tau`: the expectile (or linex rate) the values were learned with.
    - `beta`, `w_max`: temperature and cap of the exponential weight.

    **Returns:** strictly positive weights of the same shape.
    """
    if kind == "expectile":
        return expectile_weight(adv, tau)
    if kind == "smooth_expectile":
        return smooth_expectile_weight(adv, tau)
    if kind == "exponential":
        return exponential_weight(adv, beta, w_max)
    if kind == "linex":
        return linex_weight(adv, tau)
    raise ValueError(
        f"compute_weights: unknown weight kind {kind!r}; expected one of {WEIGHT_KINDS}."
    )
