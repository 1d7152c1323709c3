"""The ε-prediction loss over data and weight channels (SWG Eq. 17), or with the weight
channels predicted as clean weights."""

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
    weight_output: str = "eps",
) -> tuple[Float[Array, ""], tuple[Float[Array, ""], Float[Array, ""]]]:
    """`E_t,ε Σ_d λ_d (f_θ(α_t z_0 + σ_t ε, t) − target)_d²`, averaged over the batch.

    The target is the noise `ε` on every channel, except that with
    `weight_output="denoised"` the weight outputs are regressed on the clean weights `w_0`
    (so the model's `ŵ_0` is learned with equal care at every noise level).

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
    target = eps
    if weight_output == "denoised":
        target = jnp.concatenate([eps[:, :data_dim], z0[:, data_dim:]], axis=1)
    sq = (pred - target) ** 2
    loss = jnp.mean(sq @ loss_weights)
    return loss, (jnp.mean(sq[:, :data_dim]), jnp.mean(sq[:, data_dim:]))
