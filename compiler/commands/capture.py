"""`vnuma capture`: a host snapshot from libvirt (with free memory) or from Linux sysfs.

Both write a `virsh capabilities` document; the free memory and free huge pages libvirt
reports per node are added as processing instructions (see vnuma.libvirt.hoststate), so the
file still validates against libvirt's capability.rng and reads as plain capabilities.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, NamedTuple

from lxml import etree
from vnuma.cpusets import format_cpuset
from vnuma.libvirt.hoststate import (
    FORMAT_VERSION,
    FREE_MEMORY_PI,
    FREE_PAGES_PI,
    STATE_PI,
    escape_value,
)
from vnuma.libvirt.values import parse_uint, scaled_kib
from vnuma.load.xmlsafe import parse_xml
from vnuma.model.host import HostCell, HostTopology

INSTALL_HINT = (
    "libvirt-python is not installed: `pip install '.[libvirt]'` in a vnuma checkout (or "
    "`pip install 'vnuma[libvirt]'` once vnuma is published on PyPI); it builds against the "
    "system libvirt: apt-get install libvirt-dev pkg-config gcc python3-dev. Or read this "
    "machine's topology without libvirt: `vnuma capture --sysfs`"
)


class CaptureError(Exception):
    """The snapshot cannot be taken (no libvirt-python, no connection, bad sysfs)."""


class FreeState(NamedTuple):
    """What libvirt says is free right now, per host node."""

    memory_kib: dict[int, int]
    pages: dict[int, dict[int, int]]  # node -> page size KiB -> free pages


def capture_timestamp() -> str:
    """UTC now, or SOURCE_DATE_EPOCH when set (reproducible output, as in reproducible builds)."""
    epoch = parse_uint(os.environ.get("SOURCE_DATE_EPOCH"))
    seconds = int(time.time()) if epoch is None else epoch
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


# --- libvirt ---------------------------------------------------------------------------


def capture_libvirt(uri: str | None) -> bytes:
    """The host's capabilities with free memory and pages, from a read-only connection."""
    libvirt = _import_libvirt()
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)  # errors raise; don't print
    try:
        conn = libvirt.openReadOnly(uri)
    except libvirt.libvirtError as exc:
        raise CaptureError(f"cannot connect to {uri or 'the default libvirt URI'}: {exc}") from exc
    try:
        capabilities = conn.getCapabilities()
        source = conn.getURI()
        root = _capabilities_root(capabilities.encode("utf-8"))
        state = _free_state(conn, libvirt, root)
    except libvirt.libvirtError as exc:
        raise CaptureError(f"{uri or 'libvirt'}: {exc}") from exc
    finally:
        conn.close()
    return annotate(root, state, source, capture_timestamp())


def _import_libvirt() -> Any:
    try:
        import libvirt  # type: ignore[import-untyped]  # libvirt-python ships no stubs
    except ImportError as exc:
        raise CaptureError(INSTALL_HINT) from exc
    return libvirt


def _capabilities_root(data: bytes) -> Any:
    root, problem = parse_xml(data)
    if problem is not None or root is None or root.tag != "capabilities":
        raise CaptureError("libvirt returned no usable capabilities document")
    return root


def _free_state(conn: Any, libvirt: Any, root: Any) -> FreeState:
    memory: dict[int, int] = {}
    pages: dict[int, dict[int, int]] = {}
    for cell in root.iterfind("host/topology/cells/cell"):
        node = parse_uint(cell.get("id"))
        if node is None:
            continue
        free = _optional_call(libvirt, conn.getCellsFreeMemory, node, 1)
        if free:
            memory[node] = int(free[0]) // 1024  # libvirt reports bytes
        sizes = [size for p in cell.iterfind("pages") if (size := _kib(p)) is not None]
        found = _optional_call(libvirt, conn.getFreePages, sizes, node, 1) if sizes else None
        if found and node in found:
            pages[node] = {int(size): int(count) for size, count in found[node].items()}
    return FreeState(memory, pages)


def _optional_call(libvirt: Any, call: Any, *args: Any) -> Any:
    """Free memory is a bonus: a driver that cannot report it (VIR_ERR_NO_SUPPORT) leaves
    it unknown instead of failing the capture."""
    try:
        return call(*args)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() in (libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_OPERATION_INVALID):
            return None
        raise


def _kib(pages: Any) -> int | None:
    size = parse_uint(pages.get("size"))
    return scaled_kib(size, pages.get("unit")) if size is not None else None


# --- the host-state addition -----------------------------------------------------------


def annotate(root: Any, state: FreeState, source: str, captured: str) -> bytes:
    """Add the vnuma-host-state instructions to a capabilities document (in place)."""
    _insert_first(root, _pi(STATE_PI, version=FORMAT_VERSION, captured=captured, source=source))
    for cell in root.iterfind("host/topology/cells/cell"):
        node = parse_uint(cell.get("id"))
        if node is None:
            continue
        instructions = []
        if node in state.memory_kib:
            instructions.append(_pi(FREE_MEMORY_PI, unit="KiB", value=state.memory_kib[node]))
        for size, count in sorted(state.pages.get(node, {}).items()):
            instructions.append(_pi(FREE_PAGES_PI, size=size, unit="KiB", count=count))
        _insert_after_memory(cell, instructions)
    return etree.tostring(root, encoding="unicode").encode("utf-8") + b"\n"


def _pi(target: str, **attributes: object) -> Any:
    text = " ".join(f'{name}="{escape_value(value)}"' for name, value in attributes.items())
    return etree.ProcessingInstruction(target, text)


def _insert_first(parent: Any, node: Any) -> None:
    indent = parent.text if parent.text and not parent.text.strip() else "\n  "
    parent.insert(0, node)
    node.tail = indent
    parent.text = "\n" + indent.rsplit("\n", 1)[-1]  # no blank line before the instruction


def _insert_after_memory(cell: Any, instructions: list[Any]) -> None:
    if not instructions:
        return
    """After the cell's <pages> (or <memory>), each on its own line, indented like them."""
    anchor = cell.find("pages[last()]")
    if anchor is None:
        anchor = cell.find("memory")
    indent = _child_indent(cell)
    position = cell.index(anchor) + 1 if anchor is not None else 0
    for offset, node in enumerate(instructions):
        cell.insert(position + offset, node)
        node.tail = indent
    if anchor is not None:
        anchor.tail, instructions[-1].tail = indent, anchor.tail


def _child_indent(element: etree._Element) -> str:
    text = element.text
    if len(element) and text and not text.strip():
        return text
    return "\n"


# --- sysfs -----------------------------------------------------------------------------


def capabilities_xml(host: HostTopology, source: str, captured: str) -> bytes:
    """A `virsh capabilities` document (host part) for a topology read without libvirt."""
    capabilities = etree.Element("capabilities")
    state = _pi(STATE_PI, version=FORMAT_VERSION, captured=captured, source=source)
    capabilities.append(state)
    host_element = etree.SubElement(capabilities, "host")
    cpu = etree.SubElement(host_element, "cpu")
    etree.SubElement(cpu, "arch").text = host.arch or "x86_64"
    if None not in (host.sockets, host.cores_per_socket, host.threads_per_core):
        shape = {"sockets": str(host.sockets), "dies": str(host.dies or 1)}
        if host.clusters is not None:  # libvirt >= 10.1 prints it
            shape["clusters"] = str(host.clusters)
        shape["cores"] = str(host.cores_per_socket)
        shape["threads"] = str(host.threads_per_core)
        etree.SubElement(cpu, "topology", shape)
    for size in host.page_sizes_kib:
        etree.SubElement(cpu, "pages", unit="KiB", size=str(size))
    topology = etree.SubElement(host_element, "topology")
    cells = etree.SubElement(topology, "cells", num=str(len(host.cells)))
    for cell in host.cells:
        cells.append(_cell_element(cell))
    etree.indent(capabilities, space="  ")
    return etree.tostring(capabilities, encoding="unicode").encode("utf-8") + b"\n"


def _cell_element(cell: HostCell) -> Any:
    element = etree.Element("cell", id=str(cell.id))
    if cell.memory_kib is not None:
        etree.SubElement(element, "memory", unit="KiB").text = str(cell.memory_kib)
    for pool in cell.pages:
        etree.SubElement(element, "pages", unit="KiB", size=str(pool.size_kib)).text = str(
            pool.count
        )
    if cell.free_memory_kib is not None:
        element.append(_pi(FREE_MEMORY_PI, unit="KiB", value=cell.free_memory_kib))
    for pool in cell.pages:
        if pool.free is not None:
            element.append(_pi(FREE_PAGES_PI, size=pool.size_kib, unit="KiB", count=pool.free))
    if cell.distances:
        distances = etree.SubElement(element, "distances")
        for node, value in sorted(cell.distances.items()):
            etree.SubElement(distances, "sibling", id=str(node), value=str(value))
    cpus = etree.SubElement(element, "cpus", num=str(len(cell.cpus)))
    for cpu in cell.cpus:
        attributes = {"id": str(cpu.id)}
        ids: tuple[tuple[str, int | None], ...] = (
            ("socket_id", cpu.socket_id),
            ("die_id", cpu.die_id),
            ("cluster_id", cpu.cluster_id),
            ("core_id", cpu.core_id),
        )
        for name, number in ids:
            if number is not None:
                attributes[name] = str(number)
        if cpu.siblings:
            attributes["siblings"] = format_cpuset(set(cpu.siblings))
        etree.SubElement(cpus, "cpu", attributes)
    return element


def capture_sysfs(root: Path | None, display: str | None = None) -> tuple[bytes, HostTopology]:
    from vnuma.load.sysfs import SYSFS_ROOT, load_sysfs, resolve_sysfs_root
    from vnuma.load.text import UnreadableInput

    try:
        resolved = resolve_sysfs_root(root or SYSFS_ROOT)
    except UnreadableInput as exc:
        raise CaptureError(str(exc)) from exc
    host, diagnostics = load_sysfs(resolved, display or str(resolved))
    if host is None:
        raise CaptureError("; ".join(d.message for d in diagnostics) or "no topology in sysfs")
    return capabilities_xml(host, f"sysfs {resolved}", capture_timestamp()), host
