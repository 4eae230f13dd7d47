"""The capacity model's layout of guests on a host: what each demand takes from each node
(the max-flow's allocation and the preference-aware layout), and what the views, the
host rules and placement read from it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vnuma.commands.show import load_view
from vnuma.model.flow import Demand, allocate, lay_out

from tests.conftest import HOSTS

XEON = HOSTS / "2s-xeon.xml"
LIVE = HOSTS / "2s-xeon-live.xml"
EPYC = HOSTS / "epyc-nps4.xml"
NODES = (0, 1, 2, 3)


def uniform(a: int, b: int) -> int:
    """A host without a distance matrix: 10 local, 20 remote (libvirt's, the kernel's)."""
    return 10 if a == b else 20


def matrix(rows: dict[tuple[int, int], int]):  # type: ignore[no-untyped-def]
    """The distance of a symmetric matrix given by its upper triangle (10 local)."""
    return lambda a, b: 10 if a == b else rows[(min(a, b), max(a, b))]


@st.composite
def problems(draw: st.DrawFn) -> tuple[list[Demand], dict[int, int]]:
    capacity = {node: draw(st.integers(0, 12)) for node in NODES}
    demands = [
        Demand(
            index,
            draw(st.integers(0, 10)),
            frozenset(draw(st.sets(st.sampled_from(NODES), min_size=1, max_size=4))),
            frozenset(draw(st.sets(st.sampled_from(NODES), max_size=2))),
        )
        for index in range(draw(st.integers(0, 5)))
    ]
    return demands, capacity


@st.composite
def distances(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    """A distance function over NODES: 10 local, 11-40 between nodes (maybe asymmetric)."""
    rows = {(a, b): draw(st.integers(11, 40)) for a in NODES for b in NODES if a != b}
    return lambda a, b: 10 if a == b else rows[(a, b)]


def _check_layout(demands, capacity, allocation, *, anywhere: bool = False) -> None:
    assert allocation.demands == tuple(demands)
    used: dict[int, int] = {}
    for demand, taken in zip(demands, allocation.taken, strict=True):
        allowed = set(capacity) if anywhere else demand.nodes
        assert set(taken) <= allowed, (demand, taken)
        assert all(amount > 0 for amount in taken.values()), taken
        assert sum(taken.values()) <= demand.amount, (demand, taken)
        if allocation.shortfall is None:
            assert sum(taken.values()) == demand.amount, (demand, taken)
        for node, amount in taken.items():
            used[node] = used.get(node, 0) + amount
    assert used == {node: amount for node, amount in allocation.used().items() if amount}
    assert all(used[node] <= capacity[node] for node in used), (used, capacity)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_demand_takes_what_it_needs_from_its_nodes_within_capacity(problem) -> None:
    demands, capacity = problem
    _check_layout(demands, capacity, allocate(demands, capacity))


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_demand_takes_what_it_needs_from_its_nodes_within_capacity_many(problem) -> None:
    test_every_demand_takes_what_it_needs_from_its_nodes_within_capacity.hypothesis.inner_test(
        problem=problem
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), distances(), st.booleans())
def test_the_preferring_layout_keeps_the_same_invariants(problem, distance, anywhere) -> None:
    demands, capacity = problem
    laid = lay_out(demands, capacity, distance, overflow_anywhere=anywhere)
    assert laid.shortfall == allocate(demands, capacity).shortfall
    _check_layout(demands, capacity, laid, anywhere=anywhere)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), distances(), st.booleans())
def test_the_preferring_layout_keeps_the_same_invariants_many(problem, distance, anywhere) -> None:
    test_the_preferring_layout_keeps_the_same_invariants.hypothesis.inner_test(
        problem=problem, distance=distance, anywhere=anywhere
    )


def test_preferred_nodes_are_taken_first() -> None:
    demands = [Demand("a", 4, frozenset({0, 1}), frozenset({1}))]
    assert lay_out(demands, {0: 10, 1: 10}, uniform).taken == ({1: 4},)
    assert lay_out(demands, {0: 10, 1: 3}, uniform).taken == ({1: 3, 0: 1},)
    assert allocate(demands, {0: 10, 1: 10}).taken == ({0: 4},)  # the plain flow: lowest first


def test_two_demands_of_one_node_set_split_the_group_flow() -> None:
    demands = [Demand("a", 100, frozenset({0, 1})), Demand("b", 50, frozenset({0, 1}))]
    allocation = allocate(demands, {0: 125, 1: 125})
    assert [sum(t.values()) for t in allocation.taken] == [100, 50]


def test_overflow_anywhere_takes_the_nearest_nodes_not_the_roomiest() -> None:
    demands = [Demand("a", 6, frozenset({0}))]
    near_1 = matrix({(0, 1): 11, (0, 2): 21, (1, 2): 21})
    laid = lay_out(demands, {0: 2, 1: 1, 2: 5}, near_1, overflow_anywhere=True)
    assert laid.taken == ({0: 2, 1: 1, 2: 3},)
    near_2 = matrix({(0, 1): 21, (0, 2): 11, (1, 2): 21})
    laid = lay_out(demands, {0: 2, 1: 1, 2: 5}, near_2, overflow_anywhere=True)
    assert laid.taken == ({0: 2, 2: 4},)


def test_a_preferred_cells_pages_overflow_to_the_nearest_node_with_pages() -> None:
    """MPOL_PREFERRED: what the preferred node's pool cannot give comes from the nearest
    node by distance that has pages left (node 1 is empty: node 2 is next), not from the
    roomiest (node 3)."""
    demands = [Demand("a", 6, frozenset({0, 1, 2, 3}), frozenset({0}))]
    distance = matrix({(0, 1): 11, (0, 2): 12, (0, 3): 31, (1, 2): 12, (1, 3): 31, (2, 3): 31})
    laid = lay_out(demands, {0: 2, 1: 0, 2: 3, 3: 9}, distance)
    assert laid.taken == ({0: 2, 2: 3, 3: 1},)
    assert laid.shortfall is None


def test_the_nearest_overflow_breaks_ties_by_the_lowest_node_id() -> None:
    """Nodes 1 and 2 are equally near node 0: node 1's pages first, though node 2 has more."""
    demands = [Demand("a", 4, frozenset({0, 1, 2}), frozenset({0}))]
    laid = lay_out(demands, {0: 1, 1: 2, 2: 9}, matrix({(0, 1): 21, (0, 2): 21, (1, 2): 11}))
    assert laid.taken == ({0: 1, 1: 2, 2: 1},)


def test_the_overflow_is_measured_from_the_node_a_cell_prefers() -> None:
    """Asymmetric distances: the row of the preferred node (0 -> n) orders the overflow."""
    rows = {(0, 1): 30, (1, 0): 11, (0, 2): 12, (2, 0): 40, (1, 2): 20, (2, 1): 20}
    demands = [Demand("a", 3, frozenset({0, 1, 2}), frozenset({0}))]
    laid = lay_out(demands, {0: 1, 1: 5, 2: 5}, lambda a, b: 10 if a == b else rows[(a, b)])
    assert laid.taken == ({0: 1, 2: 2},)


def test_every_cell_takes_its_own_pool_before_another_cells_overflow() -> None:
    """Cell a's overflow does not take node 1's pages, which cell b prefers, although node
    1 is the nearest to node 0: b gets its own pool, a the next nearest node's."""
    demands = [
        Demand("a", 3, frozenset({0, 1, 2}), frozenset({0})),
        Demand("b", 2, frozenset({0, 1, 2}), frozenset({1})),
    ]
    laid = lay_out(demands, {0: 1, 1: 2, 2: 5}, matrix({(0, 1): 11, (0, 2): 21, (1, 2): 21}))
    assert laid.taken == ({0: 1, 2: 2}, {1: 2})


def test_a_host_without_distances_overflows_to_the_lowest_remote_node(write) -> None:
    """No <distances> in the snapshot: 10 local, 20 remote, so every other node is as
    near and the lowest id gives first."""
    import re

    from vnuma.libvirt.capabilities import load_host
    from vnuma.model.capacity import distance_of

    with_matrix, _ = load_host(EPYC, EPYC.name)
    assert with_matrix is not None
    distance = distance_of(with_matrix)
    assert (distance(4, 4), distance(4, 5), distance(4, 0), distance(0, 7)) == (10, 12, 32, 32)
    text = re.sub(r"\s*<distances>.*?</distances>", "", EPYC.read_text("utf-8"), flags=re.S)
    assert "<distances>" not in text
    host, problems = load_host(write("flat.xml", text), "flat.xml")
    assert host is not None and problems == []
    distance = distance_of(host)
    assert (distance(4, 4), distance(4, 5), distance(4, 0)) == (10, 20, 20)
    demands = [Demand("a", 3072, frozenset(range(8)), frozenset({4}))]
    laid = lay_out(demands, {node: 2048 for node in range(8)}, distance)
    assert laid.taken == ({4: 2048, 0: 1024},)


def test_the_views_draw_a_preferred_guests_overflow_on_the_nearest_node(write) -> None:
    """EPYC NPS4: node 4 has 2048 x 2 MiB pages; a 6 GiB guest preferring node 4 takes
    them and 1024 more from node 5 (distance 12, the lowest of nodes 5-7), not node 0
    (distance 32) though every pool is as large."""
    intent = write(
        "pref.yaml",
        'version: 1\nvcpus: 2\nmemory: 6GiB\nnumatune: {mode: preferred, nodeset: "4"}\n'
        "hugepages: {size: 2MiB}\n",
    )
    view, _ = load_view(EPYC, [intent])
    used = {n.id: p.used_by_guests for n in view.nodes for p in n.pools if p.size_kib == 2048}
    assert used == {0: 0, 1: 0, 2: 0, 3: 0, 4: 2048, 5: 1024, 6: 0, 7: 0}, used


# --- through the stages -------------------------------------------------------------------

PER_CELL_PAGES = """\
<domain type='kvm'>
  <name>{name}</name>
  <memory unit='GiB'>8</memory>
  <vcpu>2</vcpu>
  <memoryBacking>
    <hugepages>
      <page size='1048576' unit='KiB' nodeset='1'/>
    </hugepages>
  </memoryBacking>
  <numatune>
    <memnode cellid='0' mode='strict' nodeset='0'/>
    <memnode cellid='1' mode='strict' nodeset='1'/>
  </numatune>
  <os><type arch='x86_64'>hvm</type></os>
  <cpu>
    <numa>
      <cell id='0' cpus='0' memory='4' unit='GiB'/>
      <cell id='1' cpus='1' memory='4' unit='GiB'/>
    </numa>
  </cpu>
</domain>
"""


def test_only_the_cells_a_page_size_backs_take_its_pages(write) -> None:
    """Cell 0 uses small pages, cell 1 the 1 GiB pool: cell 1's pages are drawn (and
    counted by admission), whatever comes before it."""
    guest = write("g.xml", PER_CELL_PAGES.format(name="g"))
    view, _ = load_view(XEON, [guest])
    pages = {node.id: {p.size_kib: p.used_by_guests for p in node.pools} for node in view.nodes}
    assert pages[1][1048576] == 4 and pages[0][1048576] == 0, pages
    assert view.node(0).bound_small_kib == 4 * 1024 * 1024


def test_a_huge_page_cell_is_not_held_against_free_small_memory(run_cli, write) -> None:
    """VN209 judges small-page bindings only: a strict 1 GiB-page cell larger than the
    node's free small-page memory, but within its free pages, is not VN209's."""
    host_text = LIVE.read_text(encoding="utf-8").replace(
        '<?vnuma-free-memory unit="KiB" value="41943040"?>',
        '<?vnuma-free-memory unit="KiB" value="10485760"?>',
    )
    host = write("live.xml", host_text)
    intent = write(
        "db.yaml",
        "version: 1\nvcpus: 2\nmemory: 16GiB\nhugepages: {size: 1GiB}\n"
        'cells:\n  - {cpus: "0-1", memory: 16GiB, host_nodes: "0"}\n',
    )
    lint = run_cli("lint", intent, "--host", host)
    assert "VN209" not in lint.out, lint.out
    small = write(
        "small.yaml", intent.read_text(encoding="utf-8").replace("hugepages: {size: 1GiB}\n", "")
    )
    assert "VN209" in run_cli("lint", small, "--host", host).out


def test_threads_isolate_names_the_whole_cores_it_lacks(run_cli, write) -> None:
    intent = write(
        "iso.yaml",
        "version: 1\nvcpus: 24\nmemory: 8GiB\ncells: 1\nnumatune: {mode: strict, nodeset: auto}\n"
        "cpu: {pinning: dedicated, threads: isolate}\n",
    )
    result = run_cli("compile", intent, "--host", XEON)
    assert result.code == 1
    assert "needs 24 whole free cores (threads: isolate), nodes 0-1 have 20" in result.err, (
        result.err
    )


def test_the_emulator_takes_a_whole_free_core_only_under_isolate(run_cli, write) -> None:
    import re

    text = (
        'version: 1\nvcpus: 3\nmemory: 4GiB\ncells:\n  - {{cpus: "0-2", memory: 4GiB, host_nodes: "1"}}\n'
        "cpu: {{pinning: dedicated, threads: {threads}, emulator: auto, "
        'reserved: "{reserved}"}}\n'
    )

    def pins(threads: str, reserved: str) -> tuple[set[int], str]:
        intent = write(f"{threads}.yaml", text.format(threads=threads, reserved=reserved))
        result = run_cli("compile", intent, "--host", XEON)
        assert result.code == 0, result.err
        vcpus = {int(c) for c in re.findall(r'<vcpupin vcpu="\d+" cpuset="(\d+)"/>', result.out)}
        emulator = re.search(r'<emulatorpin cpuset="([^"]+)"/>', result.out)
        assert emulator is not None, result.out
        return vcpus, emulator.group(1)

    sibling = {cpu: cpu + 40 if cpu < 40 else cpu - 40 for cpu in range(80)}
    vcpus, emulator = pins("isolate", "0-1,40-41")
    assert int(emulator) not in vcpus and sibling[int(emulator)] not in vcpus  # a core of its own
    # prefer: node 1 keeps CPUs 20-21 and 60-61; the vCPUs take 20, 60 and 21, and the
    # emulator the one CPU left, 61 (the idle sibling), though no whole core is free
    vcpus, emulator = pins("prefer", "0-1,22-39,40-41,62-79")
    assert vcpus == {20, 21, 60} and emulator == "61", (vcpus, emulator)


def test_preferred_guest_pages_land_in_its_own_pool(tmp_path: Path) -> None:
    intent = tmp_path / "pref.yaml"
    intent.write_text(
        'version: 1\nvcpus: 2\nmemory: 8GiB\nnumatune: {mode: interleave, nodeset: "1"}\n'
        "hugepages: {size: 1GiB}\n",
        encoding="utf-8",
    )
    view, _ = load_view(XEON, [intent])
    assert {n.id: n.pools[-1].used_by_guests for n in view.nodes} == {0: 0, 1: 8}


def test_vn204_points_at_memory_when_the_nodeset_comes_from_the_cells(run_cli, write) -> None:
    intent = write(
        "big.yaml",
        "version: 1\nvcpus: 8\nmemory: 300GiB\nnumatune: {mode: strict}\ncells:\n"
        '  - {cpus: "0-3", memory: 150GiB, host_nodes: "0"}\n'
        '  - {cpus: "4-7", memory: 150GiB, host_nodes: "1"}\n',
    )
    lint = run_cli("lint", intent, "--host", XEON)
    assert "big.yaml:3:9: VN204 the guest needs 300 GiB bound to host node(s) 0-1" in lint.out, (
        lint.out
    )


def test_auto_topology_of_vcpus_outside_the_cells_still_multiplies_out(run_cli, write) -> None:
    """5 vCPUs, two cells of 2: the one vCPU in no cell is VN105's; the topology vnuma
    chooses must still describe 5 vCPUs (1 socket x 5 cores), not add a VN408."""
    intent = write(
        "odd.yaml",
        "version: 1\nvcpus: 5\nmemory: 4GiB\ncpu: {topology: auto}\ncells:\n"
        '  - {cpus: "0-1", memory: 2GiB, host_nodes: "0"}\n'
        '  - {cpus: "2-3", memory: 2GiB, host_nodes: "1"}\n',
    )
    result = run_cli("compile", intent, "--host", XEON)
    assert result.code == 1
    assert [c for c in ("VN105", "VN408") if c in result.err] == ["VN105"], result.err


def test_five_guests_are_all_named_and_none_counted(run_cli, write) -> None:
    """The first MAX_NAMED (5) guests are named; only a sixth would be counted."""
    paths = [
        write(
            f"g{i}.yaml",
            f'version: 1\nname: g{i}\nvcpus: 2\nmemory: 30GiB\nnumatune: {{mode: strict, nodeset: "0"}}\n',
        )
        for i in range(1, 7)
    ]
    five = run_cli("lint", *paths[:5], "--host", XEON).out
    assert "(g1: 30 GiB; g2: 30 GiB; g3: 30 GiB; g4: 30 GiB; g5: 30 GiB)" in five, five
    six = run_cli("lint", *paths, "--host", XEON).out
    assert "g4: 30 GiB; g5: 30 GiB; and 1 other guest)" in six, six


def test_pages_of_a_guest_bound_to_every_node_are_its_bindings(run_cli, write) -> None:
    """A strict binding to all the host's nodes is still a binding: VN503 points at it."""
    paths = [
        write(
            f"p{name}.yaml",
            f"version: 1\nname: {name}\nvcpus: 2\nmemory: 70GiB\n"
            'numatune: {mode: strict, nodeset: "0-1"}\nhugepages: {size: 1GiB}\n',
        )
        for name in "ab"
    ]
    lint = run_cli("lint", *paths, "--host", XEON).out
    assert "pa.yaml:5:35: VN503 1 GiB huge pages on host node(s) 0-1: 140 pages needed" in lint


def test_a_node_with_no_free_memory_left_says_zero(run_cli, write) -> None:
    host = write(
        "live.xml",
        LIVE.read_text(encoding="utf-8").replace(
            '<?vnuma-free-memory unit="KiB" value="41943040"?>',
            '<?vnuma-free-memory unit="KiB" value="0"?>',
        ),
    )
    intent = write(
        "db.yaml",
        'version: 1\nvcpus: 2\nmemory: 8GiB\ncells:\n  - {cpus: "0-1", memory: 8GiB, host_nodes: "0"}\n',
    )
    lint = run_cli("lint", intent, "--host", host).out
    assert "which have 0 KiB free (of 125.44 GiB)" in lint, lint


def test_a_boolean_is_not_a_size_without_a_unit(run_cli, write) -> None:
    intent = write("bool.yaml", "version: 1\nvcpus: 2\nmemory: true\n")
    lint = run_cli("lint", intent).out
    assert "bool.yaml:3:9: VN005 size must be a string like '64GiB', not bool" in lint, lint


def test_guests_on_a_node_with_no_free_memory_need_it_all(run_cli, write) -> None:
    host = write(
        "live.xml",
        LIVE.read_text(encoding="utf-8").replace(
            '<?vnuma-free-memory unit="KiB" value="41943040"?>',
            '<?vnuma-free-memory unit="KiB" value="0"?>',
        ),
    )
    paths = [
        write(
            f"{n}.yaml",
            f'version: 1\nname: {n}\nvcpus: 2\nmemory: 1GiB\nnumatune: {{mode: strict, nodeset: "0"}}\n',
        )
        for n in "ab"
    ]
    lint = run_cli("lint", *paths, "--host", host).out
    assert (
        "VN504 free memory for the guests on host node(s) 0: 2 GiB needed, 0 KiB available" in lint
    ), lint


# --- near-misses the full mutation sweep found untested (docs/mutation.md) -----------------


def test_overflow_reaches_a_node_the_first_layout_left_untouched() -> None:
    # the preferring pass leaves node 1 empty; the overflow must see all of its room
    demands = [Demand("a", 3, frozenset({0}))]
    laid = lay_out(demands, {0: 2, 1: 1}, uniform, overflow_anywhere=True)
    assert laid.taken == ({0: 2, 1: 1},)


def test_a_guest_held_on_a_node_without_that_pool_takes_the_pages_elsewhere(tmp_path) -> None:
    """A running guest bound to a node with no 1 GiB pool has its pages somewhere (the
    kernel fell back): placement counts them against the nodes that have the pool, never
    as phantom pages of the pool-less node."""
    from vnuma.libvirt.capabilities import load_host
    from vnuma.model.capacity import held_on_nodes
    from vnuma.model.guest import INTENT_LANGUAGE, Guest, Hugepages, NumaTune

    text = (HOSTS / "2s-xeon.xml").read_text(encoding="utf-8")
    pool = "<pages unit='KiB' size='1048576'>64</pages>"
    first = text.index(pool)
    text = text[:first] + pool.replace(">64<", ">2<") + text[first + len(pool) :]
    text = text.replace(pool, pool.replace(">64<", ">0<"))
    (tmp_path / "host.xml").write_text(text, encoding="utf-8")
    host, problems = load_host(tmp_path / "host.xml", "host.xml")
    assert host is not None and problems == []
    guest = Guest(
        path="running.xml",
        vcpus=1,
        memory_kib=1024 * 1024,
        language=INTENT_LANGUAGE,
        numatune=NumaTune(nodeset=frozenset({1})),
        effective_nodeset=frozenset({1}),
        hugepages=(Hugepages(1024 * 1024),),
    )
    memory = {0: 10**8, 1: 10**8}
    pages = {0: {1024 * 1024: 2}, 1: {}}
    _, taken = held_on_nodes(host, [guest], memory, pages)
    assert taken == {1024 * 1024: {0: 1}}
