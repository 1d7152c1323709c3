"""Augmentation: append the weight channel(s) `w(x)` to the data, `z = [x, w]`."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float


class WeightUnits(eqx.Module):
    """The map between the user's weight units and the model's: `w_model = w_user / scale`.

    Self-weighted guidance takes `∇ log ŵ`, which a positive rescaling leaves unchanged, so the
    map only matters for clipping and for reporting sampled weights in the user's units.
    """

    scale: Float[Array, " K"]

    def to_model(self, w: Float[ArrayLike, "*batch K"]) -> Float[Array, "*batch K"]:
        w = jnp.asarray(w)
        return w / jnp.broadcast_to(self.scale, w.shape)

    def to_user(self, w: Float[ArrayLike, "*batch K"]) -> Float[Array, "*batch K"]:
        w = jnp.asarray(w)
        return w * jnp.broadcast_to(self.scale, w.shape)

    @classmethod
    def identity(cls, weight_dim: int) -> "WeightUnits":
        return cls(jnp.ones((weight_dim,)))


class AugmentedData(eqx.Module):
    """Data and weights side by side, ready for [`fit`][selfguide.fit].

    **Attributes:**

    - `z`: the augmented array `[x, w_model]`, shape `(N, data_dim + weight_dim)`.
    - `data_dim`, `weight_dim`: the split of the last axis.
    - `units`: the [`WeightUnits`][selfguide.WeightUnits] that map model weights back.
    """

    z: Float[Array, "N D"]
    data_dim: int = eqx.field(static=True)
    weight_dim: int = eqx.field(static=True)
    units: WeightUnits

    @property
    def x(self) -> Float[Array, "N d"]:
        return self.z[:, : self.data_dim]

    @property
    def w(self) -> Float[Array, "N K"]:
        """Weights in the user's units."""
        return self.units.to_user(self.z[:, self.data_dim :])

    def __len__(self) -> int:
        return self.z.shape[0]


def _as_numpy(name: str, value: ArrayLike) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"augment: `{name}` must be a numeric array, got {type(value)}.") from err


def augment(
    x: ArrayLike | list,
    w: ArrayLike | list,
    *,
    rescale: bool = False,
    probabilities: bool = False,
) -> AugmentedData:
    """Build the augmented data `z = [x, w(x)]` that SWG trains one diffusion model on.

    **Arguments:**

    - `x`: data, shape `(N, d)`.
    - `w`: strictly positive, finite weights, shape `(N,)` for one channel or `(N, K)`.
    - `rescale`: divide each weight channel by its maximum so it lies in `(0, 1]`, as the
        reference settings assume (they clip the denoised weight to `[1e-4, 1]`). The scale is
        remembered, and sampled weights are reported in the original units.
    - `probabilities`: the `K ≥ 2` channels are class probabilities `p(y | x)`; each row
        must sum to one.

    **Returns:** an [`AugmentedData`][selfguide.AugmentedData].

    **Raises:** `ValueError` on wrong ranks, mismatched lengths, non-finite values,
    non-positive weights or (with `probabilities`) rows that do not sum to one.
    """
    x_np, w_np = _as_numpy("x", x), _as_numpy("w", w)
    if x_np.ndim != 2:
        raise ValueError(
            f"augment: `x` must have shape (N, d), got shape {x_np.shape}. "
            "For 1-D data use x[:, None]."
        )
    if w_np.ndim == 1:
        w_np = w_np[:, None]
    if w_np.ndim != 2:
        raise ValueError(f"augment: `w` must have shape (N,) or (N, K), got shape {np.shape(w)}.")
    if w_np.shape[0] != x_np.shape[0]:
        raise ValueError(
            f"augment: `x` and `w` must have the same length, got {x_np.shape[0]} data points "
            f"and {w_np.shape[0]} weights. Compute one weight (row) per data point."
        )
    if x_np.shape[0] == 0:
        raise ValueError("augment: got an empty dataset (N = 0).")
    if not np.all(np.isfinite(x_np)):
        bad = int(np.sum(~np.isfinite(x_np).all(axis=1)))
        raise ValueError(f"augment: `x` has non-finite values in {bad} rows; drop or repair them.")
    if not np.all(np.isfinite(w_np)):
        bad = int(np.sum(~np.isfinite(w_np).all(axis=1)))
        raise ValueError(f"augment: `w` has non-finite values in {bad} rows; drop or repair them.")
    if np.any(w_np <= 0):
        bad = int(np.sum((w_np <= 0).any(axis=1)))
        raise ValueError(
            f"augment: weights must be strictly positive (guidance takes log w), but {bad} rows "
            f"have w <= 0 (min {w_np.min():.3g}). Floor them, e.g. np.maximum(w, 1e-6)."
        )
    if probabilities:
        if w_np.shape[1] < 2:
            raise ValueError(
                "augment(probabilities=True): need K >= 2 class-probability channels, "
                f"got K = {w_np.shape[1]}."
            )
        sums = w_np.sum(axis=1)
        worst = float(np.max(np.abs(sums - 1)))
        if worst > 1e-3:
            raise ValueError(
                "augment(probabilities=True): each row of `w` must sum to 1 (p(y | x) over "
                f"classes), but a row sums to {sums[np.argmax(np.abs(sums - 1))]:.4f}. "
                "Normalise with w / w.sum(axis=1, keepdims=True) or a softmax."
            )
    scale = w_np.max(axis=0) if rescale else np.ones(w_np.shape[1])
    units = WeightUnits(jnp.asarray(scale, dtype=jnp.float32))
    z = jnp.asarray(np.concatenate([x_np, w_np / scale], axis=1), dtype=jnp.float32)
    return AugmentedData(z, x_np.shape[1], w_np.shape[1], units)
