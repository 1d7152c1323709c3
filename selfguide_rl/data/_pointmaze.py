"""Local PointMaze datasets by the D4RL maze2d recipe, written with Minari's `DataCollector`.

Two views of the same recording: the default tasks (`pointmaze-umaze`, ...) store what D4RL's
maze2d stores, the 4-d observation `(x, y, vx, vy)` and rewards paid for the fixed
evaluation goal (see `_maze2d.py`); the goal-conditioned tasks (`pointmaze-umaze-goal`, ...)
store gymnasium-robotics' full observation (position, velocity, achieved and desired goal)
and the rewards of the goals the controller chased, as Minari's `D4RL/pointmaze/*-v2` do.

The recipe (Fu et al., 2020, D4RL's maze2d generation script): a planner finds the shortest
path over the maze's grid cells, a PD controller drives the point mass towards the next
cell on it, Gaussian noise (std 0.5) is added to every action, and whenever the goal is
reached a new goal is drawn at random. The run goes on for a fixed number of steps, cut
into segments that end when a goal is reached or after the task's episode length (then a
new goal is drawn as well); the point is never teleported back to a start. Evaluation is
D4RL's: one fixed goal cell, a random start, the task's episode length.
"""

import copy
import dataclasses
import importlib.metadata
import time
import warnings
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from ._minari import check_dataset_id, fresh_dataset_path, minari_writes_to
from ._tasks import import_gymnasium_robotics


@dataclasses.dataclass(frozen=True)
class PointMazeTask:
    """One PointMaze task that `collect_pointmaze` can build.

    **Fields:**

    - `name`: the task name used by `selfguide-rl collect`, e.g. `"pointmaze-umaze-dense"`.
    - `env_id`: the gymnasium-robotics environment, e.g. `"PointMaze_UMazeDense-v3"`.
    - `maze`: the name of the gymnasium-robotics map (`"U_MAZE"`, `"MEDIUM_MAZE"`, ...).
    - `eval_goal_cell`: `(row, col)` of the fixed evaluation goal, D4RL's `G` cell.
    - `max_episode_steps`: the episode (and segment) length: 300, 600, 800 as in D4RL.
    - `goal_conditioned`: `False` for D4RL's view (4-d observations, rewards for the
      evaluation goal), `True` to keep the goals in the observation and the rewards of the
      goals the data chased.
    """

    name: str
    env_id: str
    maze: str
    eval_goal_cell: tuple[int, int]
    max_episode_steps: int
    goal_conditioned: bool = False

    @property
    def default_dataset_id(self) -> str:
        """`selfguide/<name>-v1` for D4RL's view (v0 was the goal-conditioned recording
        under the same name), `selfguide/<name>-v0` for the goal-conditioned tasks."""
        return f"selfguide/{self.name}-v{0 if self.goal_conditioned else 1}"


def _tasks() -> dict[str, PointMazeTask]:
    tasks = {}
    for size, maze, env_name, goal, steps in (
        ("umaze", "U_MAZE", "UMaze", (1, 1), 300),
        ("medium", "MEDIUM_MAZE", "Medium", (6, 6), 600),
        ("large", "LARGE_MAZE", "Large", (7, 9), 800),
    ):
        for suffix, env_suffix in (("", ""), ("-dense", "Dense")):
            for goal_conditioned in (False, True):
                name = f"pointmaze-{size}{suffix}" + ("-goal" if goal_conditioned else "")
                tasks[name] = PointMazeTask(
                    name, f"PointMaze_{env_name}{env_suffix}-v3", maze, goal, steps,
                    goal_conditioned,
                )
    return tasks


POINTMAZE_TASKS: dict[str, PointMazeTask] = _tasks()
"""The tasks `collect_pointmaze` knows, by name."""


class MazePlanner:
    """Shortest paths over the free cells of a maze grid (4-connected, breadth first).

    **Arguments:**

    - `maze_map`: the maze as rows of cells, `1` for walls and anything else for free cells
      (gymnasium-robotics' `maze_map`).
    """

    def __init__(self, maze_map: list[list[Any]]):
        self.free = frozenset(
            (i, j) for i, row in enumerate(maze_map) for j, cell in enumerate(row) if cell != 1
        )
        self._next: dict[tuple[int, int], dict[tuple[int, int], tuple[int, int]]] = {}

    def next_cell(self, cell: tuple[int, int], goal: tuple[int, int]) -> tuple[int, int] | None:
        """The neighbour of `cell` one step closer to `goal`; `None` if `cell` is the goal
        or either cell is not free."""
        if goal not in self.free or cell not in self.free or cell == goal:
            return None
        if goal not in self._next:
            # Breadth-first search from the goal; each cell points at its parent.
            parent = {goal: goal}
            queue = deque([goal])
            while queue:
                i, j = queue.popleft()
                for nb in ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)):
                    if nb in self.free and nb not in parent:
                        parent[nb] = (i, j)
                        queue.append(nb)
            self._next[goal] = parent
        return self._next[goal].get(cell)


class WaypointController:
    """A PD controller that drives the point towards the next cell on the shortest path.

    The target is the centre of the next cell on the path from the point's cell to the
    goal's cell, and the goal itself once the point is in the goal cell or next to it. The
    action is `kp (target − position) − kd velocity`, clipped to `[-1, 1]`. It depends on
    the observation only, so the same object serves as data collector and as the expert for
    the reference score.

    **Arguments:**

    - `maze`: gymnasium-robotics' `Maze` (`env.unwrapped.maze`), for cell ↔ xy conversions.
    - `kp`, `kd`: the gains (D4RL's waypoint controller uses 10 and 1).
    - `goal`: a fixed goal `(x, y)` for observations without one (D4RL's 4-d
      `(x, y, vx, vy)`); Dict observations bring their own `desired_goal`.
    """

    def __init__(
        self, maze: Any, kp: float = 10.0, kd: float = 1.0, goal: np.ndarray | None = None
    ):
        self.maze = maze
        self.planner = MazePlanner(maze.maze_map)
        self.kp = kp
        self.kd = kd
        self.goal = None if goal is None else np.asarray(goal, dtype=np.float64)

    def __call__(self, obs: dict[str, np.ndarray] | np.ndarray) -> np.ndarray:
        if isinstance(obs, dict):
            state = np.asarray(obs["observation"], dtype=np.float64)
            goal = np.asarray(obs["desired_goal"], dtype=np.float64)
        elif self.goal is None:
            raise ValueError(
                "WaypointController: the observation holds no goal; pass goal=(x, y) when "
                "the controller is built, or give it Dict observations."
            )
        else:
            state, goal = np.asarray(obs, dtype=np.float64), self.goal
        return self.action(state[0:2], state[2:4], goal)

    def action(self, position: np.ndarray, velocity: np.ndarray, goal: np.ndarray) -> np.ndarray:
        """The action at `position` with `velocity` on the way to `goal` (all `(x, y)`)."""
        cell = tuple(int(c) for c in self.maze.cell_xy_to_rowcol(position))
        goal_cell = tuple(int(c) for c in self.maze.cell_xy_to_rowcol(goal))
        nxt = self.planner.next_cell(cell, goal_cell)
        if nxt is None or nxt == goal_cell:
            target = goal
        else:
            target = self.maze.cell_rowcol_to_xy(np.asarray(nxt))
        action = self.kp * (target - position) - self.kd * velocity
        return np.clip(action, -1.0, 1.0).astype(np.float32)


def _segments_wrapper(env: Any, segment_steps: int) -> Any:
    import gymnasium as gym

    class D4RLSegments(gym.Wrapper):
        """Ends a segment (truncation) when the goal is reached or after `segment_steps`
        steps; the environment itself never resets. On a timeout a new goal is drawn,
        as D4RL's `set_target()` does; on success the environment draws it itself."""

        def __init__(self, env: Any):
            super().__init__(env)
            self._count = 0

        @property
        def spec(self) -> Any:  # the data are the wrapped environment's own
            return self.env.spec

        def reset(self, **kwargs: Any) -> Any:
            self._count = 0
            return self.env.reset(**kwargs)

        def step(self, action: Any) -> Any:
            obs, reward, terminated, truncated, info = self.env.step(action)
            self._count += 1
            if info.get("success", False):
                truncated, self._count = True, 0
            elif self._count >= segment_steps:
                truncated, self._count = True, 0
                maze_env = self.env.unwrapped
                maze_env.goal = maze_env.add_xy_position_noise(maze_env.generate_target_goal())
                maze_env.update_target_site_pos()
            return obs, reward, terminated, truncated, info

    return D4RLSegments(env)


@dataclasses.dataclass(frozen=True)
class CollectionReport:
    """What `collect_pointmaze` wrote and how fast.

    **Fields:**

    - `dataset_id`, `path`: the Minari id and its folder.
    - `steps`, `episodes`: the number of steps and of segments (Minari episodes).
    - `seconds`, `steps_per_second`: time spent stepping and recording (without the
      reference scores and writing the dataset).
    - `ref_min_score`, `ref_max_score`: the stored reference returns.
    - `total_seconds`: everything, reference scores and writing included.
    """

    dataset_id: str
    path: Path
    steps: int
    episodes: int
    seconds: float
    steps_per_second: float
    ref_min_score: float
    ref_max_score: float
    total_seconds: float


def make_eval_env(task: str | PointMazeTask) -> Any:
    """The fixed-goal evaluation environment of a PointMaze task (D4RL's maze2d evaluation:
    goal in `eval_goal_cell`, random start, `max_episode_steps` steps, goal kept when
    reached); for D4RL's view its observations are the 4-d `(x, y, vx, vy)`
    (`PositionVelocityObservation`)."""
    import gymnasium as gym

    import_gymnasium_robotics()  # registers the PointMaze environments
    from gymnasium_robotics.envs.maze import maps

    task = _task("make_eval_env", task)
    maze_map = copy.deepcopy(getattr(maps, task.maze))
    row, col = task.eval_goal_cell
    maze_map[row][col] = maps.GOAL
    env = gym.make(
        task.env_id,
        maze_map=maze_map,
        continuing_task=True,
        reset_target=False,
        max_episode_steps=task.max_episode_steps,
    )
    if task.goal_conditioned:
        return env
    from ._maze2d import PositionVelocityObservation

    return PositionVelocityObservation(env)


def evaluation_goal(maze: Any, task: PointMazeTask) -> np.ndarray:
    """The centre `(x, y)` of the task's evaluation goal cell in `maze` (gymnasium-robotics'
    `Maze`); D4RL relabels against the cell's centre, evaluation adds gymnasium-robotics'
    position noise (±0.25 per axis) to it."""
    return np.asarray(maze.cell_rowcol_to_xy(np.asarray(task.eval_goal_cell)), dtype=np.float64)


def _task(caller: str, task: str | PointMazeTask) -> PointMazeTask:
    if isinstance(task, PointMazeTask):
        return task
    if task not in POINTMAZE_TASKS:
        raise ValueError(
            f"{caller}: unknown PointMaze task {task!r}; expected one of "
            f"{', '.join(POINTMAZE_TASKS)}."
        )
    return POINTMAZE_TASKS[task]


def collect_pointmaze(
    task: str | PointMazeTask,
    *,
    steps: int,
    seed: int = 0,
    dataset_id: str | None = None,
    action_noise: float = 0.5,
    ref_episodes: int = 100,
    root: str | Path | None = None,
    overwrite: bool = False,
) -> CollectionReport:
    """Build a Minari PointMaze dataset by the D4RL maze2d recipe.

    The data are recorded with `minari.DataCollector` and written with its
    `create_dataset`, so the result is an ordinary Minari dataset: load it with
    [`load_minari`][selfguide_rl.load_minari] exactly like a downloaded one. Its
    `eval_env_spec` is the fixed-goal task ([`make_eval_env`][selfguide_rl.make_eval_env]);
    its reference scores are computed by Minari over `ref_episodes` evaluation episodes:
    a uniform random policy for `ref_min_score`, the noise-free controller aimed at the
    evaluation goal for `ref_max_score`. The same `seed` gives the same dataset.

    **Arguments:**

    - `task`: a name in `POINTMAZE_TASKS`: `"pointmaze-umaze"`, `"pointmaze-umaze-dense"`,
      `"pointmaze-medium"`, `"pointmaze-medium-dense"`, `"pointmaze-large"`,
      `"pointmaze-large-dense"` (D4RL's view), each also with `-goal` appended (the
      goal-conditioned view).
    - `steps`: the number of environment steps to record (D4RL: 10⁶ for umaze, 2·10⁶ for
      medium, 4·10⁶ for large).
    - `seed`: seeds the environment and the action noise.
    - `dataset_id`: the Minari id to write; default the task's `default_dataset_id`
      (`selfguide/<task>-v1` for D4RL's view, `selfguide/<task>-v0` goal-conditioned).
    - `action_noise`: standard deviation of the Gaussian noise added to each action.
    - `ref_episodes`: evaluation episodes averaged for each reference score.
    - `root`: the Minari root to write to; default `$MINARI_DATASETS_PATH` or
      `~/.minari/datasets`.
    - `overwrite`: replace an existing dataset with the same id.

    **Returns:**

    A [`CollectionReport`][selfguide_rl.CollectionReport].

    **Example:**

    ```python
    report = collect_pointmaze("pointmaze-umaze-dense", steps=100_000, seed=0)
    data, task = load_minari(report.dataset_id)
    ```
    """
    caller = "collect_pointmaze"
    task = _task(caller, task)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"{caller}: steps={steps!r}; expected a positive integer.")
    if isinstance(ref_episodes, bool) or not isinstance(ref_episodes, int) or ref_episodes < 1:
        raise ValueError(f"{caller}: ref_episodes={ref_episodes!r}; expected a positive integer.")
    if not action_noise >= 0:
        raise ValueError(f"{caller}: action_noise={action_noise!r}; expected a number >= 0.")
    dataset_id = check_dataset_id(caller, dataset_id or task.default_dataset_id)

    import gymnasium as gym
    import minari

    import_gymnasium_robotics()  # registers the PointMaze environments

    start_all = time.perf_counter()
    with minari_writes_to(root):  # Minari's DataCollector writes where the variable says
        path = fresh_dataset_path(caller, dataset_id, root, overwrite)

        env = gym.make(
            task.env_id, continuing_task=True, reset_target=True, max_episode_steps=10**9
        )
        env = _segments_wrapper(env, task.max_episode_steps)
        maze_env = env.unwrapped
        if not task.goal_conditioned:  # D4RL's view: 4-d observations, evaluation-goal rewards
            from ._maze2d import EvaluationGoalReward, PositionVelocityObservation

            env = EvaluationGoalReward(env, evaluation_goal(maze_env.maze, task).tolist())
            env = PositionVelocityObservation(env)
        collector = minari.DataCollector(env)
        controller = WaypointController(maze_env.maze)
        # Independent streams for the environment (starts, goals) and the action noise.
        env_seeds, noise_seeds = np.random.SeedSequence(seed).spawn(2)
        rng = np.random.default_rng(noise_seeds)
        low, high = env.action_space.low, env.action_space.high

        start = time.perf_counter()
        obs, _ = collector.reset(seed=int(env_seeds.generate_state(1)[0]))
        for _ in range(steps):
            # The controller chases the recording's own (moving) goal, whatever is stored.
            state = obs["observation"] if task.goal_conditioned else obs
            action = controller.action(state[0:2], state[2:4], maze_env.goal)
            action = action + action_noise * rng.standard_normal(2)
            action = np.clip(action, low, high).astype(np.float32)
            obs, _, terminated, _, _ = collector.step(action)
            if terminated:  # never with continuing_task=True; kept for safety
                obs, _ = collector.reset(seed=int(rng.integers(2**31 - 1)))
        seconds = time.perf_counter() - start

        eval_env = make_eval_env(task)
        eval_maze = eval_env.unwrapped.maze
        expert = WaypointController(eval_maze, goal=evaluation_goal(eval_maze, task))
        versions = {p: importlib.metadata.version(p) for p in ("gymnasium-robotics", "mujoco")}
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module=r"minari\..*")
            dataset = collector.create_dataset(
                dataset_id=dataset_id,
                eval_env=eval_env.spec,
                algorithm_name=f"waypoint-pd-controller-noise{action_noise:g}",
                author="selfguide",
                description=(
                    f"D4RL maze2d recipe in {task.env_id}: shortest-path waypoints over the "
                    f"maze cells + PD controller (kp {controller.kp:g}, kd {controller.kd:g}) "
                    f"towards random goals, Gaussian action noise std {action_noise:g}, "
                    f"{steps} steps, seed {seed}. Segments end at the goal or after "
                    f"{task.max_episode_steps} steps. Evaluation: fixed goal cell "
                    f"{task.eval_goal_cell}, random start, {task.max_episode_steps} steps. "
                    + (
                        "Observations hold the chased goal; rewards are paid for it."
                        if task.goal_conditioned
                        else "D4RL's view: 4-d observations (x, y, vx, vy); rewards paid for "
                        "the evaluation goal (the environment's reward function at the next "
                        "position)."
                    )
                ),
                expert_policy=expert,
                num_episodes_average_score=ref_episodes,
                requirements=[f"{p}=={v}" for p, v in versions.items()],
            )
        eval_env.close()
        collector.close()
        metadata = dataset.storage.metadata
        report = CollectionReport(
            dataset_id=dataset_id,
            path=path,
            steps=int(dataset.total_steps),
            episodes=int(dataset.total_episodes),
            seconds=seconds,
            steps_per_second=steps / seconds,
            ref_min_score=float(metadata["ref_min_score"]),
            ref_max_score=float(metadata["ref_max_score"]),
            total_seconds=time.perf_counter() - start_all,
        )
    return report
