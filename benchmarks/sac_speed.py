"""SAC throughput on this machine: environment steps with one update each per second, next to
the FLOP floor of one update and the matmul rate measured in the same run.

    nice -n 19 python benchmarks/sac_speed.py            # Hopper-v5, batch 256, 256-256

Rows: the matmul rate (a 256×256 by 256×256 product, the networks' own shape, and a large
1024³ one); one update alone (a compiled chunk of 50 on a filled buffer); one environment
step with its policy call; and `train_sac` end to end after its random steps. The FLOP
count is that of the update's matrix products (forward 2·B·in·out per layer, backward twice
that), so `floor = FLOPs / matmul rate` is the time the products alone would take.
Written to `benchmarks/results/sac_speed.md`.
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


def matmul_rate(n: int, repeats: int) -> float:
    import jax
    import jax.numpy as jnp

    a = jnp.ones((n, n), jnp.float32)
    f = jax.jit(lambda x: x @ a)
    x = f(a).block_until_ready()
    start = time.perf_counter()
    for _ in range(repeats):
        x = f(x)
    x.block_until_ready()
    return 2 * n**3 * repeats / (time.perf_counter() - start)


def update_flops(obs_dim: int, act_dim: int, hidden: int, batch: int) -> float:
    """Matrix-product FLOPs of one SAC update (see the module)."""
    def mlp(i: int, o: int) -> int:
        return i * hidden + hidden * hidden + hidden * o

    actor, critic = mlp(obs_dim, 2 * act_dim), 2 * mlp(obs_dim + act_dim, 1)
    per_row = (actor + critic          # next action, target twin Q
               + 3 * critic            # critic forward and backward
               + 3 * actor             # actor forward and backward
               + 2 * critic)           # critic forward and its backward to the actions
    return 2.0 * batch * per_row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="Hopper-v5")
    parser.add_argument("--steps", type=int, default=4000, help="learning steps end to end")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)

    import gymnasium as gym
    import jax.numpy as jnp
    import jax.random as jr

    from selfguide.training import run_chunk
    from selfguide_rl.data import sac
    from selfguide_rl.data.sac._run import _sample_actions

    config = sac.SACConfig(random_steps=1000)
    env = gym.make(args.env)
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    rate_small = matmul_rate(256, 2000)
    rate_large = matmul_rate(1024, 50)

    # One update alone, on a filled buffer.
    n = 10_000
    rng = np.random.default_rng(0)
    buffer = sac.ReplayBuffer.empty(n, obs_dim, act_dim).add(
        rng.normal(size=(n, obs_dim)), rng.uniform(-1, 1, (n, act_dim)), rng.normal(size=n),
        rng.normal(size=(n, obs_dim)), np.zeros(n), np.zeros(n))
    state = sac.init_sac(obs_dim, act_dim, config, key=jr.key(0))
    step = sac.SACStep(config, act_dim)
    fixed = (buffer.data(), step, jr.key(1))
    state, m = run_chunk(fixed, state, 50)
    m.block_until_ready()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        state, m = run_chunk(fixed, state, 50)
        m.block_until_ready()
        times.append((time.perf_counter() - start) / 50)
    update_s = float(np.median(times))

    # One environment step with its policy call.
    obs, _ = env.reset(seed=0)
    key = jr.key(2)
    _sample_actions(state.actor, jnp.asarray(obs[None], jnp.float32), key).block_until_ready()
    start, k = time.perf_counter(), 0
    while k < 2000:
        a = np.asarray(_sample_actions(state.actor, jnp.asarray(obs[None], jnp.float32),
                                       jr.fold_in(key, k)))[0]
        obs, _, term, trunc, _ = env.step(a)
        if term or trunc:
            obs, _ = env.reset()
        k += 1
    env_s = (time.perf_counter() - start) / k

    # End to end: random steps, then learning steps, each with one update.
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        result = sac.train_sac(args.env, tmp, steps=config.random_steps + args.steps,
                               config=config, eval_every=10**9, eval_episodes=1,
                               checkpoint_every=10**9, progress=False)
    total = config.random_steps + args.steps
    end_to_end = result.steps_per_second

    flops = update_flops(obs_dim, act_dim, 256, config.batch_size)
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.platform()}"
    lines = [
        f"# SAC throughput ({args.env}, batch {config.batch_size}, 256-256 networks)", "",
        f"Command: `python benchmarks/sac_speed.py --env {args.env} --steps {args.steps}`. "
        f"Machine: {machine}; one run, so the figures are ratios within it.", "",
        "| measure | value |", "|---|---|",
        f"| matmul rate, 256×256 · 256×256 | {rate_small / 1e9:.1f} GFLOP/s |",
        f"| matmul rate, 1024³ | {rate_large / 1e9:.1f} GFLOP/s |",
        f"| FLOPs of one update (matrix products) | {flops / 1e6:.0f} MFLOP |",
        f"| floor of one update at the 256×256 rate | {flops / rate_small * 1e3:.2f} ms |",
        f"| one update (compiled chunk of 50, median of 5) | {update_s * 1e3:.2f} ms "
        f"({flops / update_s / 1e9:.1f} GFLOP/s, {flops / rate_small / update_s:.0%} "
        "of the floor's rate) |",
        f"| one environment step with its policy call | {env_s * 1e3:.2f} ms |",
        f"| expected steps/s (update + step) | {1 / (update_s + env_s):.0f} |",
        f"| `train_sac` end to end ({total:,} steps, {config.random_steps:,} random, "
        f"compile included) | {end_to_end:.0f} steps/s |", "",
    ]
    text = "\n".join(lines)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sac_speed.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
