"""Train one β-conditioned SWG model per toy, sample it with every method, score everything.

The pieces behind `selfguide toy`, `selfguide demo` and `benchmarks/toys.py`:
[`Budget`][selfguide.toys.Budget] (every size and step count), `train_swg` / `train_energy`
(cached checkpoints), `draw` (one method of `_methods.py` at one `β`), and `run_grid`
(datasets × β × seeds).
"""

import dataclasses
import json
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import equinox as eqx
import jax.random as jr
import numpy as np

from selfguide import (
    AbstractSchedule,
    CheckpointError,
    CosineSchedule,
    JointModel,
    MLPDenoiser,
    VPSchedule,
    augment,
    load_model,
    sample,
    train,
)
from selfguide.checkpoint import (
    atomic_write_text,
    read_checkpoint,
    restore_segment,
    write_checkpoint,
)
from selfguide.training import default_optimizer

from ._beta import check_beta
from ._budget import QUICK, Budget
from ._cep import EnergyNetwork, num_params, train_cep
from ._datasets import DATASETS, get_toy, sample_q
from ._evaluate import MetricReport, evaluate_many
from ._ground_truth import sample_target
from ._methods import TOY_METHODS, MethodName, ToyMethod, toy_method
from ._toy import check_count

METHODS: tuple[MethodName, ...] = tuple(TOY_METHODS)
"""The methods compared: unguided diffusion (samples `q`), importance resampling of `N`
unguided candidates by their sampled weight channel, SWG at `ρ = 1` with DDPM and with a
diffrax ODE solver, and CEP-style guidance by a separately trained energy network."""

METHOD_LABELS = {name: method.label for name, method in TOY_METHODS.items()}


SWG_FIELDS = (
    "steps",
    "batch_size",
    "width",
    "depth",
    "num_train",
    "learning_rate",
    "ema_decay",
    "beta_max",
    "weight_loss",
    "schedule",
    "weight_scale",
    "weight_output",
    "input_features",
    "input_feature_scale",
    "time_power",
    "beta_features",
    "weight_gain",
    "beta_channels",
)
CEP_FIELDS = (
    "cep_steps",
    "cep_groups",
    "cep_support",
    "cep_width",
    "cep_depth",
    "beta_max",
    "schedule",
    "num_train",
    "time_power",
)

def make_schedule(budget: Budget) -> AbstractSchedule:
    """The continuous-time schedule of a budget (the cosine one floors `ᾱ` at `1e-4`)."""
    if budget.schedule == "cosine":
        return CosineSchedule(num_steps=None, min_alpha_bar=1e-4, time_power=budget.time_power)
    return VPSchedule(num_steps=None, beta_min=0.1, beta_max=10.0, time_power=budget.time_power)


def beta_cond(beta, budget: Budget) -> np.ndarray:
    """The model's conditioning vector for `β` (a number, or an array of them: one row
    each): `[β / β_max]`, then `budget.beta_features` pairs `sin(2^k π β / β_max)`,
    `cos(2^k π β / β_max)`."""
    u = np.asarray(beta, dtype=np.float64)[..., None] / budget.beta_max
    angles = np.pi * u * 2.0 ** np.arange(budget.beta_features)
    return np.concatenate([u, np.sin(angles), np.cos(angles)], axis=-1).astype(np.float32)


def model_cond(beta: float | np.ndarray, budget: Budget) -> np.ndarray | None:
    """The SWG model's conditioning at `β` (a number, or an array of them): `beta_cond`, or
    none for a model with one weight channel per `budget.beta_channels`."""
    return None if budget.beta_channels else beta_cond(beta, budget)


def guided_channel(beta: float, budget: Budget, *, call: str = "draw") -> int | None:
    """The weight channel that guides at `β`: 0, or the index of `β` in
    `budget.beta_channels`; `None` at `β = 0` in such a model (`w ≡ 1`: nothing guides).
    A `ValueError` for any other `β` without a channel."""
    if not budget.beta_channels:
        return 0
    if beta == 0:
        return None
    if beta not in budget.beta_channels:
        raise ValueError(
            f"{call}: beta={beta:g} has no weight channel in this model (beta_channels="
            f"{budget.beta_channels}); ask for one of those βs or 0, or train with "
            "beta_channels=() to guide at any β."
        )
    return budget.beta_channels.index(beta)


class FixedCond(eqx.Module):
    """An energy network called with its own conditioning vector, whatever the sampler's."""

    energy: EnergyNetwork
    cond: np.ndarray

    def __call__(self, x, t, cond=None):
        return self.energy(x, t, self.cond)


def training_data(dataset: str, budget: Budget, seed: int):
    """`(x, e, β)`: `num_train` draws of `q`, their energies and one `β ~ U[0, β_max]` each."""
    rng = np.random.default_rng([seed, 1])
    x, e = sample_q(dataset, budget.num_train, rng=rng)
    beta = rng.uniform(0.0, budget.beta_max, size=budget.num_train)
    return x, e, beta


def weight_scale(dataset: str, beta, budget: Budget, seed: int = 0) -> np.ndarray:
    """`c(β) / g`: the constant the weight channel is divided by (`c` is 1, or `√E_q[w²]`
    estimated on 4096 training energies; `g` is `budget.weight_gain`); a positive constant per
    `β` leaves `∇ log E[w | z_t]` exact."""
    beta = np.asarray(beta, dtype=np.float64)
    if budget.weight_scale == "none":
        c = np.ones_like(beta)
    else:
        _, e, _ = training_data(dataset, budget, seed)
        e = e[:4096]
        flat = beta.reshape(-1)
        c = np.empty_like(flat)
        for i in range(0, len(flat), 2048):
            b = flat[i : i + 2048, None]
            c[i : i + 2048] = np.sqrt(np.mean(np.exp(2.0 * b * (e[None] - 1.0)), axis=1))
        c = c.reshape(beta.shape)
    return np.asarray(c / budget.weight_gain)  # an array for one β too


@dataclasses.dataclass(frozen=True)
class Cost:
    """Training cost of one network: optimiser `steps`, wall `seconds`, `params`."""

    steps: int
    seconds: float
    params: int


def _cache_entry(cache_dir: Path | None, stem: str) -> tuple[Path | None, Path | None, Cost | None]:
    """`(checkpoint, cost file, cost)` of a cached network (`cost` is `None` until a
    finished run has written it); all `None` without a cache."""
    if cache_dir is None:
        return None, None, None
    ckpt, cost_file = Path(cache_dir) / f"{stem}.ckpt", Path(cache_dir) / f"{stem}.json"
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    cost = Cost(**json.loads(cost_file.read_text())) if cost_file.exists() else None
    return ckpt, cost_file, cost


def train_swg(
    dataset: str,
    budget: Budget,
    *,
    cache_dir: Path | None = None,
    seed: int = 0,
    progress: bool = True,
) -> tuple[JointModel, Cost]:
    """Train (or load from `cache_dir`) the β-conditioned SWG model of one toy.

    Data: `z = [x, w]` with `w = exp(β (e − 1)) ∈ (0, 1]` and `cond = β / β_max`, or with
    `budget.beta_channels`, `z = [x, w_β1, …]` and no conditioning (each channel divided by
    its `c(β)`).
    """
    get_toy(dataset, call="train_swg")
    stem = f"swg-{dataset}-{budget.training_tag(*SWG_FIELDS)}-s{seed}"
    ckpt, cost_file, cost = _cache_entry(cache_dir, stem)
    if ckpt is not None:
        if cost is not None and ckpt.exists():
            try:
                return load_model(ckpt), cost
            except CheckpointError:  # written by another version of the network: retrain
                pass
        ckpt.unlink(missing_ok=True)
    x, e, beta = training_data(dataset, budget, seed)
    # One column per channel: the listed βs, or each draw's own β.
    betas = np.asarray(budget.beta_channels) if budget.beta_channels else beta[:, None]
    w = np.exp(betas * (e[:, None] - 1.0)) / weight_scale(dataset, betas, budget, seed)
    cond = model_cond(beta, budget)
    net = MLPDenoiser(2, w.shape[1], cond_dim=0 if cond is None else cond.shape[1],
                      width=budget.width, depth=budget.depth,
                      input_features=budget.input_features,
                      input_feature_scale=budget.input_feature_scale, key=jr.key(seed))
    start = time.perf_counter()
    result = train(
        net,
        augment(x, w),
        schedule=make_schedule(budget),
        steps=budget.steps,
        batch_size=budget.batch_size,
        cond=cond,
        loss_weights=[1.0, 1.0] + [budget.weight_loss] * w.shape[1],
        optimizer=default_optimizer(budget.steps, budget.learning_rate),
        ema_decay=budget.ema_decay,
        key=jr.key(seed + 1),
        checkpoint=ckpt,
        resume=True,
        progress=progress,
        steps_per_chunk=500,
        weight_output=budget.weight_output,
    )
    cost = Cost(budget.steps, time.perf_counter() - start, num_params(net))
    if cost_file is not None:
        atomic_write_text(cost_file, json.dumps(dataclasses.asdict(cost)))
    return result.model, cost


def train_energy(
    dataset: str,
    budget: Budget,
    *,
    cache_dir: Path | None = None,
    seed: int = 0,
    progress: bool = True,
) -> tuple[EnergyNetwork, Cost]:
    """Train (or load from `cache_dir`) CEP's time-dependent energy network for one toy."""
    get_toy(dataset, call="train_energy")
    net = EnergyNetwork(2, 1, width=budget.cep_width, depth=budget.cep_depth, key=jr.key(seed + 2))
    stem = f"cep-{dataset}-{budget.training_tag(*CEP_FIELDS)}-s{seed}"
    path, cost_file, cost = _cache_entry(cache_dir, stem)
    if cost is not None and path.exists():
        try:
            _, blobs = read_checkpoint(path)
            return restore_segment(path, blobs["energy"], net, "energy"), cost
        except (CheckpointError, KeyError):  # another version of the network: retrain
            pass
    x, e, _ = training_data(dataset, budget, seed)
    net, seconds = train_cep(
        net,
        x,
        e,
        schedule=make_schedule(budget),
        steps=budget.cep_steps,
        beta_max=budget.beta_max,
        key=jr.key(seed + 3),
        groups=budget.cep_groups,
        support=budget.cep_support,
        progress=progress,
    )
    cost = Cost(budget.cep_steps, seconds, num_params(net))
    if path is not None:
        write_checkpoint(path, {"kind": "cep-energy"}, {"energy": net})
        atomic_write_text(cost_file, json.dumps(dataclasses.asdict(cost)))
    return net, cost


def draw(
    method: ToyMethod | str,
    dataset: str,
    model: JointModel,
    beta: float,
    budget: Budget,
    *,
    seed: int,
    energy_net: EnergyNetwork | None = None,
    num: int | None = None,
) -> np.ndarray:
    """`num` samples (default `budget.num_samples`) of one method at one `β`, shape `(n, 2)`.

    `method` is a `ToyMethod` or its name (`"unguided"`, `"resample"`, `"swg-ddpm"`,
    `"swg-ode"`, `"cep"`)."""
    method = toy_method("draw", method)
    num = budget.num_samples if num is None else check_count("draw", "num", num)
    schedule = make_schedule(budget)
    channel = guided_channel(beta, budget)
    scale = float(weight_scale(dataset, beta, budget))
    if energy_net is not None and budget.beta_channels:  # the SWG model takes no β
        energy_net = FixedCond(energy_net, beta_cond(beta, budget))
    guidance, sampler = method.setup(budget, scale, energy_net, channel)
    out = sample(
        model,
        schedule,
        num=num,
        cond=model_cond(beta, budget),
        guidance=guidance,
        sampler=sampler,
        key=jr.key(seed),
    )
    x = np.asarray(out.x, dtype=np.float64)
    return np.where(np.isfinite(x), x, 1e3)  # a diverged sample counts as far away


def check_request(
    datasets: Sequence[str],
    betas: Sequence[float],
    methods: Sequence[ToyMethod | str],
    seeds: int,
    budget: Budget,
    *,
    call: str,
) -> None:
    """Validate a grid before any training: names, counts, and `β` in the trained range."""
    if not datasets:
        raise ValueError(f"{call}: no datasets given; choose from {', '.join(DATASETS)}.")
    for name in datasets:
        get_toy(name, call=call)
    for m in methods:
        toy_method(call, m)
    if isinstance(seeds, bool) or int(seeds) < 1:
        raise ValueError(f"{call}: `seeds` must be >= 1, got {seeds!r}.")
    check_count(call, "num_samples", budget.num_samples)
    for beta in betas:
        if beta < 0:
            raise ValueError(f"{call}: beta must be >= 0, got {beta}.")
        check_beta(beta, (0.0, budget.beta_max))
        guided_channel(beta, budget, call=call)


@dataclasses.dataclass
class GridResult:
    """What [`run_grid`][selfguide.toys.run_grid] produced: per-cell metric `rows`, `samples`
    for the figure (seed 0) and the exact `targets`, training `costs` per dataset, and wall
    `seconds`."""

    rows: list[dict]
    samples: dict[tuple[str, float, str], np.ndarray]
    targets: dict[tuple[str, float], np.ndarray]
    costs: dict[str, dict[str, Cost]]
    seconds: float
    budget: Budget


def run_grid(
    datasets: Sequence[str],
    betas: Sequence[float],
    *,
    methods: Sequence[ToyMethod | str] = METHODS,
    seeds: int = 1,
    budget: Budget = QUICK,
    cache_dir: Path | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    on_dataset: Callable[[GridResult], None] | None = None,
) -> GridResult:
    """Train (or load) one model per dataset and score every method at every `β` and seed.

    One SWG model (and, for `"cep"`, one energy network) per dataset serves every `β` and
    sampling seed; the metrics of each (dataset, β, seed) share one reference draw and one
    set of noise floors.
    """
    check_request(datasets, betas, methods, seeds, budget, call="run_grid")
    methods = [toy_method("run_grid", m) for m in methods]
    start = time.perf_counter()
    rows, samples, targets, costs = [], {}, {}, {}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=len(datasets) * len(betas) * seeds,
            desc="grid",
            unit="cell",
            dynamic_ncols=True,
            position=0,
        )
    for dataset in datasets:
        log(f"[{dataset}] SWG model ({budget.steps} steps; loaded if cached)")
        model, swg_cost = train_swg(dataset, budget, cache_dir=cache_dir, progress=progress)
        costs[dataset] = {"swg": swg_cost}
        energy_net = None
        if any(m.needs_energy for m in methods):
            log(f"[{dataset}] CEP energy network ({budget.cep_steps} steps; loaded if cached)")
            energy_net, cep_cost = train_energy(
                dataset, budget, cache_dir=cache_dir, progress=progress
            )
            costs[dataset]["cep"] = cep_cost
        for beta in betas:
            targets[(dataset, beta)] = sample_target(
                dataset, beta, budget.num_samples, rng=np.random.default_rng([7, int(beta)])
            )[0]
            for seed in range(seeds):
                drawn, times = {}, {}
                for method in methods:
                    m = method.name
                    t0 = time.perf_counter()
                    drawn[m] = draw(
                        method,
                        dataset,
                        model,
                        beta,
                        budget,
                        seed=1000 * seed + int(beta * 10),
                        energy_net=energy_net,
                    )
                    times[m] = time.perf_counter() - t0
                    if seed == 0:
                        samples[(dataset, beta, m)] = drawn[m]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ref_rng = np.random.default_rng([seed, 99])
                    reports = evaluate_many(dataset, drawn, beta, rng=ref_rng, seeds=5)
                for m, report in reports.items():
                    rows.extend(_rows(dataset, beta, m, seed, report, times[m]))
                if bar is not None:
                    bar.update(1)
        if on_dataset is not None:  # partial results, e.g. to write them as the grid runs
            on_dataset(
                GridResult(rows, samples, targets, costs, time.perf_counter() - start, budget)
            )
    if bar is not None:
        bar.close()
    return GridResult(rows, samples, targets, costs, time.perf_counter() - start, budget)


def _rows(dataset, beta, method, seed, report: dict[str, MetricReport], seconds) -> list[dict]:
    return [
        {
            "dataset": dataset,
            "beta": beta,
            "method": method,
            "seed": seed,
            "metric": name,
            "value": r.value,
            "floor": r.floor,
            "floor_std": r.floor_std,
            "sample_seconds": seconds,
        }
        for name, r in report.items()
    ]


def within(value: float, floor: float, floor_std: float, factor: float = 2.0) -> bool:
    """Whether a metric is within `factor ×` its noise floor: `value ≤ factor · max(floor,
    floor_std)` (MMD² is unbiased, so its floor is ~0 and its scale is the spread)."""
    return bool(value <= factor * max(floor, floor_std))
