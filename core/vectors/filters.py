"""Payload filters applied inside a vector search, independent of the backend.

A `VectorFilter` is a conjunction of conditions on payload fields. Field names are dotted paths
into the payload (`record_type`, `data.price`). A condition on a field holding a list matches when
any element matches, as in Qdrant. Types are compared strictly: the string "5" never equals the
number 5, and a range only matches numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.errors import InvalidInput

Scalar = str | int | float | bool

_FIELD_RE = re.compile(r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")


def _check_field(name: str) -> str:
    if not isinstance(name, str) or not _FIELD_RE.match(name):
        raise InvalidInput(f"invalid filter field {name!r}")
    return name


def _check_scalar(value: object) -> Scalar:
    if not isinstance(value, str | int | float | bool):
        raise InvalidInput(f"filter values must be strings, numbers or booleans, not {type(value).__name__}")
    return value


@dataclass(frozen=True)
class Match:
    """The field equals `value`."""

    field: str
    value: Scalar

    def __post_init__(self) -> None:
        _check_field(self.field)
        _check_scalar(self.value)


@dataclass(frozen=True)
class MatchAny:
    """The field equals one of `values` (strings or integers, not mixed with floats or booleans)."""

    field: str
    values: tuple[str | int, ...]

    def __post_init__(self) -> None:
        _check_field(self.field)
        object.__setattr__(self, "values", tuple(self.values))
        if not self.values:
            raise InvalidInput(f"filter {self.field}: an empty list matches nothing")
        for value in self.values:
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise InvalidInput(f"filter {self.field}: list values must be strings or integers")


@dataclass(frozen=True)
class Range:
    """The field is a number within the given bounds (any bound may be omitted)."""

    field: str
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None

    def __post_init__(self) -> None:
        _check_field(self.field)
        bounds = (self.gt, self.gte, self.lt, self.lte)
        if all(b is None for b in bounds):
            raise InvalidInput(f"filter {self.field}: a range needs at least one bound")
        for b in bounds:
            if b is not None and (isinstance(b, bool) or not isinstance(b, int | float)):
                raise InvalidInput(f"filter {self.field}: range bounds must be numbers")

    def bounds(self) -> list[tuple[str, float]]:
        """(operator, number) pairs for the bounds that are set: `>`, `>=`, `<`, `<=`."""
        ops = ((">", self.gt), (">=", self.gte), ("<", self.lt), ("<=", self.lte))
        return [(op, float(v)) for op, v in ops if v is not None]


Condition = Match | MatchAny | Range


@dataclass(frozen=True)
class VectorFilter:
    """All of `must` hold (an empty filter matches every point)."""

    must: tuple[Condition, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "must", tuple(self.must))

    def __bool__(self) -> bool:
        return bool(self.must)
