"""Independent runs side by side in one compiled program: the members' states stacked on a
leading axis, one step function vmapped over them.

Member `m` steps exactly as its own run would: it is given `fold_in(key_m, step)`, its own
state and the shared data, so a run of `K` members computes what `K` single runs compute,
in one program (one dispatch per chunk, `K`-wide matrix products) instead of `K`.
"""

from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Int, Key, PyTree


def stack(trees: Sequence[PyTree]) -> PyTree:
    """Trees of the same structure, their arrays stacked on a new leading axis."""
    arrays = [eqx.filter(t, eqx.is_array) for t in trees]
    rest = eqx.filter(trees[0], eqx.is_array, inverse=True)
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *arrays)
    return eqx.combine(stacked, rest)


def unstack(tree: PyTree, count: int) -> list[PyTree]:
    """The inverse of [`stack`][selfguide.training.stack]: member `m` of each array."""
    arrays, rest = eqx.partition(tree, eqx.is_array)
    return [eqx.combine(jax.tree.map(lambda x, m=m: x[m], arrays), rest) for m in range(count)]


class MemberState(eqx.Module):
    """The stacked states of the members, each member's training key, and the shared step
    counter the training loop reads."""

    members: Any
    keys: Key[Array, " K"]
    step: Int[Array, ""]


class Members(eqx.Module):
    """A step function for [`run_training`][selfguide.training.run_training] that steps
    every member of a [`MemberState`][selfguide.training.MemberState] with `step`.

    Member `m` gets the key `fold_in(keys[m], k)` at step `k`, as its single run does (the
    loop's own key is not used). The metrics are the members' metrics one after the other
    (`K × len(metrics)` numbers), so the history keeps every member's losses.

    **Arguments:**

    - `step`: one member's step function.
    - `data_axes`: which parts of `data` are per member (stacked on a leading axis, `0`)
      and which are shared (`None`): a prefix of the data's structure, as `jax.vmap`'s
      `in_axes`. Default: all shared.
    """

    step: Any
    data_axes: Any = eqx.field(static=True, default=None)

    def __call__(self, state: MemberState, data, key):
        del key
        keys = jax.vmap(lambda k: jr.fold_in(k, state.step))(state.keys)
        arrays, rest = eqx.partition(state.members, eqx.is_array)

        def one(member_arrays, member_key, member_data):
            new, metrics = self.step(eqx.combine(member_arrays, rest), member_data, member_key)
            return eqx.filter(new, eqx.is_array), metrics

        new_arrays, metrics = jax.vmap(one, in_axes=(0, 0, self.data_axes))(arrays, keys, data)
        new = eqx.combine(new_arrays, rest)
        new = eqx.tree_at(lambda s: s.step, new, state.members.step + 1)
        return MemberState(new, state.keys, state.step), metrics.reshape(-1)


def member_names(metrics: Sequence[str], count: int) -> tuple[str, ...]:
    """`("loss[0]", "data_loss[0]", ..., "loss[1]", ...)`: the names of `Members`' metrics."""
    return tuple(f"{name}[{m}]" for m in range(count) for name in metrics)
