"""Settings changed by name (`--set FIELD=VALUE`): each value checked against its field's type.

A dataclass of settings says what each field takes through its annotation; `replace_fields`
changes fields by name, refuses an unknown name with the list of valid ones, and refuses a
value of the wrong kind with the field's name and an example of a right one, before any
work is done.
"""

import dataclasses
import json
import math
import types
import typing
from typing import Any, Literal


def _kinds(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def _fits(kind: Any, value: Any) -> tuple[bool, Any]:
    """Whether `value` suits the annotation `kind`, and the value converted to it."""
    origin = typing.get_origin(kind)
    if kind is type(None):
        return value is None, None
    if kind is bool:
        return isinstance(value, bool), value
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return ok and not math.isnan(value), float(value) if ok else value
    if kind is str:
        return isinstance(value, str), value
    if origin is Literal:
        return value in typing.get_args(kind), value
    if origin is tuple:
        args = typing.get_args(kind)
        if not isinstance(value, (list, tuple)):
            return False, value
        items = args[:1] * len(value) if len(args) == 2 and args[1] is Ellipsis else args
        if len(items) != len(value):
            return False, value
        out = []
        for item_kind, item in zip(items, value, strict=True):
            ok, converted = _fits(item_kind, item)
            if not ok:
                return False, value
            out.append(converted)
        return True, tuple(out)
    return True, value  # a kind this check does not know: left to the dataclass itself


def check_field(call: str, cls: type, name: str, value: Any, *, prefix: str = "") -> Any:
    """`value` converted to the type of `cls`'s field `name` (e.g. `3` → `3.0` for a float),
    or a `ValueError` that names the field, shows what came and gives an example."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if name not in fields:
        raise ValueError(
            f"{call}: {prefix}{name!r} is not a setting; the {cls.__name__} settings are "
            + ", ".join(prefix + n for n in fields)
            + "."
        )
    annotation = typing.get_type_hints(cls)[name]
    for kind in _kinds(annotation):
        ok, converted = _fits(kind, value)
        if ok:
            return converted
    field = fields[name]
    example = "" if field.default is dataclasses.MISSING else f" like {_show(field.default)}"
    choices = [a for k in _kinds(annotation) if typing.get_origin(k) is Literal
               for a in typing.get_args(k)]
    expected = f"one of {choices}" if choices else f"a value of type {_describe(annotation)}"
    raise ValueError(
        f"{call}: {prefix}{name} takes {expected}{example}, got {value!r}."
    )


def _show(value: Any) -> str:
    """A value as it is typed at the command line (JSON), else its `repr`."""
    try:
        return json.dumps(value)
    except TypeError:
        return repr(value)


def read_value(text: str) -> Any:
    """A command-line value: JSON (`512`, `2.5`, `true`, `null`, `[64, 64]`, a list read as a
    tuple), or else the text itself."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return tuple(value) if isinstance(value, list) else value


def _describe(annotation: Any) -> str:
    names = {int: "int (a whole number)", float: "float", bool: "bool (true or false)",
             str: "str", type(None): "null"}
    return " or ".join(names.get(k, str(k).replace("typing.", "")) for k in _kinds(annotation))


def replace_fields(call: str, obj: Any, changes: dict[str, Any], *, prefix: str = "") -> Any:
    """A copy of the dataclass `obj` with `changes` (field name → value), each checked."""
    checked = {
        name: check_field(call, type(obj), name, value, prefix=prefix)
        for name, value in changes.items()
    }
    return dataclasses.replace(obj, **checked)
