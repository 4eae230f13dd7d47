"""Do demands confined to sets of host nodes fit the nodes' capacities? (Exact, by max-flow.)

A guest cell bound to nodes {0,1} may take its memory from either node, so summing
per node is wrong in both directions. The demands fit exactly when a flow from the
demands to the nodes saturates every demand; when it does not, the demands still
reachable in the residual graph and the nodes they are confined to form the smallest
explanation (Hall's condition): together they need more than those nodes hold.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Demand:
    owner: object
    amount: int
    nodes: frozenset[int]


@dataclass(frozen=True)
class Shortfall:
    demands: tuple[Demand, ...]
    nodes: frozenset[int]
    needed: int
    available: int


def find_shortfall(demands: Sequence[Demand], capacity: dict[int, int]) -> Shortfall | None:
    """None when every demand fits; else a set of demands and the nodes they overflow."""
    groups: dict[frozenset[int], list[Demand]] = {}
    for demand in demands:
        if demand.amount > 0 and demand.nodes:
            groups.setdefault(demand.nodes, []).append(demand)
    if not groups:
        return None
    node_sets = sorted(groups, key=lambda nodes: sorted(nodes))
    nodes = sorted(set().union(*node_sets))
    network = _Network(len(node_sets) + len(nodes) + 2)
    source, sink = 0, len(node_sets) + len(nodes) + 1
    node_index = {node: len(node_sets) + 1 + i for i, node in enumerate(nodes)}
    infinite = sum(d.amount for d in demands) + 1
    for i, node_set in enumerate(node_sets, start=1):
        network.add(source, i, sum(d.amount for d in groups[node_set]))
        for node in node_set:
            network.add(i, node_index[node], infinite)
    for node, index in node_index.items():
        network.add(index, sink, max(capacity.get(node, 0), 0))
    total = sum(sum(d.amount for d in group) for group in groups.values())
    if network.max_flow(source, sink) >= total:
        return None
    reachable = network.reachable(source)
    short_sets = [node_sets[i - 1] for i in range(1, len(node_sets) + 1) if i in reachable]
    short_nodes = frozenset(node for node, index in node_index.items() if index in reachable)
    short = tuple(d for node_set in short_sets for d in groups[node_set])
    return Shortfall(
        demands=short,
        nodes=short_nodes,
        needed=sum(d.amount for d in short),
        available=sum(max(capacity.get(node, 0), 0) for node in short_nodes),
    )


class _Network:
    """Edmonds-Karp on an adjacency-list residual graph (small: demand groups + nodes)."""

    def __init__(self, size: int) -> None:
        self.edges: list[list[int]] = [[] for _ in range(size)]
        self.to: list[int] = []
        self.residual: list[int] = []

    def add(self, a: int, b: int, capacity: int) -> None:
        self.edges[a].append(len(self.to))
        self.to.append(b)
        self.residual.append(capacity)
        self.edges[b].append(len(self.to))
        self.to.append(a)
        self.residual.append(0)

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
