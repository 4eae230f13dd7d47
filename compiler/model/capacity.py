"""The capacity model: what a host node can give, what a guest holds, and whether the
guests of a host fit together. Placement, the host rules, admission and the views all
ask it; nothing else computes memory, pages or pinned CPUs per node.

A guest cell bound to nodes {0,1} may take its memory from either node, so summing
per node is wrong in both directions. The demands fit exactly when a flow from the
demands to the nodes saturates every demand; when it does not, the demands still
reachable in the residual graph and the nodes they are confined to form the smallest
explanation (Hall's condition): together they need more than those nodes hold. The
flow itself is the allocation the views draw (how much of each cell lands on which
node), so a picture never shows an overcommit the admission rules do not see.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, NamedTuple

from vnuma.diagnostics import JsonPath

if TYPE_CHECKING:
    from vnuma.model.host import HostCell, HostTopology
    from vnuma.model.intent import GuestCell, Intent


@dataclass(frozen=True)
class Demand:
    owner: object
    """Who needs it (an :class:`Owner` for the guests of a host; anything for the solver)."""
    amount: int
    nodes: frozenset[int]
    prefer: frozenset[int] = frozenset()
    """Nodes it is taken from first when it may come from any of ``nodes`` (huge pages
    of a cell under `preferred` or `interleave` come from its nodes' pools while they
    last); empty: no preference."""


class Owner(NamedTuple):
    """A guest's demand: the guest, where in its file, "guest cell N" or "the guest"."""

    guest: Intent
    path: JsonPath
    label: str


def owner_of(demand: Demand) -> Owner:
    owner = demand.owner
    assert isinstance(owner, Owner), owner
    return owner


@dataclass(frozen=True)
class Shortfall:
    demands: tuple[Demand, ...]
    nodes: frozenset[int]
    needed: int
    available: int


@dataclass(frozen=True)
class Allocation:
    """Demands laid onto nodes by the max-flow: what each demand takes from each node."""

    demands: tuple[Demand, ...]
    taken: tuple[dict[int, int], ...]
    """For each demand (same order), KiB or pages per node; a demand that does not fit
    takes less than its amount (the rest is ``shortfall``'s)."""
    shortfall: Shortfall | None

    def used(self) -> dict[int, int]:
        """What all the demands take from each node."""
        total: dict[int, int] = {}
        for taken in self.taken:
            for node, amount in taken.items():
                total[node] = total.get(node, 0) + amount
        return total

    def missing(self, index: int) -> int:
        return self.demands[index].amount - sum(self.taken[index].values())


def find_shortfall(demands: Sequence[Demand], capacity: dict[int, int]) -> Shortfall | None:
    """None when every demand fits; else a set of demands and the nodes they overflow."""
    return allocate(demands, capacity).shortfall


def allocate(demands: Sequence[Demand], capacity: dict[int, int]) -> Allocation:
    """The demands on the nodes (deterministic: the same inputs give the same split)."""
    demands = tuple(demands)
    taken: tuple[dict[int, int], ...] = tuple({} for _ in demands)
    groups: dict[frozenset[int], list[int]] = {}
    for index, demand in enumerate(demands):
        if demand.amount > 0 and demand.nodes:
            groups.setdefault(demand.nodes, []).append(index)
    if not groups:
        return Allocation(demands, taken, None)
    node_sets = sorted(groups, key=lambda nodes: sorted(nodes))
    nodes = sorted(set().union(*node_sets))
    network = _Network(len(node_sets) + len(nodes) + 2)
    source, sink = 0, len(node_sets) + len(nodes) + 1
    node_index = {node: len(node_sets) + 1 + i for i, node in enumerate(nodes)}
    infinite = sum(d.amount for d in demands) + 1
    group_edges: list[list[tuple[int, int]]] = []
    for i, node_set in enumerate(node_sets, start=1):
        network.add(source, i, sum(demands[d].amount for d in groups[node_set]))
        group_edges.append(
            [(node, network.add(i, node_index[node], infinite)) for node in sorted(node_set)]
        )
    for node, index in node_index.items():
        network.add(index, sink, max(capacity.get(node, 0), 0))
    total = sum(demands[d].amount for group in groups.values() for d in group)
    flowed = network.max_flow(source, sink)
    for node_set, edges in zip(node_sets, group_edges, strict=True):
        _split(demands, groups[node_set], [(n, network.flow(e)) for n, e in edges], taken)
    if flowed >= total:
        return Allocation(demands, taken, None)
    reachable = network.reachable(source)
    short_sets = [node_sets[i - 1] for i in range(1, len(node_sets) + 1) if i in reachable]
    short_nodes = frozenset(node for node, index in node_index.items() if index in reachable)
    short = tuple(demands[d] for node_set in short_sets for d in groups[node_set])
    shortfall = Shortfall(
        demands=short,
        nodes=short_nodes,
        needed=sum(d.amount for d in short),
        available=sum(max(capacity.get(node, 0), 0) for node in short_nodes),
    )
    return Allocation(demands, taken, shortfall)


def lay_out(
    demands: Sequence[Demand], capacity: dict[int, int], *, overflow_anywhere: bool = False
) -> Allocation:
    """Where the demands land, as the kernel takes them: each from its preferred nodes
    first (by max-flow), the rest from the roomiest of its nodes (lowest id on ties), or,
    with ``overflow_anywhere``, of every node (what placement assumes of a guest already
    running). The shortfall is the exact one of :func:`allocate`; when the preference
    leaves a demand short that the plain max-flow fits, the plain allocation is used."""
    demands = tuple(demands)
    plain = allocate(demands, capacity)
    if not any(d.prefer for d in demands) and not overflow_anywhere:
        return plain
    first = allocate([replace(d, nodes=(d.prefer & d.nodes) or d.nodes) for d in demands], capacity)
    left = {node: amount - first.used().get(node, 0) for node, amount in capacity.items()}
    taken = tuple(dict(t) for t in first.taken)
    complete = True
    for index, demand in enumerate(demands):
        rest = first.missing(index)
        nodes = capacity if overflow_anywhere else demand.nodes
        for node in sorted(nodes, key=lambda n: (-left.get(n, 0), n)):
            give = min(rest, max(left.get(node, 0), 0))
            if give:
                taken[index][node] = taken[index].get(node, 0) + give
                left[node] -= give
                rest -= give
        complete = complete and rest == 0
    if not complete and plain.shortfall is None:
        return plain
    return Allocation(demands, taken, plain.shortfall)


def _split(
    demands: tuple[Demand, ...],
    members: list[int],
    flows: list[tuple[int, int]],
    taken: tuple[dict[int, int], ...],
) -> None:
    """A group's flow to each node, handed to its demands in order."""
    left = {node: amount for node, amount in flows if amount > 0}
    for index in members:
        want = demands[index].amount
        for node in left:
            if want == 0:
                break
            give = min(want, left[node])
            if give:
                taken[index][node] = taken[index].get(node, 0) + give
                left[node] -= give
                want -= give


class _Network:
    """Edmonds-Karp on an adjacency-list residual graph (small: demand groups + nodes)."""

    def __init__(self, size: int) -> None:
        self.edges: list[list[int]] = [[] for _ in range(size)]
        self.to: list[int] = []
        self.residual: list[int] = []

    def add(self, a: int, b: int, capacity: int) -> int:
        """The edge's id (for :meth:`flow`)."""
        edge = len(self.to)
        self.edges[a].append(edge)
        self.to.append(b)
        self.residual.append(capacity)
        self.edges[b].append(edge + 1)
        self.to.append(a)
        self.residual.append(0)
        return edge

    def flow(self, edge: int) -> int:
        """What the max-flow sends along an edge: its reverse edge's residual."""
        return self.residual[edge ^ 1]

    def max_flow(self, source: int, sink: int) -> int:
        flow = 0
        while (path := self._augmenting_path(source, sink)) is not None:
            push = min(self.residual[edge] for edge in path)
            for edge in path:
                self.residual[edge] -= push
                self.residual[edge ^ 1] += push
            flow += push
        return flow

    def _augmenting_path(self, source: int, sink: int) -> list[int] | None:
        via: dict[int, int] = {source: -1}
        queue = deque([source])
        while queue:
            vertex = queue.popleft()
            for edge in self.edges[vertex]:
                target = self.to[edge]
                if self.residual[edge] > 0 and target not in via:
                    via[target] = edge
                    if target == sink:
                        return self._path(via, sink)
                    queue.append(target)
        return None

    def _path(self, via: dict[int, int], sink: int) -> list[int]:
        path, vertex = [], sink
        while via[vertex] != -1:
            edge = via[vertex]
            path.append(edge)
            vertex = self.to[edge ^ 1]
        return path

    def reachable(self, source: int) -> set[int]:
        seen, queue = {source}, deque([source])
        while queue:
            vertex = queue.popleft()
            for edge in self.edges[vertex]:
                target = self.to[edge]
                if self.residual[edge] > 0 and target not in seen:
                    seen.add(target)
                    queue.append(target)
        return seen


# --- what a node can give, what a guest holds -----------------------------------------------


def small_page_capacity(host: HostTopology) -> dict[int, int]:
    """Memory a node can give small-page guest memory: its total minus its huge page pools."""
    return {cell.id: cell.small_page_kib or 0 for cell in host.cells}


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


def bound_small_demands(host: HostTopology, guest: Intent) -> list[Demand]:
    """The guest's small-page memory that strict/restrictive binds to host nodes."""
    return [
        Demand(Owner(guest, b.path, b.label), b.memory_kib, b.nodes)
        for b in guest.bindings()
        if b.mode.binds and b.nodes <= host.node_ids and guest.page_size_of(b.cell) is None
    ]


def page_demands(host: HostTopology, guest: Intent, size_kib: int) -> list[Demand]:
    """The guest's huge pages of one size: a strictly bound cell's from its nodes' pools,
    the others' from any node (huge pages come from the pools in every mode)."""
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


def free_memory_demands(host: HostTopology, guest: Intent) -> list[Demand]:
    """Small-page memory against free memory: bound where bound, else on any node."""
    bound = bound_small_demands(host, guest)
    if bound or guest.uses_hugepages:
        return bound
    return [Demand(Owner(guest, ("memory",), "the guest"), guest.memory_kib, host.node_ids)]


def page_sizes(host: HostTopology, guests: Sequence[Intent]) -> list[int]:
    """The huge page sizes the guests use that the host has at all."""
    sizes = {pages.size_kib for guest in guests for pages in guest.hugepages}
    return sorted(size for size in sizes if host.supports_page_size(size))


@dataclass(frozen=True)
class HostLoad:
    """The guests of one host laid onto its nodes: what admission judges, what views draw."""

    memory: Allocation
    """Strictly bound small-page memory against each node's small-page memory."""
    pages: dict[int, Allocation]
    """Per huge page size: pages against each node's pool."""
    free: Allocation | None
    """Small-page memory against the free memory the snapshot records (None: it has none)."""


def host_load(host: HostTopology, guests: Sequence[Intent]) -> HostLoad:
    free = free_capacity(host)
    return HostLoad(
        memory=allocate(
            [d for guest in guests for d in bound_small_demands(host, guest)],
            small_page_capacity(host),
        ),
        pages={
            size: lay_out(
                [d for guest in guests for d in page_demands(host, guest, size)],
                page_capacity(host, size),
            )
            for size in page_sizes(host, guests)
        },
        free=None
        if free is None
        else allocate([d for guest in guests for d in free_memory_demands(host, guest)], free),
    )


def held_on_nodes(
    host: HostTopology,
    guests: Sequence[Intent],
    memory: dict[int, int],
    pages: dict[int, dict[int, int]],
) -> tuple[dict[int, int], dict[int, dict[int, int]]]:
    """What guests already on the host take from what placement may give a new guest:
    (small-page KiB per node, pages per size per node). ``memory`` is each node's
    placeable memory, ``pages`` its pages per size."""
    small = allocate([d for guest in guests for d in bound_small_demands(host, guest)], memory)
    taken_pages: dict[int, dict[int, int]] = {}
    for size in page_sizes(host, guests):
        capacity = {node: sizes.get(size, 0) for node, sizes in pages.items()}
        demands = [d for guest in guests for d in page_demands(host, guest, size)]
        taken_pages[size] = lay_out(demands, capacity, overflow_anywhere=True).used()
    return small.used(), taken_pages
