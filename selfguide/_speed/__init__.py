"""The library's speed transforms, each measured (`docs/performance.md`) and each applied
explicitly by whoever owns the choice:

- `training_layers` (`_training_layers.py`, with `_batched_linear.py` and `_layer_norm.py`):
  faster backward passes of dense layers and LayerNorm on CPU; a network applies it in its
  `training_form(platform)`, and wrappers forward that call.
- `rows_major_layers` (`_rows_major.py`): dense layers as `x Wᵀ + b` for many rows on CPU;
  a network applies it in its `sampling_form(rows, platform)`.
- the shared time path: a network that splits off its time path offers it through
  `time_split()`; the loss then runs it once per distinct time (`_loss.py`; −4.9 ms of a
  60 ms step at batch 1024).
- `philox_key` (`_philox.py`): cheaper random draws for the loss.
- `cpu_compiler_options` (`_vector_width.py`): 512-bit vectors for the training loop's
  chunks on CPU (`selfguide/training/_chunk.py`).

None of them changes a result beyond floating-point reordering; none is chosen by looking
at a network's attribute names or the process-wide backend.
"""
