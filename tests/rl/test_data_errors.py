"""Every error of the data layer, checked by its message."""

import dataclasses
import warnings

import numpy as np
import pytest

from selfguide_rl.data import (
    DatasetNotFoundError,
    TaskInfo,
    check_env_spaces,
    collect_pointmaze,
    d4rl_task_info,
    flatten_observation,
    load_d4rl_hdf5,
    load_dataset,
    load_minari,
    normalized_score,
    process_rewards,
)


def _d4rl_arrays(n=4):
    return dict(
        observations=np.zeros((n, 3), np.float32),
        actions=np.zeros((n, 2), np.float32),
        rewards=np.ones(n, np.float32),
        terminals=np.arange(n) == n - 1,
        timeouts=np.zeros(n, bool),
    )


# --- missing datasets ------------------------------------------------------------------


def test_missing_minari_dataset_offline(minari_root):
    with pytest.raises(DatasetNotFoundError) as info:
        load_minari("D4RL/door/human-v2")
    message = str(info.value)
    assert "load_minari: dataset 'D4RL/door/human-v2' is not in the local Minari root" in message
    assert str(minari_root / "D4RL/door/human-v2" / "data") in message
    assert "There are no local datasets there" in message
    assert "download=True" in message
    assert "selfguide-rl collect pointmaze-umaze-dense" in message


def test_failed_download_says_what_was_tried(monkeypatch):
    import minari

    calls = []

    def offline(dataset_id, *args, **kwargs):
        calls.append(dataset_id)
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(minari, "download_dataset", offline)
    with pytest.raises(
        DatasetNotFoundError,
        match=r"(?s)is not in the local Minari root .*and downloading it from Minari's remote "
        r"failed: ConnectionError: Name or service not known.*selfguide-rl collect",
    ):
        load_minari("mujoco/hopper/medium-v0", download=True)
    assert calls == ["mujoco/hopper/medium-v0"]


def test_missing_hdf5_file(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"load_d4rl_hdf5: no file at .*nope\.hdf5"):
        load_d4rl_hdf5(tmp_path / "nope.hdf5")


# --- malformed ids and names -------------------------------------------------------------


@pytest.mark.parametrize(
    "bad, hint",
    [
        ("D4RL/door/human", "The version is missing: e.g. 'D4RL/door/human-v0'"),
        ("door human-v0", ""),
        ("", ""),
        ("D4RL//door-v0", ""),
        ("door-v0_demos_clipped.hdf5", "use `load_d4rl_hdf5\\(path\\)`"),
    ],
)
def test_malformed_minari_id(bad, hint):
    with pytest.raises(ValueError, match=f"load_minari: malformed dataset id .*{hint}"):
        load_minari(bad)


def test_malformed_id_is_caught_before_collecting(minari_root):
    with pytest.raises(ValueError, match="collect_pointmaze: malformed dataset id 'my dataset'"):
        collect_pointmaze("pointmaze-umaze", steps=10, dataset_id="my dataset")
    assert not minari_root.exists() or not any(minari_root.iterdir())


def test_unknown_and_malformed_d4rl_names():
    with pytest.raises(
        ValueError,
        match=r"d4rl_task_info: unknown D4RL dataset 'door-random-v0'"
        r"\. Known .*door-human",
    ):
        d4rl_task_info("door-random-v0")
    with pytest.raises(ValueError, match="d4rl_task_info: malformed D4RL dataset name 'Door'"):
        d4rl_task_info("Door")


def test_unknown_pointmaze_task():
    with pytest.raises(
        ValueError, match="unknown PointMaze task 'pointmaze-huge'; expected one of"
    ):
        collect_pointmaze("pointmaze-huge", steps=10)


def test_bad_collection_arguments():
    with pytest.raises(ValueError, match="collect_pointmaze: steps=0; expected a positive"):
        collect_pointmaze("pointmaze-umaze", steps=0)
    with pytest.raises(ValueError, match="collect_pointmaze: action_noise=-1.0; expected"):
        collect_pointmaze("pointmaze-umaze", steps=10, action_noise=-1.0)


def test_existing_dataset_is_not_overwritten():
    pytest.importorskip("gymnasium_robotics")
    collect_pointmaze("pointmaze-umaze", steps=20, ref_episodes=1)
    with pytest.raises(
        ValueError,
        match=r"'selfguide/pointmaze-umaze-v1' already exists .*"
        r"overwrite=True \(`--force`",
    ):
        collect_pointmaze("pointmaze-umaze", steps=20, ref_episodes=1)
    report = collect_pointmaze("pointmaze-umaze", steps=30, ref_episodes=1, overwrite=True)
    assert report.steps == 30


# --- spaces that do not match -------------------------------------------------------------


def test_minari_dataset_whose_spaces_do_not_match_its_environment():
    gym = pytest.importorskip("gymnasium")
    pytest.importorskip("gymnasium_robotics")
    minari = pytest.importorskip("minari")

    collector = minari.DataCollector(gym.make("PointMaze_UMaze-v3"))
    collector.reset(seed=0)
    for _ in range(5):
        collector.step(np.zeros(2, np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        collector.create_dataset(
            "test/mismatch-v0", eval_env="InvertedPendulum-v5", algorithm_name="zeros"
        )
    collector.close()
    _, task = load_minari("test/mismatch-v0")
    with pytest.raises(
        ValueError,
        match=r"check_env_spaces: the dataset 'test/mismatch-v0' has 8-d observations and 2-d "
        r"actions, but the environment 'InvertedPendulum-v5' gives 4-d observations and 1-d "
        r"actions\. The data was recorded in another environment",
    ):
        task.make_env()


def test_check_env_spaces_directly():
    gym = pytest.importorskip("gymnasium")
    env = gym.make("InvertedPendulum-v5")
    with pytest.raises(ValueError, match="has 39-d observations and 28-d actions"):
        check_env_spaces(d4rl_task_info("door-human-v0"), env)
    env.close()


def test_d4rl_file_with_the_wrong_name(write_d4rl, door_file):
    with pytest.raises(
        ValueError,
        match=r"has 39-d observations and 28-d actions, but D4RL's "
        r"'pen-human-v0' has 45-d .*Pass the right `dataset_id`",
    ):
        load_d4rl_hdf5(door_file, dataset_id="pen-human-v0")
    guessed = write_d4rl("door-v0_demos_clipped.hdf5", **_d4rl_arrays())
    with pytest.raises(ValueError, match=r"\(the name was taken from the file name\)"):
        load_d4rl_hdf5(guessed)


def test_task_without_environment():
    with pytest.raises(
        ValueError,
        match=r"make_env: no evaluation environment is known for "
        r"'antmaze-umaze-v2'\. No installed Gymnasium",
    ):
        d4rl_task_info("antmaze-umaze-v2").make_env()


# --- bad values ------------------------------------------------------------------------


def test_nan_rewards_in_a_d4rl_file(write_d4rl):
    a = _d4rl_arrays()
    a["rewards"][2] = np.nan
    with pytest.raises(
        ValueError,
        match=r"load_d4rl_hdf5: `rewards` holds 1 non-finite values "
        r"\(1 NaN\) in 1 steps, the first at step 2",
    ):
        load_d4rl_hdf5(write_d4rl("nan.hdf5", **a))


def test_nan_rewards_in_a_minari_dataset():
    gym = pytest.importorskip("gymnasium")
    pytest.importorskip("gymnasium_robotics")
    minari = pytest.importorskip("minari")

    class NaNReward(gym.Wrapper):
        @property
        def spec(self):
            return self.env.spec

        def step(self, action):
            obs, reward, terminated, truncated, info = self.env.step(action)
            return obs, float("nan"), terminated, truncated, info

    collector = minari.DataCollector(NaNReward(gym.make("PointMaze_UMaze-v3")))
    collector.reset(seed=0)
    for _ in range(3):
        collector.step(np.zeros(2, np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        collector.create_dataset("test/nan-v0", algorithm_name="zeros")
    collector.close()
    with pytest.raises(
        ValueError,
        match=r"load_minari\('test/nan-v0'\): `rewards` holds 3 "
        r"non-finite values \(3 NaN\)",
    ):
        load_minari("test/nan-v0")


def test_empty_datasets(write_d4rl):
    with pytest.raises(ValueError, match=r"load_d4rl_hdf5: the dataset is empty \(0 steps\)"):
        load_d4rl_hdf5(write_d4rl("empty.hdf5", **_d4rl_arrays(0)))
    gym = pytest.importorskip("gymnasium")
    pytest.importorskip("gymnasium_robotics")
    minari = pytest.importorskip("minari")
    collector = minari.DataCollector(gym.make("PointMaze_UMaze-v3"))
    collector.reset(seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        collector.create_dataset("test/empty-v0", algorithm_name="none")
    collector.close()
    with pytest.raises(ValueError, match=r"load_minari\('test/empty-v0'\): the dataset is empty"):
        load_minari("test/empty-v0")


def test_malformed_hdf5_layout(write_d4rl):
    a = _d4rl_arrays()
    del a["terminals"]
    with pytest.raises(ValueError, match=r"x\.hdf5 lacks the datasets \['terminals'\]"):
        load_d4rl_hdf5(write_d4rl("x.hdf5", **a))
    b = _d4rl_arrays()
    b["actions"] = np.zeros((3, 2), np.float32)
    with pytest.raises(ValueError, match="has 4 observations, 3 actions, 4 rewards"):
        load_d4rl_hdf5(write_d4rl("y.hdf5", **b))
    with pytest.raises(ValueError, match="episode_ends='both'; expected 'auto'"):
        load_d4rl_hdf5(write_d4rl("z.hdf5", **_d4rl_arrays()), episode_ends="both")


# --- metadata misuse ---------------------------------------------------------------------


def test_normalized_score_without_references():
    task = TaskInfo("toy-v0", "other")
    with pytest.raises(ValueError, match="normalized_score: 'toy-v0' has no reference scores"):
        normalized_score(np.array([1.0]), task)
    flat = dataclasses.replace(task, ref_min_score=1.0, ref_max_score=1.0)
    with pytest.raises(ValueError, match="has equal reference scores"):
        normalized_score(np.array([1.0]), flat)


def test_unknown_family(write_d4rl):
    data, _ = load_d4rl_hdf5(write_d4rl("x.hdf5", **_d4rl_arrays()))
    with pytest.raises(
        ValueError,
        match=r"process_rewards: unknown task family 'mujoco'; "
        r"expected one of \('locomotion'",
    ):
        process_rewards(data, "mujoco")
    with pytest.raises(ValueError, match="process_rewards: locomotion scaling divides by"):
        process_rewards(data, "locomotion")  # one episode: zero spread


def test_load_dataset_dispatch_errors():
    with pytest.raises(
        ValueError, match="load_dataset: dataset_id='door-human-v0' only applies to HDF5 files"
    ):
        load_dataset("D4RL/door/human-v2", dataset_id="door-human-v0")


def test_flatten_observation_errors():
    with pytest.raises(ValueError, match=r"the keys \['goal'\] were asked for"):
        flatten_observation({"observation": np.zeros(2)}, ["observation", "goal"])
    with pytest.raises(ValueError, match="Image observations are not supported"):
        flatten_observation({"a": np.zeros((2, 3)), "b": np.zeros((4, 3))})
