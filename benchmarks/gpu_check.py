"""1M diffusion steps at batch 1024 on one GPU, extrapolated from timed chunks.

Run through `benchmarks/gpu_check.sh`. Times `--chunk` steps of the reference network
(float32, then bfloat16 compute with float32 master weights), extrapolates 1M steps, and
compares the losses of the two precisions (per-chunk means) on the same data and key.
"""

import argparse
import json
from pathlib import Path

import jax
import jax.random as jr
import numpy as np

import selfguide as sg


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--chunk", type=int, default=5000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = 1_000_000
    data = sg.augment(rng.uniform(-1, 1, (n, 6)), rng.uniform(0.01, 1, n))
    cond = rng.normal(size=(n, 17)).astype(np.float32)
    results = {"device": str(jax.devices()[0]), "jax": jax.__version__}
    for dtype in (None, "bfloat16"):
        net = sg.ResNetDenoiser(6, 1, 17, key=jr.key(0))
        kw = dict(
            cond=cond,
            schedule=sg.VPSchedule(15),
            batch_size=1024,
            key=jr.key(1),
            progress=False,
            steps_per_chunk=args.chunk,
            compute_dtype=dtype,
        )
        result = sg.train(net, data, steps=4 * args.chunk, **kw)
        seconds = result.history.seconds  # per chunk; the first includes compilation
        per_step = float(np.median(seconds[1:])) / args.chunk
        name = dtype or "float32"
        results[name] = {
            "seconds_per_step": per_step,
            "minutes_for_1M_steps": per_step * 1e6 / 60,
            "compile_s": float(seconds[0]) - per_step * args.chunk,
            "loss_per_chunk": [float(x) for x in result.history.loss],
        }
        print(name, results[name], flush=True)
        (args.out / "gpu_check.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
