"""Every size and step count of a toy run, and the short budget of `selfguide demo`."""

import dataclasses
import hashlib
import json

from selfguide.checks import as_weight_output, check_time_power

_TAGGED_WHEN_CHANGED = {"time_power": 1.0, "beta_features": 0, "weight_gain": 1.0,
                        "beta_channels": ()}


@dataclasses.dataclass(frozen=True)
class Budget:
    """Every size and step count of a toy run (part of the checkpoint cache key).

    - `steps`, `batch_size`, `width`, `depth`, `num_train`: the SWG model (an
        [`MLPDenoiser`][selfguide.MLPDenoiser] on `[x, w]` conditioned on `β / β_max`,
        trained on `num_train` draws of `q`, each with its own `β ~ U[0, β_max]`).
    - `learning_rate`: AdamW's peak rate (cosine decay to 0 over `steps`); `ema_decay`:
        the EMA of the parameters that is sampled.
    - `beta_max`: the top of the trained `β` range.
    - `weight_loss`: the ε-loss weight of the weight channel (the toy reference uses 2).
    - `input_features`, `input_feature_scale`: random Fourier features of `x_t` fed to the
        network beside `z_t` (`0`: none; see [`MLPDenoiser`][selfguide.MLPDenoiser]).

    The defaults are the best of the measured ablations of `benchmarks/toy_ablations.py`
    (`benchmarks/results/toys/ablations.md`): AdamW at 3e-3 rather than the reference's 3e-4
    (the largest effect at this budget), 64 random Fourier features of `x_t` at 0.5 cycles
    per unit (the unguided model's ratio to its floor 0.12 → 0.06), 12,000 steps (→ 0.05;
    SWG 0.30), the weight channel's loss weight 1, and no clip of the weight iterate.
    - `schedule`: `"cosine"` or `"vp"` (continuous time, so DDPM and the ODE share a model);
        `time_power`: its training times `τ = 10⁻³ + (1 − 10⁻³) u^p`, `u ~ U[0, 1]`
        (1: uniform, the default; `p = 2` improves the unguided model but, at five sampling
        seeds per cell and two training seeds, not the guided cells: 6.2 and 7.0 of 12 per
        draw against 6.2 and 5.6, `benchmarks/results/toys/notes.md`).
    - `cep_steps`, `cep_groups`, `cep_support`, `cep_width`, `cep_depth`: CEP's energy network.
    - `sample_steps`: DDPM steps; `ode_steps`: Heun steps of the ODE solver.
    - `num_samples`: samples per (method, β, seed); `resample_n`: resampling candidates `N`.
    - `clip_min`, `clip_max`: the clip of `ŵ0` before SWG's log, in user units (weights are
        in `(0, 1]`; the reference clips to `[1e-4, 1]`); `clip_weight`: clip
        SWG's DDPM iterate's weight channel to `[1e-4, 1]` (user units) after every step
        (the RL reference; it helped the earlier 4000-step models at 3e-4 and hurts the
        better-trained default ones: off).
    - `weight_scale`: `"none"` (the channel is `w`) or `"rms"` (the channel is
        `w / c(β)`, `c(β) = √E_q[w²]`, a positive constant per `β`, so the guidance
        `∇ log E[w | z_t]` is unchanged while the channel has unit second moment at every `β`).
        `weight_gain`: a further constant factor on the channel (`g · w / c(β)`; 1: none); the
        guidance is again unchanged, while a larger channel stands out of the noise earlier.
    - `beta_features`: the conditioning vector is `β / β_max` and, for `n > 0`, `n` pairs
        `sin(2^k π β / β_max)`, `cos(2^k π β / β_max)`, `k = 0 … n − 1` (0: the scalar alone).
    - `beta_channels`: `()` (the default) trains one weight channel conditioned on `β`, so the
        model guides at any `β` in `[0, β_max]`. A tuple of `β`s instead trains one weight
        channel per listed `β` (`z = [x, w_β1 / c(β1), …]`) and no conditioning: every
        training draw then teaches every channel, but the model guides only at those `β`s
        (and samples `q` unguided at any `β`).
    - `weight_output`: `"denoised"` (the weight output predicts `ŵ0`; see
        [`train`][selfguide.train]), `"log"` (it predicts `log ŵ0`;
        [`LogWeights`][selfguide.LogWeights]) or `"eps"` (it predicts noise, the reference).
    """

    steps: int = 12_000
    batch_size: int = 512
    width: int = 256
    depth: int = 4
    num_train: int = 100_000
    learning_rate: float = 3e-3
    ema_decay: float = 0.999
    beta_max: float = 24.0
    weight_loss: float = 1.0
    schedule: str = "vp"
    cep_steps: int = 1500
    cep_groups: int = 32
    cep_support: int = 16
    cep_width: int = 256
    cep_depth: int = 3
    sample_steps: int = 100
    ode_steps: int = 50
    num_samples: int = 1000
    resample_n: int = 4
    clip_min: float = 1e-4
    clip_max: float | None = 1.0
    clip_weight: bool = False
    weight_scale: str = "rms"
    weight_output: str = "denoised"
    input_features: int = 64
    input_feature_scale: float = 0.5
    time_power: float = 1.0
    beta_features: int = 0
    weight_gain: float = 1.0
    beta_channels: tuple[float, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "beta_channels", tuple(float(b) for b in self.beta_channels))
        if self.schedule not in ("cosine", "vp"):
            raise ValueError(f"Budget: schedule must be 'cosine' or 'vp', got {self.schedule!r}.")
        for name in (
            "steps",
            "batch_size",
            "width",
            "depth",
            "num_train",
            "sample_steps",
            "ode_steps",
            "num_samples",
            "resample_n",
            "cep_groups",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"Budget: {name} must be >= 1, got {getattr(self, name)}.")
        if self.weight_scale not in ("none", "rms"):
            raise ValueError(
                f"Budget: weight_scale must be 'none' or 'rms', got {self.weight_scale!r}."
            )
        if not self.learning_rate > 0 or not 0 <= self.ema_decay < 1:
            raise ValueError(
                f"Budget: need learning_rate > 0 and 0 <= ema_decay < 1, got "
                f"{self.learning_rate} and {self.ema_decay}."
            )
        if self.input_features < 0 or self.input_features % 2:
            raise ValueError(
                f"Budget: input_features must be 0 (none) or a positive even number, got "
                f"{self.input_features}."
            )
        if not self.input_feature_scale > 0:
            raise ValueError(
                f"Budget: input_feature_scale must be > 0, got {self.input_feature_scale}."
            )
        as_weight_output("Budget", self.weight_output)
        if not 0 < self.clip_min < (1.0 if self.clip_max is None else self.clip_max):
            raise ValueError(
                f"Budget: need 0 < clip_min < clip_max (user units), got {self.clip_min} and "
                f"{self.clip_max}."
            )
        if self.beta_features < 0:
            raise ValueError(
                f"Budget: beta_features must be >= 0 (0: the scalar β / β_max alone), got "
                f"{self.beta_features}."
            )
        if not self.weight_gain > 0:
            raise ValueError(f"Budget: weight_gain must be > 0, got {self.weight_gain}.")
        if any(not 0 < b <= self.beta_max for b in self.beta_channels) or len(
            set(self.beta_channels)) != len(self.beta_channels):
            raise ValueError(
                f"Budget: beta_channels must be distinct βs in (0, beta_max = {self.beta_max}], "
                f"got {self.beta_channels}."
            )
        if self.beta_channels and self.clip_weight:
            raise ValueError(
                "Budget: clip_weight clips every weight channel to one range, while each of "
                "beta_channels has its own scale c(β); set clip_weight=false with them."
            )
        check_time_power("Budget", None, self.time_power)  # a budget's schedule is continuous
        if self.beta_max < 20:
            raise ValueError(f"Budget: beta_max must be >= 20, got {self.beta_max}.")

    def training_tag(self, *fields: str) -> str:
        """A short hash of `fields`' values (the cache key of a trained network). Fields added
        after the cache existed enter it only when changed from their default, so older
        cached networks keep their keys."""
        values = {f: getattr(self, f) for f in fields
                  if f not in _TAGGED_WHEN_CHANGED or getattr(self, f) != _TAGGED_WHEN_CHANGED[f]}
        return hashlib.sha1(json.dumps(values, sort_keys=True).encode()).hexdigest()[:10]


QUICK = Budget(steps=5000, num_train=50_000, cep_steps=1000)
"""The short run of `selfguide demo` and `selfguide toy --quick`: the benchmark's networks and
samplers with fewer training steps (a few minutes on 2 CPUs)."""
