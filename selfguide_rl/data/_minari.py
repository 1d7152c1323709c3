"""Minari datasets, by id: downloaded ones (`D4RL/...`, `mujoco/...`) and locally built ones."""

import contextlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ._errors import DatasetNotFoundError
from ._observations import flatten_observation, observation_keys, space_dim
from ._tasks import TaskInfo, d4rl_entry, family_of_env
from ._transitions import Transitions, build_transitions

# Minari's own rule is `(namespace/)name(-vN)`; a version is needed to load a dataset.
_MINARI_ID_RE = re.compile(r"(?:[-_\w][-_\w/]*[-_\w]+/)?[-_\w]+?-v\d+")

_COLLECT_HINT = (
    "To build a local dataset by the D4RL recipe instead, run e.g. "
    "`selfguide-rl collect pointmaze-umaze-dense --steps 1000000 --seed 0`, which writes "
    "'selfguide/pointmaze-umaze-dense-v1' (see `selfguide-rl collect --help` for the tasks)."
)


def minari_root(root: str | Path | None = None) -> Path:
    """The local Minari root: `root` if given, else `$MINARI_DATASETS_PATH`, else
    `~/.minari/datasets`."""
    if root is not None:
        return Path(root).expanduser().resolve()
    env = os.environ.get("MINARI_DATASETS_PATH")
    return Path(env) if env else Path.home() / ".minari" / "datasets"


@contextlib.contextmanager
def minari_writes_to(root: str | Path | None) -> Iterator[None]:
    """Let Minari's own downloader and dataset writer use `root` for the duration.

    They find their root only through `$MINARI_DATASETS_PATH`; this is the one place it
    is set, and the old value (or its absence) is restored on the way out. `None` leaves
    the environment alone.
    """
    if root is None:
        yield
        return
    old = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(minari_root(root))
    try:
        yield
    finally:
        if old is None:
            del os.environ["MINARI_DATASETS_PATH"]
        else:
            os.environ["MINARI_DATASETS_PATH"] = old


def fresh_dataset_path(
    caller: str, dataset_id: str, root: str | Path | None, overwrite: bool
) -> Path:
    """The folder a new dataset `dataset_id` is written to: an existing one is removed with
    `overwrite`, else refused with the way out."""
    path = minari_root(root) / dataset_id
    if path.exists():
        if not overwrite:
            raise ValueError(
                f"{caller}: a dataset '{dataset_id}' already exists at {path}. Pass "
                "overwrite=True (`--force` on the command line) to replace it, or "
                "choose another dataset_id."
            )
        shutil.rmtree(path)
    return path


def check_dataset_id(caller: str, dataset_id: str) -> str:
    """Raise a `ValueError` naming `caller` unless `dataset_id` is a Minari id with version."""
    if not isinstance(dataset_id, str) or not _MINARI_ID_RE.fullmatch(dataset_id):
        hint = ""
        if isinstance(dataset_id, str):
            if dataset_id.endswith((".hdf5", ".h5")):
                hint = " It looks like a file: use `load_d4rl_hdf5(path)` for D4RL HDF5 files."
            elif re.fullmatch(r"[-_\w/]+", dataset_id) and not re.search(r"-v\d+$", dataset_id):
                hint = f" The version is missing: e.g. '{dataset_id}-v0'."
        raise ValueError(
            f"{caller}: malformed dataset id {dataset_id!r}. Minari ids look like "
            "'namespace/name-vN' (letters, digits, '-', '_', '/' and a version suffix), e.g. "
            f"'D4RL/door/human-v2' or 'selfguide/pointmaze-umaze-dense-v1'.{hint}"
        )
    return dataset_id


def _local_ids(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(str(p.parent.relative_to(root)) for p in root.rglob("data") if p.is_dir())


def open_minari(
    caller: str, dataset_id: str, *, download: bool = False, root: str | Path | None = None
) -> Any:
    """The `minari.MinariDataset` for `dataset_id` under the Minari root `minari_root(root)`,
    local first, then (optionally) downloaded."""
    import minari

    check_dataset_id(caller, dataset_id)
    root = minari_root(root)
    data_path = root / dataset_id / "data"
    if not data_path.is_dir():
        local = _local_ids(root)
        have = (
            f" Local datasets there: {', '.join(local[:20])}."
            if local
            else " There are no local datasets there."
        )
        if not download:
            raise DatasetNotFoundError(
                f"{caller}: dataset '{dataset_id}' is not in the local Minari root {root} "
                f"(looked for {data_path}; pass root=... or set MINARI_DATASETS_PATH to use "
                f"another root).{have} "
                "Pass download=True to fetch it from Minari's remote. " + _COLLECT_HINT
            )
        try:
            with minari_writes_to(root):
                minari.download_dataset(dataset_id)
        except Exception as e:  # network, missing extra, unknown remote id: all end here
            raise DatasetNotFoundError(
                f"{caller}: dataset '{dataset_id}' is not in the local Minari root {root} "
                f"(looked for {data_path}), and downloading it from Minari's remote failed: "
                f"{type(e).__name__}: {e}.{have} Without a network, copy the dataset folder "
                f"to {root / dataset_id}. " + _COLLECT_HINT
            ) from e
        if not data_path.is_dir():
            raise DatasetNotFoundError(
                f"{caller}: downloading '{dataset_id}' reported no error, but {data_path} "
                "does not exist. " + _COLLECT_HINT
            )
    return minari.MinariDataset(data_path)


def load_minari(
    dataset_id: str, *, download: bool = False, root: str | Path | None = None
) -> tuple[Transitions, TaskInfo]:
    """Load a Minari dataset by id into [`Transitions`][selfguide_rl.Transitions].

    The local Minari root (`root`, else `$MINARI_DATASETS_PATH`, else `~/.minari/datasets`)
    is tried first; with `download=True` a missing dataset is then fetched into it with
    Minari's own download.
    Datasets built with `selfguide-rl collect` live in the same root and load the same way.

    Minari stores `T + 1` observations for an episode of `T` steps, so
    `next_observations[i]` is always the real next observation, also after the last step
    (terminal or truncated). `terminals` are Minari's `terminations`, `timeouts` its
    `truncations`. Dict observations are flattened with
    [`flatten_observation`][selfguide_rl.flatten_observation] (key order in
    `task.observation_keys`).

    **Arguments:**

    - `dataset_id`: a Minari id, e.g. `"D4RL/door/human-v2"`, `"mujoco/hopper/medium-v0"`,
      `"selfguide/pointmaze-umaze-dense-v1"`.
    - `download`: fetch the dataset from Minari's remote if it is not stored locally.
    - `root`: the Minari root to read (and download) from.

    **Returns:**

    `(transitions, task)`, with the dataset's [`TaskInfo`][selfguide_rl.TaskInfo].

    **Example:**

    ```python
    data, task = load_minari("D4RL/door/human-v2", download=True)
    env = task.make_env()
    ```
    """
    caller = "load_minari"
    dataset = open_minari(caller, dataset_id, download=download, root=root)
    task = minari_task_info(dataset)
    obs_list, next_list, act_list, rew_list, term_list, trunc_list, lengths = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    for episode in dataset.iterate_episodes():
        obs = flatten_observation(episode.observations, task.observation_keys)
        actions = flatten_observation(episode.actions)
        steps = len(episode.rewards)
        if obs.shape[0] != steps + 1 or actions.shape[0] != steps:
            raise ValueError(
                f"{caller}: episode {episode.id} of '{dataset_id}' has {obs.shape[0]} "
                f"observations and {actions.shape[0]} actions for {steps} rewards; Minari "
                "stores steps + 1 observations and one action per step. The dataset is damaged."
            )
        if obs.shape[1] != task.obs_dim or actions.shape[1] != task.act_dim:
            raise ValueError(
                f"{caller}: episode {episode.id} of '{dataset_id}' has {obs.shape[1]}-d "
                f"observations and {actions.shape[1]}-d actions, but the dataset's spaces "
                f"say {task.obs_dim} and {task.act_dim}. The dataset is damaged."
            )
        obs_list.append(obs[:-1])
        next_list.append(obs[1:])
        act_list.append(actions)
        rew_list.append(np.asarray(episode.rewards, dtype=np.float32).reshape(-1))
        term = np.asarray(episode.terminations, dtype=bool).reshape(-1)
        trunc = np.asarray(episode.truncations, dtype=bool).reshape(-1)
        if steps > 0 and not (term[-1] or trunc[-1]):
            trunc = trunc.copy()
            trunc[-1] = True  # an episode always ends somewhere: the recording stopped
        term_list.append(term)
        trunc_list.append(trunc)
        lengths.append(steps)

    def cat(arrays: list[np.ndarray], width: int | None) -> np.ndarray:
        if arrays:
            return np.concatenate(arrays)
        return np.zeros((0,) if width is None else (0, width), np.float32)

    transitions = build_transitions(
        caller + f"('{dataset_id}')",
        observations=cat(obs_list, task.obs_dim),
        actions=cat(act_list, task.act_dim),
        rewards=cat(rew_list, None),
        next_observations=cat(next_list, task.obs_dim),
        terminals=cat(term_list, None).astype(bool),
        timeouts=cat(trunc_list, None).astype(bool),
        episode_lengths=np.asarray(lengths, dtype=np.int64),
    )
    return transitions, task


def _spec_fields(spec_json: str | None) -> tuple[str | None, dict, int | None]:
    if spec_json is None:
        return None, {}, None
    spec = json.loads(spec_json)
    return spec.get("id"), dict(spec.get("kwargs") or {}), spec.get("max_episode_steps")


def _d4rl_name(dataset_id: str) -> str | None:
    """`D4RL/door/human-v2` -> `door-human`; `mujoco/hopper/medium-v0` -> `hopper-medium`."""
    parts = re.sub(r"-v\d+$", "", dataset_id).split("/")
    if len(parts) != 3 or parts[0] not in ("D4RL", "mujoco"):
        return None
    env = "maze2d" if parts[1] == "pointmaze" else parts[1]
    return f"{env}-{parts[2]}"


def minari_task_info(dataset: Any, *, root: str | Path | None = None) -> TaskInfo:
    """Task metadata of a Minari dataset (an id or an opened `minari.MinariDataset`).

    The evaluation environment is the dataset's `eval_env_spec` (else its `env_spec`); the
    reference scores are its `ref_min_score`/`ref_max_score` when stored, else D4RL's for the
    matching `D4RL/...` or `mujoco/...` task, else `None`. The family comes from the
    environment id (PointMaze → maze2d, AntMaze, FrankaKitchen → kitchen, AdroitHand →
    adroit, MuJoCo walkers → locomotion).

    **Arguments:**

    - `dataset`: a Minari dataset id (loaded locally, never downloaded) or a
      `minari.MinariDataset`.
    - `root`: for an id, the Minari root to read from (default `$MINARI_DATASETS_PATH` or
      `~/.minari/datasets`).

    **Returns:**

    The dataset's [`TaskInfo`][selfguide_rl.TaskInfo].
    """
    if isinstance(dataset, str):
        dataset = open_minari("minari_task_info", dataset, download=False, root=root)
    metadata = dataset.storage.metadata
    dataset_id = str(metadata["dataset_id"])
    caller = f"minari_task_info('{dataset_id}')"
    spec_json = metadata.get("eval_env_spec") or metadata.get("env_spec")
    env_id, env_kwargs, max_steps = _spec_fields(spec_json)

    obs_space, act_space = dataset.observation_space, dataset.action_space
    obs_dim = space_dim(obs_space, caller, "observation")
    act_dim = space_dim(act_space, caller, "action")
    from gymnasium import spaces

    keys = observation_keys(obs_space.keys()) if isinstance(obs_space, spaces.Dict) else None

    ref_min, ref_max = metadata.get("ref_min_score"), metadata.get("ref_max_score")
    name = _d4rl_name(dataset_id)
    entry = None if name is None else d4rl_entry(name)
    if (ref_min is None or ref_max is None) and entry is not None:
        ref_min, ref_max = entry.ref_min, entry.ref_max
    family = family_of_env(env_id)
    if family == "other" and entry is not None:
        family = entry.family
    return TaskInfo(
        dataset_id=dataset_id,
        family=family,
        env_id=env_id,
        env_kwargs=env_kwargs,
        max_episode_steps=max_steps,
        ref_min_score=None if ref_min is None else float(ref_min),
        ref_max_score=None if ref_max is None else float(ref_max),
        obs_dim=obs_dim,
        act_dim=act_dim,
        observation_keys=keys,
        env_spec_json=spec_json,
        note=metadata.get("description"),
    )
