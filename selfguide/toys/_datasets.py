"""The six 2-D energy toys, and the functions that draw from and score any `Toy`.

The datasets and their energies are those of the toy experiments of Lu et al., 2023,
"Contrastive Energy Prediction for Exact Energy-Guided Diffusion Sampling in Offline
Reinforcement Learning" (CEP), reimplemented in NumPy. Each is a sampler of `q` plus an
energy `e(x) ∈ [0, 1]`; the target is `p_β(x) ∝ q(x) exp(β e(x))`.

Where the reference generator leaves a choice open, this module decides as follows, so that
`e` is a function of `x` (the target is only defined then) and the mode masses are exact:

- **Draws are i.i.d.** The reference draws equal counts per ring / spiral arm and evaluates
  sklearn's `make_moons` on a `linspace` of angles; here the ring, arm and moon are drawn
  uniformly and the moon angle `θ ~ U[0, π]`, the distribution that the `linspace`
  discretises. Swiss-roll draws follow sklearn's `make_swiss_roll(noise=1.0)` (its unused
  height coordinate is not drawn).
- **swissroll**: `e = min(‖x‖² / 9, 1)`. The reference leaves `‖x‖²/9` unclipped; 1.2% of `q`
  lies beyond 1, and the clip keeps the weight `exp(β (e − 1))` in `(0, 1]`. That outer rim
  (`e = 1`) carries 23% of `p_β` at `β = 10`.
- **8gaussians**: `e = k / 7` with `k` the nearest centre (the 45° sector), not the latent
  component; they differ on 0.2% of draws. By the 8-fold rotational symmetry each sector has
  `q`-mass exactly 1/8, so the closed-form mode weights stay exact.
- **moons**: `e` = the class of the nearer arc (0 outer, 1 inner). `q` is symmetric under the
  point reflection that swaps the arcs, so each side has `q`-mass exactly 1/2.
- **rings**: `e` by the nearest ring radius, with the reference's constants:
  radius 3 → 0.667, 2.25 → 0.333, 1.5 → 1, 0.75 → 0. Rings are equally likely; a ring's
  nearest-radius region holds its mass up to 3e-6 (noise 0.08, half-gap 0.375).
- **checkerboard**: `e = 1` if `0 < x₁ ≤ 2` or `x₁ ≤ −2` on the *scaled* coordinates
  (`x₁ ∈ [−4, 4)`), as the reference code does: alternate columns of width 2 get `e = 1`.
  (On unscaled coordinates the clause `x₁ ≤ −2` would be empty.) Modes are the four columns,
  each of `q`-mass 1/4, with boundaries on the same side as the energy rule.
- **2spirals**: the reference labels a draw with its latent angle `n`,
  `e = clip(1 − n/10, 0, 1)`, which `x` does not determine. Here `n̂(x)` is the angle of the
  nearest point of the arms' mean curves `±((−n cos n, n sin n) + 0.25) / 3`, `n ∈ [0, 3π]`,
  and `e(x) = clip(1 − n̂(x)/10, 0, 1)`: mean `|e(x) − e_latent|` is 0.005.
"""

from collections.abc import Callable

import numpy as np
from jaxtyping import ArrayLike, Float, Int

from ._toy import RNG, Real, Toy, as_generator, check_count, check_real

# ---------------------------------------------------------------------------------------------
# The six generators. Each returns the draw and its generating latent (component, angle, ...),
# which only the tests use.


def _swissroll(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    t = 1.5 * np.pi * (1.0 + 2.0 * rng.uniform(size=n))
    x = np.stack([t * np.cos(t), t * np.sin(t)], axis=-1) + rng.standard_normal((n, 2))
    return x / 5.0, t


_GAUSS_ANGLES = np.pi / 2 + np.pi / 4 * np.arange(8)
_GAUSS_CENTRES = 4.0 * np.stack([np.cos(_GAUSS_ANGLES), np.sin(_GAUSS_ANGLES)], axis=-1)


def _8gaussians(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    k = rng.integers(0, 8, size=n)
    x = _GAUSS_CENTRES[k] + 0.5 * rng.standard_normal((n, 2))
    return x / 1.414, k


def _8gaussians_modes(x: np.ndarray) -> np.ndarray:
    angle = np.arctan2(x[:, 1], x[:, 0]) - np.pi / 2
    return np.mod(np.rint(angle / (np.pi / 4)).astype(np.int64), 8)


_MOON_SHIFT = np.array([-1.0, -0.2])
_MOON_CENTRE = np.array([1.0, 0.5])  # point reflection u -> centre - u swaps the two arcs


def _moons(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    label = rng.integers(0, 2, size=n)
    theta = np.pi * rng.uniform(size=n)
    outer = np.stack([np.cos(theta), np.sin(theta)], axis=-1)
    u = np.where(label[:, None] == 1, _MOON_CENTRE - outer, outer)
    u = u + 0.1 * rng.standard_normal((n, 2))
    return 2.0 * u + _MOON_SHIFT, label


def _upper_arc_distance(u: np.ndarray) -> np.ndarray:
    """Distance from `u` to the upper unit half-circle `(cos θ, sin θ)`, `θ ∈ [0, π]`."""
    to_circle = np.abs(np.linalg.norm(u, axis=-1) - 1.0)
    to_ends = np.minimum(
        np.linalg.norm(u - [1.0, 0.0], axis=-1), np.linalg.norm(u + [1.0, 0.0], axis=-1)
    )
    return np.where(u[:, 1] >= 0, to_circle, to_ends)


def _moons_modes(x: np.ndarray) -> np.ndarray:
    u = (x - _MOON_SHIFT) / 2.0
    inner = _upper_arc_distance(_MOON_CENTRE - u) < _upper_arc_distance(u)
    return inner.astype(np.int64)


_RING_RADII = 3.0 * np.array([1.0, 0.75, 0.5, 0.25])
_RING_ENERGY = (0.667, 0.333, 1.0, 0.0)


def _rings(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    j = rng.integers(0, 4, size=n)
    theta = 2 * np.pi * rng.uniform(size=n)
    x = _RING_RADII[j, None] * np.stack([np.cos(theta), np.sin(theta)], axis=-1)
    return x + 0.08 * rng.standard_normal((n, 2)), j


def _rings_modes(x: np.ndarray) -> np.ndarray:
    r = np.linalg.norm(x, axis=-1)
    return np.argmin(np.abs(r[:, None] - _RING_RADII), axis=-1).astype(np.int64)


def _checkerboard(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    x1 = 4.0 * rng.uniform(size=n) - 2.0
    x2 = rng.uniform(size=n) - 2.0 * rng.integers(0, 2, size=n) + np.mod(np.floor(x1), 2)
    x = 2.0 * np.stack([x1, x2], axis=-1)
    return x, _checkerboard_modes(x)


def _checkerboard_modes(x: np.ndarray) -> np.ndarray:
    # columns (−∞, −2], (−2, 0], (0, 2], (2, ∞) of the scaled x₁: the sides of the energy rule
    return np.clip(np.ceil(x[:, 0] / 2.0) + 1, 0, 3).astype(np.int64)


_SPIRAL_END = 3 * np.pi  # 540° in radians
_SPIRAL_SHIFT = 0.25  # mean of the uniform offset 0.5 U, in unscaled units
_SPIRAL_GRID = np.linspace(0.0, np.pi, 17)  # start candidates for the tightly curved centre


def _2spirals(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    angle = np.sqrt(rng.uniform(size=n)) * _SPIRAL_END
    d = np.stack(
        [
            -np.cos(angle) * angle + 0.5 * rng.uniform(size=n),
            np.sin(angle) * angle + 0.5 * rng.uniform(size=n),
        ],
        axis=-1,
    )
    arm = rng.integers(0, 2, size=n)
    x = np.where(arm[:, None] == 1, -d, d) / 3.0 + 0.1 * rng.standard_normal((n, 2))
    return x, angle


def _spiral_project(ux: np.ndarray, uy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Angle `n ∈ [0, 3π]` of the point of `(−n cos n, n sin n)` nearest to `(ux, uy)`, and
    the squared distance to it.

    The curve is the Archimedean spiral of radius `n` at polar angle `π − n`: the candidates
    are the points at the query's polar angle on each turn, the far end, and a grid over the
    tightly curved first half-turn; Newton's method then polishes the best one.
    """

    def dist2(n):
        return (-np.cos(n) * n - ux) ** 2 + (np.sin(n) * n - uy) ** 2

    n0 = np.mod(np.pi - np.arctan2(uy, ux), 2 * np.pi)
    best_n = np.full_like(ux, _SPIRAL_END)
    best = dist2(best_n)
    for cand in (n0, np.minimum(n0 + 2 * np.pi, _SPIRAL_END)):
        d = dist2(cand)
        best_n, best = np.where(d < best, cand, best_n), np.minimum(d, best)
    gx, gy = -np.cos(_SPIRAL_GRID) * _SPIRAL_GRID, np.sin(_SPIRAL_GRID) * _SPIRAL_GRID
    grid_d = (ux[:, None] - gx) ** 2 + (uy[:, None] - gy) ** 2
    j = np.argmin(grid_d, axis=-1)
    n = np.where(grid_d[np.arange(len(ux)), j] < best, _SPIRAL_GRID[j], best_n)
    for _ in range(5):
        c, s = np.cos(n), np.sin(n)
        rx, ry = -c * n - ux, s * n - uy
        dx, dy = -c + n * s, s + n * c
        grad, gauss_newton = rx * dx + ry * dy, dx * dx + dy * dy
        hess = gauss_newton + rx * (2 * s + n * c) + ry * (2 * c - n * s)
        hess = np.where(hess > 0.1 * gauss_newton, hess, gauss_newton)
        n = np.clip(n - grad / hess, 0.0, _SPIRAL_END)
    return n, dist2(n)


def _2spirals_angle(x: np.ndarray) -> np.ndarray:
    """`n̂(x)`: the latent angle of the nearest point on either arm's mean curve."""
    u = np.concatenate([3.0 * x - _SPIRAL_SHIFT, -3.0 * x - _SPIRAL_SHIFT])
    angle, d2 = _spiral_project(u[:, 0], u[:, 1])
    m = len(x)
    return np.where(d2[:m] <= d2[m:], angle[:m], angle[m:])


def _2spirals_energy(x: np.ndarray) -> np.ndarray:
    return np.clip(1.0 - _2spirals_angle(x) / 10.0, 0.0, 1.0)


def _piecewise(mode_fn: Callable, values: tuple[float, ...]) -> Callable:
    table = np.asarray(values)
    return lambda x: table[mode_fn(x)]


def _drop_latent(generator: Callable) -> Callable:
    return lambda rng, n: generator(rng, n)[0]


_LATENT_SAMPLERS = {
    "swissroll": _swissroll,
    "8gaussians": _8gaussians,
    "moons": _moons,
    "rings": _rings,
    "checkerboard": _checkerboard,
    "2spirals": _2spirals,
}

_GAUSS_ENERGY = tuple(k / 7 for k in range(8))
_BUILTINS = {
    "swissroll": Toy(
        "swissroll",
        _drop_latent(_swissroll),
        lambda x: np.minimum(np.sum(x**2, axis=-1) / 9.0, 1.0),
    ),
    "8gaussians": Toy(
        "8gaussians",
        _drop_latent(_8gaussians),
        _piecewise(_8gaussians_modes, _GAUSS_ENERGY),
        mode_fn=_8gaussians_modes,
        mode_prior=(1 / 8,) * 8,
        mode_energy=_GAUSS_ENERGY,
    ),
    "moons": Toy(
        "moons",
        _drop_latent(_moons),
        _piecewise(_moons_modes, (0.0, 1.0)),
        mode_fn=_moons_modes,
        mode_prior=(0.5, 0.5),
        mode_energy=(0.0, 1.0),
    ),
    "rings": Toy(
        "rings",
        _drop_latent(_rings),
        _piecewise(_rings_modes, _RING_ENERGY),
        mode_fn=_rings_modes,
        mode_prior=(0.25,) * 4,
        mode_energy=_RING_ENERGY,
    ),
    "checkerboard": Toy(
        "checkerboard",
        _drop_latent(_checkerboard),
        _piecewise(_checkerboard_modes, (1.0, 0.0, 1.0, 0.0)),
        mode_fn=_checkerboard_modes,
        mode_prior=(0.25,) * 4,
        mode_energy=(1.0, 0.0, 1.0, 0.0),
    ),
    "2spirals": Toy("2spirals", _drop_latent(_2spirals), _2spirals_energy),
}

DATASETS: tuple[str, ...] = tuple(_BUILTINS)
"""The names of the built-in toys."""


# ---------------------------------------------------------------------------------------------
# The public functions: each takes a built-in name or a `Toy`.


def get_toy(dataset: str | Toy, *, call: str = "get_toy") -> Toy:
    """The [`Toy`][selfguide.toys.Toy] behind a built-in name (a `Toy` passes through).

    **Arguments:**

    - `dataset`: one of `DATASETS` (`"swissroll"`, `"8gaussians"`, `"moons"`, `"rings"`,
        `"checkerboard"`, `"2spirals"`), or a `Toy`.
    - `call`: the name used in error messages.

    **Returns:**

    The `Toy`. Unknown names raise a `ValueError` listing the valid ones.
    """
    if isinstance(dataset, Toy):
        return dataset
    try:
        return _BUILTINS[dataset]
    except KeyError:
        valid = ", ".join(repr(name) for name in DATASETS)
        raise ValueError(
            f"{call}: unknown dataset {dataset!r}. Expected one of {valid}, or a "
            "`selfguide.toys.Toy` built from your own (sampler, energy) pair."
        ) from None


def _as_points(toy: Toy, x: ArrayLike, call: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != toy.dim:
        raise ValueError(
            f"{call}: expected points of shape (n, {toy.dim}) for {toy.name!r}, got shape "
            f"{x.shape}."
        )
    return x


def _checked_energy(toy: Toy, x: np.ndarray, call: str) -> np.ndarray:
    e = np.asarray(toy.energy_fn(x), dtype=np.float64)
    if e.shape != (len(x),):
        raise ValueError(
            f"{call}: the energy of {toy.name!r} must map shape (n, dim) to (n,), got "
            f"{e.shape} for {len(x)} points. Reduce over the last axis in `energy_fn`."
        )
    if not np.all((e >= 0.0) & (e <= 1.0)):
        bad = e[~((e >= 0.0) & (e <= 1.0))]
        raise ValueError(
            f"{call}: the energy of {toy.name!r} must lie in [0, 1], got values such as "
            f"{bad[:3]}. Rescale it, e.g. clip it or map it by (e − min) / (max − min)."
        )
    return e


def sample_q(
    dataset: str | Toy, n: int | np.integer, *, rng: RNG
) -> tuple[Float[np.ndarray, "n dim"], Float[np.ndarray, " n"]]:
    """Draw from the data distribution `q`, with each draw's energy.

    **Arguments:**

    - `dataset`: a built-in name or a [`Toy`][selfguide.toys.Toy].
    - `n`: the number of draws, `>= 1`.
    - `rng`: a seed or a NumPy `Generator` (keyword-only).

    **Returns:**

    `(x, e)`: points of shape `(n, dim)` and energies `e = energy(x) ∈ [0, 1]` of shape
    `(n,)`, both float64. These are the training data (with `w = exp(β (e − 1))`).

    **Example:**

    ```python
    x, e = toys.sample_q("moons", 10_000, rng=0)
    ```
    """
    call = "sample_q"
    toy = get_toy(dataset, call=call)
    n = check_count(call, "n", n)
    x = np.asarray(toy.sampler(as_generator(rng), n), dtype=np.float64)
    if x.shape != (n, toy.dim):
        raise ValueError(
            f"{call}: the sampler of {toy.name!r} must return shape ({n}, {toy.dim}) for "
            f"n={n}, got {x.shape}."
        )
    return x, _checked_energy(toy, x, call)


def energy(dataset: str | Toy, x: Float[ArrayLike, "n dim"]) -> Float[np.ndarray, " n"]:
    """The energy `e(x) ∈ [0, 1]` of each point.

    **Arguments:**

    - `dataset`: a built-in name or a [`Toy`][selfguide.toys.Toy].
    - `x`: points of shape `(n, dim)`, from any source (data, a model, a ground-truth draw).

    **Returns:**

    Energies of shape `(n,)`.
    """
    toy = get_toy(dataset, call="energy")
    return _checked_energy(toy, _as_points(toy, x, "energy"), "energy")


def weight(dataset: str | Toy, x: Float[ArrayLike, "n dim"], beta: Real) -> Float[np.ndarray, " n"]:
    """The self-weighted-guidance weight `w(x) = exp(β (e(x) − 1))`, in `(0, 1]` for `β ≥ 0`.

    **Arguments:**

    - `dataset`: a built-in name or a [`Toy`][selfguide.toys.Toy].
    - `x`: points of shape `(n, dim)`.
    - `beta`: the inverse temperature `β`.

    **Returns:**

    Weights of shape `(n,)`; `w q ∝ p_β`.
    """
    beta = check_real("weight", "beta", beta)
    return np.exp(beta * (energy(dataset, x) - 1.0))


def mode_of(dataset: str | Toy, x: Float[ArrayLike, "n dim"]) -> Int[np.ndarray, " n"]:
    """Assign points to the modes on which a piecewise-constant energy is constant.

    Modes: 8gaussians, the nearest of the 8 centres (`k`, `e = k/7`); moons, the nearer arc
    (0 outer, 1 inner); rings, the nearest radius (0: 3, 1: 2.25, 2: 1.5, 3: 0.75);
    checkerboard, the column of the scaled `x₁` (0: `≤ −2`, 1: `(−2, 0]`, 2: `(0, 2]`,
    3: `> 2`). Every point gets a mode, also points off the support of `q`.

    **Arguments:**

    - `dataset`: a built-in name or a [`Toy`][selfguide.toys.Toy] with `mode_fn`.
    - `x`: points of shape `(n, dim)`.

    **Returns:**

    Integer labels of shape `(n,)` (`−1` only for a custom toy's points outside every mode).
    """
    call = "mode_of"
    toy = get_toy(dataset, call=call)
    if toy.mode_fn is None:
        raise ValueError(
            f"{call}: {toy.name!r} has no modes: its energy is not piecewise constant. "
            f"Modes exist for 8gaussians, moons, rings, checkerboard, or a `Toy` with "
            "`mode_fn`, `mode_prior` and `mode_energy`."
        )
    x = _as_points(toy, x, call)
    labels = np.asarray(toy.mode_fn(x))
    if labels.shape != (len(x),) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"{call}: `mode_fn` of {toy.name!r} must return integer labels of shape "
            f"({len(x)},), got {labels.dtype} of shape {labels.shape}."
        )
    return labels.astype(np.int64)


def _latent_sample(name: str, n: int, rng: RNG) -> tuple[np.ndarray, np.ndarray]:
    """A built-in draw with its generating latent (tests only)."""
    return _LATENT_SAMPLERS[name](as_generator(rng), n)
