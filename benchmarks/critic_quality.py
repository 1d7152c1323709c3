"""How good is a run's critic? Its Q and V on the dataset against Monte-Carlo returns.

For every dataset step the discounted return-to-go of the processed rewards (the rewards the
values were trained on), `G_t = r_t + γ G_{t+1}`, ending at 0 after a terminal step and at
`V(s')` of the run after a cut one. `G` estimates the *behaviour* policy's value, which the
expectile critic (τ > 0.5) should exceed a little and rank the same way. Printed per run:
mean Q, mean G, their ratio, the Pearson and Spearman correlations of Q with G over steps, and
the share of positive advantages. A critic that is still far below G (ratio ≪ 1), or that
ranks steps unlike G, gives weights that are noise.

    python benchmarks/critic_quality.py runs/rl-locomotion-quick/runs/hopper-medium-replay/seed0
"""

import argparse
import json
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import scipy.stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import selfguide_rl as sgrl  # noqa: E402


def discounted_returns(rewards: np.ndarray, terminals: np.ndarray, starts: np.ndarray,
                       ends: np.ndarray, bootstrap: np.ndarray, gamma: float) -> np.ndarray:
    """`G_t` per step of the episodes `starts[k] : ends[k]`; `bootstrap[k]` is the value after
    episode k's last step (0 if it ended in a terminal state)."""
    out = np.empty(len(rewards), dtype=np.float64)
    for k, (a, b) in enumerate(zip(starts, ends, strict=True)):
        g = 0.0 if terminals[b - 1] else float(bootstrap[k])
        for t in range(b - 1, a - 1, -1):
            g = rewards[t] + gamma * g
            out[t] = g
    return out


def critic_quality(run_dir: Path) -> dict:
    # The values and the data only (`load_run` would also load the diffusion policy).
    config = json.loads((run_dir / "config.json").read_text())
    preset = sgrl.Preset.from_json(config["preset"])
    values, _ = sgrl.load_values(run_dir / "values.ckpt")
    data, task = sgrl.load_run_data(run_dir)
    data = sgrl.process_rewards(data, task)
    s, a = data.observations, data.actions
    q = np.asarray(jax.lax.map(lambda sa: values.q(*sa), (s, a), batch_size=4096))
    v = np.asarray(jax.lax.map(values.v, s, batch_size=4096))
    starts = np.asarray(data.episode_starts)
    ends = starts + np.asarray(data.episode_lengths())
    v_after = np.asarray(jax.vmap(values.v)(jnp.asarray(data.next_observations)[ends - 1]))
    g = discounted_returns(np.asarray(data.rewards, np.float64), np.asarray(data.terminals),
                           starts, ends, v_after, preset.values.gamma)
    return {
        "run": str(run_dir),
        "value_steps": preset.values.steps,
        "q_mean": float(q.mean()),
        "v_mean": float(v.mean()),
        "mc_mean": float(g.mean()),
        "q_over_mc": float(q.mean() / g.mean()),
        "pearson_q_mc": float(scipy.stats.pearsonr(q, g).statistic),
        "spearman_q_mc": float(scipy.stats.spearmanr(q, g).statistic),
        "adv_positive": float(np.mean(q - v > 0)),
        "adv_std": float(np.std(q - v)),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run_dirs", nargs="+", type=Path)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args(argv)
    rows = [critic_quality(d) for d in args.run_dirs]
    keys = [k for k in rows[0] if k != "run"]
    print("| run | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for r in rows:
        print(f"| {r['run']} | " + " | ".join(
            f"{r[k]:.3g}" if isinstance(r[k], float) else str(r[k]) for k in keys) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
