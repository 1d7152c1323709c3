"""Online soft actor-critic, the data infrastructure that builds behaviour policies and
D4RL-style locomotion datasets (not a general online-RL library)."""

from ._learner import SACConfig as SACConfig
from ._learner import SACState as SACState
from ._learner import SACStep as SACStep
from ._learner import TanhGaussianActor as TanhGaussianActor
from ._learner import init_sac as init_sac
from ._replay import ReplayBuffer as ReplayBuffer
from ._run import SACResult as SACResult
from ._run import evaluate_actor as evaluate_actor
from ._run import load_actor_snapshot as load_actor_snapshot
from ._run import load_replay as load_replay
from ._run import save_actor as save_actor
from ._run import train_sac as train_sac
