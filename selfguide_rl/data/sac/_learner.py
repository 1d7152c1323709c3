"""Soft actor-critic's update (Haarnoja et al., 2018, "Soft Actor-Critic Algorithms and
Applications"): twin Q with Polyak targets, a tanh-Gaussian actor, a learned entropy
temperature. One update is a step function for the shared training loop's compiled chunk.

Published settings (the paper's Table 1, which CleanRL and Stable-Baselines3 keep): Adam
3e-4 for all three losses, batch 256, γ 0.99, Polyak 0.005, 256-256 ReLU networks, target
entropy −dim(A), one gradient step per environment step, a replay buffer of 10⁶.
"""

import dataclasses
import functools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import optax
from jaxtyping import Array, Float, Int, PRNGKeyArray, PyTree

from selfguide.settings import check_field

from ..._values import TwinCritic

_LOG_STD_MIN, _LOG_STD_MAX = -5.0, 2.0


@dataclasses.dataclass(frozen=True)
class SACConfig:
    """Settings of soft actor-critic (defaults: the published ones, see the module).

    - `hidden`: hidden widths of the actor and both Q networks (ReLU).
    - `learning_rate`, `batch_size`, `gamma`, `polyak`: as named.
    - `initial_alpha`: the entropy temperature at the start (learned from there).
    - `target_entropy`: `None` for −dim(A).
    - `buffer_size`: transitions the replay buffer keeps (the oldest are overwritten).
    - `random_steps`: environment steps with uniform random actions before learning starts.
    - `updates_per_round`: environment steps collected, then as many updates in one compiled
      chunk (one update per step, as published; the chunk only batches the work).
    - `num_envs`: environments stepped side by side (each policy call acts for all).
    """

    hidden: tuple[int, ...] = (256, 256)
    learning_rate: float = 3e-4
    batch_size: int = 256
    gamma: float = 0.99
    polyak: float = 0.005
    initial_alpha: float = 1.0
    target_entropy: float | None = None
    buffer_size: int = 1_000_000
    random_steps: int = 10_000
    updates_per_round: int = 50
    num_envs: int = 1

    def __post_init__(self):
        for field in dataclasses.fields(self):
            check_field("SACConfig", SACConfig, field.name, getattr(self, field.name))
        for name in ("batch_size", "buffer_size", "updates_per_round", "num_envs"):
            if getattr(self, name) < 1:
                raise ValueError(f"SACConfig: {name} must be >= 1, got {getattr(self, name)}.")
        if self.random_steps < 0:
            raise ValueError(f"SACConfig: random_steps must be >= 0, got {self.random_steps}.")
        if self.updates_per_round % self.num_envs:
            raise ValueError(
                f"SACConfig: updates_per_round ({self.updates_per_round}) must be a multiple "
                f"of num_envs ({self.num_envs}): each round steps every environment equally."
            )
        if not (0 <= self.gamma <= 1 and 0 < self.polyak <= 1 and self.initial_alpha > 0
                and math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ValueError(
                "SACConfig: need 0 <= gamma <= 1, 0 < polyak <= 1, initial_alpha > 0 and a "
                f"positive learning_rate; got {self.gamma}, {self.polyak}, "
                f"{self.initial_alpha}, {self.learning_rate}."
            )


class TanhGaussianActor(eqx.Module):
    """`a = tanh(u)`, `u ~ N(μ(s), σ(s)²)`, actions in `[−1, 1]`; `log σ` clipped to `[−5, 2]`."""

    mlp: eqx.nn.MLP
    act_dim: int = eqx.field(static=True)

    def __init__(self, obs_dim: int, act_dim: int, hidden: tuple[int, ...], *,
                 key: PRNGKeyArray):
        if len(set(hidden)) != 1:
            raise ValueError(f"TanhGaussianActor: one hidden width, got hidden={hidden}.")
        self.mlp = eqx.nn.MLP(obs_dim, 2 * act_dim, hidden[0], len(hidden),
                              activation=jax.nn.relu, key=key)
        self.act_dim = act_dim

    def _mean_log_std(self, s):
        out = self.mlp(s)
        mean, log_std = out[: self.act_dim], out[self.act_dim:]
        return mean, jnp.clip(log_std, _LOG_STD_MIN, _LOG_STD_MAX)

    def sample(self, s: Float[Array, " o"], key: PRNGKeyArray) -> tuple[Array, Array]:
        """`(a, log π(a | s))` for one state, reparametrised."""
        mean, log_std = self._mean_log_std(s)
        eps = jr.normal(key, mean.shape)
        u = mean + jnp.exp(log_std) * eps
        # log N(u) − Σ log(1 − tanh(u)²), the latter as 2 (log 2 − u − softplus(−2u)).
        logp = jnp.sum(-0.5 * eps**2 - log_std - 0.5 * jnp.log(2 * jnp.pi))
        logp = logp - jnp.sum(2.0 * (jnp.log(2.0) - u - jax.nn.softplus(-2.0 * u)))
        return jnp.tanh(u), logp

    def __call__(self, s: Float[Array, " o"]) -> Float[Array, " a"]:
        """The deterministic action `tanh(μ(s))` (evaluation, the saved behaviour policy's
        noise-free form)."""
        return jnp.tanh(self._mean_log_std(s)[0])


class SACState(eqx.Module):
    actor: TanhGaussianActor
    critic: TwinCritic
    target: TwinCritic
    log_alpha: Float[Array, ""]
    actor_opt: PyTree
    critic_opt: PyTree
    alpha_opt: PyTree
    step: Int[Array, ""]


@functools.lru_cache(maxsize=8)
def sac_optimizer(learning_rate: float) -> optax.GradientTransformation:
    return optax.adam(learning_rate)


def init_sac(obs_dim: int, act_dim: int, config: SACConfig, *, key: PRNGKeyArray) -> SACState:
    """Fresh networks, optimiser states and temperature."""
    ka, kc = jr.split(key)
    actor = TanhGaussianActor(obs_dim, act_dim, config.hidden, key=ka)
    critic = TwinCritic(obs_dim, act_dim, config.hidden, key=kc)
    target = jax.tree.map(lambda x: jnp.copy(x) if eqx.is_array(x) else x, critic)
    log_alpha = jnp.asarray(math.log(config.initial_alpha), jnp.float32)
    opt = sac_optimizer(config.learning_rate)
    return SACState(actor, critic, target, log_alpha,
                    opt.init(eqx.filter(actor, eqx.is_inexact_array)),
                    opt.init(eqx.filter(critic, eqx.is_inexact_array)), opt.init(log_alpha),
                    jnp.asarray(0, jnp.int32))


class SACStep(eqx.Module):
    """One SAC update for the training loop's chunk. `data` is the replay buffer
    `(s, a, r, s', terminal, size)` (actions in `[−1, 1]`); a batch is drawn from its first
    `size` rows. Metrics: `(q_loss, actor_loss, alpha, entropy)`."""

    config: SACConfig = eqx.field(static=True)
    act_dim: int = eqx.field(static=True)

    def __call__(self, st: SACState, data, key):
        c = self.config
        opt = sac_optimizer(c.learning_rate)
        s_all, a_all, r_all, s2_all, done_all, size = data
        k_idx, k_next, k_new = jr.split(key, 3)
        idx = jr.randint(k_idx, (c.batch_size,), 0, size)
        s, a, r, s2, done = s_all[idx], a_all[idx], r_all[idx], s2_all[idx], done_all[idx]
        alpha = jnp.exp(st.log_alpha)
        target_entropy = -float(self.act_dim) if c.target_entropy is None else c.target_entropy

        # Critic: soft Bellman target from the target critic and a fresh next action.
        a2, logp2 = jax.vmap(st.actor.sample)(s2, jr.split(k_next, c.batch_size))
        q2 = jnp.min(jax.vmap(st.target)(s2, a2), axis=1) - alpha * logp2
        y = jax.lax.stop_gradient(r + c.gamma * (1.0 - done) * q2)

        def q_loss(critic):
            q = jax.vmap(critic)(s, a)
            return jnp.mean(jnp.sum((q - y[:, None]) ** 2, axis=1))

        ql, qg = eqx.filter_value_and_grad(q_loss)(st.critic)
        cu, critic_opt = opt.update(qg, st.critic_opt, eqx.filter(st.critic, eqx.is_inexact_array))
        critic = eqx.apply_updates(st.critic, cu)

        # Actor: maximise min Q − α log π with the updated critic.
        keys = jr.split(k_new, c.batch_size)

        def actor_loss(actor):
            a_new, logp = jax.vmap(actor.sample)(s, keys)
            q = jnp.min(jax.vmap(critic)(s, a_new), axis=1)
            return jnp.mean(alpha * logp - q), logp

        (al, logp), ag = eqx.filter_value_and_grad(actor_loss, has_aux=True)(st.actor)
        au, actor_opt = opt.update(ag, st.actor_opt, eqx.filter(st.actor, eqx.is_inexact_array))
        actor = eqx.apply_updates(st.actor, au)

        # Temperature: towards the target entropy.
        logp = jax.lax.stop_gradient(logp)

        def alpha_loss(log_alpha):
            return -jnp.mean(log_alpha * (logp + target_entropy))

        alg = jax.grad(alpha_loss)(st.log_alpha)
        alu, alpha_opt = opt.update(alg, st.alpha_opt, st.log_alpha)
        log_alpha = st.log_alpha + alu

        target = jax.tree.map(
            lambda t, x: t + c.polyak * (x - t) if eqx.is_inexact_array(t) else t,
            st.target, critic,
        )
        new = SACState(actor, critic, target, log_alpha, actor_opt, critic_opt, alpha_opt,
                       st.step)
        return new, jnp.stack([ql, al, jnp.exp(log_alpha), -jnp.mean(logp)])
