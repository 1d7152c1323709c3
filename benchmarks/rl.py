"""Offline-RL benchmark: BC, IQL, IDQL, SWG and SWG-R on the same data, critic and budget.

Two suites. `--suite pointmaze` (default): PointMaze UMaze and Medium, sparse and dense, in
D4RL's view (4-d observations, rewards for the evaluation goal; collected here by D4RL's
maze2d recipe from fixed seeds when missing); `--datasets door-human` adds D4RL's real
`door-human-v0` (Fu et al., 2020; demonstrations of Rajeswaran et al., 2018, DAPG; CC BY
4.0) from the shared data folder. `--suite locomotion`: Hopper, Walker2d and HalfCheetah ×
medium, medium-replay, medium-expert, the D4RL family rebuilt here by its recipe (SAC
behaviour policies in Gymnasium's `*-v5`; `benchmarks/build_locomotion.py`, or
`selfguide-rl behaviour ENV` then `selfguide-rl collect ENV-KIND`), read from
`--locomotion-dir` (a dataset not built yet is a note). For every dataset and seed one run
trains the values, IQL's actor (from those values) and ONE diffusion model over `[a, w]`:

- BC: the diffusion model unguided (the behaviour policy),
- IQL: the Gaussian actor by advantage-weighted regression (β per family, IQL paper),
- IDQL: N = 64 candidates from the behaviour model, the best by Q (`IDQL@1`: at IDQL's
  published candidate temperature 1; `IDQL`: at the temperature chosen on validation),
- SWG: self-weighted guidance; SWG-R: 16 guided candidates, the best by Q.

Protocol, fixed before the run: the guidance scale ρ and the upper clip of ŵ_0 are chosen
per run on *validation* episodes (environment seeds disjoint from the test seeds) among
ρ ∈ {1, 1.5, 2, 3, 10, 30} × clip ∈ {1, none}, by SWG's validation mean (ties: the smaller
ρ; 1.5 and 2 since protocol 3: on Hopper medium-expert the validation mean fell from 56 at
ρ = 1 to 10 at 3, and off-test episodes scored 73 ± 10 at 1, 85 ± 4 at 1.5 and 85 ± 5 at 2).
Since protocol 4, SWG's DDPM temperature is then chosen the same way, among {0, 0.5, 1} × the
ρ grid at the chosen clip (ties: the smaller ρ, then the lower temperature): on HalfCheetah
medium-replay the behaviour model at temperature 0 stands still (3.4) where at temperature
1 it moves as the data does (15.9), and IDQL, which validates its temperature, picked 0.5
or 1 on every seed. SWG-R uses the same choice. IDQL gets the same treatment for its own
knob, the candidates' DDPM temperature, chosen among {0, 0.5, 1} by its validation mean
(ties: the higher, IDQL's 1 first): a diffusion model trained at a CPU budget is not IDQL's
3M-step one, and argmax-Q over candidates drawn at temperature 1 from it picks the critic's
extrapolation errors.
Every method is then scored on fresh *test* episodes. SWG at the preset's fixed ρ = 10 with
each clip and IDQL at temperature 1 are reported beside them. Final checkpoints only.
Statistics at the level of seeds: mean ± standard error of the seed means, the paired
difference to BC with its seed-level standard error, and the IQM over (dataset, seed) runs
with a stratified bootstrap 95% interval.

    nice -n 19 python benchmarks/rl.py --jobs 2          # PointMaze, 5 seeds, 2 processes
    nice -n 19 python benchmarks/rl.py --quick --jobs 2  # UMaze dense, 2 seeds: ~10 min
    nice -n 19 python benchmarks/rl.py --suite locomotion --jobs 2          # 9 datasets
    nice -n 19 python benchmarks/rl.py --suite locomotion --quick --jobs 1  # Hopper m-r, 3 seeds
    python benchmarks/rl.py --suite locomotion --full --jobs 16  # the paper's budget (GPU)

Every (dataset, seed) run writes its own part file as it finishes (all five methods share
the run's critic and diffusion model, so the part holds every method's rows) and the tables
and plots are rebuilt from all parts, so an interrupted benchmark resumes where it stopped
(finished runs are skipped; an unfinished one resumes from its checkpoints).
"""

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import selfguide_rl as sgrl  # noqa: E402
from selfguide_rl._pipeline import atomic_write_text, write_csv  # noqa: E402

DOOR_FILE = ROOT.parent / "shared" / "data" / "d4rl_door-human-v0" / "door-v0_demos_clipped.hdf5"

# D4RL-view PointMaze tasks and their collection sizes (collection seed 0, 50 reference
# episodes per reference score).
POINTMAZE = {
    "pointmaze-umaze": 200_000,
    "pointmaze-umaze-dense": 200_000,
    "pointmaze-medium": 300_000,
    "pointmaze-medium-dense": 300_000,
}
# Published D4RL normalised scores for door-human-v0 (v0 data, original mujoco-py env):
# IQL paper (Kostrikov et al., 2022), Table 3: BC 2.0, CQL 9.9, IQL 4.3.
DOOR_PUBLISHED = {"BC (IQL paper)": 2.0, "CQL (IQL paper)": 9.9, "IQL (IQL paper)": 4.3}
VAL_SCALES = (1.0, 1.5, 2.0, 3.0, 10.0, 30.0)
VAL_CLIPS = (1.0, None)
FIXED_SCALE = 10.0
IDQL_VAL_TEMPERATURES = (0.0, 0.5, 1.0)
SWG_VAL_TEMPERATURES = (0.0, 0.5, 1.0)  # the first: (ρ, clip) are chosen at it
IDQL_PUBLISHED_TEMPERATURE = 1.0
COLUMNS = ("bc", "iql", "idql", "idql@1", "swg", "swg-r", "swg@10 clip 1", "swg@10 no clip")
# Parts written under an older protocol (1: IDQL at temperature 1 only; 2: ρ validated on
# {1, 3, 10, 30}; 3: SWG at temperature 0 only) are evaluated again from their runs'
# checkpoints (training not repeated).
PROTOCOL = 4
VALIDATION_SEED_OFFSET = 1000  # evaluation seed s -> environment seeds from (1000 + s) * 10^4
QUICK_DATASET = "pointmaze-umaze-dense"  # the CPU budget separates the methods there
# The D4RL locomotion family as built here (ids `selfguide/<env>/<kind>-v0`).
LOCOMOTION = tuple(f"{env}-{kind}" for env in ("hopper", "walker2d", "halfcheetah")
                   for kind in ("medium", "medium-replay", "medium-expert"))
QUICK_LOCOMOTION = "hopper-medium-replay"


def clip_label(clip: float | None) -> str:
    return "none" if clip is None else f"{clip:g}"


def ensure_pointmaze(root: Path, name: str, steps: int) -> str:
    task = sgrl.POINTMAZE_TASKS[name]
    dataset_id = task.default_dataset_id
    if not (root / dataset_id / "data").exists():
        print(f"collecting {name} ({steps:,} steps, seed 0) into {root}", flush=True)
        sgrl.collect_pointmaze(name, steps=steps, seed=0, root=root, ref_episodes=50,
                               overwrite=True)
    return dataset_id


def locomotion_dataset_id(name: str) -> str:
    """The Minari id `selfguide-rl collect` writes a locomotion dataset under, e.g.
    `hopper-medium-replay` → `selfguide/hopper/medium-replay-v0`."""
    env, kind = name.split("-", 1)
    return f"selfguide/{env}/{kind}-v0"


def suite(args) -> tuple[dict[str, tuple[str, str | None, Path]], list[str]]:
    """`{name: (source, dataset_id, minari_root)}` of the datasets to run, and notes on those
    missing."""
    notes: list[str] = []
    default = list(LOCOMOTION if args.suite == "locomotion" else POINTMAZE)
    if args.quick:
        default = [QUICK_LOCOMOTION if args.suite == "locomotion" else QUICK_DATASET]
    names = default if args.datasets is None else [
        d.strip() for d in args.datasets.split(",") if d.strip()]
    pointmaze_root = (args.work / "minari").resolve()
    locomotion_root = (args.locomotion_dir / "minari").resolve()
    out = {}
    for name in names:
        if name in POINTMAZE:
            out[name] = (sgrl.POINTMAZE_TASKS[name].default_dataset_id, None, pointmaze_root)
        elif name in LOCOMOTION:
            env = name.split("-", 1)[0]
            dataset_id = locomotion_dataset_id(name)
            if (locomotion_root / dataset_id / "data").exists():
                out[name] = (dataset_id, None, locomotion_root)
            else:
                notes.append(f"{name}: not built in {locomotion_root} (build it with "
                             f"`python benchmarks/build_locomotion.py --envs {env} "
                             f"--out {args.locomotion_dir} --policies-from "
                             f"benchmarks/results/locomotion`, or "
                             f"`selfguide-rl behaviour {env} --work-dir {args.locomotion_dir}` "
                             f"then `selfguide-rl collect {name} --work-dir "
                             f"{args.locomotion_dir} --out {locomotion_root}`)")
        elif name.startswith("door-human"):
            if DOOR_FILE.is_file():
                out["door-human-v0"] = (str(DOOR_FILE), "door-human-v0", pointmaze_root)
            else:
                notes.append(f"door-human-v0: file not found at {DOOR_FILE}")
        else:
            raise SystemExit(f"rl.py: unknown dataset {name!r}; expected one of "
                             f"{', '.join(POINTMAZE)}, {', '.join(LOCOMOTION)}, door-human")
    return out, notes


def part_path(out: Path, name: str, seed: int) -> Path:
    return out / "parts" / f"{name}__seed{seed}.json"


def part_is_current(out: Path, name: str, seed: int) -> bool:
    """A finished part of this protocol (an older one is evaluated again)."""
    path = part_path(out, name, seed)
    return path.exists() and json.loads(path.read_text()).get("protocol", 1) >= PROTOCOL


def choose_guidance(validation: dict[str, float]) -> tuple[float, float | None]:
    """The (ρ, clip) with the best SWG validation mean; ties: the smaller ρ."""
    best = max(validation.items(), key=lambda kv: (kv[1], -float(kv[0].split("|")[0])))[0]
    scale_txt, clip_txt = best.split("|")
    return float(scale_txt), None if clip_txt == "none" else float(clip_txt)


def choose_swg_temperature(validation: dict[str, float]) -> tuple[float, float]:
    """The (ρ, temperature) with the best SWG validation mean (keys `"ρ|T"`); ties: the
    smaller ρ, then the lower temperature."""
    def order(kv):
        scale, temp = (float(v) for v in kv[0].split("|"))
        return kv[1], -scale, -temp
    scale_txt, temp_txt = max(validation.items(), key=order)[0].split("|")
    return float(scale_txt), float(temp_txt)


def choose_idql_temperature(validation: dict[str, float]) -> float:
    """IDQL's candidate temperature with the best validation mean; ties: the higher."""
    return float(max(validation.items(), key=lambda kv: (kv[1], float(kv[0])))[0])


def run_group(args, name: str, source: str, dataset_id: str | None, seeds: list[int],
              overrides: dict, minari_root: Path) -> list[dict]:
    """Train the (dataset, seed) runs of `seeds` (one by one, or with `--together` in one
    program), choose ρ and the clip per seed on validation episodes, score every method on
    test episodes; all seeds' episodes of a method step together. Returns the parts."""
    t0 = time.perf_counter()
    if name in POINTMAZE:
        ensure_pointmaze(minari_root, name, POINTMAZE[name])
    if args.together:
        agents = sgrl.train_runs(source, args.work / "runs" / name, seeds=tuple(seeds),
                                 dataset_id=dataset_id, full=args.full, overrides=overrides,
                                 root=minari_root, progress=False)
    else:
        agents = [sgrl.train_run(source, args.work / "runs" / name / f"seed{seed}", seed=seed,
                                 dataset_id=dataset_id, full=args.full, overrides=overrides,
                                 root=minari_root, progress=False) for seed in seeds]
    train_s = (time.perf_counter() - t0) / len(seeds)

    # Validation: SWG over the grid, on environment seeds no test episode uses; each sweep's
    # settings step together (one sampler call per step for all of a seed's settings).
    t1 = time.perf_counter()
    val = dict(seeds=tuple(VALIDATION_SEED_OFFSET + s for s in seeds),
               episodes=args.val_episodes, record=False)
    validation = [{f"{r.scale:g}|{clip_label(r.clip_max)}": r.mean for r in results}
                  for results in sgrl.evaluate_agents(agents, methods=("swg",),
                                                      scales=VAL_SCALES, clips=VAL_CLIPS,
                                                      **val)]
    chosen_at_0 = [choose_guidance(v) for v in validation]
    # SWG's DDPM temperature, at each seed's chosen clip, over the ρ grid.
    temperature_validation = [{f"{s:g}|0": v[f"{s:g}|{clip_label(c)}"] for s in VAL_SCALES}
                              for v, (_, c) in zip(validation, chosen_at_0, strict=True)]
    at_chosen_clip = [_with_clip(a, c) for a, (_, c) in zip(agents, chosen_at_0, strict=True)]
    for v, results in zip(temperature_validation, sgrl.evaluate_agents(
            at_chosen_clip, methods=("swg",), scales=VAL_SCALES,
            temperature=SWG_VAL_TEMPERATURES[1:], **val), strict=True):
        v.update({f"{r.scale:g}|{r.temperature:g}": r.mean for r in results})
    picks = [choose_swg_temperature(v) for v in temperature_validation]
    chosen = [(scale, clip) for (scale, _), (_, clip) in zip(picks, chosen_at_0, strict=True)]
    swg_temps = [temp for _, temp in picks]
    # IDQL's candidate temperature, on the same validation episodes.
    idql_validation = [{f"{r.temperature:g}": r.mean for r in results}
                       for results in sgrl.evaluate_agents(
                           agents, methods=("idql",), idql_temperature=IDQL_VAL_TEMPERATURES,
                           **val)]
    idql_chosen = [choose_idql_temperature(v) for v in idql_validation]
    val_s = (time.perf_counter() - t1) / len(seeds)

    # Test: every method on fresh episodes (environment seeds seed * 10^4 + i).
    t2 = time.perf_counter()
    rows = [[] for _ in seeds]

    def add(label: str, per_seed, at=None, **extra) -> None:
        """Rows of `per_seed`'s results for the seeds at indices `at` (default: all)."""
        for k, results in zip(range(len(seeds)) if at is None else at, per_seed, strict=True):
            rows[k] += [{"dataset": name, "method": label, "seed": seeds[k], "scale": r.scale,
                         **extra, "scores": r.scores.tolist(), "returns": r.returns.tolist(),
                         "eval_seconds": r.seconds} for r in results]

    test_seeds = tuple(seeds)
    for method in ("bc", "iql"):
        add(method, sgrl.evaluate_agents(agents, methods=(method,), seeds=test_seeds,
                                         episodes=args.episodes))
    add("idql", sgrl.evaluate_agents(   # each seed at its own validated temperature
        [dataclasses.replace(a, preset=a.preset.replace(idql_temperature=t))
         for a, t in zip(agents, idql_chosen, strict=True)],
        methods=("idql",), seeds=test_seeds, episodes=args.episodes))
    add("idql@1", sgrl.evaluate_agents(agents, methods=("idql",), seeds=test_seeds,
                                       idql_temperature=IDQL_PUBLISHED_TEMPERATURE,
                                       episodes=args.episodes))
    picked = [_with_clip(a, clip, scale) for a, (scale, clip) in zip(agents, chosen,
                                                                     strict=True)]
    for method in ("swg", "swg-r"):  # each seed at its own validated (ρ, clip, temperature)
        for temp in sorted(set(swg_temps)):
            at = [k for k, t in enumerate(swg_temps) if t == temp]
            add(method, sgrl.evaluate_agents(
                [picked[k] for k in at], methods=(method,), temperature=temp,
                seeds=tuple(test_seeds[k] for k in at), episodes=args.episodes),
                at=at, temperature=temp)
    fixed = sgrl.evaluate_agents(agents, methods=("swg",), scales=(FIXED_SCALE,),
                                 clips=VAL_CLIPS, seeds=test_seeds, episodes=args.episodes)
    for j, clip_fixed in enumerate(VAL_CLIPS):
        add(f"swg@10 {'no clip' if clip_fixed is None else 'clip 1'}",
            [[results[j]] for results in fixed])
    test_s = (time.perf_counter() - t2) / len(seeds)

    states = _dataset_states(source, dataset_id, minari_root)
    parts = []
    for k, (agent, seed, (scale, clip), temp) in enumerate(zip(agents, seeds, chosen, swg_temps,
                                                               strict=True)):
        earlier = part_path(args.out, name, seed)  # an older protocol's part: its training
        trained = (json.loads(earlier.read_text())["train_seconds"] if earlier.exists()
                   else train_s)
        # How often each clip of ŵ_0 binds along SWG's sampling path, on dataset states.
        # Keys "ρ|clip", with "|T" for the chosen ρ at a temperature other than 0.
        shares = {f"{s_c:g}|{clip_label(clip_c)}" + (f"|{t_c:g}" if t_c else ""):
                  _clip_shares(agent, states, s_c, clip_c, seed, t_c)
                  for clip_c in VAL_CLIPS for s_c, t_c in ((scale, temp), (FIXED_SCALE, 0.0))}
        parts.append({
            "dataset": name, "seed": seed, "rows": rows[k], "budget": _budget(args, agent),
            "protocol": PROTOCOL,
            "chosen": {"scale": scale, "clip": clip_label(clip), "temperature": temp},
            "validation": validation[k], "temperature_validation": temperature_validation[k],
            "idql_chosen": idql_chosen[k], "idql_validation": idql_validation[k],
            "clip_shares": shares, "train_seconds": trained, "validation_seconds": val_s,
            "test_seconds": test_s, "trained_together": bool(args.together),
            "weights": {key: round(v, 4) for key, v in agent.weight_stats.items()
                        if key != "train_seconds_this_call"}})
    return parts


def _budget(args, agent) -> dict:
    p = agent.preset
    return {
        "preset": p.name, "tau": p.values.tau, "weight": p.weight, "iql_beta": p.actor.beta,
        "idql": f"N {p.idql_candidates}, temperature from {IDQL_VAL_TEMPERATURES} "
                f"(published {IDQL_PUBLISHED_TEMPERATURE:g})",
        "swg_r_candidates": p.num_candidates,
        "value_steps": p.values.steps, "value_batch": p.values.batch_size,
        "actor_steps": p.actor.steps, "diffusion_steps": p.policy.steps,
        "diffusion_batch": p.policy.batch_size,
        "network": f"LN-ResNet width {p.policy.width}, {p.policy.num_blocks} blocks x"
                   f"{p.policy.expansion}, weight head after block {p.policy.weight_head_at}",
        "T": p.policy.diffusion_steps,
        "episodes": args.episodes, "val_episodes": args.val_episodes,
    }


def _with_clip(agent, clip, scale=None):
    changes = {"clip_max": clip} | ({} if scale is None else {"guidance_scale": scale})
    return dataclasses.replace(agent, preset=agent.preset.replace(**changes))


def _dataset_states(source, dataset_id, minari_root, num: int = 256):
    data, _ = sgrl.load_dataset(source, dataset_id=dataset_id, root=minari_root)
    idx = np.random.default_rng(0).choice(len(data), size=min(num, len(data)), replace=False)
    return np.asarray(data.observations)[np.sort(idx)]


def _clip_shares(agent, states, scale, clip, seed, temperature=0.0) -> dict:
    import jax.numpy as jnp
    import jax.random as jr

    import selfguide as sg

    policy = agent.policy
    guidance = sg.SelfWeightedGuidance(scale, clip_min=1e-4,
                                       clip_max=np.inf if clip is None else clip)
    sampler = sg.DDPMSampler(temperature=temperature, clip_data=(-1.0, 1.0),
                             clip_weight=(1e-4, 1.0))
    c = sg.clip_shares(policy.model, policy.schedule, guidance, key=jr.key(seed),
                       cond=jnp.asarray(states), sampler=sampler)
    return {"below": float(c.below), "above": float(c.above)}


def summarise(rows: list[dict]) -> dict:
    """Per dataset and method: seed-level mean ± SE and the paired difference to BC."""
    out: dict = {}
    for r in rows:
        out.setdefault(r["dataset"], {}).setdefault(r["method"], {})[r["seed"]] = r["scores"]
    table = {}
    for ds, by_method in out.items():
        table[ds] = {}
        bc = by_method.get("bc", {})
        for m, scores in by_method.items():
            summary = sgrl.seed_summary(scores)
            entry = {"mean": summary.mean, "se": summary.stderr, "seeds": sorted(scores),
                     "per_seed": [summary.seed_means[s] for s in sorted(scores)],
                     "episodes": int(sum(len(v) for v in scores.values()))}
            if bc and m != "bc" and set(bc) & set(scores):
                diff = sgrl.paired_difference(scores, bc)
                entry.update(minus_bc=diff.mean, minus_bc_se=diff.stderr,
                             minus_bc_n=diff.seeds)
            table[ds][m] = entry
    return table


def mean_se(mean: float, se: float) -> str:
    return f"{mean:.1f}" if not np.isfinite(se) else f"{mean:.1f} ± {se:.1f}"


def interval95(mean: float, se: float, n: int) -> str:
    from scipy import stats

    if n < 2 or not np.isfinite(se):
        return "–"
    half = stats.t.ppf(0.975, n - 1) * se
    return f"[{mean - half:.1f}, {mean + half:.1f}]"


def idql_cell(part: dict) -> str:
    """The chosen IDQL temperature and its validation means (older parts: the published 1)."""
    if "idql_chosen" not in part:
        return f"{IDQL_PUBLISHED_TEMPERATURE:g} (not validated)"
    means = ", ".join(f"{part['idql_validation'][f'{t:g}']:.1f}" for t in IDQL_VAL_TEMPERATURES)
    return f"{part['idql_chosen']:g} ({means})"


def write_results(out: Path) -> None:
    """Rebuild every table from the part files."""
    parts = [json.loads(f.read_text()) for f in sorted((out / "parts").glob("*__seed*.json"))]
    notes_file = out / "notes.json"
    notes = json.loads(notes_file.read_text()) if notes_file.exists() else []
    # An older protocol's IDQL row is IDQL at its published temperature.
    rows = [r | {"method": "idql@1"} if r["method"] == "idql" and p.get("protocol", 1) < 2
            else r for p in parts for r in p["rows"]]
    table = summarise(rows)
    methods = [m for m in COLUMNS if any(m in t for t in table.values())]
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.platform()}"
    meta_file = out / "meta.json"
    meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
    lines = [
        "# Offline RL: BC, IQL, IDQL, SWG, SWG-R",
        "",
        f"Command: `{meta.get('command', 'python benchmarks/rl.py')}`.",
        f"Machine: {machine}. {len(parts)} (dataset, seed) runs; "
        f"training {sum(p['train_seconds'] for p in parts) / 60:.0f} min, evaluation "
        f"{sum(p['validation_seconds'] + p['test_seconds'] for p in parts) / 60:.0f} min of "
        "process time in all.",
        "",
        "Normalised test score (0: random policy, 100: the dataset's expert; for the local "
        "PointMaze datasets the noise-free waypoint controller, for the locomotion datasets "
        "built here the SAC expert policy): mean over seeds of each "
        "seed's mean test-episode score ± the standard error of the seed means. SWG and "
        "SWG-R use the ρ, clip and (since protocol 4) DDPM temperature chosen on validation "
        "episodes; `SWG@10` is the preset's "
        "fixed ρ = 10 with the upper clip of ŵ_0 at 1 (the previous default) or none. IDQL "
        "uses the candidate temperature chosen on validation episodes, `IDQL@1` IDQL's "
        "published temperature 1.",
        "",
        "| dataset | " + " | ".join(m.upper() for m in methods) + " | seeds × episodes |",
        "|---|" + "---|" * (len(methods) + 1),
    ]
    for ds, by_method in table.items():
        cells = [mean_se(by_method[m]["mean"], by_method[m]["se"]) if m in by_method else "–"
                 for m in methods]
        bc = by_method.get("bc") or next(iter(by_method.values()))
        lines.append(f"| {ds} | " + " | ".join(cells)
                     + f" | {len(bc['seeds'])} × {bc['episodes'] // len(bc['seeds'])} |")
    lines += ["", "## Difference to BC, paired by seed", "",
              "Mean ± seed-level SE, and the 95% interval (Student t over the seeds).", "",
              "| dataset | " + " | ".join(m.upper() for m in methods if m != "bc") + " |",
              "|---|" + "---|" * (len(methods) - 1)]
    for ds, by_method in table.items():
        cells = []
        for m in methods:
            if m == "bc":
                continue
            t = by_method.get(m, {})
            cells.append("–" if "minus_bc" not in t else
                         f"{mean_se(t['minus_bc'], t['minus_bc_se'])} "
                         f"{interval95(t['minus_bc'], t['minus_bc_se'], t['minus_bc_n'])}")
        lines.append(f"| {ds} | " + " | ".join(cells) + " |")
    # Paired differences that the targets and the clip choice read.
    pairs = (("swg", "idql"), ("swg", "iql"), ("swg-r", "swg"), ("idql", "idql@1"),
             ("swg@10 no clip", "swg@10 clip 1"))
    by_seed: dict = {}
    for r in rows:
        by_seed.setdefault((r["dataset"], r["method"]), {})[r["seed"]] = r["scores"]
    lines += ["", "## Other paired differences", "",
              "Mean ± seed-level SE of the difference, paired by seed. The last column is the "
              "upper clip's effect at the fixed ρ = 10 (none minus 1).", "",
              "| dataset | " + " | ".join(f"{a.upper()} − {b.upper()}" for a, b in pairs) + " |",
              "|---|" + "---|" * len(pairs)]
    for ds in table:
        cells = []
        for a, b in pairs:
            if (ds, a) in by_seed and (ds, b) in by_seed:
                d = sgrl.paired_difference(by_seed[(ds, a)], by_seed[(ds, b)])
                cells.append(mean_se(d.mean, d.stderr))
            else:
                cells.append("–")
        lines.append(f"| {ds} | " + " | ".join(cells) + " |")
    iqm_rows, iqm_points = [], {}
    for m in methods:
        per_ds = {ds: bm[m]["per_seed"] for ds, bm in table.items() if m in bm}
        runs = sum(len(v) for v in per_ds.values())
        if per_ds and all(len(v) >= 2 for v in per_ds.values()):
            iqm, lo, hi = sgrl.iqm_interval(per_ds)
            iqm_rows.append(f"| {m.upper()} | {iqm:.1f} | [{lo:.1f}, {hi:.1f}] | {runs} |")
            iqm_points[m] = (iqm, lo, hi)
        elif per_ds:  # the stratified bootstrap resamples each dataset's runs: ≥ 2 each
            iqm = sgrl.interquartile_mean([x for v in per_ds.values() for x in v])
            iqm_rows.append(f"| {m.upper()} | {iqm:.1f} | – (a dataset has one run) | {runs} |")
    lines += ["", "## IQM over all (dataset, seed) runs", "",
              "Interquartile mean of the run scores (one per dataset and seed), with a "
              "stratified bootstrap 95% interval (datasets resampled separately; "
              "`scipy.stats.bootstrap`, 2,000 resamples).", "",
              "| method | IQM | 95% interval | runs |", "|---|---|---|---|", *iqm_rows]
    lines += ["", "## Guidance chosen on validation episodes, and how often the clip binds",
              "", "Per run: the (ρ, clip, DDPM temperature) with the best SWG validation "
              "mean (parts of protocol 3 and older: temperature 0, not validated); the share "
              "of guided evaluations (all steps and states of the sampler's path, 256 dataset "
              "states) where ŵ_0 reaches the upper clip (gradient zero) or the lower one.", "",
              "| dataset | seed | chosen ρ, clip, T | validation mean at it | upper-clip share "
              "at ρ = 10 (clip 1) | lower-clip share at ρ = 10 (clip 1) | IDQL temperature "
              "(validation means at 0, 0.5, 1) |",
              "|---|---|---|---|---|---|---|"]
    for p in parts:
        ch = p["chosen"]
        temp = ch.get("temperature", 0.0)
        at_chosen = (p["temperature_validation"][f"{ch['scale']:g}|{temp:g}"]
                     if "temperature_validation" in p
                     else p["validation"][f"{ch['scale']:g}|{ch['clip']}"])
        s10 = p["clip_shares"].get("10|1", {})
        lines.append(f"| {p['dataset']} | {p['seed']} | {ch['scale']:g}, {ch['clip']}, "
                     f"{temp:g}{'' if 'temperature' in ch else ' (not validated)'} | "
                     f"{at_chosen:.1f} | {s10.get('above', float('nan')):.3f} | "
                     f"{s10.get('below', float('nan')):.3f} | {idql_cell(p)} |")
    lines += ["", "## Budgets", "", "| dataset | settings |", "|---|---|"]
    for ds in table:
        b = next(p["budget"] for p in parts if p["dataset"] == ds)
        lines.append(f"| {ds} | " + "; ".join(f"{k} {v}" for k, v in b.items()) + " |")
    lines += ["", "Value networks: twin Q and V, MLP 256-256, Adam 3e-4, γ 0.99, Polyak 0.005. "
              "IQL actor: MLP 256-256, tanh mean, state-independent log σ, Adam 3e-4 with cosine "
              "decay, exp(βA) clipped at 100, acting with the mean. Diffusion: AdamW 3e-4 cosine, "
              "EMA 0.999, DDPM at temperature 0 (IDQL's candidates, and SWG and SWG-R since "
              "protocol 4: as validated), actions clipped to [-1, 1]. Evaluation: parallel "
              "episodes (SyncVectorEnv), one batched action call per step.", ""]
    for ds, by_method in table.items():
        lines += [f"## {ds}", "", "| method | score | − BC (paired) | per-seed means |",
                  "|---|---|---|---|"]
        for m in methods:
            if m in by_method:
                t = by_method[m]
                vs = mean_se(t["minus_bc"], t["minus_bc_se"]) if "minus_bc" in t else "–"
                lines.append(f"| {m.upper()} | {mean_se(t['mean'], t['se'])} | {vs} | "
                             + ", ".join(f"{x:.1f}" for x in t["per_seed"]) + " |")
        if ds.startswith("door"):
            lines += ["", "Published (door-human-v0, original D4RL environment): "
                      + ", ".join(f"{k} {v}" for k, v in DOOR_PUBLISHED.items()) + "."]
        lines += ["", "Advantages per seed: " + "; ".join(
            f"seed {p['seed']}: A>0 {p['weights']['frac_adv_pos']:.3f}, "
            f"A std {p['weights']['adv_std']:.3f}" for p in parts if p["dataset"] == ds), ""]
    if notes:
        lines += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    out.mkdir(parents=True, exist_ok=True)
    try:  # the plots are a view of the tables; a plotting failure must not lose them
        plot_results(out, table, iqm_points)
        lines += ["## Plots", "", "![per dataset](scores.png)", "",
                  "![IQM over runs](iqm.png)", ""]
    except Exception as err:  # noqa: BLE001
        print(f"plots not drawn ({type(err).__name__}: {err})", flush=True)
    atomic_write_text(out / "results.md", "\n".join(lines))
    flat = [{"dataset": d, "method": m, **{k: v for k, v in t.items() if k != "per_seed"},
             "per_seed": " ".join(f"{x:.2f}" for x in t["per_seed"])}
            for d, bm in table.items() for m, t in bm.items()]
    write_csv(out / "results.csv", ("dataset", "method", "mean", "se", "minus_bc", "minus_bc_se",
                                    "episodes", "seeds", "per_seed"), flat)
    atomic_write_text(out / "results.json", json.dumps(
        {"meta": meta, "machine": machine, "table": table, "notes": notes,
         "runs": [{k: v for k, v in p.items() if k != "rows"} for p in parts],
         "door_published": DOOR_PUBLISHED}, indent=1, default=float))


PLOTTED = ("bc", "iql", "idql", "swg", "swg-r")


def plot_results(out: Path, table: dict, iqm_points: dict) -> None:
    """`scores.png`: per dataset, each method's seed-level mean with its 95% interval
    (Student t over the seeds); `iqm.png`: the IQM over all runs with its stratified bootstrap
    95% interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy import stats

    methods = [m for m in PLOTTED if any(m in t for t in table.values())]
    shades = ("0.6", "tab:orange", "tab:green", "tab:blue", "tab:purple")
    colors = dict(zip(PLOTTED, shades, strict=True))
    datasets = list(table)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(datasets) * len(methods) / 4), 3.6))
    width = 0.8 / max(len(methods), 1)
    for j, m in enumerate(methods):
        xs, ys, errs = [], [], []
        for i, ds in enumerate(datasets):
            t = table[ds].get(m)
            if t is None:
                continue
            n = len(t["per_seed"])
            half = stats.t.ppf(0.975, n - 1) * t["se"] if n >= 2 else 0.0
            xs.append(i + (j - (len(methods) - 1) / 2) * width)
            ys.append(t["mean"])
            errs.append(half)
        ax.bar(xs, ys, width, yerr=errs, capsize=2, color=colors[m], label=m.upper())
    ax.set_xticks(range(len(datasets)), datasets, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("normalised score")
    ax.axhline(0, color="k", lw=0.5)
    ax.legend(fontsize=7, ncol=len(methods), loc="upper left")
    ax.set_title("mean over seeds, 95% interval of the seed means", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "scores.png", dpi=130)
    plt.close(fig)
    if not iqm_points:
        return
    shown = [m for m in methods if m in iqm_points]
    fig, ax = plt.subplots(figsize=(5.0, 0.45 * len(shown) + 1.0))
    for i, m in enumerate(shown):
        iqm, lo, hi = iqm_points[m]
        ax.plot([lo, hi], [i, i], color=colors[m], lw=6, alpha=0.5, solid_capstyle="butt")
        ax.plot([iqm], [i], "|", color="k", ms=14)
    ax.set_yticks(range(len(shown)), [m.upper() for m in shown])
    ax.set_xlabel("IQM of normalised score (stratified bootstrap 95% interval)")
    fig.tight_layout()
    fig.savefig(out / "iqm.png", dpi=130)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=None, help="seeds 0..K-1 (default 5)")
    parser.add_argument("--episodes", type=int, default=None,
                        help="test episodes per seed (default 10)")
    parser.add_argument("--val-episodes", type=int, default=None,
                        help="validation episodes per seed and (ρ, clip) (default 5)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="processes running (dataset, seed) runs side by side, each run in a "
                        "fresh process")
    parser.add_argument("--suite", choices=("pointmaze", "locomotion"), default="pointmaze",
                        help="the datasets (default pointmaze)")
    parser.add_argument("--quick", action="store_true",
                        help="pointmaze: UMaze dense only, 2 seeds, 5 test and 3 validation "
                             "episodes (about ten minutes with --jobs 2); locomotion: Hopper "
                             "medium-replay only, 3 seeds, 5 test and 3 validation episodes. "
                             "Written to benchmarks/results/<suite folder>-quick")
    parser.add_argument("--full", action="store_true",
                        help="the paper's budget (500k value steps, 1M diffusion steps at "
                             "batch 1024, T = 15, the reference network): for a GPU machine")
    parser.add_argument("--together", action="store_true",
                        help="train each dataset's seeds side by side in one compiled program "
                             "(train_runs): for an accelerator, where one run leaves it idle")
    parser.add_argument("--datasets", default=None,
                        help="comma-separated subset: " + ", ".join((*POINTMAZE, *LOCOMOTION))
                        + ", door-human")
    parser.add_argument("--locomotion-dir", type=Path, default=ROOT / "runs" / "locomotion",
                        help="where the locomotion build lives (its datasets in <dir>/minari)")
    parser.add_argument("--work", type=Path, default=None,
                        help="run directories (default runs/rl-bench, runs/rl-locomotion)")
    parser.add_argument("--out", type=Path, default=None,
                        help="results folder (default benchmarks/results/rl or rl_locomotion)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="FIELD=VALUE", help="preset override for every run")
    parser.add_argument("--report-only", action="store_true",
                        help="rebuild the tables from the finished parts and exit")
    parser.add_argument("--runs", default=None, help=argparse.SUPPRESS)  # a worker's share
    args = parser.parse_args(argv)
    locomotion = args.suite == "locomotion"
    args.seeds = args.seeds or ((3 if locomotion else 2) if args.quick else 5)
    args.episodes = args.episodes or (5 if args.quick else 10)
    args.val_episodes = args.val_episodes or (3 if args.quick else 5)
    suffix = ("-quick" if args.quick else "") + ("-full" if args.full else "")
    folder = "rl_locomotion" if locomotion else "rl"
    args.out = args.out or ROOT / "benchmarks" / "results" / (folder + suffix)
    if args.work is None:
        args.work = ROOT / "runs" / (("rl-locomotion" if locomotion else "rl-bench") + suffix)
    if args.report_only:
        write_results(args.out)
        return 0
    # Every (dataset, seed) run is a fresh process (see run_workers) compiling the same
    # programs: JAX's persistent cache lets all but the first load them from disk.
    jax.config.update("jax_compilation_cache_dir", str((args.work / "jax-cache").resolve()))
    overrides = {}
    for text in args.overrides:
        k, v = text.split("=", 1)
        overrides[k] = json.loads(v)
    datasets, notes = suite(args)

    if args.runs is not None:  # a worker: run its share, write parts
        for item in args.runs.split(","):
            name, seeds = item.rsplit(":", 1)
            _run_items(args, name, datasets[name], [int(s) for s in seeds.split("+")],
                       overrides)
        return 0

    given = list(argv if argv is not None else sys.argv[1:])
    atomic_write_text(args.out / "meta.json", json.dumps(
        {"command": " ".join(["nice -n 19 python benchmarks/rl.py", *given]),
         "seeds": args.seeds, "episodes": args.episodes, "val_episodes": args.val_episodes,
         "validation_grid": {"scales": VAL_SCALES, "clips": [clip_label(c) for c in VAL_CLIPS],
                             "swg_temperatures": SWG_VAL_TEMPERATURES},
         "protocol": PROTOCOL,
         "overrides": overrides}, indent=1))
    atomic_write_text(args.out / "notes.json", json.dumps(notes))
    for name in datasets:  # collect before the workers start, so they do not race
        if name in POINTMAZE:
            try:
                ensure_pointmaze(datasets[name][2], name, POINTMAZE[name])
            except Exception as err:  # noqa: BLE001  (a note, and the suite goes on)
                _note(args.out, f"{name}: could not be collected ({type(err).__name__}: "
                                f"{str(err)[:200]})")
    pending = [(n, [s]) for s in range(args.seeds) for n in datasets
               if not part_is_current(args.out, n, s)]
    print(f"{len(pending)} (dataset, seed) runs to do with {args.jobs} process(es)"
          + (", each dataset's seeds trained together" if args.together else ""), flush=True)
    if args.together:  # one item per dataset: its pending seeds
        pending = [(n, [s for m, (s,) in pending if m == n])
                   for n in datasets if any(m == n for m, _ in pending)]
    if args.jobs <= 1 and len(pending) <= 1:
        for name, seeds in pending:
            _run_items(args, name, datasets[name], seeds, overrides)
    else:
        base = [sys.executable, str(Path(__file__).resolve()), *given]
        if "--jobs" in given:
            i = given.index("--jobs")
            base = [sys.executable, str(Path(__file__).resolve()), *given[:i], *given[i + 2:]]
        codes = run_workers(base, pending, max(args.jobs, 1))
        if any(codes):
            print(f"workers exited with {codes}", flush=True)
    write_results(args.out)
    return 0


def run_workers(base: list[str], pending: list[tuple[str, list[int]]], jobs: int,
                poll_seconds: float = 2.0) -> list[int]:
    """Each pending (dataset, seeds) item in a fresh worker process (`base --runs
    name:seeds`), `jobs` at a time; returns their exit codes in the order they finished.
    One process per part, not per share: a process that evaluated eight HalfCheetah parts
    in a row failed to compile its next program ("LLVM compilation error: Cannot allocate
    memory", then a segfault) with 21 GiB free; a worker's memory maps grow with every
    program it compiles (about 1,900 at the start of a part, 4,400 during its evaluation),
    toward the kernel's `vm.max_map_count` (65,530 here)."""
    queue, running, codes = list(pending), [], []
    while queue or running:
        while queue and len(running) < jobs:
            name, seeds = queue.pop(0)
            running.append(subprocess.Popen(
                [*base, "--runs", f"{name}:{'+'.join(map(str, seeds))}"]))
        finished = [p for p in running if p.poll() is not None]
        for p in finished:
            running.remove(p)
            codes.append(p.returncode)
        if not finished:
            time.sleep(poll_seconds)
    return codes


def _run_items(args, name, spec, seeds, overrides) -> None:
    """Run the (dataset, seed) runs of `seeds` together (`run_group`) and save each part; a
    dataset or environment that fails is a note, and the suite goes on."""
    source, dataset_id, minari_root = spec
    started = time.perf_counter()
    try:
        parts = run_group(args, name, source, dataset_id, seeds, overrides, minari_root)
    except Exception as err:  # noqa: BLE001  (report and go on)
        _note(args.out, f"{name} seed {'+'.join(map(str, seeds))}: failed "
                        f"({type(err).__name__}: {str(err)[:200]})")
        return
    for part in parts:
        atomic_write_text(part_path(args.out, name, part["seed"]),
                          json.dumps(part, default=float))
    try:  # the parts are safe; a table that cannot be built must not stop the suite
        write_results(args.out)
    except Exception as err:  # noqa: BLE001
        print(f"tables not rebuilt ({type(err).__name__}: {err}); the parts are kept",
              flush=True)
    for part in parts:
        means = {r["method"]: float(np.mean(r["scores"])) for r in part["rows"]}
        print(f"[{(time.perf_counter() - started) / 60:5.1f} min] {name} seed {part['seed']}: "
              + ", ".join(f"{m} {v:.1f}" for m, v in means.items())
              + f" (ρ {part['chosen']['scale']:g}, clip {part['chosen']['clip']}, "
              f"T {part['chosen'].get('temperature', 0.0):g}; "
              f"train {part['train_seconds']:.0f} s)", flush=True)


def _note(out: Path, note: str) -> None:
    notes_file = out / "notes.json"
    notes = json.loads(notes_file.read_text()) if notes_file.exists() else []
    if note not in notes:
        atomic_write_text(notes_file, json.dumps([*notes, note]))
    print(note, flush=True)


if __name__ == "__main__":
    sys.exit(main())
