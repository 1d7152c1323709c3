"""Every public name is documented."""

import dataclasses
import inspect

import pytest

import selfguide
import selfguide.checkpoint
import selfguide.checks
import selfguide.conditional
import selfguide.settings
import selfguide.testing
import selfguide.toys
import selfguide.training
import selfguide_rl

MODULES = [
    selfguide,
    selfguide.checkpoint,
    selfguide.checks,
    selfguide.settings,
    selfguide.testing,
    selfguide.training,
    selfguide.toys,
    selfguide.conditional,
    selfguide_rl,
]


def _public(module):
    for name in dir(module):
        obj = getattr(module, name)
        if name.startswith("_") or inspect.ismodule(obj):
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            yield f"{module.__name__}.{name}", obj


def _documented(obj) -> bool:
    """A docstring written for `obj`: not inherited, and not the `Name(field: type, ...)` that
    `dataclasses` (and so Equinox) writes for a class without one."""
    doc = (obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__) or ""
    if dataclasses.is_dataclass(obj) and doc.startswith(f"{obj.__name__}("):
        return False
    return bool(doc.strip())


def test_the_check_sees_generated_docstrings():
    @dataclasses.dataclass
    class Plain:
        size: int

    class Child(selfguide.VPSchedule):
        pass

    @dataclasses.dataclass
    class Written:
        """Written by hand."""

        size: int

    assert not _documented(Plain) and not _documented(Child) and _documented(Written)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_public_names_have_docstrings(module):
    missing = [name for name, obj in _public(module) if not _documented(obj)]
    assert not missing, f"undocumented public names: {missing}"
