"""The README's library example runs as written and lands on the exact tilted mean."""

import contextlib
import io
import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_example_hits_the_exact_tilted_mean():
    blocks = _python_blocks()
    assert len(blocks) == 2, "the README shows an unconditional and a conditional example"
    scope: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in blocks:
            exec(compile(block, str(README), "exec"), scope)
    printed = out.getvalue()
    assert "guided" in printed and "given x₁ > 0" in printed, printed

    exact = scope["exact"]
    x, xs, xs_c, ws = scope["x"], scope["xs"], np.asarray(scope["xs_c"]), np.asarray(scope["ws"])
    # Under w q the blobs keep their std 0.5 and shift by 0.25 in x₀; the tilted x₀ has
    # variance 0.25 + 16 p (1 - p), p = 1 / (e⁴ + 1) the mass left on the blobs at x₀ = -2.
    p = 1 / (np.exp(4) + 1)
    se = np.sqrt(0.25 + 16 * p * (1 - p)) / np.sqrt(len(xs))
    # Tolerance: 4 standard errors of the sample mean, plus 5% of the shift guidance must
    # make (data mean → exact), for the error of a small model after 2,000 steps (measured:
    # 2.09 unconditional, 2.13 conditional, against 2.18).
    tol = 4 * se + 0.05 * abs(exact - float(np.mean(x[:, 0])))
    assert abs(float(np.mean(xs[:, 0])) - exact) < tol, (float(np.mean(xs[:, 0])), exact, tol)
    assert abs(float(np.mean(xs_c[:, 0])) - exact) < tol
    # Conditioned on x₁ > 0 only the upper blobs remain: E[x₁ | c = 1] = 2 (untilted); the
    # same allowance, 5% of the distance the condition moves the mean (0 → 2).
    assert abs(float(np.mean(xs_c[:, 1])) - 2.0) < 4 * 0.5 / np.sqrt(len(xs_c)) + 0.05 * 2.0
    assert np.all(ws >= 0), "sampled weights are reported in w's units, never negative"
