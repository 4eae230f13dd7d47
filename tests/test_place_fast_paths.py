"""The placement engine's shortcuts against the plain definitions they replace.

Each shortcut must give exactly what the plain computation gives, on hosts that make the
shortcut fail as well as on those it is built for: asymmetric and irregular distances,
nodes with fixed cells beside candidates, partially occupied hosts, CPU-less nodes.

- `interchangeable_classes` finds classes through hashed profile keys; the reference
  compares every node with every class's first member, row by row.
- `match_cells` / `fits_together` skip the matching when every cell fits every node.
- `_Placement.compatible` judges each (need size, node signature) pair once.
- `_distance_rows` fills the matrix the way `HostTopology.distance` plus the 10/20
  defaults does.
- `nodes._placeable` asks the capacity model once per distinct memory layout.
- `HostCell.core_groups`, stored by every loader (and rebuilt by the host cache), is the
  cell's CPUs grouped by `HostCPU.core_key`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vnuma.libvirt.capabilities import load_host
from vnuma.load import hostcache
from vnuma.load.intent import load_intent
from vnuma.load.sysfs import load_sysfs
from vnuma.model.capacity import placeable_kib, placeable_pages
from vnuma.model.host import HostCell, HostTopology, distance_twins
from vnuma.model.intent import Intent
from vnuma.place.nodes import (
    CellNeed,
    _placeable,
    fits_together,
    match_cells,
    node_signature,
    perfect_matching,
)
from vnuma.place.solver import Problem, interchangeable_classes
from vnuma.place.stage import (
    DEFAULT_REMOTE_DISTANCE,
    LOCAL_DISTANCE,
    _distance_rows,
    _Placement,
    place,
)
from vnuma.runner import intent_from_raw

from tests.conftest import SAMPLES
from tests.strategies import HostSpec, IntentSpec, hosts, scenarios
from tests.sysfs_trees import epyc_nps4, laptop_1n, xeon_2s

COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SETTINGS = settings(max_examples=30, **COMMON)
"""The default run: a few dozen examples per property."""
MANY = settings(max_examples=150, **COMMON)
"""The `slow` twin of each property (`pytest -m slow tests/test_place_fast_paths.py`)."""


# --- classes of interchangeable nodes ------------------------------------------------------


def reference_classes(
    candidates: list[int], fixed: list[int], rows: dict[int, dict[int, int]], signature: dict
) -> list[list[int]]:
    """The definition: a node joins the first class whose first member has its signature
    and the same distance to every node but the two; no classes for an asymmetric matrix."""
    nodes = sorted(candidates)
    everyone = sorted(set(nodes) | set(fixed))
    if any(rows[a][b] != rows[b][a] for a in everyone for b in everyone):
        return [[node] for node in nodes]
    classes: list[list[int]] = []
    for node in nodes:
        for members in classes:
            rep = members[0]
            others = [x for x in everyone if x not in (node, rep)]
            if signature[rep] == signature[node] and all(
                rows[node][x] == rows[rep][x] for x in others
            ):
                members.append(node)
                break
        else:
            classes.append([node])
    return classes


@st.composite
def matrices(draw: st.DrawFn) -> tuple[list[int], list[int], dict[int, dict[int, int]], dict]:
    count = draw(st.integers(1, 12))
    ids = sorted(draw(st.sets(st.integers(0, 20), min_size=count, max_size=count)))
    kind = draw(st.sampled_from(["sockets", "few values", "asymmetric", "one off"]))
    per_socket = draw(st.integers(1, count))
    socket = {node: i // per_socket for i, node in enumerate(ids)}
    values = draw(st.lists(st.integers(11, 40), min_size=1, max_size=3))
    rows: dict[int, dict[int, int]] = {a: {} for a in ids}
    for i, a in enumerate(ids):
        rows[a][a] = draw(st.sampled_from([10, 10, 10, 11]))
        for b in ids[i + 1 :]:
            if kind in ("sockets", "one off"):
                value = 12 if socket[a] == socket[b] else 32
            else:
                value = draw(st.sampled_from(values))
            rows[a][b] = rows[b][a] = value
            if kind == "asymmetric" and draw(st.booleans()):
                rows[b][a] = draw(st.sampled_from(values))
    if kind == "one off" and len(ids) >= 2:  # a single entry breaks a socket's symmetry
        a, b = draw(st.permutations(ids))[:2]
        rows[a][b] = rows[b][a] = 21
    fixed = draw(st.lists(st.sampled_from(ids), max_size=2, unique=True))
    candidates = [n for n in ids if n not in fixed] or ids[:1]
    fixed = [n for n in fixed if n not in candidates]
    signature = {n: draw(st.sampled_from(["a", "a", "b"])) for n in ids}
    return candidates, fixed, rows, signature


@SETTINGS
@given(matrices())
def test_classes_match_the_definition(case) -> None:
    candidates, fixed, rows, signature = case
    problem = Problem(
        candidates=candidates,
        k=1,
        fixed=fixed,
        distances=rows,
        weight=lambda n: 0,
        signature=signature.__getitem__,
        feasible=lambda chosen: True,
    )
    assert interchangeable_classes(problem) == reference_classes(candidates, fixed, rows, signature)


@pytest.mark.slow
@MANY
@given(matrices())
def test_classes_match_the_definition_many(case) -> None:
    test_classes_match_the_definition.hypothesis.inner_test(case=case)


@SETTINGS
@given(matrices())
def test_the_hosts_own_twins_give_the_classes_of_the_definition(case) -> None:
    """The loaders store `distance_twins`; split by signature they are the classes."""
    candidates, fixed, rows, signature = case
    cells = tuple(HostCell(id=a, memory_kib=None, distances=rows[a]) for a in sorted(rows))
    twins = distance_twins(cells)
    assert twins is not None and sorted(n for members in twins for n in members) == sorted(rows)
    problem = Problem(
        candidates=candidates,
        k=1,
        fixed=fixed,
        distances=rows,
        weight=lambda n: 0,
        signature=signature.__getitem__,
        feasible=lambda chosen: True,
        host_twins=twins,
    )
    assert interchangeable_classes(problem) == reference_classes(candidates, fixed, rows, signature)


@pytest.mark.slow
@MANY
@given(matrices())
def test_the_hosts_own_twins_give_the_classes_of_the_definition_many(case) -> None:
    test_the_hosts_own_twins_give_the_classes_of_the_definition.hypothesis.inner_test(case=case)


def test_twins_are_none_without_a_full_distance_matrix() -> None:
    full = {0: {0: 10, 1: 21}, 1: {0: 21, 1: 10}}
    cells = [HostCell(id=a, memory_kib=None, distances=row) for a, row in full.items()]
    assert distance_twins(cells) == ((0, 1),)
    partial = [cells[0], HostCell(id=1, memory_kib=None, distances={1: 10})]
    assert distance_twins(partial) is None


def test_loaded_hosts_carry_their_twins() -> None:
    for snapshot in sorted((SAMPLES / "hosts").glob("*.xml")):
        host, _ = load_host(snapshot, snapshot.name)
        if host is None or not host.cells:
            continue
        assert host.twins == distance_twins(host.cells), snapshot.name


def test_a_socket_of_one_off_node_is_split() -> None:
    """Nodes 0-3 are one socket, but node 3 is farther from node 4: it is a class alone."""
    ids = range(6)
    rows = {a: {b: 10 if a == b else 12 if a // 4 == b // 4 else 32 for b in ids} for a in ids}
    rows[3][4] = rows[4][3] = 40
    problem = Problem(
        candidates=list(ids),
        k=2,
        fixed=[],
        distances=rows,
        weight=lambda n: 0,
        signature=lambda n: 0,
        feasible=lambda chosen: True,
    )
    assert interchangeable_classes(problem) == [[0, 1, 2], [3], [4], [5]]


# --- matching cells onto nodes -------------------------------------------------------------


def reference_match(needs: list[CellNeed], nodes: list[int], compatible: dict) -> dict[int, int]:
    """Each cell, in order, on the lowest node that leaves a matching for the rest."""
    if not perfect_matching(needs, nodes, compatible):
        return {}
    mapping: dict[int, int] = {}
    left = sorted(nodes)
    for i, need in enumerate(needs):
        for node in left:
            rest = [n for n in left if n != node]
            if node in compatible[need.index] and perfect_matching(
                needs[i + 1 :], rest, compatible
            ):
                mapping[need.index] = node
                left.remove(node)
                break
    return mapping


MATCHING_CASES = st.integers(0, 5).flatmap(
    lambda cells: st.tuples(
        st.lists(st.integers(0, 7), max_size=7, unique=True),
        st.lists(st.sets(st.integers(0, 7)), min_size=cells, max_size=cells),
        st.booleans(),
    )
)
"""Nodes, the nodes each cell fits, and whether every cell fits every node."""


@SETTINGS
@given(MATCHING_CASES)
def test_matching_shortcut_matches_the_greedy_matching(case) -> None:
    nodes, fits, everywhere = case
    needs = [CellNeed(i, i, 1, 1, None) for i in range(len(fits))]
    compatible = {i: frozenset(nodes) if everywhere else frozenset(f) for i, f in enumerate(fits)}
    expected = reference_match(needs, nodes, compatible)
    assert match_cells(needs, nodes, compatible) == expected
    assert fits_together(needs, nodes, compatible) == (len(expected) == len(needs))


@pytest.mark.slow
@MANY
@given(MATCHING_CASES)
def test_matching_shortcut_matches_the_greedy_matching_many(case) -> None:
    test_matching_shortcut_matches_the_greedy_matching.hypothesis.inner_test(case=case)


# --- on real hosts: distances and which nodes each cell fits ---------------------------------


def load_scenario(host: HostSpec, spec: IntentSpec) -> tuple[HostTopology, Intent]:
    with tempfile.TemporaryDirectory(prefix="vnuma-fast-") as name:
        caps = Path(name) / "host.xml"
        caps.write_text(host.caps_xml(), encoding="utf-8")
        source = Path(name) / f"{spec.name}.yaml"
        source.write_text(spec.yaml(), encoding="utf-8")
        topology, problems = load_host(caps, caps.name)
        assert topology is not None, problems
        intent, diagnostics = intent_from_raw(load_intent(source, source.name))
        assert intent is not None, [d.message for d in diagnostics]
    return topology, intent


@SETTINGS
@given(scenarios(max_nodes=7), st.booleans())
def test_compatible_and_distances_match_the_plain_computation(scenario, occupy) -> None:
    host, intent = load_scenario(*scenario)
    occupied = ()
    if occupy:  # the same guest once more: a partially occupied host
        first = place(intent, host)
        occupied = (first.guest,) if first.ok and first.guest is not None else ()
    placement = _Placement(intent, host, occupied, hints=False)
    cells = placement.split() if intent.cell_count is not None else intent.cells
    needs = [placement.need(cell) for cell in cells]
    candidates = sorted(placement.states)
    expected = {
        need.index: [n for n in candidates if placement.misfit(need, n) is None] for need in needs
    }
    assert placement.compatible(needs, candidates) == expected
    for state in placement.states.values():  # computed once per layout, kept when occupied
        assert state.signature == node_signature(
            state.memory_kib,
            state.pages,
            len(state.cpus),
            tuple(map(len, state.cores)),
            state.has_cpus,
        )

    extra = max(candidates) + 5  # a node id the host does not have
    rows = _distance_rows(host, [*candidates, extra])
    for a in [*candidates, extra]:
        for b in [*candidates, extra]:
            known = host.distance(a, b)
            default = LOCAL_DISTANCE if a == b else DEFAULT_REMOTE_DISTANCE
            assert rows[a][b] == (default if known is None else known)
            assert placement.distance(a, b) == rows[a][b]


@pytest.mark.slow
@MANY
@given(scenarios(max_nodes=7), st.booleans())
def test_compatible_and_distances_match_the_plain_computation_many(scenario, occupy) -> None:
    test_compatible_and_distances_match_the_plain_computation.hypothesis.inner_test(
        scenario=scenario, occupy=occupy
    )


# --- each node's cores, grouped once when the host is built ---------------------------------


def reference_cores(cell: HostCell) -> tuple[tuple[int, ...], ...]:
    """The definition: CPUs with one `core_key` are one core; sorted ids, by first CPU."""
    keys = {cpu.core_key for cpu in cell.cpus}
    cores = [tuple(sorted(c.id for c in cell.cpus if c.core_key == key)) for key in keys]
    return tuple(sorted(cores, key=lambda core: core[0]))


def assert_cores_stored(host: HostTopology) -> None:
    for cell in host.cells:
        assert cell.core_groups is not None
        assert cell.core_groups == reference_cores(cell)
        assert cell.cores == len(reference_cores(cell))


@SETTINGS
@given(hosts(max_nodes=6))
def test_loaded_cells_carry_their_core_grouping(spec) -> None:
    with tempfile.TemporaryDirectory(prefix="vnuma-cores-") as name:
        caps = Path(name) / "host.xml"
        caps.write_text(spec.caps_xml(reverse=True), encoding="utf-8")
        host, problems = load_host(caps, caps.name)
    assert host is not None, problems
    assert_cores_stored(host)
    for cell in host.cells:
        assert list(cell.core_groups or ()) == spec.node(cell.id).cores()
    # the cache stores no grouping: decoding rebuilds it, equal to the loader's
    rebuilt = hostcache._decode_host(hostcache._encode_host(host), host.source)
    assert rebuilt == host
    assert_cores_stored(rebuilt)


@pytest.mark.slow
@MANY
@given(hosts(max_nodes=6))
def test_loaded_cells_carry_their_core_grouping_many(spec) -> None:
    test_loaded_cells_carry_their_core_grouping.hypothesis.inner_test(spec=spec)


def test_sysfs_cells_carry_their_core_grouping(machine_tree) -> None:
    for machine in (laptop_1n, xeon_2s, epyc_nps4):
        host, problems = load_sysfs(machine_tree(machine))
        assert host is not None, problems
        assert_cores_stored(host)


def test_a_cell_built_by_hand_derives_its_cores() -> None:
    host, _ = load_host(SAMPLES / "hosts" / "2s-xeon.xml", "2s-xeon.xml")
    assert host is not None
    for cell in host.cells:
        by_hand = cell._replace(core_groups=None, cpus=cell.cpus[::-1])  # CPUs in any order
        assert by_hand.core_cpus == reference_cores(cell) == cell.core_cpus


@SETTINGS
@given(hosts(max_nodes=6), st.sampled_from([0, 1024, 4 * 1024 * 1024]))
def test_placeable_per_layout_is_the_capacity_model_per_cell(spec, reserve_kib) -> None:
    with tempfile.TemporaryDirectory(prefix="vnuma-layout-") as name:
        caps = Path(name) / "host.xml"
        caps.write_text(spec.caps_xml(), encoding="utf-8")
        host, problems = load_host(caps, caps.name)
    assert host is not None, problems
    found = list(_placeable(host, reserve_kib))
    expected = [(placeable_kib(c, reserve_kib), placeable_pages(c)) for c in host.cells]
    assert [(memory, pages) for memory, pages, _ in found] == expected
    for memory, pages, key in found:
        assert key == node_signature(memory, pages, 0, (), False)[:2]
    pools = [pages for _, pages, _ in found]
    assert len({id(pages) for pages in pools}) == len(pools)  # each node's own, to take from


@pytest.mark.slow
@MANY
@given(hosts(max_nodes=6), st.sampled_from([0, 1024, 4 * 1024 * 1024]))
def test_placeable_per_layout_is_the_capacity_model_per_cell_many(spec, reserve_kib) -> None:
    test_placeable_per_layout_is_the_capacity_model_per_cell.hypothesis.inner_test(
        spec=spec, reserve_kib=reserve_kib
    )
