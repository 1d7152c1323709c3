"""selfguide_rl: offline reinforcement learning with self-weighted guidance.

Data: Minari and D4RL-HDF5 loading into one flat `Transitions` structure, task metadata and
normalised scores, and locally collected D4RL-recipe PointMaze datasets.
"""

from .data import POINTMAZE_TASKS as POINTMAZE_TASKS
from .data import CollectionReport as CollectionReport
from .data import DatasetNotFoundError as DatasetNotFoundError
from .data import MazePlanner as MazePlanner
from .data import PointMazeTask as PointMazeTask
from .data import TaskFamily as TaskFamily
from .data import TaskInfo as TaskInfo
from .data import Transitions as Transitions
from .data import WaypointController as WaypointController
from .data import check_env_spaces as check_env_spaces
from .data import collect_pointmaze as collect_pointmaze
from .data import d4rl_task_info as d4rl_task_info
from .data import flatten_observation as flatten_observation
from .data import load_d4rl_hdf5 as load_d4rl_hdf5
from .data import load_dataset as load_dataset
from .data import load_minari as load_minari
from .data import make_eval_env as make_eval_env
from .data import minari_task_info as minari_task_info
from .data import normalized_score as normalized_score
from .data import observation_keys as observation_keys
from .data import process_rewards as process_rewards
