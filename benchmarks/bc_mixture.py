"""Behaviour cloning on a dataset of one or two behaviour policies: how close is each
action to theirs, at the data's states and along an episode?

The benchmark's `BC` is the run's diffusion model sampled unguided (the behaviour policy
`μ` that SWG reweights). On a medium-expert dataset `μ(a|s)` has two modes, one per policy;
a Gaussian MLP fitted by maximum likelihood (D4RL's BC) acts with a single compromise. Each
method is measured at 2,000 of the data's states (is `μ` learned where the data is?) and in
episodes (does the error compound off the data?). On Walker2d the answer was the second:
the diffusion model's actions at the data's states are as close to the SAC policies' as the
data's own, and the distance grows step by step in an episode until the walker falls.

For each method, `--episodes` episodes (environment seeds 50,000 + i, apart from the
benchmark's) are run one step at a time. At every visited state the committed medium and
expert SAC policies' deterministic actions are computed, and the method's action is
attributed to the nearer of the two (Euclidean distance in the environment's action space).
Printed per method: mean return and length, the share of steps attributed to the expert,
how often the attribution switches from one step to the next, and the mean distance to the
nearer policy's action (small: the action is one of the two policies'; large: neither's),
and the share of steps with the torso upside down (`|obs[1]| > π/2`, the torso angle of the
MuJoCo locomotion tasks: HalfCheetah, which never terminates, can run on its back).
Before that, at 20,000 of the data's states: which policy the data's own actions are nearer,
and whether the run's critic prefers the expert's action there (the advantage `Q − V` of
each policy's action and of the data's, and the share of states where `Q(s, expert's action)`
exceeds `Q(s, medium's action)`): guidance toward the expert needs that preference.

`mlp-bc` is trained here: IQL's Gaussian actor with `β = 0` (every weight 1, so plain
maximum likelihood), on the run's data with the run's actor settings and seed.

    python benchmarks/bc_mixture.py runs/rl-locomotion/runs/walker2d-medium-expert/seed0 \\
        --policies benchmarks/results/locomotion/walker2d/policies
"""

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import selfguide as sg  # noqa: E402
import selfguide_rl as sgrl  # noqa: E402
from selfguide_rl._evaluate import make_env  # noqa: E402
from selfguide_rl._methods import method_from_name  # noqa: E402
from selfguide_rl.data._locomotion import load_behaviour_policy  # noqa: E402

SEED = 50_000  # environment seeds 50,000 + i: apart from the benchmark's


class DDIMBC(sgrl.BC):
    """The diffusion model sampled unguided by deterministic DDIM (`η = 0`, the probability
    flow), clipped as the benchmark's DDPM is."""

    def actions(self, policy, obs, temperature, key):
        del temperature
        sampler = sg.DDIMSampler(eta=0.0, clip_data=(-1.0, 1.0), clip_weight=(1e-4, 1.0))
        return sg.sample(policy.model, policy.schedule, cond=obs, guidance=sg.NoGuidance(),
                         sampler=sampler, key=key).x


def mlp_bc(agent: sgrl.Agent, data, seed: int,
           actor: sgrl.ActorConfig | None = None) -> sgrl.GaussianActor:
    """D4RL's behaviour cloning: the Gaussian actor fitted with every weight 1, with the
    settings `actor` (default the run's), in the action units of the run's policy."""
    config = dataclasses.replace(agent.preset.actor if actor is None else actor, beta=0.0)
    actor, _ = sgrl.train_actor(
        data, np.zeros(len(data.observations), np.float32), config, key=jr.key(seed),
        to_model=lambda a: np.asarray(agent.policy.to_model(jnp.asarray(a))), progress=False)
    return actor


def distances(actions: np.ndarray, policy_actions: list[np.ndarray]) -> np.ndarray:
    """`(policies, states)`: the distance of each action to each policy's action there."""
    return np.stack([np.linalg.norm(actions - p, axis=-1) for p in policy_actions])


def episodes(agent, env, acting, temperature: float, medium, expert, num: int) -> dict:
    """Run `num` episodes of `acting`; returns, lengths and per-step attributions."""
    rets, lens, nearest, dist, upside_down = [], [], [], [], []
    for i in range(num):
        obs, _ = env.reset(seed=SEED + i)
        key, ret, picks = jr.key(SEED + i), 0.0, []
        while True:
            x = jnp.asarray(obs, jnp.float32)[None]
            a = np.asarray(sgrl.act(agent.policy, x, method=acting, temperature=temperature,
                                    key=jr.fold_in(key, len(picks))))[0]
            d = distances(a, [np.asarray(p(x[0])) for p in (medium, expert)])
            upside_down.append(abs(float(obs[1])) > np.pi / 2)
            picks.append(int(np.argmin(d)))
            dist.append(float(d.min()))
            obs, r, terminated, truncated, _ = env.step(a)
            ret += float(r)
            if terminated or truncated:
                break
        rets.append(ret)
        lens.append(len(picks))
        nearest.append(np.asarray(picks))
    switches = [np.mean(p[1:] != p[:-1]) if len(p) > 1 else 0.0 for p in nearest]
    return {"return": np.mean(rets), "length": np.mean(lens),
            "expert_share": np.mean(np.concatenate(nearest)), "switch": np.mean(switches),
            "distance": np.mean(dist), "upside_down": np.mean(upside_down)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--policies", type=Path, required=True,
                        help="the committed policies of the environment (medium and expert)")
    parser.add_argument("--swg", type=float, default=10.0, help="SWG's ρ (default 10)")
    parser.add_argument("--episodes", type=int, default=5)
    parser.add_argument("--only", default=None, help="comma-separated first words of the "
                        "rows to run (bc, ddim, mlp, iql, swg), e.g. bc,swg")
    args = parser.parse_args(argv)
    jax.config.update("jax_platforms", "cpu")
    agent = sgrl.load_run(args.run_dir)
    data, _ = sgrl.load_run_data(args.run_dir)
    seed = int(json.loads((args.run_dir / "config.json").read_text())["seed"])
    medium, _ = load_behaviour_policy(args.policies, "medium")
    expert, _ = load_behaviour_policy(args.policies, "expert")
    medium, expert = (jax.jit(lambda s, p=p: p(s)) for p in (medium, expert))
    env = make_env(agent.task)
    rows = [("BC (diffusion, temperature 0)", lambda: method_from_name("bc_mixture", "bc"), 0.0),
            ("BC (diffusion, temperature 1)", lambda: method_from_name("bc_mixture", "bc"), 1.0),
            ("DDIM BC (diffusion, η = 0)", DDIMBC, 0.0),
            ("MLP BC (Gaussian actor, β = 0)", lambda: sgrl.IQL(mlp_bc(agent, data, seed)), 0.0),
            ("IQL (the run's actor)", lambda: sgrl.IQL(agent.actor), 0.0),
            (f"SWG ρ = {args.swg:g}",
             lambda: method_from_name("bc_mixture", "swg", scale=args.swg), 0.0),
            (f"SWG ρ = {args.swg:g}, temperature 1",
             lambda: method_from_name("bc_mixture", "swg", scale=args.swg), 1.0)]
    if args.only:
        rows = [r for r in rows if r[0].split(" ")[0].lower() in args.only.split(",")]
    print(f"{args.run_dir}: {len(data.observations):,} transitions; {args.episodes} episodes "
          "per method\n")
    idx = np.random.default_rng(0).choice(len(data.observations), 20_000, replace=False)
    s, a = jnp.asarray(data.observations[idx]), np.asarray(data.actions[idx])
    at_s = [np.asarray(jax.vmap(p)(s)) for p in (medium, expert)]
    d = distances(a, at_s)
    print(f"the data's own actions (20,000 drawn): nearer the expert {d.argmin(0).mean():.2f}, "
          f"distance to the nearer policy's action {d.min(0).mean():.3f}\n")
    # Does the run's critic prefer the expert's action where the data is? (In the critic's
    # units, those of the processed rewards, on the data's states and env-unit actions.)
    values = agent.policy.values
    q_med, q_exp = (np.asarray(jax.vmap(values.q)(s, jnp.asarray(p))) for p in at_s)
    q_data = np.asarray(jax.vmap(values.q)(s, jnp.asarray(a)))
    v = np.asarray(jax.vmap(values.v)(s))
    gap = q_exp - q_med
    print(f"the critic at those states: A(s, expert's action) {np.mean(q_exp - v):+.3f}, "
          f"A(s, medium's action) {np.mean(q_med - v):+.3f}, A(s, data's action) "
          f"{np.mean(q_data - v):+.3f}; Q(expert) − Q(medium) {gap.mean():+.3f} (SE "
          f"{gap.std() / np.sqrt(len(gap)):.3f}), > 0 at {np.mean(gap > 0):.2f} of the states; "
          f"std of A over the data's actions {np.std(q_data - v):.3f}\n")
    on_data = {}
    s2 = s[:2000]
    for name, make, temperature in rows:
        acting = make()
        a2 = np.asarray(sgrl.act(agent.policy, s2, method=acting, temperature=temperature,
                                 key=jr.key(1)))
        d2 = distances(a2, [p[:2000] for p in at_s])
        on_data[name] = (acting, f"{d2.argmin(0).mean():.2f}", f"{d2.min(0).mean():.3f}")
    print("At 2,000 of the data's states:\n\n| method | nearer the expert | distance to the "
          "nearer policy's action |\n|---|---|---|\n| the data's own actions | "
          f"{d.argmin(0)[:2000].mean():.2f} | {d.min(0)[:2000].mean():.3f} |")
    for name, (_, share, dist) in on_data.items():
        print(f"| {name} | {share} | {dist} |")
    print("\nIn episodes:\n")
    print("| method | return | normalised | length | steps nearer the expert | switches per "
          "step | distance to the nearer policy | steps upside down |")
    print("|---|---|---|---|---|---|---|---|")
    try:
        for name, _, temperature in rows:
            r = episodes(agent, env, on_data[name][0], temperature, medium, expert,
                         args.episodes)
            score = float(sgrl.normalized_score(r["return"], agent.task))
            print(f"| {name} | {r['return']:.0f} | {score:.1f} | "
                  f"{r['length']:.0f} | {r['expert_share']:.2f} | {r['switch']:.2f} | "
                  f"{r['distance']:.3f} | {r['upside_down']:.2f} |", flush=True)
    finally:
        env.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
