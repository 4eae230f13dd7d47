"""Exact allocation of demands confined to sets of host nodes, by max-flow.

A guest cell bound to nodes {0,1} may take its memory from either node, so summing
per node is wrong in both directions. The demands fit exactly when a flow from the
demands to the nodes saturates every demand; when it does not, the demands still
reachable in the residual graph and the nodes they are confined to form the smallest
explanation (Hall's condition): together they need more than those nodes hold. The
flow itself is an allocation (how much of each demand lands on which node).

The capacity model (`vnuma.model.capacity`) states what the nodes and the guests are;
this module only solves. It is imported only when guests are admitted, placed beside
others or drawn: a one-file lint never pays for it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import NamedTuple


class Demand(NamedTuple):
    owner: object
    """Who needs it (a `capacity.Owner` for the guests of a host; anything for the solver)."""
    amount: int
    nodes: frozenset[int]
    prefer: frozenset[int] = frozenset()
    """Nodes it is taken from first when it may come from any of ``nodes`` (huge pages
    of a cell under `preferred` or `interleave` come from its nodes' pools while they
    last); empty: no preference."""


class Shortfall(NamedTuple):
    demands: tuple[Demand, ...]
    nodes: frozenset[int]
    needed: int
    available: int


class Allocation(NamedTuple):
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
    demands: Sequence[Demand],
    capacity: dict[int, int],
    distance: Callable[[int, int], int],
    *,
    overflow_anywhere: bool = False,
) -> Allocation:
    """Where the demands land, as the kernel takes huge pages: each from its preferred
    nodes first (by max-flow, so every demand gets its own nodes' pages before any
    other demand's overflow does), the rest, demand by demand, from the nearest of its
    nodes with pages left by ``distance(a, b)`` from the nodes it prefers (from its
    nodes when it prefers none), lowest id on ties, or, with ``overflow_anywhere``,
    the nearest of every node (what placement assumes of a guest already running).
    The shortfall is the exact one of :func:`allocate`; when the preference leaves a
    demand short that the plain max-flow fits, the plain allocation is used."""
    demands = tuple(demands)
    plain = allocate(demands, capacity)
    if not any(d.prefer for d in demands) and not overflow_anywhere:
        return plain
    first = allocate([d._replace(nodes=(d.prefer & d.nodes) or d.nodes) for d in demands], capacity)
    left = {node: amount - first.used().get(node, 0) for node, amount in capacity.items()}
    taken = tuple(dict(t) for t in first.taken)
    everywhere = frozenset(capacity)
    # the overflow order of (the nodes a demand prefers, the nodes it may take from)
    nearest: dict[tuple[frozenset[int], frozenset[int]], list[int]] = {}
    complete = True
    for index, demand in enumerate(demands):
        rest = first.missing(index)
        if rest <= 0:
            continue
        origin = (demand.prefer & demand.nodes) or demand.nodes
        nodes = everywhere if overflow_anywhere else demand.nodes
        order = nearest.get((origin, nodes))
        if order is None:
            order = nearest[(origin, nodes)] = sorted(
                nodes, key=lambda n: (min((distance(o, n) for o in origin), default=0), n)
            )
        for node in order:
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
