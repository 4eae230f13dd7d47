"""Source positions for TOML documents.

``tomllib`` decodes TOML but forgets where everything was.  ``toml_positions``
re-scans the (already validated) text and records, for every JSON path of the
decoded data, the span of its value and of the key that introduces it.  It never
decodes values; it only finds where each one starts and ends.

Layout: a few pure lexing helpers (``_skip*``, ``_string_end``, ``_scalar_end``,
``_key_segment``) that map a start offset to an end offset, and a small
recursive-descent ``_Parser`` over statements, keys and values that records
spans into a :class:`PositionMap` as it goes.
"""

from __future__ import annotations

import bisect
import contextlib
import re
import tomllib

from vnuma.diagnostics import JsonPath, PositionMap, Span

__all__ = ["toml_positions"]

_BOM = "\ufeff"
_INLINE_WS = " \t"
_ANY_WS = " \t\r\n"
_QUOTES = ('"', "'")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
# Numbers, booleans, inf/nan and dates/times are opaque tokens built from these.
_SCALAR = re.compile(r"[A-Za-z0-9_+\-.:]+")
# The one scalar that may contain a space: "1979-05-27 07:32:00".
_SPACED_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9][A-Za-z0-9_+\-.:]*")

KeyPart = tuple[str, Span]


class _ScanError(Exception):
    """The text is not TOML this scanner understands."""


def toml_positions(text: str) -> PositionMap:
    """Spans of every key and value in ``text`` (valid TOML), keyed by JSON path.

    Never raises: on text it cannot follow, it returns what it found so far.
    """
    positions = PositionMap()
    with contextlib.suppress(Exception):
        _Parser(text, positions).document()
    return positions


# --------------------------------------------------------------------- lexing


def _skip(text: str, pos: int, chars: str) -> int:
    """First offset at or after ``pos`` whose character is not in ``chars``."""
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos


def _skip_comment(text: str, pos: int) -> int:
    """Skip a ``#`` comment starting at ``pos`` up to (not over) the newline."""
    if not text.startswith("#", pos):
        return pos
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _skip_blank(text: str, pos: int) -> int:
    """Skip whitespace, newlines and comments (between array/table items)."""
    while True:
        nxt = _skip_comment(text, _skip(text, pos, _ANY_WS))
        if nxt == pos:
            return pos
        pos = nxt


def _string_end(text: str, pos: int, *, multiline: bool = True) -> int:
    """Offset just past the string literal whose opening quote is at ``pos``."""
    quote = text[pos]
    if multiline and text.startswith(quote * 3, pos):
        return _multiline_string_end(text, pos + 3, quote)
    escapes = quote == '"'
    i = pos + 1
    while i < len(text) and text[i] != "\n":
        if escapes and text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    raise _ScanError(f"unterminated string at offset {pos}")


def _multiline_string_end(text: str, pos: int, quote: str) -> int:
    """Offset just past the closing triple quote of a multi-line string body."""
    escapes = quote == '"'
    i = pos
    while i < len(text):
        if escapes and text[i] == "\\":
            i += 2
            continue
        if text.startswith(quote * 3, i):
            # Up to two more quotes right before the delimiter belong to the body.
            end = i + 3
            for _ in range(2):
                if text.startswith(quote, end):
                    end += 1
            return end
        i += 1
    raise _ScanError(f"unterminated multi-line string at offset {pos}")


def _scalar_end(text: str, pos: int) -> int:
    """Offset just past a number, boolean or date/time token at ``pos``."""
    match = _SPACED_DATETIME.match(text, pos) or _SCALAR.match(text, pos)
    if match is None:
        raise _ScanError(f"unexpected character at offset {pos}")
    return match.end()


def _decode_quoted_key(raw: str) -> str:
    """The key name of a quoted key (``raw`` includes the quotes)."""
    if raw.startswith("'") or "\\" not in raw:
        return raw[1:-1]
    # Escapes in a basic-string key: let tomllib decode just that key.
    return next(iter(tomllib.loads(f"{raw} = 0")))


def _key_segment(text: str, pos: int) -> tuple[str, int]:
    """One (undotted) key at ``pos``: its name and the offset just past it."""
    if text.startswith(_QUOTES, pos):
        end = _string_end(text, pos, multiline=False)
        return _decode_quoted_key(text[pos:end]), end
    match = _BARE_KEY.match(text, pos)
    if match is None:
        raise _ScanError(f"expected a key at offset {pos}")
    return match.group(), match.end()


# -------------------------------------------------------------------- parsing


class _Parser:
    """Recursive descent over TOML statements, recording spans as it goes."""

    def __init__(self, text: str, out: PositionMap) -> None:
        if text.startswith(_BOM):
            text = text[1:]  # a BOM takes no column
        self.text = text
        self.out = out
        self.pos = 0
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.table: JsonPath = ()
        self.aot_counts: dict[JsonPath, int] = {}

    # -- positions

    def _line_col(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.line_starts, offset) - 1
        return index + 1, offset - self.line_starts[index] + 1

    def span(self, start: int, end: int) -> Span:
        return Span(*self._line_col(start), *self._line_col(end))

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def expect(self, token: str) -> None:
        if not self.text.startswith(token, self.pos):
            raise _ScanError(f"expected {token!r} at offset {self.pos}")
        self.pos += len(token)

    def skip_inline_ws(self) -> None:
        self.pos = _skip(self.text, self.pos, _INLINE_WS)

    def skip_blank(self) -> None:
        self.pos = _skip_blank(self.text, self.pos)

    # -- recording

    def implicit(self, path: JsonPath, key_span: Span) -> None:
        """A table created on the way to a deeper key; first mention wins."""
        self.out.keys.setdefault(path, key_span)
        self.out.values.setdefault(path, key_span)

    # -- statements

    def document(self) -> None:
        while True:
            self.skip_blank()
            if self.pos >= len(self.text):
                return
            if self.peek() == "[":
                self.header()
            else:
                self.key_value(self.table)
            self.end_of_line()

    def end_of_line(self) -> None:
        self.skip_inline_ws()
        self.pos = _skip_comment(self.text, self.pos)
        if self.pos < len(self.text) and self.peek() not in "\r\n":
            raise _ScanError(f"expected end of line at offset {self.pos}")

    def dotted_key(self) -> list[KeyPart]:
        parts: list[KeyPart] = []
        while True:
            self.skip_inline_ws()
            start = self.pos
            name, self.pos = _key_segment(self.text, start)
            parts.append((name, self.span(start, self.pos)))
            self.skip_inline_ws()
            if self.peek() != ".":
                return parts
            self.pos += 1

    def header(self) -> None:
        start = self.pos
        is_array = self.text.startswith("[[", start)
        self.pos += 2 if is_array else 1
        parts = self.dotted_key()
        self.expect("]]" if is_array else "]")
        span = self.span(start, self.pos)
        if is_array:
            self.table = self.open_array_table(parts, span)
        else:
            self.table = self.open_table(parts, span)

    def resolve(self, parts: list[KeyPart]) -> JsonPath:
        """Concrete path of a header prefix; arrays of tables mean their last element."""
        path: JsonPath = ()
        for name, key_span in parts:
            path += (name,)
            self.implicit(path, key_span)
            if path in self.aot_counts:
                path += (self.aot_counts[path] - 1,)
        return path

    def open_table(self, parts: list[KeyPart], span: Span) -> JsonPath:
        name, key_span = parts[-1]
        path = (*self.resolve(parts[:-1]), name)
        self.out.keys[path] = key_span
        self.out.values[path] = span
        return path

    def open_array_table(self, parts: list[KeyPart], span: Span) -> JsonPath:
        name, key_span = parts[-1]
        array = (*self.resolve(parts[:-1]), name)
        index = self.aot_counts.get(array, 0)
        self.aot_counts[array] = index + 1
        self.out.keys.setdefault(array, key_span)
        self.out.values.setdefault(array, span)
        element = (*array, index)
        self.out.keys[element] = key_span
        self.out.values[element] = span
        return element

    def key_value(self, base: JsonPath) -> None:
        parts = self.dotted_key()
        self.expect("=")
        self.skip_inline_ws()
        path = base
        for name, key_span in parts[:-1]:
            path += (name,)
            self.implicit(path, key_span)
        name, key_span = parts[-1]
        path += (name,)
        self.out.keys[path] = key_span
        self.value(path)

    # -- values

    def value(self, path: JsonPath) -> None:
        start = self.pos
        first = self.peek()
        if first in _QUOTES:
            self.pos = _string_end(self.text, start)
        elif first == "[":
            self.array(path)
        elif first == "{":
            self.inline_table(path)
        else:
            self.pos = _scalar_end(self.text, start)
        self.out.values[path] = self.span(start, self.pos)

    def array(self, path: JsonPath) -> None:
        self.expect("[")
        index = 0
        while True:
            self.skip_blank()
            if self.peek() == "]":
                self.pos += 1
                return
            self.value((*path, index))
            index += 1
            self.item_separator("]")

    def inline_table(self, path: JsonPath) -> None:
        self.expect("{")
        while True:
            self.skip_blank()  # lenient: TOML 1.0 forbids newlines here, 1.1 allows them
            if self.peek() == "}":
                self.pos += 1
                return
            self.key_value(path)
            self.item_separator("}")

    def item_separator(self, closer: str) -> None:
        """After an item: consume a comma, or make sure ``closer`` comes next."""
        self.skip_blank()
        if self.peek() == ",":
            self.pos += 1
        elif self.peek() != closer:
            raise _ScanError(f"expected ',' or {closer!r} at offset {self.pos}")
