"""A toy data distribution: a sampler of `q` and an energy `e(x) ∈ [0, 1]`."""

import dataclasses
import math
from collections.abc import Callable
from typing import TypeAlias

import numpy as np

RNG: TypeAlias = int | np.integer | np.random.Generator
"""A seed or a NumPy `Generator`; the same seed always gives the same draw."""

Real: TypeAlias = int | float | np.integer | np.floating
"""A real Python or NumPy scalar (an inverse temperature `β`, a bound)."""


def as_generator(rng: RNG) -> np.random.Generator:
    """Turn a seed into a NumPy `Generator`; a `Generator` passes through unchanged."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(int(rng))


def check_count(call: str, name: str, n: int | np.integer) -> int:
    """`n` as a positive `int`, or a `ValueError` that names `call`."""
    if isinstance(n, bool) or int(n) < 1:
        raise ValueError(
            f"{call}: `{name}` must be a positive number of samples, got {n!r}. "
            f"Pass an integer >= 1."
        )
    return int(n)


def check_real(call: str, name: str, value: Real) -> float:
    """`value` as a finite `float`, or a `ValueError` that names `call`."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{call}: `{name}` must be a finite number, got {value!r}.")
    return value


@dataclasses.dataclass(frozen=True)
class Toy:
    """A data distribution `q` with an energy `e(x) ∈ [0, 1]`, the pair behind
    `p_β(x) ∝ q(x) exp(β e(x))`.

    The six built-in toys are `Toy`s (see [`get_toy`][selfguide.toys.get_toy]); build one
    for your own `(sampler of q, energy)` pair the same way.

    **Arguments:**

    - `name`: a label used in messages and reports.
    - `sampler`: `sampler(rng, n) -> x`, `n` i.i.d. draws of `q` as a float array of shape
        `(n, dim)`, using only the NumPy `Generator` `rng` for randomness.
    - `energy_fn`: `energy_fn(x) -> e`, shape `(n, dim) -> (n,)`, values in `[0, 1]`. It must
        be a function of `x` alone, so that the target is well defined.
    - `dim`: the data dimension (2 for the built-in toys).
    - `mode_fn`: optional, for piecewise-constant energies: `mode_fn(x) -> labels`, integer
        labels in `{0, …, M − 1}` (or `−1` for a point outside every mode) on regions where
        `e` is constant.
    - `mode_prior`: the `q`-mass of each mode region (sums to 1); needed with `mode_fn`.
    - `mode_energy`: the energy on each mode region; needed with `mode_fn`.

    With the three mode fields given, [`mode_weights`][selfguide.toys.mode_weights] returns
    the exact target masses `π_m exp(β e_m) / Σ_k π_k exp(β e_k)`.

    **Example:**

    ```python
    import numpy as np
    from selfguide import toys

    blob = toys.Toy(
        name="unit-gaussian",
        sampler=lambda rng, n: rng.standard_normal((n, 2)),
        energy_fn=lambda x: np.exp(-0.5 * np.sum(x**2, axis=-1)),
    )
    x, e = toys.sample_target(blob, beta=5.0, n=1000, rng=0)
    ```
    """

    name: str
    sampler: Callable[[np.random.Generator, int], np.ndarray]
    energy_fn: Callable[[np.ndarray], np.ndarray]
    dim: int = 2
    mode_fn: Callable[[np.ndarray], np.ndarray] | None = None
    mode_prior: tuple[float | int, ...] | None = None
    mode_energy: tuple[float | int, ...] | None = None

    def __post_init__(self):
        call = f"Toy(name={self.name!r})"
        if self.dim < 1:
            raise ValueError(f"{call}: `dim` must be >= 1, got {self.dim}.")
        fields = {"mode_fn": self.mode_fn, "mode_prior": self.mode_prior}
        fields["mode_energy"] = self.mode_energy
        given = [name for name, value in fields.items() if value is not None]
        if 0 < len(given) < 3:
            raise ValueError(
                f"{call}: `mode_fn`, `mode_prior` and `mode_energy` go together; got only "
                f"{given}. Pass all three (piecewise-constant energy) or none."
            )
        if self.mode_prior is not None and self.mode_energy is not None:
            prior = np.asarray(self.mode_prior, dtype=float)
            energy = np.asarray(self.mode_energy, dtype=float)
            if prior.ndim != 1 or prior.shape != energy.shape or prior.size == 0:
                raise ValueError(
                    f"{call}: `mode_prior` and `mode_energy` must be non-empty and of equal "
                    f"length, got {len(self.mode_prior)} and {len(self.mode_energy)}."
                )
            if np.any(prior < 0) or abs(prior.sum() - 1.0) > 1e-6:
                raise ValueError(
                    f"{call}: `mode_prior` must be non-negative and sum to 1, got "
                    f"{self.mode_prior} (sum {prior.sum():.6g})."
                )
            if np.any(energy < 0) or np.any(energy > 1):
                raise ValueError(
                    f"{call}: `mode_energy` must lie in [0, 1], got {self.mode_energy}."
                )

    @property
    def has_modes(self) -> bool:
        """Whether the energy is piecewise constant on known modes."""
        return self.mode_fn is not None

    @property
    def num_modes(self) -> int:
        """The number of modes (0 for a toy without modes)."""
        return 0 if self.mode_prior is None else len(self.mode_prior)
