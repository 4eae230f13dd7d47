"""View model for `vnuma show`: a host snapshot and the guests placed on it, as plain data.

Renderers (`render/text.py`, `render/svg.py`) draw this; they never look at the host or
guest models themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from vnuma.cpusets import format_cpuset
from vnuma.diagnostics import Diagnostic, Severity
from vnuma.model.guest import Guest, Pinning
from vnuma.model.host import HostTopology

if TYPE_CHECKING:
    from vnuma.model.capacity import HostLoad
    from vnuma.model.flow import Allocation

# Colour-blind-safe palette (Okabe-Ito), one colour per guest in order.
GUEST_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")


class PinView(NamedTuple):
    guest: int
    """Index into HostView.guests."""
    vcpu: int


class CpuView(NamedTuple):
    id: int
    reserved: bool
    pins: tuple[PinView, ...]
    """Dedicated pins on this CPU (two or more is a conflict)."""
    floating: tuple[int, ...]
    """Guests whose vCPUs float over this CPU (node pinning, several CPUs per pin)."""
    emulator: tuple[int, ...] = ()
    """Guests whose emulator threads are pinned to (or float over) this CPU."""
    held: tuple[int, ...] = ()
    """Guests that hold this CPU idle: a sibling of a core given whole (`threads: isolate`)."""


class PoolView(NamedTuple):
    size_kib: int
    count: int  # type: ignore[assignment]  # shadows tuple.count, which nothing calls on a view
    free: int | None
    used_by_guests: int
    """Pages the capacity model lays onto this pool for the shown guests."""
    short: bool = False
    """The pool is among the nodes whose pages the guests overcommit (VN503's, or a
    guest's own VN206 when it is alone)."""


class CellPlacementView(NamedTuple):
    guest: int
    cell_id: int | None
    """None for the memory of a guest without cells."""
    memory_kib: int
    vcpus: str
    """Guest vCPU ids, libvirt set syntax ("" for a memory-only cell or no cell)."""
    shared_with: tuple[int, ...]
    """Other host nodes the cell's memory binding also names."""


class NodeView(NamedTuple):
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
    """Small-page memory the capacity model lays onto this node for the shown guests'
    strict/restrictive bindings (what does not fit anywhere is counted on the lowest of
    its nodes)."""
    memory_short: bool = False
    """The node is among those whose small-page memory the guests overcommit."""

    @property
    def cpus(self) -> tuple[CpuView, ...]:
        return tuple(cpu for core in self.cores for cpu in core)

    @property
    def overcommitted(self) -> bool:
        return self.memory_short or any(pool.short for pool in self.pools)


class GuestView(NamedTuple):
    index: int  # type: ignore[assignment]  # shadows tuple.index, which nothing calls on a view
    name: str
    colour: str
    vcpus: int
    memory_kib: int
    mode: str
    cells: tuple[tuple[int, tuple[int, ...]], ...]
    """(guest cell id, host nodes) for each cell; host nodes empty when unbound."""
    dedicated: int
    """Number of dedicated vCPU pins."""
    emulator: tuple[int, ...] = ()
    """Host CPUs of the guest's `<emulatorpin>` (empty when its emulator is not pinned)."""


class ProblemView(NamedTuple):
    code: str
    severity: str
    message: str
    path: str


class HostView(NamedTuple):
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
    host: HostTopology,
    guests: Sequence[Guest],
    diagnostics: Sequence[Diagnostic] = (),
    load: HostLoad | None = None,
) -> HostView:
    """``guests`` are resolved guests (placed, or lifted from domain XML); ``load`` is the
    capacity model's layout of them on the host (the one admission judged), computed
    here only when the caller has none."""
    if load is None:
        from vnuma.model.capacity import host_load

        load = host_load(host, guests)
    pins: dict[int, list[PinView]] = {}
    floating: dict[int, set[int]] = {}
    emulator: dict[int, set[int]] = {}
    held: dict[int, set[int]] = {}
    reserved: set[int] = set()
    for index, guest in enumerate(guests):
        reserved |= guest.reserved_cpus
        for cpu in guest.held_cpus:
            held.setdefault(cpu, set()).add(index)
        for cpu in guest.domain.emulator_pin or ():
            emulator.setdefault(cpu, set()).add(index)
        for pin in guest.domain.pins:
            if pin.dedicated and guest.pinning is not Pinning.NODE:
                pins.setdefault(min(pin.cpuset), []).append(PinView(index, pin.vcpu))
            else:
                for cpu in pin.cpuset:
                    floating.setdefault(cpu, set()).add(index)
        unpinned = guest.vcpus > len({pin.vcpu for pin in guest.domain.pins})
        if guest.domain.vcpu_cpuset and unpinned and not guest.auto_placement:
            for cpu in guest.domain.vcpu_cpuset:  # <vcpu cpuset>: where vCPUs without a pin float
                floating.setdefault(cpu, set()).add(index)
    bound, pages, cells = _memory_by_node(guests, load)
    short = _short_nodes(load)
    nodes = tuple(
        _node_view(cell, (pins, floating, emulator, held), reserved, bound, pages, cells, short)
        for cell in host.cells
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


def _laid_out(
    allocation: Allocation,
) -> tuple[dict[int, int], dict[tuple[int, str], dict[int, int]]]:
    """Per node what an allocation lays there (a demand's unplaced rest on its lowest
    node), and per (guest, "guest cell N") what it takes from each node."""
    from vnuma.model.capacity import owner_of

    per_node = allocation.used()
    per_owner: dict[tuple[int, str], dict[int, int]] = {}
    for index, demand in enumerate(allocation.demands):
        taken = dict(allocation.taken[index])
        missing = allocation.missing(index)
        if missing > 0 and demand.nodes:
            node = min(demand.nodes)
            taken[node] = taken.get(node, 0) + missing
            per_node[node] = per_node.get(node, 0) + missing
        owner = owner_of(demand)
        per_owner[(id(owner.guest), owner.label)] = taken
    return per_node, per_owner


def _short_nodes(load: HostLoad) -> tuple[frozenset[int], dict[int, frozenset[int]]]:
    memory = load.memory.shortfall.nodes if load.memory.shortfall else frozenset()
    pages = {
        size: allocation.shortfall.nodes
        for size, allocation in load.pages.items()
        if allocation.shortfall is not None
    }
    return memory, pages


def _memory_by_node(
    guests: Sequence[Guest], load: HostLoad
) -> tuple[dict[int, int], dict[tuple[int, int], int], dict[int, list[CellPlacementView]]]:
    bound, small_taken = _laid_out(load.memory)
    pages: dict[tuple[int, int], int] = {}
    page_taken: dict[tuple[int, str], dict[int, int]] = {}
    for size, allocation in load.pages.items():
        per_node, per_owner = _laid_out(allocation)
        pages.update({(node, size): count for node, count in per_node.items()})
        for owner, taken in per_owner.items():
            page_taken[owner] = {node: count * size for node, count in taken.items()}
    cells: dict[int, list[CellPlacementView]] = {}
    for index, guest in enumerate(guests):
        for binding in guest.bindings():
            owner = (id(guest), binding.label)
            nodes = sorted(binding.nodes)
            laid = small_taken.get(owner) or page_taken.get(owner)
            if laid is None:  # not held on particular nodes (preferred, interleave): shown shared
                share = -(-binding.memory_kib // len(nodes))
                laid = dict.fromkeys(nodes, share)
            cell = binding.cell
            for node in nodes:
                cells.setdefault(node, []).append(
                    CellPlacementView(
                        guest=index,
                        cell_id=cell.id if cell else None,
                        memory_kib=laid.get(node, 0),
                        vcpus=format_cpuset(cell.cpus) if cell and cell.cpus else "",
                        shared_with=tuple(n for n in nodes if n != node),
                    )
                )
    return bound, pages, cells


def _node_view(cell, users, reserved, bound, pages, cells, short) -> NodeView:  # type: ignore[no-untyped-def]
    pins, floating, emulator, held = users
    memory_short, pages_short = short
    by_core: dict[tuple[int, ...], list[int]] = {}
    for cpu in cell.cpus:
        by_core.setdefault(cpu.core_key, []).append(cpu.id)
    cores = tuple(
        tuple(
            CpuView(
                id=cpu,
                reserved=cpu in reserved,
                pins=tuple(pins.get(cpu, ())),
                floating=tuple(sorted(floating.get(cpu, ()))),
                emulator=tuple(sorted(emulator.get(cpu, ()))),
                held=tuple(sorted(held.get(cpu, ()))),
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
            PoolView(
                pool.size_kib,
                pool.count,
                pool.free,
                pages.get((cell.id, pool.size_kib), 0),
                short=cell.id in pages_short.get(pool.size_kib, frozenset()),
            )
            for pool in cell.pages
            if pool.size_kib != cell.base_page_kib
        ),
        cells=tuple(cells.get(cell.id, ())),
        bound_small_kib=bound.get(cell.id, 0),
        memory_short=cell.id in memory_short,
    )


def _sockets(nodes: tuple[NodeView, ...]) -> tuple[tuple[int | None, tuple[int, ...]], ...]:
    groups: dict[int | None, list[int]] = {}
    for node in nodes:
        groups.setdefault(node.socket, []).append(node.id)
    ordered = sorted(groups.items(), key=lambda item: (item[0] is None, item[0] or 0))
    return tuple((socket, tuple(ids)) for socket, ids in ordered)


def _guest_view(index: int, guest: Guest) -> GuestView:
    return GuestView(
        index=index,
        name=guest.label,
        colour=GUEST_COLOURS[index % len(GUEST_COLOURS)],
        vcpus=guest.vcpus,
        memory_kib=guest.memory_kib,
        mode=guest.memory_mode.value,
        cells=tuple((cell.id, tuple(sorted(cell.host_nodes or ()))) for cell in guest.cells),
        dedicated=sum(1 for pin in guest.domain.pins if pin.dedicated),
        emulator=tuple(sorted(guest.domain.emulator_pin or ())),
    )
