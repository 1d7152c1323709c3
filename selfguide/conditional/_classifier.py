"""The classifier `p(y | x)` whose probabilities become the K weight channels."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray, PyTree

from selfguide.training import default_optimizer, run_training


class Classifier(eqx.Module):
    """An MLP classifier over flat inputs; `classifier(x)` gives `p(· | x)` for one example.

    The logits are divided by a temperature `T = exp(log_temperature)` fitted on held-out
    data after training (temperature scaling, Guo et al. 2017), because the probabilities
    are used as weights: `p(x) ∝ p(y | x) q(x)` is `q(x | y)` only if they are calibrated.

    **Arguments:**

    - `dim`, `num_classes`: input size and `K`.
    - `width` (256), `depth` (2): hidden layers (GELU).
    - `key`: initialisation key.
    """

    mlp: eqx.nn.MLP
    log_temperature: Float[Array, ""]
    num_classes: int = eqx.field(static=True)

    def __init__(
        self, dim: int, num_classes: int, *, width: int = 256, depth: int = 2, key: PRNGKeyArray
    ):
        if dim < 1 or num_classes < 2:
            raise ValueError(
                f"Classifier: need dim >= 1 and num_classes >= 2, got {dim}, {num_classes}."
            )
        self.mlp = eqx.nn.MLP(dim, num_classes, width, depth, activation=jax.nn.gelu, key=key)
        self.log_temperature = jnp.zeros(())
        self.num_classes = num_classes

    def logits(self, x: Float[Array, " d"]) -> Float[Array, " K"]:
        """Temperature-scaled logits for one example."""
        return self.mlp(x) / jnp.exp(self.log_temperature)

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " K"]:
        """`p(· | x)` for one example (a probability vector)."""
        return jax.nn.softmax(self.logits(x))


class ClassScore(eqx.Module):
    """`log p(y | x)` under a classifier: a [`Resampling`][selfguide.Resampling] score that
    draws `N` unguided samples and keeps one with probability `∝ p(y | x)` (importance
    resampling of `q` towards `q(x | y)`). `y` is an array, so switching the class does not
    recompile."""

    classifier: Classifier
    y: Int[Array, ""]

    def __init__(self, classifier: Classifier, y: int):
        if not 0 <= int(y) < classifier.num_classes:
            raise ValueError(
                f"ClassScore: class {y} does not exist; the classifier has "
                f"{classifier.num_classes} classes (0..{classifier.num_classes - 1})."
            )
        self.classifier = classifier
        self.y = jnp.asarray(y, dtype=jnp.int32)

    def __call__(self, x: Float[Array, " d"], w, cond) -> Float[Array, ""]:
        del w, cond
        return jax.nn.log_softmax(self.classifier.logits(x))[self.y]


class ClassifierState(eqx.Module):
    """The classifier, its optimiser state and the step count."""

    classifier: "Classifier"
    opt_state: PyTree
    step: Int[Array, ""]


class ClassifierStep(eqx.Module):
    """One cross-entropy step on a batch, for `selfguide.training.run_training`; `data` is
    `(x, soft labels)`."""

    optimizer: optax.GradientTransformation = eqx.field(static=True)
    batch_size: int = eqx.field(static=True)

    def __call__(self, state: ClassifierState, data, key):
        x, labels = data
        params, static = eqx.partition(state.classifier, eqx.is_inexact_array)

        def loss_fn(p, xb, yb):
            logits = jax.vmap(eqx.combine(p, static).mlp)(xb)
            return jnp.mean(optax.softmax_cross_entropy(logits, yb))

        idx = jr.randint(key, (self.batch_size,), 0, x.shape[0])
        loss, grads = jax.value_and_grad(loss_fn)(params, x[idx], labels[idx])
        updates, opt_state = self.optimizer.update(grads, state.opt_state, params)
        classifier = eqx.combine(optax.apply_updates(params, updates), static)
        return ClassifierState(classifier, opt_state, state.step), loss[None]


def _fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The log-temperature minimising held-out NLL, by a grid search over `T ∈ [0.05, 20]`."""
    best, best_nll = 0.0, np.inf
    for log_t in np.linspace(np.log(0.05), np.log(20.0), 121):
        z = logits / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        nll = -np.mean(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(axis=1)))
        if nll < best_nll:
            best, best_nll = float(log_t), nll
    return best


def train_classifier(
    x: Float[ArrayLike, "n d"],
    y: Int[ArrayLike, " n"],
    num_classes: int,
    *,
    key: PRNGKeyArray,
    steps: int = 3000,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    weight_decay: float = 1e-4,
    label_smoothing: float = 0.0,
    width: int = 256,
    depth: int = 2,
    calibration_fraction: float = 0.15,
) -> Classifier:
    """Train an MLP classifier with AdamW and calibrate its temperature on held-out data.

    A random `calibration_fraction` of the points is held out during training; the
    temperature is then fitted on it (minimum negative log-likelihood), and the returned
    classifier is *not* retrained on it. `label_smoothing` softens the training targets; it
    is off by default, because it puts a floor of `ε/K` under every wrong class and thereby
    a floor on the share of wrong classes at guidance scale 1.

    **Arguments:**

    - `x`, `y`: data `(n, d)` and labels `(n,)` in `0..num_classes − 1`.
    - `num_classes`: `K`.
    - `key`: PRNG key (initialisation, held-out split, batches).
    - `steps`, `batch_size`, `learning_rate`, `weight_decay`, `width`, `depth`: training.
    - `label_smoothing`: `ε` in `[0, 1)`.
    - `calibration_fraction`: share held out for the temperature, in `[0, 0.5]`; `0`
        keeps `T = 1`.

    **Returns:** a calibrated [`Classifier`][selfguide.conditional.Classifier].
    """
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(
            f"train_classifier: need x of shape (n, d) and y of shape (n,), got {x.shape} "
            f"and {y.shape}."
        )
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= num_classes:
        raise ValueError(
            f"train_classifier: labels must be integers in 0..{num_classes - 1}, got "
            f"{y.dtype} values in {y.min()}..{y.max()}."
        )
    if not 0 <= label_smoothing < 1 or not 0 <= calibration_fraction <= 0.5:
        raise ValueError(
            "train_classifier: need 0 <= label_smoothing < 1 and 0 <= calibration_fraction "
            f"<= 0.5, got {label_smoothing}, {calibration_fraction}."
        )
    init_key, split_key, train_key = jr.split(key, 3)
    order = np.asarray(jr.permutation(split_key, x.shape[0]))
    n_cal = int(round(calibration_fraction * x.shape[0]))
    cal, fit = order[:n_cal], order[n_cal:]
    targets = optax.smooth_labels(jax.nn.one_hot(y[fit], num_classes), label_smoothing)
    classifier = Classifier(x.shape[1], num_classes, width=width, depth=depth, key=init_key)
    optimizer = default_optimizer(steps, learning_rate, weight_decay)
    state = ClassifierState(
        classifier,
        optimizer.init(eqx.filter(classifier, eqx.is_inexact_array)),
        jnp.asarray(0, jnp.int32),
    )
    state, _ = run_training(
        ClassifierStep(optimizer, batch_size), state, (jnp.asarray(x[fit]), targets),
        key=train_key, steps=steps, metrics=("loss",), name="classifier",
        steps_per_chunk=max(steps, 1), progress=False,
    )
    classifier = state.classifier
    if n_cal > 0:
        logits = np.asarray(jax.vmap(classifier.mlp)(jnp.asarray(x[cal])))
        log_t = _fit_temperature(logits, y[cal])
        classifier = eqx.tree_at(lambda c: c.log_temperature, classifier, jnp.asarray(log_t))
    return classifier


def predict_proba(classifier: Classifier, x: Float[ArrayLike, "n d"]) -> Float[np.ndarray, "n K"]:
    """`p(· | x)` for a batch, as a NumPy array `(n, K)`."""
    return np.asarray(_batch_probabilities(classifier, jnp.asarray(x, dtype=jnp.float32)))


@eqx.filter_jit  # compiled once per shape, not once per call
def _batch_probabilities(classifier: Classifier, x: Float[Array, "n d"]) -> Float[Array, "n K"]:
    return jax.vmap(classifier)(x)


def class_weights(
    probabilities: Float[ArrayLike, "n K"], *, floor: float = 1e-3
) -> Float[np.ndarray, "n K"]:
    """Turn class probabilities into weight channels: floor every entry at `floor`, renormalise.

    Guidance takes `log ŵ`, and [`augment`][selfguide.augment] needs strictly positive
    weights whose rows (with `probabilities=True`) sum to one; a confident classifier gives
    probabilities that underflow to 0. After flooring, each row sums to one again and every
    entry is at least `floor / (1 + K · floor)`.

    **Arguments:**

    - `probabilities`: rows `p(· | x)` `(n, K)`, each summing to one (within `1e-3`).
    - `floor`: in `(0, 1/K)`.

    **Returns:** the weights `(n, K)` (float64), rows summing to one.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"class_weights: need probabilities of shape (n, K >= 2), got {p.shape}.")
    if not 0 < floor < 1 / p.shape[1]:
        raise ValueError(
            f"class_weights: floor must lie in (0, 1/K = {1 / p.shape[1]:.3g}), got {floor}."
        )
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError("class_weights: probabilities must be finite and non-negative.")
    worst = float(np.max(np.abs(p.sum(axis=1) - 1)))
    if worst > 1e-3:
        raise ValueError(
            f"class_weights: each row must sum to 1 (p(y | x) over classes); the worst row is off "
            f"by {worst:.3g}. Pass a softmax output."
        )
    w = np.maximum(p, floor)
    return w / w.sum(axis=1, keepdims=True)
