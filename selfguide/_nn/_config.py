"""Rebuild the built-in networks from a JSON-able description (for checkpoints)."""

from typing import Any

import jax
import jax.random as jr

from ._mlp import MLPDenoiser
from ._resnet import ResNetDenoiser

_NETWORKS = {"ResNetDenoiser": ResNetDenoiser, "MLPDenoiser": MLPDenoiser}


def _activation_name(fn) -> str | None:
    for name in dir(jax.nn):
        if getattr(jax.nn, name) is fn:
            return name
    return None


def network_config(network) -> dict[str, Any] | None:
    """Constructor arguments of a built-in network, or `None` for other modules."""
    if type(network) not in (ResNetDenoiser, MLPDenoiser):
        return None
    dims = {
        "data_dim": network.data_dim,
        "weight_dim": network.weight_dim,
        "cond_dim": network.cond_dim,
    }
    activation = _activation_name(getattr(network, "activation", None))
    if activation is None:
        return None
    common = {
        **dims,
        "weight_head_at": network.weight_head_at,
        "time_features": 2 * network.time_embedding.frequencies.shape[0],
        "time_dim": network.time_embedding.out_dim,
        "activation": activation,
    }
    if type(network) is ResNetDenoiser:
        block = network.blocks[0]
        head = network.weight_head
        return {
            "class": "ResNetDenoiser",
            **common,
            "width": network.stem.out_features,
            "num_blocks": len(network.blocks),
            "expansion": block.up.out_features // network.stem.out_features,
            "dropout": block.dropout.p,
            "weight_head_hidden": None
            if head is None or head.first is None
            else head.first.out_features,
        }
    if type(network) is MLPDenoiser:
        return {
            "class": "MLPDenoiser",
            **common,
            "width": network.input_layer.out_features,
            "depth": 1 + len(network.layers),
            "input_features": 0 if network.input_features is None
            else network.input_features.num_features,
            "input_feature_scale": 1.0 if network.input_features is None
            else network.input_features.scale,
        }
    return None


def build_network(config: dict[str, Any]):
    """Build a freshly initialised network from [`network_config`][]'s output."""
    config = dict(config)
    cls = _NETWORKS[config.pop("class")]
    config["activation"] = getattr(jax.nn, config["activation"])
    return cls(key=jr.key(0), **config)
