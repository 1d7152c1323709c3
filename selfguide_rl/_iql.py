"""IQL's policy extraction (Kostrikov et al., 2022): a Gaussian actor fitted by
advantage-weighted regression to the dataset's actions, on the learned values.

The loss of a batch is `−mean(min(exp(β A(s, a)), 100) · log π(a | s))`, `A = Q − V` from
the same value stage that SWG's weights come from. The actor is IQL's: an MLP (ReLU,
256-256) gives the mean through `tanh`, a state-independent log standard deviation (clipped
to `[−5, 2]`) the spread; Adam with cosine decay; evaluation acts with the mean. `β` per
task family is the IQL paper's (its Appendix B): 3 for locomotion, 10 for AntMaze, 0.5 for
Kitchen and Adroit; maze2d, absent from the paper, takes the locomotion value.

The advantages are computed once from the finished values (IQL trains the actor alongside
the critic; extracting it afterwards from the same final critic is the two-stage form of
the same objective, and gives every method the same critic).
"""

import dataclasses
import functools
import math
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import optax
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray, PyTree

from selfguide import CheckpointError
from selfguide.checkpoint import read_checkpoint, restore_segment, tree_fingerprint
from selfguide.settings import check_field
from selfguide.training import Checkpointing, resume_state, run_training, save_state

from .data import Transitions

_LOG_STD_MIN, _LOG_STD_MAX = -5.0, 2.0


@dataclasses.dataclass(frozen=True)
class ActorConfig:
    """Settings of IQL's actor (defaults: the IQL paper's MuJoCo settings).

    - `beta`: the inverse temperature `β` of the weights `exp(β A)`.
    - `max_weight`: the clip of `exp(β A)` (IQL: 100).
    - `hidden`: hidden widths of the actor MLP (ReLU).
    - `learning_rate`: Adam's, decayed to 0 over `steps` by a cosine (IQL's schedule).
    - `batch_size`, `steps`, `steps_per_chunk`: as in `ValueConfig`.
    """

    beta: float = 3.0
    max_weight: float = 100.0
    hidden: tuple[int, ...] = (256, 256)
    learning_rate: float = 3e-4
    batch_size: int = 256
    steps: int = 1_000_000
    steps_per_chunk: int = 1000

    def __post_init__(self):
        for field in dataclasses.fields(self):
            check_field("ActorConfig", ActorConfig, field.name, getattr(self, field.name),
                        prefix="actor.")
        if not (math.isfinite(self.beta) and self.beta >= 0):
            raise ValueError(f"ActorConfig: beta must be a finite number >= 0, got {self.beta}.")
        if not self.max_weight > 0:
            raise ValueError(f"ActorConfig: max_weight must be > 0, got {self.max_weight}.")
        if self.steps < 0 or self.batch_size < 1 or self.steps_per_chunk < 1:
            raise ValueError(
                "ActorConfig: need steps >= 0, batch_size >= 1 and steps_per_chunk >= 1, got "
                f"{self.steps}, {self.batch_size}, {self.steps_per_chunk}."
            )


class GaussianActor(eqx.Module):
    """`π(a | s) = N(tanh(μ(s)), diag(exp(2 log σ)))` over actions scaled to `[−1, 1]`."""

    mean: eqx.nn.MLP
    log_std: Float[Array, " a"]

    def __init__(self, obs_dim: int, act_dim: int, hidden: tuple[int, ...], *,
                 key: PRNGKeyArray):
        self.mean = eqx.nn.MLP(obs_dim, act_dim, hidden[0] if hidden else 0, len(hidden),
                               activation=jax.nn.relu, key=key)
        self.log_std = jnp.zeros(act_dim)

    def __call__(self, s: Float[Array, " o"]) -> Float[Array, " a"]:
        """The action IQL evaluates with: the mean `tanh(μ(s))`."""
        return jnp.tanh(self.mean(s))

    def log_prob(self, s: Float[Array, " o"], a: Float[Array, " a"]) -> Float[Array, ""]:
        log_std = jnp.clip(self.log_std, _LOG_STD_MIN, _LOG_STD_MAX)
        z = (a - self(s)) * jnp.exp(-log_std)
        return jnp.sum(-0.5 * z**2 - log_std - 0.5 * jnp.log(2 * jnp.pi))


def awr_weights(
    advantage: Float[ArrayLike, "*b"], beta: float, max_weight: float = 100.0
) -> Float[Array, "*b"]:
    """IQL's advantage weights `min(exp(β A), max_weight)`."""
    return jnp.minimum(jnp.exp(beta * jnp.asarray(advantage)), max_weight)


def awr_loss(actor: GaussianActor, s, a, advantage, beta: float, max_weight: float) -> Array:
    """`−mean(min(exp(β A), max_weight) · log π(a | s))` over a batch."""
    w = awr_weights(advantage, beta, max_weight)
    return -jnp.mean(w * jax.vmap(actor.log_prob)(s, a))


class ActorState(eqx.Module):
    actor: GaussianActor
    opt: PyTree
    step: Int[Array, ""]


@functools.lru_cache(maxsize=16)
def _optimizer(learning_rate: float, steps: int) -> optax.GradientTransformation:
    return optax.adam(optax.cosine_decay_schedule(learning_rate, max(steps, 1)))


class ActorStep(eqx.Module):
    """One AWR step for `selfguide.training.run_training`; `data` is `(s, a, A)` with
    actions in `[−1, 1]`; the metrics are `(loss, mean weight)`."""

    config: ActorConfig = eqx.field(static=True)
    optimizer: optax.GradientTransformation = eqx.field(static=True)

    def __call__(self, st: ActorState, data, key):
        c = self.config
        s_all, a_all, adv_all = data
        idx = jr.randint(key, (c.batch_size,), 0, s_all.shape[0])
        s, a, adv = s_all[idx], a_all[idx], adv_all[idx]
        loss, grads = eqx.filter_value_and_grad(awr_loss)(st.actor, s, a, adv, c.beta,
                                                          c.max_weight)
        updates, opt = self.optimizer.update(
            grads, st.opt, eqx.filter(st.actor, eqx.is_inexact_array)
        )
        actor = eqx.apply_updates(st.actor, updates)
        weight = jnp.mean(awr_weights(adv, c.beta, c.max_weight))
        return ActorState(actor, opt, st.step), jnp.stack([loss, weight])


def _init_state(obs_dim: int, act_dim: int, config: ActorConfig, key) -> ActorState:
    actor = GaussianActor(obs_dim, act_dim, config.hidden, key=key)
    opt = _optimizer(config.learning_rate, config.steps).init(
        eqx.filter(actor, eqx.is_inexact_array)
    )
    return ActorState(actor, opt, jnp.asarray(0, jnp.int32))


def _config_json(config: ActorConfig) -> dict:
    return {**dataclasses.asdict(config), "hidden": list(config.hidden)}


def train_actor(
    data: Transitions,
    advantages: Float[ArrayLike, " n"],
    config: ActorConfig,
    *,
    key: PRNGKeyArray,
    to_model=None,
    checkpoint: str | Path | None = None,
    resume: bool = True,
    progress: bool = True,
) -> tuple[GaussianActor, list[tuple[float | int, ...]]]:
    """Fit IQL's Gaussian actor by advantage-weighted regression.

    **Arguments:**

    - `data`: the transitions (observations and actions).
    - `advantages`: `A(s, a)` for every row (e.g. `advantages(values, s, a)`).
    - `config`: an [`ActorConfig`][selfguide_rl.ActorConfig].
    - `key`: PRNG key (initialisation and batches); the same key gives the same actor.
    - `to_model`: maps environment actions into `[−1, 1]` (a policy's `to_model`); default
      the identity, for actions already there.
    - `checkpoint`, `resume`, `progress`: as in `learn_values`.

    **Returns:** `(actor, history)`, one history row per chunk: `(step, loss, mean weight,
    seconds)`.
    """
    caller = "train_actor"
    if not isinstance(data, Transitions):
        raise TypeError(f"{caller}: `data` must be Transitions, got {type(data).__name__}.")
    adv = jnp.asarray(advantages, jnp.float32).reshape(-1)
    if adv.shape[0] != len(data):
        raise ValueError(
            f"{caller}: {adv.shape[0]} advantages for {len(data)} transitions; pass one per row."
        )
    if not bool(jnp.all(jnp.isfinite(adv))):
        raise ValueError(f"{caller}: the advantages hold non-finite values; check the values.")
    init_key, batch_key = jr.split(key)
    state = _init_state(data.obs_dim, data.act_dim, config, init_key)
    meta = {"config": _config_json(config), "num_examples": len(data), "obs_dim": data.obs_dim,
            "act_dim": data.act_dim, "key": tree_fingerprint(key)}
    history: list = []
    if checkpoint is not None and resume and Path(checkpoint).exists():
        state, history = resume_state(
            checkpoint, state, kind="actor", meta=meta,
            compare=("config", "num_examples", "obs_dim", "act_dim"), call=caller,
        )
    actions = data.actions if to_model is None else to_model(data.actions)
    checkpointing = None
    if checkpoint is not None:
        checkpointing = Checkpointing(
            Path(checkpoint), lambda st, rows: save_state(checkpoint, "actor", st, meta, rows)
        )
    state, history = run_training(
        ActorStep(config, _optimizer(config.learning_rate, config.steps)), state,
        (data.observations, jnp.asarray(actions), adv), key=batch_key, steps=config.steps,
        metrics=("loss", "mean_weight"), name="actor", steps_per_chunk=config.steps_per_chunk,
        history=history, checkpointing=checkpointing, progress=progress,
        show={"loss": "loss", "w": "mean_weight"},
    )
    if checkpoint is not None and not Path(checkpoint).exists():
        save_state(checkpoint, "actor", state, meta, history)
    return state.actor, history


def load_actor(path: str | Path) -> GaussianActor:
    """The [`GaussianActor`][selfguide_rl.GaussianActor] saved by
    [`train_actor`][selfguide_rl.train_actor]."""
    header, blobs = read_checkpoint(path)
    if header.get("kind") != "actor":
        raise CheckpointError(f"checkpoint {path} holds no IQL actor (kind {header.get('kind')}).")
    meta = header["meta"]
    cfg = dict(meta["config"])
    cfg["hidden"] = tuple(cfg["hidden"])
    like = _init_state(meta["obs_dim"], meta["act_dim"], ActorConfig(**cfg), jr.key(0))
    return restore_segment(path, blobs["state"], like, "state").actor
