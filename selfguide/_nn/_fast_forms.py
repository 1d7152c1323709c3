"""The faster forms of the built-in networks (`training_form`, `sampling_form`), shared by
`ResNetDenoiser` and `MLPDenoiser`."""

import equinox as eqx

from .._speed._rows_major import MIN_ROWS, rows_major_layers
from .._speed._training_layers import training_layers
from ._denoiser import TimeSplitDenoiser


class BuiltinForms(TimeSplitDenoiser):
    """A `TimeSplitDenoiser` whose layers all run on one example under the batch `vmap`, and
    whose row layers (those applied to every row, not the time path) are the fields
    `row_fields` names. On CPU: training layers with faster backward passes, and rows-major
    row layers for `MIN_ROWS` rows or more."""

    row_fields: eqx.AbstractClassVar[tuple[str, ...]]

    def training_form(self, platform: str) -> "BuiltinForms":
        return training_layers(self) if platform == "cpu" else self

    def sampling_form(self, rows: int, platform: str) -> "BuiltinForms":
        if platform != "cpu" or rows < MIN_ROWS:
            return self
        present = [n for n in self.row_fields if getattr(self, n) is not None]
        return eqx.tree_at(
            lambda net: [getattr(net, n) for n in present],
            self,
            [rows_major_layers(getattr(self, n)) for n in present],
        )
