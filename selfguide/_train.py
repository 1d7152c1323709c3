"""Training: the ε-loss over `[x, w]`, in jitted chunks of scanned steps, with EMA."""

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Int, PyTree

from ._augment import AugmentedData
from ._checkpoint import CheckpointError, read_header, restore_segment, tree_fingerprint
from ._checks import check_int, check_real
from ._custom_types import PRNGKey
from ._joint import JointModel
from ._loss import diffusion_loss
from ._nn._config import network_config
from ._parallel import check_batch, data_parallel_mesh, replicate, shard_batch
from ._precision import LowPrecision
from ._schedule import AbstractSchedule
from ._speed._philox import philox_key
from ._speed._platform import platform_of
from ._weight_output import AbstractWeightOutput, as_weight_output
from .training import Checkpointing, default_optimizer, resume_state, run_training, save_state


class TrainState(eqx.Module):
    """Everything training carries from step to step."""

    network: eqx.Module
    ema: eqx.Module
    opt_state: PyTree
    step: Int[Array, ""]


@dataclasses.dataclass(frozen=True)
class TrainingHistory:
    """Per-chunk means of the losses: `step` (steps done at the chunk's end), `loss`,
    `data_loss` and `weight_loss` (per-channel MSE of ε; for the weight channels of a model
    trained with `weight_output="denoised"`, of the clean weights), and wall-clock
    `seconds`."""

    step: np.ndarray
    loss: np.ndarray
    data_loss: np.ndarray
    weight_loss: np.ndarray
    seconds: np.ndarray

    def as_dict(self) -> dict[str, np.ndarray]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What [`train`][selfguide.train] returns: the sampling-ready EMA `model`, the full
    `state` (to continue training) and the `history`."""

    model: JointModel
    state: TrainState
    history: TrainingHistory


def ema_update(ema, network, step: Int[Array, ""], decay: float):
    """`ema ← ema + (1 − d)(θ − ema)`, `d = min(decay, (1 + step)/(10 + step))` (warm-up)."""
    d = jnp.minimum(decay, (1.0 + step) / (10.0 + step))
    params = eqx.filter(network, eqx.is_inexact_array)
    return jax.tree.map(
        lambda e, p: e if p is None else e + (1 - d) * (p - e),
        ema,
        params,
        is_leaf=lambda x: x is None,
    )


class DiffusionStep(eqx.Module):
    """One optimisation step of the joint ε-model, for
    [`run_training`][selfguide.training.run_training]: a batch drawn on device, the loss, the
    optimiser update and the EMA. `data` is `(z, cond, loss_weights)`; the metrics are
    `(loss, data_loss, weight_loss)`."""

    schedule: AbstractSchedule
    optimizer: optax.GradientTransformation = eqx.field(static=True)
    batch_size: int = eqx.field(static=True)
    data_dim: int = eqx.field(static=True)
    ema_decay: float = eqx.field(static=True)
    mesh: object = eqx.field(static=True)
    compute_dtype: object = eqx.field(static=True)
    weight_output: AbstractWeightOutput
    platform: str = eqx.field(static=True)

    def __call__(self, state: TrainState, data, key: PRNGKey):
        z, cond, loss_weights = data
        mesh = self.mesh
        k_batch, k_loss = jr.split(key)
        idx = shard_batch(jr.randint(k_batch, (self.batch_size,), 0, z.shape[0]), mesh)
        batch_z = shard_batch(z[idx], mesh)
        batch_cond = None if cond is None else shard_batch(cond[idx], mesh)
        params, rest = eqx.partition(state.network, eqx.is_inexact_array)

        def loss_fn(p):
            net = eqx.combine(p, rest)
            if self.compute_dtype is not None:
                net = LowPrecision(net, self.compute_dtype)
            return diffusion_loss(
                net,
                self.schedule,
                batch_z,
                batch_cond,
                loss_weights,
                self.data_dim,
                # JAX's Philox key does not support a batch sharded across devices.
                key=k_loss if mesh is not None else philox_key(k_loss),
                weight_output=self.weight_output,
                platform=self.platform,
            )

        (loss, (dl, wl)), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        updates, opt_state = self.optimizer.update(grads, state.opt_state, params)
        network = eqx.combine(optax.apply_updates(params, updates), rest)
        ema = ema_update(state.ema, network, state.step, self.ema_decay)
        return TrainState(network, ema, opt_state, state.step), jnp.stack([loss, dl, wl])


def _check_inputs(network, data: AugmentedData, cond, loss_weights):
    if not isinstance(data, AugmentedData):
        raise TypeError(
            f"fit: `data` must be an AugmentedData from selfguide.augment(x, w), got "
            f"{type(data).__name__}."
        )
    for name in ("data_dim", "weight_dim"):
        have = getattr(network, name, getattr(data, name))
        if have != getattr(data, name):
            raise ValueError(
                f"fit: the network has {name}={have} but the data has {getattr(data, name)}."
            )
    cond_dim = getattr(network, "cond_dim", None if cond is None else np.shape(cond)[-1])
    if cond is None:
        if cond_dim:
            raise ValueError(
                f"fit: the network takes a conditioning vector of size {cond_dim}; pass "
                f"cond=... of shape (N, {cond_dim}) aligned with the data."
            )
        cond_arr, cond_dim = None, 0
    else:
        cond_arr = jnp.asarray(cond, dtype=jnp.float32)
        if cond_arr.ndim != 2 or cond_arr.shape[0] != len(data):
            raise ValueError(
                f"fit: `cond` must have shape (N, c) with N = {len(data)} (one row per data "
                f"point), got {cond_arr.shape}."
            )
        if cond_arr.shape[1] != cond_dim:
            raise ValueError(
                f"fit: the network expects conditioning vectors of size {cond_dim}, "
                f"got {cond_arr.shape[1]}."
            )
        if not bool(jnp.all(jnp.isfinite(cond_arr))):
            raise ValueError("fit: `cond` has non-finite values; drop or repair those rows.")
    total = data.data_dim + data.weight_dim
    if loss_weights is None:
        lw = jnp.ones((total,))
    else:
        lw = jnp.asarray(loss_weights, dtype=jnp.float32)
        if lw.shape != (total,) or bool(jnp.any(lw < 0)):
            raise ValueError(
                f"fit: loss_weights must be {total} non-negative numbers (one per data and "
                f"weight channel), got {np.asarray(lw)}."
            )
    return cond_arr, cond_dim, lw


def _check_settings(
    steps, batch_size, steps_per_chunk, checkpoint_every, ema_decay, compute_dtype
) -> None:
    check_int("fit", "steps", steps, minimum=0, hint="E.g. steps=20_000.")
    check_int("fit", "batch_size", batch_size, minimum=1)
    check_int("fit", "steps_per_chunk", steps_per_chunk, minimum=1)
    check_int("fit", "checkpoint_every", checkpoint_every, minimum=1)
    check_real(
        "fit", "ema_decay", ema_decay, minimum=0.0, maximum=1.0,
        hint="The reference uses 0.999; 0 keeps no average.",
    )
    if compute_dtype is not None:
        try:
            dtype = jnp.dtype(compute_dtype)
        except TypeError as err:
            raise ValueError(
                f"fit: compute_dtype must be None or a float dtype such as 'bfloat16', got "
                f"{compute_dtype!r}."
            ) from err
        if not jnp.issubdtype(dtype, jnp.floating):
            raise ValueError(
                f"fit: compute_dtype must be a float dtype such as 'bfloat16', got {dtype}."
            )


def train(
    network: eqx.Module,
    data: AugmentedData,
    *,
    schedule: AbstractSchedule,
    steps: int,
    key: PRNGKey,
    cond: ArrayLike | list | None = None,
    batch_size: int = 256,
    optimizer: optax.GradientTransformation | None = None,
    loss_weights: ArrayLike | list | None = None,
    ema_decay: float = 0.999,
    steps_per_chunk: int = 1000,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 1,
    resume: bool = True,
    progress: bool = True,
    devices: Sequence[jax.Device] | str | None = None,
    compute_dtype: str | None = None,
    weight_output: AbstractWeightOutput | str = "denoised",
    on_chunk: Callable[[int, JointModel], None] | None = None,
) -> TrainResult:
    """Train a joint ε-model on augmented data; the full-control version of [`fit`][selfguide.fit].

    Each chunk of `steps_per_chunk` steps is one jitted `lax.scan`; batches are drawn on
    device, step `k` uses the key `fold_in(key, k)` (so chunking and resuming do not change
    the result), and the EMA of the parameters is updated inside the step.

    **Arguments:**

    - `network`: an ε-network (e.g. [`ResNetDenoiser`][selfguide.ResNetDenoiser]).
    - `data`: from [`augment`][selfguide.augment].
    - `schedule`: the noise schedule (sampling must use the same).
    - `steps`: total optimisation steps.
    - `key`: PRNG key for batches, times, noise and dropout.
    - `cond`: conditioning vectors `(N, c)` aligned with the data, if the network takes them.
    - `batch_size`: examples per step (drawn with replacement).
    - `optimizer`: any optax optimiser; default AdamW 3e-4 with cosine decay over `steps`.
    - `loss_weights`: per-channel weights of the squared error (default all ones; the
        reference toys weight the weight channel ×2).
    - `ema_decay`: EMA decay per step (the reference 0.999), with a warm-up.
    - `steps_per_chunk`: steps per compiled chunk (the progress bar updates per chunk).
    - `checkpoint`: file to save to after every `checkpoint_every` chunks and at the end.
    - `resume`: if `checkpoint` exists, continue from it (must have the same key).
    - `progress`: draw a progress bar with the data and weight losses.
    - `devices`: data-parallel training: `"all"` (every visible device, every host after
        `jax.distributed.initialize()`) or a list of devices. The batch is split across them,
        parameters are replicated and gradients all-reduced by XLA; results equal
        single-device training up to the order of floating-point reductions. (Without
        `devices`, the step's random draws come from a Philox key, faster on CPU but not
        shardable; with `devices` they come from `key` itself, so the single-device run to
        compare with is `devices=[one device]`.)
    - `compute_dtype`: e.g. `"bfloat16"` to run the network's matmuls in that dtype with
        float32 master weights (for GPUs/TPUs; off by default).
    - `weight_output`: what the network's weight outputs learn.
        [`DenoisedWeights()`][selfguide.DenoisedWeights] or `"denoised"` (the default): the
        clean weights `ŵ_0` themselves, regressed on `w_0` with equal weight at every noise
        level. [`NoiseWeights()`][selfguide.NoiseWeights] or `"eps"` (the reference's
        parametrisation): the noise, like the data outputs, so `ŵ_0 = (w_t − σ_t ε^w)/α_t`.
        Guidance differentiates `log ŵ_0`; from a noise prediction, an error in `ε^w`
        becomes `σ_t/α_t` times larger in `ŵ_0` (12× at the end of
        `VPSchedule(beta_max=10)`), exactly where guidance picks the mode.
        `"denoised"` avoids that amplification and makes guidance markedly more accurate
        (docs: "Denoised weights"); the data channels are unaffected.
        [`LogWeights()`][selfguide.LogWeights] or `"log"`: the outputs are `log ŵ_0`,
        trained by a divergence with the same minimiser, for weights spanning many orders
        of magnitude (they must be ≥ 0).
    - `on_chunk(step, model)`: called after every chunk (once it is checkpointed) with the
        steps done and the EMA model so far, e.g. to evaluate it during training or keep a
        copy of the checkpoint at chosen steps. It does not change the training.

    Ctrl-C raises [`TrainingInterrupted`][selfguide.TrainingInterrupted] (a
    `KeyboardInterrupt`) that says which step the checkpoint holds; the same call again
    continues from there and says so.

    **Returns:** a [`TrainResult`][selfguide.TrainResult].
    """
    _check_settings(steps, batch_size, steps_per_chunk, checkpoint_every, ema_decay, compute_dtype)
    cond_arr, cond_dim, lw = _check_inputs(network, data, cond, loss_weights)
    weight_output = as_weight_output("fit", weight_output)
    optimizer = default_optimizer(steps) if optimizer is None else optimizer
    # The state is donated to each chunk: copy, so the caller's network stays usable.
    network = jax.tree.map(lambda x: jnp.array(x, copy=True) if eqx.is_array(x) else x, network)
    params = eqx.filter(network, eqx.is_inexact_array)
    ema = jax.tree.map(jnp.copy, params)
    state = TrainState(network, ema, optimizer.init(params), jnp.asarray(0, dtype=jnp.int32))
    meta = {
        "steps": steps,
        "batch_size": batch_size,
        "data_dim": data.data_dim,
        "weight_dim": data.weight_dim,
        "cond_dim": cond_dim,
        "num_examples": len(data),
        "key": tree_fingerprint(key),
        "network": network_config(network),
        "units_scale": np.asarray(data.units.scale).tolist(),
        "weight_output": weight_output.name,
    }
    history: list[tuple] = []
    if checkpoint is not None and resume and Path(checkpoint).exists():
        state, history = resume_state(
            checkpoint, state, kind="training", meta=meta, compare=RESUME_FIELDS, call="fit"
        )
    mesh = None
    if devices is not None:
        mesh = data_parallel_mesh(None if devices == "all" else devices)
        check_batch(batch_size, mesh)
        state = replicate(state, mesh)
    dtype = None if compute_dtype is None else jnp.dtype(compute_dtype)
    step = DiffusionStep(
        schedule, optimizer, batch_size, data.data_dim, ema_decay, mesh, dtype, weight_output,
        platform_of(data.z),
    )
    bundle = (data.z, cond_arr, lw)
    if mesh is not None:
        bundle, key = replicate((bundle, key), mesh)
    checkpointing = None
    if checkpoint is not None:
        checkpointing = Checkpointing(
            Path(checkpoint),
            lambda st, rows: save_training(checkpoint, st, data, meta, rows),
            checkpoint_every,
        )
    def ema_model(st: TrainState) -> JointModel:
        return JointModel(
            eqx.combine(st.ema, st.network),
            data.data_dim,
            data.weight_dim,
            cond_dim,
            data.units,
            weight_output,
        )

    def report(done: int, st: TrainState) -> None:
        # A copy: the next chunk takes over (donates) the state's arrays.
        on_chunk(done, jax.tree.map(lambda x: jnp.array(x, copy=True) if eqx.is_array(x)
                                    else x, ema_model(st)))

    state, history = run_training(
        step,
        state,
        bundle,
        key=key,
        steps=steps,
        metrics=("loss", "data_loss", "weight_loss"),
        name="fit",
        steps_per_chunk=steps_per_chunk,
        history=history,
        checkpointing=checkpointing,
        progress=progress,
        show={"data": "data_loss", "weight": "weight_loss"},
        on_chunk=None if on_chunk is None else report,
    )
    model = ema_model(state)
    cols = list(zip(*history, strict=True)) if history else [[]] * 5
    hist = TrainingHistory(*(np.asarray(c) for c in cols))
    return TrainResult(model, state, hist)


def fit(
    network: eqx.Module,
    data: AugmentedData,
    *,
    schedule: AbstractSchedule,
    steps: int,
    key: PRNGKey,
    cond: ArrayLike | list | None = None,
    batch_size: int = 256,
    optimizer: optax.GradientTransformation | None = None,
    loss_weights: ArrayLike | list | None = None,
    ema_decay: float = 0.999,
    steps_per_chunk: int = 1000,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 1,
    resume: bool = True,
    progress: bool = True,
    devices: Sequence[jax.Device] | str | None = None,
    compute_dtype: str | None = None,
    weight_output: AbstractWeightOutput | str = "denoised",
    on_chunk: Callable[[int, JointModel], None] | None = None,
) -> JointModel:
    """Train a joint ε-model over `[x, w]` and return its EMA, ready for sampling.

    The arguments are [`train`][selfguide.train]'s (see there); `fit` returns its `.model`.

    ```python
    z = sg.augment(x, w, rescale=True)
    net = sg.ResNetDenoiser(data_dim=2, key=jr.key(0))
    model = sg.fit(net, z, schedule=sg.VPSchedule(15), steps=20_000, key=jr.key(1))
    ```
    """
    return train(
        network, data, schedule=schedule, steps=steps, key=key, cond=cond,
        batch_size=batch_size, optimizer=optimizer, loss_weights=loss_weights,
        ema_decay=ema_decay, steps_per_chunk=steps_per_chunk, checkpoint=checkpoint,
        checkpoint_every=checkpoint_every, resume=resume, progress=progress, devices=devices,
        compute_dtype=compute_dtype, weight_output=weight_output, on_chunk=on_chunk,
    ).model


def save_training(path, state: TrainState, data: AugmentedData, meta: dict, history) -> Path:
    """Write the training state, its EMA model and history to one checkpoint file."""
    ema_model = eqx.combine(state.ema, state.network)
    return save_state(
        path, "training", state, meta, history, extra={"model": (ema_model, data.units)}
    )


# The settings a resumed run must share with the one that wrote the checkpoint.
RESUME_FIELDS = (
    "steps", "batch_size", "data_dim", "weight_dim", "cond_dim", "num_examples", "network",
    "weight_output",
)


def load_model(path: str | Path, like: eqx.Module | None = None) -> JointModel:
    """Load the sampling-ready (EMA) [`JointModel`][selfguide.JointModel] from a checkpoint.

    Built-in networks are rebuilt from the configuration stored in the file; for a custom
    network pass `like`, a network of the same structure (e.g. freshly initialised).
    """
    from ._augment import WeightUnits
    from ._nn._config import build_network

    header, blobs = read_header(path)
    if header.get("kind") != "training":
        raise CheckpointError(
            f"load_model: {path} is a {header.get('kind', 'unknown')!r} checkpoint, not a "
            "diffusion model's; load_model reads what fit/train wrote (e.g. selfguide-rl's "
            "policy.ckpt; its values.ckpt loads with selfguide_rl.load_values)."
        )
    meta = header.get("meta", {})
    if like is None:
        if meta.get("network") is None:
            raise CheckpointError(
                f"checkpoint {path} holds a custom network; pass like=<a network of the same "
                "structure> to load it."
            )
        like = build_network(meta["network"])
    units = WeightUnits(jnp.ones((meta["weight_dim"],)))
    network, units = restore_segment(path, blobs["model"], (like, units), "model")
    return JointModel(
        network, meta["data_dim"], meta["weight_dim"], meta["cond_dim"], units,
        meta["weight_output"],
    )
