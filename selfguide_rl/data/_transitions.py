"""`Transitions`: one flat, device-ready table of `(s, a, r, s', terminal, timeout)` steps.

Every loader (Minari, D4RL HDF5) ends in [`Transitions`][selfguide_rl.Transitions], so the
training code never sees where the data came from.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from ._errors import check_finite


class Transitions(eqx.Module):
    """A whole offline-RL dataset as flat arrays, one row per environment step.

    Episodes lie back to back in time order: episode `k` is the rows
    `episode_starts[k] : episode_starts[k + 1]`, and `episode_ids` gives each row's episode.

    **Fields:**

    - `observations`: `(N, obs_dim)` float32, the observation the action was taken in.
      Dict observations are flattened by
      [`flatten_observation`][selfguide_rl.flatten_observation].
    - `actions`: `(N, act_dim)` float32.
    - `rewards`: `(N,)` float32, the reward of that step, as stored (unprocessed; see
      [`process_rewards`][selfguide_rl.process_rewards]).
    - `next_observations`: `(N, obs_dim)` float32. Minari stores one more observation than
      steps per episode, so this is always the real next observation there. D4RL HDF5 files
      do not store the observation after an episode's last step; there it is a copy of
      `observations` (see [`load_d4rl_hdf5`][selfguide_rl.load_d4rl_hdf5]).
    - `terminals`: `(N,)` bool, the episode ended in a terminal state after this step: do
      not bootstrap, `target = r + γ (1 − terminal) V(s')`.
    - `timeouts`: `(N,)` bool, the episode was cut (time limit or end of recording) after this
      step without reaching a terminal state.
    - `episode_ids`: `(N,)` int32, the episode of each row, `0 … E − 1`.
    - `episode_starts`: `(E,)` int32, the first row of each episode, increasing, starting at 0.

    Every episode's last row has `terminals` or `timeouts` set.
    """

    observations: Float[Array, "n obs_dim"]
    actions: Float[Array, "n act_dim"]
    rewards: Float[Array, " n"]
    next_observations: Float[Array, "n obs_dim"]
    terminals: Bool[Array, " n"]
    timeouts: Bool[Array, " n"]
    episode_ids: Int[Array, " n"]
    episode_starts: Int[Array, " e"]

    def __len__(self) -> int:
        return self.rewards.shape[0]

    @property
    def num_transitions(self) -> int:
        """The number of steps `N`."""
        return self.rewards.shape[0]

    @property
    def num_episodes(self) -> int:
        """The number of episodes `E`."""
        return self.episode_starts.shape[0]

    @property
    def obs_dim(self) -> int:
        return self.observations.shape[1]

    @property
    def act_dim(self) -> int:
        return self.actions.shape[1]

    def episode_lengths(self) -> Int[Array, " e"]:
        """The number of steps in each episode."""
        ends = jnp.append(self.episode_starts[1:], self.num_transitions)
        return ends - self.episode_starts

    def episode_returns(self) -> Float[Array, " e"]:
        """The undiscounted return (sum of stored rewards) of each episode."""
        return jax.ops.segment_sum(self.rewards, self.episode_ids, num_segments=self.num_episodes)


def build_transitions(
    caller: str,
    *,
    observations: np.ndarray,
    actions: np.ndarray,
    rewards: np.ndarray,
    next_observations: np.ndarray,
    terminals: np.ndarray,
    timeouts: np.ndarray,
    episode_lengths: np.ndarray,
) -> Transitions:
    """Check host arrays and put them on the device as `Transitions` (internal helper).

    Raises `ValueError` naming `caller` for an empty dataset, inconsistent lengths or
    non-finite values.
    """
    observations = np.asarray(observations, dtype=np.float32)
    next_observations = np.asarray(next_observations, dtype=np.float32)
    actions = np.asarray(actions, dtype=np.float32)
    rewards = np.asarray(rewards, dtype=np.float32).reshape(-1)
    terminals = np.asarray(terminals, dtype=bool).reshape(-1)
    timeouts = np.asarray(timeouts, dtype=bool).reshape(-1)
    lengths = np.asarray(episode_lengths, dtype=np.int64).reshape(-1)

    n = rewards.shape[0]
    if n == 0 or lengths.size == 0:
        raise ValueError(
            f"{caller}: the dataset is empty (0 steps). Expected at least one episode with "
            "at least one step; check that the dataset was written completely, or collect "
            "it again."
        )
    if np.any(lengths <= 0):
        raise ValueError(
            f"{caller}: episode {int(np.argmax(lengths <= 0))} has no steps. Expected every "
            "episode to hold at least one step; the dataset is damaged."
        )
    for name, array, ndim in (
        ("observations", observations, 2),
        ("next_observations", next_observations, 2),
        ("actions", actions, 2),
    ):
        if array.ndim != ndim or array.shape[0] != n:
            raise ValueError(
                f"{caller}: `{name}` has shape {array.shape}, expected ({n}, dim) to match "
                f"the {n} rewards."
            )
    if observations.shape != next_observations.shape:
        raise ValueError(
            f"{caller}: `next_observations` has shape {next_observations.shape}, expected "
            f"{observations.shape} like `observations`."
        )
    if terminals.shape[0] != n or timeouts.shape[0] != n or int(lengths.sum()) != n:
        raise ValueError(
            f"{caller}: terminals ({terminals.shape[0]}), timeouts ({timeouts.shape[0]}) and "
            f"episode lengths (sum {int(lengths.sum())}) must all count the {n} steps."
        )
    for name, array in (
        ("rewards", rewards),
        ("observations", observations),
        ("next_observations", next_observations),
        ("actions", actions),
    ):
        check_finite(caller, name, array)

    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int32)
    ids = np.repeat(np.arange(lengths.size, dtype=np.int32), lengths)
    return Transitions(
        observations=jnp.asarray(observations),
        actions=jnp.asarray(actions),
        rewards=jnp.asarray(rewards),
        next_observations=jnp.asarray(next_observations),
        terminals=jnp.asarray(terminals),
        timeouts=jnp.asarray(timeouts),
        episode_ids=jnp.asarray(ids),
        episode_starts=jnp.asarray(starts),
    )
