"""Speed of training and guided sampling, next to the hardware floor measured in the same run.

    python benchmarks/speed.py            # the full study (about 10 minutes on 2 CPU cores)
    python benchmarks/speed.py --quick    # a smoke run (a minute)

Writes `speed.md`, `speed.json` and PNG plots under `benchmarks/results/speed/` (or `--out`),
recording the device, the JAX version and the date.

FLOPs are counted analytically from the network's dense layers (2 per multiply-add; element-
wise work is not counted, as in the usual model-FLOP-utilisation convention):

- training step = forward + weight gradients + input gradients of every layer whose input
  depends on parameters (not the data/conditioning columns of the input layer). The time
  path (Fourier features, time MLP, the input layer's time block) depends on the time alone,
  and a batch on a `T`-step schedule has at most `T` distinct times, so training runs it on
  `T` rows, not once per example, and it is counted that way;
- guided sampling step = forward + input gradients (no weight gradients) of the layers the
  weight channel depends on: the weight head, the blocks before it and the `z` columns of the
  input layer. The time embedding is computed once per step (it is shared by the batch).

XLA's own count (`cost_analysis`, which includes elementwise work) is reported beside it.

The runs use XLA's 512-bit vectors on CPU for sampling too (`--xla_cpu_prefer_vector_width=512`,
added to `XLA_FLAGS` unless it sets the option already; training chunks pass it themselves),
as earlier versions' sampling programs did, so the tables compare across versions
(`docs/performance.md`).
"""

import os

if "xla_cpu_prefer_vector_width" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_cpu_prefer_vector_width=512"
    ).strip()

import argparse
import datetime
import json
import platform
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

import selfguide as sg
from selfguide.training import run_chunk

STATE_DIM, ACTION_DIM = 17, 6
# Training rows are the best of this many chunks: a slow phase of a shared machine can last
# several seconds, as long as 3 chunks; the yardstick is the best of 16 measurements.
TRAINING_REPEATS = 5
GEMM_REPEATS = 3  # the matrix products alone


def _time_interleaved(fns: dict, *, rounds: int, min_seconds: float = 0.0) -> dict:
    """`name → (first-call seconds, steady-state seconds)` of each `fn()` (which must block).

    The functions are timed in turn, round after round, so that their ratios are measured
    under the same machine conditions. The steady state is the best of the rounds: on a
    shared machine, interference only ever adds time, so the minimum is the most repeatable
    estimate of the cost itself."""
    first = {}
    for name, fn in fns.items():
        start = time.perf_counter()
        fn()
        first[name] = time.perf_counter() - start
    times = {name: [] for name in fns}
    end = time.perf_counter() + min_seconds
    done = 0
    while done < 10 * rounds and (done < rounds or time.perf_counter() < end):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
        done += 1
    return {n: (first[n], min(times[n])) for n in fns}


def _time(fn, *, repeats: int, min_seconds: float = 0.0) -> tuple[float, float]:
    """`(first-call seconds, steady-state seconds)` of one function; see `_time_interleaved`."""
    return _time_interleaved({None: fn}, rounds=repeats, min_seconds=min_seconds)[None]


def matmul_rate(n: int, repeats: int) -> float:
    """Dense float32 `n × n @ n × n` rate in GFLOP/s (the hardware floor's yardstick)."""
    a = jr.normal(jr.key(0), (n, n))
    b = jr.normal(jr.key(1), (n, n))
    f = jax.jit(lambda a, b: a @ b)
    _, t = _time(lambda: f(a, b).block_until_ready(), repeats=repeats)
    return 2 * n**3 / t / 1e9


def _linear_macs(layer: eqx.nn.Linear) -> int:
    return layer.in_features * layer.out_features


def resnet_flops(net: sg.ResNetDenoiser) -> dict[str, float]:
    """Per-example dense FLOPs of the ResNet: forward, training step, guided extra."""
    time_macs = sum(_linear_macs(lin) for lin in net.time_embedding.mlp.layers)
    z_macs = _linear_macs(net.stem.z_part)
    cond_macs = _linear_macs(net.stem.cond_part) if net.stem.cond_part is not None else 0
    stem_time_macs = _linear_macs(net.stem.time_part)
    block_macs = [_linear_macs(b.up) + _linear_macs(b.down) for b in net.blocks]
    head_macs = 0
    if net.weight_head is not None:
        head_macs = _linear_macs(net.weight_head.last)
        if net.weight_head.first is not None:
            head_macs += _linear_macs(net.weight_head.first)
    out_macs = _linear_macs(net.out)
    body = z_macs + cond_macs + sum(block_macs) + head_macs + out_macs
    # Input gradients: everything but the z columns and the conditioning columns.
    train_per_example = body + body + (body - z_macs - cond_macs)
    # Per distinct time: forward, weight and input gradients (the frequencies are learned).
    train_per_time = 3 * (time_macs + stem_time_macs)
    head_at = len(net.blocks) if net.weight_head_at is None else net.weight_head_at
    if net.weight_head_at is None:  # weights come from the final layer: backward through all
        prefix = z_macs + sum(block_macs) + out_macs
    else:
        prefix = z_macs + sum(block_macs[:head_at]) + head_macs
    return {
        # When sampling, the time embedding (and its input-layer block) is shared by the batch.
        "forward_sample": 2.0 * body,
        "train_per_example": 2.0 * train_per_example,
        "train_per_time": 2.0 * train_per_time,
        "guidance_extra": 2.0 * prefix,
    }


def train_step_flops(net: sg.ResNetDenoiser, batch: int, num_steps: int) -> float:
    """Dense FLOPs of one training step: `batch` examples, time path on `min(T, batch)` rows."""
    flops = resnet_flops(net)
    return batch * flops["train_per_example"] + min(num_steps, batch) * flops["train_per_time"]


def reference_net(weight_head_at=2, key=0) -> sg.ResNetDenoiser:
    return sg.ResNetDenoiser(
        ACTION_DIM, 1, STATE_DIM, weight_head_at=weight_head_at, key=jr.key(key)
    )


def bench_training(
    batch: int,
    steps: int,
    rate: float,
    measure_rate,
    num_examples: int = 100_000,
    variant: str = "reference",
) -> dict:
    rng = np.random.default_rng(0)
    data = sg.augment(
        rng.uniform(-1, 1, (num_examples, ACTION_DIM)), rng.uniform(0.01, 1, num_examples)
    )
    cond = jnp.asarray(rng.normal(size=(num_examples, STATE_DIM)), dtype=jnp.float32)
    net = {
        "reference": reference_net,
        "no dropout": lambda: sg.ResNetDenoiser(
            ACTION_DIM, 1, STATE_DIM, dropout=0.0, key=jr.key(0)
        ),
        "no dropout, identity activation": lambda: sg.ResNetDenoiser(
            ACTION_DIM, 1, STATE_DIM, dropout=0.0, activation=lambda x: x, key=jr.key(0)
        ),
    }[variant]()
    schedule = sg.VPSchedule(num_steps=15)
    optimizer = sg.default_optimizer(1_000_000)
    params = eqx.filter(net, eqx.is_inexact_array)
    state = sg.TrainState(
        net, jax.tree.map(jnp.copy, params), optimizer.init(params), jnp.asarray(0, dtype=jnp.int32)
    )
    state = jax.tree.map(lambda x: jnp.array(x, copy=True) if eqx.is_array(x) else x, state)
    step = sg.DiffusionStep(
        schedule, optimizer, batch, ACTION_DIM, 0.999, None, None, sg.NoiseWeights(), "cpu"
    )
    fixed = ((data.z, cond, jnp.ones(ACTION_DIM + 1)), step, jr.key(1))
    holder = {"state": state}

    def chunk():
        holder["state"], losses = run_chunk(fixed, holder["state"], steps)
        losses.block_until_ready()

    first, t = _time(chunk, repeats=TRAINING_REPEATS)
    rate = max(rate, measure_rate())  # the yardstick right after, under the same conditions
    flops = train_step_flops(net, batch, schedule.num_steps)
    lowered = run_chunk.lower(fixed, holder["state"], 1)
    xla = lowered.compile().cost_analysis()
    xla_flops = float((xla[0] if isinstance(xla, list) else xla).get("flops", float("nan")))
    return _training_row(variant, batch, steps, flops, xla_flops, rate, first, t)


def _training_row(variant, batch, steps, flops, xla_flops, rate, first, t) -> dict:
    """One row of the training table: `steps` steps of `flops` each took `t` seconds."""
    achieved = flops * steps / t / 1e9
    return {
        "variant": variant,
        "batch": batch,
        "steps_per_chunk": steps,
        "steps_per_s": steps / t,
        "examples_per_s": steps * batch / t,
        "gflop_per_step": flops / 1e9,
        "xla_gflop_per_step": xla_flops / 1e9,
        "achieved_gflops": achieved,
        "fraction_of_matmul_rate": achieved / rate,
        "floor_steps_per_s": rate * 1e9 / flops,
        "compile_s": first - t,
    }


def _dense_products(net: sg.ResNetDenoiser) -> list[tuple[int, int, bool, bool]]:
    """`(in, out, input gradient needed, on the time path)` of every dense layer a training
    step runs."""
    no_input_grad = {id(net.stem.z_part)}
    if net.stem.cond_part is not None:
        no_input_grad.add(id(net.stem.cond_part))
    time_path = {id(lin) for lin in net.time_embedding.mlp.layers} | {id(net.stem.time_part)}
    layers = jax.tree.leaves(net, is_leaf=lambda x: isinstance(x, eqx.nn.Linear))
    return [
        (lin.in_features, lin.out_features, id(lin) not in no_input_grad, id(lin) in time_path)
        for lin in layers
        if isinstance(lin, eqx.nn.Linear)
    ]


def bench_gemms(batch: int, steps: int, rate: float, measure_rate, num_steps: int = 15) -> dict:
    """The matrix products of a training step alone, with the network's own shapes (forward,
    weight gradient, input gradient; time-path layers on `num_steps` rows), chained in a
    scan: the floor for this network's step on this machine, and a yardstick that matches
    its shapes."""
    products = _dense_products(reference_net())
    rows = [min(num_steps, batch) if on_time_path else batch for *_, on_time_path in products]
    keys = jr.split(jr.key(0), 3 * len(products))
    shapes = [(n, i_, o) for n, (i_, o, *_) in zip(rows, products, strict=True)]
    xs = [jr.normal(keys[3 * j], (n, i_)) for j, (n, i_, _) in enumerate(shapes)]
    ws = [jr.normal(keys[3 * j + 1], (i_, o)) for j, (_, i_, o) in enumerate(shapes)]
    dys = [jr.normal(keys[3 * j + 2], (n, o)) for j, (n, _, o) in enumerate(shapes)]

    @jax.jit
    def run(xs, ws, dys):
        def step(c, _):
            acc = c
            for (_, _, needs_dx, _), x, w, dy in zip(products, xs, ws, dys, strict=True):
                y = (x + c) @ w  # depends on the carry: nothing is hoisted out of the scan
                dw = (x + c).T @ dy
                acc = acc + 1e-30 * (y[0, 0] + dw[0, 0])
                if needs_dx:
                    acc = acc + 1e-30 * (dy @ w.T)[0, 0]
            return acc, None

        return jax.lax.scan(step, jnp.zeros(()), None, length=steps)[0]

    first, t = _time(lambda: run(xs, ws, dys).block_until_ready(), repeats=GEMM_REPEATS)
    rate = max(rate, measure_rate())
    flops = sum(
        2 * n * i * o * (3 if dx else 2) for n, (i, o, dx, _) in zip(rows, products, strict=True)
    )
    variant = "matrix products only (same shapes)"
    return _training_row(variant, batch, steps, flops, float("nan"), rate, first, t)


def _sampler_call(model, schedule, batch, guidance, sampler):
    cond = jnp.asarray(np.random.default_rng(0).normal(size=(batch, STATE_DIM)), jnp.float32)
    key = jr.key(3)
    return lambda: sg.sample(
        model, schedule, cond=cond, guidance=guidance, sampler=sampler, key=key
    ).x.block_until_ready()


def _compiled_call(model, schedule, batch, guidance, sampler):
    cond = jnp.asarray(np.random.default_rng(0).normal(size=(batch, STATE_DIM)), jnp.float32)
    fn = sg.compile_sample(model, schedule, cond=cond, guidance=guidance, sampler=sampler)
    key = jr.key(3)
    return lambda: fn(cond, key=key).x.block_until_ready()


def bench_sampling(batches, steps_list, heads, repeats, rate, measure_rate) -> list[dict]:
    rows = []
    for head in heads:
        net = reference_net(weight_head_at=head)
        model = sg.JointModel(net, ACTION_DIM, 1, STATE_DIM)
        flops = resnet_flops(net)
        for T in steps_list:
            schedule = sg.VPSchedule(num_steps=T)
            sampler = sg.DDPMSampler(temperature=0.0, clip_data=(-1, 1), clip_weight=(1e-4, 1))
            for batch in batches:
                fns = {}
                for guided in (False, True):
                    guidance = sg.SelfWeightedGuidance(1.0) if guided else sg.NoGuidance()
                    fns[guided] = _sampler_call(model, schedule, batch, guidance, sampler)
                    if batch == 1:  # the per-call overhead matters only for small batches
                        fns[("compiled", guided)] = _compiled_call(
                            model, schedule, batch, guidance, sampler
                        )
                timed = _time_interleaved(fns, rounds=repeats, min_seconds=1.0)
                if batch == max(batches):
                    rate = max(rate, measure_rate())
                for guided in (False, True):
                    first, t = timed[guided]
                    compiled = timed.get(("compiled", guided), (0.0, float("nan")))[1]
                    work = (
                        T
                        * batch
                        * (flops["forward_sample"] + (flops["guidance_extra"] if guided else 0.0))
                    )
                    rows.append(
                        {
                            "head": "end" if head is None else head,
                            "T": T,
                            "batch": batch,
                            "guided": guided,
                            "latency_ms": 1e3 * t,
                            "compiled_latency_ms": 1e3 * compiled,
                            "compile_s": first - t,
                            "gflops": work / t / 1e9,
                            "fraction_of_matmul_rate": work / t / 1e9 / rate,
                        }
                    )
                    print(
                        f"  head={rows[-1]['head']} T={T} B={batch} guided={guided}: "
                        f"{1e3 * t:.2f} ms ({rows[-1]['fraction_of_matmul_rate']:.0%} of matmul)"
                        + (f", compiled {1e3 * compiled:.2f} ms" if batch == 1 else ""),
                        flush=True,
                    )
    return rows


def _sampling_products(net: sg.ResNetDenoiser) -> list[tuple[int, int, bool]]:
    """`(in, out, input gradient needed when guided)` of every dense layer one sampling
    step runs: all of them forward; guided, the input gradients of the layers the weight
    channel depends on (the stem's `z` columns, the blocks before the weight head, the head;
    with no head, every body layer)."""
    head_at = net.weight_head_at
    needs = {id(net.stem.z_part)}
    blocks = net.blocks if head_at is None else net.blocks[:head_at]
    needs |= {id(lin) for b in blocks for lin in (b.up, b.down)}
    if net.weight_head is not None:
        needs |= {id(lin) for lin in (net.weight_head.first, net.weight_head.last)
                  if lin is not None}
    else:
        needs.add(id(net.out))
    layers = jax.tree.leaves(net, is_leaf=lambda x: isinstance(x, eqx.nn.Linear))
    return [(lin.in_features, lin.out_features, id(lin) in needs)
            for lin in layers if isinstance(lin, eqx.nn.Linear)]


def bench_small_batch(batches, T: int, head, repeats: int) -> list[dict]:
    """Acting for one state (and for the evaluation's ten): `compile_sample`'s latency,
    unguided and guided, next to the floor measured in the same run — the same
    matrix(-vector) products with the network's shapes, `T` times, chained in a scan (each
    depends on the carry, so nothing is hoisted), and nothing else."""
    net = reference_net(weight_head_at=head)
    model = sg.JointModel(net, ACTION_DIM, 1, STATE_DIM)
    schedule = sg.VPSchedule(num_steps=T)
    sampler = sg.DDPMSampler(temperature=0.0, clip_data=(-1, 1), clip_weight=(1e-4, 1))
    products = _sampling_products(net)
    rows = []
    for batch in batches:
        keys = jr.split(jr.key(0), 3 * len(products))
        xs = [jr.normal(keys[3 * j], (batch, i)) for j, (i, _, _) in enumerate(products)]
        ws = [jr.normal(keys[3 * j + 1], (i, o)) for j, (i, o, _) in enumerate(products)]
        dys = [jr.normal(keys[3 * j + 2], (batch, o)) for j, (_, o, _) in enumerate(products)]

        def floor(guided, xs=xs, ws=ws, dys=dys):
            @jax.jit
            def run(xs, ws, dys):
                def step(c, _):
                    acc = c
                    for (_, _, needs_dx), x, w, dy in zip(products, xs, ws, dys, strict=True):
                        acc = acc + 1e-30 * ((x + c) @ w)[0, 0]
                        if guided and needs_dx:
                            acc = acc + 1e-30 * ((dy + c) @ w.T)[0, 0]
                    return acc, None

                return jax.lax.scan(step, jnp.zeros(()), None, length=T)[0]

            return lambda: run(xs, ws, dys).block_until_ready()

        fns = {}
        for guided in (False, True):
            guidance = sg.SelfWeightedGuidance(1.0) if guided else sg.NoGuidance()
            fns[("compiled", guided)] = _compiled_call(model, schedule, batch, guidance,
                                                       sampler)
            fns[("floor", guided)] = floor(guided)
        timed = _time_interleaved(fns, rounds=repeats, min_seconds=1.0)
        for guided in (False, True):
            t, t_floor = timed[("compiled", guided)][1], timed[("floor", guided)][1]
            rows.append({"head": "end" if head is None else head, "T": T, "batch": batch,
                         "guided": guided, "compiled_latency_ms": 1e3 * t,
                         "floor_ms": 1e3 * t_floor, "times_floor": t / t_floor})
            print(f"  B={batch} guided={guided}: compiled {1e3 * t:.2f} ms, floor "
                  f"{1e3 * t_floor:.2f} ms ({t / t_floor:.2f}x)", flush=True)
    return rows


def bench_scaling(widths, depths, depth_width, repeats) -> list[dict]:
    """The paper's Fig. 3 study: a 4-layer MLP of growing width, an MLP of growing depth.
    The three methods of a configuration are timed in turn (interleaved)."""
    rows = []
    schedule = sg.VPSchedule(num_steps=15)
    sampler = sg.DDPMSampler(temperature=0.0)
    configs = [("width", w, 4) for w in widths] + [("depth", depth_width, d) for d in depths]
    methods = {
        "unguided": (None, False),
        "guided": (None, True),
        "guided, head after layer 1": (1, True),
    }
    for kind, width, depth in configs:
        fns = {}
        for label, (head, guided) in methods.items():
            net = sg.MLPDenoiser(
                ACTION_DIM,
                1,
                STATE_DIM,
                width=width,
                depth=depth,
                weight_head_at=head,
                key=jr.key(0),
            )
            model = sg.JointModel(net, ACTION_DIM, 1, STATE_DIM)
            guidance = sg.SelfWeightedGuidance(1.0) if guided else sg.NoGuidance()
            fns[label] = _sampler_call(model, schedule, 1, guidance, sampler)
        timed = _time_interleaved(fns, rounds=repeats, min_seconds=0.6)
        for label in methods:
            t = timed[label][1]
            rows.append(
                {
                    "study": kind,
                    "width": width,
                    "depth": depth,
                    "method": label,
                    "latency_ms": 1e3 * t,
                }
            )
            print(f"  {kind}: width={width} depth={depth} {label}: {1e3 * t:.2f} ms", flush=True)
        del fns
    return rows


def _plots(scaling: list[dict], sampling: list[dict], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, study, xkey in [(axes[0], "width", "width"), (axes[1], "depth", "depth")]:
        for method in ("unguided", "guided", "guided, head after layer 1"):
            pts = [
                (r[xkey], r["latency_ms"])
                for r in scaling
                if r["study"] == study and r["method"] == method
            ]
            if pts:
                ax.plot(*zip(*pts, strict=True), marker="o", label=method)
        ax.set_xlabel(xkey)
        ax.set_ylabel("latency per action (ms), T = 15")
        if study == "width":
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_title("4-layer MLP, growing width")
        else:
            ax.set_title(f"MLP of width {scaling[-1]['width']}, growing depth")
        ax.legend()
    fig.tight_layout()
    fig.savefig(out / "scaling.png", dpi=110)
    files.append("scaling.png")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    for T in sorted({r["T"] for r in sampling}):
        base = {
            (r["head"], r["batch"]): r["latency_ms"]
            for r in sampling
            if r["T"] == T and not r["guided"]
        }
        for head in dict.fromkeys(r["head"] for r in sampling):
            pts = [
                (r["batch"], r["latency_ms"] / base[(head, r["batch"])])
                for r in sampling
                if r["T"] == T and r["guided"] and r["head"] == head
            ]
            ax.plot(*zip(*pts, strict=True), marker="o", label=f"T={T}, head {head}")
    ax.axhline(1.0, color="k", lw=0.5)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("batch of states")
    ax.set_ylabel("guided / unguided latency")
    ax.set_title("Cost of guidance by weight-head position")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "guidance_cost.png", dpi=110)
    files.append("guidance_cost.png")
    plt.close(fig)
    return files


def _ms(value) -> str:
    return "–" if value is None or value != value else f"{value:.2f}"


def _markdown(result: dict) -> str:
    env, lines = result["environment"], []
    lines += [
        "# Speed",
        "",
        f"Command: `{result['command']}`  ",
        f"Device: {env['device']} ({env['cpu_count']} CPU cores visible), JAX {env['jax']}, "
        f"{env['date']}, load average at start {env['load_average']}.",
        "",
        "Dense float32 matmul rate: "
        f"**{result['matmul_gflops']:.1f} GFLOP/s** "
        f"(n = {result['matmul_n']}), the highest of {len(result['matmul_gflops_all'])} "
        "measurements taken through the run (right after each training measurement and each "
        "sampling configuration; range "
        f"{min(result['matmul_gflops_all']):.0f}–{max(result['matmul_gflops_all']):.0f}); "
        "every fraction below is against it. Every time is the best of its repeats "
        "(interference on a shared machine only adds time); the methods compared in one row "
        "group are timed in turn, round after round.",
        "",
        "## Training (LN-ResNet 256 × 3 blocks × 4, state 17, action 6, 1 weight channel, "
        f"{result['params']:,} parameters)",
        "",
        f"Each row: the best of {TRAINING_REPEATS} chunks of "
        f"{result['training'][0]['steps_per_chunk']} steps (one compiled call each; "
        f"{GEMM_REPEATS} for the matrix products alone), after a first call that compiles.",
        "",
        "| network | batch | steps/s | examples/s | GFLOP/step (dense) | XLA GFLOP/step "
        "| achieved GFLOP/s | fraction of matmul rate | floor steps/s | compile s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["training"]:
        lines.append(
            f"| {r['variant']} | {r['batch']} | {r['steps_per_s']:.2f} | "
            f"{r['examples_per_s']:.0f} | "
            f"{r['gflop_per_step']:.2f} | {_ms(r['xla_gflop_per_step'])} | "
            f"{r['achieved_gflops']:.1f} | {r['fraction_of_matmul_rate']:.0%} | "
            f"{r['floor_steps_per_s']:.2f} | {r['compile_s']:.1f} |"
        )
    lines += [
        "",
        "## Sampling latency per call (DDPM, temperature 0, clipped; `sg.sample`)",
        "",
        "| head | T | batch | guided | latency ms | `compile_sample` ms | guided / unguided "
        "| fraction of matmul rate | compile s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    base = {
        (r["head"], r["T"], r["batch"]): r["latency_ms"]
        for r in result["sampling"]
        if not r["guided"]
    }
    for r in result["sampling"]:
        ratio = r["latency_ms"] / base[(r["head"], r["T"], r["batch"])]
        lines.append(
            f"| {r['head']} | {r['T']} | {r['batch']} | {'yes' if r['guided'] else 'no'} | "
            f"{r['latency_ms']:.2f} | {_ms(r.get('compiled_latency_ms'))} | {ratio:.2f} | "
            f"{r['fraction_of_matmul_rate']:.0%} | "
            f"{r['compile_s']:.1f} |"
        )
    lines += [
        "",
        "## Acting for one state and for ten (`compile_sample`, head after block 2, T = 15)",
        "",
        "The floor: the same matrix(-vector) products with the network's shapes, T times, "
        "in one compiled scan, timed interleaved with the sampler in this run.",
        "",
        "| batch | guided | `compile_sample` ms | floor ms | × floor |",
        "|---|---|---|---|---|",
    ]
    for r in result.get("small_batch", []):
        lines.append(
            f"| {r['batch']} | {'yes' if r['guided'] else 'no'} | "
            f"{r['compiled_latency_ms']:.2f} | {r['floor_ms']:.2f} | {r['times_floor']:.2f} |"
        )
    lines += [
        "",
        "## Scaling (batch 1, T = 15; the paper's Fig. 3 study)",
        "",
        "| study | width | depth | method | latency ms |",
        "|---|---|---|---|---|",
    ]
    for r in result["scaling"]:
        lines.append(
            f"| {r['study']} | {r['width']} | {r['depth']} | {r['method']} | "
            f"{r['latency_ms']:.2f} |"
        )
    lines += ["", "Plots: " + ", ".join(f"`{f}`" for f in result["plots"]), ""]
    return "\n".join(lines)


def _finalise(result: dict, rate: float, rates: list[float]) -> None:
    """Express every fraction against the highest matmul rate measured in the run."""
    result["matmul_gflops"], result["matmul_gflops_all"] = rate, rates
    for r in result["training"]:
        r["fraction_of_matmul_rate"] = r["achieved_gflops"] / rate
        r["floor_steps_per_s"] = rate / r["gflop_per_step"]
    for r in result["sampling"]:
        r["fraction_of_matmul_rate"] = r["gflops"] / rate


def _save_partial(result: dict, out: Path) -> None:
    """Write what is measured so far, so an interrupted run keeps its finished sections."""
    (out / "speed.json").write_text(json.dumps(result, indent=2))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "speed")
    parser.add_argument("--skip-scaling", action="store_true")
    args = parser.parse_args(argv)
    quick = args.quick
    args.out.mkdir(parents=True, exist_ok=True)
    device = jax.devices()[0]
    env = {
        "device": f"{device.platform}: {getattr(device, 'device_kind', device)}",
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "jax": jax.__version__,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    print("environment:", env)
    n = 1024 if quick else 2048
    if device.platform == "gpu":  # a GPU reaches its matmul rate only on large products
        n = 8192
    rates = []

    def measure_rate() -> float:
        """The matmul rate now; the run's yardstick is the highest seen, so a slow moment of
        a shared machine cannot inflate the fractions."""
        rates.append(max(matmul_rate(n, 5), matmul_rate(1024, 10)))
        return rates[-1]

    rate = measure_rate()
    print(f"matmul rate: {rate:.1f} GFLOP/s")
    result = {
        "command": "python benchmarks/speed.py" + (" --quick" if quick else ""),
        "environment": env,
        "matmul_gflops": rate,
        "matmul_n": n,
        "params": sum(x.size for x in jax.tree.leaves(eqx.filter(reference_net(), eqx.is_array))),
    }
    training = result["training"] = []
    runs = [(256, "reference"), (1024, "reference")]
    if not quick:  # where the rest of the time goes: the same step without elementwise work
        runs += [(1024, "no dropout"), (1024, "no dropout, identity activation")]
    for batch, variant in runs:
        steps = 10 if quick else (500 if device.platform == "gpu" else 50)
        r = bench_training(
            batch, steps=steps, rate=rate, measure_rate=measure_rate, variant=variant
        )
        training.append(r)
        print(
            f"training B={batch} ({variant}): {r['steps_per_s']:.2f} steps/s, "
            f"{r['fraction_of_matmul_rate']:.0%} of matmul rate"
        )
    if not quick:  # the same step's matrix products alone: the floor for these shapes
        r = bench_gemms(1024, steps=10 if quick else 50, rate=rate, measure_rate=measure_rate)
        training.append(r)
        print(f"training B=1024 ({r['variant']}): {r['steps_per_s']:.2f} steps/s")
    _save_partial(result, args.out)
    sampling = result["sampling"] = bench_sampling(
        batches=(1, 32, 256),
        steps_list=(15,) if quick else (5, 15),
        heads=(None, 0, 1, 2, 3) if not quick else (None, 1),
        repeats=3 if quick else 10,
        rate=rate,
        measure_rate=measure_rate,
    )
    _save_partial(result, args.out)
    result["small_batch"] = bench_small_batch((1, 10), T=15, head=2,
                                              repeats=3 if quick else 20)
    _save_partial(result, args.out)
    scaling = result["scaling"] = []
    if not args.skip_scaling:
        widths = (128, 512, 2048) if quick else (128, 256, 512, 1024, 2048, 4096, 8192)
        depths = (1, 3) if quick else (1, 2, 3, 4, 5, 6, 7)
        scaling[:] = bench_scaling(widths, depths, 2056, repeats=3 if quick else 10)
    _finalise(result, max(rates), rates)
    result["plots"] = _plots(scaling, sampling, args.out) if scaling else []
    (args.out / "speed.json").write_text(json.dumps(result, indent=2))
    (args.out / "speed.md").write_text(_markdown(result))
    print(_markdown(result))


if __name__ == "__main__":
    main()
