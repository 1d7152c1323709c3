"""A plain MLP ε-network, optionally with an early weight head."""

from collections.abc import Callable
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float

from .._custom_types import Cond, EpsPair, PRNGKey
from ._fast_forms import BuiltinForms
from ._input_features import FourierInputFeatures
from ._inputs import InputLayer, check_dims, check_head_at, check_inputs
from ._time_embedding import FourierTimeEmbedding


class MLPDenoiser(BuiltinForms):
    """An MLP ε-network: `[z_t, cond, time-embedding]` → `depth` hidden layers → `Dense`.

    With `weight_head_at = k` (`1 ≤ k ≤ depth`) the weight channels are read by a linear layer
    from the activations of hidden layer `k`, so guidance differentiates only through the first
    `k` layers.

    **Arguments:**

    - `data_dim`, `weight_dim`, `cond_dim`: sizes of `x`, `w` and the conditioning (`0` or
        `None`: none).
    - `width` (256), `depth` (4): hidden layers. The SWG toys use 6 layers of 512 with GELU.
    - `weight_head_at`: `None` or a hidden-layer index in `[1, depth]`.
    - `time_features` (64), `time_dim` (128): the Fourier time embedding.
    - `input_features` (0: none), `input_feature_scale` (1.0): random Fourier features of the
        data channels `x_t` (fixed frequencies of standard deviation `input_feature_scale`
        cycles per unit, [`FourierInputFeatures`][selfguide.FourierInputFeatures]), fed to
        the input layer beside `z_t`; they help an MLP learn fine 2-D structure.
    - `activation`: default `jax.nn.gelu`.
    - `key`: initialisation key.
    """

    row_fields: ClassVar[tuple[str, ...]] = ("layers", "weight_head", "out")
    data_dim: int = eqx.field(static=True)
    weight_dim: int = eqx.field(static=True)
    cond_dim: int = eqx.field(static=True)
    weight_head_at: int | None = eqx.field(static=True)
    time_embedding: FourierTimeEmbedding
    input_features: FourierInputFeatures | None
    input_layer: InputLayer
    layers: tuple[eqx.nn.Linear, ...]
    out: eqx.nn.Linear
    weight_head: eqx.nn.Linear | None
    activation: Callable

    def __init__(
        self,
        data_dim: int,
        weight_dim: int = 1,
        cond_dim: int | None = 0,
        *,
        width: int = 256,
        depth: int = 4,
        weight_head_at: int | None = None,
        time_features: int = 64,
        time_dim: int = 128,
        input_features: int = 0,
        input_feature_scale: float = 1.0,
        activation: Callable = jax.nn.gelu,
        key: PRNGKey,
    ):
        data_dim, weight_dim, cond_dim = check_dims(
            "MLPDenoiser", data_dim, weight_dim, cond_dim
        )
        if depth < 1:
            raise ValueError(f"MLPDenoiser: depth must be >= 1, got {depth}.")
        check_head_at("MLPDenoiser", weight_head_at, depth, first=1)
        tkey, okey, hkey, *lkeys = jr.split(key, 3 + depth)
        self.data_dim, self.weight_dim, self.cond_dim = data_dim, weight_dim, cond_dim
        self.weight_head_at = weight_head_at
        self.time_embedding = FourierTimeEmbedding(time_features, time_dim, time_dim, key=tkey)
        total = data_dim + weight_dim
        self.input_features = (
            FourierInputFeatures(data_dim, input_features, input_feature_scale,
                                 key=jr.fold_in(key, 1))
            if input_features else None
        )
        self.input_layer = InputLayer(total + input_features, cond_dim, time_dim, width,
                                      key=lkeys[0])
        self.layers = tuple(eqx.nn.Linear(width, width, key=k) for k in lkeys[1:])
        self.out = eqx.nn.Linear(width, total if weight_head_at is None else data_dim, key=okey)
        self.weight_head = (
            None if weight_head_at is None else eqx.nn.Linear(width, weight_dim, key=hkey)
        )
        self.activation = activation

    def time_features(self, t: Float[Array, ""]) -> Float[Array, " W"]:
        """The input layer's time term `W_t · embedding(t)`."""
        return self.input_layer.time_part(self.time_embedding(t))

    def split_eps_from_features(
        self, z: Float[Array, " D"], features: Float[Array, " W"], cond: Cond = None, *,
        key: PRNGKey | None = None,
    ) -> EpsPair:
        """`split_eps` given `time_features(t)`."""
        del key  # no dropout
        check_inputs("MLPDenoiser", z, cond, self.data_dim + self.weight_dim, self.cond_dim)
        z_in = z if self.input_features is None else jnp.concatenate(
            [z, self.input_features(z[: self.data_dim])])
        h = self.activation(self.input_layer.with_time_term(z_in, cond, features))
        eps_w = self.weight_head(h) if self.weight_head_at == 1 else None
        for i, layer in enumerate(self.layers, start=2):
            h = self.activation(layer(h))
            if self.weight_head is not None and i == self.weight_head_at:
                eps_w = self.weight_head(h)
        out = self.out(h)
        if eps_w is None:
            return out[: self.data_dim], out[self.data_dim :]
        return out, eps_w
