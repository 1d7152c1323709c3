"""Exact ground truth for `p_β(x) ∝ q(x) exp(β e(x))`: draws and closed-form mode masses."""

import warnings

import numpy as np
from jaxtyping import Float

from ._datasets import get_toy, sample_q
from ._toy import RNG, Real, Toy, as_generator, check_count, check_real

_MAX_REJECTION_DRAWS = 200_000_000


def mode_weights(dataset: str | Toy, beta: Real) -> Float[np.ndarray, " modes"]:
    """The exact mass of each mode under `p_β`, for a piecewise-constant energy.

    With mode masses `π_m` under `q` and energies `e_m`, the target puts mass
    `π_m exp(β e_m) / Σ_k π_k exp(β e_k)` on mode `m`. Modes are those of
    [`mode_of`][selfguide.toys.mode_of].

    **Arguments:**

    - `dataset`: `"8gaussians"`, `"moons"`, `"rings"`, `"checkerboard"`, or a
        [`Toy`][selfguide.toys.Toy] with modes.
    - `beta`: the inverse temperature `β`.

    **Returns:**

    The mode masses, shape `(modes,)`, summing to 1.

    **Example:**

    ```python
    toys.mode_weights("moons", 3.0)  # [1/(1+e³), e³/(1+e³)]
    ```
    """
    call = "mode_weights"
    toy = get_toy(dataset, call=call)
    beta = check_real(call, "beta", beta)
    if toy.mode_prior is None or toy.mode_energy is None:
        raise ValueError(
            f"{call}: closed-form mode weights need a piecewise-constant energy, and "
            f"{toy.name!r} has none. They exist for 8gaussians, moons, rings and checkerboard; "
            "use `sample_target` for the others."
        )
    prior = np.asarray(toy.mode_prior, dtype=np.float64)
    logits = beta * np.asarray(toy.mode_energy, dtype=np.float64)
    w = prior * np.exp(logits - logits.max())
    return w / w.sum()


def sample_target(
    dataset: str | Toy,
    beta: Real,
    n: int | np.integer,
    *,
    rng: RNG,
    pool: int | np.integer | None = None,
    method: str = "sir",
) -> tuple[Float[np.ndarray, "n dim"], Float[np.ndarray, " n"]]:
    """Exact draws from the tilted target `p_β(x) ∝ q(x) exp(β e(x))`.

    - `method="sir"` (sampling–importance–resampling): draw a pool from `q` and resample
        `n` points *with replacement* with probabilities `∝ exp(β e)`. The draws are i.i.d.
        from the reweighted pool; its error is `O(1/pool)` in the weights and shows as
        repeated points when the pool's effective sample size `(Σw)²/Σw²` is not much larger
        than `n` (a warning says so when it falls below `n`).
    - `method="rejection"`: draw from `q` and keep each point with probability
        `exp(β e − max(β, 0)) ≤ 1`. Exact and i.i.d. (no repeats) for any `n`; it costs
        `1 / E_q[exp(β e − max(β, 0))]` draws per kept point.

    **Arguments:**

    - `dataset`: a built-in name or a [`Toy`][selfguide.toys.Toy].
    - `beta`: the inverse temperature `β` (any finite real; `β = 0` gives `q`).
    - `n`: the number of draws, `>= 1`.
    - `rng`: a seed or a NumPy `Generator` (keyword-only).
    - `pool`: the SIR pool size, `>= n`; default `100 n`.
    - `method`: `"sir"` (default) or `"rejection"`.

    **Returns:**

    `(x, e)`: points of shape `(n, dim)` and their energies, shape `(n,)`.

    **Example:**

    ```python
    x, e = toys.sample_target("8gaussians", beta=10.0, n=2000, rng=0)
    ```
    """
    call = "sample_target"
    toy = get_toy(dataset, call=call)
    beta = check_real(call, "beta", beta)
    n = check_count(call, "n", n)
    rng = as_generator(rng)
    if method == "sir":
        pool = 100 * n if pool is None else check_count(call, "pool", pool)
        if pool < n:
            raise ValueError(
                f"{call}: `pool` must be at least `n` (it should be much larger), got "
                f"pool={pool} for n={n}. Leave it unset for the default 100 n."
            )
        return _sir(toy, beta, n, pool, rng)
    if method == "rejection":
        return _rejection(toy, beta, n, rng)
    raise ValueError(f"{call}: `method` must be 'sir' or 'rejection', got {method!r}.")


def _sir(
    toy: Toy, beta: float, n: int, pool: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    x, e = sample_q(toy, pool, rng=rng)
    logits = beta * e
    p = np.exp(logits - logits.max())
    p /= p.sum()
    ess = 1.0 / np.sum(p**2)
    if ess < n:
        warnings.warn(
            f"sample_target: the SIR pool of {pool} draws of {toy.name!r} at beta={beta} has "
            f"an effective sample size of {ess:.0f} < n={n}, so the draws repeat pool points. "
            "Pass a larger `pool` or method='rejection'.",
            stacklevel=3,
        )
    idx = rng.choice(pool, size=n, replace=True, p=p)
    return x[idx], e[idx]


def _rejection(
    toy: Toy, beta: float, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    shift = max(beta, 0.0)  # e ∈ [0, 1] ⇒ β e − max(β, 0) ≤ 0
    xs, es = [], []
    kept = drawn = 0
    batch = max(4 * n, 4096)
    while kept < n:
        if drawn + batch > _MAX_REJECTION_DRAWS:
            raise RuntimeError(
                f"sample_target: rejection sampling of {toy.name!r} at beta={beta} kept "
                f"{kept} of {drawn} draws; {n} would need about "
                f"{n * drawn / max(kept, 1):.2g}. Use method='sir'."
            )
        x, e = sample_q(toy, batch, rng=rng)
        keep = rng.uniform(size=batch) < np.exp(beta * e - shift)
        xs.append(x[keep])
        es.append(e[keep])
        kept += int(keep.sum())
        drawn += batch
        rate = max(kept, 1) / drawn
        batch = int(min(max(1.2 * (n - kept) / rate, 4096), 4_000_000))
    return np.concatenate(xs)[:n], np.concatenate(es)[:n]
