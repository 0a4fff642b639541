"""Captured facts ↔ plain JSON values, so a run's journal can rebuild its `RunRecord`.

The dataclasses in `fedcrate.record` hold only scalars, enums, datetimes, paths, tuples, lists
and other such dataclasses; the field types say how to read each value back, so one
generic pair of functions serves every record type.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["from_jsonable", "to_jsonable"]

T = TypeVar("T")


def to_jsonable(value: Any) -> Any:
    """A JSON-ready copy of a record (or any of its parts)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    return value


def from_jsonable(kind: type[T], data: Any) -> T:
    """Rebuild a value of type `kind` from `to_jsonable`'s output."""
    return typing.cast(T, _read(kind, data))


def _read(kind: Any, data: Any) -> Any:
    if data is None or kind is Any:
        return data
    origin = typing.get_origin(kind)
    if origin is typing.Union or origin is types.UnionType:
        options = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        structured = [arg for arg in options if not _is_scalar(arg)]
        if not structured:
            return data  # str | int | float | bool: JSON kept the type
        for option in structured:
            try:
                return _read(option, data)
            except (TypeError, ValueError, KeyError):
                continue
        return data
    if origin in (list, tuple):
        args = typing.get_args(kind)
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return tuple(_read(args[0], item) for item in data)
        if origin is tuple:
            return tuple(_read(arg, item) for arg, item in zip(args, data, strict=True))
        return [_read(args[0] if args else Any, item) for item in data]
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(data, dict):
            raise TypeError(f"{kind.__name__}: expected an object, got {type(data).__name__}")
        hints = typing.get_type_hints(kind)
        names = {f.name for f in dataclasses.fields(kind) if f.init}
        return kind(**{name: _read(hints[name], data[name]) for name in names if name in data})
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(data)
    if kind is datetime:
        return datetime.fromisoformat(data)
    if kind is Path:
        return Path(data)
    return data


def _is_scalar(kind: Any) -> bool:
    return kind in (str, int, float, bool)
