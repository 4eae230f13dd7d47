"""The elements to write, as a tree built through the declarations of `vnuma.libvirt.elements`.

Setting a value at a declared path creates the elements above it, each inserted in its
parent's declared order (as virtinst's XMLProperty setter does); attributes come out in
their declared order, a size with its ``unit``. Values are XML-escaped when set, the one
way into the tree. ``templates/domain.xml.j2`` writes the tree, a line per element.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from vnuma.libvirt.elements import (
    ATTRIBUTES,
    ELEMENTS,
    KIB,
    UINT,
    WRITTEN_UNIT,
    Attribute,
    Element,
    Value,
)

INDENT = "  "
Line = tuple[str, str, list[tuple[str, str]], str | None, str]
"""indent, tag, attributes (name, escaped value), escaped text or None, shape."""

# What jinja2's autoescape (markupsafe) writes for these characters, byte for byte.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})


def _xml(kind: Value, value: Any) -> str:
    """``value`` as XML text: numbers and declared choices need no escaping."""
    if kind is UINT or kind is KIB:
        return str(int(value))
    text = kind.format(value)
    return text if kind.kind == "enum" else text.translate(_ESCAPES)


class XmlNode:
    """One element to write: its declaration, the values set on it, its children in order."""

    __slots__ = ("children", "declaration", "rank", "text", "values")

    def __init__(self, declaration: Element, rank: int = 0) -> None:
        self.declaration = declaration
        self.rank = rank  # its place in the parent's declared order
        self.values: dict[str, str] = {}
        self.text: str | None = None
        self.children: list[XmlNode] = []

    @property
    def tag(self) -> str:
        return self.declaration.tag

    @property
    def attributes(self) -> list[tuple[str, str]]:
        """(name, value) in the declared order; a size is followed by its unit."""
        declaration = self.declaration
        values = self.values
        out = []
        if self.text is not None and declaration.text is not None and declaration.text.unit:
            out.append((declaration.text.unit, WRITTEN_UNIT))
        for attribute in ATTRIBUTES[declaration.path]:
            value = values.get(attribute.name)
            if value is not None:
                out.append((attribute.name, value))
                if attribute.value.unit:
                    out.append((attribute.value.unit, WRITTEN_UNIT))
        return out

    def set(self, declared: Attribute | Element, value: Any) -> XmlNode:
        """Write ``value`` (skipped when None or "") at a declared path below this node."""
        if value is None or value == "":
            return self
        if isinstance(declared, Attribute):
            node = self.reach(declared.element)
            node.values[declared.name] = _xml(declared.value, value)
        else:
            assert declared.text is not None, f"{declared.path} has no text"
            self.reach(declared).text = _xml(declared.text, value)
        return self

    def add(self, element: Element, values: Mapping[Attribute, Any] | None = None) -> XmlNode:
        """A new ``element`` (a repeated one: a cell, a pin) after its like-named siblings,
        with the attribute ``values`` given (None and "" skipped)."""
        parent = self.reach(element.parent)
        node = parent._insert(XmlNode(element, parent.declaration.rank(element.tag)))
        if values:
            own = node.values
            for declared, value in values.items():  # attributes of ``element`` (tests check)
                if value is not None and value != "":
                    own[declared.name] = _xml(declared.value, value)
        return node

    def reach(self, element: Element) -> XmlNode:
        """The node at ``element``'s path, the first of its tag, created when missing."""
        node = self
        if element is node.declaration:
            return node
        for tag in element.steps_below(node.declaration):
            child = next((c for c in node.children if c.declaration.tag == tag), None)
            if child is None:
                declared = ELEMENTS[f"{node.declaration.path}/{tag}"]
                child = node._insert(XmlNode(declared, node.declaration.rank(tag)))
            node = child
        return node

    def _insert(self, child: XmlNode) -> XmlNode:
        children = self.children
        if not children or children[-1].rank <= child.rank:
            children.append(child)  # the usual case: built in libvirt's order
            return child
        index = next(i for i, sibling in enumerate(children) if sibling.rank > child.rank)
        children.insert(index, child)
        return child

    def lines(self) -> Iterator[Line]:
        """Each line of the element, in document order; shape: "empty" (``<tag/>``),
        "text" (``<tag>text</tag>``), "open" or "close"."""
        stack: list[tuple[XmlNode, str, bool]] = [(self, "", False)]
        while stack:
            node, indent, closing = stack.pop()
            tag = node.declaration.tag
            if closing:
                yield indent, tag, [], None, "close"
            elif node.children:
                yield indent, tag, node.attributes, None, "open"
                stack.append((node, indent, True))
                inner = indent + INDENT
                stack.extend((child, inner, False) for child in reversed(node.children))
            elif node.text is not None:
                yield indent, tag, node.attributes, node.text, "text"
            else:
                yield indent, tag, node.attributes, None, "empty"
