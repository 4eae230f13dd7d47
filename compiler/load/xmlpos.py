"""Line *and column* of XML elements, attributes and text, which lxml alone does not give.

lxml's ``sourceline`` is the line where a start tag *ends* and carries no column. The
locator scans the source once for start tags (skipping comments, CDATA and processing
instructions), pairs them with the parsed elements in document order, and then finds
attributes inside each start tag. If the pairing ever disagrees with lxml (it should
not), it falls back to whole-line spans. The scan runs on the first lookup: most files
have no finding and need no position at all.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

from vnuma.diagnostics import Span

_MARKUP = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!.*?>|<(?P<end>/)?(?P<name>[^\s/>!?]+)",
    re.DOTALL,
)
_ATTRIBUTE = re.compile(
    r"""\s+(?P<name>[^\s=/>]+)\s*=\s*(?P<q>["'])(?P<value>.*?)(?P=q)""", re.DOTALL
)
_TAG_END = re.compile(r"\s*/?>")


XmlRef = tuple[Any, str | None, bool]
"""What to locate: (element, None, False) its name, (element, name, False) an attribute,
(element, None, True) its text. A plain tuple: a lifted domain makes a few dozen."""


class XmlLocator:
    def __init__(self, text: str, root: Any) -> None:
        self._text = text
        self._root = root
        self._paired = False
        self._line_starts: list[int] = []
        self._offset_of: dict[Any, int] = {}

    @property
    def _offsets(self) -> dict[Any, int]:
        if not self._paired:
            self._paired = True
            self._line_starts = [0] + [m.end() for m in re.finditer(r"\n", self._text)]
            self._pair(self._root)
        return self._offset_of

    def _pair(self, root: Any) -> None:
        starts = [
            m.start()
            for m in _MARKUP.finditer(self._text)
            if m.group("name") is not None and not m.group("end")
        ]
        elements = [e for e in root.iter() if isinstance(e.tag, str)]
        if len(starts) != len(elements):
            return
        for element, offset in zip(elements, starts, strict=True):
            if self._line_of(offset) > (element.sourceline or 0):
                self._offset_of.clear()
                return
            self._offset_of[element] = offset

    def locate(self, ref: XmlRef) -> Span | None:
        element, attribute, text = ref
        if text:
            return self.text(element)
        if attribute is not None:
            return self.attribute(element, attribute)
        return self.element(element)

    def _line_of(self, offset: int) -> int:
        return bisect.bisect_right(self._line_starts, offset)

    def _span(self, start: int, end: int) -> Span:
        line, end_line = self._line_of(start), self._line_of(max(end, start + 1) - 1)
        column = start - self._line_starts[line - 1] + 1
        end_column = end - self._line_starts[end_line - 1] + 1
        return Span(line, column, end_line, max(end_column, column + 1 if line == end_line else 1))

    def element(self, element: Any) -> Span | None:
        """The element's name in its start tag, e.g. `<cell` (the `<` included)."""
        offset = self._offsets.get(element)
        if offset is None:
            line = getattr(element, "sourceline", None)
            return Span(line, 1, line, 1) if line else None
        name = _MARKUP.match(self._text, offset)
        end = name.end() if name else offset + 1
        return self._span(offset, end)

    def attribute(self, element: Any, name: str) -> Span | None:
        """The attribute's quoted value; the element when the attribute is absent."""
        offset = self._offsets.get(element)
        if offset is None or element.get(name) is None:
            return self.element(element)
        tag = _MARKUP.match(self._text, offset)
        position = tag.end() if tag else offset
        while True:
            match = _ATTRIBUTE.match(self._text, position)
            if match is None:
                return self.element(element)
            if match.group("name").split(":")[-1] == name:
                return self._span(match.start("q"), match.end())
            position = match.end()

    def text(self, element: Any) -> Span | None:
        """The element's text content (trimmed); the element when it has none."""
        offset = self._offsets.get(element)
        if offset is None or not (element.text or "").strip():
            return self.element(element)
        tag = _MARKUP.match(self._text, offset)
        position = tag.end() if tag else offset
        while (match := _ATTRIBUTE.match(self._text, position)) is not None:
            position = match.end()
        close = _TAG_END.match(self._text, position)
        if close is None:
            return self.element(element)
        body = close.end()
        leading = len(element.text) - len(element.text.lstrip())
        start = body + leading
        return self._span(start, start + len(element.text.strip()))
