"""SAC's replay buffer: device arrays written in place (donated), read by the update chunk.

Rows are written in order into a ring of `capacity`; `size` counts the rows held. The
buffer also keeps every transition's running index (`written`), so the first `n`
transitions of a run (D4RL's medium-replay) can be read back while the ring has not
wrapped.
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float


class ReplayBuffer(eqx.Module):
    observations: Float[Array, "n o"]
    actions: Float[Array, "n a"]
    rewards: Float[Array, " n"]
    next_observations: Float[Array, "n o"]
    terminals: Float[Array, " n"]
    truncations: Float[Array, " n"]
    written: Array  # int32: transitions written so far

    @classmethod
    def empty(cls, capacity: int, obs_dim: int, act_dim: int) -> "ReplayBuffer":
        return cls(jnp.zeros((capacity, obs_dim)), jnp.zeros((capacity, act_dim)),
                   jnp.zeros(capacity), jnp.zeros((capacity, obs_dim)), jnp.zeros(capacity),
                   jnp.zeros(capacity), jnp.asarray(0, jnp.int32))

    @property
    def capacity(self) -> int:
        return self.rewards.shape[0]

    def size(self) -> Array:
        return jnp.minimum(self.written, self.capacity)

    def data(self) -> tuple:
        """What `SACStep` reads: `(s, a, r, s', terminal, size)`."""
        return (self.observations, self.actions, self.rewards, self.next_observations,
                self.terminals, self.size())

    def add(self, s, a, r, s2, terminal, truncated) -> "ReplayBuffer":
        """The buffer with a block of rows appended (the caller's buffer is donated)."""
        block = tuple(np.asarray(x, np.float32) for x in (s, a, r, s2, terminal, truncated))
        return _add(self, block)

    def first(self, n: int) -> dict[str, np.ndarray]:
        """The first `n` transitions written, on the host (they must still be held)."""
        if n > self.capacity or n > int(self.written):
            raise ValueError(
                f"ReplayBuffer.first: {n} transitions asked for, but {int(self.written)} were "
                f"written into a ring of {self.capacity}."
            )
        return {name: np.asarray(getattr(self, name)[:n]) for name in _FIELDS}


_FIELDS = ("observations", "actions", "rewards", "next_observations", "terminals",
           "truncations")


@functools.partial(jax.jit, donate_argnums=0)
def _add(buffer: ReplayBuffer, block: tuple) -> ReplayBuffer:
    n = block[2].shape[0]
    idx = (buffer.written + jnp.arange(n)) % buffer.capacity
    updated = {f: getattr(buffer, f).at[idx].set(x) for f, x in zip(_FIELDS, block, strict=True)}
    return ReplayBuffer(**updated, written=buffer.written + n)
