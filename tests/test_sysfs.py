"""The sysfs loader: fake trees of our sample machines, libvirt's own trees, broken trees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from vnuma.libvirt.capabilities import load_host
from vnuma.load.sysfs import SYSFS_ROOT, load_sysfs, resolve_sysfs_root
from vnuma.load.text import UnreadableInput
from vnuma.model.host import HostCPU, HostTopology

from tests.conftest import HOSTS, SHARED_CORPUS
from tests.sysfs_trees import Machine, Node, Pool, Tree, epyc_nps4, laptop_1n, write_tree, xeon_2s

LIBVIRT_SYSFS = SHARED_CORPUS / "sysfs"
LIBVIRT_CAPS = SHARED_CORPUS / "capabilities"


def load_ok(root: Path, display: str | None = None) -> HostTopology:
    host, diagnostics = load_sysfs(root, display)
    assert diagnostics == []
    assert host is not None
    return host


def load_bad(root: Path) -> str:
    """Load a broken tree: no host, exactly one VN008; return its message."""
    host, diagnostics = load_sysfs(root)
    assert host is None
    assert [d.code for d in diagnostics] == ["VN008"], diagnostics
    assert diagnostics[0].hint
    return diagnostics[0].message


def cpu_row(cpu: HostCPU) -> tuple[Any, ...]:
    return (cpu.id, cpu.socket_id, cpu.die_id, cpu.cluster_id, cpu.core_id, sorted(cpu.siblings))


def normalise(
    host: HostTopology, *, memory: bool = True, pools: bool = True, distances: bool = True
) -> dict[int, Any]:
    """What both loaders must agree on, per node; spans, source and free counts left out."""
    return {
        cell.id: {
            "cpus": [cpu_row(cpu) for cpu in cell.cpus],
            **({"distances": dict(sorted(cell.distances.items()))} if distances else {}),
            **({"memory_kib": cell.memory_kib} if memory else {}),
            **({"pools": [(p.size_kib, p.count) for p in cell.pages]} if pools else {}),
        }
        for cell in host.cells
    }


def assert_free_agrees(ours: HostTopology, theirs: HostTopology) -> None:
    """Free memory and free pages are compared where both models have them."""
    for mine, other in zip(ours.cells, theirs.cells, strict=True):
        if mine.free_memory_kib is not None and other.free_memory_kib is not None:
            assert mine.free_memory_kib == other.free_memory_kib, mine.id
        for pool in mine.pages:
            twin = other.pool(pool.size_kib)
            if twin is not None and pool.free is not None and twin.free is not None:
                assert pool.free == twin.free, (mine.id, pool.size_kib)


def host_summary(host: HostTopology) -> tuple[Any, ...]:
    return (
        host.page_sizes_kib,
        host.sockets,
        host.dies,
        host.clusters,
        host.cores_per_socket,
        host.threads_per_core,
    )


# ------------------------------------------------------------------ our sample machines


@pytest.mark.parametrize(
    ("make", "sample"),
    [(laptop_1n, "laptop-1n.xml"), (xeon_2s, "2s-xeon.xml"), (epyc_nps4, "epyc-nps4.xml")],
    ids=["laptop-1n", "2s-xeon", "epyc-nps4"],
)
def test_sample_machine_trees_load_like_their_capabilities(machine_tree, make, sample):
    ours = load_ok(machine_tree(make))
    theirs, diagnostics = load_host(HOSTS / sample)
    assert diagnostics == [] and theirs is not None
    # The samples carry cluster_id='0' and the trees write cluster_id 0, so every id
    # compares; the base page pool is (MemTotal - huge pages) / 4 KiB on both sides.
    assert normalise(ours) == normalise(theirs)
    assert_free_agrees(ours, theirs)
    # The host-wide <cpu><topology> follows libvirt's per-node rule on both sides.
    assert host_summary(ours) == host_summary(theirs)
    assert ours.arch is None  # a tree's architecture is unknown
    assert [c.id for c in ours.cells] == sorted(c.id for c in ours.cells)
    for cell in ours.cells:
        assert [c.id for c in cell.cpus] == sorted(c.id for c in cell.cpus)


def test_free_memory_and_free_pages_come_from_meminfo_and_free_hugepages(tmp_path):
    tree = Tree(
        Machine(sockets=1, cores_per_socket=2),
        [Node(0, "0-1", memory_kib=8 * 1024 * 1024, free_kib=1000, pools=(Pool(2048, 100, 40),))],
    )
    cell = load_ok(write_tree(tmp_path, tree)).cells[0]
    assert cell.memory_kib == 8 * 1024 * 1024
    assert cell.free_memory_kib == 1000
    base, huge = cell.pages
    assert (base.size_kib, base.count, base.free) == (4, (8 * 1024 * 1024 - 204800) // 4, 250)
    assert (huge.size_kib, huge.count, huge.free) == (2048, 100, 40)


# ------------------------------------------------------------------ libvirt's own trees


@pytest.mark.parametrize("variant", ["basic", "caches", "hmat"])
def test_libvirt_test_trees_match_vircaps2xml_output(variant):
    if not LIBVIRT_SYSFS.is_dir():
        pytest.skip(f"libvirt corpus not present at {SHARED_CORPUS}")
    tree = LIBVIRT_SYSFS / f"linux-{variant}"
    ours = load_ok(tree)
    theirs, diagnostics = load_host(LIBVIRT_CAPS / f"vircaps-x86_64-{variant}.xml")
    assert diagnostics == [] and theirs is not None

    # Nodes, CPUs and every topology id (die/cluster are absent from most of these trees:
    # libvirt prints 0 for a missing file and so do we) and the sibling sets.
    only_topology = {"memory": False, "pools": False, "distances": False}
    assert normalise(ours, **only_topology) == normalise(theirs, **only_topology)

    # vircaps2xmltest preloads tests/virnumamock.c, which mocks distances (none),
    # memory ((node + 1) GiB) and page pools (4 KiB, 2 MiB, 1 GiB with made-up counts)
    # whatever the tree says. So those come from the tree's own files here.
    system = tree / "system"
    for cell in ours.cells:
        node_dir = system / "node" / f"node{cell.id}"
        twin = theirs.cell(cell.id)
        assert twin is not None and twin.distances == {}
        distance = node_dir / "distance"
        if distance.exists():
            values = [int(v) for v in distance.read_text().split()]
            assert cell.distances == dict(zip(sorted(ours.node_ids), values, strict=True))
        else:
            assert cell.distances == {}
        meminfo = node_dir / "meminfo"
        if meminfo.exists():
            total = next(
                int(line.split()[3])
                for line in meminfo.read_text().splitlines()
                if "MemTotal" in line
            )
            assert cell.memory_kib == total
            assert cell.pages[0].size_kib == 4
        else:
            assert cell.memory_kib is None
        huge = {p.name for p in (node_dir / "hugepages").glob("hugepages-*")}
        assert {f"hugepages-{p.size_kib}kB" for p in cell.pages if p.size_kib != 4} == huge
        # Every page size we found is one libvirt lists for the node.
        assert {p.size_kib for p in cell.pages} <= {p.size_kib for p in twin.pages}


def test_libvirt_hmat_tree_has_a_cpuless_node_and_distances():
    if not LIBVIRT_SYSFS.is_dir():
        pytest.skip(f"libvirt corpus not present at {SHARED_CORPUS}")
    host = load_ok(LIBVIRT_SYSFS / "linux-hmat")
    assert [len(c.cpus) for c in host.cells] == [24, 0]
    assert host.distance(0, 1) == 20 and host.distance(1, 1) == 10
    # 2 nodes x 24 sockets x 1 core x 1 thread != 24 CPUs: libvirt falls back to 1/24/1.
    assert (host.sockets, host.cores_per_socket, host.threads_per_core) == (1, 24, 1)


# ------------------------------------------------------------------ root resolution


def test_resolve_accepts_system_dir_sys_dir_and_libvirt_tree(tmp_path):
    system = write_tree(tmp_path / "libvirt", laptop_1n())
    assert resolve_sysfs_root(system) == system
    assert resolve_sysfs_root(tmp_path / "libvirt") == system
    sys_copy = tmp_path / "sys"
    (sys_copy / "devices").mkdir(parents=True)
    system.rename(sys_copy / "devices" / "system")
    assert resolve_sysfs_root(sys_copy) == sys_copy / "devices" / "system"
    assert load_ok(sys_copy).cpu_count == 8


def test_missing_or_unrelated_root_is_unreadable_input(tmp_path):
    with pytest.raises(UnreadableInput, match="no such directory"):
        load_sysfs(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UnreadableInput, match="not a sysfs tree"):
        load_sysfs(tmp_path / "empty")
    (tmp_path / "file").write_text("x")
    with pytest.raises(UnreadableInput, match="not a directory"):
        resolve_sysfs_root(tmp_path / "file")


def test_display_name_is_the_source_and_the_diagnostic_path(tmp_path):
    root = write_tree(tmp_path, laptop_1n())
    assert load_ok(root, "host-a").source == "host-a"
    assert load_ok(root).source == str(root)
    (root / "node" / "node0" / "cpulist").write_text("zz\n")
    _, diagnostics = load_sysfs(root, "host-a")
    assert diagnostics[0].path == "host-a"


# ------------------------------------------------------------------ broken trees


@pytest.mark.parametrize(
    ("rel", "text", "expect"),
    [
        ("node/node0/cpulist", "0-3,x\n", "not a CPU/node list"),
        ("node/node0/cpulist", "7-3\n", "reversed"),
        ("node/node1/distance", "21 abc\n", "space-separated integers"),
        ("node/node1/distance", "21\n", "1 values for 2 online nodes"),
        ("node/node0/meminfo", "Node 0 MemTotal: lots kB\n", "MemTotal must be"),
        ("node/node0/meminfo", "Node 0 MemFree: 12 kB\n", "no 'Node 0 MemTotal"),
        ("node/node0/meminfo", "Node 1 MemTotal: 12 kB\n", "not about node 0"),
        ("node/node0/hugepages/hugepages-2048kB/nr_hugepages", "-1\n", "non-negative integer"),
        ("node/node0/hugepages/hugepages-2MB/nr_hugepages", "1\n", "hugepages-2048kB"),
        ("node/online", "0-2\n", "lists node 2"),
        ("node/online", "\n", "empty"),
        ("cpu/online", "0-3,?\n", "not a CPU/node list"),
        ("cpu/cpu3/topology/core_id", "three\n", "expected an integer"),
        ("cpu/cpu3/topology/physical_package_id", "1.5\n", "expected an integer"),
        ("cpu/cpu3/topology/thread_siblings_list", "\n", "empty"),
        ("node/node1/cpulist", "0\n", "CPU 0 is also in node 0"),
    ],
)
def test_garbled_file_is_vn008_naming_it(tmp_path, rel, text, expect):
    root = write_tree(tmp_path, Tree(*_two_nodes()))
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    message = load_bad(root)
    assert rel.removesuffix("/nr_hugepages") in message
    assert expect in message


def _two_nodes() -> tuple[Machine, list[Node]]:
    return (
        Machine(sockets=2, cores_per_socket=2, threads_per_core=2),
        [
            Node(0, "0-1,4-5", memory_kib=1 << 20, pools=(Pool(2048, 8),), distances=(10, 21)),
            Node(1, "2-3,6-7", memory_kib=1 << 20, pools=(Pool(2048, 8),), distances=(21, 10)),
        ],
    )


def test_oversized_and_binary_files_are_vn008(tmp_path):
    root = write_tree(tmp_path, Tree(*_two_nodes()))
    distance = root / "node" / "node0" / "distance"
    distance.write_text("10 " * 40000)
    assert "larger than" in load_bad(root)
    distance.write_bytes(b"10 \xff\n")
    assert "not ASCII" in load_bad(root)


def test_a_directory_where_a_file_belongs_is_vn008(tmp_path):
    root = write_tree(tmp_path, Tree(*_two_nodes()))
    cpulist = root / "node" / "node1" / "cpulist"
    cpulist.unlink()
    cpulist.mkdir()
    assert "node/node1/cpulist: is a directory" in load_bad(root)


def test_every_file_garbled_in_turn_never_raises(tmp_path):
    root = write_tree(tmp_path, laptop_1n())
    files = sorted(p for p in root.rglob("*") if p.is_file())
    assert len(files) > 40
    for path in files:
        original = path.read_bytes()
        for junk in (b"\xfe\xff", b"-", b"99999999999999999999 x\n", b""):
            path.write_bytes(junk)
            host, diagnostics = load_sysfs(root)
            assert (host is None) == bool(diagnostics), path
            assert all(d.code == "VN008" for d in diagnostics)
        path.write_bytes(original)
    load_ok(root)


# ------------------------------------------------------------------ libvirt's lenient rules


def test_missing_die_and_cluster_files_and_negative_ids_are_zero(tmp_path):
    tree = Tree(Machine(sockets=1, cores_per_socket=2), [Node(0, "0-1")])
    tree.write_die_id = tree.write_cluster_id = False
    root = write_tree(tmp_path, tree)
    (root / "cpu" / "cpu1" / "topology" / "physical_package_id").write_text("-1\n")
    (root / "cpu" / "cpu1" / "topology" / "thread_siblings_list").unlink()
    cpus = load_ok(root).cells[0].cpus
    assert [cpu_row(c) for c in cpus] == [(0, 0, 0, 0, 0, [0]), (1, 0, 0, 0, 1, [1])]


def test_nodes_from_directories_when_node_online_is_absent(tmp_path):
    root = write_tree(tmp_path, Tree(*_two_nodes()))
    (root / "node" / "online").unlink()
    host = load_ok(root)
    assert sorted(host.node_ids) == [0, 1]
    assert host.distance(0, 1) == 21


def test_node_without_meminfo_or_distance_keeps_what_is_known(tmp_path):
    machine = Machine(sockets=1, cores_per_socket=2)
    root = write_tree(tmp_path, Tree(machine, [Node(0, "0-1"), Node(1, "")]))
    host = load_ok(root)
    assert [c.memory_kib for c in host.cells] == [None, None]
    assert [c.pages for c in host.cells] == [(), ()]
    assert [len(c.cpus) for c in host.cells] == [2, 0]
    assert host.distance(0, 1) is None


def test_sparse_node_ids_map_distances_in_online_order(tmp_path):
    machine = Machine(sockets=2, cores_per_socket=1)
    nodes = [Node(0, "0", distances=(10, 30)), Node(2, "1", distances=(30, 10))]
    host = load_ok(write_tree(tmp_path, Tree(machine, nodes)))
    assert sorted(host.node_ids) == [0, 2]
    assert host.cell(0).distances == {0: 10, 2: 30}
    assert host.cell(2).distances == {0: 30, 2: 10}


def test_no_node_directory_is_one_node_with_all_online_cpus(tmp_path):
    tree = Tree(Machine(sockets=1, cores_per_socket=4, threads_per_core=2), None)
    tree.offline = frozenset({7})
    host = load_ok(write_tree(tmp_path, tree))
    (cell,) = host.cells
    assert cell.id == 0
    assert sorted(cell.cpu_ids) == list(range(7))  # libvirt's fake node lists online CPUs
    assert cell.memory_kib is None  # /proc/meminfo belongs to this machine, not the tree
    assert cell.distances == {} and cell.pages == ()
    assert cpu_row(cell.cpus[1]) == (1, 0, 0, 0, 1, [1, 5])


def test_no_node_directory_without_cpu_online_uses_cpu_dirs(tmp_path):
    tree = Tree(Machine(sockets=1, cores_per_socket=4), None, offline=frozenset({2}))
    root = write_tree(tmp_path, tree)
    (root / "cpu" / "online").unlink()
    assert sorted(load_ok(root).cells[0].cpu_ids) == [0, 1, 3]


OFFLINE_CAPS = """<capabilities><host><cpu><arch>x86_64</arch></cpu><topology><cells num='1'>
<cell id='0'><cpus num='4'>
<cpu id='0' socket_id='0' die_id='0' cluster_id='0' core_id='0' siblings='0,2'/>
<cpu id='1' socket_id='0' die_id='0' cluster_id='0' core_id='1' siblings='1'/>
<cpu id='2' socket_id='0' die_id='0' cluster_id='0' core_id='0' siblings='0,2'/>
<cpu id='3'/>
</cpus></cell></cells></topology></host></capabilities>
"""


@pytest.mark.parametrize("per_cpu_file", [False, True], ids=["cpu-online", "cpuN-online"])
def test_offline_cpu_in_a_cpulist_has_no_topology(tmp_path, write, per_cpu_file):
    tree = Tree(Machine(sockets=1, cores_per_socket=2, threads_per_core=2), [Node(0, "0-3")])
    tree.offline = frozenset({3})
    tree.garble = {"node/node0/cpulist": "0-3\n"}  # some kernels keep offline CPUs listed
    root = write_tree(tmp_path / "tree", tree)
    if per_cpu_file:
        (root / "cpu" / "online").unlink()
    ours = load_ok(root)
    assert ours.cells[0].cpus[3] == HostCPU(id=3, siblings=frozenset({3}))
    theirs, _ = load_host(write("offline.xml", OFFLINE_CAPS))
    assert normalise(ours, memory=False, pools=False) == normalise(
        theirs, memory=False, pools=False
    )
    # libvirt counts the offline CPU: 1 node x 1 socket x 2 cores x 2 threads == 3 + 1.
    assert (ours.sockets, ours.cores_per_socket, ours.threads_per_core) == (1, 2, 2)


def test_offline_cpus_dropped_from_cpulists_are_not_in_cells(tmp_path):
    tree = laptop_1n()
    tree.offline = frozenset({5, 6})
    host = load_ok(write_tree(tmp_path, tree))
    assert sorted(host.cells[0].cpu_ids) == [0, 1, 2, 3, 4, 7]
    # 1 x 1 x 4 x 2 != 6 online CPUs: libvirt reports sockets=1 cores=6 threads=1.
    assert (host.sockets, host.cores_per_socket, host.threads_per_core) == (1, 6, 1)


# ------------------------------------------------------------------ this machine


def test_this_machines_sysfs_loads():
    if not (SYSFS_ROOT / "cpu").is_dir():
        pytest.skip("no /sys/devices/system/cpu here")
    host = load_ok(SYSFS_ROOT)
    assert len(host.cells) >= 1
    assert host.cpu_count >= 1
    assert host.arch
    assert host.page_sizes_kib and min(host.page_sizes_kib) >= 4
    if (SYSFS_ROOT / "node" / "node0" / "meminfo").exists():
        assert all(c.memory_kib is not None for c in host.cells)
        assert host.cells[0].pages[0].size_kib == min(host.page_sizes_kib)
