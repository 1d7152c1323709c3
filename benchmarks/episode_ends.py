"""How do a run's episodes end? Length, the health condition that ended them, and what the
critic thought of the states just before.

For each method, `--episodes` evaluation episodes (environment seeds apart from the
benchmark's test and validation seeds) are run one step at a time. An episode that ends
early (terminated) is classified by the environment's own health ranges where it has them
(Hopper, Walker2d: `healthy_z_range` on the torso height `obs[0]`, `healthy_angle_range` on
its angle `obs[1]`). Printed per method: mean length and return, the share of episodes
terminated, by height and by angle, and the mean `V(s)` over the last 5 states before a
termination beside the mean `V` over the dataset's states. A critic that rates the states
before a fall as good as any has not seen that fall in its data; guidance that follows it
runs off that cliff.

The dataset's terminations are classified the same way (`data:` line), which says which
falls the critic could have learned.

    python benchmarks/episode_ends.py runs/rl-locomotion/runs/hopper-medium-expert/seed0
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
from selfguide_rl._evaluate import make_env  # noqa: E402
from selfguide_rl._methods import method_from_name  # noqa: E402

SEED = 50_000  # environment seeds 50,000 + i: apart from the benchmark's


def method(text: str) -> sgrl.AbstractMethod:
    """`bc`, `swg@RHO` (default 10) or `idql@TEMPERATURE` (64 candidates, default 1); `iql`
    is not offered (it does not sample the diffusion model)."""
    name, _, arg = text.partition("@")
    if name not in ("bc", "swg", "idql"):
        raise argparse.ArgumentTypeError(f"unknown method {text!r}: use bc, swg@RHO, idql@TEMP")
    return method_from_name("episode_ends", name, scale=float(arg or 10), num_candidates=64,
                            temperature=float(arg or 1))


def cause(obs: np.ndarray, env) -> str:
    """Which health range the final observation left (`"other"` if none is known)."""
    u = env.unwrapped
    z_range, angle_range = getattr(u, "_healthy_z_range", None), getattr(
        u, "_healthy_angle_range", None)
    if z_range is not None and not z_range[0] < obs[0] < z_range[1]:
        return "height"
    if angle_range is not None and not angle_range[0] < obs[1] < angle_range[1]:
        return "angle"
    return "other"


def episodes(agent, env, acting: sgrl.AbstractMethod, num: int) -> list[dict]:
    values = agent.policy.values
    out = []
    for i in range(num):
        obs, _ = env.reset(seed=SEED + i)
        key, ret, vs = jr.key(SEED + i), 0.0, []
        while True:
            x = jnp.asarray(obs, jnp.float32)
            vs.append(float(values.v(x)))
            a = np.asarray(sgrl.act(agent.policy, x[None], method=acting,
                                    key=jr.fold_in(key, len(vs))))[0]
            obs, r, terminated, truncated, _ = env.step(a)
            ret += float(r)
            if terminated or truncated:
                break
        out.append({"length": len(vs), "return": ret, "terminated": bool(terminated),
                    "cause": cause(obs, env) if terminated else "", "v_end": np.mean(vs[-5:])})
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+", type=Path)
    parser.add_argument("--methods", type=lambda s: [(t, method(t)) for t in s.split(",")],
                        default="bc,swg@1,swg@3,swg@10,idql@0,idql@1")
    parser.add_argument("--episodes", type=int, default=5)
    args = parser.parse_args(argv)
    jax.config.update("jax_platforms", "cpu")
    for run_dir in args.run_dirs:
        agent = sgrl.load_run(run_dir)
        data, _ = sgrl.load_run_data(run_dir)
        env = make_env(agent.task)
        try:
            term = np.asarray(data.terminals).astype(bool)
            ends = [cause(o, env) for o in np.asarray(data.next_observations)[term]]
            v_data = float(np.mean(np.asarray(jax.lax.map(
                agent.policy.values.v, jnp.asarray(data.observations), batch_size=8192))))
            print(f"\n{run_dir}\n\ndata: {len(data.observations):,} steps, {term.sum():,} "
                  f"terminations: by height {ends.count('height')}, by angle "
                  f"{ends.count('angle')}, other {ends.count('other')}; mean V over its "
                  f"states {v_data:.1f}\n")
            print("| method | length | return | terminated | by height | by angle | "
                  "V before the end |")
            print("|---|---|---|---|---|---|---|")
            for name, acting in args.methods:
                eps = episodes(agent, env, acting, args.episodes)
                done = [e for e in eps if e["terminated"]]
                v_end = f"{np.mean([e['v_end'] for e in done]):.1f}" if done else "–"
                print(f"| {name} | {np.mean([e['length'] for e in eps]):.0f} | "
                      f"{np.mean([e['return'] for e in eps]):.0f} | {len(done)}/{len(eps)} | "
                      f"{sum(e['cause'] == 'height' for e in done)} | "
                      f"{sum(e['cause'] == 'angle' for e in done)} | {v_end} |", flush=True)
        finally:
            env.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
