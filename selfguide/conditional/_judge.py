"""The independent judge: a scikit-learn classifier of a different kind than the weights'."""

import dataclasses

import numpy as np
from jaxtyping import ArrayLike, Float, Int

from ._data import require_sklearn


@dataclasses.dataclass(frozen=True)
class Judge:
    """A fitted scikit-learn pipeline `StandardScaler → PCA → LogisticRegression`.

    It plays no part in training or guidance: it only labels generated samples and supplies
    the feature space (the standardised PCA projection) in which sample distances are taken.

    **Attributes:**

    - `pipeline`: the fitted `sklearn.pipeline.Pipeline`.
    - `train_accuracy`: accuracy on the data it was fitted on.
    """

    pipeline: object
    train_accuracy: float

    def predict(self, x: Float[ArrayLike, "n d"]) -> Int[np.ndarray, " n"]:
        """Predicted labels `(n,)`."""
        return np.asarray(self.pipeline.predict(np.asarray(x, dtype=np.float64)))

    def predict_proba(self, x: Float[ArrayLike, "n d"]) -> Float[np.ndarray, "n K"]:
        """Predicted class probabilities `(n, K)`."""
        return np.asarray(self.pipeline.predict_proba(np.asarray(x, dtype=np.float64)))

    def features(self, x: Float[ArrayLike, "n d"]) -> Float[np.ndarray, "n f"]:
        """The judge's feature space: the PCA projection of the standardised input."""
        return np.asarray(self.pipeline[:-1].transform(np.asarray(x, dtype=np.float64)))

    def accuracy(self, x: Float[ArrayLike, "n d"], y: Int[ArrayLike, " n"]) -> float:
        """Share of `x` labelled `y`."""
        return float(np.mean(self.predict(x) == np.asarray(y)))


def train_judge(
    x: Float[ArrayLike, "n d"],
    y: Int[ArrayLike, " n"],
    *,
    components: int = 48,
    C: float = 1.0,
    seed: int = 0,
) -> Judge:
    """Fit the judge (standardise → PCA with `components` → multinomial logistic regression).

    A linear model on a linear projection: a different kind of classifier from the MLP whose
    probabilities are the weights, so that guidance cannot score by fooling the very network
    it followed.

    **Arguments:**

    - `x`, `y`: training data `(n, d)` and labels `(n,)`.
    - `components`: PCA dimensions (capped at `min(n, d)`).
    - `C`: inverse L2 strength of the logistic regression.
    - `seed`: PCA's random state.

    **Returns:** a fitted [`Judge`][selfguide.conditional.Judge].

    **Raises:** `ImportError` (with the install command) if scikit-learn is missing.
    """
    require_sklearn("train_judge")
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y)
    k = min(components, *x.shape)
    pipeline = make_pipeline(
        StandardScaler(),
        PCA(k, random_state=seed),
        LogisticRegression(C=C, max_iter=2000),
    )
    pipeline.fit(x, y)
    return Judge(pipeline, float(np.mean(pipeline.predict(x) == y)))
