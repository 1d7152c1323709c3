"""What the network's weight outputs predict: the noise of the weight channels, the clean
weights themselves, or their logarithm. Each parametrisation knows how to turn the outputs
into `(ε^w, ŵ_0)`, the training loss of its outputs, and the outputs that correspond to a
known `ŵ_0`."""

import abc
from typing import ClassVar, Literal

import equinox as eqx
import jax.numpy as jnp
from jax.scipy.special import xlogy
from jaxtyping import Array, Float

WeightOutputName = Literal["denoised", "eps", "log"]


class AbstractWeightOutput(eqx.Module):
    """A parametrisation of the weight outputs. `name` is how checkpoints, configs and the
    command lines spell it."""

    name: ClassVar[str]

    @abc.abstractmethod
    def eps_and_w0(
        self, out: Float[Array, " K"], w_t: Float[Array, " K"],
        alpha: Float[Array, ""], sigma: Float[Array, ""],
    ) -> tuple[Float[Array, " K"], Float[Array, " K"]]:
        """`(ε^w, ŵ_0)` from the weight outputs `out` at the noisy weights `w_t`."""

    @abc.abstractmethod
    def target(
        self, eps: Float[Array, "*b K"], w0: Float[Array, "*b K"]
    ) -> Float[Array, "*b K"]:
        """What the weight outputs regress on, given the noise and the clean weights."""

    def error(
        self, out: Float[Array, "*b K"], eps: Float[Array, "*b K"], w0: Float[Array, "*b K"]
    ) -> Float[Array, "*b K"]:
        """The training loss of the outputs `out` per channel, given the noise and the clean
        weights: by default the squared error to [`target`][selfguide.AbstractWeightOutput]."""
        return (out - self.target(eps, w0)) ** 2

    @abc.abstractmethod
    def outputs_for(
        self, w0: Float[Array, " K"], w_t: Float[Array, " K"],
        alpha: Float[Array, ""], sigma: Float[Array, ""],
    ) -> Float[Array, " K"]:
        """The outputs that mean the clean-weight estimate `w0` at `w_t` (an exact oracle's)."""


class NoiseWeights(AbstractWeightOutput):
    """The reference's parametrisation: the weight outputs predict the noise `ε^w`, like the
    data outputs, and `ŵ_0 = (w_t − σ_t ε^w)/α_t` (Tweedie). An error in `ε^w` is
    `σ_t/α_t` times larger in `ŵ_0`."""

    name: ClassVar[str] = "eps"

    def eps_and_w0(self, out, w_t, alpha, sigma):
        return out, (w_t - sigma * out) / alpha

    def target(self, eps, w0):
        return eps

    def outputs_for(self, w0, w_t, alpha, sigma):
        return (w_t - alpha * w0) / sigma


class DenoisedWeights(AbstractWeightOutput):
    """The weight outputs predict the clean weights `ŵ_0` directly (regressed on `w_0` with
    equal care at every noise level); `ε^w = (w_t − α_t ŵ_0)/σ_t`. Guides far more accurately
    than [`NoiseWeights`][selfguide.NoiseWeights] (`benchmarks/results/weight_output.md`)."""

    name: ClassVar[str] = "denoised"

    def eps_and_w0(self, out, w_t, alpha, sigma):
        return (w_t - alpha * out) / sigma, out

    def target(self, eps, w0):
        return w0

    def outputs_for(self, w0, w_t, alpha, sigma):
        return w0


class LogWeights(AbstractWeightOutput):
    """The weight outputs predict `log ŵ_0`, so `ŵ_0 = exp(out) > 0` everywhere and
    `ε^w = (w_t − α_t ŵ_0)/σ_t`. They are trained with the generalised Kullback–Leibler
    divergence `ŵ_0 − w_0 log ŵ_0 + w_0 log w_0 − w_0` (a Bregman divergence, as squared error
    is one), whose minimiser is the conditional mean `E[w_0 | z_t]`: the model learns the same
    quantity as with [`DenoisedWeights`][selfguide.DenoisedWeights], but its gradient in the
    log is the relative error `ŵ_0/w_0 − 1`, so weights many orders of magnitude below the
    largest are resolved as well as the largest, and guidance `∇ log ŵ_0` needs no lower clip.
    The weights must be ≥ 0 (a zero weight is the limit `out → −∞`)."""

    name: ClassVar[str] = "log"

    def eps_and_w0(self, out, w_t, alpha, sigma):
        w0 = jnp.exp(out)
        return (w_t - alpha * w0) / sigma, w0

    def target(self, eps, w0):
        return jnp.log(w0)

    def error(self, out, eps, w0):
        return jnp.exp(out) - w0 * out + xlogy(w0, w0) - w0

    def outputs_for(self, w0, w_t, alpha, sigma):
        return jnp.log(w0)


_BY_NAME: dict[str, type[AbstractWeightOutput]] = {
    cls.name: cls for cls in (DenoisedWeights, NoiseWeights, LogWeights)
}


def as_weight_output(
    caller: str, value: AbstractWeightOutput | str
) -> AbstractWeightOutput:
    """A parametrisation from itself or its name (`"denoised"`, `"eps"`, `"log"`), checked
    once."""
    if isinstance(value, AbstractWeightOutput):
        return value
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]()
    raise ValueError(
        f"{caller}: weight_output must be 'eps' (the network predicts the noise of the "
        "weight channels, as in the reference; NoiseWeights()) or 'denoised' (it predicts the "
        "clean weights ŵ_0 directly; DenoisedWeights()) or 'log' (it predicts log ŵ_0, "
        f"trained by a divergence that resolves small weights; LogWeights()); got {value!r}."
    )
