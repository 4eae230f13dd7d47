"""Emit stage: render the plan with the jinja2 templates; merge it into a base domain."""

from __future__ import annotations

from functools import cache
from typing import Any

from vnuma.emit.plan import DomainPlan
from vnuma.libvirt.values import parse_uint, scaled_kib
from vnuma.resources import templates_dir

# libvirt's order of <domain> children (virDomainDefFormatInternal).
DOMAIN_ORDER = (
    "name", "uuid", "genid", "title", "description", "metadata", "maxMemory", "memory",
    "currentMemory", "blkiotune", "memtune", "memoryBacking", "vcpu", "vcpus", "iothreads",
    "iothreadids", "defaultiothread", "cputune", "numatune", "resource", "sysinfo", "bootloader",
    "bootloader_args", "os", "idmap", "features", "cpu", "clock", "on_poweroff", "on_reboot",
    "on_crash", "pm", "perf", "devices", "seclabel", "keywrap", "launchSecurity",
)  # fmt: skip
MEMORY_BACKING_ORDER = (
    "hugepages",
    "nosharepages",
    "locked",
    "source",
    "access",
    "allocation",
    "discard",
)
CPU_ORDER = ("model", "vendor", "topology", "cache", "maxphysaddr", "feature", "numa")
# libvirt's order of <cputune> children (virDomainCputuneDefFormat).
CPUTUNE_ORDER = (
    "shares", "period", "quota", "global_period", "global_quota", "emulator_period",
    "emulator_quota", "iothread_period", "iothread_quota", "vcpupin", "emulatorpin",
    "iothreadpin", "vcpusched", "iothreadsched", "emulatorsched", "cachetune", "memorytune",
)  # fmt: skip


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
    return _environment().get_template("domain.xml.j2").render(plan=plan)


class MergeConflict(Exception):
    """The base domain keeps something that contradicts the plan (e.g. a small maxMemory)."""

    def __init__(self, code: str, message: str, element: Any, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.element = element
        self.hint = hint


def merge_into_domain(base_root: Any, plan: DomainPlan, *, declaration: str | None = None) -> str:
    """Replace or insert the NUMA elements of ``base_root`` (modified in place); return the document."""
    from lxml import etree

    generated = etree.fromstring(render_fragment(plan).encode())
    _check_max_memory(base_root, plan)
    if plan.topology is None:
        _check_topology(base_root, plan)
    else:
        _replace_nested(base_root, "cpu", "topology", generated.find("cpu/topology"), CPU_ORDER)
    if plan.has_cputune:
        _replace_pins(base_root, generated.find("cputune"))
    _set_memory(base_root, generated, plan)
    _replace_child(
        base_root,
        "vcpu",
        _merged_vcpu(base_root.find("vcpu"), generated.find("vcpu"), plan),
        DOMAIN_ORDER,
    )
    _replace_child(base_root, "numatune", generated.find("numatune"), DOMAIN_ORDER)
    hugepages = generated.find("memoryBacking/hugepages")
    _replace_nested(base_root, "memoryBacking", "hugepages", hugepages, MEMORY_BACKING_ORDER)
    _replace_nested(base_root, "cpu", "numa", generated.find("cpu/numa"), CPU_ORDER)
    document = _serialize_document(base_root)
    return f"{declaration}\n{document}" if declaration else document


def _replace_pins(root: Any, generated_cputune: Any) -> None:
    """The plan owns <vcpupin> and <emulatorpin>; other <cputune> children are kept."""
    from lxml import etree

    cputune = root.find("cputune")
    if cputune is None:
        cputune = etree.Element("cputune")
        _insert(root, cputune, DOMAIN_ORDER)
    for old in [*cputune.findall("vcpupin"), *cputune.findall("emulatorpin")]:
        _remove(old)
    for pin in list(generated_cputune):
        if isinstance(pin.tag, str):
            _insert(cputune, pin, CPUTUNE_ORDER)


def _serialize_document(root: Any) -> str:
    """The root element with the comments and processing instructions around it, one per line."""
    from lxml import etree

    before, after = [], []
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
    value = parse_uint(element.text)
    return None if value is None else scaled_kib(value, element.get("unit"))


def _check_max_memory(root: Any, plan: DomainPlan) -> None:
    max_memory = root.find("maxMemory")
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
    topology = root.find("cpu/topology")
    if topology is None:
        return
    product = 1
    for attr in ("sockets", "dies", "clusters", "cores", "threads"):
        value = parse_uint(topology.get(attr, "1"))
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
    memory = root.find("memory")
    old_kib = _kib(memory) if memory is not None else None
    new_memory = generated.find("memory")
    if memory is not None:
        for attr, value in memory.attrib.items():
            if attr != "unit":
                new_memory.set(attr, value)
    _replace_child(root, "memory", new_memory, DOMAIN_ORDER)
    current = root.find("currentMemory")
    if current is None:
        return
    current_kib = _kib(current)
    # An un-ballooned guest (current == memory) follows the new size; a balloon target is kept
    # unless it now exceeds the memory (libvirt would clamp it).
    if current_kib is None or current_kib == old_kib or current_kib > plan.memory_kib:
        current.attrib.clear()
        current.set("unit", "KiB")
        current.text = str(plan.memory_kib)


def _merged_vcpu(old: Any, new: Any, plan: DomainPlan) -> Any:
    if old is None:
        return new
    for attr in ("cpuset", "current"):
        value = old.get(attr)
        if value is None:
            continue
        if attr == "current":
            current = parse_uint(value)
            if current is None or current >= plan.vcpus:
                continue  # libvirt refuses current > maximum; current == maximum says nothing
        if attr == "cpuset" and plan.vcpu_placement == "auto":
            continue
        new.set(attr, value)
    return new


def _replace_nested(
    root: Any, parent_tag: str, child_tag: str, new_child: Any, order: tuple[str, ...]
) -> None:
    from lxml import etree

    parent = root.find(parent_tag)
    if new_child is None:
        if parent is not None:
            _replace_child(parent, child_tag, None, order)
            if len(parent) == 0 and not parent.attrib:
                _remove(parent)
        return
    if parent is None:
        parent = etree.Element(parent_tag)
        _insert(root, parent, DOMAIN_ORDER)
    _replace_child(parent, child_tag, new_child, order)


def _replace_child(parent: Any, tag: str, new: Any, order: tuple[str, ...]) -> None:
    old = parent.find(tag)
    if old is not None and new is not None:
        new.tail = old.tail
        parent.replace(old, new)
        _reindent(new, parent)
    elif old is not None:
        _remove(old)
    elif new is not None:
        _insert(parent, new, order)


def _insert(parent: Any, new: Any, order: tuple[str, ...]) -> None:
    rank = order.index(new.tag) if new.tag in order else len(order)
    children = [c for c in parent if isinstance(c.tag, str)]
    index = len(parent)
    for child in children:
        child_rank = order.index(child.tag) if child.tag in order else len(order)
        if child_rank > rank:
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
