"""Online SAC in a Gymnasium environment: collect, update in compiled chunks, evaluate,
keep actor snapshots, checkpoint, resume.

A round steps the environments `updates_per_round` times in all (uniform random actions
for the first `random_steps`, then the actor's samples), appends the transitions to the
replay buffer and runs as many updates in one chunk of the shared training loop. Every
`eval_every` steps the deterministic actor plays `eval_episodes` episodes in its own
environment (fixed seeds) and is kept as `snapshots/actor-step<K>.ckpt`.

The checkpoint (`sac.ckpt`, written atomically every `checkpoint_every` steps) holds the
learner, the replay buffer, the environments' simulator states, step counters and random
generators, the random-action generator and the episode bookkeeping, so a resumed run
continues exactly as the uninterrupted one would.
"""

import base64
import copy
import dataclasses
import importlib.metadata
import json
import pickle
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from selfguide.checkpoint import atomic_write_text, read_checkpoint, restore_segment
from selfguide.training import run_chunk, save_state

from ._learner import SACConfig, SACState, SACStep, TanhGaussianActor, init_sac
from ._replay import ReplayBuffer

CHECKPOINT, EVALUATIONS, CONFIG = "sac.ckpt", "evaluations.csv", "config.json"
_ROWS = ("s", "a", "r", "s2", "terminal", "truncated")


@dataclasses.dataclass(frozen=True)
class SACResult:
    """What [`train_sac`][selfguide_rl.train_sac] returns.

    - `actor`: the final actor; `evaluations`: one row per evaluation (`step`,
      `mean_return`, `stderr`, `episodes`); `steps`: environment steps taken;
    - `steps_per_second`: environment steps (each with one update) per second of this call;
    - `run_dir`: where the checkpoint, the evaluations and the snapshots are.
    """

    actor: TanhGaussianActor
    evaluations: list[dict]
    steps: int
    steps_per_second: float
    run_dir: Path


@eqx.filter_jit
def _sample_actions(actor: TanhGaussianActor, obs, key):
    keys = jr.split(key, obs.shape[0])
    return jax.vmap(actor.sample)(obs, keys)[0]


@eqx.filter_jit
def _deterministic_actions(actor: TanhGaussianActor, obs):
    return jax.vmap(actor)(obs)


def _time_limit(env: Any):
    import gymnasium as gym

    while isinstance(env, gym.Wrapper):
        if isinstance(env, gym.wrappers.TimeLimit):
            return env
        env = env.env
    return None


def _is_mujoco(raw: Any) -> bool:
    return hasattr(raw, "data") and hasattr(raw.data, "qpos") and hasattr(raw, "set_state")


def _env_state(envs: Any) -> list[dict]:
    """What it takes to continue each environment exactly: the simulator state (MuJoCo's
    `qpos`, `qvel`, time; any other environment's attributes, pickled), the step counter of
    its time limit and its random generator."""
    out = []
    for env in envs.envs:
        raw = env.unwrapped
        limit = _time_limit(env)
        st = {"elapsed": None if limit is None else limit._elapsed_steps,
              "rng": copy.deepcopy(raw.np_random.bit_generator.state)}
        if _is_mujoco(raw):
            st.update(qpos=np.asarray(raw.data.qpos).tolist(),
                      qvel=np.asarray(raw.data.qvel).tolist(), time=float(raw.data.time))
        else:
            attrs = {k: v for k, v in vars(raw).items() if not k.startswith("_np_random")}
            st["pickled"] = base64.b64encode(pickle.dumps(attrs)).decode()
        out.append(st)
    return out


def _restore_env_state(envs: Any, states: list[dict]) -> None:
    for env, st in zip(envs.envs, states, strict=True):
        raw = env.unwrapped
        if "qpos" in st:
            raw.set_state(np.asarray(st["qpos"]), np.asarray(st["qvel"]))
            raw.data.time = st["time"]
        else:
            vars(raw).update(pickle.loads(base64.b64decode(st["pickled"])))
        limit = _time_limit(env)
        if limit is not None:
            limit._elapsed_steps = st["elapsed"]
        raw.np_random.bit_generator.state = st["rng"]


def _make_envs(env_id: str, num_envs: int):
    import gymnasium as gym

    from .._tasks import import_gymnasium_robotics

    import_gymnasium_robotics()
    envs = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP})
    return envs


def episode_returns(env_id: str, policy: Callable, *, episodes: int, seed: int,
                    low: np.ndarray | None = None,
                    high: np.ndarray | None = None) -> np.ndarray:
    """Returns of `episodes` episodes (seeds `seed`, `seed + 1`, ...) of
    `policy(observations (1, o), t) -> actions (1, a) in [−1, 1]`, scaled to the action
    space (`low`, `high`; default the environment's)."""
    import gymnasium as gym

    env = gym.make(env_id)
    low = env.action_space.low if low is None else low
    high = env.action_space.high if high is None else high
    returns = []
    try:
        for i in range(episodes):
            obs, _ = env.reset(seed=seed + i)
            total, done, t = 0.0, False, 0
            while not done:
                a = np.asarray(policy(np.asarray(obs[None], np.float32), t))[0]
                obs, r, term, trunc, _ = env.step(low + (a + 1.0) * 0.5 * (high - low))
                total, done, t = total + float(r), term or trunc, t + 1
            returns.append(total)
    finally:
        env.close()
    return np.asarray(returns)


def evaluate_actor(actor: TanhGaussianActor, env_id: str, *, episodes: int, seed: int,
                   low: np.ndarray | None = None, high: np.ndarray | None = None) -> np.ndarray:
    """Returns of `episodes` deterministic episodes (seeds `seed`, `seed + 1`, ...)."""
    return episode_returns(
        env_id, lambda obs, t: _deterministic_actions(actor, jnp.asarray(obs)),
        episodes=episodes, seed=seed, low=low, high=high)


def _check(caller: str, env_id: str, steps: int, eval_every: int, eval_episodes: int,
           checkpoint_every: int) -> None:
    import gymnasium as gym

    from .._tasks import import_gymnasium_robotics

    for name, value in (("steps", steps), ("eval_every", eval_every),
                        ("eval_episodes", eval_episodes), ("checkpoint_every", checkpoint_every)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{caller}: {name}={value!r}; expected a positive integer.")
    import_gymnasium_robotics()
    if env_id not in gym.registry:
        close = [k for k in gym.registry if env_id.split("-")[0].lower() in k.lower()][:5]
        raise ValueError(
            f"{caller}: unknown environment {env_id!r}"
            + (f"; similar: {', '.join(close)}" if close else "")
            + ". Pass a registered Gymnasium id such as 'Hopper-v5'."
        )


def train_sac(
    env_id: str,
    run_dir: str | Path,
    *,
    steps: int,
    config: SACConfig | None = None,
    seed: int = 0,
    eval_every: int = 10_000,
    eval_episodes: int = 10,
    checkpoint_every: int = 50_000,
    progress: bool = True,
    on_evaluation: Callable[[int, float], bool] | None = None,
) -> SACResult:
    """Train SAC online in `env_id` for `steps` environment steps (resuming `run_dir`).

    **Arguments:**

    - `env_id`: a Gymnasium id, e.g. `"Hopper-v5"`.
    - `run_dir`: holds `config.json`, the checkpoint `sac.ckpt`, `evaluations.csv` and
      `snapshots/actor-step<K>.ckpt`; an existing run is resumed (same settings only).
    - `steps`: total environment steps (a resumed run stops there too).
    - `config`: a [`SACConfig`][selfguide_rl.SACConfig] (default: the published settings).
    - `seed`: seeds the networks, the environments and the random actions.
    - `eval_every`, `eval_episodes`: evaluation cadence and size (multiples of the round,
      `config.updates_per_round`, are exact; others round up to the next round).
    - `checkpoint_every`: steps between checkpoints (and at the end).
    - `on_evaluation(step, mean_return) -> stop`: called after every evaluation; returning
      `True` stops the run there (e.g. at the medium policy's return).

    **Returns:** a [`SACResult`][selfguide_rl.SACResult].
    """
    caller = "train_sac"
    config = SACConfig() if config is None else config
    _check(caller, env_id, steps, eval_every, eval_episodes, checkpoint_every)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "snapshots").mkdir(exist_ok=True)
    settings = {"env_id": env_id, "seed": seed, "config": _config_json(config),
                "eval_every": eval_every, "eval_episodes": eval_episodes}
    _check_run_dir(caller, run_dir, settings)

    envs = _make_envs(env_id, config.num_envs)
    try:
        return _train(envs, env_id, run_dir, steps, config, seed, eval_every, eval_episodes,
                      checkpoint_every, progress, on_evaluation)
    finally:
        envs.close()


def _train(envs, env_id, run_dir, steps, config, seed, eval_every, eval_episodes,
           checkpoint_every, progress, on_evaluation) -> SACResult:
    obs_dim = int(np.prod(envs.single_observation_space.shape))
    act_dim = int(np.prod(envs.single_action_space.shape))
    low = np.asarray(envs.single_action_space.low, np.float64)
    high = np.asarray(envs.single_action_space.high, np.float64)
    n, per_round = config.num_envs, config.updates_per_round
    key = jr.key(seed)
    init_key, update_key, act_key = jr.split(key, 3)
    state = init_sac(obs_dim, act_dim, config, key=init_key)
    buffer = ReplayBuffer.empty(config.buffer_size, obs_dim, act_dim)
    rng = np.random.default_rng(seed)
    done_steps, evaluations, episode_returns = 0, [], []
    running = np.zeros(n)
    path = run_dir / CHECKPOINT
    if path.exists():
        header, blobs = read_checkpoint(path)
        saved = restore_segment(path, blobs["state"], _Saved(state, buffer), "state")
        state, buffer = saved.sac, saved.buffer
        extra = header["meta"]["resume"]
        done_steps, evaluations = int(extra["env_steps"]), list(extra["evaluations"])
        episode_returns, running = list(extra["episode_returns"]), np.asarray(extra["running"])
        rng.bit_generator.state = extra["rng"]
        envs.reset(seed=seed)  # builds the environments; their state is restored next
        _restore_env_state(envs, extra["envs"])
        obs = np.asarray(extra["obs"], np.float32)
        print(f"sac: resuming {env_id} from step {done_steps:,} of {steps:,} ({path})",
              flush=True)
    else:
        obs, _ = envs.reset(seed=seed)
    step_fn = SACStep(config, act_dim)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, initial=done_steps, desc=f"sac {env_id}", unit="step",
                   dynamic_ncols=True)
    start, start_steps = time.perf_counter(), done_steps
    stopped = False

    def save() -> None:
        meta = {"settings": json.loads((run_dir / CONFIG).read_text())["settings"],
                "resume": {"env_steps": done_steps, "evaluations": evaluations,
                           "episode_returns": episode_returns[-100:],
                           "running": running.tolist(), "rng": rng.bit_generator.state,
                           "envs": _env_state(envs), "obs": np.asarray(obs).tolist()}}
        save_state(path, "sac", _Saved(state, buffer), meta, [])
        _write_evaluations(run_dir, evaluations)

    try:
        while done_steps < steps and not stopped:
            rows = {k: [] for k in _ROWS}
            for _ in range(per_round // n):
                if done_steps < config.random_steps:
                    a = rng.uniform(-1.0, 1.0, size=(n, act_dim))
                else:
                    k = jr.fold_in(act_key, done_steps)
                    a = np.asarray(_sample_actions(state.actor, jnp.asarray(obs, jnp.float32), k))
                env_a = low + (a + 1.0) * 0.5 * (high - low)
                nxt, r, term, trunc, info = envs.step(env_a)
                real_next = np.array(nxt, dtype=np.float32, copy=True)
                ended = np.asarray(term) | np.asarray(trunc)
                if ended.any():
                    final = info["final_obs"]
                    for i in np.flatnonzero(ended):
                        real_next[i] = final[i]
                for key_, v in zip(_ROWS, (obs, a, r, real_next, term, trunc), strict=True):
                    rows[key_].append(np.asarray(v, np.float32))
                running += r
                for i in np.flatnonzero(ended):
                    episode_returns.append(float(running[i]))
                    running[i] = 0.0
                obs = np.asarray(nxt, np.float32)
                done_steps += n
            buffer = buffer.add(*(np.concatenate(rows[k]) for k in _ROWS))
            if done_steps > config.random_steps:
                state, metrics = run_chunk((buffer.data(), step_fn, update_key), state, per_round)
            if bar is not None:
                bar.update(per_round)
                if episode_returns:
                    bar.set_postfix({"return": f"{np.mean(episode_returns[-10:]):.0f}"})
            if done_steps % eval_every < per_round or done_steps >= steps:
                returns = evaluate_actor(state.actor, env_id, episodes=eval_episodes,
                                         seed=10**6 + seed * 1000, low=low, high=high)
                se = float(returns.std(ddof=1) / np.sqrt(returns.size)) if returns.size > 1 \
                    else float("nan")
                evaluations.append({"step": done_steps, "mean_return": float(returns.mean()),
                                    "stderr": se, "episodes": int(returns.size)})
                save_actor(run_dir / "snapshots" / f"actor-step{done_steps}.ckpt", state.actor,
                           obs_dim, act_dim, config, done_steps)
                if on_evaluation is not None and on_evaluation(done_steps,
                                                               float(returns.mean())):
                    stopped = True
            if done_steps % checkpoint_every < per_round or done_steps >= steps or stopped:
                save()
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - start
    return SACResult(state.actor, evaluations, done_steps,
                     (done_steps - start_steps) / max(seconds, 1e-9), run_dir)


def _config_json(config: SACConfig) -> dict:
    return {**dataclasses.asdict(config), "hidden": list(config.hidden)}


def _check_run_dir(caller: str, run_dir: Path, settings: dict) -> None:
    from selfguide.checkpoint import differences

    path = run_dir / CONFIG
    if path.exists():
        saved = json.loads(path.read_text())["settings"]
        changed = differences(saved, json.loads(json.dumps(settings)))
        if changed:
            raise ValueError(
                f"{caller}: {run_dir} holds a run with other settings (saved → now): "
                + "; ".join(changed) + ". Use another run directory, or the saved settings."
            )
        return
    versions = {p: importlib.metadata.version(p) for p in ("gymnasium", "mujoco", "jax")}
    atomic_write_text(path, json.dumps({"settings": settings, "versions": versions}, indent=2))


def _write_evaluations(run_dir: Path, evaluations: list[dict]) -> None:
    lines = ["step,mean_return,stderr,episodes"] + [
        f"{e['step']},{e['mean_return']:.3f},{e['stderr']:.3f},{e['episodes']}"
        for e in evaluations]
    atomic_write_text(run_dir / EVALUATIONS, "\n".join(lines) + "\n")


def save_actor(path: str | Path, actor: TanhGaussianActor, obs_dim: int, act_dim: int,
               config: SACConfig, step: int) -> Path:
    """Write an actor (only) to `path`, atomically."""
    meta = {"obs_dim": obs_dim, "act_dim": act_dim, "hidden": list(config.hidden), "step": step}
    return save_state(path, "sac-actor", _ActorHolder(actor, jnp.asarray(step, jnp.int32)),
                      meta, [])


def load_actor_snapshot(path: str | Path) -> TanhGaussianActor:
    """The [`TanhGaussianActor`][selfguide_rl.TanhGaussianActor] saved by `save_actor`."""
    from selfguide import CheckpointError

    header, blobs = read_checkpoint(path)
    if header.get("kind") != "sac-actor":
        raise CheckpointError(f"{path} holds no SAC actor (kind {header.get('kind')!r}).")
    m = header["meta"]
    like = _ActorHolder(TanhGaussianActor(m["obs_dim"], m["act_dim"], tuple(m["hidden"]),
                                          key=jr.key(0)), jnp.asarray(0, jnp.int32))
    return restore_segment(path, blobs["state"], like, "state").actor


class _Saved(eqx.Module):
    """The learner and its replay buffer, as one checkpointed state."""

    sac: SACState
    buffer: ReplayBuffer

    @property
    def step(self) -> jax.Array:
        return self.sac.step


class _ActorHolder(eqx.Module):
    actor: TanhGaussianActor
    step: jax.Array


def load_replay(run_dir: str | Path) -> tuple[ReplayBuffer, dict]:
    """The replay buffer of a SAC run directory's checkpoint, and the run's settings."""
    from selfguide import CheckpointError

    path = Path(run_dir) / CHECKPOINT
    if not path.exists():
        raise FileNotFoundError(f"load_replay: {run_dir} holds no SAC checkpoint ({CHECKPOINT}).")
    header, blobs = read_checkpoint(path)
    if header.get("kind") != "sac":
        raise CheckpointError(f"{path} holds no SAC run (kind {header.get('kind')!r}).")
    settings = header["meta"]["settings"]
    config = SACConfig(**{**settings["config"], "hidden": tuple(settings["config"]["hidden"])})
    import gymnasium as gym

    env = gym.make(settings["env_id"])
    obs_dim = int(np.prod(env.observation_space.shape))
    act_dim = int(np.prod(env.action_space.shape))
    env.close()
    like = _Saved(init_sac(obs_dim, act_dim, config, key=jr.key(0)),
                  ReplayBuffer.empty(config.buffer_size, obs_dim, act_dim))
    return restore_segment(path, blobs["state"], like, "state").buffer, settings
