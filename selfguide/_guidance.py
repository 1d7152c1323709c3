"""Guidance: how the noise prediction is changed so samples follow `w(x)^ρ q(x)`."""

import abc
from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._checks import float_array, warn_caller
from ._custom_types import PRNGKey
from ._joint import JointModel
from ._schedule import AbstractSchedule
from ._selection import AbstractSelection, Argmax, Softmax
from ._weight_output import NoiseWeights

EPS_SAFE_CLIP_MIN = 0.03
"""The smallest `clip_min` that kept every guided sample of a noise-predicting weight output
in range on the README's example (2,000 steps, weights rescaled to `(0, 1]`): with the
default `1e-4`, 6.4% of samples landed beyond |x| = 8 (as far as 2,791); with `0.03`, none
(`benchmarks/results/weight_output.md`)."""


class GuidanceWarning(UserWarning):
    """Guidance settings that are likely to give wrong samples with this model."""


class AbstractGuidance(eqx.Module):
    """Turns the model's ε into the ε a sampler consumes, and picks among candidates.

    `eps(model, schedule, z, t, cond)` gives the (guided) noise prediction for one example.
    `num_candidates` samples are drawn per requested sample and `select` keeps one; plain
    guidance draws one and keeps it.
    """

    @abc.abstractmethod
    def eps(
        self,
        model: JointModel,
        schedule: AbstractSchedule,
        z: Float[Array, " D"],
        t: Float[Array, ""],
        cond: Float[Array, " c"] | None,
    ) -> Float[Array, " D"]:
        """The noise prediction the sampler uses at `(z, t)`."""

    @property
    def num_candidates(self) -> int:
        return 1

    def select(
        self,
        model: JointModel,
        candidates: Float[Array, "N D"],
        cond: Float[Array, " c"] | None,
        *,
        key: PRNGKey,
    ) -> Float[Array, " D"]:
        """Keep one of the `num_candidates` final samples (by default the first)."""
        del model, cond, key
        return candidates[0]

    def validate(self, model: JointModel) -> None:
        """Check the guidance against the model before tracing (channels exist, ...)."""


class NoGuidance(AbstractGuidance):
    """Sample the data distribution `q` itself: the model's ε, unchanged."""

    def eps(self, model, schedule, z, t, cond):
        return model.eps(z, t, cond, schedule)


def _channel_mix(
    caller: str, channel: int | Sequence[float | int] | ArrayLike
) -> tuple[int | None, Array | None]:
    if isinstance(channel, (int, np.integer)) and not isinstance(channel, bool):
        return int(channel), None
    mix = jnp.asarray(channel, dtype=jnp.float32)
    if mix.ndim != 1:
        raise ValueError(
            f"{caller}: `channel` must be an int or a 1-D vector of non-negative coefficients "
            f"over the K weight channels, got shape {mix.shape}."
        )
    if not isinstance(mix, jax.core.Tracer):
        values = np.asarray(mix)
        if np.any(values < 0) or not np.any(values > 0):
            raise ValueError(
                f"{caller}: channel coefficients must be >= 0 and not all zero, got {values}."
            )
    return None, mix


def combine_weights(
    w: Float[Array, " K"], index: int | None, mix: Array | None
) -> Float[Array, ""]:
    """One scalar weight from the K channels: a single channel or a positive mix."""
    return w[index] if mix is None else w @ mix


def check_channel(caller: str, model: JointModel, index: int | None, mix: Array | None) -> None:
    k = model.weight_dim
    if index is not None and not 0 <= index < k:
        raise ValueError(
            f"{caller}: weight channel {index} does not exist; the model has {k} weight "
            f"channel(s), so use 0..{k - 1}."
        )
    if mix is not None and mix.shape != (k,):
        raise ValueError(
            f"{caller}: channel coefficients must have one entry per weight channel "
            f"(K = {k}), got shape {mix.shape}."
        )


class SelfWeightedGuidance(AbstractGuidance):
    """Self-weighted guidance: `ε̃ = ε − ρ σ_t ∇_z log ŵ_0(z)` (SWG, Theorem 3.5).

    `ŵ_0 = (w_t − σ_t ε^w)/α_t` is the model's own Tweedie estimate of the weight channel;
    `ρ = 1` samples `w(x) q(x)`, `ρ > 1` samples `w^ρ q`. The gradient is taken with respect
    to the whole noisy `z` and flows only through the part of the network the weight channel
    depends on (an early weight head makes guidance cheap).

    **Arguments:**

    - `scale`: `ρ ≥ 0`. Stored as an array, so changing it does not recompile.
    - `channel`: which weight channel guides (int), or non-negative coefficients over the
        `K` channels (guide by `Σ c_k ŵ_k`, e.g. "class 3 or 8").
    - `clip_min`, `clip_max`: `ŵ_0` is clipped to this range (model units) before the log
        (arrays: changing them does not recompile);
        outside it the gradient is zero. The reference uses `[1e-4, 1]` on weights in `(0, 1]`.
    """

    scale: Float[Array, ""]
    channel_index: int | None = eqx.field(static=True)
    channel_mix: Float[Array, " K"] | None
    clip_min: Float[Array, ""]
    clip_max: Float[Array, ""]

    def __init__(
        self,
        scale: float | Float[ArrayLike, ""] = 1.0,
        channel: int | Sequence[float | int] | Float[ArrayLike, " K"] = 0,
        clip_min: float | Float[ArrayLike, ""] = 1e-4,
        clip_max: float | Float[ArrayLike, ""] | None = None,
    ):
        self.scale = float_array("SelfWeightedGuidance: scale", scale, nonnegative=True)
        if self.scale.ndim != 0:
            raise ValueError(
                f"SelfWeightedGuidance: scale must be a scalar, got shape {self.scale.shape}. "
                "Sweep scales by calling sample once per scale (it does not recompile)."
            )
        self.channel_index, self.channel_mix = _channel_mix("SelfWeightedGuidance", channel)
        lo = float_array("SelfWeightedGuidance: clip_min", clip_min, nonnegative=False)
        hi = float_array(
            "SelfWeightedGuidance: clip_max",
            jnp.inf if clip_max is None else clip_max,
            nonnegative=False,
            allow_inf=True,
        )
        if not isinstance(lo, jax.core.Tracer) and not isinstance(hi, jax.core.Tracer):
            if not 0 < float(lo) < float(hi):
                raise ValueError(
                    f"SelfWeightedGuidance: need 0 < clip_min < clip_max, got {clip_min}, "
                    f"{clip_max}."
                )
        self.clip_min, self.clip_max = lo, hi

    def validate(self, model: JointModel) -> None:
        check_channel("SelfWeightedGuidance", model, self.channel_index, self.channel_mix)
        low = self.clip_min
        noisy = isinstance(model.weight_output, NoiseWeights)
        if noisy and not isinstance(low, jax.core.Tracer):
            if float(low) < EPS_SAFE_CLIP_MIN * (1 - 1e-6):  # float32 rounding of 0.03
                warn_caller(
                    "SelfWeightedGuidance: this model's weight output predicts noise "
                    "(weight_output='eps'), so its ŵ_0 = (w_t − σ_t ε^w)/α_t carries the "
                    "network's error times σ_t/α_t (about 12 at the noisiest step of "
                    "VPSchedule(15)), and where ŵ_0 comes near clip_min the gradient of "
                    "log ŵ_0 can throw samples far out. Train with weight_output='denoised' "
                    "(fit's default), or set clip_min="
                    f"{EPS_SAFE_CLIP_MIN:g} or more (on weights rescaled to (0, 1]: no "
                    "outliers, but weaker guidance where ŵ_0 is small).",
                    GuidanceWarning,
                )

    def log_weight(
        self,
        model: JointModel,
        schedule: AbstractSchedule,
        z: Float[Array, " D"],
        t: Float[Array, ""],
        cond: Float[Array, " c"] | None,
    ) -> tuple[Float[Array, ""], Float[Array, " D"]]:
        """`(log ŵ_0(z), ε(z))`: the guidance potential and the unguided ε."""
        eps, w0 = model.eps_and_weights(z, t, cond, schedule)
        w = combine_weights(w0, self.channel_index, self.channel_mix)
        w = jnp.clip(w, self.clip_min, self.clip_max)
        return jnp.log(w), eps

    def eps(self, model, schedule, z, t, cond):
        grad, eps = jax.grad(self.log_weight, argnums=2, has_aux=True)(model, schedule, z, t, cond)
        grad = jnp.where(jnp.isfinite(grad), grad, 0.0)
        _, sigma = schedule.alpha_sigma(t)
        return eps - self.scale * sigma * grad


class Resampling(AbstractGuidance):
    """Draw `num_candidates` samples per request and keep one, by weight or by a score.

    With `guidance=NoGuidance()` and `select=Softmax(1.0)` on the sampled weight this is
    importance resampling of `q` by `w` (exact as the number of candidates grows);
    `select=Argmax()` with a critic `score` is IDQL/SfBC; with
    `guidance=SelfWeightedGuidance(...)` and a critic it is SWG-R.

    **Arguments:**

    - `num_candidates`: `N ≥ 1` candidates per returned sample.
    - `guidance`: how each candidate is sampled (default: unguided).
    - `select`: [`Argmax()`][selfguide.Argmax] keeps the best;
        [`Softmax(temperature)`][selfguide.Softmax] (the default, at temperature 1) draws
        one with probability `∝ exp(score / temperature)`. The names `"argmax"` and
        `"softmax"` are accepted too.
    - `temperature`: with `select` left out or `"softmax"`, the softmax temperature
        (default 1; an array: no recompile on change). With a selection module, give the
        temperature to `Softmax` instead.
    - `score`: `score(x, w, cond) -> scalar` in user units, for one candidate; default
        `log w` of the chosen weight channel(s) (so softmax at temperature 1 draws `∝ w`).
        A function, or an `eqx.Module` (e.g. a critic): its arrays are traced, so a new
        critic of the same shape does not recompile.
    - `channel`: weight channel (or coefficients) the default score uses.
    """

    num_candidates_: int = eqx.field(static=True)
    guidance: AbstractGuidance
    selection: AbstractSelection
    score: Callable | None  # a plain function stays static; an eqx.Module score is traced
    channel_index: int | None = eqx.field(static=True)
    channel_mix: Float[Array, " K"] | None

    def __init__(
        self,
        num_candidates: int,
        guidance: AbstractGuidance | None = None,
        select: AbstractSelection | str | None = None,
        temperature: float | Float[ArrayLike, ""] | None = None,
        score: Callable | None = None,
        channel: int | Sequence[float | int] | Float[ArrayLike, " K"] = 0,
    ):
        if isinstance(num_candidates, bool) or not isinstance(num_candidates, int):
            raise TypeError(f"Resampling: num_candidates must be an int, got {num_candidates!r}.")
        if num_candidates < 1:
            raise ValueError(f"Resampling: num_candidates must be >= 1, got {num_candidates}.")
        self.num_candidates_ = num_candidates
        self.guidance = NoGuidance() if guidance is None else guidance
        self.selection = _selection(select, temperature)
        self.score = score
        self.channel_index, self.channel_mix = _channel_mix("Resampling", channel)

    @property
    def num_candidates(self) -> int:
        return self.num_candidates_

    def validate(self, model: JointModel) -> None:
        self.guidance.validate(model)
        check_channel("Resampling", model, self.channel_index, self.channel_mix)

    def eps(self, model, schedule, z, t, cond):
        return self.guidance.eps(model, schedule, z, t, cond)

    def scores(
        self, model: JointModel, candidates: Float[Array, "N D"], cond: Float[Array, " c"] | None
    ) -> Float[Array, " N"]:
        d = model.data_dim
        x, w = candidates[:, :d], model.units.to_user(candidates[:, d:])
        if self.score is not None:
            return jax.vmap(lambda xi, wi: self.score(xi, wi, cond))(x, w)
        # The default score reads the same user-unit weights a user's score gets.
        mixed = jax.vmap(lambda wi: combine_weights(wi, self.channel_index, self.channel_mix))(w)
        return jnp.log(jnp.maximum(mixed, 1e-30))

    def select(self, model, candidates, cond, *, key):
        return self.selection.select(self.scores(model, candidates, cond), candidates, key)


def _selection(select: AbstractSelection | str | None, temperature) -> AbstractSelection:
    """`Resampling`'s `select` and `temperature` as one selection module."""
    if isinstance(select, AbstractSelection):
        if temperature is not None:
            raise ValueError(
                "Resampling: temperature applies only when select is left out or 'softmax'; "
                f"give it to the selection instead, e.g. Softmax({temperature!r})."
            )
        return select
    if select is None or select == "softmax":
        temperature = 1.0 if temperature is None else temperature
        return Softmax(float_array("Resampling: temperature", temperature, nonnegative=True))
    if select == "argmax":
        if temperature is not None:
            raise ValueError(
                "Resampling: select='argmax' keeps the best candidate and takes no "
                f"temperature, got temperature={temperature!r}; use select=Softmax(...) to "
                "draw with a temperature."
            )
        return Argmax()
    raise ValueError(
        "Resampling: select must be Argmax(), Softmax(temperature) or their names 'argmax' "
        f"or 'softmax', got {select!r}."
    )
