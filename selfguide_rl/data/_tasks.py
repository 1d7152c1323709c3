"""Task metadata: where to evaluate, how to normalise scores, which reward processing.

The D4RL reference scores below are the `REF_MIN_SCORE` / `REF_MAX_SCORE` values of D4RL
(Fu et al., 2020, `d4rl/infos.py`): the average return of a random policy and of an expert
policy in the original environments.
"""

import contextlib
import dataclasses
import functools
import io
import re
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeAlias

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

TaskFamily: TypeAlias = Literal["locomotion", "antmaze", "kitchen", "adroit", "maze2d", "other"]
"""Decides reward processing (see [`process_rewards`][selfguide_rl.process_rewards])."""

TASK_FAMILIES: tuple[str, ...] = ("locomotion", "antmaze", "kitchen", "adroit", "maze2d", "other")


@dataclasses.dataclass(frozen=True)
class TaskInfo:
    """What a dataset is for: the environment to evaluate in, and how to score it.

    **Fields:**

    - `dataset_id`: the Minari id or D4RL name the data was loaded as.
    - `family`: one of `"locomotion"`, `"antmaze"`, `"kitchen"`, `"adroit"`, `"maze2d"`,
      `"other"`; it decides reward processing.
    - `env_id`: the Gymnasium environment to evaluate in, or `None` where no installed
      environment reproduces the dataset (`note` says why and what to use instead).
    - `env_kwargs`: keyword arguments for `gymnasium.make(env_id, ...)`.
    - `max_episode_steps`: the evaluation episode length, or `None` for the environment's
      registered limit.
    - `ref_min_score`, `ref_max_score`: the returns that normalise to 0 and 100 (random and
      expert policy), or `None` when unknown.
    - `obs_dim`, `act_dim`: the flat observation and action sizes of the dataset.
    - `observation_keys`: for Dict observations, the key order used to flatten them (pass it
      to [`flatten_observation`][selfguide_rl.flatten_observation]); `None` for arrays.
    - `env_spec_json`: Minari's full evaluation `EnvSpec` as JSON, when the dataset has one;
      [`make_env`][selfguide_rl.TaskInfo.make_env] prefers it over `env_id`/`env_kwargs`.
    - `note`: a remark for users, e.g. how the evaluation environment differs from the one
      the data was recorded in.
    """

    dataset_id: str
    family: TaskFamily
    env_id: str | None = None
    env_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    max_episode_steps: int | None = None
    ref_min_score: float | None = None
    ref_max_score: float | None = None
    obs_dim: int | None = None
    act_dim: int | None = None
    observation_keys: tuple[str, ...] | None = None
    env_spec_json: str | None = None
    note: str | None = None

    def __post_init__(self):
        check_family("TaskInfo", self.family)

    def make_env(self, **kwargs: Any) -> Any:
        """Build the evaluation environment and check that it fits the dataset.

        **Arguments:**

        - `**kwargs`: extra keyword arguments for `gymnasium.make` (e.g. `render_mode`).

        **Returns:**

        A `gymnasium.Env` whose flat observation and action sizes equal `obs_dim` and
        `act_dim`; a `ValueError` says so otherwise.
        """
        import gymnasium as gym

        import_gymnasium_robotics()
        if self.env_spec_json is not None:
            env = gym.make(gym.envs.registration.EnvSpec.from_json(self.env_spec_json), **kwargs)
        elif self.env_id is not None:
            extra = (
                {}
                if self.max_episode_steps is None
                else {"max_episode_steps": self.max_episode_steps}
            )
            env = gym.make(self.env_id, **{**dict(self.env_kwargs), **extra, **kwargs})
        else:
            raise ValueError(
                f"TaskInfo.make_env: no evaluation environment is known for "
                f"'{self.dataset_id}'. {self.note or ''}".rstrip()
            )
        check_env_spaces(self, env)
        if env.spec is not None:
            _warn_if_robotics_notice_concerns(env.spec.id)
        return env


def check_env_spaces(task: TaskInfo, env: Any) -> None:
    """Raise a `ValueError` if `env`'s flat observation/action sizes differ from the dataset's.

    **Arguments:**

    - `task`: the dataset's [`TaskInfo`][selfguide_rl.TaskInfo].
    - `env`: a `gymnasium.Env`.
    """
    from ._observations import space_dim

    caller = "check_env_spaces"
    obs_dim = space_dim(env.observation_space, caller, "observation")
    act_dim = space_dim(env.action_space, caller, "action")
    if (task.obs_dim is not None and obs_dim != task.obs_dim) or (
        task.act_dim is not None and act_dim != task.act_dim
    ):
        env_name = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
        raise ValueError(
            f"{caller}: the dataset '{task.dataset_id}' has {task.obs_dim}-d observations "
            f"and {task.act_dim}-d actions, but the environment '{env_name}' gives "
            f"{obs_dim}-d observations and {act_dim}-d actions. The data was recorded in "
            "another environment or version: evaluate in the environment it was recorded "
            "in, or use a dataset recorded in this one."
        )


# gymnasium-robotics 1.2.1-1.4.2 print (not warn) a notice to stderr on every import:
# "AdroitHandRelocateDense-v1, AdroitHandHammerDense-v1, AdroitHandDoorDense-v1 environment's
# reward functions were updated in v1.2.1 ...". It concerns only those Adroit tasks (registered
# as `AdroitHand<Task>-v1`, dense reward being the default), so the import holds it back and
# `TaskInfo.make_env` repeats it as a warning when it builds one of them.
_ROBOTICS_NOTICE = re.compile(r"^AdroitHand\w+-v\d+(, AdroitHand\w+-v\d+)* environment's rew")
_ADROIT_ENV = re.compile(r"AdroitHand(?P<task>[A-Za-z]+?)(?P<sparse>Sparse)?-v(?P<version>\d+)")


def import_gymnasium_robotics() -> bool:
    """Import gymnasium-robotics, which registers PointMaze, AntMaze, Adroit, ... with
    Gymnasium, holding back its import-time notice about Adroit rewards (it does not concern
    the other environments; [`TaskInfo.make_env`][selfguide_rl.TaskInfo.make_env] repeats it
    for the Adroit environments it names). Anything else it prints passes through.

    **Returns:**

    Whether gymnasium-robotics is installed.
    """
    return _quiet_robotics_import()[0]


@functools.cache
def _quiet_robotics_import() -> tuple[bool, str | None]:
    """`(installed, the held-back notice or None)`; the import runs once per process."""
    printed = io.StringIO()
    installed = True
    try:
        with contextlib.redirect_stderr(printed):
            import gymnasium_robotics  # noqa: F401
    except ImportError:
        installed = False
    finally:
        notice, others = _split_robotics_notice(printed.getvalue())
        sys.stderr.write(others)
    return installed, notice


def _split_robotics_notice(text: str) -> tuple[str | None, str]:
    """`(the Adroit notice or None, every other line)` of what the import printed."""
    notice, others = None, []
    for line in text.splitlines(keepends=True):
        if _ROBOTICS_NOTICE.match(line):
            notice = line.strip()
        else:
            others.append(line)
    return notice, "".join(others)


def _warn_if_robotics_notice_concerns(env_id: str) -> None:
    """Repeat the held-back notice as a warning if it names the environment `env_id`."""
    notice = _quiet_robotics_import()[1]
    match = _ADROIT_ENV.fullmatch(env_id)
    if notice is None or match is None or match["sparse"]:
        return
    named = f"AdroitHand{match['task']}Dense-v{match['version']}"
    if re.search(rf"\b{named}\b", notice):
        warnings.warn(
            f"TaskInfo.make_env: gymnasium-robotics' notice on '{env_id}' (the dense-reward "
            f"task it calls {named}): {notice}",
            UserWarning,
            stacklevel=3,
        )


def normalized_score(returns: Float[ArrayLike, "*batch"], task: TaskInfo) -> Float[Array, "*batch"]:
    """D4RL's normalised score: `100 (R − ref_min) / (ref_max − ref_min)`.

    0 is the random policy, 100 the expert policy of the task's reference.

    **Arguments:**

    - `returns`: undiscounted episode returns.
    - `task`: the dataset's [`TaskInfo`][selfguide_rl.TaskInfo], with reference scores.

    **Returns:**

    The normalised scores, same shape as `returns`.
    """
    if task.ref_min_score is None or task.ref_max_score is None:
        raise ValueError(
            f"normalized_score: '{task.dataset_id}' has no reference scores (ref_min_score="
            f"{task.ref_min_score}, ref_max_score={task.ref_max_score}). Report raw returns, "
            "or set them with `dataclasses.replace(task, ref_min_score=..., "
            "ref_max_score=...)`."
        )
    if task.ref_max_score == task.ref_min_score:
        raise ValueError(
            f"normalized_score: '{task.dataset_id}' has equal reference scores "
            f"({task.ref_min_score}); expected ref_max_score > ref_min_score."
        )
    returns = jnp.asarray(returns, dtype=jnp.float32)
    return 100.0 * (returns - task.ref_min_score) / (task.ref_max_score - task.ref_min_score)


# ---------------------------------------------------------------------------------------
# D4RL reference table.


@dataclasses.dataclass(frozen=True)
class _D4RLEnv:
    family: TaskFamily
    ref_min: float
    ref_max: float
    obs_dim: int
    act_dim: int
    datasets: tuple[str, ...]
    env_id: str | None = None
    max_episode_steps: int | None = None
    note: str | None = None


_LOCOMOTION = ("random", "medium", "expert", "medium-replay", "medium-expert", "full-replay")
_ADROIT = ("human", "cloned", "expert")
_SIM_NOTE = (
    "Evaluated in the Gymnasium MuJoCo port of the original mujoco-py task: same observation "
    "and action layout, dynamics and rewards close to but not identical with the original."
)
_NO_ENV = "No installed Gymnasium environment has the {obs}-d observations of D4RL's {name}; "


def _no_env(name: str, obs: int, minari_id: str) -> str:
    return _NO_ENV.format(obs=obs, name=name) + (
        f"load the Minari port instead, e.g. `load_minari('{minari_id}', download=True)`."
    )


_ANTMAZE_NOTE = _no_env("antmaze", 29, "D4RL/antmaze/umaze-v1")
_KITCHEN_NOTE = _no_env("kitchen", 60, "D4RL/kitchen/complete-v2")
_MAZE2D_NOTE = _no_env("maze2d", 4, "D4RL/pointmaze/umaze-v2") + (
    " Or build one with `selfguide-rl collect pointmaze-umaze`."
)

# fmt: off
_D4RL_ENVS: dict[str, _D4RLEnv] = {
    # name: _D4RLEnv(family, ref_min, ref_max, obs_dim, act_dim, datasets, env_id, steps, note)
    "halfcheetah": _D4RLEnv("locomotion", -280.178953, 12135.0, 17, 6, _LOCOMOTION,
                            "HalfCheetah-v5", 1000, _SIM_NOTE),
    "hopper": _D4RLEnv("locomotion", -20.272305, 3234.3, 11, 3, _LOCOMOTION,
                       "Hopper-v5", 1000, _SIM_NOTE),
    "walker2d": _D4RLEnv("locomotion", 1.629008, 4592.3, 17, 6, _LOCOMOTION,
                         "Walker2d-v5", 1000, _SIM_NOTE),
    "antmaze-umaze": _D4RLEnv("antmaze", 0.0, 1.0, 29, 8, ("", "diverse"), note=_ANTMAZE_NOTE),
    "antmaze-medium": _D4RLEnv("antmaze", 0.0, 1.0, 29, 8, ("play", "diverse"),
                               note=_ANTMAZE_NOTE),
    "antmaze-large": _D4RLEnv("antmaze", 0.0, 1.0, 29, 8, ("play", "diverse"),
                              note=_ANTMAZE_NOTE),
    "kitchen": _D4RLEnv("kitchen", 0.0, 4.0, 60, 9, ("complete", "partial", "mixed"),
                        note=_KITCHEN_NOTE),
    "pen": _D4RLEnv("adroit", 96.262799, 3076.8331017826877, 45, 24, _ADROIT,
                    "AdroitHandPen-v1", None, _SIM_NOTE),
    "door": _D4RLEnv("adroit", -56.512833, 2880.5693087298737, 39, 28, _ADROIT,
                     "AdroitHandDoor-v1", None, _SIM_NOTE),
    "hammer": _D4RLEnv("adroit", -274.856578, 12794.134825156867, 46, 26, _ADROIT,
                       "AdroitHandHammer-v1", None, _SIM_NOTE),
    "relocate": _D4RLEnv("adroit", -6.425911, 4233.877797728884, 39, 30, _ADROIT,
                         "AdroitHandRelocate-v1", None, _SIM_NOTE),
    "maze2d-umaze": _D4RLEnv("maze2d", 23.85, 161.86, 4, 2, ("",), note=_MAZE2D_NOTE),
    "maze2d-medium": _D4RLEnv("maze2d", 13.13, 277.39, 4, 2, ("",), note=_MAZE2D_NOTE),
    "maze2d-large": _D4RLEnv("maze2d", 6.7, 273.99, 4, 2, ("",), note=_MAZE2D_NOTE),
    "maze2d-umaze-dense": _D4RLEnv("maze2d", 68.537689, 193.66285642381482, 4, 2, ("",),
                                   note=_MAZE2D_NOTE),
    "maze2d-medium-dense": _D4RLEnv("maze2d", 44.264742, 297.4552547777125, 4, 2, ("",),
                                    note=_MAZE2D_NOTE),
    "maze2d-large-dense": _D4RLEnv("maze2d", 30.569041, 303.4857382709002, 4, 2, ("",),
                                   note=_MAZE2D_NOTE),
}
# fmt: on

# Longest first, so that "antmaze-umaze" wins over a shorter prefix.
_D4RL_ENV_NAMES = sorted(_D4RL_ENVS, key=len, reverse=True)
_D4RL_ID_RE = re.compile(r"(?P<body>[a-z0-9]+(?:-[a-z0-9]+)*)-v(?P<version>\d+)")


def d4rl_dataset_names() -> tuple[str, ...]:
    """Every D4RL dataset name (version-free, e.g. `door-human`) the reference table knows."""
    names = []
    for env, entry in _D4RL_ENVS.items():
        names += [env if not d else f"{env}-{d}" for d in entry.datasets]
    return tuple(sorted(names))


def _parse_d4rl(caller: str, dataset_id: str) -> tuple[str, _D4RLEnv]:
    match = _D4RL_ID_RE.fullmatch(dataset_id)
    if match is None:
        raise ValueError(
            f"{caller}: malformed D4RL dataset name {dataset_id!r}. Expected "
            "'<env>-<dataset>-v<N>' in lower case, e.g. 'door-human-v0' or "
            "'hopper-medium-replay-v2'."
        )
    body = match.group("body")
    for env in _D4RL_ENV_NAMES:
        if body == env or body.startswith(env + "-"):
            dataset = body[len(env) + 1 :]
            entry = _D4RL_ENVS[env]
            if dataset in entry.datasets:
                return env, entry
    raise ValueError(
        f"{caller}: unknown D4RL dataset {dataset_id!r}. Known (any version -vN): "
        f"{', '.join(d4rl_dataset_names())}."
    )


def d4rl_task_info(dataset_id: str) -> TaskInfo:
    """Task metadata for a classic D4RL dataset name, from D4RL's reference table.

    **Arguments:**

    - `dataset_id`: a D4RL name such as `"door-human-v0"`, `"hopper-medium-replay-v2"`,
      `"antmaze-large-diverse-v2"`, `"kitchen-mixed-v0"`.

    **Returns:**

    A [`TaskInfo`][selfguide_rl.TaskInfo] with D4RL's reference scores, the task family and
    the Gymnasium environment to evaluate in (`None` where none has the dataset's spaces).

    **Example:**

    ```python
    task = d4rl_task_info("door-human-v0")
    task.ref_min_score, task.ref_max_score  # (-56.512833, 2880.5693087298737)
    ```
    """
    _, entry = _parse_d4rl("d4rl_task_info", dataset_id)
    return TaskInfo(
        dataset_id=dataset_id,
        family=entry.family,
        env_id=entry.env_id,
        max_episode_steps=entry.max_episode_steps,
        ref_min_score=entry.ref_min,
        ref_max_score=entry.ref_max,
        obs_dim=entry.obs_dim,
        act_dim=entry.act_dim,
        note=entry.note,
    )


# File names D4RL published its datasets under, where they differ from the dataset name.
_D4RL_FILE_NAMES = (
    {
        f"{env}-v0_demos_clipped.hdf5": f"{env}-human-v0"
        for env in ("pen", "door", "hammer", "relocate")
    }
    | {
        f"{env}-demos-v0-bc-combined.hdf5": f"{env}-cloned-v0"
        for env in ("pen", "door", "hammer", "relocate")
    }
    | {
        f"{env}-v0_expert_clipped.hdf5": f"{env}-expert-v0"
        for env in ("pen", "door", "hammer", "relocate")
    }
)


def d4rl_name_from_path(path: str | Path) -> str | None:
    """The D4RL dataset name a file was published as, or `None` if not recognised."""
    name = Path(path).name
    if name in _D4RL_FILE_NAMES:
        return _D4RL_FILE_NAMES[name]
    stem = Path(name).stem.replace("_", "-")  # gym_mujoco_v2: halfcheetah_medium_replay-v2
    try:
        _parse_d4rl("d4rl_name_from_path", stem)
    except ValueError:
        return None
    return stem


def d4rl_entry(name: str) -> "_D4RLEnv | None":
    """D4RL's table entry (family, reference scores) for a version-free name like
    `door-human`, or `None` if unknown."""
    try:
        return _parse_d4rl("", name + "-v0")[1]
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------
# Task families of environments.

_ENV_FAMILIES: tuple[tuple[str, TaskFamily], ...] = (
    ("PointMaze", "maze2d"),
    ("AntMaze", "antmaze"),
    ("FrankaKitchen", "kitchen"),
    ("AdroitHand", "adroit"),
    ("HalfCheetah", "locomotion"),
    ("Hopper", "locomotion"),
    ("Walker2d", "locomotion"),
    ("Ant-", "locomotion"),
    ("Humanoid", "locomotion"),
    ("Swimmer", "locomotion"),
)


def family_of_env(env_id: str | None) -> TaskFamily:
    """The task family of a Gymnasium environment id (`"other"` if not recognised)."""
    if env_id is not None:
        for prefix, family in _ENV_FAMILIES:
            if env_id.startswith(prefix):
                return family
    return "other"


def check_family(caller: str, family: str) -> TaskFamily:
    if family not in TASK_FAMILIES:
        raise ValueError(
            f"{caller}: unknown task family {family!r}; expected one of {TASK_FAMILIES}."
        )
    return family  # type: ignore[return-value]
