"""The README example with both weight parametrisations, and the noise-predicting one at
several `clip_min`: the tables of `benchmarks/results/weight_output.md`.

    python benchmarks/weight_output.py          # about 3 min on 2 CPU cores
"""

import warnings

import jax.random as jr
import numpy as np

import selfguide as sg

SAMPLES, FAR = 4_000, 8.0


def data():
    rng = np.random.default_rng(0)
    x = rng.choice([-2.0, 2.0], size=(8_000, 2)) + 0.5 * rng.standard_normal((8_000, 2))
    return x, np.exp(x[:, 0]), 2.25 - 4 / (np.exp(4) + 1)


def row(model, schedule, guidance) -> str:
    xs, ws = sg.sample(model, schedule, num=SAMPLES, guidance=guidance, key=jr.key(2))
    xs, ws = np.asarray(xs), np.asarray(ws)
    far = np.abs(xs).max(axis=1) > FAR
    trimmed = xs[~far, 0].mean() if (~far).any() else float("nan")
    return (f"{far.mean():.1%} | {np.abs(xs).max():,.1f} | {xs[:, 0].mean():.2f} "
            f"({trimmed:.2f} without them) | {ws.min():.3g}")


def main() -> None:
    x, w, exact = data()
    z = sg.augment(x, w, rescale=True)
    schedule = sg.VPSchedule(num_steps=15)
    print(f"exact tilted mean of x₀: {exact:.3f}; {SAMPLES} samples; 'far' = beyond |x| = {FAR}")
    print("\n| weight_output | clip_min | far | max |x| | mean of x₀ | min sampled w |")
    print("|---|---|---|---|---|---|")
    models = {}
    for weight_output in ("eps", "denoised"):
        net = sg.ResNetDenoiser(data_dim=2, weight_dim=1, cond_dim=None, key=jr.key(0))
        models[weight_output] = sg.fit(net, z, schedule=schedule, steps=2_000, key=jr.key(1),
                                       weight_output=weight_output, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sg.GuidanceWarning)
        for weight_output, clip_min in [("denoised", 1e-4), ("eps", 1e-4), ("eps", 1e-3),
                                        ("eps", 1e-2), ("eps", 0.03), ("eps", 0.1)]:
            guidance = sg.SelfWeightedGuidance(1.0, clip_min=clip_min, clip_max=1.0)
            print(f"| {weight_output} | {clip_min:g} | "
                  f"{row(models[weight_output], schedule, guidance)} |", flush=True)


if __name__ == "__main__":
    main()
