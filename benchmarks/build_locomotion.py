"""Build the locomotion family: SAC behaviour policies and the five datasets of Hopper,
HalfCheetah and Walker2d, all environments side by side.

    python benchmarks/build_locomotion.py --jobs 3               # D4RL's sizes (1M SAC steps)
    python benchmarks/build_locomotion.py --policies-from benchmarks/results/locomotion
    python benchmarks/build_locomotion.py --sac-steps 1000 --steps 300 --out /tmp/loco  # smoke

Stage 1 runs `selfguide-rl behaviour ENV` for each environment in its own process (CPU,
one thread pool each: the networks are too small for an accelerator to pay); stage 2 runs
`selfguide-rl collect ENV-KIND` for the fifteen datasets, `--jobs` at a time. With
`--policies-from DIR`, an environment whose policies are committed in `DIR/<env>/policies`
skips stage 1 and is collected from them (its medium-replay reruns SAC to the medium step).
Both stages resume: a finished SAC run or dataset is kept (the SAC runs checkpoint every
50k steps; `--force` rebuilds the datasets). Each process's output goes to `<out>/logs/`; a
summary with the policies' returns, the datasets' sizes and reference scores, and the wall
times is written to `<out>/summary.json` and printed.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ENVS = ("hopper", "halfcheetah", "walker2d")
KINDS = ("random", "medium", "expert", "medium-replay", "medium-expert")


def _run_all(commands: list[tuple[str, list[str]]], jobs: int, logs: Path,
             env: dict) -> dict[str, dict]:
    """Run `(name, argv)` commands, `jobs` at a time; `{name: {code, seconds}}`."""
    pending, running, done = list(commands), {}, {}
    while pending or running:
        while pending and len(running) < jobs:
            name, argv = pending.pop(0)
            log = (logs / f"{name}.log").open("w")
            running[name] = (subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                              env=env), time.perf_counter(), log)
        for name, (proc, start, log) in list(running.items()):
            if proc.poll() is not None:
                log.close()
                done[name] = {"code": proc.returncode, "seconds": time.perf_counter() - start}
                print(f"{name}: exit {proc.returncode} after {done[name]['seconds']:.0f} s",
                      flush=True)
                del running[name]
        time.sleep(1.0)
    return done


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "locomotion")
    parser.add_argument("--envs", default=",".join(ENVS))
    parser.add_argument("--sac-steps", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=None,
                        help="transitions per dataset (default D4RL's 1M)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--policies-from", type=Path, default=None,
                        help="use the policies kept in DIR/<env>/policies where they exist")
    parser.add_argument("--ref-episodes", type=int, default=100,
                        help="episodes per reference score (default 100, as Minari)")
    parser.add_argument("--force", action="store_true", help="rebuild existing datasets")
    parser.add_argument("--keep", type=Path, default=None,
                        help="copy each newly trained environment's policies, SAC evaluation "
                             "curve and build record to DIR/<env>/ (to commit them), e.g. "
                             "benchmarks/results/locomotion")
    args = parser.parse_args(argv)
    envs = [e.strip() for e in args.envs.split(",") if e.strip()]
    logs = args.out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    minari = args.out / "minari"
    cli = [sys.executable, "-m", "selfguide_rl._cli"]
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    started = time.perf_counter()
    policies = {e: args.out / e / "policies" for e in envs}
    if args.policies_from is not None:
        for e in envs:
            kept = args.policies_from / e / "policies"
            if (kept / "policies.json").exists():
                policies[e] = kept
    trained = [e for e in envs if policies[e] == args.out / e / "policies"]
    stage1 = _run_all([(f"behaviour-{e}", [*cli, "behaviour", e, "--steps", str(args.sac_steps),
                                           "--work-dir", str(args.out), "--no-progress"])
                       for e in trained], args.jobs, logs, env)
    ready = [e for e in envs if e not in trained or stage1[f"behaviour-{e}"]["code"] == 0]
    steps = ["--ref-episodes", str(args.ref_episodes)]
    steps += [] if args.steps is None else ["--steps", str(args.steps)]

    def collect(e: str, kind: str) -> list[tuple[str, list[str]]]:
        if (minari / "selfguide" / e / f"{kind}-v0" / "data").exists() and not args.force:
            print(f"{e}-{kind}: kept (exists; --force rebuilds it)", flush=True)
            return []
        return [(f"collect-{e}-{kind}",
                 [*cli, "collect", f"{e}-{kind}", "--work-dir", str(args.out),
                  "--policies", str(policies[e]), "--out", str(minari), "--force", *steps])]

    # medium-expert reads the medium and expert datasets: run it after them.
    stage2 = _run_all([c for e in ready for k in KINDS if k != "medium-expert"
                       for c in collect(e, k)], args.jobs, logs, env)
    stage3 = _run_all([c for e in ready for c in collect(e, "medium-expert")
                       if not any(stage2.get(f"collect-{e}-{k}", {}).get("code")
                                  for k in ("medium", "expert"))], args.jobs, logs, env)
    summary = {"processes": {**stage1, **stage2, **stage3},
               "wall_seconds": time.perf_counter() - started, "policies": {}, "datasets": {}}
    for e in ready:
        record = json.loads((policies[e] / "policies.json").read_text())
        summary["policies"][e] = record["policies"]
        summary["datasets"].update(datasets_summary(minari, e))
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
    if args.keep is not None:
        for e in trained:
            if e in ready:
                keep_build(args.out, args.keep, e, summary)
    print(json.dumps({k: summary[k] for k in ("policies", "datasets", "wall_seconds")},
                     indent=1, default=float))
    return 0 if all(p["code"] == 0 for p in summary["processes"].values()) else 1


def datasets_summary(minari: Path, env: str) -> dict[str, dict]:
    """Size, reference scores and mean episode return (raw and normalised: random ≈ 0,
    expert ≈ 100) of each of `env`'s datasets built under the Minari root `minari`."""
    import minari as minari_lib

    out = {}
    for k in KINDS:
        path = minari / "selfguide" / env / f"{k}-v0" / "data"
        if not path.exists():
            continue
        dataset = minari_lib.MinariDataset(path)
        meta = dataset.storage.metadata
        mean = float(np.mean([np.sum(ep.rewards) for ep in dataset.iterate_episodes()]))
        low, high = meta["ref_min_score"], meta["ref_max_score"]
        out[f"{env}-{k}"] = {
            **{key: meta.get(key) for key in ("total_steps", "total_episodes",
                                              "ref_min_score", "ref_max_score")},
            "mean_episode_return": mean,
            "normalized_episode_return": 100 * (mean - low) / (high - low)}
    return out


def keep_build(out: Path, keep: Path, env: str, summary: dict) -> None:
    """Copy `env`'s kept policies (`policies.json`, the actors), the SAC run's evaluation
    curve and the environment's part of `summary` from the build in `out` to `keep/env/`."""
    target = keep / env
    (target / "policies").mkdir(parents=True, exist_ok=True)
    for f in (out / env / "policies").iterdir():
        shutil.copyfile(f, target / "policies" / f.name)
    shutil.copyfile(out / env / "sac" / "evaluations.csv", target / "sac_evaluations.csv")
    processes = {k: v for k, v in summary["processes"].items()
                 if k.endswith("-" + env) or f"-{env}-" in k}
    record = {
        "policies": summary["policies"][env],
        "datasets": {k: v for k, v in summary["datasets"].items() if k.startswith(env + "-")},
        "processes": processes,
        "build_seconds": sum(v["seconds"] for v in processes.values()),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
    (target / "build.json").write_text(json.dumps(record, indent=1, default=float))
    print(f"kept {env}'s policies and build record in {target}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
