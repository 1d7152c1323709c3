"""Evaluation in Gymnasium vector environments: parallel, seeded episodes, normalised scores.

Every environment step queries the policy once for all parallel episodes
([`act`][selfguide_rl.act] on a `(num_envs, obs_dim)` batch). Episodes are run in rounds of
`num_envs`; within a round an environment that has finished is masked out (its autoreset
steps are not counted). Scores are D4RL's normalised score when the task has reference
returns, and mean ± standard error is over all seeds × episodes.
"""

import dataclasses
import time
from typing import Any

import jax.random as jr
import numpy as np

from ._methods import AbstractMethod
from ._policy import Policy, act, as_method
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
    guidance scale."""

    method: str
    scale: float
    returns: np.ndarray
    scores: np.ndarray
    seconds: float
    env_steps: int

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
    if episodes < 1:
        raise ValueError(f"{caller}: episodes must be >= 1, got {episodes}.")
    num_envs = episodes if num_envs is None else num_envs
    own_env = env is None
    env = make_vector_env(task, num_envs) if own_env else env
    n_env = env.num_envs
    act_dim = int(np.prod(env.single_action_space.shape))
    if act_dim != policy.act_dim:
        raise ValueError(
            f"{caller}: mismatched action dimension: the policy acts in {policy.act_dim}-d, the "
            f"environment '{task.env_id}' expects {act_dim}-d actions."
        )
    key = jr.key(seed)
    start = time.perf_counter()
    returns: list[float] = []
    steps = 0
    round_ = 0
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=episodes, desc=f"eval {method.name}", unit="ep", dynamic_ncols=True)
    try:
        while len(returns) < episodes:
            obs, _ = env.reset(seed=seed + round_ * n_env)
            ret = np.zeros(n_env)
            done = np.zeros(n_env, dtype=bool)
            t = 0
            while not done.all():
                s = flatten_observation(obs, task.observation_keys)
                a = np.asarray(
                    act(policy, s, method=method, temperature=temperature,
                        key=jr.fold_in(jr.fold_in(key, round_), t))
                )
                obs, r, term, trunc, _ = env.step(a)
                ret += np.where(done, 0.0, r)
                steps += int((~done).sum())
                done |= np.asarray(term) | np.asarray(trunc)
                t += 1
            take = min(n_env, episodes - len(returns))
            returns.extend(ret[:take].tolist())
            if bar is not None:
                bar.update(take)
            round_ += 1
    finally:
        if bar is not None:
            bar.close()
        if own_env:
            env.close()
    returns_arr = np.asarray(returns)
    if task.ref_min_score is not None and task.ref_max_score is not None:
        scores = np.asarray(normalized_score(returns_arr, task))
    else:
        scores = returns_arr
    return EvalResult(
        method.name, scale, returns_arr, scores, time.perf_counter() - start, steps
    )
