"""The training loop every trainer in the project uses, and its checkpoints.

A trainer supplies a step function `step(state, data, key) -> (state, metrics)` and a state
with a `step` counter; [`run_training`][selfguide.training.run_training] runs it in jitted,
scanned chunks with fold-in keys, resume, atomic checkpoints, a progress bar and a history.
"""

from ._checkpointing import resume_state as resume_state
from ._checkpointing import save_state as save_state
from ._chunk import RunChunk as RunChunk
from ._chunk import run_chunk as run_chunk
from ._loop import Checkpointing as Checkpointing
from ._loop import HasStep as HasStep
from ._loop import run_training as run_training
from ._members import Members as Members
from ._members import MemberState as MemberState
from ._members import member_names as member_names
from ._members import stack as stack
from ._members import unstack as unstack
from ._optimizers import adam as adam
from ._optimizers import default_optimizer as default_optimizer
