"""The LN-ResNet of IDQL and SWG, with a weight head that can branch after any block."""

from collections.abc import Callable
from typing import ClassVar

import equinox as eqx
import jax
import jax.random as jr
from jaxtyping import Array, Float

from .._custom_types import Cond, EpsPair, PRNGKey
from ._fast_forms import BuiltinForms
from ._inputs import InputLayer, check_dims, check_head_at, check_inputs
from ._time_embedding import FourierTimeEmbedding


class ResidualBlock(eqx.Module):
    """`h + Dense(act(Dense(LayerNorm(Dropout(h)))))`, expanding the width in between."""

    dropout: eqx.nn.Dropout
    norm: eqx.nn.LayerNorm
    up: eqx.nn.Linear
    down: eqx.nn.Linear
    activation: Callable

    def __init__(self, width: int, expansion: int, dropout: float, activation, *, key: PRNGKey):
        ukey, dkey = jr.split(key)
        self.dropout = eqx.nn.Dropout(dropout)
        self.norm = eqx.nn.LayerNorm(width)
        self.up = eqx.nn.Linear(width, width * expansion, key=ukey)
        self.down = eqx.nn.Linear(width * expansion, width, key=dkey)
        self.activation = activation

    def __call__(self, h: Float[Array, " W"], *, key: PRNGKey | None) -> Float[Array, " W"]:
        u = self.dropout(h, key=key, inference=key is None)
        # Recomputed in the backward pass rather than stored: one pass over the wide features
        # instead of two, and the same arithmetic.
        activation = jax.checkpoint(self.activation)
        u = self.down(activation(self.up(self.norm(u))))
        return h + u


class WeightHead(eqx.Module):
    """Reads the weight channels' noise from hidden features.

    `hidden=None` gives `Linear(act(h))`, exactly the rows of a final output layer;
    otherwise `Linear(act(Linear(h)))` as in the SWG reference (hidden 256).
    """

    first: eqx.nn.Linear | None
    last: eqx.nn.Linear
    activation: Callable

    def __init__(self, width: int, out: int, hidden: int | None, activation, *, key: PRNGKey):
        fkey, lkey = jr.split(key)
        self.first = None if hidden is None else eqx.nn.Linear(width, hidden, key=fkey)
        self.last = eqx.nn.Linear(width if hidden is None else hidden, out, key=lkey)
        self.activation = activation

    def __call__(self, h: Float[Array, " W"]) -> Float[Array, " K"]:
        if self.first is not None:
            h = self.first(h)
        return self.last(self.activation(h))


class ResNetDenoiser(BuiltinForms):
    """The LayerNorm-ResNet ε-network of IDQL, as used by SWG.

    Input `[z_t, cond, time-embedding]` → `Dense(width)` → `num_blocks` residual blocks →
    `act` → `Dense`. With `weight_head_at = k` the weight channels come from a separate
    [`WeightHead`][selfguide.WeightHead] reading the features after block `k` (`0` = before the
    first block), so the guidance gradient only traverses the first `k` blocks; the final layer
    then predicts the data channels only.

    **Arguments:**

    - `data_dim`, `weight_dim`, `cond_dim`: sizes of `x`, `w` and the conditioning vector
        (`0` or `None` for none).
    - `width` (256), `num_blocks` (3), `expansion` (4), `dropout` (0.1): the body.
    - `weight_head_at`: `None` (weights from the final layer) or a block index in
        `[0, num_blocks]`; the reference uses 2.
    - `weight_head_hidden`: hidden width of the weight head (256), or `None` for a single
        linear layer after the activation.
    - `time_features` (128), `time_dim` (256): the Fourier time embedding.
    - `activation`: default `jax.nn.swish`.
    - `key`: initialisation key.
    """

    row_fields: ClassVar[tuple[str, ...]] = ("blocks", "weight_head", "out")
    data_dim: int = eqx.field(static=True)
    weight_dim: int = eqx.field(static=True)
    cond_dim: int = eqx.field(static=True)
    weight_head_at: int | None = eqx.field(static=True)
    time_embedding: FourierTimeEmbedding
    stem: InputLayer
    blocks: tuple[ResidualBlock, ...]
    out: eqx.nn.Linear
    weight_head: WeightHead | None
    activation: Callable

    def __init__(
        self,
        data_dim: int,
        weight_dim: int = 1,
        cond_dim: int | None = 0,
        *,
        width: int = 256,
        num_blocks: int = 3,
        expansion: int = 4,
        dropout: float = 0.1,
        weight_head_at: int | None = 2,
        weight_head_hidden: int | None = 256,
        time_features: int = 128,
        time_dim: int = 256,
        activation: Callable = jax.nn.swish,
        key: PRNGKey,
    ):
        data_dim, weight_dim, cond_dim = check_dims(
            "ResNetDenoiser", data_dim, weight_dim, cond_dim
        )
        check_head_at("ResNetDenoiser", weight_head_at, num_blocks, first=0)
        tkey, skey, okey, hkey, *bkeys = jr.split(key, 4 + num_blocks)
        self.data_dim, self.weight_dim, self.cond_dim = data_dim, weight_dim, cond_dim
        self.weight_head_at = weight_head_at
        self.time_embedding = FourierTimeEmbedding(time_features, time_dim, time_dim, key=tkey)
        total = data_dim + weight_dim
        self.stem = InputLayer(total, cond_dim, time_dim, width, key=skey)
        self.blocks = tuple(
            ResidualBlock(width, expansion, dropout, activation, key=k) for k in bkeys
        )
        main_out = total if weight_head_at is None else data_dim
        self.out = eqx.nn.Linear(width, main_out, key=okey)
        self.weight_head = (
            None
            if weight_head_at is None
            else WeightHead(width, weight_dim, weight_head_hidden, activation, key=hkey)
        )
        self.activation = activation

    def time_features(self, t: Float[Array, ""]) -> Float[Array, " W"]:
        """The input layer's time term `W_t · embedding(t)`."""
        return self.stem.time_part(self.time_embedding(t))

    def split_eps_from_features(
        self, z: Float[Array, " D"], features: Float[Array, " W"], cond: Cond = None, *,
        key: PRNGKey | None = None,
    ) -> EpsPair:
        """`split_eps` given `time_features(t)`."""
        check_inputs("ResNetDenoiser", z, cond, self.data_dim + self.weight_dim, self.cond_dim)
        keys = [None] * len(self.blocks) if key is None else list(jr.split(key, len(self.blocks)))
        h = self.stem.with_time_term(z, cond, features)
        eps_w = None
        for i, (block, k) in enumerate(zip(self.blocks, keys, strict=True)):
            if self.weight_head is not None and i == self.weight_head_at:
                eps_w = self.weight_head(h)
            h = block(h, key=k)
        if self.weight_head is not None and self.weight_head_at == len(self.blocks):
            eps_w = self.weight_head(h)
        out = self.out(self.activation(h))
        if eps_w is None:
            return out[: self.data_dim], out[self.data_dim :]
        return out, eps_w
