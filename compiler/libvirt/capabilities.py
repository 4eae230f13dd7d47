"""Read a `virsh capabilities` document into the host model (lenient across libvirt versions)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vnuma.codes import make_diagnostic
from vnuma.cpusets import CpusetError, parse_cpuset
from vnuma.diagnostics import Diagnostic
from vnuma.libvirt.hoststate import (
    FORMAT_VERSION,
    FREE_MEMORY_PI,
    FREE_PAGES_PI,
    STATE_PI,
    unescape_value,
)
from vnuma.libvirt.values import parse_uint, scaled_kib
from vnuma.load.text import read_bytes
from vnuma.load.xmlsafe import element_span, parse_xml
from vnuma.model.host import (
    HostCell,
    HostCPU,
    HostTopology,
    PagePool,
    distance_twins,
    group_cores,
)


class _BadSnapshot(Exception):
    def __init__(self, message: str, element: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.element = element


def load_host(
    path: Path, display: str | None = None
) -> tuple[HostTopology | None, list[Diagnostic]]:
    """Raises UnreadableInput when the file cannot be read."""
    return load_host_bytes(read_bytes(path), display or str(path))


def load_host_bytes(data: bytes, shown: str) -> tuple[HostTopology | None, list[Diagnostic]]:
    root, problem = parse_xml(data)
    if problem is not None:
        return None, [
            make_diagnostic("VN008", f"host snapshot: {problem.message}", shown, problem.span)
        ]
    try:
        host = _parse_capabilities(root, shown)
    except _BadSnapshot as exc:
        span = element_span(exc.element) if exc.element is not None else None
        return None, [
            make_diagnostic(
                "VN008",
                f"host snapshot: {exc.message}",
                shown,
                span,
                hint="save the host's topology with `virsh capabilities > host.xml`",
            )
        ]
    diagnostics = []
    if not host.cells:
        diagnostics.append(
            make_diagnostic(
                "VN009",
                "host snapshot has no NUMA cells (<host><topology><cells>); host checks are skipped",
                shown,
                element_span(root),
            )
        )
    return host, diagnostics


def _parse_capabilities(root: Any, shown: str) -> HostTopology:
    if root.tag != "capabilities":
        raise _BadSnapshot(f"root element is <{root.tag}>, expected <capabilities>", root)
    host = root.find("host")
    if host is None:
        raise _BadSnapshot("no <host> element", root)
    cpu = host.find("cpu")
    topology = cpu.find("topology") if cpu is not None else None
    state = _state_of(root)
    cells = tuple(_parse_cell(cell) for cell in host.findall("topology/cells/cell"))
    ids = [cell.id for cell in cells]
    if len(set(ids)) != len(ids):
        raise _BadSnapshot(f"duplicate NUMA cell ids {sorted(ids)}", host.find("topology/cells"))
    cells = tuple(sorted(cells, key=lambda c: c.id))
    return HostTopology(
        source=shown,
        arch=_text(cpu.find("arch")) if cpu is not None else None,
        cells=cells,
        page_sizes_kib=tuple(
            sorted(
                {_size_kib(p, "size") for p in (cpu.findall("pages") if cpu is not None else [])}
            )
        ),
        sockets=_opt_int(topology, "sockets"),
        dies=_opt_int(topology, "dies"),
        clusters=_opt_int(topology, "clusters"),
        cores_per_socket=_opt_int(topology, "cores"),
        threads_per_core=_opt_int(topology, "threads"),
        captured_at=_pseudo_attribute(state, "captured"),
        captured_from=_pseudo_attribute(state, "source"),
        twins=distance_twins(cells),
    )


def _pseudo_attribute(instruction: Any, name: str) -> str | None:
    value = instruction.get(name) if instruction is not None else None
    return unescape_value(value) if value is not None else None


def _state_of(root: Any) -> Any:
    """The `vnuma-host-state` instruction (see vnuma.libvirt.hoststate), checked for its version."""
    state = next(iter(root.xpath(f"processing-instruction('{STATE_PI}')")), None)
    if state is None:
        return None
    version = state.get("version")
    major = parse_uint((version or "").split(".")[0])
    if major is None:
        raise _BadSnapshot(f"<?{STATE_PI}?> needs a version, not {version!r}", state)
    if major > FORMAT_VERSION:
        raise _BadSnapshot(
            f"host-state format version {version} is newer than this vnuma reads "
            f"({FORMAT_VERSION}); upgrade vnuma or capture the snapshot again",
            state,
        )
    return state


def _parse_cell(cell: Any) -> HostCell:
    memory = cell.find("memory")
    free = _free_memory_kib(cell)
    free_pages = {
        _size_kib(pi, "size"): _req_int(pi, "count")
        for pi in cell.xpath(f"processing-instruction('{FREE_PAGES_PI}')")
    }
    pages = tuple(
        PagePool(size_kib=size, count=_int_text(p), free=free_pages.get(size))
        for p in cell.findall("pages")
        for size in (_size_kib(p, "size"),)
    )
    distances = {_req_int(s, "id"): _req_int(s, "value") for s in cell.findall("distances/sibling")}
    siblings: dict[str, frozenset[int]] = {}  # the threads of a core share one string
    cpus = tuple(
        sorted((_parse_cpu(c, siblings) for c in cell.findall("cpus/cpu")), key=lambda c: c.id)
    )
    return HostCell(
        id=_req_int(cell, "id"),
        memory_kib=_memory_kib(memory) if memory is not None else None,
        free_memory_kib=free,
        pages=tuple(sorted(pages, key=lambda p: p.size_kib)),
        distances=distances,
        cpus=cpus,
        span=element_span(cell),
        core_groups=group_cores(cpus),
    )


def _free_memory_kib(cell: Any) -> int | None:
    found = cell.xpath(f"processing-instruction('{FREE_MEMORY_PI}')")
    if not found:
        return None
    if len(found) > 1:
        raise _BadSnapshot(f"cell has {len(found)} <?{FREE_MEMORY_PI}?> instructions", found[1])
    return _scaled(found[0], _req_int(found[0], "value"))


def _parse_cpu(cpu: Any, parsed: dict[str, frozenset[int]]) -> HostCPU:
    siblings_text = cpu.get("siblings")
    cpu_id = _req_int(cpu, "id")
    if not siblings_text:
        siblings = frozenset({cpu_id})
    elif siblings_text in parsed:
        siblings = parsed[siblings_text]
    else:
        try:
            siblings = parsed[siblings_text] = parse_cpuset(siblings_text)
        except CpusetError as exc:
            raise _BadSnapshot(f"<cpu id='{cpu_id}'> siblings: {exc.message}", cpu) from exc
    return HostCPU(
        id=cpu_id,
        socket_id=_opt_int(cpu, "socket_id"),
        die_id=_opt_int(cpu, "die_id"),
        cluster_id=_opt_int(cpu, "cluster_id"),
        core_id=_opt_int(cpu, "core_id"),
        siblings=siblings,
    )


def _memory_kib(element: Any) -> int:
    return _scaled(element, _int_text(element))


def _size_kib(element: Any, attr: str) -> int:
    return _scaled(element, _req_int(element, attr))


def _scaled(element: Any, value: int) -> int:
    kib = scaled_kib(value, element.get("unit"))
    if kib is None:
        raise _BadSnapshot(f"unknown unit {element.get('unit')!r}", element)
    return kib


def _name(node: Any) -> str:
    target = getattr(node, "target", None)  # processing instructions have a target, no tag
    return f"<?{target}?>" if target is not None else f"<{node.tag}>"


def _text(element: Any) -> str | None:
    return element.text.strip() if element is not None and element.text else None


def _int_text(element: Any) -> int:
    value = parse_uint(_text(element))
    if value is None:
        raise _BadSnapshot(
            f"{_name(element)} must hold a non-negative integer, not {_text(element)!r}", element
        )
    return value


def _req_int(element: Any, attr: str) -> int:
    value = _opt_int(element, attr)
    if value is None:
        raise _BadSnapshot(f"{_name(element)} needs an integer '{attr}' attribute", element)
    return value


def _opt_int(element: Any, attr: str) -> int | None:
    if element is None:
        return None
    raw = element.get(attr)
    if raw is None:
        return None
    value = parse_uint(raw)
    if value is None:
        raise _BadSnapshot(
            f"{_name(element)} attribute {attr}={raw!r} is not a non-negative integer", element
        )
    return value
