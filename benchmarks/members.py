"""Many runs in one program: `train_many` with K members against K sequential `train` runs.

    nice -n 19 python benchmarks/members.py                    # CPU: K = 1, 2, 5
    python benchmarks/members.py --ks 1,2,5,10 --steps 2000    # an accelerator

The network is the reference's (LN-ResNet width 256, 3 blocks, 1.8M parameters, weight
head after block 2) on PointMaze-sized data (2-d actions, 4-d states), batch 1024, T = 15.
Both sides are timed on compiled chunks after a warm-up chunk, in the same process, so the
ratio is what matters. Written to `benchmarks/results/members[_<platform>].md`.
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", default="1,2,5")
    parser.add_argument("--steps", type=int, default=200, help="timed steps per run")
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)

    import jax
    import jax.random as jr

    import selfguide as sg

    ks = [int(k) for k in args.ks.split(",")]
    rng = np.random.default_rng(0)
    n = 20_000
    data = sg.augment(rng.uniform(-1, 1, (n, 2)), rng.uniform(0.1, 1, n), rescale=True)
    cond = rng.normal(size=(n, 4))
    schedule = sg.VPSchedule(num_steps=15)
    chunk = max(args.steps // 2, 1)

    def net(m):
        return sg.ResNetDenoiser(data_dim=2, cond_dim=4, width=args.width, key=jr.key(m))

    def timed(fn) -> float:
        fn(chunk)  # compile and warm up
        start = time.perf_counter()
        fn(args.steps)
        return time.perf_counter() - start

    # One optimiser object for every call, so the warm-up's compiled chunk is reused.
    common = dict(schedule=schedule, batch_size=args.batch, steps_per_chunk=chunk,
                  progress=False, cond=cond, optimizer=sg.default_optimizer(args.steps))
    rows = []
    for k in ks:
        def sequential(steps, k=k):
            for m in range(k):
                r = sg.train(net(m), data, key=jr.key(100 + m), steps=steps, **common)
                jax.block_until_ready(r.state)

        def together(steps, k=k):
            rs = sg.train_many([net(m) for m in range(k)], data, steps=steps,
                               keys=[jr.key(100 + m) for m in range(k)], **common)
            jax.block_until_ready([r.state for r in rs])

        t_seq, t_many = timed(sequential), timed(together)
        rows.append((k, t_seq, t_many))
        print(f"K={k}: sequential {t_seq:.2f} s, together {t_many:.2f} s, "
              f"speed-up {t_seq / t_many:.2f}x", flush=True)

    device = jax.devices()[0]
    name = device.platform if device.platform == "cpu" else device.device_kind
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, {name}"
    one = rows[0][2] / rows[0][0] if rows[0][0] == 1 else float("nan")
    lines = [
        f"# K runs in one program ({name})", "",
        f"Command: `python benchmarks/members.py --ks {args.ks} --steps {args.steps} "
        f"--batch {args.batch} --width {args.width}`. Machine: {machine}.", "",
        f"{args.steps} training steps per run after a warm-up chunk; batch {args.batch}, "
        f"LN-ResNet width {args.width}, T = 15.", "",
        "| K | K sequential runs, s | `train_many`, s | speed-up | `train_many` / one run |",
        "|---|---|---|---|---|",
    ]
    for k, t_seq, t_many in rows:
        lines.append(f"| {k} | {t_seq:.2f} | {t_many:.2f} | {t_seq / t_many:.2f}× | "
                     f"{t_many / one:.2f}× |" if np.isfinite(one) else
                     f"| {k} | {t_seq:.2f} | {t_many:.2f} | {t_seq / t_many:.2f}× | – |")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if device.platform == "cpu" else f"_{device.platform}"
    (args.out / f"members{suffix}.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
