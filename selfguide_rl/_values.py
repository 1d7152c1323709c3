"""Value learning without out-of-sample actions: IQL's expectile regression and IDQL's linex.

`V` is fitted to the twin target critic `min(Q1, Q2)_target(s, a)` on dataset actions only,
with an asymmetric loss `f(u)`, `u = min(Q1, Q2)_target(s, a) − V(s)`:

- expectile (IQL): `f(u) = |τ − 1(u < 0)| u²`, so `V` tends to the τ-expectile of `Q(s, ·)`
  under the behaviour policy;
- linex (IDQL, Eq. 22): `f(u) = exp(τ u) − τ u − 1` (continued linearly in `exp` beyond
  `τ u = 5`, for stability).

Each `Q_i` regresses on `r + γ (1 − terminal) V(s')`; the target critic follows by Polyak
averaging. Steps run in jitted `lax.scan` chunks with batches drawn on device; step `k` uses
`fold_in(key, k)`, so chunking and resuming do not change the result.
"""

import dataclasses
from pathlib import Path
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from jaxtyping import Array, Float, Int, PRNGKeyArray, PyTree

from selfguide import CheckpointError
from selfguide.checkpoint import read_checkpoint, restore_segment, tree_fingerprint
from selfguide.settings import check_field
from selfguide.training import Checkpointing, adam, resume_state, run_training, save_state

from .data import Transitions

ValueLoss = Literal["expectile", "linex"]
VALUE_LOSSES: tuple[str, ...] = ("expectile", "linex")
_LINEX_CLIP = 5.0


@dataclasses.dataclass(frozen=True)
class ValueConfig:
    """Settings of value learning (defaults: the reference, SWG-MATH §4).

    - `loss`: `"expectile"` (IQL) or `"linex"` (IDQL).
    - `tau`: the expectile `τ ∈ (0, 1)`, or the linex rate `τ > 0`.
    - `hidden`: hidden widths of the Q and V MLPs (ReLU).
    - `gamma`, `polyak`, `learning_rate`, `batch_size`, `steps`: as named.
    - `steps_per_chunk`: steps per compiled `lax.scan` chunk (and per checkpoint).
    """

    loss: str = "expectile"
    tau: float = 0.7
    hidden: tuple[int, ...] = (256, 256)
    gamma: float = 0.99
    polyak: float = 0.005
    learning_rate: float = 3e-4
    batch_size: int = 256
    steps: int = 500_000
    steps_per_chunk: int = 1000

    def __post_init__(self):
        check_value_config(self)


def check_value_config(config: ValueConfig) -> None:
    for field in dataclasses.fields(config):
        check_field(
            "ValueConfig", ValueConfig, field.name, getattr(config, field.name), prefix="values."
        )
    if config.loss not in VALUE_LOSSES:
        raise ValueError(
            f"ValueConfig: unknown loss {config.loss!r}; expected one of {VALUE_LOSSES}."
        )
    if config.loss == "expectile" and not 0 < config.tau < 1:
        raise ValueError(f"ValueConfig: the expectile tau must lie in (0, 1), got {config.tau}.")
    if config.loss == "linex" and not config.tau > 0:
        raise ValueError(f"ValueConfig: the linex rate tau must be > 0, got {config.tau}.")
    if not 0 <= config.gamma <= 1 or not 0 < config.polyak <= 1:
        raise ValueError(
            f"ValueConfig: need 0 <= gamma <= 1 and 0 < polyak <= 1, got {config.gamma}, "
            f"{config.polyak}."
        )
    if config.steps < 0 or config.batch_size < 1 or config.steps_per_chunk < 1:
        raise ValueError(
            "ValueConfig: need steps >= 0, batch_size >= 1 and steps_per_chunk >= 1, got "
            f"{config.steps}, {config.batch_size}, {config.steps_per_chunk}."
        )


def expectile_loss(u: Float[Array, "*b"], tau: float | Float[Array, ""]) -> Float[Array, "*b"]:
    """`|τ − 1(u < 0)| u²`."""
    return jnp.abs(tau - (u < 0).astype(u.dtype)) * u**2


def linex_loss(u: Float[Array, "*b"], tau: float | Float[Array, ""]) -> Float[Array, "*b"]:
    """`exp(τ u) − τ u − 1`, with `exp` continued by its tangent beyond `τ u = 5`."""
    x = tau * u
    capped = jnp.minimum(x, _LINEX_CLIP)
    e = jnp.exp(capped) * (1.0 + (x - capped))
    return e - x - 1.0


class TwinCritic(eqx.Module):
    """Two Q-networks `Q_i(s, a)`, MLPs on `[s, a]`."""

    q1: eqx.nn.MLP
    q2: eqx.nn.MLP

    def __init__(self, obs_dim: int, act_dim: int, hidden: tuple[int, ...], *, key: PRNGKeyArray):
        k1, k2 = jr.split(key)
        self.q1 = _mlp(obs_dim + act_dim, hidden, key=k1)
        self.q2 = _mlp(obs_dim + act_dim, hidden, key=k2)

    def __call__(self, s: Float[Array, " o"], a: Float[Array, " a"]) -> Float[Array, "2"]:
        x = jnp.concatenate([s, a])
        return jnp.stack([self.q1(x)[0], self.q2(x)[0]])


class ValueNetwork(eqx.Module):
    """`V(s)`: LayerNorm on the input, then an MLP."""

    norm: eqx.nn.LayerNorm
    mlp: eqx.nn.MLP

    def __init__(self, obs_dim: int, hidden: tuple[int, ...], *, key: PRNGKeyArray):
        self.norm = eqx.nn.LayerNorm(obs_dim)
        self.mlp = _mlp(obs_dim, hidden, key=key)

    def __call__(self, s: Float[Array, " o"]) -> Float[Array, ""]:
        return self.mlp(self.norm(s))[0]


def _mlp(in_size: int, hidden: tuple[int, ...], *, key: PRNGKeyArray) -> eqx.nn.MLP:
    if len(set(hidden)) > 1:
        raise ValueError(f"value networks use one hidden width, got hidden={hidden}.")
    return eqx.nn.MLP(in_size, 1, hidden[0], len(hidden), activation=jax.nn.relu, key=key)


class Values(eqx.Module):
    """Learned values: the target twin critic and `V`; what weights and resampling use."""

    critic: TwinCritic
    value: ValueNetwork

    def q(self, s: Float[Array, " o"], a: Float[Array, " a"]) -> Float[Array, ""]:
        """`min(Q1, Q2)(s, a)` of the target critic."""
        return jnp.min(self.critic(s, a))

    def v(self, s: Float[Array, " o"]) -> Float[Array, ""]:
        return self.value(s)

    def advantage(self, s: Float[Array, " o"], a: Float[Array, " a"]) -> Float[Array, ""]:
        """`A = min(Q1, Q2)_target(s, a) − V(s)`."""
        return self.q(s, a) - self.v(s)


class ValueState(eqx.Module):
    critic: TwinCritic
    target: TwinCritic
    value: ValueNetwork
    critic_opt: PyTree
    value_opt: PyTree
    step: Int[Array, ""]


@dataclasses.dataclass(frozen=True)
class ValueResult:
    """What [`learn_values`][selfguide_rl.learn_values] returns: `values` (target critic and
    `V`), the full `state`, and per-chunk `history` (`step`, `q_loss`, `v_loss`, `q_mean`,
    `seconds`)."""

    values: Values
    state: ValueState
    history: dict[str, np.ndarray]


_HISTORY = ("step", "q_loss", "v_loss", "q_mean", "seconds")


def _init_state(obs_dim, act_dim, config: ValueConfig, optimizer, key) -> ValueState:
    ckey, vkey = jr.split(key)
    critic = TwinCritic(obs_dim, act_dim, config.hidden, key=ckey)
    value = ValueNetwork(obs_dim, config.hidden, key=vkey)
    target = jax.tree.map(lambda x: jnp.copy(x) if eqx.is_array(x) else x, critic)
    return ValueState(
        critic, target, value,
        optimizer.init(eqx.filter(critic, eqx.is_inexact_array)),
        optimizer.init(eqx.filter(value, eqx.is_inexact_array)),
        jnp.asarray(0, dtype=jnp.int32),
    )


class ValueStep(eqx.Module):
    """One step of value learning for `selfguide.training.run_training`: a batch, `V`
    towards the expectile (or linex) of the target critic, `Q` towards
    `r + γ (1 − terminal) V(s')`, Polyak averaging. `data` is
    `(s, a, r, s', terminal)`; the metrics are `(q_loss, v_loss, q_mean)`."""

    config: ValueConfig = eqx.field(static=True)
    optimizer: optax.GradientTransformation = eqx.field(static=True)

    def __call__(self, st: ValueState, data, key):
        config, optimizer = self.config, self.optimizer
        s_all, a_all, r_all, s2_all, done_all = data
        loss_fn = expectile_loss if config.loss == "expectile" else linex_loss
        idx = jr.randint(key, (config.batch_size,), 0, s_all.shape[0])
        s, a, r, s2, done = s_all[idx], a_all[idx], r_all[idx], s2_all[idx], done_all[idx]

        # V towards the expectile (or linex) of the target critic.
        q_t = jax.vmap(lambda si, ai: jnp.min(st.target(si, ai)))(s, a)

        def v_loss(v_net):
            return jnp.mean(loss_fn(q_t - jax.vmap(v_net)(s), config.tau))

        vl, vg = eqx.filter_value_and_grad(v_loss)(st.value)
        vu, value_opt = optimizer.update(
            vg, st.value_opt, eqx.filter(st.value, eqx.is_inexact_array)
        )
        value = eqx.apply_updates(st.value, vu)

        # Q towards r + γ (1 − terminal) V(s'), with the updated V.
        y = r + config.gamma * (1.0 - done) * jax.vmap(value)(s2)

        def q_loss(critic):
            q = jax.vmap(critic)(s, a)
            return jnp.mean(jnp.sum((q - y[:, None]) ** 2, axis=1)), jnp.mean(q)

        (ql, qm), qg = eqx.filter_value_and_grad(q_loss, has_aux=True)(st.critic)
        cu, critic_opt = optimizer.update(
            qg, st.critic_opt, eqx.filter(st.critic, eqx.is_inexact_array)
        )
        critic = eqx.apply_updates(st.critic, cu)
        target = jax.tree.map(
            lambda t, c: t + config.polyak * (c - t) if eqx.is_inexact_array(t) else t,
            st.target, critic,
        )
        new = ValueState(critic, target, value, critic_opt, value_opt, st.step)
        return new, jnp.stack([ql, vl, qm])


def learn_values(
    data: Transitions,
    config: ValueConfig,
    *,
    key: PRNGKeyArray,
    checkpoint: str | Path | None = None,
    resume: bool = True,
    progress: bool = True,
) -> ValueResult:
    """Learn `Q` and `V` from a dataset, IQL-style (no out-of-sample actions).

    **Arguments:**

    - `data`: the transitions, rewards already processed
      ([`process_rewards`][selfguide_rl.process_rewards]).
    - `config`: a [`ValueConfig`][selfguide_rl.ValueConfig].
    - `key`: PRNG key for initialisation and batches; the same key gives the same values.
    - `checkpoint`: file to save to after every chunk; with `resume`, an existing file is
      continued (it must have been written with the same key, data size and config).
    - `progress`: draw a progress bar.

    **Returns:** a [`ValueResult`][selfguide_rl.ValueResult].

    ```python
    result = learn_values(process_rewards(data, task), ValueConfig(tau=0.7), key=jr.key(0))
    adv = jax.vmap(result.values.advantage)(data.observations, data.actions)
    ```
    """
    if not isinstance(data, Transitions):
        raise TypeError(f"learn_values: `data` must be Transitions, got {type(data).__name__}.")
    check_value_config(config)
    init_key, batch_key = jr.split(key)
    optimizer = adam(config.learning_rate)
    state = _init_state(data.obs_dim, data.act_dim, config, optimizer, init_key)
    meta = {
        "config": _config_json(config), "num_examples": len(data), "obs_dim": data.obs_dim,
        "act_dim": data.act_dim, "key": tree_fingerprint(key),
    }
    history: list = []
    if checkpoint is not None and resume and Path(checkpoint).exists():
        state, history = resume_state(
            checkpoint, state, kind="values", meta=meta,
            compare=("config", "num_examples", "obs_dim", "act_dim"), call="learn_values",
        )
    bundle = (
        data.observations, data.actions, data.rewards, data.next_observations,
        data.terminals.astype(jnp.float32),
    )
    checkpointing = None
    if checkpoint is not None:
        checkpointing = Checkpointing(
            Path(checkpoint), lambda st, rows: save_values(checkpoint, st, meta, rows)
        )
    state, history = run_training(
        ValueStep(config, optimizer), state, bundle, key=batch_key, steps=config.steps,
        metrics=("q_loss", "v_loss", "q_mean"), name="values",
        steps_per_chunk=config.steps_per_chunk, history=history,
        checkpointing=checkpointing, progress=progress, show={"q": "q_loss", "v": "v_loss"},
        after_chunk=_stop_if_not_finite,
    )
    if checkpoint is not None and not Path(checkpoint).exists():
        save_values(checkpoint, state, meta, history)
    cols = list(zip(*history, strict=True)) if history else [[]] * len(_HISTORY)
    hist = {name: np.asarray(c) for name, c in zip(_HISTORY, cols, strict=True)}
    return ValueResult(Values(state.target, state.value), state, hist)


def learn_values_many(
    data: Transitions,
    config: ValueConfig,
    *,
    keys: list[PRNGKeyArray],
    checkpoints: list[str | Path] | None = None,
    progress: bool = True,
) -> list[ValueResult]:
    """`learn_values` for several keys at once, in one compiled
    program (the members' networks stacked, the step vmapped): member `m` equals
    `learn_values(data, config, key=keys[m])` up to float32 rounding of batched products.

    `checkpoints`: one path per key (or `None`), each an ordinary value checkpoint of its
    member (`load_values` reads it), written after every chunk; when all exist the run
    resumes from them.

    **Returns:** one `ValueResult` per key.
    """
    from selfguide.training import Members, MemberState, member_names, stack, unstack

    if not isinstance(data, Transitions):
        raise TypeError(
            f"learn_values_many: `data` must be Transitions, got {type(data).__name__}."
        )
    check_value_config(config)
    count = len(keys)
    if count < 1:
        raise ValueError("learn_values_many: pass at least one key.")
    if checkpoints is not None and len(checkpoints) != count:
        raise ValueError(
            f"learn_values_many: need one checkpoint path per key, got {len(checkpoints)}."
        )
    optimizer = adam(config.learning_rate)
    splits = [jr.split(k) for k in keys]
    states = [_init_state(data.obs_dim, data.act_dim, config, optimizer, init_key)
              for init_key, _ in splits]
    metas = [{"config": _config_json(config), "num_examples": len(data),
              "obs_dim": data.obs_dim, "act_dim": data.act_dim, "key": tree_fingerprint(k)}
             for k in keys]
    histories: list[list] = [[] for _ in keys]
    if checkpoints is not None and all(Path(c).exists() for c in checkpoints):
        resumed = [resume_state(c, st, kind="values", meta=m,
                                compare=("config", "num_examples", "obs_dim", "act_dim"),
                                call="learn_values_many")
                   for c, st, m in zip(checkpoints, states, metas, strict=True)]
        states, histories = [r[0] for r in resumed], [list(r[1]) for r in resumed]
        if len({int(st.step) for st in states}) != 1:
            raise ValueError(
                "learn_values_many: the checkpoints hold different steps "
                f"({[int(st.step) for st in states]}); resume them one by one."
            )
    state = MemberState(stack(states), jnp.stack([b for _, b in splits]),
                        jnp.asarray(int(states[0].step), jnp.int32))
    bundle = (
        data.observations, data.actions, data.rewards, data.next_observations,
        data.terminals.astype(jnp.float32),
    )
    metrics = ("q_loss", "v_loss", "q_mean")
    width = len(metrics)

    def member_rows(rows, m: int) -> list[tuple]:
        return histories[m] + [(r[0], *r[1 + m * width: 1 + (m + 1) * width], r[-1])
                               for r in rows]

    def save(st, rows) -> None:
        for m, (path, member) in enumerate(zip(checkpoints, unstack(st.members, count),
                                               strict=True)):
            save_values(path, member, metas[m], member_rows(rows, m))

    checkpointing = None if checkpoints is None else Checkpointing(Path(checkpoints[0]), save)
    state, rows = run_training(
        Members(ValueStep(config, optimizer)), state, bundle, key=keys[0], steps=config.steps,
        metrics=member_names(metrics, count), name="values",
        steps_per_chunk=config.steps_per_chunk, progress=progress,
        after_chunk=_stop_if_not_finite, checkpointing=checkpointing,
    )
    if checkpoints is not None and not all(Path(c).exists() for c in checkpoints):
        save(state, rows)
    results = []
    for m, member in enumerate(unstack(state.members, count)):
        history = member_rows(rows, m)
        cols = list(zip(*history, strict=True)) if history else [[]] * len(_HISTORY)
        hist = {name: np.asarray(c) for name, c in zip(_HISTORY, cols, strict=True)}
        results.append(ValueResult(Values(member.target, member.value), member, hist))
    return results


def _stop_if_not_finite(done: int, means: np.ndarray) -> None:
    if not np.all(np.isfinite(means)):
        raise FloatingPointError(
            f"learn_values: the losses became non-finite at step {done} ({means}). Lower "
            "the learning rate, or check the reward scale (process_rewards)."
        )


def _config_json(config: ValueConfig) -> dict:
    d = dataclasses.asdict(config)
    d["hidden"] = list(config.hidden)
    return d


def save_values(path, state: ValueState, meta: dict, history) -> Path:
    return save_state(path, "values", state, meta, history)


def load_values(path: str | Path) -> tuple[Values, dict]:
    """Load learned [`Values`][selfguide_rl.Values] from a value checkpoint;
    returns `(values, header)`, the header holding the config and the history."""
    header, blobs = read_checkpoint(path)
    if header.get("kind") != "values":
        raise CheckpointError(f"checkpoint {path} holds no value-learning state.")
    meta = header["meta"]
    cfg = dict(meta["config"])
    cfg["hidden"] = tuple(cfg["hidden"])
    config = ValueConfig(**cfg)
    optimizer = adam(config.learning_rate)
    like = _init_state(meta["obs_dim"], meta["act_dim"], config, optimizer, jr.key(0))
    state = restore_segment(path, blobs["state"], like, "state")
    return Values(state.target, state.value), header


def advantages(
    values: Values, observations: Float[Array, "n o"], actions: Float[Array, "n a"],
    *, batch: int = 65536,
) -> Float[np.ndarray, " n"]:
    """`A(s, a)` for every row, in batches (host NumPy result)."""
    out = [np.asarray(_batch_advantage(values, observations[i : i + batch],
                                       actions[i : i + batch]))
           for i in range(0, observations.shape[0], batch)]
    return np.concatenate(out)


@eqx.filter_jit  # only called from `advantages`, which returns NumPy
def _batch_advantage(values: Values, s, a):
    return jax.vmap(values.advantage)(s, a)
