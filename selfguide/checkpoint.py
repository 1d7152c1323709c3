"""Checkpoint files, atomic writes and resume messages, for code that saves its own state.

A checkpoint is one versioned file: magic bytes, a JSON header (format version, the
caller's metadata, each segment's size and SHA-256 digest) and named segments, each the
serialised leaves of a PyTree. It is written atomically (a temporary file, flushed, then
renamed), so a crash leaves the old file or the new one, never a torn one; reading checks
the version and every digest, and any problem is a
[`CheckpointError`][selfguide.CheckpointError] that says what to do.

**Example:**

```python
from selfguide.checkpoint import read_checkpoint, restore_segment, write_checkpoint

write_checkpoint("net.ckpt", {"kind": "energy", "step": 100}, {"net": net})
header, blobs = read_checkpoint("net.ckpt")
net = restore_segment("net.ckpt", blobs["net"], like=net, name="net")
```
"""

import os
from pathlib import Path
from typing import Any

from ._checkpoint import CheckpointError as CheckpointError
from ._checkpoint import atomic_write_bytes as atomic_write_bytes
from ._checkpoint import atomic_write_text as atomic_write_text
from ._checkpoint import differences as differences
from ._checkpoint import read_header as _read_header
from ._checkpoint import restore_segment as restore_segment
from ._checkpoint import tree_fingerprint as tree_fingerprint
from ._checkpoint import write_checkpoint as write_checkpoint
from ._interrupt import interrupted_message as interrupted_message
from ._interrupt import report_resume as report_resume


def read_checkpoint(path: str | os.PathLike | Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Read and verify a checkpoint written by
    [`write_checkpoint`][selfguide.checkpoint.write_checkpoint].

    **Arguments:**

    - `path`: the checkpoint file.

    **Returns:** `(header, blobs)`: the JSON header (the caller's metadata next to the
    format's own fields) and each segment's raw bytes by name; turn a segment back into a
    PyTree with [`restore_segment`][selfguide.checkpoint.restore_segment].

    **Raises:** [`CheckpointError`][selfguide.CheckpointError] for a missing file, another
    format or version, or a segment whose digest does not match.
    """
    return _read_header(path)
