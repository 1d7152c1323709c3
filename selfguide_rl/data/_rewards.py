"""Reward processing per task family, as the reference offline-RL code does it."""

import equinox as eqx
import jax.numpy as jnp

from ._tasks import TaskInfo, check_family
from ._transitions import Transitions


def process_rewards(transitions: Transitions, task: TaskInfo | str) -> Transitions:
    """Rescale or shift rewards for value learning, by task family.

    - `locomotion`: `r ← 1000 r / (max episode return − min episode return)`, so that the
      spread of episode returns in the dataset is 1000.
    - `antmaze`: `r ← r − 1` (0 at the goal, −1 elsewhere).
    - `kitchen`, `adroit`, `maze2d`, `other`: unchanged.

    Only `rewards` changes; returns for normalised scores must use the environment's own
    rewards.

    **Arguments:**

    - `transitions`: the dataset.
    - `task`: its [`TaskInfo`][selfguide_rl.TaskInfo], or the family name itself.

    **Returns:**

    A copy of `transitions` with processed rewards.
    """
    family = check_family("process_rewards", task if isinstance(task, str) else task.family)
    if family == "locomotion":
        returns = transitions.episode_returns()
        spread = float(jnp.max(returns) - jnp.min(returns))
        if not spread > 0:
            raise ValueError(
                "process_rewards: locomotion scaling divides by (max − min) episode return, "
                f"but all {transitions.num_episodes} episodes have the same return "
                f"({float(returns[0])}). Use family 'other' to leave rewards unchanged."
            )
        rewards = transitions.rewards * (1000.0 / spread)
    elif family == "antmaze":
        rewards = transitions.rewards - 1.0
    else:
        return transitions
    return eqx.tree_at(lambda t: t.rewards, transitions, rewards)
