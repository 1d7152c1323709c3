"""selfguide: Self-Weighted Guidance for diffusion models in JAX.

Train one diffusion model on `z = [x, w(x)]` and sample `p(x) ∝ w(x)^ρ q(x)` by guiding it
with the gradient of the log of its own denoised weight channel.
"""

from . import checkpoint as checkpoint
from . import checks as checks
from . import settings as settings
from . import testing as testing
from . import training as training
from ._augment import AugmentedData as AugmentedData
from ._augment import WeightUnits as WeightUnits
from ._augment import augment as augment
from ._checkpoint import CheckpointError as CheckpointError
from ._clip_share import ClipShares as ClipShares
from ._clip_share import clip_shares as clip_shares
from ._compiled import CompiledSample as CompiledSample
from ._compiled import compile_sample as compile_sample
from ._guidance import AbstractGuidance as AbstractGuidance
from ._guidance import GuidanceWarning as GuidanceWarning
from ._guidance import NoGuidance as NoGuidance
from ._guidance import Resampling as Resampling
from ._guidance import SelfWeightedGuidance as SelfWeightedGuidance
from ._interrupt import TrainingInterrupted as TrainingInterrupted
from ._joint import JointModel as JointModel
from ._loss import diffusion_loss as diffusion_loss
from ._metrics import NoiseFloor as NoiseFloor
from ._metrics import mmd2 as mmd2
from ._metrics import noise_floor as noise_floor
from ._metrics import occupancy_tv as occupancy_tv
from ._metrics import sliced_wasserstein as sliced_wasserstein
from ._metrics import wasserstein_1d as wasserstein_1d
from ._nn._denoiser import AbstractDenoiser as AbstractDenoiser
from ._nn._denoiser import TimeSplit as TimeSplit
from ._nn._denoiser import TimeSplitDenoiser as TimeSplitDenoiser
from ._nn._input_features import FourierInputFeatures as FourierInputFeatures
from ._nn._mlp import MLPDenoiser as MLPDenoiser
from ._nn._resnet import ResidualBlock as ResidualBlock
from ._nn._resnet import ResNetDenoiser as ResNetDenoiser
from ._nn._resnet import WeightHead as WeightHead
from ._nn._time_embedding import FourierTimeEmbedding as FourierTimeEmbedding
from ._oracle import GaussianMixtureOracle as GaussianMixtureOracle
from ._precision import LowPrecision as LowPrecision
from ._sample import Samples as Samples
from ._sample import sample as sample
from ._sampler._base import AbstractSampler as AbstractSampler
from ._sampler._ddim import DDIMSampler as DDIMSampler
from ._sampler._ddpm import DDPMSampler as DDPMSampler
from ._sampler._ode import ODESampler as ODESampler
from ._sampler._variance import AbstractVariance as AbstractVariance
from ._sampler._variance import LargeVariance as LargeVariance
from ._sampler._variance import PosteriorVariance as PosteriorVariance
from ._schedule import AbstractSchedule as AbstractSchedule
from ._schedule import CosineSchedule as CosineSchedule
from ._schedule import LinearVPSchedule as LinearVPSchedule
from ._schedule import VPSchedule as VPSchedule
from ._selection import AbstractSelection as AbstractSelection
from ._selection import Argmax as Argmax
from ._selection import Softmax as Softmax
from ._train import DiffusionStep as DiffusionStep
from ._train import TrainingHistory as TrainingHistory
from ._train import TrainResult as TrainResult
from ._train import TrainState as TrainState
from ._train import fit as fit
from ._train import load_model as load_model
from ._train import train as train
from ._train_many import train_many as train_many
from ._weight_output import AbstractWeightOutput as AbstractWeightOutput
from ._weight_output import DenoisedWeights as DenoisedWeights
from ._weight_output import LogWeights as LogWeights
from ._weight_output import NoiseWeights as NoiseWeights
from .training import default_optimizer as default_optimizer

__version__ = "0.1.0"
