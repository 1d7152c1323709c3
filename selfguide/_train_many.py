"""`train_many`: independent diffusion runs (their own initialisations, batches and noise)
trained side by side in one compiled program."""

from collections.abc import Sequence
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._augment import AugmentedData
from ._checkpoint import tree_fingerprint
from ._custom_types import PRNGKey
from ._joint import JointModel
from ._nn._config import network_config
from ._schedule import AbstractSchedule
from ._speed._platform import platform_of
from ._train import (
    RESUME_FIELDS,
    DiffusionStep,
    TrainingHistory,
    TrainResult,
    TrainState,
    _check_inputs,
    _check_settings,
    save_training,
)
from ._weight_output import AbstractWeightOutput, as_weight_output
from .training import Checkpointing, default_optimizer, resume_state, run_training
from .training._members import Members, MemberState, member_names, stack, unstack

_METRICS = ("loss", "data_loss", "weight_loss")


def train_many(
    networks: Sequence[eqx.Module],
    data: AugmentedData | Sequence[AugmentedData],
    *,
    keys: Sequence[PRNGKey],
    schedule: AbstractSchedule,
    steps: int,
    cond=None,
    batch_size: int = 256,
    optimizer: optax.GradientTransformation | None = None,
    loss_weights=None,
    ema_decay: float = 0.999,
    steps_per_chunk: int = 1000,
    checkpoints: Sequence[str | Path] | None = None,
    progress: bool = True,
    weight_output: AbstractWeightOutput | str = "denoised",
) -> list[TrainResult]:
    """Train `len(networks)` independent models at once: member `m` is
    `train(networks[m], data, key=keys[m], ...)` (the other arguments shared), computed in
    one compiled program with the members' arrays stacked.

    Each member has its own initialisation (its network), its own batches and noise (its
    key); they share the data. On one device this replaces `K` dispatches of small matrix
    products by one of `K`-wide ones, which pays where a single run cannot fill the device
    (an accelerator, a small network). The result equals the single runs up to float32
    rounding (a batched product may sum in another order; see the tests for the tolerance).

    **Arguments:** as [`train`][selfguide.train], except:

    - `networks`, `keys`: one per member, of the same structure.
    - `data`: shared by the members, or one `AugmentedData` per member (the same size and
      channels; e.g. the same actions with each member's own weights). `cond` and
      `loss_weights` are shared.
    - `checkpoints`: one path per member (or `None`); each is an ordinary checkpoint of its
      member (`load_model` reads it), written after every chunk. When all exist, the run
      resumes from them (they must hold the same step).

    **Returns:** one [`TrainResult`][selfguide.TrainResult] per member.
    """
    caller = "train_many"
    count = len(networks)
    if count < 1 or len(keys) != count:
        raise ValueError(
            f"{caller}: need one key per network and at least one network; got "
            f"{count} networks and {len(keys)} keys."
        )
    if checkpoints is not None and len(checkpoints) != count:
        raise ValueError(f"{caller}: need one checkpoint path per network, got {len(checkpoints)}.")
    configs = {str(network_config(n)) for n in networks}
    if len(configs) > 1:
        raise ValueError(f"{caller}: the networks must have the same structure and settings.")
    per_member = not isinstance(data, AugmentedData)
    datas = list(data) if per_member else [data] * count
    if len(datas) != count:
        raise ValueError(f"{caller}: need one AugmentedData per network, got {len(datas)}.")
    shapes = {(d.z.shape, d.data_dim, d.weight_dim) for d in datas if isinstance(d, AugmentedData)}
    if len(shapes) != 1 or not all(isinstance(d, AugmentedData) for d in datas):
        raise ValueError(
            f"{caller}: every member's data must be an AugmentedData of the same size and "
            "channels (from selfguide.augment)."
        )
    _check_settings(steps, batch_size, steps_per_chunk, 1, ema_decay, None)
    cond_arr, cond_dim, lw = _check_inputs(networks[0], datas[0], cond, loss_weights)
    weight_output = as_weight_output(caller, weight_output)
    optimizer = default_optimizer(steps) if optimizer is None else optimizer

    states, metas = [], []
    for network, key, data in zip(networks, keys, datas, strict=True):
        network = jax.tree.map(lambda x: jnp.array(x, copy=True) if eqx.is_array(x) else x,
                               network)
        params = eqx.filter(network, eqx.is_inexact_array)
        states.append(TrainState(network, jax.tree.map(jnp.copy, params),
                                 optimizer.init(params), jnp.asarray(0, jnp.int32)))
        metas.append({
            "steps": steps, "batch_size": batch_size, "data_dim": data.data_dim,
            "weight_dim": data.weight_dim, "cond_dim": cond_dim, "num_examples": len(data),
            "key": tree_fingerprint(key), "network": network_config(network),
            "units_scale": np.asarray(data.units.scale).tolist(),
            "weight_output": weight_output.name,
        })
    histories: list[list] = [[] for _ in range(count)]
    if checkpoints is not None and all(Path(p).exists() for p in checkpoints):
        resumed = [resume_state(p, s, kind="training", meta=m, compare=RESUME_FIELDS, call=caller)
                   for p, s, m in zip(checkpoints, states, metas, strict=True)]
        states, histories = [r[0] for r in resumed], [list(r[1]) for r in resumed]
        if len({int(s.step) for s in states}) != 1:
            raise ValueError(
                f"{caller}: the members' checkpoints hold different steps "
                f"({[int(s.step) for s in states]}); resume them one by one with `train`."
            )
    start = int(states[0].step)
    state = MemberState(stack(states), jnp.stack([jnp.asarray(k) for k in keys]),
                        jnp.asarray(start, jnp.int32))
    first = datas[0]
    step = DiffusionStep(schedule, optimizer, batch_size, first.data_dim, ema_decay, None, None,
                         weight_output, platform_of(first.z))

    def save(st: MemberState, rows) -> None:
        for m, (path, member) in enumerate(zip(checkpoints, unstack(st.members, count),
                                               strict=True)):
            save_training(path, member, datas[m], metas[m],
                          histories[m] + _member_rows(rows, m))

    checkpointing = None if checkpoints is None else Checkpointing(Path(checkpoints[0]), save)
    if per_member:
        bundle, axes = (jnp.stack([d.z for d in datas]), cond_arr, lw), (0, None, None)
    else:
        bundle, axes = (first.z, cond_arr, lw), None
    state, rows = run_training(
        Members(step, axes), state, bundle, key=keys[0], steps=steps,
        metrics=member_names(_METRICS, count), name=caller, steps_per_chunk=steps_per_chunk,
        checkpointing=checkpointing, progress=progress,
        show={"loss[0]": "loss[0]"},
    )
    results = []
    for m, member in enumerate(unstack(state.members, count)):
        d = datas[m]
        model = JointModel(eqx.combine(member.ema, member.network), d.data_dim,
                           d.weight_dim, cond_dim, d.units, weight_output)
        hist = histories[m] + _member_rows(rows, m)
        cols = list(zip(*hist, strict=True)) if hist else [[]] * 5
        results.append(TrainResult(model, member, TrainingHistory(*(np.asarray(c) for c in cols))))
    return results


def _member_rows(rows, m: int) -> list[tuple]:
    """Member `m`'s history rows `(step, loss, data_loss, weight_loss, seconds)` from the
    loop's rows `(step, *all members' metrics, seconds)`."""
    k = len(_METRICS)
    return [(r[0], *r[1 + m * k: 1 + (m + 1) * k], r[-1]) for r in rows]
