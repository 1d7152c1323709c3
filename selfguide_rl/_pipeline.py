"""The staged run: data → values → weights → diffusion policy, in one run directory.

```
RUN_DIR/
  config.json          what was run (source, preset, seed, action bounds, versions)
  values.ckpt          stage 1: Q, target Q, V and optimiser state (resumable)
  actor.ckpt           stage 2: IQL's Gaussian actor, extracted from the values (resumable)
  policy.ckpt          stage 3: the diffusion model's training state and EMA (resumable)
  metrics.csv          per-chunk losses of every stage
  eval_curve.csv       with `eval_every`: scores of BC and SWG during the diffusion stage
  learning_curve.png   the losses (and the scores during training), plotted
  policy-step<K>.ckpt  with `keep_checkpoints`: the diffusion stage at step K
  eval.csv             one row per evaluation episode (`eval` and `sweep` append)
```

A finished stage is loaded, not redone; an interrupted stage continues from its last
checkpoint and ends exactly where an uninterrupted run would (same key, same batches).
JSON and CSV files are written atomically (temporary file, then rename).
"""

import csv
import dataclasses
import importlib.metadata
import io
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import jax.random as jr
import numpy as np

from selfguide.checkpoint import atomic_write_text, differences

from ._evaluate import EvalResult, evaluate, evaluate_grid, make_env, make_vector_env
from ._iql import GaussianActor, load_actor, train_actor
from ._methods import METHODS, MethodName, method_from_name
from ._policy import Policy, load_policy, train_policy, train_policy_many
from ._presets import PRESETS, Preset, get_preset
from ._values import advantages, learn_values, learn_values_many, load_values
from .data import TaskInfo, Transitions, load_dataset, load_task, process_rewards

CONFIG, VALUES, ACTOR, POLICY = "config.json", "values.ckpt", "actor.ckpt", "policy.ckpt"
METRICS, CURVE, EVAL = "metrics.csv", "learning_curve.png", "eval.csv"
EVAL_CURVE = "eval_curve.csv"
_CURVE_COLUMNS = ("step", "method", "scale", "mean", "se", "episodes")
CURVE_SEED_OFFSET = 2000  # run seed s -> environment seeds from (2000 + s) * 10^4
_METRIC_COLUMNS = (
    "stage",
    "step",
    "seconds",
    "q_loss",
    "v_loss",
    "q_mean",
    "loss",
    "data_loss",
    "weight_loss",
    "actor_loss",
    "mean_weight",
)
_EVAL_COLUMNS = ("method", "scale", "num_candidates", "seed", "episode", "return", "score",
                 "temperature")


@dataclasses.dataclass(frozen=True)
class Agent:
    """A trained run: the `policy` (with its values), the `task`, the `preset`, the
    `run_dir`, the weights' summary `weight_stats`, and IQL's `actor` (`None` for a run
    trained before the actor stage existed)."""

    policy: Policy
    task: TaskInfo
    preset: Preset
    run_dir: Path
    weight_stats: dict[str, float]
    actor: GaussianActor | None = None


def write_csv(path: str | Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in columns})
    atomic_write_text(path, buf.getvalue())


def read_csv(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    with path.open() as f:
        return list(csv.DictReader(f))


def _versions() -> dict[str, str]:
    out = {}
    for p in ("selfguide", "jax", "equinox", "gymnasium", "gymnasium-robotics", "mujoco", "minari"):
        try:
            out[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def _load(source: str, dataset_id: str | None, minari_root: str | Path | None):
    data, task = load_dataset(source, dataset_id=dataset_id, root=minari_root)
    return data, _known(source, task)


def _task(source: str, dataset_id: str | None, minari_root: str | Path | None) -> TaskInfo:
    return _known(source, load_task(source, dataset_id=dataset_id, root=minari_root))


def _known(source: str, task: TaskInfo | None) -> TaskInfo:
    if task is None:
        raise ValueError(
            f"train: cannot tell which task {source!r} is; pass --dataset-id (a D4RL name such "
            "as door-human-v0) so rewards, environment and scores are known."
        )
    return task


def _action_bounds(task: TaskInfo, act_dim: int) -> tuple[list[float], list[float], str | None]:
    try:
        env = make_env(task)
    except (ValueError, RuntimeError) as err:
        return [-1.0] * act_dim, [1.0] * act_dim, f"no environment ({err}); bounds [-1, 1]"
    space = env.action_space
    env.close()
    low, high = np.asarray(space.low, float).reshape(-1), np.asarray(space.high, float).reshape(-1)
    if low.shape != (act_dim,):
        raise ValueError(
            f"train: mismatched action dimension: the dataset '{task.dataset_id}' has "
            f"{act_dim}-d actions, its environment '{task.env_id}' {low.shape[0]}-d."
        )
    return low.tolist(), high.tolist(), None


def resolve_preset(
    preset: str | Preset | None, task: TaskInfo, full: bool, reference: bool = False
) -> Preset:
    if isinstance(preset, Preset):
        return preset
    family = task.family if preset in (None, "auto") else preset
    return get_preset(family, full=full, reference=reference)


def train_run(
    source: str | Path,
    run_dir: str | Path,
    *,
    preset: str | Preset | None = None,
    seed: int = 0,
    dataset_id: str | None = None,
    full: bool = False,
    reference: bool = False,
    overrides: dict[str, Any] | None = None,
    root: str | Path | None = None,
    progress: bool = True,
    eval_every: int | None = None,
    eval_episodes: int = 5,
    keep_checkpoints: tuple[int, ...] = (),
) -> Agent:
    """Train values, IQL's actor and the diffusion policy on a dataset, with a resumable run
    directory.

    **Arguments:**

    - `source`: a Minari id or a D4RL HDF5 file.
    - `run_dir`: where the run lives; an existing run with the same configuration is
      resumed (finished stages are loaded), one with another configuration is refused.
    - `preset`: a task family name, a [`Preset`][selfguide_rl.Preset], or `None` for the
      dataset's own family.
    - `seed`: seeds value learning and diffusion training.
    - `dataset_id`: the D4RL name of an HDF5 file, when its file name does not tell.
    - `full`: the paper's budgets instead of the CPU ones.
    - `reference`: the reference's noise-predicting weight output instead of the default
      denoised one (see [`get_preset`][selfguide_rl.get_preset]).
    - `overrides`: preset fields to change, e.g. `{"values.steps": 2000, "guidance_scale": 5}`.
    - `root`: the Minari root a Minari id is read from (default `$MINARI_DATASETS_PATH`,
      else `~/.minari/datasets`); recorded in `config.json` for `load_run`.
    - `eval_every`: evaluate BC and SWG (the preset's scale and clip) every `eval_every`
      diffusion steps on `eval_episodes` episodes (environment seeds apart from those of
      `evaluate_agent`), into `eval_curve.csv` and the learning-curve plot; a multiple of
      `policy.steps_per_chunk`. It does not change the training.
    - `keep_checkpoints`: diffusion steps (multiples of `policy.steps_per_chunk`) whose
      checkpoint is kept as `policy-step<K>.ckpt`; `policy.ckpt` is the final one.

    **Returns:** an [`Agent`][selfguide_rl.Agent].
    """
    run_dir = Path(run_dir)
    data, task, chosen, minari_root = _resolve(source, preset, dataset_id, full, reference,
                                               overrides, root)
    during = _check_during_training(chosen, eval_every, eval_episodes, keep_checkpoints)
    config = _claim_run_dir(run_dir, source, dataset_id, data, task, chosen, seed, minari_root)
    return _train_stages(data, task, chosen, config, run_dir, progress, during)


def _resolve(source, preset, dataset_id, full, reference, overrides, root):
    """The data, its task, the preset with its overrides, and the Minari root; every
    change is checked before the data are read or anything trains."""
    if overrides:
        family = preset if isinstance(preset, str) and preset in PRESETS else "other"
        base = preset if isinstance(preset, Preset) else get_preset(family, full=full)
        base.replace(**overrides)
    if root is not None:
        minari_root = str(Path(root).expanduser().resolve())
    else:
        minari_root = os.environ.get("MINARI_DATASETS_PATH")
    data, task = _load(str(source), dataset_id, minari_root)
    chosen = resolve_preset(preset, task, full, reference)
    if overrides:
        chosen = chosen.replace(**overrides)
    return data, task, chosen, minari_root


def _claim_run_dir(run_dir: Path, source, dataset_id, data, task, chosen: Preset, seed: int,
                   minari_root) -> dict:
    """The run's `config.json`: written for a new run directory, compared (training
    settings only) for an existing one."""
    low, high, bounds_note = _action_bounds(task, data.act_dim)
    config = {
        "source": str(source),
        "dataset_id": dataset_id,
        "task": task.dataset_id,
        "family": task.family,
        "seed": int(seed),
        "preset": chosen.to_json(),
        "action_low": low,
        "action_high": high,
        "action_bounds_note": bounds_note,
        "minari_root": minari_root,
    }
    config = json.loads(json.dumps(config))  # tuples → lists, as read back from disk
    config_path = run_dir / CONFIG
    if config_path.exists():
        saved = json.loads(config_path.read_text())
        names = ("source", "task", "seed", "preset")
        changed = differences({n: _training_part(n, saved.get(n)) for n in names},
                              {n: _training_part(n, config[n]) for n in names})
        if changed:
            raise ValueError(
                f"train: the run directory {run_dir} holds a different run; these settings "
                "differ (saved → now): " + "; ".join(changed) + ". Use a new run directory "
                "to train with other settings, or the saved ones to resume it."
            )
    else:
        atomic_write_text(config_path, json.dumps({**config, "versions": _versions()}, indent=2))
    return config


def train_runs(
    source: str | Path,
    run_dir: str | Path,
    *,
    seeds: tuple[int, ...],
    preset: str | Preset | None = None,
    dataset_id: str | None = None,
    full: bool = False,
    reference: bool = False,
    overrides: dict[str, Any] | None = None,
    root: str | Path | None = None,
    progress: bool = True,
) -> list[Agent]:
    """`train_run` for several seeds at once: the values and the
    diffusion models of all seeds train side by side in one compiled program each
    (`learn_values_many`, `train_policy_many`); IQL's actors, which are cheap, one after
    the other. Seed `s` lives in `run_dir/seed<s>`, an ordinary run directory (`load_run`,
    `evaluate_agent` and `train_run` read it), and equals `train_run(..., seed=s)` up to
    float32 rounding of batched products. An interrupted run resumes from the members'
    checkpoints (when every seed's checkpoint of a stage exists).

    **Returns:** one `Agent` per seed.
    """
    seeds = tuple(int(s) for s in seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"train_runs: seeds={seeds!r}; expected distinct seeds, at least one.")
    data, task, chosen, minari_root = _resolve(source, preset, dataset_id, full, reference,
                                               overrides, root)
    run_dirs = [Path(run_dir) / f"seed{s}" for s in seeds]
    configs = [_claim_run_dir(d, source, dataset_id, data, task, chosen, s, minari_root)
               for d, s in zip(run_dirs, seeds, strict=True)]
    keys = [jr.split(jr.key(c["seed"])) for c in configs]
    start = time.perf_counter()
    vres = learn_values_many(process_rewards(data, task), chosen.values,
                             keys=[k[0] for k in keys], checkpoints=[d / VALUES for d in run_dirs],
                             progress=progress)
    weights, stats, actors, value_rows, actor_rows = [], [], [], [], []
    for d, c, (value_key, _), v in zip(run_dirs, configs, keys, vres, strict=True):
        rows = _value_rows(v)
        adv = advantages(v.values, data.observations, data.actions)
        w = np.asarray(chosen.weighting()(adv))
        weights.append(w)
        stats.append(_weight_stats(adv, w))
        actor, history = _train_actor(data, adv, chosen, c, jr.fold_in(value_key, 1), d,
                                      progress)
        actors.append(actor)
        value_rows.append(rows)
        actor_rows.append(history)
        _write_metrics(d, rows, [], history)
    pres = train_policy_many(
        data, weights, chosen.policy, keys=[k[1] for k in keys], values=[v.values for v in vres],
        action_low=configs[0]["action_low"], action_high=configs[0]["action_high"],
        checkpoints=[d / POLICY for d in run_dirs], progress=progress,
    )
    agents = []
    for d, r, st, actor, vr, ar in zip(run_dirs, pres, stats, actors, value_rows, actor_rows,
                                       strict=True):
        _write_metrics(d, vr, _policy_rows(r), ar)
        st["train_seconds_this_call"] = (time.perf_counter() - start) / len(seeds)
        atomic_write_text(d / "weights.json", json.dumps(st, indent=2))
        agents.append(Agent(r.policy, task, chosen, d, st, actor))
    return agents


# Preset fields that only decide how a trained run acts: a run directory may be reused
# (resumed, evaluated) with other values of them.
ACTING_FIELDS = ("guidance_scale", "clip_max", "num_candidates", "idql_candidates",
                 "idql_temperature", "eval_episodes", "eval_envs")


def _training_part(name: str, value: Any) -> Any:
    if name != "preset" or not isinstance(value, dict):
        return value
    return {k: v for k, v in value.items() if k not in ACTING_FIELDS}


def _check_during_training(preset: Preset, eval_every, eval_episodes, keep) -> tuple:
    chunk, steps = preset.policy.steps_per_chunk, preset.policy.steps
    if eval_every is not None:
        if isinstance(eval_every, bool) or not isinstance(eval_every, int) or eval_every < 1 \
                or eval_every % chunk:
            raise ValueError(
                f"train_run: eval_every={eval_every!r}; expected a positive multiple of "
                f"policy.steps_per_chunk ({chunk}), the steps between evaluations."
            )
        if isinstance(eval_episodes, bool) or not isinstance(eval_episodes, int) \
                or eval_episodes < 1:
            raise ValueError(f"train_run: eval_episodes={eval_episodes!r}; expected an int >= 1.")
    keep = tuple(keep)
    bad = [k for k in keep if isinstance(k, bool) or not isinstance(k, int) or k < 1
           or k % chunk or k > steps]
    if bad:
        raise ValueError(
            f"train_run: keep_checkpoints {bad} cannot be kept; expected diffusion steps that "
            f"are multiples of policy.steps_per_chunk ({chunk}) up to policy.steps ({steps})."
        )
    return eval_every, eval_episodes, frozenset(keep)


def _during_training(task, preset: Preset, run_dir: Path, seed: int, during: tuple):
    """The diffusion stage's `on_chunk`: keep checkpoints, evaluate every `eval_every` steps."""
    from ._methods import BC, SWG

    eval_every, episodes, keep = during
    if eval_every is None and not keep:
        return None, lambda: None
    curve = run_dir / EVAL_CURVE
    rows = read_csv(curve)
    done = {int(r["step"]) for r in rows}
    envs: dict[str, Any] = {}
    num_envs = min(episodes, preset.eval_envs)

    def on_chunk(step: int, policy: Policy) -> None:
        if step in keep:
            kept = run_dir / f"policy-step{step}.ckpt"
            tmp = kept.with_suffix(".tmp")
            shutil.copyfile(run_dir / POLICY, tmp)
            os.replace(tmp, kept)
        if eval_every is None or step % eval_every or step in done:
            return
        if "env" not in envs:
            envs["env"] = make_vector_env(task, num_envs)
        for method in (BC(), SWG(preset.guidance_scale, preset.clip_max)):
            r = evaluate(policy, task, method=method, episodes=episodes, num_envs=num_envs,
                         seed=(CURVE_SEED_OFFSET + seed) * 10_000, env=envs["env"])
            rows.append({"step": step, "method": method.name, "scale": r.scale,
                         "mean": r.mean, "se": r.stderr, "episodes": episodes})
        done.add(step)
        write_csv(curve, _CURVE_COLUMNS, rows)
        plot_learning_curve(run_dir / METRICS, run_dir / CURVE)

    def close() -> None:
        if "env" in envs:
            envs.pop("env").close()

    return on_chunk, close


def _value_rows(vres) -> list[dict]:
    names = ("step", "q_loss", "v_loss", "q_mean", "seconds")
    return [dict(zip(names, r, strict=True))
            for r in zip(*(vres.history[k].tolist() for k in names), strict=True)]


def _weight_stats(adv, w) -> dict[str, float]:
    return {"adv_mean": float(adv.mean()), "adv_std": float(adv.std()),
            "frac_adv_pos": float((adv > 0).mean()), "w_min": float(w.min()),
            "w_max": float(w.max()), "w_mean": float(w.mean())}


def _train_actor(data, adv, preset: Preset, config, key, run_dir: Path, progress: bool):
    """IQL's actor of one run (`actor.ckpt`), and its history rows."""
    low = np.asarray(config["action_low"], np.float32)
    high = np.asarray(config["action_high"], np.float32)
    actor, history = train_actor(
        data, adv, preset.actor, key=key,
        to_model=lambda a: 2.0 * (np.asarray(a) - low) / (high - low) - 1.0,
        checkpoint=run_dir / ACTOR, progress=progress,
    )
    rows = [dict(zip(("step", "actor_loss", "mean_weight", "seconds"), r, strict=True))
            for r in history]
    return actor, rows


def _policy_rows(pres) -> list[dict]:
    h = pres.history
    return [{"step": int(s), "loss": float(a), "data_loss": float(b), "weight_loss": float(c),
             "seconds": float(d)}
            for s, a, b, c, d in zip(h.step, h.loss, h.data_loss, h.weight_loss, h.seconds,
                                     strict=True)]


def _train_stages(data, task, preset: Preset, config, run_dir: Path, progress: bool,
                  during: tuple = (None, 5, frozenset())) -> Agent:
    value_key, policy_key = jr.split(jr.key(config["seed"]))
    start = time.perf_counter()
    vres = learn_values(process_rewards(data, task), preset.values, key=value_key,
                        checkpoint=run_dir / VALUES, progress=progress)
    value_rows = _value_rows(vres)
    _write_metrics(run_dir, value_rows, [], [])
    adv = advantages(vres.values, data.observations, data.actions)
    actor, actor_rows = _train_actor(data, adv, preset, config, jr.fold_in(value_key, 1),
                                     run_dir, progress)
    _write_metrics(run_dir, value_rows, [], actor_rows)
    w = np.asarray(preset.weighting()(adv))
    stats = _weight_stats(adv, w)
    on_chunk, close = _during_training(task, preset, run_dir, config["seed"], during)
    try:
        pres = train_policy(
            data, w, preset.policy, key=policy_key, values=vres.values,
            action_low=config["action_low"], action_high=config["action_high"],
            checkpoint=run_dir / POLICY, progress=progress, on_chunk=on_chunk,
        )
    finally:
        close()
    _write_metrics(run_dir, value_rows, _policy_rows(pres), actor_rows)
    stats["train_seconds_this_call"] = time.perf_counter() - start
    atomic_write_text(run_dir / "weights.json", json.dumps(stats, indent=2))
    return Agent(pres.policy, task, preset, run_dir, stats, actor)


def _write_metrics(
    run_dir: Path, value_rows: list[dict], policy_rows: list[dict], actor_rows: list[dict]
) -> None:
    rows = [{"stage": "values", **r} for r in value_rows]
    rows += [{"stage": "actor", **r} for r in actor_rows]
    rows += [{"stage": "policy", **r} for r in policy_rows]
    write_csv(run_dir / METRICS, _METRIC_COLUMNS, rows)
    plot_learning_curve(run_dir / METRICS, run_dir / CURVE)


def plot_learning_curve(metrics_csv: str | Path, out_png: str | Path) -> None:
    """Plot the value, IQL-actor and diffusion losses of `metrics.csv` into a PNG (Agg
    backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_csv(metrics_csv)
    curve = read_csv(Path(metrics_csv).with_name(EVAL_CURVE))
    fig, axes = plt.subplots(1, 4 if curve else 3, figsize=(18 if curve else 14, 3.5))
    for ax, stage, keys in (
        (axes[0], "values", ("q_loss", "v_loss")),
        (axes[1], "actor", ("mean_weight",)),
        (axes[2], "policy", ("data_loss", "weight_loss")),
    ):
        sel = [r for r in rows if r["stage"] == stage]
        for k in keys:
            if sel:
                ax.plot([int(r["step"]) for r in sel], [float(r[k]) for r in sel], label=k)
        ax.set_title(f"{stage} stage")
        ax.set_xlabel("step")
        ax.set_yscale("log")
        if sel:
            ax.legend()
    if curve:
        ax = axes[3]
        for method in dict.fromkeys(r["method"] for r in curve):
            sel = [r for r in curve if r["method"] == method]
            steps = np.array([int(r["step"]) for r in sel])
            mean = np.array([float(r["mean"]) for r in sel])
            se = np.nan_to_num(np.array([float(r["se"]) for r in sel]))
            ax.plot(steps, mean, marker="o", label=method)
            ax.fill_between(steps, mean - se, mean + se, alpha=0.2)
        ax.set_title("score during the diffusion stage")
        ax.set_xlabel("step")
        ax.legend()
    fig.tight_layout()
    tmp = Path(out_png).with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    os.replace(tmp, out_png)


def _run_config(caller: str, run_dir: Path) -> dict:
    config_path = run_dir / CONFIG
    if not config_path.exists():
        raise FileNotFoundError(
            f"{caller}: {run_dir} is not a run directory (no {CONFIG}); train one with "
            "`selfguide-rl train`."
        )
    return json.loads(config_path.read_text())


def _run_root(config: dict, root: str | Path | None) -> str | Path | None:
    if root is not None:
        return root
    return os.environ.get("MINARI_DATASETS_PATH") or config.get("minari_root")


def load_run_data(
    run_dir: str | Path, *, root: str | Path | None = None
) -> tuple[Transitions, TaskInfo]:
    """The dataset a run was trained on, as [`load_dataset`][selfguide_rl.load_dataset]
    returns it (rewards not yet processed), found as [`load_run`][selfguide_rl.load_run]
    finds it: in `root` if given, else in `$MINARI_DATASETS_PATH`, else in the root recorded
    in the run's `config.json`."""
    run_dir = Path(run_dir)
    config = _run_config("load_run_data", run_dir)
    return _load(config["source"], config["dataset_id"], _run_root(config, root))


def load_run(run_dir: str | Path, *, root: str | Path | None = None) -> Agent:
    """Load a finished run (both stages) from its directory.

    A Minari dataset is looked up in `root` if given, else in `$MINARI_DATASETS_PATH`,
    else in the root the run was trained from (recorded in `config.json`); only its task
    metadata is read ([`load_run_data`][selfguide_rl.load_run_data] gives the transitions)."""
    run_dir = Path(run_dir)
    config = _run_config("load_run", run_dir)
    preset = Preset.from_json(config["preset"])
    for name, what in ((VALUES, "value"), (POLICY, "diffusion")):
        if not (run_dir / name).exists():
            raise FileNotFoundError(
                f"load_run: the {what} stage of {run_dir} has not finished ({name} is missing); "
                "run `selfguide-rl train` again with the same arguments to resume it."
            )
    values, header = load_values(run_dir / VALUES)
    if header["step"] < preset.values.steps:
        raise ValueError(
            f"load_run: the value stage of {run_dir} stopped at step {header['step']} of "
            f"{preset.values.steps}; resume it with `selfguide-rl train`."
        )
    policy = load_policy(
        run_dir / POLICY,
        values=values,
        diffusion_steps=preset.policy.diffusion_steps,
        action_low=config["action_low"],
        action_high=config["action_high"],
    )
    task = _task(config["source"], config["dataset_id"], _run_root(config, root))
    stats_path = run_dir / "weights.json"
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    actor = load_actor(run_dir / ACTOR) if (run_dir / ACTOR).exists() else None
    return Agent(policy, task, preset, run_dir, stats, actor)


def evaluate_agent(
    agent: Agent,
    *,
    methods: tuple[MethodName, ...] = METHODS,
    scales: tuple[float, ...] | None = None,
    seeds: tuple[int, ...] = (0,),
    episodes: int | None = None,
    num_candidates: int | None = None,
    idql_candidates: int | None = None,
    idql_temperature: float | None = None,
    temperature: float = 0.0,
    max_episode_steps: int | None = None,
    record: bool = True,
    progress: bool = False,
) -> list[EvalResult]:
    """Evaluate an agent with several methods (and guidance scales), appending to `eval.csv`.

    `methods` are names (`"bc"`, `"iql"`, `"idql"`, `"swg"`, `"swg-r"`); each name and scale
    becomes its method ([`SWG`][selfguide_rl.SWG], [`SWGR`][selfguide_rl.SWGR], ...):
    SWG-R with `num_candidates`, IDQL with `idql_candidates` at `idql_temperature`, IQL with
    the run's actor (defaults: the preset's). Guidance scales apply to SWG and SWG-R; the
    others are evaluated once. `temperature`: the DDPM temperature BC, SWG and SWG-R sample
    at (0, deterministic given the initial noise, by default; IDQL's candidates take
    `idql_temperature`, IQL's actor none). Each entry of
    `seeds` gives `episodes` episodes (all seeds' episodes step together); the
    `EvalResult`s hold all seeds' episodes.
    `max_episode_steps` shortens episodes (quick checks; scores then are not comparable).
    """
    per_seed = evaluate_agents(
        [agent] * len(seeds), seeds=seeds, methods=methods,
        scales=(agent.preset.guidance_scale,) if scales is None else scales,
        episodes=episodes, num_candidates=num_candidates, idql_candidates=idql_candidates,
        idql_temperature=idql_temperature, temperature=temperature,
        max_episode_steps=max_episode_steps, record=record, progress=progress)
    return [EvalResult(rs[0].method, rs[0].scale, np.concatenate([r.returns for r in rs]),
                       np.concatenate([r.scores for r in rs]), sum(r.seconds for r in rs),
                       sum(r.env_steps for r in rs))
            for rs in zip(*per_seed, strict=True)]


def evaluate_agents(
    agents: list[Agent],
    *,
    seeds: tuple[int, ...],
    methods: tuple[MethodName, ...] = METHODS,
    scales: tuple[float, ...] | None = None,
    clips: tuple[float | None, ...] | None = None,
    episodes: int | None = None,
    num_candidates: int | None = None,
    idql_candidates: int | None = None,
    idql_temperature: float | tuple[float, ...] | None = None,
    temperature: float | tuple[float, ...] = 0.0,
    max_episode_steps: int | None = None,
    record: bool = True,
    progress: bool = False,
) -> list[list[EvalResult]]:
    """`evaluate_agent` for several agents of one task (the
    seeds of [`train_runs`][selfguide_rl.train_runs], say): agent `k` on evaluation seed
    `seeds[k]`, each method's episodes of all agents and settings in one vector environment
    with one policy call per step ([`evaluate_grid`][selfguide_rl.evaluate_grid]). Agent
    `k`'s results are those of `evaluate_agent(agents[k], seeds=(seeds[k],))` at each
    setting.

    A method's settings are the grid of the values it takes: SWG and SWG-R every clip of
    `clips` (`None`: each agent's own preset's `clip_max`; a `None` inside the tuple: no
    clip) × every DDPM `temperature` × every scale of `scales` (`None`: each agent's own
    preset scale); BC every `temperature`; IDQL every `idql_temperature` (`None`: each
    agent's own preset's); IQL one. Every setting runs on the same episodes (environment
    seeds and noise). The episode settings are the first agent's preset's.

    **Returns:** per agent, its results in method order, then clip, temperature and scale
    order (the last varying fastest), each with its `scale`, `clip_max` and `temperature`.
    """
    caller = "evaluate_agents"
    if len(agents) != len(seeds) or not agents:
        raise ValueError(f"{caller}: need one evaluation seed per agent, at least one agent; "
                         f"got {len(agents)} agents and {len(seeds)} seeds.")
    if len({a.task.dataset_id for a in agents}) != 1:
        raise ValueError(f"{caller}: the agents must share one task, got "
                         f"{sorted({a.task.dataset_id for a in agents})}.")
    temps = _as_tuple(temperature)
    if not temps or not all(t >= 0 for t in temps):
        raise ValueError(f"{caller}: temperature must be >= 0 (0: deterministic given the "
                         f"initial noise, the evaluation default), got {temperature}.")
    for name, axis in (("scales", scales), ("clips", clips)):
        if axis is not None and not axis:
            raise ValueError(f"{caller}: `{name}` is empty; give at least one value, or None "
                             "for each agent's preset's.")
    preset = agents[0].preset
    episodes = preset.eval_episodes if episodes is None else episodes
    n_cand = preset.num_candidates if num_candidates is None else num_candidates
    n_idql = preset.idql_candidates if idql_candidates is None else idql_candidates
    idql_temps = (None,) if idql_temperature is None else _as_tuple(idql_temperature)
    num_envs = min(episodes, preset.eval_envs)
    env = None
    results: list[list[EvalResult]] = [[] for _ in agents]
    rows: dict[Path, list[dict]] = {}
    try:
        for method in methods:
            grid = [_settings(method, a, scales, clips, temps, idql_temps) for a in agents]
            acting = [[method_from_name(
                caller, method, scale=scale, clip_max=clip, temperature=t_idql,
                num_candidates=n_idql if method == "idql" else n_cand, actor=a.actor,
            ) for scale, clip, _, t_idql in row] for a, row in zip(agents, grid, strict=True)]
            size = len(agents) * len(grid[0]) * num_envs
            if env is None or env.num_envs != size:
                if env is not None:
                    env.close()
                env = make_vector_env(agents[0].task, size, max_episode_steps=max_episode_steps)
            together = evaluate_grid(
                [a.policy for a in agents], agents[0].task, methods=acting,
                seeds=[int(s) * 10_000 for s in seeds],
                temperatures=[[t or 0.0 for _, _, t, _ in row] for row in grid],
                episodes=episodes, num_envs=num_envs, env=env, progress=progress)
            for k, (a, s, row, got) in enumerate(zip(agents, seeds, grid, together,
                                                     strict=True)):
                for (scale, clip, t, t_idql), m, r in zip(row, acting[k], got, strict=True):
                    sampled_at = t_idql if method == "idql" and t_idql is not None else t
                    results[k].append(dataclasses.replace(
                        r, method=method, scale=float(scale), temperature=sampled_at,
                        clip_max=clip))
                    rows.setdefault(a.run_dir, []).extend(
                        {"method": method, "scale": scale,
                         "num_candidates": getattr(m, "num_candidates", ""),
                         "seed": s, "episode": i, "return": float(ret), "score": float(sc),
                         "temperature": "" if sampled_at is None else sampled_at}
                        for i, (ret, sc) in enumerate(zip(r.returns, r.scores, strict=True)))
    finally:
        if env is not None:
            env.close()
    if record:
        for run_dir, new in rows.items():
            write_csv(run_dir / EVAL, _EVAL_COLUMNS, read_csv(run_dir / EVAL) + new)
    return results


def _settings(method: MethodName, agent: Agent, scales, clips, temps, idql_temps) -> list[tuple]:
    """`(scale, clip, DDPM temperature, IDQL's temperature)` of each setting `method` takes
    for `agent`, in `evaluate_agents`' order (`None`: a value the method does not take)."""
    p = agent.preset
    if method in ("swg", "swg-r"):
        return [(p.guidance_scale if s is None else float(s), c, t, None)
                for c in ((p.clip_max,) if clips is None else clips) for t in temps
                for s in ((None,) if scales is None else scales)]
    if method == "idql":  # a candidate temperature None samples at the DDPM one
        return [(0.0, None, temps[0], p.idql_temperature if t is None else t)
                for t in idql_temps]
    if method == "bc":
        return [(0.0, None, t, None) for t in temps]
    return [(0.0, None, None, None)]  # IQL's actor samples no noise


def _as_tuple(value: float | tuple[float, ...]) -> tuple[float, ...]:
    return tuple(float(v) for v in value) if isinstance(value, tuple | list) else (
        float(value),)


def format_results(results: list[EvalResult]) -> str:
    """A Markdown table: method, scale, normalised score mean ± standard error, episodes."""
    lines = [
        "| method | scale | score (mean ± s.e.) | episodes | seconds |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        scale = f"{r.scale:g}" if r.method in ("swg", "swg-r") else "–"
        lines.append(
            f"| {r.method} | {scale} | {r.mean:.1f} ± {r.stderr:.1f} | "
            f"{r.scores.size} | {r.seconds:.1f} |"
        )
    return "\n".join(lines)
