"""Classic D4RL HDF5 files (`observations/actions/rewards/terminals/timeouts`)."""

from pathlib import Path

import numpy as np

from ._errors import DatasetNotFoundError
from ._tasks import TaskInfo, _parse_d4rl, d4rl_name_from_path, d4rl_task_info
from ._transitions import Transitions, build_transitions

# D4RL v0 Adroit human demonstrations: `timeouts` is set at a fixed step count (200 for
# door) *inside* demonstrations that go on afterwards, while `terminals` marks every
# demonstration's end. Episodes there are delimited by terminals only.
_TERMINALS_ONLY = frozenset(f"{env}-human-v0" for env in ("pen", "door", "hammer", "relocate"))

_REQUIRED = ("observations", "actions", "rewards", "terminals")


def d4rl_file_task(caller: str, path: str | Path, dataset_id: str | None) -> TaskInfo | None:
    """The task of a D4RL HDF5 file: from `dataset_id` if given (a malformed or unknown name
    fails here), else from the name D4RL published the file under; `None` if neither tells."""
    if dataset_id is not None:
        _parse_d4rl(caller, dataset_id)
    name = dataset_id if dataset_id is not None else d4rl_name_from_path(path)
    return None if name is None else d4rl_task_info(name)


def load_d4rl_hdf5(
    path: str | Path,
    *,
    dataset_id: str | None = None,
    episode_ends: str = "auto",
) -> tuple[Transitions, TaskInfo | None]:
    """Load a D4RL HDF5 file into [`Transitions`][selfguide_rl.Transitions].

    **Episode boundaries.** An episode ends after step `i` if `terminals[i]` (a terminal
    state) or `timeouts[i]` (the time limit cut it), and after the file's last step. With
    `episode_ends="terminals"` only terminals end episodes and a `timeouts` flag inside an
    episode is cleared; `"auto"` picks that for the D4RL v0 Adroit human files
    (`door-human-v0` and its siblings), whose `timeouts` mark step 200 inside demonstrations
    that continue to their terminal, and `"terminals_or_timeouts"` for everything else. A
    file whose last step is neither terminal nor timeout gets `timeouts` set there (the
    recording stops).

    **Next observations.** Within an episode, `next_observations[i] = observations[i + 1]`.
    Where the file stores `next_observations` (D4RL v2 locomotion), those are used as they
    are. Otherwise an episode's last step has no stored successor and gets a copy of its own
    observation: after a terminal it is never used (the bootstrap is masked by
    `1 − terminal`); after a timeout it stands in for the unseen next state, so
    `V(s') ≈ V(s)` for that one step. No step is dropped, so returns and step counts are
    those of the file.

    **Arguments:**

    - `path`: the `.hdf5` file.
    - `dataset_id`: its D4RL name (e.g. `"door-human-v0"`), for the task metadata and the
      episode rule; guessed from the file name D4RL published it under when omitted.
    - `episode_ends`: `"auto"`, `"terminals_or_timeouts"` or `"terminals"`, as above.

    **Returns:**

    `(transitions, task)`: the data, and its [`TaskInfo`][selfguide_rl.TaskInfo] from the
    D4RL reference table (`None` if the name is unknown).

    **Example:**

    ```python
    data, task = load_d4rl_hdf5("door-v0_demos_clipped.hdf5")
    data.num_episodes, len(data)  # (25, 6729)
    ```
    """
    caller = "load_d4rl_hdf5"
    path = Path(path)
    if episode_ends not in ("auto", "terminals_or_timeouts", "terminals"):
        raise ValueError(
            f"{caller}: episode_ends={episode_ends!r}; expected 'auto', "
            "'terminals_or_timeouts' or 'terminals'."
        )
    if not path.is_file():
        raise DatasetNotFoundError(
            f"{caller}: no file at {path}. Expected a D4RL HDF5 file with datasets "
            f"{', '.join(_REQUIRED)} (and optionally timeouts); check the path."
        )
    task = d4rl_file_task(caller, path, dataset_id)

    import h5py

    with h5py.File(path, "r") as f:
        missing = [k for k in _REQUIRED if k not in f]
        if missing:
            raise ValueError(
                f"{caller}: {path.name} lacks the datasets {missing}; found {sorted(f.keys())}. "
                "Expected the D4RL layout observations/actions/rewards/terminals[/timeouts]."
            )
        obs = np.asarray(f["observations"][:], dtype=np.float32)
        actions = np.asarray(f["actions"][:], dtype=np.float32)
        rewards = np.asarray(f["rewards"][:], dtype=np.float32).reshape(-1)
        terminals = np.asarray(f["terminals"][:]).astype(bool).reshape(-1)
        n = rewards.shape[0]
        timeouts = (
            np.asarray(f["timeouts"][:]).astype(bool).reshape(-1)
            if "timeouts" in f
            else np.zeros(n, dtype=bool)
        )
        stored_next = (
            np.asarray(f["next_observations"][:], dtype=np.float32)
            if "next_observations" in f
            else None
        )

    if obs.ndim != 2 or actions.ndim != 2:
        raise ValueError(
            f"{caller}: observations {obs.shape} and actions {actions.shape} must be 2-D "
            "(steps, dim)."
        )
    if n > 0 and not (
        obs.shape[0] == actions.shape[0] == terminals.shape[0] == timeouts.shape[0] == n
    ):
        raise ValueError(
            f"{caller}: {path.name} has {obs.shape[0]} observations, {actions.shape[0]} "
            f"actions, {n} rewards, {terminals.shape[0]} terminals and {timeouts.shape[0]} "
            "timeouts; expected one of each per step."
        )
    if task is not None and (obs.shape[1], actions.shape[1]) != (task.obs_dim, task.act_dim):
        raise ValueError(
            f"{caller}: {path.name} has {obs.shape[1]}-d observations and "
            f"{actions.shape[1]}-d actions, but D4RL's '{task.dataset_id}' has "
            f"{task.obs_dim}-d observations and {task.act_dim}-d actions"
            + (" (the name was taken from the file name)" if dataset_id is None else "")
            + ". Pass the right `dataset_id` for this file."
        )

    if episode_ends == "auto":
        name = None if task is None else task.dataset_id  # the D4RL name, as given
        episode_ends = "terminals" if name in _TERMINALS_ONLY else "terminals_or_timeouts"
    ends = terminals | timeouts if episode_ends == "terminals_or_timeouts" else terminals.copy()
    timeouts = timeouts & ends  # a timeout inside an episode truncates nothing
    if n > 0 and not ends[-1]:
        ends[-1] = True
        timeouts[-1] = True  # the recording stops: truncated, not terminal

    if stored_next is not None:
        next_obs = stored_next
    else:
        next_obs = obs.copy()
        if n > 1:
            inside = ~ends[:-1]
            next_obs[:-1][inside] = obs[1:][inside]

    end_idx = np.flatnonzero(ends)
    lengths = np.diff(np.concatenate([[-1], end_idx]))
    transitions = build_transitions(
        caller,
        observations=obs,
        actions=actions,
        rewards=rewards,
        next_observations=next_obs,
        terminals=terminals,
        timeouts=timeouts,
        episode_lengths=lengths,
    )
    return transitions, task
