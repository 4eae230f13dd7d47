"""Parse untrusted XML: no DTD, no entities, no network, bounded size."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from vnuma.diagnostics import Span
from vnuma.records import Record

if TYPE_CHECKING:
    from lxml import etree

_POSITION_SUFFIX = r",? line \d+, column \d+$"  # compiled by `re` when an error needs it
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_PROLOG_SCAN = 1 << 20  # a DOCTYPE can only precede the root element


class XmlProblem(Record):
    __slots__ = ("message", "span")

    def __init__(self, message: str, span: Span | None) -> None:
        self.message = message
        self.span = span


def parse_xml(data: bytes) -> tuple[etree._Element | None, XmlProblem | None]:
    """Return (root element, None) or (None, problem)."""
    from lxml import etree

    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    doctype = _DOCTYPE.search(data, 0, _PROLOG_SCAN)
    if doctype is not None:
        # Refused before libxml2 sees any entity declaration (billion laughs, XXE).
        line = data.count(b"\n", 0, doctype.start()) + 1
        column = doctype.start() - (data.rfind(b"\n", 0, doctype.start()) + 1) + 1
        return None, XmlProblem(
            "DOCTYPE declarations (and entities) are not allowed",
            Span(line, column, line, column + len("<!DOCTYPE")),
        )
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno or 1, 1)
        line, column = line or 1, max(column or 1, 1)  # libxml2's column is already 1-based
        span = Span(line, column, line, column + 1)
        message = re.sub(_POSITION_SUFFIX, "", exc.msg or "malformed XML")
        return None, XmlProblem(f"XML syntax error: {message}", span)
    except ValueError as exc:
        return None, XmlProblem(f"XML error: {exc}", None)
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # type: ignore[union-attr]  # lxml-stubs 0.5 lacks DocInfo.doctype
        return None, XmlProblem(
            "DOCTYPE declarations (and entities) are not allowed", Span(1, 1, 1, 2)
        )
    return root, None


def element_span(element: Any) -> Span | None:
    line = getattr(element, "sourceline", None)
    return Span(line, 1, line, 1) if line else None
