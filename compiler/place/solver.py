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
    """Depth-first over the classes (cheapest first), largest count first; a branch is cut
    when even its optimistic bound (cost, then weight, then ids) cannot beat the best leaf.

    Per branch the search carries ``link``: for each class j not yet decided, what one
    more node of j adds in pairs with the fixed nodes and the nodes chosen so far (kept
    up to date as counts are chosen, instead of summed again from the counts)."""

    def __init__(self, problem: Problem, classes: list[list[int]]) -> None:
        self.problem = problem
        d = problem.distances
        fixed = list(problem.fixed)

        # Cheapest classes first: a good first leaf makes the bound bite early.
        def to_fixed(members: list[int]) -> int:
            row = d[members[0]]
            return sum(row[f] + d[f][members[0]] for f in fixed)

        if fixed:
            keyed = sorted((to_fixed(c), c[0], c) for c in classes)
        else:  # no fixed nodes: the classes stay in order of their first member
            keyed = sorted((0, c[0], c) for c in classes)
        self.classes = [c for _, _, c in keyed]
        self.fixed_cost = [cost for cost, _, _ in keyed]
        m = len(self.classes)
        reps = [c[0] for c in self.classes]
        # out[i][j] = d[rep i][rep j]; cross[i][j] counts the pair both ways
        out = [[row[r] for r in reps] for row in (d[r] for r in reps)]
        self.cross = [
            [a + b for a, b in zip(out[i], back, strict=True)]
            for i, back in enumerate(zip(*out, strict=True))
        ]
        self.size = [len(c) for c in self.classes]
        self.intra = [pair_cost(d, c[0], c[1]) if len(c) > 1 else 0 for c in self.classes]
        self.base = sum(pair_cost(d, a, b) for i, a in enumerate(fixed) for b in fixed[i + 1 :])
        self.weight = [problem.weight(c[0]) for c in self.classes]
        self.best: tuple[int, int, tuple[int, ...]] | None = None
        self.best_counts: Counts | None = None
        self.explored = 0
        # what the classes t.. hold together, and the cheapest pair among them
        self.suffix_size = [0] * (m + 1)
        self.intra_min: list[int | None] = [None] * (m + 1)
        self.cross_min: list[int | None] = [None] * (m + 1)
        for t in range(m - 1, -1, -1):
            self.suffix_size[t] = self.suffix_size[t + 1] + self.size[t]
            intra = self.intra_min[t + 1]
            if self.size[t] > 1:
                intra = self.intra[t] if intra is None else min(intra, self.intra[t])
            self.intra_min[t] = intra
            cross = self.cross_min[t + 1]
            if t + 1 < m:
                nearest = min(self.cross[t][t + 1 :])
                cross = nearest if cross is None else min(cross, nearest)
            self.cross_min[t] = cross
        self._internal: dict[tuple[int, int], int] = {}
        self._smallest: dict[int, list[int]] = {}

    def run(self) -> Choice | None:
        if self.problem.k == 0:
            if not self.problem.feasible([]):
                return None
            return Choice((), self.base, 0, 1)
        if sum(self.size) < self.problem.k:
            return None
        self._dfs(0, [], self.problem.k, self.base, 0, list(self.fixed_cost))
        if self.best is None or self.best_counts is None:
            return None
        cost, neg_weight, nodes = self.best
        return Choice(nodes, cost, -neg_weight, self.explored)

    def _chosen(self, counts: list[int]) -> list[tuple[list[int], int]]:
        return [(self.classes[i], x) for i, x in enumerate(counts) if x]

    def _dfs(
        self, t: int, counts: list[int], remaining: int, cost: int, weight: int, link: list[int]
    ) -> None:
        """``link[j]`` (j >= t): the cost one node of class j adds to the nodes so far."""
        self.explored += 1
        if remaining == 0:
            self._leaf(counts, cost, weight)
            return
        if t == len(self.classes) or not self._promising(t, counts, remaining, cost, weight, link):
            return
        if self.problem.possible is not None:
            optimistic = [*counts, *self.size[t:]]
            if not self.problem.possible(self._chosen(optimistic)):
                return
        most = min(self.size[t], remaining)
        intra, added_one, weight_one = self.intra[t], link[t], self.weight[t]
        cross_t = self.cross[t]
        for x in range(most, -1, -1):
            added = x * (x - 1) // 2 * intra + x * added_one
            if x:
                after = link[:]
                for j in range(t + 1, len(after)):
                    after[j] += x * cross_t[j]
            else:
                after = link
            self._dfs(
                t + 1, [*counts, x], remaining - x, cost + added, weight + x * weight_one, after
            )

    def _promising(
        self, t: int, counts: list[int], remaining: int, cost: int, weight: int, link: list[int]
    ) -> bool:
        if self.suffix_size[t] < remaining:
            return False
        if self.best is None:
            return True
        size = self.size
        # the `remaining` cheapest single additions, each class offering up to its size
        bound = cost + self._internal_bound(t, remaining)
        left = remaining
        for a, j in sorted((link[j], j) for j in range(t, len(size))):
            take = min(size[j], left)
            bound += take * a
            left -= take
            if not left:
                break
        best_cost, best_neg_weight, best_nodes = self.best
        if bound != best_cost:
            return bound < best_cost
        most = weight
        left = remaining
        for w, j in sorted(((self.weight[j], j) for j in range(t, len(size))), reverse=True):
            take = min(size[j], left)
            most += take * w
            left -= take
            if not left:
                break
        best_weight = -best_neg_weight
        if most != best_weight:
            return most > best_weight
        # Same cost and weight at best: only a lexicographically smaller node list can win.
        chosen = [n for members, x in self._chosen(counts) for n in members[:x]]
        return tuple(sorted(chosen + self._smallest_ids(t, remaining))) < best_nodes

    def _smallest_ids(self, t: int, remaining: int) -> list[int]:
        """The ``remaining`` lowest ids that classes t.. could give, each its first nodes:
        as class members are ascending (`interchangeable_classes`), the ``remaining``
        lowest of all their members."""
        merged = self._smallest.get(t)
        if merged is None:
            merged = self._smallest[t] = sorted(n for c in self.classes[t:] for n in c)
        return merged[:remaining]

    def _internal_bound(self, t: int, remaining: int) -> int:
        """Least cost of the pairs among ``remaining`` more nodes from classes t.. : pack
        them into as few classes as possible when a class's own pairs are the cheapest."""
        key = (t, remaining)
        found = self._internal.get(key)
        if found is None:
            found = self._internal[key] = self._pairs_bound(t, remaining)
        return found

    def _pairs_bound(self, t: int, remaining: int) -> int:
        pairs = remaining * (remaining - 1) // 2
        if pairs == 0:
            return 0
        intra_min, cross_min = self.intra_min[t], self.cross_min[t]
        if intra_min is None:
            return pairs * (cross_min or 0)
        if cross_min is None or intra_min > cross_min:
            return pairs * min(intra_min, cross_min if cross_min is not None else intra_min)
        left, inside = remaining, 0
        for size in sorted(self.size[t:], reverse=True):
            take = min(size, left)
            inside += take * (take - 1) // 2
            left -= take
            if left == 0:
                break
        return inside * intra_min + (pairs - inside) * cross_min

    def _leaf(self, counts: list[int], cost: int, weight: int) -> None:
        chosen = self._chosen(counts)
        nodes = tuple(sorted(n for members, x in chosen for n in members[:x]))
        key = (cost, -weight, nodes)
        if self.best is not None and key >= self.best:
            return
        if self.problem.feasible(chosen):
            self.best = key
            self.best_counts = tuple(counts)
