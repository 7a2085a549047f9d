"""Typed, range-checked parameters: the schema language of every config section.

A section is a dataclass whose numeric fields are declared with :func:`bounded`, so
its allowed range lives beside its default and the validator can say, in one line,
which key is wrong, what is allowed and what was given.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from typing import Any


class ConfigError(ValueError):
    """A config value that is missing, mistyped or out of range (one line: key, rule, value)."""


@dataclass(frozen=True)
class Interval:
    """A numeric range such as [0, 0.5) or (0, inf)."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def __str__(self) -> str:
        left = "(" if self.low_open or self.low == -math.inf else "["
        right = ")" if self.high_open or self.high == math.inf else "]"
        return f"{left}{_fmt(self.low)}, {_fmt(self.high)}{right}"


def _fmt(x: float) -> str:
    if x == math.inf:
        return "inf"
    if x == -math.inf:
        return "-inf"
    return f"{x:g}"


def bounded(low: float = -math.inf, high: float = math.inf, *, low_open: bool = False,
            high_open: bool = False, doc: str = "") -> Any:
    """A required dataclass field whose value must lie in the given interval.

    Fields have no defaults: the values live in the YAML config (one source of
    truth); the schema holds types, ranges and the one-line ``doc``.
    """
    return field(metadata={"range": Interval(low, high, low_open, high_open), "doc": doc})


def positive(doc: str = "") -> Any:
    """A field that must be strictly greater than zero."""
    return bounded(0, low_open=True, doc=doc)


def nonnegative(doc: str = "") -> Any:
    """A field that must be zero or greater."""
    return bounded(0, doc=doc)


def fraction(doc: str = "") -> Any:
    """A field in [0, 1]."""
    return bounded(0, 1, doc=doc)


def described(doc: str) -> Any:
    """A required non-numeric field (string, flag, list or nested section)."""
    return field(metadata={"doc": doc})


def build(schema: type, values: Any, path: str) -> Any:
    """Build ``schema`` from a plain mapping, checking keys, types and ranges.

    ``path`` is the dotted config key of the section, used in error messages.
    """
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: expected a mapping of {schema.__name__} settings, "
                          f"got {values!r}")
    fields = {f.name: f for f in dataclasses.fields(schema)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"{_key(path, unknown[0])}: unknown key; allowed keys are "
                          f"{', '.join(sorted(fields))}")
    missing = [name for name, f in fields.items() if name not in values
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ConfigError(f"{_key(path, missing[0])}: missing; {_doc(fields[missing[0]])}")
    hints = typing.get_type_hints(schema)
    return schema(**{name: _check(f, hints[name], values[name], _key(path, name))
                     for name, f in fields.items() if name in values})


def _doc(f: dataclasses.Field) -> str:
    interval = f.metadata.get("range")
    text = f.metadata.get("doc", "")
    return f"{text} (allowed: {interval})" if interval else text


def _key(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _check(f: dataclasses.Field, kind: Any, value: Any, key: str) -> Any:
    if dataclasses.is_dataclass(kind):
        return build(kind, value, key)
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if kind in (int, float):
        value = _number(kind, value, key)
        interval = f.metadata.get("range")
        if interval is not None and value not in interval:
            raise ConfigError(f"{key}: must be in {interval}, got {value!r}")
        return value
    if typing.get_origin(kind) is tuple:
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key}: expected a list of strings, got {value!r}")
        return tuple(value)
    if kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    return value


def _number(kind: type, value: Any, key: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        expected = "an integer" if kind is int else "a number"
        raise ConfigError(f"{key}: expected {expected}, got {value!r}")
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return int(value)
    if not math.isfinite(value):
        raise ConfigError(f"{key}: expected a finite number, got {value!r}")
    return float(value)
