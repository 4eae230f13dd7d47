"""View model for `vnuma show`: a host snapshot and the guests placed on it, as plain data.

Renderers (`render/text.py`, `render/svg.py`) draw this; they never look at the host or
intent models themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vnuma.cpusets import format_cpuset
from vnuma.diagnostics import Diagnostic, Severity
from vnuma.model.host import HostTopology
from vnuma.model.intent import Intent, Pinning

# Colour-blind-safe palette (Okabe-Ito), one colour per guest in order.
GUEST_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")


@dataclass(frozen=True)
class PinView:
    guest: int
    """Index into HostView.guests."""
    vcpu: int


@dataclass(frozen=True)
class CpuView:
    id: int
    reserved: bool
    pins: tuple[PinView, ...]
    """Dedicated pins on this CPU (two or more is a conflict)."""
    floating: tuple[int, ...]
    """Guests whose vCPUs float over this CPU (node pinning, several CPUs per pin)."""


@dataclass(frozen=True)
class PoolView:
    size_kib: int
    count: int
    free: int | None
    used_by_guests: int
    """Pages the shown guests take from this pool (bound cells)."""


@dataclass(frozen=True)
class CellPlacementView:
    guest: int
    cell_id: int
    memory_kib: int
    vcpus: str
    """Guest vCPU ids, libvirt set syntax ("" for a memory-only cell)."""
    shared_with: tuple[int, ...]
    """Other host nodes the cell's memory binding also names."""


@dataclass(frozen=True)
class NodeView:
    id: int
    socket: int | None
    cores: tuple[tuple[CpuView, ...], ...]
    """CPUs grouped by physical core, sibling threads together, cores in id order."""
    memory_kib: int
    free_kib: int | None
    small_page_kib: int
    pools: tuple[PoolView, ...]
    cells: tuple[CellPlacementView, ...]
    bound_small_kib: int
    """Small-page memory the shown guests bind to this node (strict/restrictive)."""

    @property
    def cpus(self) -> tuple[CpuView, ...]:
        return tuple(cpu for core in self.cores for cpu in core)

    @property
    def overcommitted(self) -> bool:
        return self.bound_small_kib > self.small_page_kib or any(
            pool.used_by_guests > pool.count for pool in self.pools
        )


@dataclass(frozen=True)
class GuestView:
    index: int
    name: str
    colour: str
    vcpus: int
    memory_kib: int
    mode: str
    cells: tuple[tuple[int, tuple[int, ...]], ...]
    """(guest cell id, host nodes) for each cell; host nodes empty when unbound."""
    dedicated: int
    """Number of dedicated vCPU pins."""


@dataclass(frozen=True)
class ProblemView:
    code: str
    severity: str
    message: str
    path: str


@dataclass(frozen=True)
class HostView:
    source: str
    arch: str | None
    sockets: tuple[tuple[int | None, tuple[int, ...]], ...]
    """(socket id, node ids) in order; None groups nodes without CPUs (e.g. CXL memory)."""
    nodes: tuple[NodeView, ...]
    distances: tuple[tuple[int | None, ...], ...]
    """Row i, column j: distance from nodes[i] to nodes[j] (None when unknown)."""
    guests: tuple[GuestView, ...]
    problems: tuple[ProblemView, ...]

    def node(self, node_id: int) -> NodeView:
        return next(node for node in self.nodes if node.id == node_id)


def build_view(
    host: HostTopology, guests: Sequence[Intent], diagnostics: Sequence[Diagnostic] = ()
) -> HostView:
    """``guests`` are resolved intents (placed, or lifted from domain XML)."""
    pins: dict[int, list[PinView]] = {}
    floating: dict[int, set[int]] = {}
    reserved: set[int] = set()
    for index, guest in enumerate(guests):
        reserved |= guest.cpu.reserved
        for pin in guest.domain.pins:
            if pin.dedicated and guest.cpu.pinning is not Pinning.NODE:
                pins.setdefault(min(pin.cpuset), []).append(PinView(index, pin.vcpu))
            else:
                for cpu in pin.cpuset:
                    floating.setdefault(cpu, set()).add(index)
    bound, pages, cells = _memory_by_node(guests)
    nodes = tuple(
        _node_view(cell, pins, floating, reserved, bound, pages, cells) for cell in host.cells
    )
    return HostView(
        source=host.source,
        arch=host.arch,
        sockets=_sockets(nodes),
        nodes=nodes,
        distances=tuple(tuple(host.distance(a.id, b.id) for b in host.cells) for a in host.cells),
        guests=tuple(_guest_view(index, guest) for index, guest in enumerate(guests)),
        problems=tuple(
            ProblemView(d.code, d.severity.label, d.message, d.path)
            for d in diagnostics
            if d.severity >= Severity.WARNING
        ),
    )


def _memory_by_node(
    guests: Sequence[Intent],
) -> tuple[dict[int, int], dict[tuple[int, int], int], dict[int, list[CellPlacementView]]]:
    bound: dict[int, int] = {}
    pages: dict[tuple[int, int], int] = {}
    cells: dict[int, list[CellPlacementView]] = {}
    for index, guest in enumerate(guests):
        for binding in guest.bindings():
            nodes = sorted(binding.nodes)
            share = -(-binding.memory_kib // len(nodes))
            page = guest.page_size_of(binding.cell)
            for node in nodes:
                if page is not None:
                    key = (node, page.size_kib)
                    pages[key] = pages.get(key, 0) + -(-share // page.size_kib)
                elif binding.mode.binds:
                    bound[node] = bound.get(node, 0) + share
                cell = binding.cell
                cells.setdefault(node, []).append(
                    CellPlacementView(
                        guest=index,
                        cell_id=cell.id if cell else 0,
                        memory_kib=share,
                        vcpus=format_cpuset(cell.cpus) if cell and cell.cpus else "",
                        shared_with=tuple(n for n in nodes if n != node),
                    )
                )
    return bound, pages, cells


def _node_view(cell, pins, floating, reserved, bound, pages, cells) -> NodeView:  # type: ignore[no-untyped-def]
    by_core: dict[tuple, list[int]] = {}
    for cpu in cell.cpus:
        by_core.setdefault(cpu.core_key, []).append(cpu.id)
    cores = tuple(
        tuple(
            CpuView(
                id=cpu,
                reserved=cpu in reserved,
                pins=tuple(pins.get(cpu, ())),
                floating=tuple(sorted(floating.get(cpu, ()))),
            )
            for cpu in sorted(threads)
        )
        for threads in sorted(by_core.values(), key=min)
    )
    return NodeView(
        id=cell.id,
        socket=min(cell.sockets) if cell.sockets else None,
        cores=cores,
        memory_kib=cell.memory_kib or 0,
        free_kib=cell.free_memory_kib,
        small_page_kib=cell.small_page_kib or 0,
        pools=tuple(
            PoolView(pool.size_kib, pool.count, pool.free, pages.get((cell.id, pool.size_kib), 0))
            for pool in cell.pages
            if pool.size_kib != cell.base_page_kib
        ),
        cells=tuple(cells.get(cell.id, ())),
        bound_small_kib=bound.get(cell.id, 0),
    )


def _sockets(nodes: tuple[NodeView, ...]) -> tuple[tuple[int | None, tuple[int, ...]], ...]:
    groups: dict[int | None, list[int]] = {}
    for node in nodes:
        groups.setdefault(node.socket, []).append(node.id)
    ordered = sorted(groups.items(), key=lambda item: (item[0] is None, item[0] or 0))
    return tuple((socket, tuple(ids)) for socket, ids in ordered)


def _guest_view(index: int, guest: Intent) -> GuestView:
    return GuestView(
        index=index,
        name=guest.label,
        colour=GUEST_COLOURS[index % len(GUEST_COLOURS)],
        vcpus=guest.vcpus,
        memory_kib=guest.memory_kib,
        mode=guest.memory_mode.value,
        cells=tuple((cell.id, tuple(sorted(cell.host_nodes or ()))) for cell in guest.cells),
        dedicated=sum(1 for pin in guest.domain.pins if pin.dedicated),
    )
