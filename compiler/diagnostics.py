"""The one diagnostic type every stage reports with, and its source positions."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple

JsonPath = tuple[str | int, ...]


class Severity(enum.IntEnum):
    INFO = 0
    WARNING = 1
    ERROR = 2

    @property
    def label(self) -> str:
        return self.name.lower()


class Span(NamedTuple):
    """A 1-based source region; end is exclusive like an editor selection."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Diagnostic:
    code: str
    name: str
    severity: Severity
    message: str
    path: str
    span: Span | None = None
    hint: str | None = None
    json_path: str | None = None

    @property
    def line(self) -> int:
        return self.span.line if self.span else 1

    @property
    def column(self) -> int:
        return self.span.column if self.span else 1

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.code, self.message)


def format_json_path(path: JsonPath) -> str:
    out = "$"
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else f".{step}"
    return out


@dataclass
class PositionMap:
    """Where each JSON path of a loaded document sits in its source text.

    ``values`` maps a path to its value's span; ``keys`` maps a path to the span
    of the mapping key that introduces it (used to point at unknown keys).
    """

    values: dict[JsonPath, Span] = field(default_factory=dict)
    keys: dict[JsonPath, Span] = field(default_factory=dict)

    def locate(self, path: JsonPath, *, prefer_key: bool = False) -> Span | None:
        """Span of ``path``, or of its nearest located ancestor."""
        probe = tuple(path)
        while True:
            if prefer_key and probe in self.keys:
                return self.keys[probe]
            if probe in self.values:
                return self.values[probe]
            if probe in self.keys:
                return self.keys[probe]
            if not probe:
                return None
            probe = probe[:-1]
