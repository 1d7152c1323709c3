"""A trained joint model over `[x, w]`: the network plus what sampling needs to know."""

import equinox as eqx
from jaxtyping import Array, Float

from ._augment import WeightUnits


class JointModel(eqx.Module):
    """An ε-network over the augmented `[x, w]`, ready for [`sample`][selfguide.sample].

    [`fit`][selfguide.fit] returns one (holding the EMA parameters); build one by hand to
    sample from any network with the documented call signature.

    **Arguments:**

    - `network`: the ε-network, called as `network(z, t, cond, key=None)` on one example.
    - `data_dim`, `weight_dim`, `cond_dim`: the channel split and conditioning size.
    - `units`: maps model weights back to user units (default: identity).
    """

    network: eqx.Module
    data_dim: int = eqx.field(static=True)
    weight_dim: int = eqx.field(static=True)
    cond_dim: int = eqx.field(static=True)
    units: WeightUnits

    def __init__(
        self,
        network: eqx.Module,
        data_dim: int,
        weight_dim: int,
        cond_dim: int = 0,
        units: WeightUnits | None = None,
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

    @property
    def total_dim(self) -> int:
        return self.data_dim + self.weight_dim

    def eps(
        self, z: Float[Array, " D"], t: Float[Array, ""], cond: Float[Array, " c"] | None
    ) -> Float[Array, " D"]:
        """The unguided noise prediction for one example (no dropout)."""
        return self.network(z, t, cond, key=None)

    def split_eps(
        self, z: Float[Array, " D"], t: Float[Array, ""], cond: Float[Array, " c"] | None
    ) -> tuple[Float[Array, " d"], Float[Array, " K"]]:
        """`(ε_x, ε_w)` for one example; uses the network's own `split_eps` when it has one,
        so that differentiating `ε_w` does not touch layers that only produce `ε_x`."""
        split = getattr(self.network, "split_eps", None)
        if split is not None:
            return split(z, t, cond, key=None)
        eps = self.network(z, t, cond, key=None)
        return eps[: self.data_dim], eps[self.data_dim :]


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
