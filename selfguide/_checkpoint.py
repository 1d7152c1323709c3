"""Checkpoints: one versioned file, written atomically, holding what resumes or samples."""

import hashlib
import io
import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

import equinox as eqx
import jax

MAGIC = b"SELFGUIDE-CKPT\n"
FORMAT_VERSION = 2
"""Version 2 stores every setting a reader needs in the header (version 1 training files
predate `weight_output`); version 1 files are read through `_migrate_v1`."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be read: missing, corrupt, wrong version or wrong shape."""


def _serialise(tree) -> bytes:
    buffer = io.BytesIO()
    eqx.tree_serialise_leaves(buffer, tree)
    return buffer.getvalue()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically: a temporary file in the same folder, flushed to
    disk, then renamed over `path`. A crash leaves the old file or the new one, never a torn
    one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        os.fsync(dir_fd)
        os.close(dir_fd)
    except OSError:
        pass
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """[`atomic_write_bytes`][] for UTF-8 text (JSON, CSV, Markdown)."""
    return atomic_write_bytes(path, text.encode())


def write_checkpoint(path: str | os.PathLike, header: dict[str, Any], segments: dict) -> Path:
    """Write `segments` (name → PyTree) and a JSON `header` to `path`, atomically.

    The file is `MAGIC`, a length-prefixed JSON header (format version, segment sizes and
    SHA-256 digests, the caller's metadata), then each segment's serialised leaves, written
    with [`atomic_write_bytes`][].
    """
    path = Path(path)
    blobs = {name: _serialise(tree) for name, tree in segments.items()}
    full_header = {
        "format": "selfguide.checkpoint",
        "version": FORMAT_VERSION,
        "segments": [
            {"name": n, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()}
            for n, b in blobs.items()
        ],
        **header,
    }
    head = json.dumps(full_header, sort_keys=True).encode()
    payload = MAGIC + struct.pack("<Q", len(head)) + head + b"".join(blobs.values())
    atomic_write_bytes(path, payload)
    return path


def read_header(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Read and verify a checkpoint: its header and each segment's raw bytes."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist.")
    data = path.read_bytes()
    if not data.startswith(MAGIC):
        raise CheckpointError(
            f"{path} is not a selfguide checkpoint (bad magic bytes); it may be corrupt or "
            "another format."
        )
    offset = len(MAGIC)
    try:
        (head_len,) = struct.unpack_from("<Q", data, offset)
        header = json.loads(data[offset + 8 : offset + 8 + head_len])
    except (struct.error, ValueError, UnicodeDecodeError) as err:
        raise CheckpointError(f"checkpoint {path} is corrupt: unreadable header ({err}).") from err
    version = header.get("version")
    if header.get("format") == "selfguide.checkpoint" and version == 1:
        header = _migrate_v1(header)
        version = header["version"]
    if header.get("format") != "selfguide.checkpoint" or version != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format version {version!r}; this selfguide reads version "
            f"{FORMAT_VERSION}. Re-train, or load it with the selfguide release that wrote it."
        )
    offset += 8 + head_len
    blobs = {}
    for seg in header["segments"]:
        blob = data[offset : offset + seg["size"]]
        if len(blob) != seg["size"] or hashlib.sha256(blob).hexdigest() != seg["sha256"]:
            raise CheckpointError(
                f"checkpoint {path} is corrupt: segment {seg['name']!r} is truncated or altered "
                "(checksum mismatch). Use an earlier checkpoint or re-train."
            )
        blobs[seg["name"]] = blob
        offset += seg["size"]
    return header, blobs


def _migrate_v1(header: dict[str, Any]) -> dict[str, Any]:
    """A version 1 header as version 2: a training file written before the weight
    parametrisation was recorded predicted noise with its weight outputs."""
    header = {**header, "version": 2}
    if header.get("kind") == "training":
        header["meta"] = {"weight_output": "eps", **header.get("meta", {})}
    return header


def restore_segment(path: str | os.PathLike, blob: bytes, like, name: str):
    """Deserialise one segment into the structure of `like`, with a clear error on mismatch."""
    try:
        return eqx.tree_deserialise_leaves(io.BytesIO(blob), like)
    except Exception as err:  # equinox raises several types on a shape/structure mismatch
        raise CheckpointError(
            f"checkpoint {path}: segment {name!r} does not match the expected structure "
            f"({type(err).__name__}: {err}). Was it written for a different model configuration?"
        ) from err


def tree_fingerprint(tree) -> str:
    """A short stable digest of a PyTree's array contents (e.g. a PRNG key)."""
    leaves = [
        jax.random.key_data(x) if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key) else x
        for x in jax.tree.leaves(tree)
    ]
    return hashlib.sha256(_serialise(leaves)).hexdigest()[:16]


def differences(saved: Any, now: Any, prefix: str = "") -> list[str]:
    """The fields where two JSON-like settings differ, as `path: saved → now` lines.

    Nested dicts are compared key by key (paths joined with dots), so a mismatch names the
    leaf that differs, not the whole configuration."""
    if isinstance(saved, dict) and isinstance(now, dict):
        lines = []
        for key in sorted(set(saved) | set(now), key=str):
            name = f"{prefix}.{key}" if prefix else str(key)
            if key not in saved:
                lines.append(f"{name}: (absent) → {now[key]!r}")
            elif key not in now:
                lines.append(f"{name}: {saved[key]!r} → (absent)")
            else:
                lines.extend(differences(saved[key], now[key], name))
        return lines
    return [] if saved == now else [f"{prefix or 'value'}: {saved!r} → {now!r}"]
