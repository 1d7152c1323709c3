"""Weights from advantages (SWG-MATH §4): what self-weighted guidance tilts the behaviour by.

With `A = min(Q1, Q2)_target(s, a) − V(s)`:

| weighting | name | formula |
|---|---|---|
| `Expectile(τ)` | `"expectile"` | `τ` if `A > 0` else `1 − τ` |
| `SmoothExpectile(τ)` | `"smooth_expectile"` | `s = sigmoid(3 A)`, `s τ + (1 − s)(1 − τ)` |
| `Exponential(β, w_max)` | `"exponential"` | `clip(exp(β A), 1e-3, w_max)` |
| `Linex(τ)` | `"linex"` | `τ |exp(τ A) − 1| / |A|` (`τ²` at `A = 0`, its limit) |

Weights are computed once, after value learning, and attached to the actions with
`selfguide.augment(actions, w, rescale=True)`.
"""

import abc
import dataclasses
from typing import ClassVar, Literal

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

WeightKind = Literal["expectile", "smooth_expectile", "exponential", "linex"]
WEIGHT_KINDS: tuple[WeightKind, ...] = ("expectile", "smooth_expectile", "exponential", "linex")


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


class AbstractWeighting(abc.ABC):
    """A weight from an advantage: `weighting(adv) -> w`, strictly positive, same shape.

    `name` is its name in presets and config files.
    """

    name: ClassVar[str]

    @abc.abstractmethod
    def __call__(self, adv: Float[ArrayLike, "*b"]) -> Float[Array, "*b"]:
        """The weights of the advantages `adv`."""


@dataclasses.dataclass(frozen=True)
class Expectile(AbstractWeighting):
    """`τ` where `A > 0`, else `1 − τ` (IDQL's implicit policy for the expectile loss).

    **Arguments:**

    - `tau`: the expectile the values were learned with.
    """

    name: ClassVar[str] = "expectile"
    tau: float = 0.7

    def __call__(self, adv):
        return expectile_weight(adv, self.tau)


@dataclasses.dataclass(frozen=True)
class SmoothExpectile(AbstractWeighting):
    """`s τ + (1 − s)(1 − τ)` with `s = sigmoid(sharpness · A)` (paper Eq. 21).

    **Arguments:**

    - `tau`: the expectile the values were learned with.
    - `sharpness`: the slope of the sigmoid (3 in the paper).
    """

    name: ClassVar[str] = "smooth_expectile"
    tau: float = 0.7
    sharpness: float = 3.0

    def __call__(self, adv):
        return smooth_expectile_weight(adv, self.tau, self.sharpness)


@dataclasses.dataclass(frozen=True)
class Exponential(AbstractWeighting):
    """`clip(exp(β A), w_min, w_max)` (IQL/AWR's advantage weights).

    **Arguments:**

    - `beta`: the inverse temperature `β`.
    - `w_max`, `w_min`: the clip.
    """

    name: ClassVar[str] = "exponential"
    beta: float = 3.0
    w_max: float = 100.0
    w_min: float = 1e-3

    def __call__(self, adv):
        return exponential_weight(adv, self.beta, self.w_max, self.w_min)


@dataclasses.dataclass(frozen=True)
class Linex(AbstractWeighting):
    """`τ |exp(τ A) − 1| / |A|`, the implicit policy of the linex value loss (IDQL Eq. 22).

    **Arguments:**

    - `tau`: the linex rate the values were learned with.
    """

    name: ClassVar[str] = "linex"
    tau: float = 0.7

    def __call__(self, adv):
        return linex_weight(adv, self.tau)


def weighting_from_name(
    caller: str, kind: str, *, tau: float = 0.7, beta: float = 3.0, w_max: float = 100.0
) -> AbstractWeighting:
    """The weighting called `kind` with the settings it takes from `tau`, `beta`, `w_max`."""
    if kind == "expectile":
        return Expectile(tau)
    if kind == "smooth_expectile":
        return SmoothExpectile(tau)
    if kind == "exponential":
        return Exponential(beta, w_max)
    if kind == "linex":
        return Linex(tau)
    raise ValueError(f"{caller}: unknown weight kind {kind!r}; expected one of {WEIGHT_KINDS}.")


def compute_weights(
    adv: Float[ArrayLike, "*b"],
    kind: AbstractWeighting | str,
    *,
    tau: float | None = None,
    beta: float | None = None,
    w_max: float | None = None,
) -> Float[Array, "*b"]:
    """Weights from advantages.

    **Arguments:**

    - `adv`: advantages `A(s, a)`.
    - `kind`: a weighting ([`Expectile(tau)`][selfguide_rl.Expectile],
      [`SmoothExpectile(tau)`][selfguide_rl.SmoothExpectile],
      [`Exponential(beta, w_max)`][selfguide_rl.Exponential],
      [`Linex(tau)`][selfguide_rl.Linex]), or its name (`"expectile"`,
      `"smooth_expectile"`, `"exponential"`, `"linex"`) with its settings from the
      keywords below.
    - `tau`: for a name, the expectile (or linex rate) the values were learned with (0.7).
    - `beta`, `w_max`: for a name, the temperature and cap of the exponential weight (3, 100).

    **Returns:** strictly positive weights of the same shape.

    **Example:**

    ```python
    w = compute_weights(adv, Expectile(0.7))  # the same as Expectile(0.7)(adv)
    ```
    """
    if isinstance(kind, AbstractWeighting):
        if tau is not None or beta is not None or w_max is not None:
            raise ValueError(
                "compute_weights: tau, beta and w_max are settings of the weighting; pass them "
                f"to it (e.g. Expectile(tau), Exponential(beta, w_max)), not next to {kind!r}."
            )
        return kind(adv)
    settings = {"tau": tau, "beta": beta, "w_max": w_max}
    return weighting_from_name(
        "compute_weights", kind, **{k: v for k, v in settings.items() if v is not None}
    )(adv)
