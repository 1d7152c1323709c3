"""selfguide_rl: offline reinforcement learning with self-weighted guidance.

Data: Minari and D4RL-HDF5 loading into one flat `Transitions` structure, task metadata and
normalised scores, and locally collected D4RL-recipe PointMaze datasets.

Learning: IQL-style values (expectile or linex), weights from advantages, one
state-conditioned diffusion model over `[action, weight]`, acting by BC, IDQL, SWG or SWG-R,
IQL's Gaussian actor extracted from the same values as a baseline,
evaluation in vector environments, and a staged, resumable run (`train_run`).
"""

from ._evaluate import EvalResult as EvalResult
from ._evaluate import evaluate as evaluate
from ._evaluate import evaluate_grid as evaluate_grid
from ._evaluate import evaluate_members as evaluate_members
from ._evaluate import make_vector_env as make_vector_env
from ._iql import ActorConfig as ActorConfig
from ._iql import GaussianActor as GaussianActor
from ._iql import awr_loss as awr_loss
from ._iql import awr_weights as awr_weights
from ._iql import load_actor as load_actor
from ._iql import train_actor as train_actor
from ._methods import BC as BC
from ._methods import IDQL as IDQL
from ._methods import IQL as IQL
from ._methods import METHODS as METHODS
from ._methods import SWG as SWG
from ._methods import SWGR as SWGR
from ._methods import AbstractMethod as AbstractMethod
from ._pipeline import Agent as Agent
from ._pipeline import evaluate_agent as evaluate_agent
from ._pipeline import evaluate_agents as evaluate_agents
from ._pipeline import format_results as format_results
from ._pipeline import load_run as load_run
from ._pipeline import load_run_data as load_run_data
from ._pipeline import train_run as train_run
from ._pipeline import train_runs as train_runs
from ._policy import Policy as Policy
from ._policy import PolicyConfig as PolicyConfig
from ._policy import PolicyResult as PolicyResult
from ._policy import act as act
from ._policy import load_policy as load_policy
from ._policy import train_policy as train_policy
from ._policy import train_policy_many as train_policy_many
from ._presets import PRESETS as PRESETS
from ._presets import Preset as Preset
from ._presets import get_preset as get_preset
from ._statistics import SeedSummary as SeedSummary
from ._statistics import interquartile_mean as interquartile_mean
from ._statistics import iqm_interval as iqm_interval
from ._statistics import paired_difference as paired_difference
from ._statistics import seed_summary as seed_summary
from ._values import ValueConfig as ValueConfig
from ._values import ValueResult as ValueResult
from ._values import Values as Values
from ._values import advantages as advantages
from ._values import expectile_loss as expectile_loss
from ._values import learn_values as learn_values
from ._values import learn_values_many as learn_values_many
from ._values import linex_loss as linex_loss
from ._values import load_values as load_values
from ._weights import WEIGHT_KINDS as WEIGHT_KINDS
from ._weights import AbstractWeighting as AbstractWeighting
from ._weights import Expectile as Expectile
from ._weights import Exponential as Exponential
from ._weights import Linex as Linex
from ._weights import SmoothExpectile as SmoothExpectile
from ._weights import compute_weights as compute_weights
from ._weights import expectile_weight as expectile_weight
from ._weights import exponential_weight as exponential_weight
from ._weights import linex_weight as linex_weight
from ._weights import smooth_expectile_weight as smooth_expectile_weight
from .data import LOCOMOTION_ENVS as LOCOMOTION_ENVS
from .data import LOCOMOTION_KINDS as LOCOMOTION_KINDS
from .data import POINTMAZE_TASKS as POINTMAZE_TASKS
from .data import BehaviourPolicy as BehaviourPolicy
from .data import CollectionReport as CollectionReport
from .data import DatasetNotFoundError as DatasetNotFoundError
from .data import LocomotionReport as LocomotionReport
from .data import MazePlanner as MazePlanner
from .data import PointMazeTask as PointMazeTask
from .data import TaskFamily as TaskFamily
from .data import TaskInfo as TaskInfo
from .data import Transitions as Transitions
from .data import WaypointController as WaypointController
from .data import check_env_spaces as check_env_spaces
from .data import collect_locomotion as collect_locomotion
from .data import collect_pointmaze as collect_pointmaze
from .data import d4rl_task_info as d4rl_task_info
from .data import flatten_observation as flatten_observation
from .data import load_behaviour_policy as load_behaviour_policy
from .data import load_d4rl_hdf5 as load_d4rl_hdf5
from .data import load_dataset as load_dataset
from .data import load_minari as load_minari
from .data import load_task as load_task
from .data import make_eval_env as make_eval_env
from .data import minari_task_info as minari_task_info
from .data import normalized_score as normalized_score
from .data import observation_keys as observation_keys
from .data import process_rewards as process_rewards
from .data import train_behaviour_policies as train_behaviour_policies
from .data.sac import SACConfig as SACConfig
from .data.sac import SACResult as SACResult
from .data.sac import TanhGaussianActor as TanhGaussianActor
from .data.sac import evaluate_actor as evaluate_actor
from .data.sac import load_actor_snapshot as load_actor_snapshot
from .data.sac import train_sac as train_sac
