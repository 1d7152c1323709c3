"""Judge-based evaluation of class-conditional samples: accuracy, distance, diversity."""

import dataclasses
from collections.abc import Sequence

import numpy as np
from jaxtyping import ArrayLike, Float, Int

from selfguide import mmd2

from ._judge import Judge


@dataclasses.dataclass(frozen=True)
class ClassMetrics:
    """Per-class scores of a set of samples, each array of shape `(K,)`.

    **Attributes:**

    - `accuracy`: share of the samples meant for class `k` that the judge labels `k`.
    - `mmd2`: unbiased `MMD²` (RBF mixture) between those samples and the real test images of
        class `k`, in the judge's feature space.
    - `frechet`: Fréchet distance between Gaussian fits of the same two sets, in the first
        `fd_dims` judge features.
    - `diversity`: mean pairwise feature distance within the samples, divided by the same
        for the real test images of class `k` (1 = as varied as real data; 0 = collapsed).
    """

    accuracy: Float[np.ndarray, " K"]
    mmd2: Float[np.ndarray, " K"]
    frechet: Float[np.ndarray, " K"]
    diversity: Float[np.ndarray, " K"]

    def mean(self) -> dict[str, float]:
        """Each score averaged over classes."""
        return {f.name: float(np.mean(getattr(self, f.name))) for f in dataclasses.fields(self)}


def class_proportions(labels: Int[ArrayLike, " n"], num_classes: int) -> Float[np.ndarray, " K"]:
    """The share of each class among `labels`, shape `(K,)`."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"class_proportions: labels must lie in 0..{num_classes - 1}, got "
            f"{labels.min()}..{labels.max()}."
        )
    return np.bincount(labels, minlength=num_classes) / max(labels.size, 1)


def frechet_distance(a: Float[ArrayLike, "n f"], b: Float[ArrayLike, "m f"]) -> float:
    """`‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2})` (FID's formula)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or len(a) < 2 or len(b) < 2:
        raise ValueError(
            f"frechet_distance: need two samples (n >= 2, same feature size), got {a.shape}, "
            f"{b.shape}."
        )
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    vals, vecs = np.linalg.eigh(np.atleast_2d(ca))
    root_a = (vecs * np.sqrt(np.maximum(vals, 0.0))) @ vecs.T
    cross = np.linalg.eigvalsh(root_a @ np.atleast_2d(cb) @ root_a)
    mean_term = float(np.sum((a.mean(0) - b.mean(0)) ** 2))
    root_cross = float(np.sum(np.sqrt(np.maximum(cross, 0.0))))
    return mean_term + float(np.trace(ca) + np.trace(cb)) - 2.0 * root_cross


def _mean_pairwise(f: np.ndarray) -> float:
    d2 = np.sum(f**2, 1)[:, None] + np.sum(f**2, 1)[None] - 2 * f @ f.T
    d = np.sqrt(np.maximum(d2, 0.0))
    n = len(f)
    return float(d.sum() / max(n * (n - 1), 1))


def evaluate_classes(
    judge: Judge,
    samples: Sequence[Float[ArrayLike, "n d"]],
    x_test: Float[ArrayLike, "m d"],
    y_test: Int[ArrayLike, " m"],
    *,
    fd_dims: int = 10,
    bandwidth_factors: Sequence[float] = (0.5, 1.0, 2.0),
) -> ClassMetrics:
    """Score one set of samples per class against the real test images of that class.

    The RBF bandwidths of `MMD²` are `bandwidth_factors` times the median pairwise distance
    of the test features, so the kernel suits the judge's feature scale.

    **Arguments:**

    - `judge`: the fitted [`Judge`][selfguide.conditional.Judge].
    - `samples`: `K` arrays; `samples[k]` are meant to be class `k` (pass the same unguided
        sample `K` times for the floor).
    - `x_test`, `y_test`: real held-out images and labels.
    - `fd_dims`: judge features used by the Fréchet distance (few, as the test classes are
        small: 36 images each for the digits).
    - `bandwidth_factors`: see above.

    **Returns:** a [`ClassMetrics`][selfguide.conditional.ClassMetrics].
    """
    x_test = np.asarray(x_test)
    y_test = np.asarray(y_test)
    k = len(samples)
    present = np.unique(y_test)
    if not np.array_equal(present, np.arange(k)):
        raise ValueError(
            f"evaluate_classes: got samples for K = {k} classes, but the test labels are "
            f"{present.tolist()}; pass one sample array per class 0..K-1."
        )
    f_test = judge.features(x_test)
    med = np.median(
        np.sqrt(np.maximum(np.sum((f_test[:, None] - f_test[None]) ** 2, -1), 0.0))[
            np.triu_indices(len(f_test), 1)
        ]
    )
    bandwidths = tuple(float(c * med) for c in bandwidth_factors)
    acc, mmd, fd, div = (np.zeros(k) for _ in range(4))
    for c, xs in enumerate(samples):
        xs = np.asarray(xs)
        ref = f_test[y_test == c]
        f = judge.features(xs)
        acc[c] = float(np.mean(judge.predict(xs) == c))
        mmd[c] = mmd2(f, ref, bandwidths=bandwidths)
        fd[c] = frechet_distance(f[:, :fd_dims], ref[:, :fd_dims])
        div[c] = _mean_pairwise(f) / _mean_pairwise(ref)
    return ClassMetrics(acc, mmd, fd, div)
