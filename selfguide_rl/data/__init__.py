"""Offline-RL data: Minari and D4RL-HDF5 loading, task metadata, local D4RL-recipe datasets."""

from ._d4rl_hdf5 import load_d4rl_hdf5 as load_d4rl_hdf5
from ._errors import DatasetNotFoundError as DatasetNotFoundError
from ._load import load_dataset as load_dataset
from ._minari import load_minari as load_minari
from ._minari import minari_task_info as minari_task_info
from ._observations import flatten_observation as flatten_observation
from ._observations import observation_keys as observation_keys
from ._pointmaze import POINTMAZE_TASKS as POINTMAZE_TASKS
from ._pointmaze import CollectionReport as CollectionReport
from ._pointmaze import MazePlanner as MazePlanner
from ._pointmaze import PointMazeTask as PointMazeTask
from ._pointmaze import WaypointController as WaypointController
from ._pointmaze import collect_pointmaze as collect_pointmaze
from ._pointmaze import make_eval_env as make_eval_env
from ._rewards import process_rewards as process_rewards
from ._tasks import TaskFamily as TaskFamily
from ._tasks import TaskInfo as TaskInfo
from ._tasks import check_env_spaces as check_env_spaces
from ._tasks import d4rl_task_info as d4rl_task_info
from ._tasks import normalized_score as normalized_score
from ._transitions import Transitions as Transitions
