"""Exact answers to test samplers and guidance against.

[`GaussianMixtureOracle`][selfguide.GaussianMixtureOracle] is the exact ε-network of
isotropic Gaussian-mixture data with weights `exp(bᵀx)`: any correct sampler run on it
draws the mixture, any correct guidance at `ρ = 1` draws the tilted mixture its
`tilted` method gives in closed form. [`mode_frequencies`][selfguide.testing.mode_frequencies]
turns samples into the mode masses to compare with the mixture's weights.

**Example:**

```python
import jax.random as jr
import numpy as np
import selfguide as sg
from selfguide.testing import GaussianMixtureOracle, mode_frequencies

schedule = sg.VPSchedule(num_steps=100, beta_max=20.0)
means = np.array([[-2.0, 0.0], [2.0, 0.0]])
oracle = GaussianMixtureOracle(
    means, np.array([0.5, 0.5]), np.array([0.3, 0.7]), np.array([[0.5, 0.0]]), schedule
)
s = sg.sample(sg.JointModel(oracle, 2, 1), schedule, num=4000, key=jr.key(0))
freq = mode_frequencies(np.asarray(s.x), means)  # ≈ [0.3, 0.7], binomial error ≈ 0.007
```
"""

import jaxtyping as jt
import numpy as np

from ._oracle import GaussianMixtureOracle as GaussianMixtureOracle


def nearest_mode(
    x: jt.Float[np.ndarray, "n d"], means: jt.Float[np.ndarray, "M d"]
) -> jt.Int[np.ndarray, " n"]:
    """The index of the nearest mean (Euclidean) for each sample.

    **Arguments:**

    - `x`: samples `(n, d)`.
    - `means`: the mixture's component means `(M, d)`.

    **Returns:** `(n,)` indices into `means`.
    """
    x, means = np.asarray(x), np.asarray(means)
    return np.argmin(((x[:, None, :] - means[None]) ** 2).sum(-1), axis=1)


def mode_frequencies(
    x: jt.Float[np.ndarray, "n d"], means: jt.Float[np.ndarray, "M d"]
) -> jt.Float[np.ndarray, " M"]:
    """The share of samples nearest to each mean.

    For well-separated components this estimates the mixture weights of the distribution
    `x` was drawn from, each with binomial standard error `√(p(1 − p)/n)`.

    **Arguments:**

    - `x`: samples `(n, d)`.
    - `means`: the mixture's component means `(M, d)`.

    **Returns:** `(M,)` frequencies summing to 1.
    """
    means = np.asarray(means)
    modes = nearest_mode(x, means)
    return np.bincount(modes, minlength=len(means)) / len(modes)
