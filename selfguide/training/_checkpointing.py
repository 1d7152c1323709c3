"""Training checkpoints: one file holding a run's state, its settings and its history, and
the checks that make a resumed run end exactly where an uninterrupted one would."""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._checkpoint import (
    CheckpointError,
    differences,
    read_header,
    restore_segment,
    write_checkpoint,
)


def save_state(
    path: str | Path,
    kind: str,
    state: Any,
    meta: Mapping[str, Any],
    history: Sequence[Sequence[float | int]],
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write `state` (segment `"state"`), any `extra` segments, the run's `meta` (its
    settings) and `history` to `path`, atomically. `kind` names what trained (`"training"`
    for `fit`, `"values"`, ...) so that a reader can refuse another kind."""
    header = {
        "kind": kind,
        "meta": dict(meta),
        "history": [list(h) for h in history],
        "step": int(state.step),
    }
    return write_checkpoint(path, header, {**(extra or {}), "state": state})


def resume_state(
    path: str | Path,
    like: Any,
    *,
    kind: str,
    meta: Mapping[str, Any],
    compare: Sequence[str],
    call: str,
) -> tuple[Any, list[tuple[float | int, ...]]]:
    """The state and history saved in `path`, after checking that it was written by a run
    with the same settings: every field in `compare` of `meta` must match (a mismatch names
    each differing field), and so must the PRNG key's fingerprint `meta["key"]` (else the
    continued run would not equal an uninterrupted one)."""
    header, blobs = read_header(path)
    if header.get("kind") != kind:
        raise CheckpointError(
            f"{call}: cannot resume from {path}: it is a {header.get('kind')!r} checkpoint, "
            f"not a {kind!r} one. Use a new checkpoint path."
        )
    saved = header["meta"]
    changed = differences(
        {n: saved.get(n) for n in compare}, {n: meta[n] for n in compare}
    )
    if changed:
        raise CheckpointError(
            f"cannot resume from {path}: it was written with other settings ("
            + "; ".join(changed)
            + "). Use a new checkpoint path, or resume=False to start over."
        )
    if saved.get("key") != meta["key"]:
        raise CheckpointError(
            f"cannot resume from {path}: it was written with a different PRNG key, so the "
            "continued run would not match an uninterrupted one. Pass the original key, "
            "or a new checkpoint path."
        )
    state = restore_segment(path, blobs["state"], like, "state")
    return state, [tuple(h) for h in header["history"]]
