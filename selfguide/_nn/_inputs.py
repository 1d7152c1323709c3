"""Shared input handling for the built-in denoisers."""

import jax.numpy as jnp
from jaxtyping import Array, Float


def check_dims(name: str, data_dim: int, weight_dim: int, cond_dim: int) -> None:
    if data_dim < 1 or weight_dim < 1 or cond_dim < 0:
        raise ValueError(
            f"{name}: need data_dim >= 1, weight_dim >= 1 and cond_dim >= 0, got "
            f"data_dim={data_dim}, weight_dim={weight_dim}, cond_dim={cond_dim}."
        )


def join_inputs(
    name: str,
    z: Float[Array, " D"],
    t_emb: Float[Array, " e"],
    cond: Float[Array, " c"] | None,
    total_dim: int,
    cond_dim: int,
) -> Float[Array, " n"]:
    """Concatenate `[z, cond, t_emb]`, checking shapes at trace time."""
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
        return jnp.concatenate([z, t_emb])
    if cond is None:
        raise ValueError(
            f"{name}: the network was built with cond_dim={cond_dim} and needs `cond`; got None."
        )
    if cond.shape != (cond_dim,):
        raise ValueError(
            f"{name}: expected a conditioning vector of shape ({cond_dim},), got {cond.shape}."
        )
    return jnp.concatenate([z, cond, t_emb])


def check_head_at(name: str, weight_head_at: int | None, num_layers: int, first: int) -> None:
    if weight_head_at is not None and not first <= weight_head_at <= num_layers:
        raise ValueError(
            f"{name}: weight_head_at must be None (weights from the last layer) or an integer in "
            f"[{first}, {num_layers}] (the block the weight head branches after), "
            f"got {weight_head_at}."
        )
