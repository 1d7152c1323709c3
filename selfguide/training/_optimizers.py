"""Optimisers built once per setting: the compiled training chunk is keyed on the
optimiser object, so the same settings must give the same object to reuse it."""

import functools

import optax


@functools.lru_cache(maxsize=64)
def default_optimizer(
    steps: int, learning_rate: float = 3e-4, weight_decay: float = 1e-4
) -> optax.GradientTransformation:
    """AdamW at `learning_rate` with cosine decay to zero over `steps` and decoupled
    `weight_decay` (optax's default; the reference).

    Cached: the same arguments give the same object, so a second `train` with the same budget
    reuses the compiled training chunk."""
    schedule = optax.cosine_decay_schedule(learning_rate, max(steps, 1))
    return optax.adamw(schedule, weight_decay=weight_decay)


@functools.lru_cache(maxsize=64)
def adam(learning_rate: float) -> optax.GradientTransformation:
    """Adam at a constant `learning_rate` (the value learner's), cached like
    [`default_optimizer`][selfguide.default_optimizer]."""
    return optax.adam(learning_rate)
