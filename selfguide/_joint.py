"""A trained joint model over `[x, w]`: the network plus what sampling needs to know."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._augment import WeightUnits
from ._schedule import AbstractSchedule
from ._weight_output import (
    AbstractWeightOutput,
    NoiseWeights,
    as_weight_output,
)


class JointModel(eqx.Module):
    """An ε-network over the augmented `[x, w]`, ready for [`sample`][selfguide.sample].

    [`fit`][selfguide.fit] returns one (holding the EMA parameters); build one by hand to
    sample from any network with the documented call signature.

    **Arguments:**

    - `network`: the network, called as `network(z, t, cond, key=None)` on one example.
    - `data_dim`, `weight_dim`, `cond_dim`: the channel split and conditioning size.
    - `units`: maps model weights back to user units (default: identity).
    - `weight_output`: what the network's weight outputs are:
        [`NoiseWeights()`][selfguide.NoiseWeights] (or `"eps"`, the default here: the usual
        convention of a diffusion network) or [`DenoisedWeights()`][selfguide.DenoisedWeights]
        (or `"denoised"`, what [`fit`][selfguide.fit] trains by default). Either way the
        model's `eps` is the noise over all channels.
    """

    network: eqx.Module
    data_dim: int = eqx.field(static=True)
    weight_dim: int = eqx.field(static=True)
    cond_dim: int = eqx.field(static=True)
    units: WeightUnits
    weight_output: AbstractWeightOutput

    def __init__(
        self,
        network: eqx.Module,
        data_dim: int,
        weight_dim: int,
        cond_dim: int = 0,
        units: WeightUnits | None = None,
        weight_output: AbstractWeightOutput | str = "eps",
    ):
        if data_dim < 1 or weight_dim < 1 or cond_dim < 0:
            raise ValueError(
                "JointModel: need data_dim >= 1, weight_dim >= 1, cond_dim >= 0; got "
                f"{data_dim}, {weight_dim}, {cond_dim}."
            )
        self.network = network
        self.data_dim, self.weight_dim, self.cond_dim = data_dim, weight_dim, cond_dim
        self.units = WeightUnits.identity(weight_dim) if units is None else units
        if self.units.scale.shape != (weight_dim,):
            raise ValueError(
                f"JointModel: units.scale must have shape ({weight_dim},), "
                f"got {self.units.scale.shape}."
            )
        self.weight_output = as_weight_output("JointModel", weight_output)

    @property
    def total_dim(self) -> int:
        return self.data_dim + self.weight_dim

    def outputs(
        self, z: Float[Array, " D"], t: Float[Array, ""], cond: Float[Array, " c"] | None
    ) -> tuple[Float[Array, " d"], Float[Array, " K"]]:
        """The network's raw `(data, weight)` outputs for one example (no dropout); uses the
        network's own `split_eps` when it has one, so that differentiating the weight output
        does not touch layers that only produce the data output."""
        split = getattr(self.network, "split_eps", None)
        if split is not None:
            return split(z, t, cond, key=None)
        out = self.network(z, t, cond, key=None)
        return out[: self.data_dim], out[self.data_dim :]

    def eps_and_weights(
        self,
        z: Float[Array, " D"],
        t: Float[Array, ""],
        cond: Float[Array, " c"] | None,
        schedule: AbstractSchedule,
    ) -> tuple[Float[Array, " D"], Float[Array, " K"]]:
        """`(ε, ŵ_0)` for one example: the noise prediction over all channels and the
        model's estimate of the clean weights, `ŵ_0 = (w_t − σ_t ε^w)/α_t` (Tweedie)."""
        alpha, sigma = schedule.alpha_sigma(t)
        eps_x, out_w = self.outputs(z, t, cond)
        eps_w, w0 = self.weight_output.eps_and_w0(out_w, z[self.data_dim :], alpha, sigma)
        return jnp.concatenate([eps_x, eps_w]), w0

    def eps(
        self,
        z: Float[Array, " D"],
        t: Float[Array, ""],
        cond: Float[Array, " c"] | None,
        schedule: AbstractSchedule | None = None,
    ) -> Float[Array, " D"]:
        """The unguided noise prediction for one example (no dropout). A model whose
        weight output is `"denoised"` needs the `schedule` to turn it into noise."""
        if isinstance(self.weight_output, NoiseWeights):  # the outputs are the noise already
            return jnp.concatenate(self.outputs(z, t, cond))
        if schedule is None:
            raise ValueError(
                "JointModel.eps: this model predicts denoised weights; pass the schedule to "
                "turn them into noise."
            )
        return self.eps_and_weights(z, t, cond, schedule)[0]


def as_joint_model(model: eqx.Module, caller: str) -> JointModel:
    """Accept a `JointModel`, or a network that carries `data_dim`/`weight_dim`/`cond_dim`."""
    if isinstance(model, JointModel):
        return model
    dims = [getattr(model, name, None) for name in ("data_dim", "weight_dim", "cond_dim")]
    if any(d is None for d in dims):
        raise TypeError(
            f"{caller}: expected a JointModel (as returned by fit) or a network with "
            f"data_dim, weight_dim and cond_dim attributes; got {type(model).__name__}. "
            "Wrap it: JointModel(network, data_dim=..., weight_dim=..., cond_dim=...)."
        )
    return JointModel(model, *dims)
