"""The layers, read from the source: the core imports none of its applications, and the
applications (`selfguide.toys`, `selfguide.conditional`, `selfguide_rl`, the benchmarks)
reach the core only through its public names."""

import ast
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPLICATIONS = ("selfguide.toys", "selfguide.conditional", "selfguide_rl")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module an import in `path` may load, as absolute dotted names (a name taken
    from a package counts as a possible submodule: `from selfguide import _sample`)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def _files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _inside(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _private_core(name: str) -> bool:
    """`selfguide._x` and anything below it, not the applications' own private modules."""
    parts = name.split(".")
    if parts[0] != "selfguide" or len(parts) < 2 or _inside(name, APPLICATIONS):
        return False
    return any(p.startswith("_") and not p.startswith("__") for p in parts[1:])


CORE = [
    p for p in _files("selfguide") if not _inside(_module_name(p), APPLICATIONS)
]
APPS = _files("selfguide/toys", "selfguide/conditional", "selfguide_rl", "benchmarks")


def test_the_walk_finds_the_modules():
    names = {_module_name(p) for p in CORE}
    assert {"selfguide", "selfguide._cli", "selfguide._guidance", "selfguide.testing"} <= names
    assert any(_module_name(p) == "selfguide.toys._run" for p in APPS)
    assert _private_core("selfguide._checkpoint") and _private_core("selfguide._nn._mlp")
    assert not _private_core("selfguide.toys._run") and not _private_core("selfguide.checkpoint")


@pytest.mark.parametrize("path", CORE, ids=lambda p: _module_name(p))
def test_core_imports_no_application(path):
    bad = [
        f"line {line}: {name}" for line, name in _imports(path) if _inside(name, APPLICATIONS)
    ]
    assert not bad, f"{_module_name(path)} imports an application: {bad}"


@pytest.mark.parametrize("path", APPS, ids=lambda p: str(p.relative_to(ROOT)))
def test_applications_use_the_public_core(path):
    found = [(line, name) for line, name in _imports(path) if _private_core(name)]
    bad = [  # `from selfguide._x import y` once, not also as `selfguide._x.y`
        f"line {line}: {name}"
        for line, name in found
        if (line, name.rpartition(".")[0]) not in found
    ]
    assert not bad, (
        f"{path.relative_to(ROOT)} imports private core modules {bad}; use the public names "
        "(selfguide, selfguide.checkpoint, selfguide.settings, selfguide.checks, "
        "selfguide.training, selfguide.testing)."
    )


def test_import_selfguide_loads_no_application_and_no_rl_stack():
    code = (
        "import sys, selfguide; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('gymnasium', 'minari', 'mujoco', 'selfguide_rl') "
        "or m.startswith(('selfguide.toys', 'selfguide.conditional'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_subcommands_come_from_entry_points():
    entries = importlib.metadata.entry_points(group="selfguide.commands")
    assert {e.name for e in entries} >= {"toy", "demo", "conditional"}
    for entry in entries:
        command = entry.load()
        assert isinstance(command.HELP, str) and command.HELP
        assert callable(command.add_arguments) and callable(command.run)
