"""Shared input handling for the built-in denoisers."""

import equinox as eqx
from jaxtyping import Array, Float

from .._checks import check_int, check_optional_dim
from .._custom_types import PRNGKey


def check_dims(
    name: str, data_dim: int, weight_dim: int, cond_dim: int | None
) -> tuple[int, int, int]:
    """The three sizes as ints; `cond_dim=None` means no conditioning (0)."""
    data_dim = check_int(name, "data_dim", data_dim, minimum=1)
    weight_dim = check_int(name, "weight_dim", weight_dim, minimum=1)
    cond_dim = check_optional_dim(name, "cond_dim", cond_dim)
    return data_dim, weight_dim, cond_dim


class InputLayer(eqx.Module):
    """`Linear([z, cond, t_emb])` stored as three blocks, `W_z z + W_c cond + W_t t_emb + b`.

    Identical to one linear layer on the concatenation (and initialised as one), but:
    the guidance gradient `∂/∂z` only touches the small `W_z`; when sampling, `W_t t_emb` is
    computed once per step for the whole batch (the time is shared) and `W_c cond` does not
    change across steps.
    """

    z_part: eqx.nn.Linear
    cond_part: eqx.nn.Linear | None
    time_part: eqx.nn.Linear

    def __init__(self, z_dim: int, cond_dim: int, time_dim: int, width: int, *, key: PRNGKey):
        full = eqx.nn.Linear(z_dim + cond_dim + time_dim, width, key=key)
        cuts = (z_dim, z_dim + cond_dim)

        def block(lo: int, hi: int, bias: bool) -> eqx.nn.Linear:
            layer = eqx.nn.Linear(hi - lo, width, use_bias=bias, key=key)
            layer = eqx.tree_at(lambda m: m.weight, layer, full.weight[:, lo:hi])
            return eqx.tree_at(lambda m: m.bias, layer, full.bias) if bias else layer

        self.z_part = block(0, cuts[0], True)
        self.cond_part = block(*cuts, False) if cond_dim else None
        self.time_part = block(cuts[1], cuts[1] + time_dim, False)

    @property
    def out_features(self) -> int:
        return self.z_part.out_features

    def __call__(
        self, z: Float[Array, " D"], cond: Float[Array, " c"] | None, t_emb: Float[Array, " e"]
    ) -> Float[Array, " W"]:
        return self.with_time_term(z, cond, self.time_part(t_emb))

    def with_time_term(
        self, z: Float[Array, " D"], cond: Float[Array, " c"] | None, time_term: Float[Array, " W"]
    ) -> Float[Array, " W"]:
        """The layer's output given its time block's contribution `W_t t_emb`."""
        h = self.z_part(z) + time_term
        return h if self.cond_part is None else h + self.cond_part(cond)


def check_inputs(
    name: str,
    z: Float[Array, " D"],
    cond: Float[Array, " c"] | None,
    total_dim: int,
    cond_dim: int,
) -> None:
    """Check the shapes of `z` and `cond` at trace time, with errors that say what to do."""
    if z.shape != (total_dim,):
        raise ValueError(
            f"{name}: expected z of shape ({total_dim},) (data + weight channels, one example; "
            f"vmap over a batch), got {z.shape}."
        )
    if cond_dim == 0:
        if cond is not None:
            raise ValueError(
                f"{name}: got a conditioning vector but the network was built with cond_dim=0. "
                "Build it with cond_dim=<size of cond>."
            )
        return
    if cond is None:
        raise ValueError(
            f"{name}: the network was built with cond_dim={cond_dim} and needs `cond`; got None."
        )
    if cond.shape != (cond_dim,):
        raise ValueError(
            f"{name}: expected a conditioning vector of shape ({cond_dim},), got {cond.shape}."
        )


def check_head_at(name: str, weight_head_at: int | None, num_layers: int, first: int) -> None:
    if weight_head_at is not None and not first <= weight_head_at <= num_layers:
        raise ValueError(
            f"{name}: weight_head_at must be None (weights from the last layer) or an integer in "
            f"[{first}, {num_layers}] (the block the weight head branches after), "
            f"got {weight_head_at}."
        )
