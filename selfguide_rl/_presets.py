"""Presets per task family: value loss and τ, weights, guidance scale, budgets.

Every preset has two budgets: `cpu` (the default, sized so a dataset trains and evaluates in
minutes on two CPU cores) and `full` (the paper's: 500k value steps, 1M diffusion steps at
batch 1024 — AntMaze 3M — with the reference network and T = 15).

τ follows the paper (SWG-MATH §4): 0.7 for locomotion, Kitchen and Adroit, 0.9 for
AntMaze. PointMaze (`maze2d`) uses 0.9 as well: like AntMaze it is goal reaching from
data whose behaviour aims at *other* goals (random goals, noisy waypoints), so the
evaluation goal is reached by the few best actions in each state and a high expectile is
what lets `V` see them; 0.7 averages them away.
"""

import dataclasses
from typing import Any

from selfguide.settings import check_field, replace_fields

from ._iql import ActorConfig
from ._policy import PolicyConfig
from ._values import ValueConfig
from ._weights import AbstractWeighting, WeightKind, weighting_from_name
from .data._tasks import TASK_FAMILIES


@dataclasses.dataclass(frozen=True)
class Preset:
    """Everything a run needs besides the data.

    - `family`: the task family it is for (decides reward processing).
    - `values`, `policy`, `actor`: [`ValueConfig`][selfguide_rl.ValueConfig],
      [`PolicyConfig`][selfguide_rl.PolicyConfig] and IQL's
      [`ActorConfig`][selfguide_rl.ActorConfig] (`β` per family as in the IQL paper).
    - `weight`: weight kind (`"expectile"`, `"smooth_expectile"`, `"exponential"`,
      `"linex"`); `beta`, `w_max` for the exponential weight. `weighting()` is the
      [`AbstractWeighting`][selfguide_rl.AbstractWeighting] they name, with the values'
      `τ`.
    - `guidance_scale`: SWG's `ρ`; `clip_max`: the upper clip of `ŵ_0` in SWG and SWG-R
      (`None`, the default: none; the reference clips at 1); `num_candidates`: `N` of
      SWG-R;
      `idql_candidates`, `idql_temperature`: IDQL's `N` and candidate temperature (its
      code's 64 and 1).
    - `eval_episodes`, `eval_envs`: evaluation episodes per seed, and how many run in
      parallel.
    """

    name: str
    family: str
    values: ValueConfig
    policy: PolicyConfig
    actor: ActorConfig = ActorConfig()
    weight: WeightKind = "expectile"
    beta: float = 3.0
    w_max: float = 100.0
    guidance_scale: float = 10.0
    clip_max: float | None = None
    num_candidates: int = 16
    idql_candidates: int = 64
    idql_temperature: float = 1.0
    eval_episodes: int = 10
    eval_envs: int = 10

    def __post_init__(self):
        for field in dataclasses.fields(self):
            if field.name not in _SUBCONFIGS:
                check_field("Preset", Preset, field.name, getattr(self, field.name))
        for name in ("num_candidates", "idql_candidates", "eval_episodes", "eval_envs"):
            if getattr(self, name) < 1:
                raise ValueError(f"Preset: {name} must be >= 1, got {getattr(self, name)}.")
        if self.guidance_scale < 0:
            raise ValueError(f"Preset: guidance_scale must be >= 0, got {self.guidance_scale}.")
        if not self.idql_temperature >= 0:
            raise ValueError(
                f"Preset: idql_temperature must be >= 0, got {self.idql_temperature}."
            )

    def weighting(self) -> AbstractWeighting:
        """The weighting of `weight`, with `values.tau`, `beta` and `w_max`."""
        return weighting_from_name(
            "Preset", self.weight, tau=self.values.tau, beta=self.beta, w_max=self.w_max
        )

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Preset":
        d = dict(d)
        v = dict(d.pop("values"))
        v["hidden"] = tuple(v["hidden"])
        actor = dict(d.pop("actor", dataclasses.asdict(ActorConfig())))
        actor["hidden"] = tuple(actor["hidden"])
        return cls(values=ValueConfig(**v), policy=PolicyConfig(**d.pop("policy")),
                   actor=ActorConfig(**actor), **d)

    def replace(self, **changes: Any) -> "Preset":
        """A copy with fields changed; `values.x`, `policy.x`, `actor.x` keys reach the
        sub-configs.

        Every name and value is checked first (an unknown name lists the valid ones; a value
        of the wrong kind names the field), so a bad change fails before any training."""
        values, policy, actor, top = {}, {}, {}, {}
        for k, v in changes.items():
            if k.startswith("values."):
                values[k[7:]] = v
            elif k.startswith("policy."):
                policy[k[7:]] = v
            elif k.startswith("actor."):
                actor[k[6:]] = v
            else:
                top[k] = v
        call = "preset"
        unknown = [k for k in top if k not in {f.name for f in dataclasses.fields(Preset)}]
        if unknown:
            raise ValueError(
                f"{call}: {unknown[0]!r} is not a setting; the preset's settings are "
                + ", ".join(f.name for f in dataclasses.fields(Preset) if f.name not in
                            _SUBCONFIGS)
                + ", values.<field> ("
                + ", ".join(f.name for f in dataclasses.fields(ValueConfig))
                + "), policy.<field> ("
                + ", ".join(f.name for f in dataclasses.fields(PolicyConfig))
                + ") and actor.<field> ("
                + ", ".join(f.name for f in dataclasses.fields(ActorConfig))
                + ")."
            )
        return replace_fields(
            call,
            self,
            {
                **top,
                "values": replace_fields(call, self.values, values, prefix="values."),
                "policy": replace_fields(call, self.policy, policy, prefix="policy."),
                "actor": replace_fields(call, self.actor, actor, prefix="actor."),
            },
        )


_SUBCONFIGS = ("values", "policy", "actor")

# CPU budget: a narrower LN-ResNet (width 128, same depth and weight head after block 2),
# T = 5 as IDQL (3x cheaper sampling than T = 15), 10k value steps, 8k diffusion steps
# (more for the families below).
_CPU_VALUES = dict(steps=10_000, batch_size=256, hidden=(256, 256))
_CPU_POLICY = dict(width=128, weight_head_hidden=128, time_features=64, time_dim=128,
                   diffusion_steps=5, steps=8_000, batch_size=256)
_FULL_VALUES = dict(steps=500_000, batch_size=256, hidden=(256, 256))
_FULL_POLICY = dict(diffusion_steps=15, steps=1_000_000, batch_size=1024)

# family: (tau, guidance scale, eval episodes per seed, IQL's beta). Beta is the IQL paper's
# (Kostrikov et al., 2022, Appendix B: MuJoCo 3, AntMaze 10, Kitchen and Adroit 0.5); maze2d
# and "other" take the MuJoCo value.
_FAMILY = {
    "locomotion": (0.7, 10.0, 10, 3.0),
    "antmaze": (0.9, 10.0, 50, 10.0),
    "kitchen": (0.7, 10.0, 10, 0.5),
    "adroit": (0.7, 10.0, 10, 0.5),
    "maze2d": (0.9, 10.0, 10, 3.0),
    "other": (0.7, 10.0, 10, 3.0),
}

# Value steps of the CPU budget where 10k are too few. maze2d: with sparse rewards the value
# of a state must travel back from the goal over hundreds of steps; at 10k steps the mean Q
# of UMaze was 11 and still rising by ~1 per 1k steps (a state at the goal is worth
# 1 / (1 − γ) = 100), so IQL's actor barely moved from BC. 50k steps cost ~4 min on 2 cores.
#
# locomotion: at 10k steps the critic of Hopper medium-replay was far from converged (mean Q
# 32 and rising by 3 per 1k steps, 0.62 of the data's Monte-Carlo return, Pearson correlation
# with it 0.64), its advantages a coin flip (49% positive), and every method scored as BC
# (9–11). Mean Q levels off by 50k steps (62, 1.17 of the Monte-Carlo return, correlation
# 0.85) while the advantages keep sharpening (42% positive at 50k, 32% at 100k); on seed 0
# IQL / IDQL / SWG scored 20.8 / 26.7 / 28.1 at 50k and 49.0 / 26.9 / 42.8 at 100k, BC about
# 10 throughout (`benchmarks/critic_quality.py` measures the critic). 100k steps cost ~12 min
# on one core.
_CPU_VALUE_STEPS = {"maze2d": 50_000, "locomotion": 100_000}

# Diffusion steps of the CPU budget where 8k are too few. locomotion: the 8k-step model's loss
# was still falling (0.448 at 8k, 0.417 at 16k, 0.414 at 20k on Hopper medium-replay).
_CPU_POLICY_STEPS = {"locomotion": 20_000}

PRESETS: tuple[str, ...] = TASK_FAMILIES


def get_preset(name: str, *, full: bool = False, reference: bool = False) -> Preset:
    """The preset of a task family (`"locomotion"`, `"antmaze"`, `"kitchen"`, `"adroit"`,
    `"maze2d"`, `"other"`); `full=True` gives the paper's budgets.

    The policy's weight output predicts the clean weight (`weight_output="denoised"`), which
    guides more accurately; `reference=True` gives the reference's parametrisation instead
    (`"eps"`, the weight output predicts noise), all else equal."""
    if name not in _FAMILY:
        raise ValueError(
            f"get_preset: unknown preset {name!r}; expected one of {PRESETS} (a task family)."
        )
    tau, scale, episodes, beta = _FAMILY[name]
    values = dict(_FULL_VALUES if full else _CPU_VALUES)
    if not full and name in _CPU_VALUE_STEPS:
        values["steps"] = _CPU_VALUE_STEPS[name]
    policy = dict(_FULL_POLICY if full else _CPU_POLICY)
    if not full and name in _CPU_POLICY_STEPS:
        policy["steps"] = _CPU_POLICY_STEPS[name]
    if full and name == "antmaze":
        policy["steps"] = 3_000_000
    if reference:
        policy["weight_output"] = "eps"
    return Preset(
        name=name + ("-full" if full else "") + ("-reference" if reference else ""),
        family=name,
        values=ValueConfig(loss="expectile", tau=tau, **values),
        policy=PolicyConfig(**policy),
        # IQL's actor trains as long as the values (IQL trains both together).
        actor=ActorConfig(beta=beta, steps=values["steps"], batch_size=values["batch_size"]),
        weight="expectile",
        guidance_scale=scale,
        eval_episodes=episodes,
        eval_envs=min(episodes, 10),
    )
