"""The ε-prediction loss over data and weight channels (SWG Eq. 17), or with the weight
channels predicted as clean weights."""

import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float

from ._custom_types import PRNGKey
from ._nn._denoiser import AbstractDenoiser
from ._schedule import AbstractSchedule
from ._weight_output import AbstractWeightOutput, as_weight_output


def diffusion_loss(
    network,
    schedule: AbstractSchedule,
    z0: Float[Array, "B D"],
    cond: Float[Array, "B c"] | None,
    loss_weights: Float[Array, " D"],
    data_dim: int,
    *,
    key: PRNGKey,
    weight_output: AbstractWeightOutput | str = "eps",
    platform: str | None = None,
) -> tuple[Float[Array, ""], tuple[Float[Array, ""], Float[Array, ""]]]:
    """`E_t,ε Σ_d λ_d ℓ_d(f_θ(α_t z_0 + σ_t ε, t))`, averaged over the batch.

    On the data channels `ℓ` is the squared error to the noise `ε`; on the weight channels it
    is what `weight_output` says: the squared error to the noise
    ([`NoiseWeights`][selfguide.NoiseWeights], `"eps"`) or to the clean weights `w_0`
    ([`DenoisedWeights`][selfguide.DenoisedWeights], `"denoised"`: the model's `ŵ_0` is then
    learned with equal care at every noise level), or a divergence of `exp(f)` from `w_0`
    ([`LogWeights`][selfguide.LogWeights], `"log"`).

    The times, noise and dropout masks are drawn from `key` (training passes a Philox key
    where it can: cheaper on CPU). `platform` (`"cpu"`, `"gpu"`, ...; `None`: none in
    particular) is handed to the network's `training_form`, its faster layers for that
    platform; a network that offers a `time_split()` has its time path run once per
    distinct time of a discrete schedule.

    **Returns:** `(loss, (data_mse, weight_loss))`, the last two per-channel means for
    logging (the weight channels' squared error, or their divergence for `"log"`).
    """
    tkey, nkey, dkey = jr.split(key, 3)
    split = None
    if isinstance(network, AbstractDenoiser):
        if platform is not None:
            network = network.training_form(platform)
        split = network.time_split()
    batch = z0.shape[0]
    if split is not None and schedule.num_steps is not None and schedule.num_steps < batch:
        # The batch has at most T distinct times: run the network's time path once per time.
        k = schedule.training_steps(tkey, (batch,))
        t = k / schedule.num_steps
        grid = jnp.arange(1, schedule.num_steps + 1) / schedule.num_steps
        time_in = jax.vmap(split.features)(grid)[k - 1]

        def predict(z, s, c, k):
            return jnp.concatenate(split.split_eps(z, s, c, key=k))
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
    weight_error = as_weight_output("diffusion_loss", weight_output).error(
        pred[:, data_dim:], eps[:, data_dim:], z0[:, data_dim:]
    )
    data_error = (pred[:, :data_dim] - eps[:, :data_dim]) ** 2
    loss = jnp.mean(jnp.concatenate([data_error, weight_error], axis=1) @ loss_weights)
    return loss, (jnp.mean(data_error), jnp.mean(weight_error))
