"""Conditional generation with class-probability weights (SWG-MATH §3, appendix C.2).

A classifier gives `w_y(x) = p(y | x)`; one diffusion model trained unconditionally on
`z = [x, p(· | x)]` (K weight channels) samples `q(x | y) ∝ p(y | x) q(x)` under
self-weighted guidance on channel `y`, or a mix of classes under a positive combination of
channels. Data: scikit-learn's 8×8 digits (optional dependency, extra `examples`) and a
labelled 2-D Gaussian mixture.
"""

from ._classifier import Classifier as Classifier
from ._classifier import ClassScore as ClassScore
from ._classifier import class_weights as class_weights
from ._classifier import predict_proba as predict_proba
from ._classifier import train_classifier as train_classifier
from ._data import LabelledData as LabelledData
from ._data import load_digits as load_digits
from ._data import load_mixture as load_mixture
from ._data import mixture_centres as mixture_centres
from ._data import one_hot as one_hot
from ._data import pixels_to_unit as pixels_to_unit
from ._data import round_to_grey_levels as round_to_grey_levels
from ._data import sample_mixture as sample_mixture
from ._data import unit_to_pixels as unit_to_pixels
from ._evaluate import ClassMetrics as ClassMetrics
from ._evaluate import class_proportions as class_proportions
from ._evaluate import evaluate_classes as evaluate_classes
from ._evaluate import frechet_distance as frechet_distance
from ._experiment import ConditionalConfig as ConditionalConfig
from ._experiment import ConditionalResults as ConditionalResults
from ._experiment import load_dataset as load_dataset
from ._experiment import run_conditional as run_conditional
from ._judge import Judge as Judge
from ._judge import train_judge as train_judge
