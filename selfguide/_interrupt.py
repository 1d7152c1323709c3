"""What a training loop says when it is interrupted (Ctrl-C) and when it resumes."""

import shlex
import sys
from collections.abc import Sequence
from pathlib import Path


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during a training loop, with where training stood.

    A `KeyboardInterrupt`, so code that stops on Ctrl-C still stops; its message says
    which step was reached and which step the checkpoint holds, so that running the same
    call again continues from there.

    - `what`: the training loop (`"fit"`, `"values"`, ...).
    - `step`, `total`: steps done when interrupted, and the steps asked for.
    - `checkpoint`: the checkpoint file, or `None` when the run writes none.
    - `saved_step`: the step the checkpoint holds (`None` if none was written).
    """

    def __init__(
        self,
        what: str,
        step: int,
        total: int,
        checkpoint: str | Path | None,
        saved_step: int | None,
    ):
        self.what, self.step, self.total = what, step, total
        self.checkpoint = None if checkpoint is None else Path(checkpoint)
        self.saved_step = saved_step
        super().__init__(self.message())

    def message(self) -> str:
        head = f"{self.what}: interrupted at step {self.step:,} of {self.total:,}"
        if self.checkpoint is None:
            return f"{head}; no checkpoint was written (pass checkpoint=... to make it resumable)."
        if self.saved_step is None:
            return f"{head}; nothing was saved yet to {self.checkpoint}."
        return (
            f"{head}; the checkpoint {self.checkpoint} holds step {self.saved_step:,}: run the "
            "same call again to continue from there."
        )

    def __str__(self) -> str:
        return self.message()


def report_resume(what: str, step: int, total: int, checkpoint: str | Path) -> None:
    """One line on stderr: a run continues from a checkpoint."""
    print(
        f"{what}: resuming from step {step:,} of {total:,} (checkpoint {checkpoint})",
        file=sys.stderr,
        flush=True,
    )


def interrupted_message(call: str, error: KeyboardInterrupt, command: Sequence[str]) -> str:
    """What a command line prints on Ctrl-C: where training stood and, when a checkpoint
    holds the work, the exact command that resumes it."""
    if not isinstance(error, TrainingInterrupted):
        return f"{call}: interrupted."
    line = f"{call}: {error.what} interrupted at step {error.step:,} of {error.total:,}"
    if error.checkpoint is None or error.saved_step is None:
        return f"{line}; nothing was saved, so a new run starts over: {shlex.join(command)}"
    return (
        f"{line}; the checkpoint {error.checkpoint} holds step {error.saved_step:,}. "
        f"Resume with: {shlex.join(command)}"
    )
