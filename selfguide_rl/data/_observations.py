"""Flat observation vectors from Dict/Tuple observations, in one fixed order.

A policy trained on [`Transitions`][selfguide_rl.Transitions] is conditioned on a flat
vector; evaluation must build exactly the same vector from what the environment returns.
Both go through [`flatten_observation`][selfguide_rl.flatten_observation].
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from jaxtyping import Float

_GOAL_KEYS = ("observation", "achieved_goal", "desired_goal")


def observation_keys(keys: Iterable[str]) -> tuple[str, ...]:
    """The order in which the entries of a Dict observation are concatenated.

    Goal-conditioned keys come first, in the order `observation`, `achieved_goal`,
    `desired_goal` (those present), then every other key in alphabetical order. Nothing is
    dropped: `achieved_goal` repeats part of `observation` in PointMaze (the position), but
    in AntMaze it is the only place the position appears, so one rule that keeps it is right
    for both.

    **Arguments:**

    - `keys`: the keys of a Dict observation or space.

    **Returns:**

    A tuple of the keys in concatenation order.

    **Example:**

    ```python
    observation_keys(["desired_goal", "observation", "achieved_goal"])
    # ('observation', 'achieved_goal', 'desired_goal')
    ```
    """
    keys = list(keys)
    first = [k for k in _GOAL_KEYS if k in keys]
    rest = sorted(k for k in keys if k not in _GOAL_KEYS)
    return tuple(first + rest)


def _leaves(obs: Any, keys: Sequence[str] | None) -> list[np.ndarray]:
    if isinstance(obs, Mapping):
        order = observation_keys(obs.keys()) if keys is None else tuple(keys)
        missing = [k for k in order if k not in obs]
        if missing:
            raise ValueError(
                f"flatten_observation: the observation has keys {sorted(obs.keys())}, but "
                f"the keys {missing} were asked for. Pass the keys the dataset was flattened "
                "with (`TaskInfo.observation_keys`)."
            )
        return [leaf for k in order for leaf in _leaves(obs[k], None)]
    if isinstance(obs, tuple):
        return [leaf for item in obs for leaf in _leaves(item, None)]
    array = np.asarray(obs)
    if array.ndim == 0:
        array = array.reshape(1)
    return [array]


def flatten_observation(
    obs: Any, keys: Sequence[str] | None = None
) -> Float[np.ndarray, "*batch dim"]:
    """Turn one observation (or a batch of them) into a flat float32 vector.

    Arrays pass through (cast to float32); Dict observations are concatenated along the last
    axis in the order of [`observation_keys`][selfguide_rl.observation_keys] (nested Dicts
    recursively), Tuple observations in their own order.

    **Arguments:**

    - `obs`: an observation as an environment returns it: an array, a dict of arrays or a
      tuple of arrays. Leading batch axes (a vector environment, or a whole episode) are
      kept.
    - `keys`: the top-level keys to use and their order; defaults to
      `observation_keys(obs.keys())`, which is what every loader here uses.

    **Returns:**

    A float32 NumPy array of shape `(*batch, dim)`.

    **Example:**

    ```python
    obs, _ = env.reset(seed=0)  # PointMaze: {"observation", "achieved_goal", "desired_goal"}
    x = flatten_observation(obs)  # shape (8,): observation, achieved_goal, desired_goal
    ```
    """
    leaves = _leaves(obs, keys)
    if not leaves:
        raise ValueError("flatten_observation: the observation holds no arrays.")
    batch = leaves[0].shape[:-1]
    for leaf in leaves:
        if leaf.shape[:-1] != batch:
            shapes = [leaf.shape for leaf in leaves]
            raise ValueError(
                f"flatten_observation: the entries have shapes {shapes}; expected vectors "
                "with the same leading (batch) axes. Image observations are not supported."
            )
    return np.concatenate([leaf.astype(np.float32) for leaf in leaves], axis=-1)


def space_dim(space: Any, caller: str, what: str) -> int:
    """The length of the flat vector for a gymnasium space; `TypeError` if unsupported."""
    from gymnasium import spaces

    if isinstance(space, spaces.Box):
        if len(space.shape) != 1:
            raise TypeError(
                f"{caller}: the {what} space is {space}, a Box of shape {space.shape}; "
                "expected vector (1-D) Box spaces. Image observations are not supported."
            )
        return int(space.shape[0])
    if isinstance(space, spaces.Dict):
        return sum(space_dim(space[k], caller, what) for k in observation_keys(space.keys()))
    if isinstance(space, spaces.Tuple):
        return sum(space_dim(s, caller, what) for s in space.spaces)
    raise TypeError(
        f"{caller}: the {what} space is {space}; expected a Box of vectors, or a Dict/Tuple "
        "of them (continuous control). Discrete spaces are not supported."
    )
