"""Online SAC: it learns a task whose optimum is known, its temperature moves toward the
target entropy, a seed gives the same run, a resumed run equals the uninterrupted one,
and bad input is refused by name."""

import gymnasium as gym
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from selfguide_rl.data import sac

ENV_ID = "selfguide-test/PointToTarget-v0"


class PointToTarget(gym.Env):
    """A point on a line, x' = x + 0.2 a, reward −|x'|: the optimum drives x to 0 at full
    speed and then holds it (a = −clip(5x, −1, 1)). Starts uniform on [−1, 1]; 10 steps."""

    def __init__(self):
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.x = 0.0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x = float(self.np_random.uniform(-1, 1))
        return np.array([self.x], np.float32), {}

    def step(self, action):
        self.x += 0.2 * float(np.clip(action[0], -1, 1))
        return np.array([self.x], np.float32), -abs(self.x), False, False, {}


if ENV_ID not in gym.registry:
    gym.register(ENV_ID, entry_point=PointToTarget, max_episode_steps=10)

# The MuJoCo state capture is for MuJoCo environments; this one restores its `x` instead.
TINY = sac.SACConfig(hidden=(32, 32), batch_size=64, buffer_size=5000, random_steps=200,
                     updates_per_round=50, learning_rate=1e-3)


@pytest.fixture(scope="module")
def learned(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("sac")
    return sac.train_sac(ENV_ID, run_dir, steps=2500, config=TINY, seed=0, eval_every=500,
                         eval_episodes=5, progress=False)


def test_sac_learns_to_reach_the_target(learned):
    actor = learned.actor
    xs = jnp.array([[-1.0], [-0.5], [0.5], [1.0]])
    a = np.asarray(sac._run._deterministic_actions(actor, xs))[:, 0]
    assert a[0] > 0.7 and a[1] > 0.5 and a[2] < -0.5 and a[3] < -0.7
    # The best possible return from a uniform start is about −1.5; random play gives ≈ −6.
    assert learned.evaluations[-1]["mean_return"] > -2.5
    assert [e["step"] for e in learned.evaluations] == [500, 1000, 1500, 2000, 2500]


def test_temperature_moves_toward_the_target_entropy(learned):
    from selfguide.checkpoint import read_checkpoint, restore_segment

    path = learned.run_dir / "sac.ckpt"
    header, blobs = read_checkpoint(path)
    like = sac._run._Saved(sac.init_sac(1, 1, TINY, key=jr.key(0)),
                           sac.ReplayBuffer.empty(TINY.buffer_size, 1, 1))
    state = restore_segment(path, blobs["state"], like, "state").sac
    # α starts at 1: a policy far more random than the target entropy (−1) lowers it.
    assert float(jnp.exp(state.log_alpha)) < 0.5
    assert int(header["meta"]["resume"]["env_steps"]) == 2500


def test_snapshots_and_deterministic_rerun(learned, tmp_path):
    snap = sac.load_actor_snapshot(learned.run_dir / "snapshots" / "actor-step2500.ckpt")
    x = jnp.array([[0.3]])
    np.testing.assert_array_equal(np.asarray(sac._run._deterministic_actions(snap, x)),
                                  np.asarray(sac._run._deterministic_actions(learned.actor, x)))
    again = sac.train_sac(ENV_ID, tmp_path / "again", steps=1000, config=TINY, seed=0,
                          eval_every=500, eval_episodes=5, progress=False)
    assert again.evaluations == learned.evaluations[:2]  # the same seed, the same run


def test_bad_input_is_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="unknown environment 'Hoper-v5'"):
        sac.train_sac("Hoper-v5", tmp_path / "x", steps=10)
    with pytest.raises(ValueError, match="steps=0; expected a positive integer"):
        sac.train_sac(ENV_ID, tmp_path / "x", steps=0)
    with pytest.raises(ValueError, match="updates_per_round .* must be a multiple of num_envs"):
        sac.SACConfig(updates_per_round=10, num_envs=3)
    bad = tmp_path / "actor.ckpt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(Exception, match="checkpoint"):
        sac.load_actor_snapshot(bad)


def test_resumed_run_equals_the_uninterrupted_one(learned, tmp_path, capsys):
    kwargs = dict(config=TINY, seed=0, eval_every=500, eval_episodes=5, progress=False)
    sac.train_sac(ENV_ID, tmp_path / "run", steps=1000, **kwargs)  # stops, checkpointed
    resumed = sac.train_sac(ENV_ID, tmp_path / "run", steps=2500, **kwargs)
    assert "resuming selfguide-test/PointToTarget-v0 from step 1,000 of 2,500" in (
        capsys.readouterr().out)
    assert resumed.evaluations == learned.evaluations
    import jax

    for a, b in zip(jax.tree.leaves(resumed.actor), jax.tree.leaves(learned.actor),
                    strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    with pytest.raises(ValueError, match="holds a run with other settings"):
        sac.train_sac(ENV_ID, tmp_path / "run", steps=2500, **{**kwargs, "seed": 1})


def test_replay_buffer_ring_and_first():
    buf = sac.ReplayBuffer.empty(4, 1, 1)
    for k in range(3):
        buf = buf.add([[k]], [[0.0]], [float(k)], [[k + 1]], [0.0], [0.0])
    np.testing.assert_array_equal(buf.first(3)["rewards"], [0.0, 1.0, 2.0])
    buf = buf.add([[3], [4]], [[0.0], [0.0]], [3.0, 4.0], [[4], [5]], [0.0, 0.0], [0.0, 0.0])
    assert int(buf.size()) == 4 and int(buf.written) == 5
    np.testing.assert_array_equal(np.asarray(buf.rewards), [4.0, 1.0, 2.0, 3.0])  # wrapped
    with pytest.raises(ValueError, match="5 transitions asked for, but 5 were written into a "
                                         "ring of 4"):
        buf.first(5)


def test_episodes_from_an_interleaved_replay_buffer():
    """Two environments, rows alternating: env 0 has an episode of 2 steps then one cut
    short; env 1 one episode of 3 steps (a termination at its last step)."""
    from selfguide_rl.data._locomotion import _episodes_from_replay

    # rows:      0 (env0) 1 (env1) 2 (env0) 3 (env1) 4 (env0) 5 (env1)
    s = np.array([[0.0], [10.0], [1.0], [11.0], [5.0], [12.0]])
    s2 = np.array([[1.0], [11.0], [2.0], [12.0], [6.0], [13.0]])
    buffer = {"observations": s, "next_observations": s2, "actions": np.zeros((6, 1)),
              "rewards": np.arange(6.0), "terminals": np.array([0, 0, 0, 0, 0, 1.0]),
              "truncations": np.array([0, 0, 1.0, 0, 0, 0])}
    episodes = _episodes_from_replay(buffer, 6, num_envs=2)
    assert [list(e.rewards) for e in episodes] == [[0.0, 2.0], [1.0, 3.0, 5.0], [4.0]]
    np.testing.assert_array_equal(episodes[0].observations[:, 0], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(episodes[1].observations[:, 0], [10.0, 11.0, 12.0, 13.0])
    assert list(episodes[1].terminations) == [False, False, True]
    assert list(episodes[2].truncations) == [True]  # cut by the end of the prefix


def test_several_environments_side_by_side(tmp_path):
    config = sac.SACConfig(hidden=(16, 16), batch_size=32, buffer_size=2000, random_steps=100,
                           updates_per_round=50, num_envs=2)
    result = sac.train_sac(ENV_ID, tmp_path / "two", steps=300, config=config, eval_every=100,
                           eval_episodes=2, progress=False)
    assert [e["step"] for e in result.evaluations] == [100, 200, 300] and result.steps == 300
    buffer, settings = sac.load_replay(tmp_path / "two")
    assert int(buffer.written) == 300 and settings["config"]["num_envs"] == 2
    rows = buffer.first(300)
    # Rows alternate between the two environments: each one's episodes are 10 steps long.
    for env in (0, 1):
        ends = np.flatnonzero(rows["truncations"][env::2] > 0)
        assert ends.tolist() == list(range(9, 150, 10))
