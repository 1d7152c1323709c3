"""The one training loop: any `step(state, data, key) -> (state, metrics)`, run in jitted,
scanned, donated chunks, with fold-in keys, resume, atomic checkpoints, a progress bar and
the metric history written once for every trainer in the project."""

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PyTree

from .._checks import check_int
from .._custom_types import PRNGKey
from .._interrupt import TrainingInterrupted, report_resume
from ._chunk import run_chunk
from ._stop import stop_on_ctrl_c


@runtime_checkable
class HasStep(Protocol):
    """A training state: any PyTree (usually an `eqx.Module`) with an int32 `step` field,
    the number of steps taken. The loop advances it; step functions leave it alone."""

    step: Int[Array, ""]


State = TypeVar("State", bound=HasStep)
StepFunction = Callable[[Any, PyTree, PRNGKey], tuple[Any, Float[Array, " m"]]]


@dataclasses.dataclass(frozen=True)
class Checkpointing:
    """Where and how often a run is saved.

    - `path`: the checkpoint file (named in the interrupt message).
    - `save(state, history)`: writes it (atomically, e.g. with `write_checkpoint`).
    - `every`: save after this many chunks (and always after the last one).
    """

    path: Path
    save: Callable[[Any, list[tuple[float | int, ...]]], Any]
    every: int = 1


def run_training(
    step: StepFunction,
    state: State,
    data: PyTree,
    *,
    key: PRNGKey,
    steps: int,
    metrics: Sequence[str],
    name: str = "train",
    steps_per_chunk: int = 1000,
    history: Sequence[Sequence[float | int]] = (),
    checkpointing: Checkpointing | None = None,
    progress: bool = True,
    show: Mapping[str, str] | None = None,
    after_chunk: Callable[[int, np.ndarray], None] | None = None,
    on_chunk: Callable[[int, State], None] | None = None,
) -> tuple[State, list[tuple[float | int, ...]]]:
    """Run `step` until `state.step == steps`.

    **Arguments:**

    - `step`: `step(state, data, key) -> (state, metrics)` for one optimisation step, a
        vector of `len(metrics)` numbers. An `eqx.Module` (or a module-level function):
        its non-array fields are part of the compiled program, so the same settings reuse
        the compiled chunk.
    - `state`: the [`HasStep`][selfguide.training.HasStep] state to start from (e.g. a
        resumed one); its arrays are donated to the first chunk.
    - `data`: arrays the step reads (not donated).
    - `key`: step `k` uses `fold_in(key, k)`, so chunking and resuming do not change the
        result.
    - `steps`: the step to stop at (total, not remaining).
    - `metrics`: the names of the step's metrics (for the progress bar and history).
    - `name`: what trains (`"fit"`, `"values"`, ...), for the bar and the messages.
    - `steps_per_chunk`: steps per compiled chunk (the bar and the history update per chunk).
    - `history`: rows of a resumed run, continued.
    - `checkpointing`: a [`Checkpointing`][selfguide.training.Checkpointing], or `None`.
    - `progress`, `show`: draw a bar; `show` maps labels to metric names for its postfix.
    - `after_chunk(done, means)`: called after each chunk (e.g. to stop on a non-finite loss).
    - `on_chunk(done, state)`: called after each chunk once it is checkpointed (e.g. to
        evaluate the state so far, or keep a copy of the checkpoint); it must not keep
        references to `state`'s arrays, which the next chunk takes over.

    **Returns:** `(state, history)`, one history row per chunk:
    `(steps done, *metric means, seconds)`.

    Ctrl-C stops the run after the chunk that is running, saves it (with `checkpointing`)
    and raises [`TrainingInterrupted`][selfguide.TrainingInterrupted] naming the step the
    checkpoint holds; a second Ctrl-C stops at once (the checkpoint then holds the last
    saved chunk).
    """
    check_int(name, "steps", steps, minimum=0)
    check_int(name, "steps_per_chunk", steps_per_chunk, minimum=1)
    rows = [tuple(r) for r in history]
    done = int(state.step)
    path = None if checkpointing is None else checkpointing.path
    saved = done if path is not None and done > 0 else None
    if path is not None and 0 < done < steps:
        report_resume(name, done, steps, path)
    columns = {m: i for i, m in enumerate(metrics)}
    bar = _bar(name, steps, done) if progress else None
    fixed = (data, step, key)
    chunks = 0
    try:
        with stop_on_ctrl_c(name) as stop:
            while done < steps:
                n = min(steps_per_chunk, steps - done)
                start = time.perf_counter()
                state, values = run_chunk(fixed, state, n)
                means = np.asarray(jnp.mean(values, axis=0))
                done += n
                rows.append((done, *means.tolist(), time.perf_counter() - start))
                if after_chunk is not None:
                    after_chunk(done, means)
                if bar is not None:
                    bar.update(n)
                    labels = show or {m: m for m in metrics}
                    bar.set_postfix({k: f"{means[columns[m]]:.4f}" for k, m in labels.items()})
                chunks += 1
                last = done >= steps or stop.requested
                if checkpointing is not None and (chunks >= checkpointing.every or last):
                    checkpointing.save(state, rows)
                    saved, chunks = done, 0
                if on_chunk is not None:
                    on_chunk(done, state)
                if stop.requested and done < steps:
                    raise TrainingInterrupted(name, done, steps, path, saved)
    except TrainingInterrupted:
        raise
    except KeyboardInterrupt:
        raise TrainingInterrupted(name, done, steps, path, saved) from None
    finally:
        if bar is not None:
            bar.close()
    return state, rows


def _bar(name: str, total: int, initial: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=name, unit="step", dynamic_ncols=True)
