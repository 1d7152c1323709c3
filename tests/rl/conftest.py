"""Fixtures for the offline-RL data tests: a private Minari root and tiny datasets."""

import importlib.util
from pathlib import Path

import pytest

DOOR_FILE = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "d4rl_door-human-v0"
    / "door-v0_demos_clipped.hdf5"
)


@pytest.fixture(autouse=True)
def minari_root(tmp_path, monkeypatch):
    """Every test gets its own empty Minari root, never the user's ~/.minari."""
    root = tmp_path / "minari"
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    return root


def _collect_once(tmp_path_factory, task: str, steps: int = 300):
    pytest.importorskip("minari")
    if importlib.util.find_spec("gymnasium_robotics") is None:  # imported by the library
        pytest.skip("gymnasium-robotics is not installed")
    from selfguide_rl.data import collect_pointmaze

    root = tmp_path_factory.mktemp("minari_shared")
    report = collect_pointmaze(task, steps=steps, seed=0, ref_episodes=1, root=root)
    return root, report.dataset_id


@pytest.fixture(scope="session")
def umaze_dense(tmp_path_factory):
    """A 300-step PointMaze UMaze dense dataset in D4RL's view (4-d observations, rewards
    for the evaluation goal), built once: `(root, dataset_id)`."""
    return _collect_once(tmp_path_factory, "pointmaze-umaze-dense")


@pytest.fixture(scope="session")
def umaze_sparse(tmp_path_factory):
    """The sparse UMaze in D4RL's view, 2,000 steps (so that the goal is reached)."""
    return _collect_once(tmp_path_factory, "pointmaze-umaze", steps=2000)


@pytest.fixture(scope="session")
def umaze_dense_goal(tmp_path_factory):
    """The goal-conditioned UMaze dense dataset (8-d observations), built once."""
    return _collect_once(tmp_path_factory, "pointmaze-umaze-dense-goal")


@pytest.fixture
def door_file():
    if not DOOR_FILE.is_file():
        pytest.skip(
            f"the D4RL door-human-v0 file is not at {DOOR_FILE}: these tests need the "
            "shared data folder `../shared/data/` beside the repository"
        )
    pytest.importorskip("h5py")
    return DOOR_FILE


@pytest.fixture
def write_d4rl(tmp_path):
    """Write a small D4RL-layout HDF5 file: `write_d4rl(name, **arrays) -> path`."""
    h5py = pytest.importorskip("h5py")

    def write(name, **arrays):
        path = tmp_path / name
        with h5py.File(path, "w") as f:
            for key, value in arrays.items():
                f.create_dataset(key, data=value)
        return path

    return write
