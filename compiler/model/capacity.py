"""The capacity model: what a host node can give, what a guest holds, and whether the
guests of a host fit together. Placement, the host rules, admission and the views all
ask it; nothing else computes memory, pages or pinned CPUs per node.

Whether demands fit, and where they land, is solved exactly by `vnuma.model.flow`
(max-flow): :func:`host_load` lays all guests of a host onto its nodes once, and the
admission rules judge, placement subtracts and the views draw that one layout, so a
picture never shows an overcommit the admission rules do not see.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from vnuma.diagnostics import JsonPath
from vnuma.records import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing when vnuma starts
if TYPE_CHECKING:
    from vnuma.model.flow import Allocation, Demand
    from vnuma.model.guest import Guest, GuestCell
    from vnuma.model.host import HostCell, HostTopology


class Owner(Record):
    """A guest's demand: the guest, where in its file, "guest cell N" or "the guest"."""

    __slots__ = ("guest", "label", "path")

    def __init__(self, guest: Guest, path: JsonPath, label: str) -> None:
        self.guest = guest
        self.path = path
        self.label = label


def owner_of(demand: Demand) -> Owner:
    owner = demand.owner
    assert isinstance(owner, Owner), owner
    return owner


LOCAL_DISTANCE = 10
DEFAULT_REMOTE_DISTANCE = 20
"""What libvirt and the kernel assume between two nodes the snapshot gives no distance for."""


# --- what a node can give, what a guest holds -----------------------------------------------


def distance_of(host: HostTopology) -> Callable[[int, int], int]:
    """The host's NUMA distance from node a to node b (capabilities ``<distances>``), 10
    local and 20 remote where the snapshot has none: what huge pages a node cannot give
    overflow by (the kernel takes them from the nearest node that has them)."""
    rows = {cell.id: cell.distances for cell in host.cells}  # not host.cell(): O(N) each

    def distance(a: int, b: int) -> int:
        value = rows.get(a, {}).get(b)
        if value is not None:
            return value
        return LOCAL_DISTANCE if a == b else DEFAULT_REMOTE_DISTANCE

    return distance


def small_page_kib_of(host: HostTopology, nodes: frozenset[int]) -> int | None:
    """Small-page memory of a set of nodes (None when one is missing or unknown)."""
    total = 0
    for node in nodes:
        kib = host.small_page_kib(node)
        if kib is None:
            return None
        total += kib
    return total


def pool_pages_of(host: HostTopology, nodes: frozenset[int], size_kib: int) -> int:
    """The pages of one size the pools of a set of nodes hold."""
    total = 0
    for node in nodes:
        cell = host.cell(node)
        pool = cell.pool(size_kib) if cell else None
        total += pool.count if pool else 0
    return total


def free_kib_of(host: HostTopology, nodes: frozenset[int]) -> int | None:
    """Free memory of a set of nodes per the snapshot; None unless every node records it."""
    total, counted = 0, False
    for node in nodes:
        cell = host.cell(node)
        if cell is None:
            continue  # not a node of the host (VN201 says so)
        if cell.free_memory_kib is None:
            return None
        total += cell.free_memory_kib
        counted = True
    return total if counted else None


def free_pool_pages_of(host: HostTopology, nodes: frozenset[int], size_kib: int) -> int | None:
    """Free pages of a size on a set of nodes; None unless every existing pool records it."""
    total = 0
    for cell in host.cells_of(nodes):
        pool = cell.pool(size_kib)
        if pool is None:
            continue
        if pool.free is None:
            return None
        total += pool.free
    return total


def small_page_capacity(host: HostTopology) -> dict[int, int]:
    """Memory a node can give small-page guest memory: its total minus its huge page pools."""
    return {cell.id: host.small_page_kib(cell.id) or 0 for cell in host.cells}


def page_capacity(host: HostTopology, size_kib: int) -> dict[int, int]:
    """The pages of one size each node's pool holds."""
    return {cell.id: (pool.count if (pool := cell.pool(size_kib)) else 0) for cell in host.cells}


def free_capacity(host: HostTopology) -> dict[int, int] | None:
    """Free memory per node, when the snapshot records it for every node."""
    if any(cell.free_memory_kib is None for cell in host.cells):
        return None
    return {cell.id: cell.free_memory_kib or 0 for cell in host.cells}


def placeable_kib(cell: HostCell, reserve_kib: int) -> int:
    """Small-page memory placement may give a new cell on the node: free memory when the
    snapshot records it (else total minus pools), minus ``numatune.reserve``."""
    small = cell.free_memory_kib if cell.free_memory_kib is not None else cell.small_page_kib
    return max((small or 0) - reserve_kib, 0)


def placeable_pages(cell: HostCell) -> dict[int, int]:
    """Huge pages placement may give a new cell, per size: the pool's free pages when the
    snapshot records them, else its size."""
    return {
        pool.size_kib: pool.free if pool.free is not None else pool.count
        for pool in cell.pages
        if pool.size_kib != cell.base_page_kib
    }


def bound_small_demands(host: HostTopology, guest: Guest) -> list[Demand]:
    """The guest's small-page memory that strict/restrictive binds to host nodes."""
    from vnuma.model.flow import Demand

    return [
        Demand(Owner(guest, b.path, b.label), b.memory_kib, b.nodes)
        for b in guest.bindings()
        if b.mode.binds and b.nodes <= host.node_ids and guest.page_size_of(b.cell) is None
    ]


def page_demands(host: HostTopology, guest: Guest, size_kib: int) -> list[Demand]:
    """The guest's huge pages of one size: a strictly bound cell's from its nodes' pools,
    the others' from any node (huge pages come from the pools in every mode)."""
    from vnuma.model.flow import Demand

    demands = []
    bindings = {id(b.cell): b for b in guest.bindings()}
    parts: list[tuple[GuestCell | None, int]] = [(c, c.memory_kib) for c in guest.cells]
    for cell, memory in parts or [(None, guest.memory_kib)]:
        pages = guest.page_size_of(cell)
        if pages is None or pages.size_kib != size_kib:
            continue
        binding = bindings.get(id(cell))
        prefer: frozenset[int] = frozenset()
        if binding is not None and binding.mode.binds and binding.nodes <= host.node_ids:
            nodes, path, label = binding.nodes, binding.path, binding.label
        else:
            nodes, path = host.node_ids, pages.path
            label = "the guest" if cell is None else f"guest cell {cell.id}"
            prefer = binding.nodes & host.node_ids if binding is not None else frozenset()
        count = -(-memory // size_kib)
        demands.append(Demand(Owner(guest, path, label), count, nodes, prefer))
    return demands


def free_memory_demands(host: HostTopology, guest: Guest) -> list[Demand]:
    """Small-page memory against free memory: bound where bound, else on any node."""
    from vnuma.model.flow import Demand

    bound = bound_small_demands(host, guest)
    if bound or guest.uses_hugepages:
        return bound
    return [Demand(Owner(guest, ("memory",), "the guest"), guest.memory_kib, host.node_ids)]


def page_sizes(host: HostTopology, guests: Sequence[Guest]) -> list[int]:
    """The huge page sizes the guests use that the host has at all."""
    sizes = {pages.size_kib for guest in guests for pages in guest.hugepages}
    return sorted(size for size in sizes if host.supports_page_size(size))


class HostLoad(Record):
    """The guests of one host laid onto its nodes: what admission judges, what views draw."""

    __slots__ = ("free", "memory", "pages")

    def __init__(
        self, memory: Allocation, pages: dict[int, Allocation], free: Allocation | None
    ) -> None:
        self.memory = memory
        """Strictly bound small-page memory against each node's small-page memory."""
        self.pages = pages
        """Per huge page size: pages against each node's pool."""
        self.free = free
        """Small-page memory against the free memory the snapshot records (None: it has none)."""


def host_load(host: HostTopology, guests: Sequence[Guest]) -> HostLoad:
    from vnuma.model.flow import allocate, lay_out

    free = free_capacity(host)
    distance = distance_of(host)
    return HostLoad(
        memory=allocate(
            [d for guest in guests for d in bound_small_demands(host, guest)],
            small_page_capacity(host),
        ),
        pages={
            size: lay_out(
                [d for guest in guests for d in page_demands(host, guest, size)],
                page_capacity(host, size),
                distance,
            )
            for size in page_sizes(host, guests)
        },
        free=None
        if free is None
        else allocate([d for guest in guests for d in free_memory_demands(host, guest)], free),
    )


def held_on_nodes(
    host: HostTopology,
    guests: Sequence[Guest],
    memory: dict[int, int],
    pages: dict[int, dict[int, int]],
) -> tuple[dict[int, int], dict[int, dict[int, int]]]:
    """What guests already on the host take from what placement may give a new guest:
    (small-page KiB per node, pages per size per node). ``memory`` is each node's
    placeable memory, ``pages`` its pages per size."""
    from vnuma.model.flow import allocate, lay_out

    small = allocate([d for guest in guests for d in bound_small_demands(host, guest)], memory)
    taken_pages: dict[int, dict[int, int]] = {}
    distance = distance_of(host)
    for size in page_sizes(host, guests):
        capacity = {node: sizes.get(size, 0) for node, sizes in pages.items()}
        demands = [d for guest in guests for d in page_demands(host, guest, size)]
        taken_pages[size] = lay_out(demands, capacity, distance, overflow_anywhere=True).used()
    return small.used(), taken_pages
