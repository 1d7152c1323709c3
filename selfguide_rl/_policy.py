"""The policy: one state-conditioned diffusion model over `[a, w]`, four ways to act with it.

The model is the core's LN-ResNet ε-network trained on `augment(actions, w, rescale=True)`
with the state as conditioning. From the one model (the methods of `_methods.py`):

- `BC()`: sample it unguided: the behaviour policy `μ(a|s)`;
- `SWG(ρ)`: self-weighted guidance at scale `ρ`: `π(a|s) ∝ w(s, a)^ρ μ(a|s)`;
- `IDQL(N)`: `N` unguided candidates, keep the one with the largest `Q(s, a)` (IDQL);
- `SWGR(ρ, N)`: `N` guided candidates, keep the best by `Q` (SWG-R).

Actions are mapped from the action space `[low, high]` to `[-1, 1]` for training, clipped
to `[-1, 1]` at every sampling step (the weight channel to `[1e-4, 1]`) and mapped back.
One jitted call acts for a whole batch of states; scale and temperature are arrays, so a
sweep over them does not recompile.
"""

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

import selfguide as sg
from selfguide.settings import check_field

from ._methods import AbstractMethod, method_from_name
from ._values import Values
from .data import Transitions

WeightOutput = Literal["denoised", "eps"]


@dataclasses.dataclass(frozen=True)
class PolicyConfig:
    """The diffusion stage (defaults: the reference, SWG-MATH §5).

    - network: `width` (256), `num_blocks` (3), `expansion` (4), `dropout` (0.1),
      `weight_head_at` (2), `weight_head_hidden` (256), `time_features` (128),
      `time_dim` (256);
    - `diffusion_steps`: `T` of the discrete VP schedule (15; IDQL uses 5);
    - training: `steps`, `batch_size`, `learning_rate` (AdamW, cosine decay), `ema_decay`,
      `steps_per_chunk`;
    - `weight_output`: `"denoised"` (the default: the weight output predicts the clean
      weight; see `selfguide.train`) or `"eps"` (it predicts noise, the reference's
      parametrisation; `get_preset(..., reference=True)`).

    Every field is checked when the config is made, so a bad setting is refused before any
    training starts.
    """

    width: int = 256
    num_blocks: int = 3
    expansion: int = 4
    dropout: float = 0.1
    weight_head_at: int | None = 2
    weight_head_hidden: int | None = 256
    time_features: int = 128
    time_dim: int = 256
    diffusion_steps: int = 15
    steps: int = 1_000_000
    batch_size: int = 1024
    learning_rate: float = 3e-4
    ema_decay: float = 0.999
    steps_per_chunk: int = 1000
    weight_output: WeightOutput = "denoised"

    def __post_init__(self):
        check_policy_config(self)

    def network(self, act_dim: int, obs_dim: int, *, key: PRNGKeyArray) -> sg.ResNetDenoiser:
        return sg.ResNetDenoiser(
            data_dim=act_dim, weight_dim=1, cond_dim=obs_dim, width=self.width,
            num_blocks=self.num_blocks, expansion=self.expansion, dropout=self.dropout,
            weight_head_at=self.weight_head_at, weight_head_hidden=self.weight_head_hidden,
            time_features=self.time_features, time_dim=self.time_dim, key=key,
        )

    def schedule(self) -> sg.VPSchedule:
        return sg.VPSchedule(num_steps=self.diffusion_steps)


def check_policy_config(config: PolicyConfig) -> None:
    """Refuse a setting of the wrong type or out of range, naming the field."""
    call = "PolicyConfig"
    for field in dataclasses.fields(config):
        check_field(call, PolicyConfig, field.name, getattr(config, field.name), prefix="policy.")
    for name in ("width", "num_blocks", "expansion", "time_features", "time_dim",
                 "diffusion_steps", "batch_size", "steps_per_chunk"):
        if getattr(config, name) < 1:
            raise ValueError(f"{call}: policy.{name} must be >= 1, got {getattr(config, name)}.")
    if config.steps < 0:
        raise ValueError(f"{call}: policy.steps must be >= 0, got {config.steps}.")
    if not 0 <= config.dropout < 1 or not 0 <= config.ema_decay <= 1:
        raise ValueError(
            f"{call}: need 0 <= policy.dropout < 1 and 0 <= policy.ema_decay <= 1, got "
            f"{config.dropout}, {config.ema_decay}."
        )
    if not config.learning_rate > 0:
        raise ValueError(
            f"{call}: policy.learning_rate must be > 0, got {config.learning_rate}."
        )
    head = config.weight_head_at
    if head is not None and not 0 <= head <= config.num_blocks:
        raise ValueError(
            f"{call}: policy.weight_head_at must be None or a block index in "
            f"[0, {config.num_blocks}], got {head}."
        )


class Policy(eqx.Module):
    """A trained joint model over `[a, w]`, its schedule, the learned values (for the `Q`
    selection of IDQL and SWG-R) and the action bounds.

    Act with [`act`][selfguide_rl.act].
    """

    model: sg.JointModel
    schedule: sg.AbstractSchedule
    values: Values | None
    low: Float[Array, " a"]
    high: Float[Array, " a"]

    @property
    def act_dim(self) -> int:
        return self.model.data_dim

    @property
    def obs_dim(self) -> int:
        return self.model.cond_dim

    def to_model(self, a: Float[Array, "*b a"]) -> Float[Array, "*b a"]:
        low, high = (jnp.broadcast_to(v, jnp.shape(a)) for v in (self.low, self.high))
        return 2.0 * (a - low) / (high - low) - 1.0

    def to_env(self, a: Float[Array, "*b a"]) -> Float[Array, "*b a"]:
        low, high = (jnp.broadcast_to(v, jnp.shape(a)) for v in (self.low, self.high))
        return low + (jnp.clip(a, -1.0, 1.0) + 1.0) * 0.5 * (high - low)


def action_bounds(
    caller: str, act_dim: int, low: ArrayLike | list | None, high: ArrayLike | list | None
) -> tuple[np.ndarray, np.ndarray]:
    """Check and broadcast action bounds (default `[-1, 1]`) to `(act_dim,)`."""
    def as_vector(value, default: float) -> np.ndarray:
        if value is None:
            return np.full(act_dim, default)
        arr = np.asarray(value, dtype=float)
        return np.full(act_dim, float(arr)) if arr.ndim == 0 else arr

    low, high = as_vector(low, -1.0), as_vector(high, 1.0)
    if low.shape != (act_dim,) or high.shape != (act_dim,):
        raise ValueError(
            f"{caller}: mismatched action dimension: the data has {act_dim}-d actions but the "
            f"action bounds have shapes {low.shape} and {high.shape}. Pass the bounds of the "
            "environment the data was recorded in (env.action_space.low/high)."
        )
    if not np.all(np.isfinite(low) & np.isfinite(high) & (high > low)):
        raise ValueError(
            f"{caller}: the action bounds must be finite with high > low, got low={low}, "
            f"high={high}."
        )
    return low.astype(np.float32), high.astype(np.float32)


@dataclasses.dataclass(frozen=True)
class PolicyResult:
    """What [`train_policy`][selfguide_rl.train_policy] returns: the `policy` and the core's
    `history` (per-chunk losses)."""

    policy: Policy
    history: sg.TrainingHistory


def train_policy(
    data: Transitions,
    weights: Float[ArrayLike, " n"],
    config: PolicyConfig,
    *,
    key: PRNGKeyArray,
    values: Values | None = None,
    action_low: ArrayLike | list | None = None,
    action_high: ArrayLike | list | None = None,
    checkpoint: str | Path | None = None,
    resume: bool = True,
    progress: bool = True,
    on_chunk: "Callable[[int, Policy], None] | None" = None,
) -> PolicyResult:
    """Train the state-conditioned joint model over `[a, w]` with the core's `train`.

    **Arguments:**

    - `data`: the transitions (actions and observations are used).
    - `weights`: one strictly positive weight per row
      ([`compute_weights`][selfguide_rl.compute_weights]).
    - `config`: a [`PolicyConfig`][selfguide_rl.PolicyConfig].
    - `key`: PRNG key (network initialisation and training).
    - `values`: learned values, kept in the policy for IDQL / SWG-R selection.
    - `action_low`, `action_high`: the action space's bounds (default `[-1, 1]`); actions are
      scaled into `[-1, 1]` for the model.
    - `checkpoint`, `resume`, `progress`: as in `selfguide.train` (exact resume).
    - `on_chunk(step, policy)`: called after every chunk with the policy so far (its EMA
      model), e.g. to evaluate it during training; it does not change the training.

    **Returns:** a [`PolicyResult`][selfguide_rl.PolicyResult].
    """
    caller = "train_policy"
    data_z, low, high = _augmented(caller, data, weights, action_low, action_high)
    net_key, train_key = jr.split(key)
    network = config.network(data.act_dim, data.obs_dim, key=net_key)
    schedule = config.schedule()
    bounds = jnp.asarray(low), jnp.asarray(high)
    report = None
    if on_chunk is not None:
        def report(step: int, model: sg.JointModel) -> None:
            on_chunk(step, Policy(model, schedule, values, *bounds))
    result = sg.train(
        network, data_z, cond=data.observations, schedule=schedule, steps=config.steps,
        batch_size=config.batch_size, key=train_key,
        optimizer=_adamw(config.steps, config.learning_rate), ema_decay=config.ema_decay,
        steps_per_chunk=config.steps_per_chunk, checkpoint=checkpoint, resume=resume,
        progress=progress, weight_output=config.weight_output, on_chunk=report,
    )
    policy = Policy(result.model, schedule, values, *bounds)
    return PolicyResult(policy, result.history)


def _augmented(caller, data, weights, action_low, action_high):
    """`augment([a scaled to [-1, 1]], w)` and the action bounds, after the checks."""
    if not isinstance(data, Transitions):
        raise TypeError(f"{caller}: `data` must be Transitions, got {type(data).__name__}.")
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape[0] != len(data):
        raise ValueError(
            f"{caller}: got {w.shape[0]} weights for {len(data)} transitions; compute one "
            "weight per row."
        )
    low, high = action_bounds(caller, data.act_dim, action_low, action_high)
    a = 2.0 * (np.asarray(data.actions) - low) / (high - low) - 1.0
    return sg.augment(np.clip(a, -1.0, 1.0), w, rescale=True), low, high


def train_policy_many(
    data: Transitions,
    weights: list[Float[ArrayLike, " n"]],
    config: PolicyConfig,
    *,
    keys: list[PRNGKeyArray],
    values: list[Values | None],
    action_low: ArrayLike | list | None = None,
    action_high: ArrayLike | list | None = None,
    checkpoints: list[str | Path] | None = None,
    progress: bool = True,
) -> list[PolicyResult]:
    """`train_policy` for several seeds at once (each with its
    own weights, values and key) in one compiled program (`selfguide.train_many`): member
    `m` equals `train_policy(data, weights[m], config, key=keys[m], values=values[m], ...)`
    up to float32 rounding of batched products; `checkpoints` one per member, as there.

    **Returns:** one `PolicyResult` per member.
    """
    caller = "train_policy_many"
    if not len(weights) == len(keys) == len(values) >= 1:
        raise ValueError(
            f"{caller}: need as many weight vectors, keys and values as members (at least "
            f"one); got {len(weights)}, {len(keys)}, {len(values)}."
        )
    datas, networks, train_keys = [], [], []
    for w, key in zip(weights, keys, strict=True):
        data_z, low, high = _augmented(caller, data, w, action_low, action_high)
        net_key, train_key = jr.split(key)
        datas.append(data_z)
        networks.append(config.network(data.act_dim, data.obs_dim, key=net_key))
        train_keys.append(train_key)
    schedule = config.schedule()
    results = sg.train_many(
        networks, datas, cond=data.observations, schedule=schedule, steps=config.steps,
        batch_size=config.batch_size, keys=train_keys,
        optimizer=_adamw(config.steps, config.learning_rate), ema_decay=config.ema_decay,
        steps_per_chunk=config.steps_per_chunk, checkpoints=checkpoints, progress=progress,
        weight_output=config.weight_output,
    )
    return [PolicyResult(Policy(r.model, schedule, v, jnp.asarray(low), jnp.asarray(high)),
                         r.history) for r, v in zip(results, values, strict=True)]


_OPTIMIZERS: dict = {}


def _adamw(steps: int, learning_rate: float):
    """One optimiser object per setting, so repeated runs reuse the compiled chunk."""
    k = (steps, learning_rate)
    if k not in _OPTIMIZERS:
        _OPTIMIZERS[k] = sg.default_optimizer(steps, learning_rate)
    return _OPTIMIZERS[k]


def load_policy(
    path: str | Path, *, values: Values | None, diffusion_steps: int,
    action_low: ArrayLike | list | None = None, action_high: ArrayLike | list | None = None,
) -> Policy:
    """Rebuild a [`Policy`][selfguide_rl.Policy] from a diffusion checkpoint."""
    model = sg.load_model(path)
    low, high = action_bounds("load_policy", model.data_dim, action_low, action_high)
    return Policy(model, sg.VPSchedule(num_steps=diffusion_steps), values,
                  jnp.asarray(low), jnp.asarray(high))


def act(
    policy: Policy,
    observations: Float[ArrayLike, "B o"],
    *,
    method: AbstractMethod | str | None = None,
    scale: float | Float[ArrayLike, ""] | None = None,
    num_candidates: int | None = None,
    temperature: float | Float[ArrayLike, ""] = 0.0,
    key: PRNGKeyArray,
) -> Float[Array, "B a"]:
    """Actions for a batch of states, in one jitted call.

    **Arguments:**

    - `policy`: a trained [`Policy`][selfguide_rl.Policy].
    - `observations`: flat observations `(B, obs_dim)`.
    - `method`: how to act: [`BC()`][selfguide_rl.BC], [`SWG(scale)`][selfguide_rl.SWG]
      (the default, at scale 10), [`IDQL(num_candidates)`][selfguide_rl.IDQL] or
      [`SWGR(scale, num_candidates)`][selfguide_rl.SWGR]. A method's name (`"bc"`, `"swg"`,
      `"idql"`, `"swg-r"`) is accepted too, with its settings from `scale` (default 10)
      and `num_candidates` (default 16); with a method module, leave those two out.
    - `temperature`: DDPM noise scale (0: deterministic given the initial noise); an array,
      no recompile on change (nor on a new guidance scale). [`IDQL`][selfguide_rl.IDQL]
      samples its candidates at its own temperature (1, as published) unless it is `None`.
    - `key`: PRNG key.

    **Returns:** actions `(B, act_dim)` inside the action bounds.

    **Example:**

    ```python
    a = act(policy, obs, method=SWG(10.0), key=jr.key(0))
    a = act(policy, obs, method=SWGR(10.0, num_candidates=16), key=jr.key(0))
    ```
    """
    caller = "act"
    method = as_method(caller, method, scale, num_candidates)
    if float(temperature) < 0:
        raise ValueError(f"{caller}: temperature must be >= 0, got {temperature}.")
    obs = jnp.asarray(observations, dtype=jnp.float32)
    if obs.ndim != 2 or obs.shape[1] != policy.obs_dim:
        raise ValueError(
            f"{caller}: observations must have shape (B, {policy.obs_dim}) (flat, as in the "
            f"dataset), got {obs.shape}."
        )
    if method.selects_by_q and policy.values is None:
        raise ValueError(
            f"{caller}: method {method.name!r} selects by Q, but the policy holds no values."
        )
    return _act(policy, obs, method, jnp.asarray(temperature, jnp.float32), key)


def as_method(
    caller: str, method: AbstractMethod | str | None, scale, num_candidates
) -> AbstractMethod:
    """A method module, or a method's name with its `scale` and `num_candidates`."""
    if isinstance(method, AbstractMethod):
        if scale is not None or num_candidates is not None:
            raise ValueError(
                f"{caller}: scale and num_candidates are settings of the method; pass them to "
                f"it (e.g. SWG(scale), SWGR(scale, num_candidates)), not next to "
                f"method={method!r}."
            )
        return method
    return method_from_name(
        caller,
        "swg" if method is None else method,
        scale=10.0 if scale is None else scale,
        num_candidates=16 if num_candidates is None else num_candidates,
    )


def actions_in_bounds(policy: Policy, obs, method: AbstractMethod, temperature, key):
    """`method`'s actions for `obs`, mapped into the policy's action bounds (not jitted:
    [`act`][selfguide_rl.act] compiles it; `evaluate_members` vmaps it over members)."""
    return policy.to_env(method.actions(policy, obs, temperature, key))


_act = eqx.filter_jit(actions_in_bounds)
