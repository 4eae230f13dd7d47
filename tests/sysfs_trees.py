"""Write fake Linux ``/sys/devices/system`` trees for the sysfs loader's tests.

A tree is described by hand, declaratively: a :class:`Machine` (sockets, dies, cores
per socket, threads per core, optional gapped core ids) numbers its CPUs the way Linux
does on x86 (all first threads, then all second threads: cpu = thread * sockets * cores
+ socket * cores + core), and each :class:`Node` says which CPUs it holds (a cpulist),
its memory, huge page pools and distances. Nothing here is derived from a capabilities
document.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from vnuma.cpusets import format_cpuset, parse_cpuset


@dataclass(frozen=True)
class Cpu:
    id: int
    socket: int
    die: int
    core: int
    siblings: frozenset[int]


@dataclass(frozen=True)
class Machine:
    sockets: int
    cores_per_socket: int
    threads_per_core: int = 1
    dies_per_socket: int = 1
    # The core_id Linux shows for each core index of a socket (gapped on some Xeons).
    core_ids: tuple[int, ...] | None = None

    @property
    def cpu_count(self) -> int:
        return self.sockets * self.cores_per_socket * self.threads_per_core

    def cpus(self) -> list[Cpu]:
        per_thread = self.sockets * self.cores_per_socket
        cores_per_die = self.cores_per_socket // self.dies_per_socket
        out = []
        for thread in range(self.threads_per_core):
            for socket in range(self.sockets):
                for core in range(self.cores_per_socket):
                    first = socket * self.cores_per_socket + core
                    siblings = frozenset(
                        first + t * per_thread for t in range(self.threads_per_core)
                    )
                    out.append(
                        Cpu(
                            id=first + thread * per_thread,
                            socket=socket,
                            die=core // cores_per_die,
                            core=self.core_ids[core] if self.core_ids else core,
                            siblings=siblings,
                        )
                    )
        return sorted(out, key=lambda c: c.id)


@dataclass(frozen=True)
class Pool:
    size_kib: int
    count: int
    free: int | None = None  # defaults to count (nothing in use)


@dataclass(frozen=True)
class Node:
    id: int
    cpulist: str  # "" for a CPU-less node
    memory_kib: int | None = None  # None: no meminfo file
    free_kib: int | None = None  # defaults to half the memory
    pools: tuple[Pool, ...] = ()
    distances: tuple[int, ...] | None = None  # None: no distance file


@dataclass
class Tree:
    machine: Machine
    nodes: list[Node] | None  # None: a kernel without NUMA (no node/ directory)
    offline: frozenset[int] = frozenset()
    write_die_id: bool = True
    write_cluster_id: bool = True
    # Files to overwrite after writing, relative to system/: {"node/node0/cpulist": "x"}.
    garble: dict[str, str] = field(default_factory=dict)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="ascii")


def _ids(cpulist: str) -> frozenset[int]:
    return parse_cpuset(cpulist) if cpulist else frozenset()


def write_tree(root: Path, tree: Tree) -> Path:
    """Write ``tree`` as ``root/system`` (a libvirt-style test tree); return ``root/system``."""
    system = root / "system"
    cpus = tree.machine.cpus()
    all_ids = frozenset(c.id for c in cpus)
    online = all_ids - tree.offline
    cpu_dir = system / "cpu"
    _write(cpu_dir / "present", format_cpuset(all_ids) + "\n")
    _write(cpu_dir / "possible", format_cpuset(all_ids) + "\n")
    _write(cpu_dir / "online", format_cpuset(online) + "\n")
    for cpu in cpus:
        here = cpu_dir / f"cpu{cpu.id}"
        here.mkdir(parents=True, exist_ok=True)
        if cpu.id:
            _write(here / "online", "0\n" if cpu.id in tree.offline else "1\n")
        if cpu.id in tree.offline:
            continue  # Linux removes topology/ while a CPU is offline
        topo = here / "topology"
        _write(topo / "physical_package_id", f"{cpu.socket}\n")
        if tree.write_die_id:
            _write(topo / "die_id", f"{cpu.die}\n")
        if tree.write_cluster_id:
            _write(topo / "cluster_id", "0\n")
        _write(topo / "core_id", f"{cpu.core}\n")
        # Linux lists only the online threads of a core.
        _write(topo / "thread_siblings_list", format_cpuset(cpu.siblings & online) + "\n")
        package = frozenset(c.id for c in cpus if c.socket == cpu.socket)
        _write(topo / "core_siblings_list", format_cpuset(package) + "\n")
    if tree.nodes is not None:
        _write_nodes(system / "node", tree.nodes, online)
    for rel, text in tree.garble.items():
        _write(system / rel, text)
    return system


def _write_nodes(node_dir: Path, nodes: Iterable[Node], online: frozenset[int]) -> None:
    nodes = sorted(nodes, key=lambda n: n.id)
    ids = frozenset(n.id for n in nodes)
    _write(node_dir / "online", format_cpuset(ids) + "\n")
    _write(node_dir / "possible", format_cpuset(ids) + "\n")
    for node in nodes:
        here = node_dir / f"node{node.id}"
        # Linux drops offline CPUs from a node's cpulist.
        cpu_ids = _ids(node.cpulist) & online
        _write(here / "cpulist", format_cpuset(cpu_ids) + "\n")
        if node.distances is not None:
            _write(here / "distance", " ".join(map(str, node.distances)) + "\n")
        if node.memory_kib is not None:
            free = node.free_kib if node.free_kib is not None else node.memory_kib // 2
            _write(
                here / "meminfo",
                f"Node {node.id} MemTotal:       {node.memory_kib} kB\n"
                f"Node {node.id} MemFree:        {free} kB\n"
                f"Node {node.id} MemUsed:        {node.memory_kib - free} kB\n"
                f"Node {node.id} HugePages_Total:     0\n",
            )
        for pool in node.pools:
            pool_dir = here / "hugepages" / f"hugepages-{pool.size_kib}kB"
            _write(pool_dir / "nr_hugepages", f"{pool.count}\n")
            free = pool.free if pool.free is not None else pool.count
            _write(pool_dir / "free_hugepages", f"{free}\n")
            _write(pool_dir / "surplus_hugepages", "0\n")


# ------------------------------------------------------------------ the sample machines
# Written from the host descriptions in samples/hosts/generate.py (its docstring).

HP2M, HP1G = 2048, 1048576


def laptop_1n() -> Tree:
    """laptop-1n.xml: 1 socket, 4 cores x 2 threads, cpu i and i+4 siblings, one node."""
    return Tree(
        Machine(sockets=1, cores_per_socket=4, threads_per_core=2),
        [
            Node(
                0,
                "0-7",
                memory_kib=16303028,
                pools=(Pool(HP2M, 0), Pool(HP1G, 0)),
                distances=(10,),
            )
        ],
    )


def xeon_2s() -> Tree:
    """2s-xeon.xml: 2 sockets x 20 cores x 2 threads with gapped core ids; node = socket."""
    xeon_core_ids = (0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 16, 17, 18, 19, 20, 24, 25, 26, 27, 28)
    pools = (Pool(HP2M, 1024), Pool(HP1G, 64))
    return Tree(
        Machine(sockets=2, cores_per_socket=20, threads_per_core=2, core_ids=xeon_core_ids),
        [
            Node(0, "0-19,40-59", memory_kib=200734516, pools=pools, distances=(10, 21)),
            Node(1, "20-39,60-79", memory_kib=201250624, pools=pools, distances=(21, 10)),
        ],
    )


def epyc_nps4() -> Tree:
    """epyc-nps4.xml: 2 sockets x 32 cores x 2 threads in NPS4: 8 nodes of 8 cores."""
    nodes = []
    for n in range(8):
        first = 8 * n
        distances = tuple(10 if m == n else 12 if m // 4 == n // 4 else 32 for m in range(8))
        pools = (Pool(HP2M, 2048), Pool(HP1G, 16 if n < 4 else 0))
        nodes.append(
            Node(
                n,
                f"{first}-{first + 7},{first + 64}-{first + 71}",
                memory_kib=66541432 if n == 0 else 67108864,
                pools=pools,
                distances=distances,
            )
        )
    return Tree(Machine(sockets=2, cores_per_socket=32, threads_per_core=2), nodes)
