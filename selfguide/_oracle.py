"""An exact denoiser for Gaussian-mixture data with exponential-tilt weights.

For `q(x) = Σ_k π_k N(μ_k, s_k² I)` and weight channels `w_j(x) = exp(b_jᵀ x)`, both the
noisy score `∇ log q_t` and the posterior weight `E[w_j(x_0) | x_t]` are closed-form. This
module returns the ε that makes a joint model exact: the data channels give the true score, and
the weight channels are set so the model's Tweedie estimate `ŵ_0` equals `E[w_j(x_0) | x_t]`.
Samplers and guidance must then reproduce known targets; the tests rely on it, and it is a
ready reference for anyone writing a new sampler.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._custom_types import Cond, PRNGKey
from ._schedule import AbstractSchedule
from ._weight_output import AbstractWeightOutput, as_weight_output


class GaussianMixtureOracle(eqx.Module):
    """The exact ε-network for isotropic Gaussian-mixture data and weights `exp(bᵀx)`.

    **Arguments:**

    - `means`: `(M, d)` component means; `stds`: `(M,)` component standard deviations;
        `probs`: `(M,)` mixture weights.
    - `tilts`: `(K, d)`, one `b_j` per weight channel.
    - `schedule`: the schedule the samplers will use (the oracle needs `α_t`, `σ_t`).
    - `weight_output`: [`NoiseWeights()`][selfguide.NoiseWeights] or `"eps"` (the weight
        outputs are noise), or [`DenoisedWeights()`][selfguide.DenoisedWeights] or
        `"denoised"` (they are the exact `E[w_0 | z_t]`); wrap in
        `JointModel(..., weight_output=...)` to match.
    """

    means: Float[Array, "M d"]
    stds: Float[Array, " M"]
    log_probs: Float[Array, " M"]
    tilts: Float[Array, "K d"]
    schedule: AbstractSchedule
    data_dim: int = eqx.field(static=True)
    weight_dim: int = eqx.field(static=True)
    cond_dim: int = eqx.field(static=True, default=0)
    weight_output: AbstractWeightOutput

    def __init__(
        self,
        means: Float[ArrayLike, "M d"],
        stds: Float[ArrayLike, " M"],
        probs: Float[ArrayLike, " M"],
        tilts: Float[ArrayLike, "K d"],
        schedule: AbstractSchedule,
        weight_output: AbstractWeightOutput | str = "eps",
    ):
        self.means = jnp.asarray(means, dtype=jnp.float32)
        self.stds = jnp.asarray(stds, dtype=jnp.float32)
        self.log_probs = jnp.log(jnp.asarray(probs, dtype=jnp.float32))
        self.tilts = jnp.asarray(tilts, dtype=jnp.float32)
        self.schedule = schedule
        self.data_dim = self.means.shape[1]
        self.weight_dim = self.tilts.shape[0]
        self.cond_dim = 0
        self.weight_output = as_weight_output("GaussianMixtureOracle", weight_output)

    def _posterior(self, x_t: Float[Array, " d"], t: Float[Array, ""]):
        """Responsibilities and per-component posterior mean/variance of `x_0` given `x_t`."""
        alpha, sigma = self.schedule.alpha_sigma(t)
        var_t = alpha**2 * self.stds**2 + sigma**2  # (M,)
        diff = x_t[None, :] - alpha * self.means  # (M, d)
        d = self.data_dim
        log_n = -0.5 * jnp.sum(diff**2, axis=1) / var_t - 0.5 * d * jnp.log(2 * jnp.pi * var_t)
        resp = jax.nn.softmax(self.log_probs + log_n)
        post_var = self.stds**2 * sigma**2 / var_t  # (M,)
        post_mean = self.means + (alpha * self.stds**2 / var_t)[:, None] * diff
        return resp, post_mean, post_var, diff, var_t

    def log_expected_weight(
        self, x_t: Float[Array, " d"], t: Float[Array, ""]
    ) -> Float[Array, " K"]:
        """`log E[exp(b_jᵀ x_0) | x_t]` for each channel `j`."""
        resp, post_mean, post_var, _, _ = self._posterior(x_t, t)
        tilt_norms = jnp.sum(self.tilts**2, axis=1)  # (K,)
        log_mgf = post_mean @ self.tilts.T + 0.5 * post_var[:, None] * tilt_norms[None, :]
        return jax.nn.logsumexp(jnp.log(resp)[:, None] + log_mgf, axis=0)

    def __call__(
        self, z: Float[Array, " D"], t: Float[Array, ""], cond: Cond = None, *,
        key: PRNGKey | None = None,
    ) -> Float[Array, " D"]:
        del cond, key
        alpha, sigma = self.schedule.alpha_sigma(t)
        x_t, w_t = z[: self.data_dim], z[self.data_dim :]
        resp, _, _, diff, var_t = self._posterior(x_t, t)
        score = -jnp.sum(resp[:, None] * diff / var_t[:, None], axis=0)
        eps_x = -sigma * score
        w0 = jnp.exp(self.log_expected_weight(x_t, t))
        out_w = self.weight_output.outputs_for(w0, w_t, alpha, sigma)
        return jnp.concatenate([eps_x, out_w])

    def tilted(self, scale: int = 1, mix: Float[ArrayLike, " K"] | list | None = None):
        """The exact target `(Σ_j c_j w_j)^ρ q` for `ρ ∈ {0, 1, 2, …}` as a mixture.

        Returns numpy `(means, stds, probs)` of the tilted mixture. `mix` defaults to channel 0.
        """
        mix = np.eye(self.weight_dim)[0] if mix is None else np.asarray(mix, dtype=float)
        if scale < 0:
            raise ValueError("GaussianMixtureOracle.tilted: scale must be a non-negative integer.")
        means = np.asarray(self.means, dtype=float)
        s2 = np.asarray(self.stds, dtype=float) ** 2
        log_p = np.asarray(self.log_probs, dtype=float)
        tilts = np.asarray(self.tilts, dtype=float)
        # Expand (Σ_j c_j e^{b_j x})^ρ into a sum of exponentials e^{(Σ counts·b) x}.
        terms = [(np.zeros(self.data_dim), 0.0)]
        for _ in range(int(scale)):
            terms = [
                (b + tilts[j], c + np.log(mix[j]))
                for b, c in terms
                for j in range(self.weight_dim)
                if mix[j] > 0
            ]
        out_means, out_stds, out_logp = [], [], []
        for b, log_c in terms:
            out_means.append(means + s2[:, None] * b)
            out_stds.append(np.sqrt(s2))
            out_logp.append(log_p + log_c + means @ b + 0.5 * s2 * (b @ b))
        logp = np.concatenate(out_logp)
        probs = np.exp(logp - logp.max())
        return np.concatenate(out_means), np.concatenate(out_stds), probs / probs.sum()
