"""One entry point for every dataset source: a Minari id or a D4RL HDF5 file."""

from pathlib import Path

from ._d4rl_hdf5 import d4rl_file_task, load_d4rl_hdf5
from ._minari import load_minari, minari_task_info
from ._tasks import TaskInfo
from ._transitions import Transitions


def load_dataset(
    source: str | Path,
    *,
    download: bool = False,
    dataset_id: str | None = None,
    root: str | Path | None = None,
) -> tuple[Transitions, TaskInfo | None]:
    """Load a dataset from a Minari id or a D4RL HDF5 file.

    A `Path`, or a string ending in `.hdf5`/`.h5`, is read with
    [`load_d4rl_hdf5`][selfguide_rl.load_d4rl_hdf5]; anything else is a Minari id for
    [`load_minari`][selfguide_rl.load_minari].

    **Arguments:**

    - `source`: a Minari id (`"D4RL/door/human-v2"`) or the path of a D4RL HDF5 file.
    - `download`: for Minari ids, fetch a dataset that is not stored locally.
    - `dataset_id`: for HDF5 files, the D4RL name (e.g. `"door-human-v0"`) when the file
      name does not tell.
    - `root`: for Minari ids, the Minari root to read from (default
      `$MINARI_DATASETS_PATH`, else `~/.minari/datasets`); ignored for HDF5 files.

    **Returns:**

    `(transitions, task)`; `task` is `None` only for an HDF5 file of unknown name.
    """
    if _is_hdf5(source):
        return load_d4rl_hdf5(source, dataset_id=dataset_id)
    _check_no_dataset_id("load_dataset", source, dataset_id)
    return load_minari(source, download=download, root=root)


def load_task(
    source: str | Path,
    *,
    dataset_id: str | None = None,
    root: str | Path | None = None,
) -> TaskInfo | None:
    """The [`TaskInfo`][selfguide_rl.TaskInfo] that
    [`load_dataset`][selfguide_rl.load_dataset] would return for the same arguments, without
    reading the transitions (a Minari dataset's metadata, or D4RL's table for an HDF5 file;
    never downloads)."""
    if _is_hdf5(source):
        return d4rl_file_task("load_task", source, dataset_id)
    _check_no_dataset_id("load_task", source, dataset_id)
    return minari_task_info(str(source), root=root)


def _is_hdf5(source: str | Path) -> bool:
    return isinstance(source, Path) or str(source).endswith((".hdf5", ".h5"))


def _check_no_dataset_id(caller: str, source: str | Path, dataset_id: str | None) -> None:
    if dataset_id is not None:
        raise ValueError(
            f"{caller}: dataset_id={dataset_id!r} only applies to HDF5 files, but "
            f"{source!r} is a Minari id. Drop the dataset_id argument."
        )
