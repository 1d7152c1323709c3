"""2-D energy toys with exact ground truth.

The six datasets of the CEP paper (Lu et al., 2023, "Contrastive Energy Prediction for Exact
Energy-Guided Diffusion Sampling in Offline Reinforcement Learning"), each a sampler of `q`
with an energy `e(x) ∈ [0, 1]`; exact draws and closed-form mode masses of the tilted target
`p_β(x) ∝ q(x) exp(β e(x))`; and metrics reported next to their noise floors.
"""

from ._beta import BetaRangeWarning as BetaRangeWarning
from ._beta import check_beta as check_beta
from ._cep import CEPGuidance as CEPGuidance
from ._cep import EnergyNetwork as EnergyNetwork
from ._cep import cep_loss as cep_loss
from ._cep import train_cep as train_cep
from ._datasets import DATASETS as DATASETS
from ._datasets import energy as energy
from ._datasets import get_toy as get_toy
from ._datasets import mode_of as mode_of
from ._datasets import sample_q as sample_q
from ._datasets import weight as weight
from ._evaluate import MetricReport as MetricReport
from ._evaluate import evaluate as evaluate
from ._evaluate import evaluate_many as evaluate_many
from ._ground_truth import mode_weights as mode_weights
from ._ground_truth import sample_target as sample_target
from ._methods import CEP as CEP
from ._methods import SWGDDPM as SWGDDPM
from ._methods import SWGODE as SWGODE
from ._methods import Resample as Resample
from ._methods import ToyMethod as ToyMethod
from ._methods import Unguided as Unguided
from ._run import METHODS as METHODS
from ._run import QUICK as QUICK
from ._run import Budget as Budget
from ._run import GridResult as GridResult
from ._run import run_grid as run_grid
from ._run import train_energy as train_energy
from ._run import train_swg as train_swg
from ._toy import Toy as Toy
