"""Read an XML file (domain, base domain, guest beside another): the one XML loader.

Every command reads domain XML through :func:`load_xml_document`, so a file gets one
verdict whichever command reads it. The policy is libxml2's, which libvirt parses with:
the encoding the XML declaration names (UTF-8 without one; a UTF-8 byte order mark is
dropped), bytes that are not valid in it are a VN001 at their line and column.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import TYPE_CHECKING

from vnuma.codes import make_diagnostic
from vnuma.diagnostics import Diagnostic, Span
from vnuma.load.text import UTF8_BOM, decode_text, read_bytes
from vnuma.load.xmlpos import XmlLocator
from vnuma.load.xmlsafe import parse_xml
from vnuma.records import Record

if TYPE_CHECKING:
    from lxml import etree

_DECLARATION = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(<\?xml\s[^>]*\?>)")
_ENCODING = re.compile(r"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
# Possessive repeats: a prolog of whitespace, comments and PIs has one reading, and a
# hostile file must not make the engine try the others (30 spaces took seconds).
_FIRST_ELEMENT = re.compile(
    rb"(?:\xef\xbb\xbf)?(?:\s|<!--(?:[^-]|-(?!-))*+-->|<\?(?:[^?]|\?(?!>))*+\?>)*+"
    rb"<([A-Za-z_][A-Za-z0-9_.-]*+)[\s/>]"
)
_PROLOG_PEEK = 4096  # bytes of a prolog read for its first element


class XmlDocument(Record):
    __slots__ = ("bom", "declaration", "diagnostics", "encoding", "locator", "path", "root", "text")

    def __init__(
        self,
        path: str,
        text: str,
        root: etree._Element | None = None,
        locator: XmlLocator | None = None,
        diagnostics: tuple[Diagnostic, ...] = (),
        declaration: str | None = None,
        encoding: str = "utf-8",
        bom: bool = False,
    ) -> None:
        self.path = path
        self.text = text
        self.root = root
        self.locator = locator
        self.diagnostics = diagnostics
        self.declaration = declaration
        """The document's `<?xml ...?>` line as written (kept when vnuma rewrites the file)."""
        self.encoding = encoding
        """The encoding the declaration names (utf-8 without one): how the file is decoded
        and how a rewrite of it is encoded."""
        self.bom = bom
        """The file starts with a UTF-8 byte-order mark (kept when vnuma rewrites the file)."""

    @property
    def root_tag(self) -> str | None:
        return self.root.tag if self.root is not None else None


def load_xml_document(path: Path, shown: str) -> XmlDocument:
    """Raises UnreadableInput when the file cannot be read; anything else is a diagnostic."""
    return parse_xml_document(read_bytes(path), shown)


def first_element(data: bytes) -> str | None:
    """The name of the document's first element, read from its opening bytes without
    parsing it (a walk meets host snapshots of tens of kilobytes beside its domains);
    None when the prolog is anything but an XML declaration, comments, processing
    instructions and whitespace (a DOCTYPE, another encoding): only a parse can tell."""
    match = _FIRST_ELEMENT.match(data, 0, _PROLOG_PEEK)
    return match.group(1).decode("ascii") if match else None


def parse_xml_document(data: bytes, shown: str) -> XmlDocument:
    """The document in ``data`` (a file's bytes); every problem is a diagnostic."""
    declaration, encoding = xml_declaration(data)
    text, problem = decode_text(data, encoding)
    if problem is not None:
        span = Span(problem.line, problem.column, problem.line, problem.column + 1)
        hint = (
            "save the file as UTF-8, or name its encoding in the XML declaration "
            "(<?xml version='1.0' encoding='ISO-8859-1'?>)"
        )
        diag = make_diagnostic("VN001", problem.message, shown, span, hint=hint)
        # the text with the bad bytes replaced: enough to tell a domain from other XML
        readable = data.decode(encoding, errors="replace")
        return XmlDocument(shown, readable, diagnostics=(diag,), declaration=declaration)
    root, xml_problem = parse_xml(data)
    if xml_problem is not None:
        diag = make_diagnostic("VN001", xml_problem.message, shown, xml_problem.span)
        return XmlDocument(shown, text, diagnostics=(diag,), declaration=declaration)
    bom = data.startswith(UTF8_BOM) and codecs.lookup(encoding).name == "utf-8"
    return XmlDocument(
        shown,
        text,
        root,
        XmlLocator(text, root),
        declaration=declaration,
        encoding=encoding,
        bom=bom,
    )


def xml_declaration(data: bytes) -> tuple[str | None, str]:
    """The document's own `<?xml ...?>` line (kept as written) and its encoding."""
    match = _DECLARATION.match(data)
    if match is None:
        return None, "utf-8"
    declaration = match.group(1).decode("ascii", errors="replace")
    encoding = _ENCODING.search(declaration)
    name = encoding.group(1) if encoding else "utf-8"
    try:
        codecs.lookup(name)
    except LookupError:
        name = "utf-8"
    return declaration, name
