"""Labelled data for conditional generation: scikit-learn's 8×8 digits and a 2-D mixture.

The digits are the UCI "Optical Recognition of Handwritten Digits" data (Alpaydin &
Kaynak, 1998) as shipped inside scikit-learn (`sklearn.datasets.load_digits`, no download):
1,797 images of 8×8 pixels with integer intensities 0..16, ten classes.
"""

import dataclasses

import numpy as np
from jaxtyping import ArrayLike, Float, Int


@dataclasses.dataclass(frozen=True)
class LabelledData:
    """A labelled train/test split.

    **Attributes:**

    - `x_train`, `y_train`, `x_test`, `y_test`: data `(n, d)` (float32) and integer labels
        `(n,)` in `0..num_classes − 1`.
    - `num_classes`: `K`.
    - `image_shape`: `(8, 8)` for images, `None` for points.
    - `name`: a short description.
    """

    x_train: Float[np.ndarray, "n d"]
    y_train: Int[np.ndarray, " n"]
    x_test: Float[np.ndarray, "m d"]
    y_test: Int[np.ndarray, " m"]
    num_classes: int
    image_shape: tuple[int, int] | None
    name: str

    @property
    def dim(self) -> int:
        return self.x_train.shape[1]


def require_sklearn(caller: str):
    """Import scikit-learn, or say how to install it."""
    try:
        import sklearn  # noqa: F401
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"{caller} needs scikit-learn, an optional dependency of selfguide; install it with "
            "`pip install 'selfguide[examples]'` (or `pip install scikit-learn`)."
        ) from err
    return sklearn


def _stratified_split(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, ...]:
    """Indices of a split that keeps each class's proportion (a fixed permutation per class)."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = int(round(test_fraction * len(idx)))
        test.append(idx[:k])
        train.append(idx[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def pixels_to_unit(images: ArrayLike) -> np.ndarray:
    """Map digit intensities `0..16` to `[−1, 1]`: `x = v / 8 − 1`."""
    return np.asarray(images, dtype=np.float32) / 8.0 - 1.0


def unit_to_pixels(x: ArrayLike) -> np.ndarray:
    """Inverse of [`pixels_to_unit`][selfguide.conditional.pixels_to_unit], clipped to `0..16`."""
    return np.clip((np.asarray(x, dtype=np.float32) + 1.0) * 8.0, 0.0, 16.0)


def round_to_grey_levels(x: ArrayLike) -> np.ndarray:
    """Round images in `[−1, 1]` to the nearest of the digits' 17 grey levels (`0..16`).

    The data is discrete, so a model of it ends with a discrete decoder (as DDPM's last
    step does for 8-bit images): a continuous sample is read as the level it is nearest to.
    """
    return pixels_to_unit(np.round(unit_to_pixels(x)))


def load_digits(*, test_fraction: float = 0.2, seed: int = 0) -> LabelledData:
    """scikit-learn's 8×8 handwritten digits with a fixed, stratified train/test split.

    Pixels are scaled per pixel from `0..16` to `[−1, 1]`. The split is a seeded permutation
    within each class: `seed=0`, `test_fraction=0.2` gives 1,437 training and 360 test images
    (36 per class), the same on every machine.

    **Arguments:**

    - `test_fraction`: share of each class held out, in `(0, 1)`.
    - `seed`: the split's seed.

    **Returns:** a [`LabelledData`][selfguide.conditional.LabelledData] with `d = 64`,
    `K = 10`, `image_shape = (8, 8)`.

    **Raises:** `ImportError` (with the install command) if scikit-learn is missing.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"load_digits: test_fraction must lie in (0, 1), got {test_fraction}.")
    require_sklearn("load_digits")
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    x, y = pixels_to_unit(bunch.data), np.asarray(bunch.target, dtype=np.int64)
    train, test = _stratified_split(y, test_fraction, seed)
    return LabelledData(x[train], y[train], x[test], y[test], 10, (8, 8), "digits")


def mixture_centres(num_classes: int = 8, radius: float = 4.0) -> np.ndarray:
    """Centres of the labelled ring mixture: `num_classes` points on a circle of `radius`,
    the first at angle π/2, counter-clockwise (the 8gaussians layout for 8 classes)."""
    angles = np.pi / 2 + 2 * np.pi / num_classes * np.arange(num_classes)
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=-1)


def sample_mixture(
    n: int,
    *,
    seed: int = 0,
    num_classes: int = 8,
    radius: float = 4.0,
    std: float = 0.5,
    proportions: ArrayLike | list | None = None,
) -> tuple[Float[np.ndarray, "n 2"], Int[np.ndarray, " n"]]:
    """Draw from a labelled 2-D Gaussian mixture; the label is the component.

    With the defaults this is the 8gaussians toy (8 components of std 0.5 on a circle of
    radius 4, all divided by 1.414) with its component kept as the class. Neighbouring centres
    are `2 r sin(π/K) / std ≈ 6.1` standard deviations apart, so `p(y | x)` is nearly one-hot.

    **Arguments:**

    - `n`: number of points.
    - `seed`: seed of the draw.
    - `num_classes`, `radius`, `std`: the layout.
    - `proportions`: class probabilities (default uniform).

    **Returns:** `(x, y)` with `x` of shape `(n, 2)` (float32) and `y` of shape `(n,)`.
    """
    if n < 1 or num_classes < 2:
        raise ValueError(
            f"sample_mixture: need n >= 1 and num_classes >= 2, got n={n}, "
            f"num_classes={num_classes}."
        )
    rng = np.random.default_rng(seed)
    p = None if proportions is None else np.asarray(proportions, dtype=np.float64)
    if p is not None and (p.shape != (num_classes,) or np.any(p < 0) or p.sum() <= 0):
        raise ValueError(
            f"sample_mixture: proportions must be {num_classes} non-negative numbers, got {p}."
        )
    y = rng.choice(num_classes, size=n, p=None if p is None else p / p.sum())
    x = mixture_centres(num_classes, radius)[y] + std * rng.standard_normal((n, 2))
    return (x / 1.414).astype(np.float32), y.astype(np.int64)


def load_mixture(
    *, n_train: int = 4000, n_test: int = 2000, seed: int = 0, num_classes: int = 8
) -> LabelledData:
    """The labelled 2-D mixture of [`sample_mixture`][selfguide.conditional.sample_mixture]
    as a train/test split (independent draws, seeds `seed` and `seed + 1`)."""
    x_tr, y_tr = sample_mixture(n_train, seed=seed, num_classes=num_classes)
    x_te, y_te = sample_mixture(n_test, seed=seed + 1, num_classes=num_classes)
    return LabelledData(x_tr, y_tr, x_te, y_te, num_classes, None, "mixture")


def one_hot(y: Int[ArrayLike, " n"], num_classes: int) -> Float[np.ndarray, "n K"]:
    """One-hot rows `(n, K)` (float32) for labels `y`; raises on labels out of range."""
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"one_hot: labels must be a 1-D integer array, got {y.dtype} {y.shape}.")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"one_hot: labels must lie in 0..{num_classes - 1}, got values in {y.min()}..{y.max()}."
        )
    return np.eye(num_classes, dtype=np.float32)[y]
