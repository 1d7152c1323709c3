"""Where do a run's methods put their actions? Support and critic's view, on dataset states.

For `--states` states drawn from the run's dataset, each method acts once (the evaluation
settings: DDPM at temperature 0, actions clipped to the bounds) and is compared with the
dataset's own action in that state:

- `A > 0`: the share of actions the run's critic rates above `V(s)` (the dataset's share is
  what the weights were fitted on), and the mean advantage `A = Q(s, a) − V(s)`;
- `at bound`: the share of action coordinates at the bounds (`|a| ≥ 0.999` in `[−1, 1]`);
  a guided sampler pushed off the data's support piles actions up there;
- `|a − a_data|`: the mean Euclidean distance to the dataset's action in the same state.

A method whose actions the critic rates highly but that scores badly exploits the critic
where it has no data; one with a low advantage is not guided where the critic points.

    python benchmarks/guided_actions.py runs/rl-locomotion/runs/hopper-medium-expert/seed0
"""

import argparse
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import selfguide_rl as sgrl  # noqa: E402

SCALES = (1.0, 3.0, 10.0, 30.0)
IDQL_TEMPERATURES = (0.0, 1.0)


def methods() -> list[tuple[str, sgrl.AbstractMethod]]:
    return ([("bc", sgrl.BC())] + [(f"swg ρ {s:g}", sgrl.SWG(s)) for s in SCALES]
            + [(f"idql t {t:g}", sgrl.IDQL(64, t)) for t in IDQL_TEMPERATURES])


def action_stats(agent, states: np.ndarray, actions: np.ndarray, a: np.ndarray) -> dict:
    values, policy = agent.policy.values, agent.policy
    adv = np.asarray(sgrl.advantages(values, jnp.asarray(states), jnp.asarray(a)))
    unit = np.asarray(policy.to_model(jnp.asarray(a)))
    return {"A>0": float(np.mean(adv > 0)), "A mean": float(np.mean(adv)),
            "at bound": float(np.mean(np.abs(unit) >= 0.999)),
            "dist": float(np.mean(np.linalg.norm(a - actions, axis=-1)))}


def guided_actions(run_dir: Path, num_states: int, seed: int,
                   first_steps: int = 0) -> list[tuple[str, dict]]:
    agent = sgrl.load_run(run_dir)
    full, _ = sgrl.load_run_data(run_dir)
    pool = (np.arange(len(full.observations)) if not first_steps else
            (np.asarray(full.episode_starts)[:, None] + np.arange(first_steps)).ravel())
    idx = np.sort(np.random.default_rng(seed).choice(pool, min(num_states, len(pool)),
                                                     replace=False))
    states = np.asarray(full.observations)[idx]
    actions = np.asarray(full.actions)[idx]
    out = [("dataset", action_stats(agent, states, actions, actions))]
    for name, method in methods():
        a = np.asarray(sgrl.act(agent.policy, states, method=method, key=jr.key(seed)))
        out.append((name, action_stats(agent, states, actions, a)))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+", type=Path)
    parser.add_argument("--states", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--first-steps", type=int, default=0,
                        help="draw the states from the first K steps of the dataset's "
                             "episodes (default 0: from all steps)")
    args = parser.parse_args(argv)
    jax.config.update("jax_platforms", "cpu")
    for run_dir in args.run_dirs:
        where = (f"the first {args.first_steps} steps of its episodes" if args.first_steps
                 else "all steps")
        print(f"\n{run_dir} ({args.states} dataset states from {where})\n")
        print("| actions | A > 0 | A mean | at bound | mean |a − a_data| |")
        print("|---|---|---|---|---|")
        for name, s in guided_actions(run_dir, args.states, args.seed, args.first_steps):
            print(f"| {name} | {s['A>0']:.3f} | {s['A mean']:+.3f} | {s['at bound']:.3f} | "
                  f"{s['dist']:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
