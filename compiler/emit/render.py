"""Emit stage: render the plan with the jinja2 templates; merge it into a base domain.

Both go by `vnuma.libvirt.elements`: the template writes the plan's tree in the declared
order, and the merge finds, replaces and inserts elements at their declared paths, in the
same order (libvirt's).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from vnuma.emit.plan import DomainPlan, plan_tree
from vnuma.libvirt import elements as e
from vnuma.libvirt.values import parse_uint, scaled_kib
from vnuma.resources import templates_dir

if TYPE_CHECKING:
    from lxml import etree


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


def merge_into_domain(
    base_root: etree._Element, plan: DomainPlan, *, declaration: str | None = None
) -> str:
    """Replace or insert the NUMA elements of ``base_root`` (modified in place); return the document."""
    from lxml import etree

    generated = etree.fromstring(render_fragment(plan).encode())
    _check_max_memory(base_root, plan)
    if plan.topology is None:
        _check_topology(base_root, plan)
    else:
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
    old_kib = _kib(memory) if memory is not None else None
    new_memory = e.MEMORY.find(generated)
    if memory is not None:
        for attr, value in memory.attrib.items():
            if attr != e.KIB.unit:
                new_memory.set(attr, value)
    _replace_child(root, e.MEMORY, new_memory)
    current = e.CURRENT_MEMORY.find(root)
    if current is None:
        return
    current_kib = _kib(current)
    # An un-ballooned guest (current == memory) follows the new size; a balloon target is kept
    # unless it now exceeds the memory (libvirt would clamp it).
    if current_kib is None or current_kib == old_kib or current_kib > plan.memory_kib:
        current.attrib.clear()
        current.set(e.KIB.unit, e.WRITTEN_UNIT)
        current.text = e.KIB.format(plan.memory_kib)


def _merged_vcpu(old: Any, new: Any, plan: DomainPlan) -> Any:
    if old is None:
        return new
    for attr in (e.VCPU_CPUSET, e.VCPU_CURRENT):
        value = attr.get(old)
        if value is None:
            continue
        if attr is e.VCPU_CURRENT:
            current = parse_uint(value)
            if current is None or current >= plan.vcpus:
                continue  # libvirt refuses current > maximum; current == maximum says nothing
        if attr is e.VCPU_CPUSET and plan.vcpu_placement == "auto":
            continue
        new.set(attr.name, value)
    return new


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
