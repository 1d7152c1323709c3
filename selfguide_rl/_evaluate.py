"""Evaluation in Gymnasium vector environments: parallel, seeded episodes, normalised scores.

Every environment step queries the policy once for all parallel episodes
([`act`][selfguide_rl.act] on a `(num_envs, obs_dim)` batch). Episodes are run in rounds of
`num_envs`; within a round an environment that has finished is masked out (its autoreset
steps are not counted). Scores are D4RL's normalised score when the task has reference
returns, and mean ± standard error is over all seeds × episodes.
"""

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from selfguide.training import stack

from ._methods import AbstractMethod
from ._policy import Policy, act, actions_in_bounds, as_method
from .data import TaskInfo, flatten_observation, normalized_score

_KITCHEN_HINT = (
    "FrankaKitchen-v1 cannot be constructed with mujoco {version}: gymnasium-robotics' "
    "joint check (`get_joint_qpos` asserts hinge or slide joints) rejects the joint types "
    "that mujoco >= 3.12 reports. Workaround: install an older MuJoCo in this environment, "
    "`pip install \"mujoco<3.12\"`, or evaluate elsewhere; training on the Kitchen data does "
    "not need the environment."
)


def make_env(task: TaskInfo, **kwargs: Any) -> Any:
    """`task.make_env(**kwargs)` with a clear error for known upstream breakages."""
    try:
        return task.make_env(**kwargs)
    except AssertionError as err:
        if task.family == "kitchen" or (task.env_id or "").startswith("FrankaKitchen"):
            import mujoco

            raise RuntimeError(_KITCHEN_HINT.format(version=mujoco.__version__)) from err
        raise RuntimeError(
            f"make_env: building the evaluation environment of '{task.dataset_id}' "
            f"({task.env_id}) failed inside the environment's own code (AssertionError)."
        ) from err


def make_vector_env(task: TaskInfo, num_envs: int, max_episode_steps: int | None = None) -> Any:
    """A `gymnasium.vector.SyncVectorEnv` of `num_envs` copies of the task's eval env
    (episodes cut at `max_episode_steps` if given)."""
    import gymnasium as gym

    kwargs = {} if max_episode_steps is None else {"max_episode_steps": max_episode_steps}
    make_env(task, **kwargs).close()  # fail early, with the clear error, in this process
    return gym.vector.SyncVectorEnv([lambda: make_env(task, **kwargs) for _ in range(num_envs)])


@dataclasses.dataclass(frozen=True)
class EvalResult:
    """Returns and normalised scores of every episode, and the wall time.

    `method` is the method's name (`"bc"`, `"swg"`, `"idql"`, `"swg-r"`), `scale` its
    guidance scale; [`evaluate_agents`][selfguide_rl.evaluate_agents] also fills in
    `clip_max` (SWG's and SWG-R's upper clip of ŵ_0, `None`: none) and `temperature` (the
    DDPM temperature sampled at; IDQL's: its candidates' temperature; IQL: `None`)."""

    method: str
    scale: float
    returns: np.ndarray
    scores: np.ndarray
    seconds: float
    env_steps: int
    clip_max: float | None = None
    temperature: float | None = None

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores))

    @property
    def stderr(self) -> float:
        return standard_error(self.scores)


def standard_error(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=float)
    return float(np.std(x, ddof=1) / np.sqrt(x.size)) if x.size > 1 else 0.0


def evaluate(
    policy: Policy,
    task: TaskInfo,
    *,
    method: AbstractMethod | str | None = None,
    scale: float | None = None,
    num_candidates: int | None = None,
    temperature: float = 0.0,
    episodes: int = 10,
    num_envs: int | None = None,
    seed: int = 0,
    env: Any = None,
    progress: bool = False,
) -> EvalResult:
    """Run `episodes` evaluation episodes and score them.

    **Arguments:**

    - `policy`, `method`, `scale`, `num_candidates`, `temperature`: as in
      [`act`][selfguide_rl.act].
    - `task`: the dataset's [`TaskInfo`][selfguide_rl.TaskInfo] (its evaluation
      environment, observation layout and reference scores).
    - `episodes`: the number of episodes; `num_envs` run in parallel (default: all).
    - `seed`: seeds the environments (`seed + i` for copy `i`, next round `seed + num_envs`,
      ...) and the policy's noise.
    - `env`: an existing vector environment with `num_envs` copies, to reuse.

    **Returns:** an [`EvalResult`][selfguide_rl.EvalResult]; `scores` are normalised scores
    when the task has reference returns, else the raw returns.
    """
    caller = "evaluate"
    given = as_method(caller, method, scale, num_candidates)
    if isinstance(method, AbstractMethod):
        scale = float(getattr(method, "scale", 0.0))
    else:
        scale = 10.0 if scale is None else float(scale)
    method = given
    _check_episodes(caller, episodes)
    num_envs = episodes if num_envs is None else num_envs
    key = jr.key(seed)

    def actions(obs, round_, t):
        return act(policy, obs, method=method, temperature=temperature,
                   key=jr.fold_in(jr.fold_in(key, round_), t))

    start = time.perf_counter()
    (returns,), steps = _run_episodes(caller, task, env, num_envs, [seed], episodes,
                                      policy.act_dim, actions, progress, method.name)
    return _result(task, method.name, scale, returns, time.perf_counter() - start, steps)


def evaluate_members(
    policies: Sequence[Policy],
    task: TaskInfo,
    *,
    methods: Sequence[AbstractMethod],
    seeds: Sequence[int],
    temperature: float = 0.0,
    episodes: int = 10,
    num_envs: int | None = None,
    env: Any = None,
    progress: bool = False,
) -> list[EvalResult]:
    """`evaluate` for several trained runs (members) at once: all
    members' episodes step in ONE vector environment of `K × num_envs` copies, and every
    step queries all members in one call (their policies and methods stacked and vmapped).

    Member `k` runs the episodes `evaluate(policies[k], method=methods[k], seed=seeds[k])`
    runs, with the same environment seeds and noise keys; its actions equal the single
    call's up to float32 rounding of the batched products (bit-identical on CPU in the
    tests), so its returns are the same episodes. The methods must be of one kind (one
    `num_candidates`); their settings (scale, clip, IQL's actor) may differ per member.

    **Returns:** one `EvalResult` per member.
    """
    grid = _evaluate_grid("evaluate_members", policies, task, [[m] for m in methods], seeds,
                          [[temperature] for _ in methods], episodes, num_envs, env, progress)
    return [row[0] for row in grid]


def evaluate_grid(
    policies: Sequence[Policy],
    task: TaskInfo,
    *,
    methods: Sequence[Sequence[AbstractMethod]],
    seeds: Sequence[int],
    temperatures: Sequence[Sequence[float]] | float = 0.0,
    episodes: int = 10,
    num_envs: int | None = None,
    env: Any = None,
    progress: bool = False,
) -> list[list[EvalResult]]:
    """Several settings of several members at once: member `k`'s setting `s` (the method
    `methods[k][s]` at the DDPM temperature `temperatures[k][s]`) runs the episodes
    `evaluate(policies[k], method=methods[k][s], temperature=temperatures[k][s],
    seed=seeds[k])` runs. All `K × S × num_envs` episodes step in one vector environment
    with one policy call per step; a member's settings share its weights in that call, so
    a sweep over guidance scales, clips or temperatures costs one batched sampler call per
    step instead of one per setting (on 2 CPU cores, a Hopper policy's twelve-setting SWG
    sweep took 0.61× the time of one setting at a time, `benchmarks/eval_sweep.py`).

    Every member has the same number `S` of settings, all of one kind (one method class,
    one `num_candidates`); actions equal the single calls' up to float32 rounding of the
    batched products. A sweep ends when its longest episode does, so settings whose
    episodes end early ride along.

    **Returns:** `results[k][s]`, one `EvalResult` per member and setting.
    """
    return _evaluate_grid("evaluate_grid", policies, task, methods, seeds, temperatures,
                          episodes, num_envs, env, progress)


def _evaluate_grid(caller, policies, task, methods, seeds, temperatures, episodes, num_envs,
                   env, progress) -> list[list[EvalResult]]:
    k = len(policies)
    rows = [list(r) for r in methods]
    n_set = len(rows[0]) if rows else 0
    if k < 1 or len(rows) != k or len(seeds) != k or n_set < 1 or any(
            len(r) != n_set for r in rows):
        raise ValueError(f"{caller}: need one method and one seed per policy, at least one "
                         f"policy; got {k} policies, {len(rows)} methods, {len(seeds)} "
                         "seeds.")
    if isinstance(temperatures, int | float):
        temperatures = [[float(temperatures)] * n_set for _ in range(k)]
    temps = np.asarray(temperatures, np.float32)
    if temps.shape != (k, n_set):
        raise ValueError(f"{caller}: need one temperature per member and setting, shape "
                         f"({k}, {n_set}); got shape {temps.shape}.")
    if not np.all(temps >= 0):
        raise ValueError(f"{caller}: temperatures must be >= 0 (0: deterministic given the "
                         f"initial noise), got {temps.tolist()}.")
    flat = [m for r in rows for m in r]
    statics = [eqx.partition(m, eqx.is_array)[1] for m in flat]
    if any(jax.tree.structure(m) != jax.tree.structure(flat[0])
           or jax.tree.leaves(st) != jax.tree.leaves(statics[0])
           for m, st in zip(flat, statics, strict=True)):
        raise ValueError(f"{caller}: the members' methods must be of one kind with the same "
                         f"static settings (e.g. num_candidates), got {flat}.")
    if flat[0].selects_by_q and any(p.values is None for p in policies):
        raise ValueError(f"{caller}: method {flat[0].name!r} selects by Q, but a policy holds "
                         "no values.")
    _check_episodes(caller, episodes)
    num_envs = episodes if num_envs is None else num_envs
    policy = stack(list(policies))
    # Stacked over members, and over settings too where there are several.
    method = stack([r[0] for r in rows]) if n_set == 1 else stack([stack(r) for r in rows])
    keys = jnp.stack([jr.key(int(s)) for s in seeds])
    temp = jnp.asarray(temps)

    def actions(obs, round_, t):
        obs = jnp.asarray(obs, jnp.float32)
        if n_set == 1:  # members only: the program of `evaluate_members`, bit for bit
            a = _act_members(policy, obs.reshape(k, num_envs, -1), method, temp[:, 0], keys,
                             jnp.uint32(round_), jnp.uint32(t))
        else:
            a = _act_grid(policy, obs.reshape(k, n_set, num_envs, -1), method, temp, keys,
                          jnp.uint32(round_), jnp.uint32(t))
        return a.reshape(k * n_set * num_envs, -1)

    start = time.perf_counter()
    per_group, steps = _run_episodes(caller, task, env, num_envs,
                                     [int(s) for s in seeds for _ in range(n_set)], episodes,
                                     policies[0].act_dim, actions, progress, flat[0].name)
    seconds = time.perf_counter() - start
    groups = k * n_set
    return [[_result(task, m.name, float(getattr(m, "scale", 0.0)), per_group[i * n_set + j],
                     seconds / groups, steps // groups) for j, m in enumerate(r)]
            for i, r in enumerate(rows)]


@eqx.filter_jit
def _act_members(policy: Policy, obs, method: AbstractMethod, temperature, keys, round_, t):
    # Member k's key is evaluate's fold_in(fold_in(key_k, round), t).
    step_keys = jax.vmap(lambda k: jr.fold_in(jr.fold_in(k, round_), t))(keys)
    mapped = eqx.if_array(0)
    return eqx.filter_vmap(actions_in_bounds, in_axes=(mapped, 0, mapped, 0, 0))(
        policy, obs, method, temperature, step_keys)


@eqx.filter_jit
def _act_grid(policy: Policy, obs, method: AbstractMethod, temperature, keys, round_, t):
    # Member k's key is evaluate's fold_in(fold_in(key_k, round), t), shared by its settings;
    # its settings share its weights (mapped over methods and temperatures, not the policy).
    step_keys = jax.vmap(lambda k: jr.fold_in(jr.fold_in(k, round_), t))(keys)
    mapped = eqx.if_array(0)

    def member(policy, obs, method, temperature, key):
        return eqx.filter_vmap(actions_in_bounds, in_axes=(None, 0, mapped, 0, None))(
            policy, obs, method, temperature, key)

    return eqx.filter_vmap(member, in_axes=(mapped, 0, mapped, 0, 0))(
        policy, obs, method, temperature, step_keys)


def _check_episodes(caller: str, episodes: int) -> None:
    if episodes < 1:
        raise ValueError(f"{caller}: episodes must be >= 1, got {episodes}.")


def _run_episodes(caller, task, env, num_envs, seeds, episodes, act_dim, actions, progress,
                  name) -> tuple[list[np.ndarray], int]:
    """Rounds of `num_envs` episodes for each of `len(seeds)` groups in one vector env of
    `len(seeds) × num_envs` copies (group `g`'s copy `i` in round `r` seeded
    `seeds[g] + r × num_envs + i`); `actions(obs, round, t)` acts for all copies. Returns
    each group's `episodes` returns and the environment steps counted."""
    groups = len(seeds)
    own_env = env is None
    env = make_vector_env(task, groups * num_envs) if own_env else env
    if env.num_envs != groups * num_envs:
        raise ValueError(f"{caller}: the environment has {env.num_envs} copies; expected "
                         f"{groups} x {num_envs}.")
    env_act = int(np.prod(env.single_action_space.shape))
    if env_act != act_dim:
        raise ValueError(
            f"{caller}: mismatched action dimension: the policy acts in {act_dim}-d, the "
            f"environment '{task.env_id}' expects {env_act}-d actions."
        )
    returns: list[list[float]] = [[] for _ in range(groups)]
    steps, round_, bar = 0, 0, None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=episodes * groups, desc=f"eval {name}", unit="ep", dynamic_ncols=True)
    try:
        while len(returns[0]) < episodes:
            obs, _ = env.reset(seed=[s + round_ * num_envs + i for s in seeds
                                     for i in range(num_envs)])
            ret = np.zeros(env.num_envs)
            done = np.zeros(env.num_envs, dtype=bool)
            t = 0
            while not done.all():
                s = flatten_observation(obs, task.observation_keys)
                obs, r, term, trunc, _ = env.step(np.asarray(actions(s, round_, t)))
                ret += np.where(done, 0.0, r)
                steps += int((~done).sum())
                done |= np.asarray(term) | np.asarray(trunc)
                t += 1
            take = min(num_envs, episodes - len(returns[0]))
            for g in range(groups):
                returns[g].extend(ret[g * num_envs:g * num_envs + take].tolist())
            if bar is not None:
                bar.update(take * groups)
            round_ += 1
    finally:
        if bar is not None:
            bar.close()
        if own_env:
            env.close()
    return [np.asarray(r) for r in returns], steps


def _result(task, name, scale, returns, seconds, steps) -> EvalResult:
    if task.ref_min_score is not None and task.ref_max_score is not None:
        scores = np.asarray(normalized_score(returns, task))
    else:
        scores = returns
    return EvalResult(name, scale, returns, scores, seconds, steps)
