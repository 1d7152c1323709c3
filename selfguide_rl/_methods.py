"""The ways to act with one run: BC, SWG, IDQL and SWG-R sample its diffusion model, IQL
acts with its Gaussian actor; each is a small Module.

A method carries its own settings (the guidance scale `ρ`, the number of candidates `N`,
IQL's actor) and knows which guidance of the core it samples with; [`act`][selfguide_rl.act] runs it
for a batch of states in one jitted call. The scale is an array, so a sweep over it does
not recompile; `N` sets the number of candidates, a shape, so a new `N` compiles anew.
"""

import abc
from typing import TYPE_CHECKING, ClassVar, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

import selfguide as sg

if TYPE_CHECKING:
    from ._iql import GaussianActor
    from ._policy import Policy

MethodName = Literal["bc", "iql", "idql", "swg", "swg-r"]
METHODS: tuple[MethodName, ...] = ("bc", "iql", "idql", "swg", "swg-r")
"""The methods by name, as the command line, presets and result tables give them."""


def check_scale(caller: str, scale) -> float | Array:
    """A guidance scale: a finite number `>= 0` (a traced value passes unchecked)."""
    if isinstance(scale, jax.core.Tracer):
        return scale
    s = float(scale)
    if not np.isfinite(s) or s < 0:
        raise ValueError(
            f"{caller}: the guidance scale must be a finite number >= 0, got {scale}. 0 is "
            "unguided (behaviour cloning); the paper sweeps 1-30."
        )
    return s


def check_candidates(caller: str, num_candidates) -> int:
    """`N`: an int `>= 1`."""
    ok = isinstance(num_candidates, int) and not isinstance(num_candidates, bool)
    if not ok or num_candidates < 1:
        raise ValueError(f"{caller}: num_candidates must be an int >= 1, got {num_candidates!r}.")
    return num_candidates


CLIP_MAX: float | None = None
"""The default upper clip of `ŵ_0` in SWG and SWG-R: none. Measured on the PointMaze suite
(`benchmarks/results/rl/`): with the denoised weight output the estimate reaches 1 (the
largest rescaled weight) in 1–3% of guided evaluations, and clipping it there changed no
test score (SWG at ρ = 10, clip at 1 against none, paired over 5 seeds per dataset); a clip
can only switch the gradient off where the best actions are, so none is kept."""


def _clip_max(caller: str, clip_max: float | None) -> Float[Array, ""]:
    """The upper clip as an array (`None`: no upper clip, `inf`)."""
    value = np.inf if clip_max is None else float(clip_max)
    if not value > 1e-4:
        raise ValueError(
            f"{caller}: clip_max must be > 1e-4 (the lower clip) or None for no upper clip, "
            f"got {clip_max}."
        )
    return jnp.asarray(value, jnp.float32)


def _guided(scale: Float[Array, ""], clip_max: Float[Array, ""]) -> sg.SelfWeightedGuidance:
    # Weights are rescaled to (0, 1]; the lower clip keeps log ŵ_0 finite.
    return sg.SelfWeightedGuidance(scale, clip_min=1e-4, clip_max=clip_max)


def _best_by_q(policy: "Policy", num_candidates: int, guidance) -> sg.Resampling:
    def score(a, w, s):
        del w
        return policy.values.q(s, policy.to_env(a))

    return sg.Resampling(num_candidates, guidance=guidance, select=sg.Argmax(), score=score)


class AbstractMethod(eqx.Module):
    """How [`act`][selfguide_rl.act] turns the policy's diffusion model into actions.

    `guidance(policy)` is the core guidance it samples with (built inside the jitted call);
    `name` is its name in tables and files; `selects_by_q` says whether it needs the
    policy's learned values.
    """

    name: ClassVar[str]
    selects_by_q: ClassVar[bool] = False

    @abc.abstractmethod
    def guidance(self, policy: "Policy") -> sg.AbstractGuidance:
        """The guidance of the core this method samples with."""

    def sampling_temperature(self, asked: Float[Array, ""]) -> Float[Array, ""]:
        """The DDPM temperature this method samples at, given the one `act` was asked for
        (by default that one)."""
        return asked

    def actions(
        self, policy: "Policy", obs: Float[Array, "B o"], temperature: Float[Array, ""], key
    ) -> Float[Array, "B a"]:
        """Actions in `[−1, 1]` for a batch of states (traced inside `act`'s jitted call):
        by default the policy's model sampled with `guidance(policy)`."""
        sampler = sg.DDPMSampler(
            temperature=self.sampling_temperature(temperature), clip_data=(-1.0, 1.0),
            clip_weight=(1e-4, 1.0),
        )
        out = sg.sample(policy.model, policy.schedule, cond=obs, guidance=self.guidance(policy),
                        sampler=sampler, key=key)
        return out.x


class BC(AbstractMethod):
    """Behaviour cloning: the model sampled unguided, the behaviour policy `μ(a|s)`."""

    name: ClassVar[str] = "bc"

    def guidance(self, policy):
        del policy
        return sg.NoGuidance()


class SWG(AbstractMethod):
    """Self-weighted guidance at scale `ρ`: `π(a|s) ∝ w(s, a)^ρ μ(a|s)`.

    **Arguments:**

    - `scale`: `ρ ≥ 0` (an array: changing it does not recompile).
    - `clip_max`: the upper clip of the denoised weight `ŵ_0` (`None`: none); where the
      estimate reaches it the guidance gradient is zero. An array: no recompile on change.
    """

    name: ClassVar[str] = "swg"
    scale: Float[Array, ""]
    clip_max: Float[Array, ""]

    def __init__(self, scale: float | Float[ArrayLike, ""] = 10.0,
                 clip_max: float | None = CLIP_MAX):
        self.scale = jnp.asarray(check_scale("SWG", scale), jnp.float32)
        self.clip_max = _clip_max("SWG", clip_max)

    def guidance(self, policy):
        del policy
        return _guided(self.scale, self.clip_max)


class IDQL(AbstractMethod):
    """IDQL (Hansen-Estruch et al., 2023) as published: `N` candidates drawn from the
    behaviour model at temperature 1, keep the one with the largest `Q(s, a)`.

    The candidates need their own temperature: at temperature 0 (the usual evaluation
    setting of BC and SWG) DDPM sends every initial noise to nearly the same action (on
    Hopper medium-expert, 64 candidates spread by a per-coordinate standard deviation of
    0.007, against 0.151 at temperature 1), and IDQL becomes a small Q-guided nudge of
    behaviour cloning. With a weak diffusion model, though, candidates at temperature 1 leave
    the data's support and the argmax picks the critic's errors; `benchmarks/rl.py` chooses
    the temperature on validation episodes.

    **Arguments:**

    - `num_candidates`: `N ≥ 1` (IDQL's code: 64).
    - `temperature`: the candidates' DDPM temperature (IDQL's: 1); `None` samples them at
        the temperature given to [`act`][selfguide_rl.act]. An array: no recompile on change.
    """

    name: ClassVar[str] = "idql"
    selects_by_q: ClassVar[bool] = True
    num_candidates: int = eqx.field(static=True)
    temperature: Float[Array, ""] | None

    def __init__(
        self, num_candidates: int = 64, temperature: float | Float[ArrayLike, ""] | None = 1.0
    ):
        self.num_candidates = check_candidates("IDQL", num_candidates)
        if temperature is not None:
            t = float(temperature)
            if not np.isfinite(t) or t < 0:
                raise ValueError(
                    f"IDQL: temperature must be a finite number >= 0 (IDQL's is 1), got "
                    f"{temperature}."
                )
            temperature = jnp.asarray(t, jnp.float32)
        self.temperature = temperature

    def guidance(self, policy):
        return _best_by_q(policy, self.num_candidates, sg.NoGuidance())

    def sampling_temperature(self, asked):
        return asked if self.temperature is None else self.temperature


class SWGR(AbstractMethod):
    """SWG-R: `N` candidates drawn with self-weighted guidance at scale `ρ`, keep the one with
    the largest `Q(s, a)`.

    **Arguments:**

    - `scale`: `ρ ≥ 0` (an array: changing it does not recompile).
    - `num_candidates`: `N ≥ 1`.
    - `clip_max`: as in [`SWG`][selfguide_rl.SWG].
    """

    name: ClassVar[str] = "swg-r"
    selects_by_q: ClassVar[bool] = True
    scale: Float[Array, ""]
    num_candidates: int = eqx.field(static=True)
    clip_max: Float[Array, ""]

    def __init__(self, scale: float | Float[ArrayLike, ""] = 10.0, num_candidates: int = 16,
                 clip_max: float | None = CLIP_MAX):
        self.scale = jnp.asarray(check_scale("SWGR", scale), jnp.float32)
        self.num_candidates = check_candidates("SWGR", num_candidates)
        self.clip_max = _clip_max("SWGR", clip_max)

    def guidance(self, policy):
        return _best_by_q(policy, self.num_candidates, _guided(self.scale, self.clip_max))


class IQL(AbstractMethod):
    """IQL (Kostrikov et al., 2022): the Gaussian actor extracted from the run's values by
    advantage-weighted regression ([`train_actor`][selfguide_rl.train_actor]), acting with
    its mean. It does not sample the diffusion model.

    **Arguments:**

    - `actor`: the trained [`GaussianActor`][selfguide_rl.GaussianActor] (a run's
      `Agent.actor`).
    """

    name: ClassVar[str] = "iql"
    actor: "GaussianActor"

    def __init__(self, actor: "GaussianActor"):
        from ._iql import GaussianActor

        if not isinstance(actor, GaussianActor):
            raise TypeError(
                f"IQL: expected a trained GaussianActor (a run's Agent.actor), got "
                f"{type(actor).__name__}."
            )
        self.actor = actor

    def guidance(self, policy):
        raise TypeError("IQL acts with its Gaussian actor; it samples with no guidance.")

    def actions(self, policy, obs, temperature, key):
        del policy, temperature, key
        return jax.vmap(self.actor)(obs)


def method_from_name(
    caller: str, name: str, *, scale: float = 10.0, num_candidates: int = 16,
    temperature: float | None = 1.0, actor: "GaussianActor | None" = None,
    clip_max: float | None = CLIP_MAX,
) -> AbstractMethod:
    """The method called `name` (`"bc"`, `"iql"`, `"idql"`, `"swg"`, `"swg-r"`) with the
    settings it takes from `scale`, `num_candidates`, `temperature` (IDQL's candidates),
    `actor` (IQL's) and `clip_max` (SWG's and SWG-R's); the others are ignored, as a name
    cannot tell."""
    if name not in METHODS:
        raise ValueError(f"{caller}: unknown method {name!r}; expected one of {METHODS}.")
    check_scale(caller, scale)
    check_candidates(caller, num_candidates)
    if name == "bc":
        return BC()
    if name == "iql":
        if actor is None:
            raise ValueError(
                f"{caller}: the method 'iql' acts with the run's IQL actor, and none was "
                "given; evaluate a run trained by `train_run` (it trains the actor), or pass "
                "IQL(actor)."
            )
        return IQL(actor)
    if name == "swg":
        return SWG(scale, clip_max)
    if name == "idql":
        return IDQL(num_candidates, temperature)
    return SWGR(scale, num_candidates, clip_max)
