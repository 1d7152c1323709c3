"""The external-guidance baseline: CEP (Lu et al., 2023), exact energy guidance with a second,
separately trained time-dependent energy network.

SWG reads `log E[w | z_t]` off its own weight channel. CEP learns the same quantity with a
second network `f_φ(x_t, t, c)` trained by *contrastive energy prediction*: for a group of `K`
draws `x_0^(1..K)` of `q` with energies `e^(k)`, noised to one time `t`, minimise the
cross-entropy between the softmax of `β e^(k)` over the group and the softmax of
`f_φ(x_t^(k), t, c)`. Its optimum is `f_φ = log E_q[exp(β e(x_0)) | x_t] + const(t)`, so
`ε̃ = ε_q − σ_t ∇_x f_φ` samples `p_β ∝ q exp(β e)`, exactly like SWG at `ρ = 1`.
"""

import time
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray, PyTree

from selfguide import AbstractGuidance, AbstractSchedule, FourierTimeEmbedding
from selfguide.checks import float_array
from selfguide.training import default_optimizer, run_training


class EnergyNetwork(eqx.Module):
    """A time-dependent energy `f_φ(x_t, t, c) -> scalar` for one example: an MLP on
    `[x_t, c, time-embedding]` (the guidance network of CEP).

    **Arguments:**

    - `data_dim`, `cond_dim`: sizes of `x` and of the conditioning (here `β / β_max`).
    - `width` (256), `depth` (3): hidden layers (SiLU).
    - `key`: initialisation key.
    """

    data_dim: int = eqx.field(static=True)
    cond_dim: int = eqx.field(static=True)
    time_embedding: FourierTimeEmbedding
    mlp: eqx.nn.MLP

    def __init__(
        self,
        data_dim: int,
        cond_dim: int = 1,
        *,
        width: int = 256,
        depth: int = 3,
        key: PRNGKeyArray,
    ):
        if data_dim < 1 or cond_dim < 0 or width < 1 or depth < 1:
            raise ValueError(
                "EnergyNetwork: need data_dim >= 1, cond_dim >= 0, width >= 1 and depth >= 1, "
                f"got {data_dim}, {cond_dim}, {width}, {depth}."
            )
        tkey, mkey = jr.split(key)
        self.data_dim, self.cond_dim = data_dim, cond_dim
        self.time_embedding = FourierTimeEmbedding(32, 64, 64, key=tkey)
        self.mlp = eqx.nn.MLP(
            data_dim + cond_dim + 64, "scalar", width, depth, activation=jax.nn.silu, key=mkey
        )

    def __call__(
        self, x: Float[Array, " d"], t: Float[Array, ""], cond: Float[Array, " c"] | None = None
    ) -> Float[Array, ""]:
        parts = [x, self.time_embedding(t)]
        if self.cond_dim:
            parts.insert(1, cond)
        return self.mlp(jnp.concatenate(parts))


def cep_loss(
    net: Callable,
    schedule: AbstractSchedule,
    x0: Float[Array, "B K d"],
    e: Float[Array, "B K"],
    beta: Float[Array, " B"],
    cond: Float[Array, "B c"],
    *,
    key: PRNGKeyArray,
) -> Float[Array, ""]:
    """CEP's contrastive loss over `B` groups of `K` support draws (one `t` per group)."""
    tkey, nkey = jr.split(key)
    t = schedule.training_times(tkey, (x0.shape[0],))
    alpha, sigma = jax.vmap(schedule.alpha_sigma)(t)
    xt = alpha[:, None, None] * x0 + sigma[:, None, None] * jr.normal(nkey, x0.shape)
    f = jax.vmap(lambda xg, tg, cg: jax.vmap(lambda xi: net(xi, tg, cg))(xg))(xt, t, cond)
    labels = jax.nn.softmax(beta[:, None] * e, axis=-1)
    return -jnp.mean(jnp.sum(labels * jax.nn.log_softmax(f, axis=-1), axis=-1))


class CEPState(eqx.Module):
    """The energy network, its optimiser state and the step count."""

    network: "EnergyNetwork"
    opt_state: PyTree
    step: Int[Array, ""]


class CEPStep(eqx.Module):
    """One contrastive step for `selfguide.training.run_training`: `groups` groups of
    `support` draws, `β ~ U[0, β_max]` per group. `data` is `(x, e)`."""

    schedule: AbstractSchedule
    optimizer: optax.GradientTransformation = eqx.field(static=True)
    groups: int = eqx.field(static=True)
    support: int = eqx.field(static=True)
    beta_max: float = eqx.field(static=True)

    def __call__(self, state: CEPState, data, key):
        x, e = data
        params, rest = eqx.partition(state.network, eqx.is_inexact_array)
        kb, kbeta, kl = jr.split(key, 3)
        idx = jr.randint(kb, (self.groups, self.support), 0, x.shape[0])
        beta = jr.uniform(kbeta, (self.groups,), maxval=self.beta_max)
        loss, grads = eqx.filter_value_and_grad(
            lambda p: cep_loss(
                eqx.combine(p, rest),
                self.schedule,
                x[idx],
                e[idx],
                beta,
                (beta / self.beta_max)[:, None],
                key=kl,
            )
        )(params)
        updates, opt_state = self.optimizer.update(grads, state.opt_state, params)
        network = eqx.combine(optax.apply_updates(params, updates), rest)
        return CEPState(network, opt_state, state.step), loss[None]


def train_cep(
    net: EnergyNetwork,
    x: Float[ArrayLike, "N d"],
    e: Float[ArrayLike, " N"],
    *,
    schedule: AbstractSchedule,
    steps: int,
    beta_max: float,
    key: PRNGKeyArray,
    groups: int = 64,
    support: int = 32,
    learning_rate: float = 3e-4,
    steps_per_chunk: int = 500,
    callback: Callable[[int, float], None] | None = None,
    progress: bool = False,
) -> tuple[EnergyNetwork, float]:
    """Train the energy network with CEP's contrastive loss, `β ~ U[0, β_max]` per group,
    on the library's training loop.

    The network is conditioned on `β / β_max`. Returns `(network, wall seconds)`.
    `callback(steps_done, mean_loss)` is called after each chunk; `progress` draws a bar.
    """
    if steps < 0 or groups < 1 or support < 2 or beta_max <= 0:
        raise ValueError(
            "train_cep: need steps >= 0, groups >= 1, support >= 2 and beta_max > 0, got "
            f"{steps}, {groups}, {support}, {beta_max}."
        )
    optimizer = default_optimizer(steps, learning_rate)
    state = CEPState(
        net, optimizer.init(eqx.filter(net, eqx.is_inexact_array)), jnp.asarray(0, jnp.int32)
    )
    data = (jnp.asarray(x, jnp.float32), jnp.asarray(e, jnp.float32))
    step = CEPStep(schedule, optimizer, groups, support, float(beta_max))
    start = time.perf_counter()
    after = None if callback is None else (lambda done, means: callback(done, float(means[0])))
    state, _ = run_training(
        step, state, data, key=key, steps=steps, metrics=("loss",), name="cep",
        steps_per_chunk=steps_per_chunk, progress=progress, after_chunk=after,
    )
    return state.network, time.perf_counter() - start


class CEPGuidance(AbstractGuidance):
    """External energy guidance: `ε̃ = ε_q − ρ σ_t ∇_x f_φ(x_t, t, c)` on the data channels.

    `ε_q` is the joint model's own (unguided) noise prediction, so with an SWG model the
    q-model is the same network with guidance off; the weight channel is left unguided.

    **Arguments:**

    - `energy`: `energy(x, t, cond) -> scalar`, e.g. a trained
        [`EnergyNetwork`][selfguide.toys.EnergyNetwork] or an exact `log E[exp(β e) | x_t]`.
    - `scale`: `ρ` (1 = exact guidance).
    """

    energy: Callable
    scale: Float[Array, ""]

    def __init__(self, energy: Callable, scale: float | Float[ArrayLike, ""] = 1.0):
        self.energy = energy
        self.scale = float_array("CEPGuidance: scale", scale, nonnegative=True)

    def eps(self, model, schedule, z, t, cond):
        eps = model.eps(z, t, cond, schedule)
        d = model.data_dim
        grad = jax.grad(lambda x: self.energy(x, t, cond))(z[:d])
        grad = jnp.where(jnp.isfinite(grad), grad, 0.0)
        _, sigma = schedule.alpha_sigma(t)
        return eps.at[:d].add(-self.scale * sigma * grad)


def num_params(module) -> int:
    """The number of trainable scalars in a module."""
    leaves = jax.tree.leaves(eqx.filter(module, eqx.is_inexact_array))
    return int(sum(np.size(leaf) for leaf in leaves))
