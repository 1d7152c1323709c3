"""Shared input handling for the built-in denoisers."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._custom_types import PRNGKey


def check_dims(name: str, data_dim: int, weight_dim: int, cond_dim: int) -> None:
    if data_dim < 1 or weight_dim < 1 or cond_dim < 0:
        raise ValueError(
            f"{name}: need data_dim >= 1, weight_dim >= 1 and cond_dim >= 0, got "
            f"data_dim={data_dim}, weight_dim={weight_dim}, cond_dim={cond_dim}."
        )


class InputLayer(eqx.Module):
    """`Linear([z, context])` stored as two blocks, `W_z z + W_c context + b`.

    Identical to one linear layer on the concatenation (and initialised as one), but the
    guidance gradient `∂/∂z` only touches the small `W_z`, not the conditioning and time
    columns.
    """

    z_part: eqx.nn.Linear
    context_part: eqx.nn.Linear

    def __init__(self, z_dim: int, context_dim: int, width: int, *, key: PRNGKey):
        full = eqx.nn.Linear(z_dim + context_dim, width, key=key)
        self.z_part = eqx.nn.Linear(z_dim, width, key=key)
        self.z_part = eqx.tree_at(
            lambda m: (m.weight, m.bias), self.z_part, (full.weight[:, :z_dim], full.bias)
        )
        self.context_part = eqx.nn.Linear(context_dim, width, use_bias=False, key=key)
        self.context_part = eqx.tree_at(
            lambda m: m.weight, self.context_part, full.weight[:, z_dim:]
        )

    @property
    def out_features(self) -> int:
        return self.z_part.out_features

    def __call__(self, z: Float[Array, " D"], context: Float[Array, " e"]) -> Float[Array, " W"]:
        return self.z_part(z) + self.context_part(context)


def join_inputs(
    name: str,
    z: Float[Array, " D"],
    t_emb: Float[Array, " e"],
    cond: Float[Array, " c"] | None,
    total_dim: int,
    cond_dim: int,
) -> Float[Array, " n"]:
    """The context vector `[cond, t_emb]`, checking the shapes of `z` and `cond` at trace time."""
    if z.shape != (total_dim,):
        raise ValueError(
            f"{name}: expected z of shape ({total_dim},) (data + weight channels, one example; "
            f"vmap over a batch), got {z.shape}."
        )
    if cond_dim == 0:
        if cond is not None:
            raise ValueError(
                f"{name}: got a conditioning vector but the network was built with cond_dim=0. "
                "Build it with cond_dim=<size of cond>."
            )
        return t_emb
    if cond is None:
        raise ValueError(
            f"{name}: the network was built with cond_dim={cond_dim} and needs `cond`; got None."
        )
    if cond.shape != (cond_dim,):
        raise ValueError(
            f"{name}: expected a conditioning vector of shape ({cond_dim},), got {cond.shape}."
        )
    return jnp.concatenate([cond, t_emb])


def check_head_at(name: str, weight_head_at: int | None, num_layers: int, first: int) -> None:
    if weight_head_at is not None and not first <= weight_head_at <= num_layers:
        raise ValueError(
            f"{name}: weight_head_at must be None (weights from the last layer) or an integer in "
            f"[{first}, {num_layers}] (the block the weight head branches after), "
            f"got {weight_head_at}."
        )
