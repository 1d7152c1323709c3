"""The methods the toy grid compares, each a small class that builds its guidance and sampler.

A method takes its sizes from the run's [`Budget`][selfguide.toys.Budget] (step counts,
candidates, clipping) and the weight channel's scale `c(β)` at the `β` drawn; `name` is how
the command line, tables and files call it, `label` how the tables and figures show it.
"""

import abc
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, Literal

import diffrax as dfx

from selfguide import (
    AbstractGuidance,
    AbstractSampler,
    DDPMSampler,
    NoGuidance,
    ODESampler,
    Resampling,
    SelfWeightedGuidance,
)

from ._cep import CEPGuidance

if TYPE_CHECKING:
    from ._run import Budget

MethodName = Literal["unguided", "resample", "swg-ddpm", "swg-ode", "cep"]


class ToyMethod(abc.ABC):
    """One way to sample the tilted target from the β-conditioned SWG model."""

    name: ClassVar[str]
    label: ClassVar[str]
    needs_energy: ClassVar[bool] = False
    """Whether it guides with CEP's separately trained energy network."""

    @abc.abstractmethod
    def setup(
        self,
        budget: "Budget",
        scale: float,
        energy_net: Callable | None,
        channel: int | None = 0,
    ) -> tuple[AbstractGuidance, AbstractSampler]:
        """The guidance and the sampler, for the weight channel `channel` divided by
        `scale` = `c(β)` (`None`: the weight is 1 at this `β`, so a method that reads the
        weight channels does not guide); `energy_net` is CEP's energy network."""


def _ddpm(budget: "Budget") -> DDPMSampler:
    return DDPMSampler(num_steps=budget.sample_steps)


def _swg(budget: "Budget", scale: float, channel: int | None) -> AbstractGuidance:
    if channel is None:
        return NoGuidance()
    clip_max = None if budget.clip_max is None else budget.clip_max / scale
    return SelfWeightedGuidance(1.0, channel, clip_min=budget.clip_min / scale,
                                clip_max=clip_max)


@dataclasses.dataclass(frozen=True)
class Unguided(ToyMethod):
    """Unguided diffusion: samples `q`, the floor every method must beat."""

    name: ClassVar[str] = "unguided"
    label: ClassVar[str] = "unguided (q)"

    def setup(self, budget, scale, energy_net, channel=0):
        return NoGuidance(), _ddpm(budget)


@dataclasses.dataclass(frozen=True)
class Resample(ToyMethod):
    """Importance resampling of `budget.resample_n` unguided candidates by their sampled
    weight channel."""

    name: ClassVar[str] = "resample"
    label: ClassVar[str] = "resampling"

    def setup(self, budget, scale, energy_net, channel=0):
        if channel is None:
            return NoGuidance(), _ddpm(budget)
        return Resampling(budget.resample_n, channel=channel), _ddpm(budget)


@dataclasses.dataclass(frozen=True)
class SWGDDPM(ToyMethod):
    """SWG at `ρ = 1` with DDPM, its weight iterate clipped to `[1e-4, 1]` (user units) when
    `budget.clip_weight`."""

    name: ClassVar[str] = "swg-ddpm"
    label: ClassVar[str] = "SWG DDPM"

    def setup(self, budget, scale, energy_net, channel=0):
        clip = (1e-4 / scale, 1.0 / scale) if budget.clip_weight else None
        sampler = DDPMSampler(num_steps=budget.sample_steps, clip_weight=clip)
        return _swg(budget, scale, channel), sampler


@dataclasses.dataclass(frozen=True)
class SWGODE(ToyMethod):
    """SWG at `ρ = 1` with `budget.ode_steps` Heun steps of the probability-flow ODE."""

    name: ClassVar[str] = "swg-ode"
    label: ClassVar[str] = "SWG ODE"

    def setup(self, budget, scale, energy_net, channel=0):
        sampler = ODESampler(dfx.Heun(), dfx.ConstantStepSize(), num_steps=budget.ode_steps)
        return _swg(budget, scale, channel), sampler


@dataclasses.dataclass(frozen=True)
class CEP(ToyMethod):
    """CEP-style guidance by a separately trained energy network, with DDPM."""

    name: ClassVar[str] = "cep"
    label: ClassVar[str] = "CEP (2 nets)"
    needs_energy: ClassVar[bool] = True

    def setup(self, budget, scale, energy_net, channel=0):
        if energy_net is None:
            raise ValueError("draw: method 'cep' needs energy_net=<a trained EnergyNetwork>.")
        return CEPGuidance(energy_net), _ddpm(budget)


TOY_METHODS: dict[str, type[ToyMethod]] = {
    m.name: m for m in (Unguided, Resample, SWGDDPM, SWGODE, CEP)
}


def toy_method(call: str, method: ToyMethod | str) -> ToyMethod:
    """A method, or the method its name (`"unguided"`, `"resample"`, `"swg-ddpm"`,
    `"swg-ode"`, `"cep"`) gives."""
    if isinstance(method, ToyMethod):
        return method
    if method not in TOY_METHODS:
        raise ValueError(
            f"{call}: unknown method {method!r}; choose from {', '.join(TOY_METHODS)}."
        )
    return TOY_METHODS[method]()
