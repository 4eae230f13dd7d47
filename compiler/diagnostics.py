"""The one diagnostic type every stage reports with, and its source positions."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, MutableMapping

from vnuma.records import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing when vnuma starts
if TYPE_CHECKING:
    from typing import Any

JsonPath = tuple[str | int, ...]


class Severity(enum.IntEnum):
    INFO = 0
    WARNING = 1
    ERROR = 2

    @property
    def label(self) -> str:
        return self.name.lower()


class Span(Record):
    """A 1-based source region; end is exclusive like an editor selection."""

    __slots__ = ("column", "end_column", "end_line", "line")

    def __init__(self, line: int, column: int, end_line: int, end_column: int) -> None:
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column

    def as_tuple(self) -> tuple[int, int, int, int]:
        """(line, column, end_line, end_column): its order and its JSON form."""
        return (self.line, self.column, self.end_line, self.end_column)


class Diagnostic(Record):
    __slots__ = ("code", "hint", "json_path", "message", "name", "path", "severity", "span")

    def __init__(
        self,
        code: str,
        name: str,
        severity: Severity,
        message: str,
        path: str,
        span: Span | None = None,
        hint: str | None = None,
        json_path: str | None = None,
    ) -> None:
        self.code = code
        self.name = name
        self.severity = severity
        self.message = message
        self.path = path
        self.span = span
        self.hint = hint
        self.json_path = json_path

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


class DeferredSpans(MutableMapping[JsonPath, Span]):
    """Spans located on first lookup: each path holds a token that ``resolve`` turns into
    its span (or None: no position), so a file without findings never pays for locating
    every value. ``tokens`` is the loader's own dict of path -> token, which it fills
    directly as it reads (a method call per value would cost more than the dict store).
    Pickles (for -j workers) and copies as a plain dict of resolved spans."""

    def __init__(self, resolve: Callable[[Any], Span | None], tokens: dict[JsonPath, Any]) -> None:
        self._resolve = resolve
        self._entries = tokens  # a Span once resolved, else its token

    def __getitem__(self, path: JsonPath) -> Span:
        entry = self._entries[path]
        if not isinstance(entry, Span):
            entry = self._resolve(entry)
            if entry is None:
                del self._entries[path]
                raise KeyError(path)
            self._entries[path] = entry
        return entry

    def __contains__(self, path: object) -> bool:
        try:
            self[path]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __setitem__(self, path: JsonPath, span: Span) -> None:
        self._entries[path] = span

    def __delitem__(self, path: JsonPath) -> None:
        del self._entries[path]

    def __iter__(self) -> Iterator[JsonPath]:
        return iter([path for path in list(self._entries) if path in self])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __reduce__(self) -> tuple[Any, ...]:
        return dict, (dict(self.items()),)


class PositionMap:
    """Where each JSON path of a loaded document sits in its source text.

    ``values`` maps a path to its value's span; ``keys`` maps a path to the span
    of the mapping key that introduces it (used to point at unknown keys).
    """

    __slots__ = ("keys", "values")

    def __init__(
        self,
        values: MutableMapping[JsonPath, Span] | None = None,
        keys: MutableMapping[JsonPath, Span] | None = None,
    ) -> None:
        self.values: MutableMapping[JsonPath, Span] = {} if values is None else values
        self.keys: MutableMapping[JsonPath, Span] = {} if keys is None else keys

    def __repr__(self) -> str:
        return "PositionMap(...)"  # a repr of every span would swamp the record's own

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
