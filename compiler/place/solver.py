"""Exact choice of host nodes: the feasible set of k nodes with the least summed distance.

The objective is the summed pairwise host distance of the chosen nodes (plus nodes that
are fixed already), then the most capacity left (memory of the chosen nodes), then the
lowest node ids. The search is a branch and bound over *classes* of interchangeable
nodes: nodes with the same capacity and the same distance to every other node (a
socket's nodes on real hardware). Within a class only the lowest ids are ever taken,
which is what the id tie-break would choose anyway, so a 64-node host with 8 identical
sockets is a search over 8 counts, not over C(64, k) subsets. With an arbitrary
(asymmetric or irregular) matrix the classes are single nodes and the search is still
exact, only slower.

Feasibility is a callback on the chosen multiset (guest cells matched one-to-one onto
the chosen nodes, or an aggregate capacity for a guest without cells); `possible` prunes
a partial choice that could not become feasible even with every remaining node.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

from vnuma.model.host import twin_classes

Counts = tuple[int, ...]
Distances = Mapping[int, Mapping[int, int]]
"""distances[a][b]: the host distance from a to b, for every candidate and fixed node."""


@dataclass(frozen=True)
class Choice:
    nodes: tuple[int, ...]
    """The chosen nodes (fixed ones excluded), sorted."""
    cost: int
    """Summed pairwise distance over the chosen and the fixed nodes (each pair once)."""
    weight: int
    explored: int


@dataclass(frozen=True)
class Problem:
    candidates: Sequence[int]
    k: int
    fixed: Sequence[int]
    distances: Distances
    weight: Callable[[int], int]
    signature: Callable[[int], Hashable]
    feasible: Callable[[list[tuple[list[int], int]]], bool]
    """Given [(class nodes, count)], is taking the first `count` nodes of each feasible?"""
    possible: Callable[[list[tuple[list[int], int]]], bool] | None = None
    """Could the partial choice still become feasible (counts are upper bounds)?"""
    host_twins: tuple[tuple[int, ...], ...] | None = None
    """`HostTopology.twins`: used when the candidates and fixed nodes are the whole host."""


def pair_cost(distances: Distances, a: int, b: int) -> int:
    """Distance between two nodes, counted both ways (equal for a symmetric matrix)."""
    return distances[a][b] + distances[b][a]


def interchangeable_classes(problem: Problem) -> list[list[int]]:
    """Group candidates that can replace each other: same signature and the same distance
    to every other node (`vnuma.model.host.twin_classes`). When the problem spans every
    node of the host, the host's own twins (computed once, when it was loaded) split by
    signature are those classes."""
    nodes = sorted(problem.candidates)
    everyone = sorted(set(nodes) | set(problem.fixed))
    twins = problem.host_twins
    if twins is not None and set(everyone) == {node for members in twins for node in members}:
        return _split_by_signature(twins, set(nodes), problem.signature)
    return twin_classes(nodes, everyone, problem.distances, problem.signature)


def _split_by_signature(
    twins: tuple[tuple[int, ...], ...], nodes: set[int], signature: Callable[[int], Hashable]
) -> list[list[int]]:
    classes: list[list[int]] = []
    for members in twins:
        by_signature: dict[Hashable, list[int]] = {}
        for node in members:
            if node in nodes:
                by_signature.setdefault(signature(node), []).append(node)
        classes.extend(by_signature.values())
    return sorted(classes, key=lambda members: members[0])


def choose(problem: Problem) -> Choice | None:
    classes = interchangeable_classes(problem)
    return _Search(problem, classes).run()


class _Search:
    def __init__(self, problem: Problem, classes: list[list[int]]) -> None:
        self.problem = problem
        d = problem.distances
        fixed = list(problem.fixed)

        # Cheapest classes first: a good first leaf makes the bound bite early.
        def to_fixed(members: list[int]) -> int:
            return sum(pair_cost(d, members[0], f) for f in fixed)

        self.classes = sorted(classes, key=lambda m: (to_fixed(m), m[0]))
        m = len(self.classes)
        reps = [c[0] for c in self.classes]
        self.size = [len(c) for c in self.classes]
        self.intra = [pair_cost(d, c[0], c[1]) if len(c) > 1 else 0 for c in self.classes]
        self.cross = [[pair_cost(d, reps[i], reps[j]) for j in range(m)] for i in range(m)]
        self.fixed_cost = [to_fixed(c) for c in self.classes]
        self.base = sum(pair_cost(d, a, b) for i, a in enumerate(fixed) for b in fixed[i + 1 :])
        self.weight = [problem.weight(c[0]) for c in self.classes]
        self.best: tuple[int, int, tuple[int, ...]] | None = None
        self.best_counts: Counts | None = None
        self.explored = 0

    def run(self) -> Choice | None:
        if self.problem.k == 0:
            if not self.problem.feasible([]):
                return None
            return Choice((), self.base, 0, 1)
        if sum(self.size) < self.problem.k:
            return None
        self._dfs(0, [], self.problem.k, self.base, 0)
        if self.best is None or self.best_counts is None:
            return None
        cost, neg_weight, nodes = self.best
        return Choice(nodes, cost, -neg_weight, self.explored)

    def _chosen(self, counts: list[int]) -> list[tuple[list[int], int]]:
        return [(self.classes[i], x) for i, x in enumerate(counts) if x]

    def _dfs(self, t: int, counts: list[int], remaining: int, cost: int, weight: int) -> None:
        self.explored += 1
        if remaining == 0:
            self._leaf(counts, cost, weight)
            return
        if t == len(self.classes) or not self._promising(t, counts, remaining, cost, weight):
            return
        if self.problem.possible is not None:
            optimistic = [*counts] + [self.size[j] for j in range(t, len(self.classes))]
            if not self.problem.possible(self._chosen(optimistic)):
                return
        most = min(self.size[t], remaining)
        for x in range(most, -1, -1):
            added = (
                x * (x - 1) // 2 * self.intra[t]
                + x * self.fixed_cost[t]
                + x * sum(counts[i] * self.cross[i][t] for i in range(t))
            )
            self._dfs(t + 1, [*counts, x], remaining - x, cost + added, weight + x * self.weight[t])

    def _promising(self, t: int, counts: list[int], remaining: int, cost: int, weight: int) -> bool:
        rest = range(t, len(self.classes))
        if sum(self.size[j] for j in rest) < remaining:
            return False
        if self.best is None:
            return True
        increments: list[int] = []
        weights: list[int] = []
        for j in rest:
            a = self.fixed_cost[j] + sum(counts[i] * self.cross[i][j] for i in range(t))
            take = min(self.size[j], remaining)
            increments.extend([a] * take)
            weights.extend([self.weight[j]] * take)
        increments.sort()
        bound = cost + sum(increments[:remaining]) + self._internal_bound(t, remaining)
        best_cost, best_neg_weight, best_nodes = self.best
        if bound != best_cost:
            return bound < best_cost
        weights.sort(reverse=True)
        best_weight = -best_neg_weight
        most = weight + sum(weights[:remaining])
        if most != best_weight:
            return most > best_weight
        # Same cost and weight at best: only a lexicographically smaller node list can win.
        chosen = [n for members, x in self._chosen(counts) for n in members[:x]]
        smallest = sorted(n for j in rest for n in self.classes[j][: min(self.size[j], remaining)])
        return tuple(sorted(chosen + smallest[:remaining])) < best_nodes

    def _internal_bound(self, t: int, remaining: int) -> int:
        """Least cost of the pairs among ``remaining`` more nodes from classes t.. : pack
        them into as few classes as possible when a class's own pairs are the cheapest."""
        rest = range(t, len(self.classes))
        pairs = remaining * (remaining - 1) // 2
        if pairs == 0:
            return 0
        intra = [self.intra[j] for j in rest if self.size[j] > 1]
        cross = [self.cross[i][j] for i in rest for j in rest if i < j]
        intra_min = min(intra) if intra else None
        cross_min = min(cross) if cross else None
        if intra_min is None:
            return pairs * (cross_min or 0)
        if cross_min is None or intra_min > cross_min:
            return pairs * min(intra_min, cross_min if cross_min is not None else intra_min)
        left, inside = remaining, 0
        for size in sorted((self.size[j] for j in rest), reverse=True):
            take = min(size, left)
            inside += take * (take - 1) // 2
            left -= take
            if left == 0:
                break
        return inside * intra_min + (pairs - inside) * cross_min

    def _leaf(self, counts: list[int], cost: int, weight: int) -> None:
        nodes = tuple(sorted(n for members, x in self._chosen(counts) for n in members[:x]))
        key = (cost, -weight, nodes)
        if self.best is not None and key >= self.best:
            return
        if self.problem.feasible(self._chosen(counts)):
            self.best = key
            self.best_counts = tuple(counts)
