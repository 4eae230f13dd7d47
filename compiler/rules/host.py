"""Fit against the host snapshot: node existence, memory, huge page pools, CPUs."""

from __future__ import annotations

from collections.abc import Iterator

from vnuma import codes
from vnuma.cpusets import format_cpuset
from vnuma.diagnostics import JsonPath
from vnuma.model.capacity import (
    free_kib_of,
    free_pool_pages_of,
    pool_pages_of,
    small_page_kib_of,
)
from vnuma.model.guest import Binding, Guest, GuestCell
from vnuma.model.host import HostTopology
from vnuma.rules.base import CheckContext, Finding, check
from vnuma.sizes import format_kib


def _named_nodes(guest: Guest) -> Iterator[tuple[frozenset[int], JsonPath]]:
    """Host node sets the guest binds to (a nodeset next to placement auto is dropped)."""
    numatune = guest.numatune
    if numatune is not None and numatune.nodeset is not None and not guest.auto_placement:
        yield numatune.nodeset, ("numatune", "nodeset")
    for cell in guest.cells:
        if cell.host_nodes is not None:
            yield cell.host_nodes, (*cell.path, "host_nodes")


def _known(host_nodes: frozenset[int], binding: Binding) -> bool:
    """``host_nodes``: the host's `node_ids` (a new set each time the property is read)."""
    return binding.nodes <= host_nodes


def _groups(bindings: list[Binding]) -> Iterator[tuple[Binding, list[Binding]]]:
    """For each distinct node set, the bindings that must fit inside it (first one reports)."""
    seen: set[frozenset[int]] = set()
    for binding in bindings:
        if binding.nodes in seen:
            continue
        seen.add(binding.nodes)
        yield binding, [b for b in bindings if b.nodes <= binding.nodes]


def _labels(group: list[Binding]) -> str:
    """'guest cell 0 needs' / 'guest cells 0, 1 need' style subject."""
    if len(group) == 1:
        return f"{group[0].label} needs"
    cells = [b.cell.id for b in group if b.cell is not None]
    return (
        f"guest cells {', '.join(map(str, cells))} need"
        if len(cells) == len(group)
        else "the guest needs"
    )


@check(codes.VN201, needs_host=True, reads=("numatune", "cells", "memory_devices"))
def host_node_missing(ctx: CheckContext) -> Iterator[Finding]:
    """A nodeset or a cell's host_nodes names a NUMA node the host does not have."""
    host = ctx.host
    assert host is not None
    named = list(_named_nodes(ctx.guest)) + [
        (device.nodemask, (*device.path, "nodemask"))
        for device in ctx.guest.domain.memory_devices
        if device.nodemask is not None
    ]
    present = host.node_ids
    for nodes, path in named:
        for node in sorted(nodes - present):
            yield Finding(
                f"NUMA node {node} is unavailable: the host has node(s) {format_cpuset(present)}",
                path,
                hint="libvirt accepts this and fails only at `virsh start`; use existing host nodes",
            )


@check(codes.VN202, needs_host=True)
def cell_on_cpuless_node(ctx: CheckContext) -> Iterator[Finding]:
    """Memory of vCPUs is bound only to host nodes without CPUs."""
    host = ctx.host
    assert host is not None
    present = host.node_ids
    guest = ctx.guest
    for binding in guest.bindings():
        if not _known(present, binding) or (binding.cell is not None and not binding.cell.cpus):
            continue
        if all(not cell.cpus for cell in host.cells_of(binding.nodes)):
            yield Finding(
                f"{binding.label} has vCPUs but its memory is bound to CPU-less host node(s) "
                f"{format_cpuset(binding.nodes)}",
                binding.path,
                hint="every memory access will be remote; bind to a node with CPUs, or make this a "
                "memory-only guest cell",
            )


def _when_it_fails(guest: Guest) -> str:
    """When a strict binding that does not fit fails: at start with preallocation, else
    later (QEMU allocates guest RAM lazily)."""
    if guest.domain.memory_allocation == "immediate":
        return (
            ": with <allocation mode='immediate'/> QEMU preallocates it and the guest fails to "
            'start ("Insufficient free host memory pages available to allocate guest RAM")'
        )
    return (
        ": QEMU allocates lazily, so the guest starts and is OOM-killed once it touches more "
        "than the nodes have"
    )


def _capacity_hint(host: HostTopology, nodes: frozenset[int]) -> str:
    reserved = sum(cell.hugepage_reserved_kib for cell in host.cells_of(nodes))
    note = f" ({format_kib(reserved)} of it is set aside as huge pages)" if reserved else ""
    return (
        f"host node(s) {format_kib(small_page_kib_of(host, nodes) or 0)} usable{note}; "
        "bind more nodes, shrink the guest, or use mode: preferred"
    )


@check(codes.VN203, needs_host=True)
def cell_exceeds_node_memory(ctx: CheckContext) -> Iterator[Finding]:
    """Strictly bound guest cells need more memory than their host nodes have."""
    host, guest = ctx.host, ctx.guest
    assert host is not None
    present = host.node_ids
    if not guest.cells:
        return
    bindings = [
        b
        for b in guest.bindings()
        if b.mode.binds and _known(present, b) and guest.page_size_of(b.cell) is None
    ]
    for first, group in _groups(bindings):
        need = sum(b.memory_kib for b in group)
        have = small_page_kib_of(host, first.nodes)
        if have is not None and need > have:
            yield Finding(
                f"{_labels(group)} {format_kib(need)} bound to host node(s) "
                f"{format_cpuset(first.nodes)}, which have {format_kib(have)}"
                f"{_when_it_fails(guest)}",
                first.path,
                hint=_capacity_hint(host, first.nodes),
            )


@check(codes.VN204, needs_host=True)
def guest_exceeds_nodeset_memory(ctx: CheckContext) -> Iterator[Finding]:
    """The whole guest, strictly bound, needs more memory than its host nodes have."""
    host, guest = ctx.host, ctx.guest
    assert host is not None
    if guest.uses_hugepages or not guest.memory_mode.binds or guest.auto_placement:
        return
    if guest.numatune is None or not guest.numatune.guest_wide:
        return
    nodes = frozenset().union(*(nodes for nodes, _ in _named_nodes(guest)))
    if not nodes or not nodes <= host.node_ids:
        return
    have = small_page_kib_of(host, nodes)
    # A domain's memory is what its cells hold (libvirt recomputes <memory>, see VN106).
    need = sum(c.memory_kib for c in guest.cells) if guest.cells else guest.memory_kib
    if have is not None and need > have:
        yield Finding(
            f"the guest needs {format_kib(need)} bound to host node(s) "
            f"{format_cpuset(nodes)}, which have {format_kib(have)}{_when_it_fails(guest)}",
            ("numatune", "nodeset") if guest.numatune and guest.numatune.nodeset else ("memory",),
            hint=_capacity_hint(host, nodes),
        )


@check(codes.VN205, needs_host=True, reads=("hugepages",))
def hugepage_size_unavailable(ctx: CheckContext) -> Iterator[Finding]:
    """The huge page size does not exist on the host."""
    host = ctx.host
    assert host is not None
    sizes = sorted(set(host.page_sizes_kib) | {p.size_kib for c in host.cells for p in c.pages})
    for pages in ctx.guest.hugepages:
        if host.supports_page_size(pages.size_kib):
            continue
        yield Finding(
            f"the host has no {format_kib(pages.size_kib)} pages",
            pages.path,
            hint=f'libvirt: "Unable to find any usable hugetlbfs mount for {pages.size_kib} KiB"; '
            f"host page sizes: {', '.join(format_kib(s) for s in sizes) or 'none listed'}"
            + _mount_note(pages.size_kib, sizes),
        )


def _mount_note(wanted: int, sizes: list[int]) -> str:
    """The mount libvirt needs for the host size closest below ``wanted`` (else above)."""
    huge = [size for size in sizes if size > 4]
    if not huge:
        return ""
    below = [size for size in huge if size <= wanted]
    size = max(below) if below else min(huge)
    return (
        f"; use one and mount hugetlbfs for it before the guest starts, e.g. "
        f"{hugetlbfs_mount(size)}"
    )


@check(codes.VN206, needs_host=True)
def hugepage_pool_too_small(ctx: CheckContext) -> Iterator[Finding]:
    """The host's huge page pools cannot hold the guest's memory."""
    host, guest = ctx.host, ctx.guest
    assert host is not None
    for size in sorted({pages.size_kib for pages in guest.hugepages}):
        if host.supports_page_size(size):
            yield from _pool_findings(host, guest, size)


def _uses_size(guest: Guest, cell: GuestCell | None, size_kib: int) -> bool:
    pages = guest.page_size_of(cell)
    return pages is not None and pages.size_kib == size_kib


def _page_bindings(host: HostTopology, guest: Guest, size: int) -> list[Binding]:
    """Strict or restrictive bindings to known host nodes of memory backed by ``size`` pages."""
    present = host.node_ids
    return [
        b
        for b in guest.bindings()
        if b.mode.binds and _known(present, b) and _uses_size(guest, b.cell, size)
    ]


def _guest_pages(guest: Guest, size: int) -> int:
    """Pages of ``size`` the whole guest needs (each cell rounded up to whole pages)."""
    if guest.cells:
        parts = [c.memory_kib for c in guest.cells if _uses_size(guest, c, size)]
    else:
        parts = [guest.memory_kib] if _uses_size(guest, None, size) else []
    return sum(-(-memory // size) for memory in parts)


def _pool_findings(host: HostTopology, guest: Guest, size: int) -> Iterator[Finding]:
    bindings = _page_bindings(host, guest, size)
    short_group = False
    for first, group in _groups(bindings):
        need = sum(-(-b.memory_kib // size) for b in group)
        have = pool_pages_of(host, first.nodes, size)
        if need > have:
            short_group = True
            yield Finding(
                f"{_labels(group)} {need} x {format_kib(size)} pages on host node(s) "
                f"{format_cpuset(first.nodes)}, whose pools hold {have}",
                first.path,
                hint=_pool_hint(first.nodes, size, need - have),
            )
    need = _guest_pages(guest, size)
    have = pool_pages_of(host, host.node_ids, size)
    if need > have and not short_group:
        path = next(p.path for p in guest.hugepages if p.size_kib == size)
        yield Finding(
            f"the guest needs {need} x {format_kib(size)} pages, the host's pools hold {have} in all",
            path,
            hint=_pool_hint(host.node_ids, size, need - have),
        )


def _pool_hint(nodes: frozenset[int], size_kib: int, short: int) -> str:
    return (
        f"{short} more {format_kib(size_kib)} page(s) needed on node(s) {format_cpuset(nodes)}: raise "
        f"/sys/devices/system/node/nodeN/hugepages/hugepages-{size_kib}kB/nr_hugepages, bind more nodes "
        f"or shrink the guest; libvirt also needs {hugetlbfs_mount(size_kib)} before it starts "
        f'("Unable to find any usable hugetlbfs mount for {size_kib} KiB")'
    )


def hugetlbfs_mount(size_kib: int) -> str:
    """The mount a page size needs: `/dev/hugepages` serves only the default size."""
    size = format_kib(size_kib).replace(" ", "").replace("iB", "")
    return f"`mount -t hugetlbfs -o pagesize={size} hugetlbfs /dev/hugepages{size}`"


@check(codes.VN209, needs_host=True)
def strict_binding_exceeds_free_memory(ctx: CheckContext) -> Iterator[Finding]:
    """Strictly bound memory fits the host nodes, but not the memory free on them now."""
    host, guest = ctx.host, ctx.guest
    assert host is not None
    present = host.node_ids
    if guest.auto_placement:
        return
    bindings = [
        b
        for b in guest.bindings()
        if b.mode.binds and _known(present, b) and guest.page_size_of(b.cell) is None
    ]
    for first, group in _groups(bindings):
        need = sum(b.memory_kib for b in group)
        free = free_kib_of(host, first.nodes)
        if free is None or need <= free:
            continue
        total = small_page_kib_of(host, first.nodes)
        if total is not None and need > total:
            continue
        yield Finding(
            f"{_labels(group)} {format_kib(need)} bound to host node(s) "
            f"{format_cpuset(first.nodes)}, which have {format_kib(free)} free "
            f"(of {format_kib(total or 0)})",
            first.path,
            hint="bind nodes with free memory (see `vnuma host`), make room first, or use "
            "mode: preferred; if this guest already runs there, a live snapshot counts it as used",
        )


@check(codes.VN210, needs_host=True)
def hugepage_pool_free_too_small(ctx: CheckContext) -> Iterator[Finding]:
    """The huge page pools are big enough, but too few of their pages are free now."""
    host, guest = ctx.host, ctx.guest
    assert host is not None
    for size in sorted({pages.size_kib for pages in guest.hugepages}):
        if host.supports_page_size(size):
            yield from _free_pool_findings(host, guest, size)


def _free_pool_findings(host: HostTopology, guest: Guest, size: int) -> Iterator[Finding]:
    bindings = _page_bindings(host, guest, size)
    reported = False
    for first, group in _groups(bindings):
        need = sum(-(-b.memory_kib // size) for b in group)
        free = free_pool_pages_of(host, first.nodes, size)
        if free is None or need <= free or need > pool_pages_of(host, first.nodes, size):
            continue
        reported = True
        yield Finding(
            f"{_labels(group)} {need} x {format_kib(size)} pages on host node(s) "
            f"{format_cpuset(first.nodes)}, which have {free} free "
            f"(of {pool_pages_of(host, first.nodes, size)})",
            first.path,
            hint=_free_pool_hint(first.nodes, size, need - free),
        )
    need = _guest_pages(guest, size)
    free = free_pool_pages_of(host, host.node_ids, size)
    if reported or free is None or need <= free or need > pool_pages_of(host, host.node_ids, size):
        return
    path = next(p.path for p in guest.hugepages if p.size_kib == size)
    yield Finding(
        f"the guest needs {need} x {format_kib(size)} pages, the host's pools have {free} free",
        path,
        hint=_free_pool_hint(host.node_ids, size, need - free),
    )


def _free_pool_hint(nodes: frozenset[int], size_kib: int, short: int) -> str:
    return (
        f"{short} more free {format_kib(size_kib)} page(s) needed on node(s) "
        f"{format_cpuset(nodes)}: stop guests holding them, bind other nodes or grow the pool; "
        "if this guest already runs there, a live snapshot counts its pages as used"
    )


@check(codes.VN207, needs_host=True)
def vcpu_overcommit(ctx: CheckContext) -> Iterator[Finding]:
    """More vCPUs than host CPUs: in total, or in a cell versus its bound host nodes."""
    host, guest = ctx.host, ctx.guest
    assert host is not None
    if guest.vcpus > host.cpu_count:
        yield Finding(
            f"{guest.vcpus} vCPUs on a host with {host.cpu_count} CPUs",
            ("vcpus",),
            hint="vCPUs will time-share host CPUs; lower vcpus unless overcommit is intended",
        )
    present = host.node_ids
    for cell in guest.cells:
        if not cell.host_nodes or not cell.host_nodes <= present:
            continue
        cpus = sum(len(node.cpus) for node in host.cells_of(cell.host_nodes))
        if cpus and len(cell.cpus) > cpus:
            yield Finding(
                f"cell {cell.id} has {len(cell.cpus)} vCPUs but its host node(s) "
                f"{format_cpuset(cell.host_nodes)} have {cpus} CPUs",
                (*cell.path, "cpus"),
                hint="split the cell or bind it to more nodes so its vCPUs can run next to its memory",
            )


@check(codes.VN208, needs_host=True)
def guest_exceeds_host_memory(ctx: CheckContext) -> Iterator[Finding]:
    """The guest has more memory than the whole host."""
    host, guest = ctx.host, ctx.guest
    assert host is not None
    if guest.uses_hugepages or (guest.memory_mode.binds and guest.effective_nodeset is not None):
        return
    if host.memory_kib and guest.memory_kib > host.memory_kib:
        yield Finding(
            f"the guest has {format_kib(guest.memory_kib)}, the host {format_kib(host.memory_kib)}",
            ("memory",),
            hint="check the size and unit; this needs swap or memory overcommit",
        )


CHECKS = (
    host_node_missing,
    cell_on_cpuless_node,
    cell_exceeds_node_memory,
    guest_exceeds_nodeset_memory,
    hugepage_size_unavailable,
    hugepage_pool_too_small,
    strict_binding_exceeds_free_memory,
    hugepage_pool_free_too_small,
    vcpu_overcommit,
    guest_exceeds_host_memory,
)
