"""The capacity model (max-flow over demands confined to host nodes) against brute force.

Two oracles, both written without a flow network:

- ``fits_by_splitting``: enumerate every split of each demand into whole units over its
  allowed nodes, within what the nodes have left (small instances only);
- ``hall_violation``: Hall's condition for transportation problems: the demands fit exactly
  when every set of demands needs no more than the union of their nodes holds.

`find_shortfall` must give the same verdict, and when it says "does not fit", what it
reports must really be a Hall violation: demands confined to the reported nodes, needing
more than those nodes hold, with `needed` and `available` summed correctly.
"""

from __future__ import annotations

from itertools import combinations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vnuma.model.flow import Demand, Shortfall, find_shortfall


def _cap(capacity: dict[int, int], node: int) -> int:
    return max(capacity.get(node, 0), 0)


def _live(demands: list[Demand]) -> list[Demand]:
    """Demands that take anything (find_shortfall ignores empty amounts and node sets)."""
    return [d for d in demands if d.amount > 0 and d.nodes]


def fits_by_splitting(demands: list[Demand], capacity: dict[int, int]) -> bool:
    live = _live(demands)
    left = {node: _cap(capacity, node) for d in live for node in d.nodes}

    def place(i: int) -> bool:
        if i == len(live):
            return True
        nodes = sorted(live[i].nodes)

        def split(j: int, rest: int) -> bool:
            if rest == 0:
                return place(i + 1)
            if j == len(nodes):
                return False
            node = nodes[j]
            for take in range(min(rest, left[node]), -1, -1):
                left[node] -= take
                ok = split(j + 1, rest - take)
                left[node] += take
                if ok:
                    return True
            return False

        return split(0, live[i].amount)

    return place(0)


def hall_violation(demands: list[Demand], capacity: dict[int, int]) -> bool:
    live = _live(demands)
    for size in range(1, len(live) + 1):
        for chosen in combinations(live, size):
            nodes = frozenset().union(*(d.nodes for d in chosen))
            if sum(d.amount for d in chosen) > sum(_cap(capacity, n) for n in nodes):
                return True
    return False


def check_shortfall(demands: list[Demand], capacity: dict[int, int], found: Shortfall) -> None:
    live = _live(demands)
    assert found.demands, found
    for demand in found.demands:
        assert any(demand is d for d in live), (demand, live)
        assert demand.nodes <= found.nodes, (demand, found)
    # the reported nodes are exactly the ones the reported demands may use
    assert found.nodes == frozenset().union(*(d.nodes for d in found.demands))
    assert len({id(d) for d in found.demands}) == len(found.demands)
    assert found.needed == sum(d.amount for d in found.demands)
    assert found.available == sum(_cap(capacity, n) for n in found.nodes)
    assert found.needed > found.available, found
    # every demand confined to those nodes is part of the explanation
    confined = [d for d in live if d.nodes <= found.nodes]
    assert sum(d.amount for d in confined) >= found.needed


NODES = st.integers(min_value=0, max_value=3)


@st.composite
def instances(draw, max_demands=4, max_amount=5, max_capacity=8):
    node_ids = draw(st.lists(NODES, min_size=1, max_size=4, unique=True))
    capacity = {
        node: draw(st.integers(min_value=-2, max_value=max_capacity))
        for node in node_ids
        if draw(st.booleans()) or node == node_ids[0]
    }  # some nodes have no entry: capacity 0
    demands = [
        Demand(
            owner=i,
            amount=draw(st.integers(min_value=0, max_value=max_amount)),
            nodes=frozenset(draw(st.lists(st.sampled_from(node_ids), min_size=1, max_size=4))),
        )
        for i in range(draw(st.integers(min_value=0, max_value=max_demands)))
    ]
    return demands, capacity


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_same_verdict_as_splitting_every_demand(instance) -> None:
    demands, capacity = instance
    found = find_shortfall(demands, capacity)
    assert (found is None) == fits_by_splitting(demands, capacity), (demands, capacity, found)
    assert (found is None) == (not hall_violation(demands, capacity))
    if found is not None:
        check_shortfall(demands, capacity, found)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_same_verdict_as_splitting_every_demand_many(instance) -> None:
    test_same_verdict_as_splitting_every_demand.hypothesis.inner_test(instance=instance)


@st.composite
def larger_instances(draw):
    """More demands and nodes: flows that must be rerouted through reverse edges."""
    node_ids = list(range(draw(st.integers(min_value=2, max_value=6))))
    capacity = {node: draw(st.integers(min_value=0, max_value=12)) for node in node_ids}
    demands = [
        Demand(
            owner=i,
            amount=draw(st.integers(min_value=1, max_value=12)),
            nodes=frozenset(draw(st.lists(st.sampled_from(node_ids), min_size=1, max_size=3))),
        )
        for i in range(draw(st.integers(min_value=1, max_value=7)))
    ]
    return demands, capacity


@settings(max_examples=60, deadline=None)
@given(larger_instances())
def test_same_verdict_as_halls_condition(instance) -> None:
    demands, capacity = instance
    found = find_shortfall(demands, capacity)
    assert (found is None) == (not hall_violation(demands, capacity)), (demands, capacity, found)
    if found is not None:
        check_shortfall(demands, capacity, found)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(larger_instances())
def test_same_verdict_as_halls_condition_many(instance) -> None:
    test_same_verdict_as_halls_condition.hypothesis.inner_test(instance=instance)


# --- explicit cases, checked by hand -------------------------------------------------------------


def test_a_demand_on_a_node_too_small_does_not_fit_beside_a_spread_one() -> None:
    # 17 in all, but node 2 holds 2 and the first demand may only use node 2
    demands = [Demand("a", 3, frozenset({2})), Demand("b", 2, frozenset({0, 1, 2}))]
    found = find_shortfall(demands, {0: 7, 1: 8, 2: 2})
    assert found is not None
    assert found.nodes == frozenset({2})
    assert [d.owner for d in found.demands] == ["a"]
    assert (found.needed, found.available) == (3, 2)


def test_a_spread_demand_fits_around_a_pinned_one() -> None:
    # the pinned demand takes node 2 whole; the spread one must go to 0 and 1
    demands = [Demand("a", 2, frozenset({2})), Demand("b", 15, frozenset({0, 1, 2}))]
    assert find_shortfall(demands, {0: 7, 1: 8, 2: 2}) is None
    found = find_shortfall(
        [Demand("a", 2, frozenset({2})), Demand("b", 16, frozenset({0, 1, 2}))],
        {0: 7, 1: 8, 2: 2},
    )
    assert found is not None and found.nodes == frozenset({0, 1, 2})
    assert (found.needed, found.available) == (18, 17)


def test_flow_must_be_rerouted() -> None:
    """A greedy first path sends b over node 1; a must then push it back to node 0."""
    demands = [
        Demand("b", 1, frozenset({0, 1})),
        Demand("a", 1, frozenset({1})),
    ]
    assert find_shortfall(demands, {0: 1, 1: 1}) is None
    assert find_shortfall([*demands, Demand("c", 1, frozenset({0}))], {0: 1, 1: 1}) is not None


@pytest.mark.parametrize(
    ("amounts", "capacity", "fits"),
    [
        ((4, 4), {0: 8}, True),  # exactly full
        ((4, 5), {0: 8}, False),  # one unit over
        ((0, 8), {0: 8}, True),
    ],
)
def test_one_node_boundary(amounts, capacity, fits) -> None:
    demands = [Demand(i, a, frozenset({0})) for i, a in enumerate(amounts)]
    found = find_shortfall(demands, capacity)
    assert (found is None) is fits
    if found is not None:
        assert (found.needed, found.available) == (sum(amounts), 8)
        assert [d.owner for d in found.demands] == [0, 1]


def test_ignored_demands_and_missing_or_negative_capacity() -> None:
    assert find_shortfall([], {0: 1}) is None
    assert find_shortfall([Demand("x", 0, frozenset({0}))], {0: 0}) is None
    assert find_shortfall([Demand("x", 5, frozenset())], {0: 0}) is None
    found = find_shortfall([Demand("x", 1, frozenset({3}))], {0: 9})  # node 3 not listed
    assert found is not None and found.available == 0 and found.nodes == frozenset({3})
    found = find_shortfall([Demand("x", 1, frozenset({0}))], {0: -5})  # never negative
    assert found is not None and (found.needed, found.available) == (1, 0)


def test_shortfall_names_the_overflowing_group_only() -> None:
    demands = [
        Demand("fine", 5, frozenset({0})),
        Demand("p", 3, frozenset({1})),
        Demand("q", 3, frozenset({1})),
    ]
    found = find_shortfall(demands, {0: 9, 1: 5})
    assert found is not None
    assert sorted(d.owner for d in found.demands) == ["p", "q"]
    assert found.nodes == frozenset({1}) and (found.needed, found.available) == (6, 5)
