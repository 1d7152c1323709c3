"""D4RL's view of a PointMaze: the 4-d observation, and rewards paid for the evaluation goal.

D4RL's maze2d datasets (Fu et al., 2020) store only the point's position and velocity
`(x, y, vx, vy)`, and relabel every reward against the one fixed evaluation goal
(`scripts/relabel_maze2d_rewards.py`), although the controller that collected them chased
random goals. A policy trained on them must therefore find the evaluation goal from the
state alone, and the critic learns that staying at it pays every step, as evaluation does.

Two wrappers build that view from gymnasium-robotics' goal-conditioned PointMaze:
`PositionVelocityObservation` for collection
and evaluation alike (it is recorded in the evaluation spec, so a loaded dataset evaluates
through it), and `EvaluationGoalReward` for collection.
"""

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np


class PositionVelocityObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """PointMaze's Dict observation reduced to its `"observation"` entry, `(x, y, vx, vy)`:
    the observation of D4RL's maze2d (no goal in it).

    **Arguments:**

    - `env`: a gymnasium-robotics PointMaze environment (Dict observations).
    """

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.ObservationWrapper.__init__(self, env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Dict) or "observation" not in space.spaces:
            raise TypeError(
                f"PositionVelocityObservation: expected a PointMaze environment with Dict "
                f"observations holding 'observation', got the space {space}."
            )
        self.observation_space = space["observation"]

    def observation(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        return observation["observation"]


class EvaluationGoalReward(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Pays each step what the evaluation task would pay: the environment's own reward
    function (`compute_reward`: sparse `‖xy − g‖ ≤ 0.45`, dense `exp(−‖xy − g‖)`) at the
    position the step leads to, against the fixed evaluation goal `g` instead of the goal
    the controller is chasing.

    **Arguments:**

    - `env`: a gymnasium-robotics PointMaze environment (Dict observations, unwrapped or
      wrapped in wrappers that keep them).
    - `goal`: the evaluation goal `(x, y)`.
    """

    def __init__(self, env: gym.Env, goal: Sequence[float]):
        gym.utils.RecordConstructorArgs.__init__(self, goal=[float(g) for g in goal])
        gym.Wrapper.__init__(self, env)
        self.goal = np.asarray(goal, dtype=np.float64)
        if self.goal.shape != (2,):
            raise ValueError(f"EvaluationGoalReward: goal must be (x, y), got {goal!r}.")

    def step(self, action: Any) -> Any:
        obs, _, terminated, truncated, info = self.env.step(action)
        reward = evaluation_goal_reward(self.env.unwrapped, obs["achieved_goal"], self.goal)
        return obs, reward, terminated, truncated, info


def evaluation_goal_reward(maze_env: Any, position: np.ndarray, goal: np.ndarray) -> float:
    """The reward `maze_env` (an unwrapped PointMaze) pays at `position` for `goal`."""
    return float(maze_env.compute_reward(np.asarray(position), np.asarray(goal), {}))
