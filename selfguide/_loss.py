"""The ε-prediction loss over data and weight channels (SWG Eq. 17), or with the weight
channels predicted as clean weights."""

import functools

import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float

from ._custom_types import PRNGKey
from ._nn._denoiser import TimeSplitDenoiser
from ._nn._training_layers import training_layers
from ._schedule import AbstractSchedule


@functools.cache
def _has_philox() -> bool:
    try:
        jr.key(0, impl="philox4x32")
    except ValueError:  # a JAX without it
        return False
    return True


def _fast_key(key: PRNGKey) -> PRNGKey:
    """A Philox key derived from `key`, where JAX has Philox: on CPU, threefry's bits are
    computed by a rolled loop of small kernels and cost several times more (the dropout masks
    alone are a few percent of a training step)."""
    if not _has_philox():
        return key
    return jr.wrap_key_data(jr.bits(key, (2,), dtype=jnp.uint32), impl="philox4x32")


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
    philox: bool = True,
) -> tuple[Float[Array, ""], tuple[Float[Array, ""], Float[Array, ""]]]:
    """`E_t,ε Σ_d λ_d (f_θ(α_t z_0 + σ_t ε, t) − target)_d²`, averaged over the batch.

    The target is the noise `ε` on every channel, except that with
    `weight_output="denoised"` the weight outputs are regressed on the clean weights `w_0`
    (so the model's `ŵ_0` is learned with equal care at every noise level).

    With `philox=True` (where JAX has it) the times, noise and dropout masks are drawn from a
    Philox key derived from `key`, several times cheaper on CPU than threefry; pass `False`
    for a batch sharded across devices, which JAX's Philox does not support.

    **Returns:** `(loss, (data_mse, weight_mse))`, the last two per-channel means for logging.
    """
    tkey, nkey, dkey = jr.split(_fast_key(key) if philox else key, 3)
    if getattr(network, "layers_per_example", False):
        network = training_layers(network)
    batch = z0.shape[0]
    shared_times = (
        isinstance(network, TimeSplitDenoiser)
        and schedule.num_steps is not None
        and schedule.num_steps < batch
    )
    if shared_times:
        # The batch has at most T distinct times: run the network's time path once per time.
        k = schedule.training_steps(tkey, (batch,))
        t = k / schedule.num_steps
        grid = jnp.arange(1, schedule.num_steps + 1) / schedule.num_steps
        time_in = jax.vmap(network.time_features)(grid)[k - 1]

        def predict(z, s, c, k):
            return jnp.concatenate(network.split_eps_from_features(z, s, c, key=k))
    else:
        t = time_in = schedule.training_times(tkey, (batch,))

        def predict(z, s, c, k):
            return network(z, s, c, key=k)
    eps = jr.normal(nkey, z0.shape)
    alpha, sigma = jax.vmap(schedule.alpha_sigma)(t)
    zt = alpha[:, None] * z0 + sigma[:, None] * eps
    dropout_keys = jr.split(dkey, batch)
    if cond is None:
        pred = jax.vmap(lambda z, s, k: predict(z, s, None, k))(zt, time_in, dropout_keys)
    else:
        pred = jax.vmap(predict)(zt, time_in, cond, dropout_keys)
    target = eps
    if weight_output == "denoised":
        target = jnp.concatenate([eps[:, :data_dim], z0[:, data_dim:]], axis=1)
    sq = (pred - target) ** 2
    loss = jnp.mean(sq @ loss_weights)
    return loss, (jnp.mean(sq[:, :data_dim]), jnp.mean(sq[:, data_dim:]))
