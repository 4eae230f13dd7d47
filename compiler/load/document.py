"""Read an XML file for linting: the parsed tree, its source text and a position locator."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vnuma.diagnostics import Diagnostic, Span
from vnuma.load.text import decode_utf8, read_bytes
from vnuma.load.xmlpos import XmlLocator
from vnuma.load.xmlsafe import parse_xml
from vnuma.rules import make_diagnostic


@dataclass(frozen=True)
class XmlDocument:
    path: str
    text: str
    root: Any = None
    locator: XmlLocator | None = None
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def root_tag(self) -> str | None:
        return self.root.tag if self.root is not None else None


def load_xml_document(path: Path, shown: str) -> XmlDocument:
    """Raises UnreadableInput when the file cannot be read; anything else is a diagnostic."""
    data = read_bytes(path)
    text, problem = decode_utf8(data)
    if problem is not None:
        span = Span(problem.line, problem.column, problem.line, problem.column + 1)
        diag = make_diagnostic("VN001", problem.message, shown, span, hint="save the file as UTF-8")
        return XmlDocument(shown, "", diagnostics=(diag,))
    root, xml_problem = parse_xml(data)
    if xml_problem is not None:
        diag = make_diagnostic("VN001", xml_problem.message, shown, xml_problem.span)
        return XmlDocument(shown, text, diagnostics=(diag,))
    return XmlDocument(shown, text, root, XmlLocator(text, root))
