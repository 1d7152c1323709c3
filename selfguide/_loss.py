"""The ε-prediction loss over data and weight channels (SWG Eq. 17)."""

import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float

from ._custom_types import PRNGKey
from ._schedule import AbstractSchedule


def diffusion_loss(
    network,
    schedule: AbstractSchedule,
    z0: Float[Array, "B D"],
    cond: Float[Array, "B c"] | None,
    loss_weights: Float[Array, " D"],
    data_dim: int,
    *,
    key: PRNGKey,
) -> tuple[Float[Array, ""], tuple[Float[Array, ""], Float[Array, ""]]]:
    """`E_t,ε Σ_d λ_d (ε_θ(α_t z_0 + σ_t ε, t) − ε)_d²`, averaged over the batch.

    **Returns:** `(loss, (data_mse, weight_mse))`, the last two per-channel means for logging.
    """
    tkey, nkey, dkey = jr.split(key, 3)
    batch = z0.shape[0]
    t = schedule.training_times(tkey, (batch,))
    eps = jr.normal(nkey, z0.shape)
    alpha, sigma = jax.vmap(schedule.alpha_sigma)(t)
    zt = alpha[:, None] * z0 + sigma[:, None] * eps
    dropout_keys = jr.split(dkey, batch)
    if cond is None:
        pred = jax.vmap(lambda z, s, k: network(z, s, None, key=k))(zt, t, dropout_keys)
    else:
        pred = jax.vmap(lambda z, s, c, k: network(z, s, c, key=k))(zt, t, cond, dropout_keys)
    sq = (pred - eps) ** 2
    loss = jnp.mean(sq @ loss_weights)
    return loss, (jnp.mean(sq[:, :data_dim]), jnp.mean(sq[:, data_dim:]))
