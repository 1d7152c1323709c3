"""Every public name is documented, and the core never imports the RL stack."""

import inspect
import subprocess
import sys

import pytest

import selfguide
import selfguide.conditional
import selfguide.toys
import selfguide_rl

MODULES = [selfguide, selfguide.toys, selfguide.conditional, selfguide_rl]


def _public(module):
    for name in dir(module):
        obj = getattr(module, name)
        if name.startswith("_") or inspect.ismodule(obj):
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            yield f"{module.__name__}.{name}", obj


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_public_names_have_docstrings(module):
    missing = [name for name, obj in _public(module) if not (obj.__doc__ or "").strip()]
    assert not missing, f"undocumented public names: {missing}"


def test_core_does_not_import_rl_stack():
    code = (
        "import sys, selfguide, selfguide.toys; "
        "bad = [m for m in ('gymnasium', 'minari', 'mujoco', 'selfguide_rl') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
