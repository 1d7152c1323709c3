"""How [`Resampling`][selfguide.Resampling] keeps one of its candidates: by the best score,
or by drawing one with probability `∝ exp(score / temperature)`."""

import abc

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, ArrayLike, Float

from ._checks import float_array
from ._custom_types import PRNGKey


class AbstractSelection(eqx.Module):
    """Picks one of `N` candidates from their scores.

    `select(scores, candidates, key)` returns the kept row of `candidates`.
    """

    @abc.abstractmethod
    def select(
        self,
        scores: Float[Array, " N"],
        candidates: Float[Array, "N D"],
        key: PRNGKey,
    ) -> Float[Array, " D"]:
        """The kept candidate."""


class Argmax(AbstractSelection):
    """Keep the candidate with the largest score (IDQL / SfBC with a critic; SWG-R)."""

    def select(self, scores, candidates, key):
        del key
        return candidates[jnp.argmax(scores)]


class Softmax(AbstractSelection):
    """Draw one candidate with probability `∝ exp(score / temperature)`.

    At `temperature = 1` on the default score `log w` this draws `∝ w`: importance
    resampling of `q` by `w`.

    **Arguments:**

    - `temperature`: `≥ 0` (an array: changing it does not recompile); near 0 it keeps the
        best candidate.
    """

    temperature: Float[Array, ""]

    def __init__(self, temperature: float | Float[ArrayLike, ""] = 1.0):
        self.temperature = float_array("Softmax: temperature", temperature, nonnegative=True)

    def select(self, scores, candidates, key):
        logits = scores / jnp.maximum(self.temperature, 1e-8)
        return candidates[jr.categorical(key, logits)]
