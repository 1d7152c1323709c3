"""The variance of one ancestral (DDPM) step: fixed-large or the posterior's."""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float


class AbstractVariance(eqx.Module):
    """The variance `σ²_{t|s}` of the noise a [`DDPMSampler`][selfguide.DDPMSampler] adds
    when it steps from noise level `t` down to `s`.

    `step_variance(beta_ts, log_alpha_bar_t, log_alpha_bar_s)` gets `β_{t|s} = 1 − ᾱ_t/ᾱ_s`
    and the two levels' `log ᾱ`.
    """

    @abc.abstractmethod
    def step_variance(
        self,
        beta_ts: Float[Array, ""],
        log_alpha_bar_t: Float[Array, ""],
        log_alpha_bar_s: Float[Array, ""],
    ) -> Float[Array, ""]:
        """`σ²_{t|s}`."""


class LargeVariance(AbstractVariance):
    """"Fixed-large": `σ²_{t|s} = β_{t|s}` (Ho et al., 2020; the SWG and IDQL reference)."""

    def step_variance(self, beta_ts, log_alpha_bar_t, log_alpha_bar_s):
        del log_alpha_bar_t, log_alpha_bar_s
        return beta_ts


class PosteriorVariance(AbstractVariance):
    """The variance of the forward posterior `q(z_s | z_t, x_0)`:
    `σ²_{t|s} = β_{t|s} (1 − ᾱ_s)/(1 − ᾱ_t)`."""

    def step_variance(self, beta_ts, log_alpha_bar_t, log_alpha_bar_s):
        return beta_ts * (-jnp.expm1(log_alpha_bar_s)) / (-jnp.expm1(log_alpha_bar_t))


_BY_NAME: dict[str, type[AbstractVariance]] = {
    "large": LargeVariance,
    "posterior": PosteriorVariance,
}


def as_variance(caller: str, variance: AbstractVariance | str) -> AbstractVariance:
    """A variance module, or its name (`"large"`, `"posterior"`) turned into one."""
    if isinstance(variance, AbstractVariance):
        return variance
    if isinstance(variance, str) and variance in _BY_NAME:
        return _BY_NAME[variance]()
    raise ValueError(
        f"{caller}: variance must be LargeVariance(), PosteriorVariance() (or their names "
        f"'large', 'posterior'), got {variance!r}."
    )
