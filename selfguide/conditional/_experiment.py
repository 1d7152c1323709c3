"""The whole conditional-generation experiment: data, classifier, joint model, baselines, judge.

Shared by the `selfguide conditional` command and `benchmarks/conditional.py`.
"""

import dataclasses
import time
from collections.abc import Callable
from typing import Literal

import jax.random as jr
import numpy as np

from selfguide import (
    AbstractVariance,
    DDPMSampler,
    LargeVariance,
    MLPDenoiser,
    PosteriorVariance,
    Resampling,
    ResNetDenoiser,
    SelfWeightedGuidance,
    Softmax,
    VPSchedule,
    augment,
    default_optimizer,
    sample,
    train,
)

from ._classifier import ClassScore, class_weights, predict_proba, train_classifier
from ._data import LabelledData, load_digits, load_mixture, one_hot, round_to_grey_levels
from ._evaluate import ClassMetrics, class_proportions, evaluate_classes
from ._judge import Judge, train_judge

DATASETS = ("digits", "mixture")
VarianceName = Literal["posterior", "large"]
VARIANCES: dict[str, type[AbstractVariance]] = {
    "posterior": PosteriorVariance,
    "large": LargeVariance,
}
"""The DDPM variances by the names a config (and `--variance`) gives them."""


@dataclasses.dataclass(frozen=True)
class ConditionalConfig:
    """Settings of one run (defaults: the digits benchmark).

    - `dataset`: `"digits"` or `"mixture"`.
    - `steps`, `batch_size`, `learning_rate`: diffusion training (each model).
    - `network`: `"mlp"` or `"resnet"`; `width`, `depth` (MLP layers / ResNet blocks).
    - `weight_loss`: loss weight of each weight channel of the joint model (data channels
        weigh 1; the label-conditioned model does not train its weight outputs).
    - `weight_output`: what the weight outputs learn, `"denoised"` (the clean weights) or
        `"eps"` (the noise, as in the reference); see [`train`][selfguide.train].
    - `diffusion_steps`, `beta_max`: `T` and `β_max` of the VP schedule (`T` is also the
        number of sampling steps); `variance`: the DDPM sampler's `"large"`
        ([`LargeVariance`][selfguide.LargeVariance]) or `"posterior"`
        ([`PosteriorVariance`][selfguide.PosteriorVariance]).
    - `classifier_steps`: training steps of the classifier `p(y | x)`; `floor`: the
        probability floor before [`augment`][selfguide.augment].
    - `scales`: guidance scales `ρ` swept (one compilation for all).
    - `samples_per_class`: generated samples per class and method.
    - `resample_candidates`: `N` of the two resampling baselines, by the sampled weight
        channel and by the classifier's `p(y | x)` of the sample (`0` skips them).
    - `class_conditional`: also train the label-conditioned model.
    - `mix`: classes whose channels are mixed with equal coefficients (`()` skips it).
    - `discrete_decoder`: read each image sample as the nearest of the data's 17 grey levels
        (the data is discrete), for every method alike; images only (the mixture's points
        are continuous).
    - `seed`: everything is seeded from it.

    The defaults were measured on the digits (`benchmarks/results/conditional/ablations.md`):
    the learning rate 3e-3 (1e-3 left the image model noisy) and the weight channels' loss
    weight 30 (at 1 the weight outputs were too coarse for exact guidance: 60% of class `y`
    at `ρ = 1`; 82% at 3, 90% at 10, 94% at 30, where it levels off).
    """

    dataset: str = "digits"
    steps: int = 6000
    batch_size: int = 256
    learning_rate: float = 3e-3
    network: str = "mlp"
    width: int = 512
    depth: int = 4
    weight_loss: float = 30.0
    weight_output: str = "denoised"
    diffusion_steps: int = 50
    beta_max: float = 20.0
    variance: VarianceName = "posterior"
    classifier_steps: int = 3000
    floor: float = 1e-3
    scales: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0)
    samples_per_class: int = 144
    resample_candidates: int = 16
    class_conditional: bool = True
    mix: tuple[int, ...] = (3, 8)
    discrete_decoder: bool = True
    seed: int = 0

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise ValueError(
                f"ConditionalConfig: dataset must be one of {DATASETS}, got {self.dataset!r}."
            )
        if self.network not in ("mlp", "resnet"):
            raise ValueError(
                f"ConditionalConfig: network must be 'mlp' or 'resnet', got {self.network!r}."
            )
        if self.variance not in VARIANCES:
            raise ValueError(
                f"ConditionalConfig: variance must be one of {tuple(VARIANCES)}, got "
                f"{self.variance!r}."
            )


def format_shares(shares: np.ndarray) -> str:
    """`"3: 48%, 8: 45%"`: the classes with a non-zero share."""
    return ", ".join(f"{y}: {100 * p:.0f}%" for y, p in enumerate(shares) if p > 0)


@dataclasses.dataclass
class ConditionalResults:
    """What [`run_conditional`][selfguide.conditional.run_conditional] measured.

    - `config`, `data`, `judge`: the inputs.
    - `metrics`: method name → [`ClassMetrics`][selfguide.conditional.ClassMetrics]
        (`"real held-out"`, `"unguided"`, `"SWG ρ=…"`, `"resampling N=… by …"`,
        `"class-conditional"`).
    - `samples`: method name → `K` arrays of samples (the unguided floor holds one array).
    - `mix_proportions`: guidance scale → judge's class shares of the channel-mix samples.
    - `classifier_accuracy`, `judge_accuracy`: test accuracies on real data.
    - `seconds`: stage → wall time.
    """

    config: ConditionalConfig
    data: LabelledData
    judge: Judge
    metrics: dict[str, ClassMetrics]
    samples: dict[str, list[np.ndarray]]
    mix_proportions: dict[float, np.ndarray] | None
    classifier_accuracy: float
    judge_accuracy: float
    seconds: dict[str, float]


def load_dataset(name: str, seed: int = 0) -> LabelledData:
    """`"digits"` ([`load_digits`][selfguide.conditional.load_digits]) or `"mixture"`."""
    if name == "digits":
        return load_digits(seed=seed)
    if name == "mixture":
        return load_mixture(seed=seed)
    raise ValueError(f"load_dataset: dataset must be one of {DATASETS}, got {name!r}.")


def _network(config: ConditionalConfig, dim: int, k: int, cond_dim: int, key):
    if config.network == "mlp":
        return MLPDenoiser(dim, k, cond_dim, width=config.width, depth=config.depth, key=key)
    return ResNetDenoiser(
        dim, k, cond_dim, width=config.width, num_blocks=config.depth, dropout=0.0, key=key
    )


def run_conditional(
    config: ConditionalConfig, *, log: Callable[[str], None] = print
) -> ConditionalResults:
    """Run the experiment of `config` and score every method with the independent judge.

    Stages: load the data; train the classifier `p(y | x)` (the weights) and the judge (a
    different kind: logistic regression on PCA features); build `z = [x, p(· | x)]` and train
    one unconditional joint model; sample each class with self-weighted guidance at every
    scale, the channel mix, the unguided floor and the resampling baseline; train the
    label-conditioned model of the same network class and budget and sample it per class;
    score everything against the real test images of each class.
    """
    seconds: dict[str, float] = {}
    keys = iter(jr.split(jr.key(config.seed), 16))
    tic = time.perf_counter()
    data = load_dataset(config.dataset, config.seed)
    k, dim = data.num_classes, data.dim
    classifier = train_classifier(
        data.x_train, data.y_train, k, key=next(keys), steps=config.classifier_steps
    )
    clf_acc = float(np.mean(predict_proba(classifier, data.x_test).argmax(1) == data.y_test))
    judge = train_judge(data.x_train, data.y_train)
    judge_acc = judge.accuracy(data.x_test, data.y_test)
    seconds["classifier + judge"] = time.perf_counter() - tic
    log(f"classifier test accuracy {clf_acc:.3f}; judge test accuracy {judge_acc:.3f}")

    weights = class_weights(predict_proba(classifier, data.x_train), floor=config.floor)
    z = augment(data.x_train, weights, probabilities=True)
    schedule = VPSchedule(num_steps=config.diffusion_steps, beta_max=config.beta_max)
    def fit(cond, key):
        # The label-conditioned model samples by its label, not by its weight outputs: they
        # take no part in its loss, so all of it goes to the images.
        loss_weights = [1.0] * dim + [config.weight_loss if cond is None else 0.0] * k
        net_key, train_key = jr.split(key)
        start = time.perf_counter()
        result = train(
            _network(config, dim, k, 0 if cond is None else k, net_key),
            z,
            schedule=schedule,
            steps=config.steps,
            key=train_key,
            cond=cond,
            batch_size=config.batch_size,
            loss_weights=loss_weights,
            progress=False,
            optimizer=default_optimizer(config.steps, config.learning_rate),
            steps_per_chunk=min(500, max(config.steps, 1)),
            weight_output=config.weight_output,
        )
        return result.model, time.perf_counter() - start

    model, seconds["train joint model"] = fit(None, next(keys))
    log(f"trained the joint model ({config.steps} steps) in {seconds['train joint model']:.0f} s")
    sampler = DDPMSampler(
        variance=VARIANCES[config.variance](),
        clip_data=_data_range(data),
        clip_weight=(1e-4, 1.0),
    )
    n = config.samples_per_class
    samples: dict[str, list[np.ndarray]] = {}
    sample_key = next(keys)

    lo, hi = _data_range(data) or (-np.inf, np.inf)

    def decode(x) -> np.ndarray:
        x = np.clip(np.asarray(x), lo, hi)
        if config.discrete_decoder and data.image_shape is not None:
            return round_to_grey_levels(x)
        return x
    metrics: dict[str, ClassMetrics] = {}
    real = [data.x_train[data.y_train == y] for y in range(k)]
    metrics["real held-out"] = _real_metrics(judge, real, data)

    def record(name: str, per_class: list, *, floor: bool = False) -> None:
        samples[name] = [decode(s) for s in per_class]
        if floor or len(per_class) == k:
            m = evaluate_classes(
                judge, samples[name] * (k if floor else 1), data.x_test, data.y_test
            )
            metrics[name] = m
            mean = m.mean()
            log(
                f"{name}: accuracy {100 * mean['accuracy']:.1f}%, MMD² {mean['mmd2']:.4f}, "
                f"Fréchet {mean['frechet']:.2f}, diversity {mean['diversity']:.2f}"
            )

    tic = time.perf_counter()
    pool = sample(model, schedule, num=n * k, sampler=sampler, key=jr.fold_in(sample_key, 0))
    record("unguided", [pool.x], floor=True)
    seconds["sample unguided"] = time.perf_counter() - tic
    tic = time.perf_counter()
    for i, scale in enumerate(config.scales):
        record(
            f"SWG ρ={scale:g}",
            [
                sample(
                    model,
                    schedule,
                    num=n,
                    sampler=sampler,
                    key=jr.fold_in(sample_key, 100 * i + y),
                    guidance=SelfWeightedGuidance(scale, channel=y, clip_max=1.0),
                ).x
                for y in range(k)
            ],
        )
    seconds["sample SWG (all scales)"] = time.perf_counter() - tic
    mix_props = None
    if config.mix:
        if min(config.mix) < 0 or max(config.mix) >= k:
            raise ValueError(
                f"run_conditional: mix classes must lie in 0..{k - 1} for {config.dataset}, "
                f"got {config.mix}."
            )
        coeffs = np.zeros(k)
        coeffs[list(config.mix)] = 1.0 / len(config.mix)
        mix_props = {}
        for i, scale in enumerate(config.scales):
            mixed = sample(
                model,
                schedule,
                num=n,
                sampler=sampler,
                key=jr.fold_in(sample_key, 5000 + i),
                guidance=SelfWeightedGuidance(scale, channel=coeffs, clip_max=1.0),
            )
            record(f"SWG mix {'+'.join(map(str, config.mix))} ρ={scale:g}", [mixed.x])
            shares = class_proportions(judge.predict(decode(mixed.x)), k)
            mix_props[scale] = shares
            log(f"channel mix {config.mix} at ρ={scale:g}: {format_shares(shares)}")
    if config.class_conditional:
        labels = one_hot(data.y_train, k)
        cc_model, seconds["train class-conditional"] = fit(labels, next(keys))
        log(f"trained the class-conditional model in {seconds['train class-conditional']:.0f} s")
        record(
            "class-conditional",
            [
                sample(
                    cc_model,
                    schedule,
                    num=n,
                    sampler=sampler,
                    cond=one_hot(np.array([y]), k)[0],
                    key=jr.fold_in(sample_key, 2000 + y),
                ).x
                for y in range(k)
            ],
        )
    if config.resample_candidates > 0:
        tic = time.perf_counter()
        n_cand = config.resample_candidates
        scores = {  # the model's own sampled weight channel, and the classifier on the sample
            f"resampling N={n_cand} by sampled w": lambda y: None,
            f"resampling N={n_cand} by classifier": lambda y: ClassScore(classifier, y),
        }
        for i, (name, score) in enumerate(scores.items()):
            record(
                name,
                [
                    sample(
                        model,
                        schedule,
                        num=n,
                        sampler=sampler,
                        key=jr.fold_in(sample_key, 1000 + 100 * i + y),
                        guidance=Resampling(n_cand, select=Softmax(), channel=y, score=score(y)),
                    ).x
                    for y in range(k)
                ],
            )
        seconds["sample resampling"] = time.perf_counter() - tic
    samples["real"] = real
    return ConditionalResults(
        config, data, judge, metrics, samples, mix_props, clf_acc, judge_acc, seconds
    )


def _data_range(data: LabelledData) -> tuple[float, float] | None:
    return (-1.0, 1.0) if data.image_shape is not None else None


def _real_metrics(judge: Judge, real: list[np.ndarray], data: LabelledData) -> ClassMetrics:
    """The ceiling: accuracy on the real test images; distances from the real training
    images of each class to its test images."""
    base = evaluate_classes(judge, real, data.x_test, data.y_test)
    acc = np.array(
        [
            judge.accuracy(data.x_test[data.y_test == y], np.full(int(np.sum(data.y_test == y)), y))
            for y in range(data.num_classes)
        ]
    )
    return dataclasses.replace(base, accuracy=acc)
