"""Where a training step's time goes: XLA's executed kernels, grouped by what they compute.

    python benchmarks/profile_training.py             # reference network, batch 1024
    python benchmarks/profile_training.py --batch 256

Traces a chunk of training steps with `jax.profiler`, maps every executed kernel to its HLO
instruction (from XLA's optimised module) and groups the time per step: matrix products,
the swish activations, LayerNorm, dropout, the time path, parameter copies, bias-gradient
reductions and the rest (optimiser, EMA, loss). Kernels of one step can run concurrently,
so the groups can add up to more than the step, and tracing slows small kernels down; read
the table as a breakdown, and take speeds from `benchmarks/speed.py`.

Writes `profile_training.md` under `--out` (default `benchmarks/results/speed/`).
"""

import argparse
import collections
import gzip
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import speed  # noqa: E402

import selfguide as sg  # noqa: E402
from selfguide.training import run_chunk  # noqa: E402

GROUPS = (
    ("dropout", ("Dropout", "bernoulli", "_uniform", "threefry", "philox")),
    ("swish", ("silu", "swish")),
    ("LayerNorm", ("LayerNorm", "layer_norm")),
    ("copies of Gᵀ for the weight gradients", ("batched_affine_backward)))/transpose",)),
    ("time path", ("mish", "/sin", "/cos", "FourierTime")),
    ("bias-gradient reductions", ("reduce_sum",)),
)


def _group(name: str, opcode: str, op_name: str, shape: str) -> str:
    if opcode == "dot" or (name.startswith("ynn_fusion") and "dot_general" in op_name):
        return "matrix products"
    if name.startswith("ynn_fusion") and op_name.endswith("/transpose"):
        return "matrix products"  # a forward product, named after its transposed operand
    if shape.startswith("u32"):
        return "dropout"
    for group, needles in GROUPS:
        if any(n in op_name for n in needles):
            return group
    if opcode == "copy":
        return "parameter copies"
    return "optimiser, EMA, loss, other"


def _instructions(hlo: str) -> dict[str, tuple[str, str, str]]:
    """`name → (shape, opcode, op_name)` of every instruction in an HLO text dump."""
    out = {}
    pattern = r"^\s*(?:ROOT )?%(\S+) = (\S+) ([\w-]+)\((.*?)\)(.*)$"
    for m in re.finditer(pattern, hlo, re.M):
        op = re.search(r'op_name="([^"]*)"', m.group(5))
        out[m.group(1)] = (m.group(2), m.group(3), op.group(1) if op else "")
    return out


def _covered(intervals: list[tuple[float, float]]) -> float:
    """Length of the union of `[start, end)` intervals."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "speed")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    data = sg.augment(rng.uniform(-1, 1, (100_000, 6)), rng.uniform(0.01, 1, 100_000))
    cond = jnp.asarray(rng.normal(size=(100_000, speed.STATE_DIM)), jnp.float32)
    net = speed.reference_net()
    schedule = sg.VPSchedule(num_steps=15)
    optimizer = sg.default_optimizer(1_000_000)
    params = eqx.filter(net, eqx.is_inexact_array)
    state = sg.TrainState(
        net, jax.tree.map(jnp.copy, params), optimizer.init(params), jnp.asarray(0, jnp.int32)
    )
    step = sg.DiffusionStep(
        schedule, optimizer, args.batch, 6, 0.999, None, None, sg.NoiseWeights(), "cpu"
    )
    fixed = ((data.z, cond, jnp.ones(7)), step, jr.key(1))
    holder = {"state": state}

    def chunk():
        holder["state"], losses = run_chunk(fixed, holder["state"], args.steps)
        losses.block_until_ready()

    chunk()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        chunk()
        times.append((time.perf_counter() - start) / args.steps)
    hlo = run_chunk.lower(fixed, holder["state"], args.steps)
    instructions = _instructions(hlo.compile().as_text())
    with tempfile.TemporaryDirectory() as trace_dir:
        jax.profiler.start_trace(trace_dir, create_perfetto_trace=True)
        chunk()
        jax.profiler.stop_trace()
        trace = next(Path(trace_dir).rglob("*.json.gz"))
        events = json.load(gzip.open(trace))
    events = events["traceEvents"] if isinstance(events, dict) else events
    per_group = collections.Counter()
    kernels = collections.Counter()
    intervals = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X" and e["name"] in instructions:
            shape, opcode, op_name = instructions[e["name"]]
            group = _group(e["name"], opcode, op_name, shape)
            per_group[group] += e["dur"] / 1e3 / args.steps
            kernels[group] += 1 / args.steps
            intervals[group].append((e["ts"], e["ts"] + e["dur"]))
    covered = {g: _covered(iv) / 1e3 / args.steps for g, iv in intervals.items()}
    step_ms = 1e3 * min(times)
    flops = speed.train_step_flops(net, args.batch, schedule.num_steps)
    lines = [
        "# Where a training step's time goes",
        "",
        f"Command: `python benchmarks/profile_training.py --batch {args.batch}`  ",
        f"Device: {jax.devices()[0].platform}, JAX {jax.__version__}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        f"Reference network, batch {args.batch}: **{step_ms:.1f} ms per step** untraced "
        f"(best of 5 chunks of {args.steps}); {flops / 1e9:.2f} GFLOP of matrix products.",
        f"Kernels per step: {sum(kernels.values()):.0f}. Traced time per step (tracing slows "
        "the small kernels): the kernels' own times added up, and the wall time during which "
        "at least one kernel of the group runs (smaller where kernels of a group run at the "
        "same time, e.g. a layer's weight and input gradients):",
        "",
        "| group | kernel ms per step | wall ms per step | kernels per step |",
        "|---|---|---|---|",
    ]
    for group, ms in per_group.most_common():
        lines.append(f"| {group} | {ms:.2f} | {covered[group]:.2f} | {kernels[group]:.0f} |")
    text = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "profile_training.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
