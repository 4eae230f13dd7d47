"""Emit stage: render the plan with the jinja2 templates; merge it into a base domain.

Both go by `vnuma.libvirt.elements`: the template writes the plan's tree in the declared
order, and the merge finds, replaces and inserts elements at their declared paths, in the
same order (libvirt's).

The merge edits the base domain's *text* (`merge_into_document`): it finds the byte spans
of the elements vnuma owns and rewrites only those (an attribute, a text, a changed child),
inserting a new element where libvirt's order puts it, indented like its siblings, with the
document's quotes and line endings. Every other byte — quotes, attribute order, whitespace,
comments, the XML declaration — is the base's. `merge_into_domain` is the same merge on the
parsed tree (re-serialised by lxml); it is the fallback when the text cannot be located.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from vnuma.emit.plan import DomainPlan, plan_tree
from vnuma.libvirt import elements as e
from vnuma.libvirt.values import parse_uint, scaled_kib
from vnuma.resources import templates_dir

if TYPE_CHECKING:
    from lxml import etree
    from vnuma.load.document import XmlDocument


@cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def render_fragment(plan: DomainPlan) -> str:
    """A <domain> document holding only the generated elements."""
    text: str = _environment().get_template("domain.xml.j2").render(tree=plan_tree(plan))
    return text


class MergeConflict(Exception):
    """The base domain keeps something that contradicts the plan (e.g. a small maxMemory)."""

    def __init__(self, code: str, message: str, element: Any, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.element = element
        self.hint = hint


class MergedDomain(NamedTuple):
    """A base domain with vnuma's elements merged in, and what the user should know."""

    xml: str
    notes: tuple[str, ...] = ()


def merge_into_document(base: XmlDocument, plan: DomainPlan) -> MergedDomain:
    """The base domain's own text with only vnuma's elements rewritten or inserted.

    Raises MergeConflict as ``merge_into_domain`` does; ``base.root`` is left as it is."""
    from lxml import etree

    root = base.root
    assert root is not None, "the loader returns a base domain with a root"
    _check_conflicts(root, plan)
    notes = _vcpu_notes(base, plan)
    generated = etree.fromstring(render_fragment(plan).encode())
    try:
        xml = _TextMerge(_Source(base), generated, plan).run()
    except _Unlocatable as problem:
        copied = copy.deepcopy(root.getroottree()).getroot()  # with the comments around it
        xml = merge_into_domain(copied, plan, declaration=base.declaration)
        notes.append(
            f"{base.path}: {problem}, so the merged domain was written out anew: quotes, "
            "attribute order and spacing outside vnuma's elements may differ from the base"
        )
    return MergedDomain(xml, tuple(notes))


def _vcpu_notes(base: XmlDocument, plan: DomainPlan) -> list[str]:
    """What a resized <vcpu> keeps from the base, said, since it may no longer fit."""
    assert base.root is not None
    old = e.VCPU.find(base.root)
    count = parse_uint(old.text) if old is not None else None
    if count is None or count == plan.vcpus:
        return []
    why = {
        e.VCPU_CURRENT.name: "the vCPUs online at boot",
        e.VCPU_CPUSET.name: "the host CPUs of vCPUs without a <vcpupin>",
    }
    kept = [
        f"{name}='{value}' ({why[name]})"
        for name, value in _kept_vcpu_attributes(old, plan).items()
    ]
    if not kept:
        return []
    where = base.locator.element(old) if base.locator is not None else None
    line = where.line if where is not None else old.sourceline
    return [
        f"{base.path}:{line}: <vcpu> resized from {count} to {plan.vcpus}; kept "
        f"{' and '.join(kept)} from the base domain, since the intent does not set them: "
        "check that they still fit, or remove them"
    ]


def merge_into_domain(
    base_root: etree._Element, plan: DomainPlan, *, declaration: str | None = None
) -> str:
    """Replace or insert the NUMA elements of ``base_root`` (modified in place); return the
    document as lxml serialises it (``merge_into_document`` keeps the base's own text)."""
    from lxml import etree

    generated = etree.fromstring(render_fragment(plan).encode())
    _check_conflicts(base_root, plan)
    if plan.topology is not None:
        _replace_nested(base_root, e.TOPOLOGY, e.TOPOLOGY.find(generated))
    if plan.has_cputune:
        _replace_pins(base_root, e.CPUTUNE.find(generated))
    _set_memory(base_root, generated, plan)
    _replace_child(
        base_root, e.VCPU, _merged_vcpu(e.VCPU.find(base_root), e.VCPU.find(generated), plan)
    )
    _replace_child(base_root, e.NUMATUNE, e.NUMATUNE.find(generated))
    _replace_nested(base_root, e.HUGEPAGES, e.HUGEPAGES.find(generated))
    _replace_nested(base_root, e.NUMA, e.NUMA.find(generated))
    document = _serialize_document(base_root)
    return f"{declaration}\n{document}" if declaration else document


def _check_conflicts(root: Any, plan: DomainPlan) -> None:
    """Raise MergeConflict when what the base keeps would make libvirt refuse the result."""
    _check_max_memory(root, plan)
    if plan.topology is None:
        _check_topology(root, plan)


def _replace_pins(root: Any, generated_cputune: Any) -> None:
    """The plan owns <vcpupin> and <emulatorpin>; other <cputune> children are kept."""
    from lxml import etree

    cputune = e.CPUTUNE.find(root)
    if cputune is None:
        cputune = etree.Element(e.CPUTUNE.tag)
        _insert(root, cputune, e.DOMAIN)
    for pin in (e.VCPUPIN, e.EMULATORPIN):
        for old in pin.findall(cputune, e.CPUTUNE):
            _remove(old)
    if generated_cputune is None:  # the pins are <vcpu cpuset> now: drop an emptied <cputune>
        if len(cputune) == 0 and not cputune.attrib:
            _remove(cputune)
        return
    for pin in list(generated_cputune):
        if isinstance(pin.tag, str):
            _insert(cputune, pin, e.CPUTUNE)


def _serialize_document(root: Any) -> str:
    """The root element with the comments and processing instructions around it, one per line."""
    from lxml import etree

    before: list[str] = []
    after: list[str] = []
    node = root.getprevious()
    while node is not None:
        before.insert(0, etree.tostring(node, encoding="unicode", with_tail=False))
        node = node.getprevious()
    node = root.getnext()
    while node is not None:
        after.append(etree.tostring(node, encoding="unicode", with_tail=False))
        node = node.getnext()
    body = etree.tostring(root, encoding="unicode", with_tail=False)
    return "\n".join([*before, body, *after]) + "\n"


def _kib(element: Any) -> int | None:
    """The size in a (text) `kib` element, or None when libvirt would refuse it."""
    value = parse_uint(element.text)
    return None if value is None else scaled_kib(value, element.get(e.KIB.unit))


def _check_max_memory(root: Any, plan: DomainPlan) -> None:
    max_memory = e.MAX_MEMORY.find(root)
    if max_memory is not None:
        limit = _kib(max_memory)
        if limit is not None and limit < plan.memory_kib:
            raise MergeConflict(
                "VN011",
                f"base domain <maxMemory> ({limit} KiB) is below the compiled "
                f"<memory> ({plan.memory_kib} KiB)",
                max_memory,
            )


def _check_topology(root: Any, plan: DomainPlan) -> None:
    topology = e.TOPOLOGY.find(root)
    if topology is None:
        return
    product = 1
    for count in e.TOPOLOGY_COUNTS:
        value = parse_uint(count.get(topology, "1"))
        if value is None:
            return
        product *= value
    if product != plan.vcpus:
        raise MergeConflict(
            "VN014",
            f"base domain <topology> gives {product} vCPUs but the intent has "
            f"{plan.vcpus}: libvirt would refuse it (\"CPU topology doesn't match "
            'maximum vcpu count")',
            topology,
            hint="make the base domain's topology multiply out to the intent's vcpus",
        )


def _set_memory(root: Any, generated: Any, plan: DomainPlan) -> None:
    memory = e.MEMORY.find(root)
    new_memory = e.MEMORY.find(generated)
    if memory is not None:
        for attr, value in memory.attrib.items():
            if attr != e.KIB.unit:
                new_memory.set(attr, value)
    current = e.CURRENT_MEMORY.find(root)
    follows = current is not None and _current_follows(current, memory, plan)
    _replace_child(root, e.MEMORY, new_memory)
    if follows:
        current.attrib.clear()
        current.set(e.KIB.unit, e.WRITTEN_UNIT)
        current.text = e.KIB.format(plan.memory_kib)


def _current_follows(current: Any, memory: Any, plan: DomainPlan) -> bool:
    """An un-ballooned guest (current == memory) follows the new size; a balloon target is
    kept unless it now exceeds the memory (libvirt would clamp it)."""
    old_kib = _kib(memory) if memory is not None else None
    current_kib = _kib(current)
    return current_kib is None or current_kib == old_kib or current_kib > plan.memory_kib


def _merged_vcpu(old: Any, new: Any, plan: DomainPlan) -> Any:
    if old is None:
        return new
    for name, value in _kept_vcpu_attributes(old, plan).items():
        new.set(name, value)
    return new


def _kept_vcpu_attributes(old: Any, plan: DomainPlan) -> dict[str, str]:
    """The base's `cpuset` and `current` that the merge keeps on <vcpu>."""
    kept: dict[str, str] = {}
    for attr in (e.VCPU_CPUSET, e.VCPU_CURRENT):
        value = attr.get(old)
        if value is None:
            continue
        if attr is e.VCPU_CURRENT:
            current = parse_uint(value)
            if current is None or current >= plan.vcpus:
                continue  # libvirt refuses current > maximum; current == maximum says nothing
        if attr is e.VCPU_CPUSET and (plan.vcpu_placement == "auto" or plan.vcpu_cpuset):
            continue  # ignored under placement auto; the plan's own set replaces it
        kept[attr.name] = value
    return kept


def _replace_nested(root: Any, declared: e.Element, new_child: Any) -> None:
    """Replace ``declared`` (a grandchild of <domain>) inside its parent, made or dropped as needed."""
    from lxml import etree

    parent_declared = declared.parent
    assert parent_declared.parent is e.DOMAIN, declared.path
    parent = parent_declared.find(root)
    if new_child is None:
        if parent is not None:
            _replace_child(parent, declared, None)
            if len(parent) == 0 and not parent.attrib:
                _remove(parent)
        return
    if parent is None:
        parent = etree.Element(parent_declared.tag)
        _insert(root, parent, e.DOMAIN)
    _replace_child(parent, declared, new_child)


def _replace_child(parent: Any, declared: e.Element, new: Any) -> None:
    """Put ``new`` where the ``declared`` child of ``parent`` is, or in its declared place."""
    old = parent.find(declared.tag)
    if old is not None and new is not None:
        new.tail = old.tail
        parent.replace(old, new)
        _reindent(new, parent)
    elif old is not None:
        _remove(old)
    elif new is not None:
        _insert(parent, new, declared.parent)


def _insert(parent: Any, new: Any, parent_declared: e.Element) -> None:
    """Insert ``new`` before the first child that libvirt's order puts after it."""
    rank = parent_declared.rank(new.tag)
    children = [c for c in parent if isinstance(c.tag, str)]
    index = len(parent)
    for child in children:
        if parent_declared.rank(child.tag) > rank:
            index = parent.index(child)
            break
    child_indent, closing_indent = _indents(parent)
    if index < len(parent):
        parent.insert(index, new)
        new.tail = child_indent
    else:
        if len(parent):
            last = parent[-1]
            last.tail = child_indent
        else:
            parent.text = child_indent
        parent.append(new)
        new.tail = closing_indent
    _reindent(new, parent)


def _remove(element: Any) -> None:
    parent = element.getparent()
    previous = element.getprevious()
    if element.getnext() is None:
        if previous is not None:
            previous.tail = element.tail
        else:
            parent.text = element.tail
    parent.remove(element)


def _depth(element: Any) -> int:
    depth = 0
    while element.getparent() is not None:
        element = element.getparent()
        depth += 1
    return depth


def _indents(parent: Any) -> tuple[str, str]:
    depth = _depth(parent)
    return "\n" + "  " * (depth + 1), "\n" + "  " * depth


def _reindent(element: Any, parent: Any) -> None:
    from lxml import etree

    tail = element.tail
    etree.indent(element, space="  ", level=_depth(parent) + 1)
    element.tail = tail


# --- the merge into the base domain's text ----------------------------------------------

_NAME = r"[^\s/>=<!?]+"
_QUOTED = r"""(?:"[^"]*"|'[^']*')"""
_ATTRIBUTES = rf"(?:\s+{_NAME}\s*=\s*{_QUOTED})*\s*"
_START_TAG = re.compile(rf"<(?P<name>{_NAME}){_ATTRIBUTES}(?P<empty>/?)>")
_ATTRIBUTE = re.compile(rf"\s+(?P<name>{_NAME})\s*=\s*(?P<value>{_QUOTED})")
_TOKEN = re.compile(
    rf"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|</(?P<close>{_NAME})\s*>"
    rf"|<(?P<open>{_NAME}){_ATTRIBUTES}(?P<selfclose>/?)>",
    re.DOTALL,
)
_ESCAPE_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ESCAPE_QUOTE = {"'": "&apos;", '"': "&quot;"}


class _Unlocatable(Exception):
    """The base's text and its parsed tree disagree on where an element is."""


class _Span(NamedTuple):
    """Where an element is written, as offsets into the base domain's text."""

    start: int
    """The ``<`` of its start tag."""
    tag_end: int
    """Just after the start tag's ``>``."""
    close: int
    """The ``<`` of its end tag (``tag_end`` for ``<x/>``)."""
    end: int
    """Just after the element."""
    name: str
    """Its name as written (with its prefix)."""
    empty: bool
    """Written ``<x/>``."""


class _Attr(NamedTuple):
    name: str
    start: int
    """The whitespace before the name."""
    value: int
    """The opening quote."""
    end: int
    """Just after the closing quote."""


class _Source:
    """The base domain's text, where its elements are, and how it is laid out."""

    def __init__(self, base: XmlDocument) -> None:
        if base.root is None or base.locator is None:
            raise _Unlocatable("vnuma could not locate its elements in the base domain")
        self.text = base.text
        self.root = base.root
        self._locator = base.locator
        self._line_starts = [0, *(m.end() for m in re.finditer("\n", self.text))]
        self._spans: dict[Any, _Span] = {}
        first = self._line_starts[1] if len(self._line_starts) > 1 else 0
        self.newline = "\r\n" if first >= 2 and self.text[first - 2] == "\r" else "\n"
        self.quote = _dominant_quote(self.text)
        self.unit = "  "
        self.pretty = False
        for child in _elements(self.root):
            start = self.span(child).start
            if self.starts_line(start):
                indent = self.indent_at(start)
                outer = self.indent(self.root)
                step = indent[len(outer) :] if indent.startswith(outer) else ""
                self.pretty, self.unit = True, step or "  "
                break

    def span(self, element: Any) -> _Span:
        span = self._spans.get(element)
        if span is None:
            span = self._spans[element] = self._locate(element)
        return span

    def _locate(self, element: Any) -> _Span:
        where = self._locator.element(element)
        # A span without width is the locator's fallback (a whole line): no offset to trust.
        if where is None or where.end_line != where.line or where.end_column <= where.column:
            raise _Unlocatable(f"vnuma could not locate <{_local(element)}> in the base domain")
        start = self._line_starts[where.line - 1] + where.column - 1
        tag = _START_TAG.match(self.text, start)
        if tag is None or tag.group("name").rpartition(":")[2] != _local(element):
            raise _Unlocatable(f"vnuma could not locate <{_local(element)}> in the base domain")
        name = tag.group("name")
        if tag.group("empty"):
            return _Span(start, tag.end(), tag.end(), tag.end(), name, True)
        depth = 1
        for token in _TOKEN.finditer(self.text, tag.end()):
            if token.group("close") is not None:
                depth -= 1
                if depth == 0:
                    return _Span(start, tag.end(), token.start(), token.end(), name, False)
            elif token.group("open") is not None and not token.group("selfclose"):
                depth += 1
        raise _Unlocatable(f"vnuma could not find the end of <{name}> in the base domain")

    def attributes(self, element: Any) -> tuple[list[_Attr], int]:
        """The attributes of the start tag as written, and where a new one would go."""
        span = self.span(element)
        position = span.start + 1 + len(span.name)
        found = []
        while (match := _ATTRIBUTE.match(self.text, position, span.tag_end)) is not None:
            found.append(
                _Attr(match.group("name"), match.start(), match.start("value"), match.end())
            )
            position = match.end()
        return found, position

    def line_start(self, offset: int) -> int:
        return self.text.rfind("\n", 0, offset) + 1

    def starts_line(self, offset: int) -> bool:
        """Only spaces and tabs come before ``offset`` on its line."""
        return self.indent_at(offset).strip(" \t") == ""

    def indent_at(self, offset: int) -> str:
        return self.text[self.line_start(offset) : offset]

    def indent(self, element: Any) -> str:
        start = self.span(element).start
        if self.starts_line(start):
            return self.indent_at(start)
        depth = sum(1 for _ in element.iterancestors())
        return self.unit * depth

    def child_indent(self, parent: Any) -> str:
        """The indentation of ``parent``'s children: as its children have it, or one step in."""
        for child in _elements(parent):
            start = self.span(child).start
            if self.starts_line(start):
                return self.indent_at(start)
        return self.indent(parent) + self.unit

    def line_after(self, offset: int) -> int | None:
        """The start of the next line when only spaces and tabs follow ``offset`` on its line."""
        text = self.text
        position = offset
        while position < len(text) and text[position] in " \t\r":
            position += 1
        if position == len(text):
            return position
        return position + 1 if text[position] == "\n" else None

    def spaces_before(self, offset: int) -> int:
        while offset > 0 and self.text[offset - 1] in " \t":
            offset -= 1
        return offset

    def spaces_after(self, offset: int) -> int:
        while offset < len(self.text) and self.text[offset] in " \t":
            offset += 1
        return offset

    def gap_before(self, element: Any) -> str:
        """The whitespace written before ``element``."""
        start = offset = self.span(element).start
        while offset > 0 and self.text[offset - 1].isspace():
            offset -= 1
        return self.text[offset:start]


class _Edit(NamedTuple):
    start: int
    end: int
    rank: int
    """Insertions at one offset go in libvirt's order of the elements they insert."""
    seq: int
    text: str


class _TextMerge:
    """The merge of `merge_into_domain`, as edits of the base's text: each one replaces a
    span of the original, and they never overlap."""

    def __init__(self, source: _Source, generated: Any, plan: DomainPlan) -> None:
        self.src = source
        self.generated = generated
        self.plan = plan
        self.edits: list[_Edit] = []
        self.removed: set[Any] = set()
        self.pending: list[tuple[Any, e.Element | None, list[Any]]] = []
        """Insertions, placed once every removal is known: no removed element is an anchor."""

    def run(self) -> str:
        root = self.src.root
        self._memory()
        self._vcpu()
        if self.plan.has_cputune:
            self._container(e.CPUTUNE, {e.VCPUPIN.tag, e.EMULATORPIN.tag})
        numatune = e.NUMATUNE.find(self.generated)
        self._children(root, e.DOMAIN, {e.NUMATUNE.tag}, [] if numatune is None else [numatune])
        self._container(e.MEMORY_BACKING, {e.HUGEPAGES.tag})
        owned_in_cpu = {e.NUMA.tag, *([e.TOPOLOGY.tag] if self.plan.topology else [])}
        self._container(e.CPU, owned_in_cpu)
        return self._applied()

    # --- what vnuma owns ----------------------------------------------------------------

    def _memory(self) -> None:
        root = self.src.root
        memory = e.MEMORY.find(root)
        current = e.CURRENT_MEMORY.find(root)
        if current is not None and _current_follows(current, memory, self.plan):
            self._set_kib(current, self.plan.memory_kib)
        if memory is None:
            self._insert(root, e.DOMAIN, [e.MEMORY.find(self.generated)])
        else:
            self._set_kib(memory, self.plan.memory_kib)

    def _set_kib(self, element: Any, kib: int) -> None:
        if _exact_kib(element) == kib:
            return  # the same size, perhaps in other units: left as written
        self._set_text(element, e.KIB.format(kib))
        unit = element.get(e.KIB.unit)
        if unit is not None and unit != e.WRITTEN_UNIT:
            self._set_attribute(element, e.KIB.unit, e.WRITTEN_UNIT)

    def _vcpu(self) -> None:
        old = e.VCPU.find(self.src.root)
        new = e.VCPU.find(self.generated)
        if old is None:
            self._insert(self.src.root, e.DOMAIN, [new])
            return
        if parse_uint(old.text) != self.plan.vcpus:
            self._set_text(old, str(self.plan.vcpus))
        for name, value in new.attrib.items():
            self._set_attribute(old, name, value)
        kept = _kept_vcpu_attributes(old, self.plan)
        for attr in (e.VCPU_CPUSET, e.VCPU_CURRENT):
            if attr.get(old) is not None and attr.name not in kept and attr.name not in new.attrib:
                self._remove_attribute(old, attr.name)

    def _container(self, declared: e.Element, owned: set[str]) -> None:
        """A <domain> child that holds some of vnuma's elements among the base's own."""
        root = self.src.root
        generated = declared.find(self.generated)
        new = [c for c in _elements(generated) if c.tag in owned] if generated is not None else []
        old = declared.find(root)
        if old is None:
            if new:
                self._insert(root, e.DOMAIN, [generated])
            return
        old_owned = [c for c in _elements(old) if c.tag in owned]
        if not new and old_owned and len(old) == len(old_owned) and not old.attrib:
            self._remove(old)  # it held only what vnuma drops
            return
        self._children(old, declared, owned, new)

    def _children(
        self, parent: Any, declared: e.Element | None, owned: set[str] | None, new: list[Any]
    ) -> None:
        """Make ``parent``'s owned children (all, for None) ``new``: the leading ones of the
        same tags are edited in place, the rest removed and inserted in libvirt's order."""
        old = [c for c in _elements(parent) if owned is None or c.tag in owned]
        shared = 0
        while shared < min(len(old), len(new)) and old[shared].tag == new[shared].tag:
            shared += 1
        for before, after in zip(old[:shared], new[:shared], strict=True):
            self._reconcile(before, after)
        for gone in old[shared:]:
            self._remove(gone)
        self._insert(parent, declared, new[shared:])

    def _reconcile(self, old: Any, new: Any) -> None:
        """Make an owned element ``new``, keeping what is already the same as written."""
        if _text(old) != _text(new) or any(name.startswith("{") for name in old.attrib):
            self._replace(old, new)
            return
        for name, value in new.attrib.items():
            self._set_attribute(old, name, value)
        for name in old.attrib:
            if name not in new.attrib:
                self._remove_attribute(old, name)
        self._children(old, None, None, _elements(new))

    # --- edits of elements --------------------------------------------------------------

    def _insert(self, parent: Any, declared: e.Element | None, new: list[Any]) -> None:
        """Insert ``new`` into ``parent`` in the order ``declared`` gives its children (None:
        after them all)."""
        if new:
            self.pending.append((parent, declared, new))

    def _place(self, parent: Any, declared: e.Element | None, new: list[Any]) -> None:
        """Insert ``new`` before the first kept child that libvirt's order puts after it."""
        groups: dict[Any, list[Any]] = {}
        for child in new:
            anchor = None if declared is None else _anchor(parent, declared, child, self.removed)
            groups.setdefault(anchor, []).append(child)
        for anchor, children in groups.items():
            rank = declared.rank(children[0].tag) if declared is not None else 0
            if anchor is None:
                self._append(parent, children, rank)
            else:
                self._insert_before(anchor, children, rank)

    def _insert_before(self, anchor: Any, children: list[Any], rank: int) -> None:
        src = self.src
        start = src.span(anchor).start
        if src.pretty and src.starts_line(start):
            indent = src.indent_at(start)
            text = "".join(self._pretty(child, indent) + src.newline for child in children)
            self._edit(src.line_start(start), src.line_start(start), text, rank)
        else:
            gap = src.gap_before(anchor)
            self._edit(start, start, "".join(_compact(c, src.quote) + gap for c in children), rank)

    def _append(self, parent: Any, children: list[Any], rank: int) -> None:
        src = self.src
        span = src.span(parent)
        outer = src.starts_line(span.start) and src.pretty
        inner = src.child_indent(parent)
        if outer:
            lines = "".join(src.newline + self._pretty(child, inner) for child in children)
            body = lines + src.newline + src.indent(parent)
        else:
            body = "".join(_compact(child, src.quote) for child in children)
        if span.empty:
            slash = src.text.rindex("/", span.start, span.tag_end)
            self._edit(src.spaces_before(slash), span.end, f">{body}</{span.name}>", rank)
        elif src.pretty and src.starts_line(span.close):
            at = src.line_start(span.close)
            text = "".join(self._pretty(child, inner) + src.newline for child in children)
            self._edit(at, at, text, rank)
        elif outer and not _elements(parent) and not src.text[span.tag_end : span.close].strip():
            self._edit(span.close, span.close, body, rank)
        else:
            last = _elements(parent)
            gap = src.gap_before(last[-1]) if last else ""
            text = "".join(gap + _compact(child, src.quote) for child in children)
            self._edit(span.close, span.close, text, rank)

    def _remove(self, element: Any) -> None:
        self.removed.add(element)
        src = self.src
        span = src.span(element)
        after = src.line_after(span.end)
        if src.starts_line(span.start) and after is not None:
            self._edit(src.line_start(span.start), after, "")  # its whole line
        elif src.starts_line(span.start):
            self._edit(span.start, src.spaces_after(span.end), "")
        else:
            self._edit(src.spaces_before(span.start), span.end, "")

    def _replace(self, old: Any, new: Any) -> None:
        src = self.src
        span = src.span(old)
        if src.pretty and src.starts_line(span.start):
            indent = src.indent_at(span.start)
            text = self._pretty(new, indent)[len(indent) :]
        else:
            text = _compact(new, src.quote)
        self._edit(span.start, span.end, text)

    # --- edits inside an element --------------------------------------------------------

    def _set_attribute(self, element: Any, name: str, value: str) -> None:
        if element.get(name) == value:
            return
        attributes, end = self.src.attributes(element)
        found = next((a for a in attributes if a.name == name), None)
        if found is not None:
            quote = self.src.text[found.value]
            self._edit(found.value, found.end, _quoted(value, quote))
        else:
            self._edit(end, end, f" {name}={_quoted(value, self.src.quote)}")

    def _remove_attribute(self, element: Any, name: str) -> None:
        attributes, _ = self.src.attributes(element)
        found = next((a for a in attributes if a.name == name), None)
        if found is not None:
            self._edit(found.start, found.end, "")

    def _set_text(self, element: Any, value: str) -> None:
        src = self.src
        span = src.span(element)
        text = value.translate(_ESCAPE_TEXT)
        if span.empty:
            slash = src.text.rindex("/", span.start, span.tag_end)
            self._edit(src.spaces_before(slash), span.end, f">{text}</{span.name}>")
            return
        content = src.text[span.tag_end : span.close]
        if "<" in content or not content.strip():
            self._edit(span.tag_end, span.close, text)
            return
        lead = len(content) - len(content.lstrip())
        trail = len(content) - len(content.rstrip())
        self._edit(span.tag_end + lead, span.close - trail, text)

    # --- writing ------------------------------------------------------------------------

    def _pretty(self, element: Any, indent: str) -> str:
        lines = _lines(element, indent, self.src.unit, self.src.quote)
        return self.src.newline.join(lines)

    def _edit(self, start: int, end: int, text: str, rank: int = 0) -> None:
        self.edits.append(_Edit(start, end, rank, len(self.edits), text))

    def _applied(self) -> str:
        for parent, declared, new in self.pending:
            self._place(parent, declared, new)
        text = self.src.text
        parts: list[str] = []
        position = 0
        for edit in sorted(self.edits):
            if edit.start < position:
                raise _Unlocatable("two of vnuma's edits of the base domain overlap")
            parts.append(text[position : edit.start])
            parts.append(edit.text)
            position = edit.end
        parts.append(text[position:])
        return "".join(parts)


def _elements(parent: Any) -> list[Any]:
    """The element children (no comments or processing instructions)."""
    return [child for child in parent if isinstance(child.tag, str)]


def _local(element: Any) -> str:
    return str(element.tag).rpartition("}")[2]


def _text(element: Any) -> str:
    return (element.text or "").strip()


def _anchor(parent: Any, declared: e.Element, new: Any, removed: set[Any]) -> Any:
    rank = declared.rank(new.tag)
    for child in _elements(parent):
        if child not in removed and declared.rank(child.tag) > rank:
            return child
    return None


def _exact_kib(element: Any) -> int | None:
    """The size in a `kib` element when it is a whole number of KiB."""
    value = parse_uint(element.text)
    unit = element.get(e.KIB.unit)
    per_unit = scaled_kib(1024, unit)  # bytes per unit
    if value is None or per_unit is None or value * per_unit % 1024:
        return None
    return value * per_unit // 1024


def _dominant_quote(text: str) -> str:
    """The quote most of the document's attributes are written with (a tie: double)."""
    counts = {"'": 0, '"': 0}
    for token in _TOKEN.finditer(text):
        if token.group("open") is not None:
            for attribute in _ATTRIBUTE.finditer(token.group(0)):
                counts[attribute.group("value")[0]] += 1
    return "'" if counts["'"] > counts['"'] else '"'


def _quoted(value: str, quote: str) -> str:
    return quote + value.translate(_ESCAPE_TEXT).replace(quote, _ESCAPE_QUOTE[quote]) + quote


def _lines(element: Any, indent: str, unit: str, quote: str) -> list[str]:
    """A generated element as lines, children one ``unit`` further in."""
    tag = element.tag
    attributes = "".join(f" {name}={_quoted(v, quote)}" for name, v in element.attrib.items())
    children = _elements(element)
    if children:
        inner = [line for c in children for line in _lines(c, indent + unit, unit, quote)]
        return [f"{indent}<{tag}{attributes}>", *inner, f"{indent}</{tag}>"]
    text = _text(element)
    if text:
        return [f"{indent}<{tag}{attributes}>{text.translate(_ESCAPE_TEXT)}</{tag}>"]
    return [f"{indent}<{tag}{attributes}/>"]


def _compact(element: Any, quote: str) -> str:
    return "".join(_lines(element, "", "", quote))
