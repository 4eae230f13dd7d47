"""The host's NUMA topology, as read from `virsh capabilities` or from Linux sysfs.

The per-CPU, per-pool and per-cell records are Records (slots and an ``__init__`` written
out): a snapshot has thousands of CPUs, and one is built in a fraction of a frozen
dataclass's time (vnuma.load.hostcache rebuilds them on every cache hit), while making the
class compiles nothing (a NamedTuple compiles its ``__new__`` at every start, and needs
`typing` imported). They hold no per-instance cache: the derived values are recomputed,
and the few that callers ask for in loops are cheap for the size of a host. The one exception is a node's grouping of its CPUs
into cores, which placement reads on every call: the loaders store it in
`HostCell.core_groups` (from `group_cores`) when they build the cell, as a field like any
other. The host itself (`HostTopology`, one per snapshot) is a Record that keeps its node
ids and its cells by id."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from operator import itemgetter

from vnuma.diagnostics import Span
from vnuma.records import Record

MAX_BASE_PAGE_KIB = 64  # 4 KiB on x86, 4/16/64 KiB on arm64, 64 KiB on ppc64


class HostCPU(Record):
    __slots__ = ("cluster_id", "core_id", "die_id", "id", "siblings", "socket_id")

    def __init__(
        self,
        id: int,
        socket_id: int | None = None,
        die_id: int | None = None,
        cluster_id: int | None = None,
        core_id: int | None = None,
        siblings: frozenset[int] = frozenset(),
    ) -> None:
        self.id = id
        self.socket_id = socket_id
        self.die_id = die_id
        self.cluster_id = cluster_id
        self.core_id = core_id
        self.siblings = siblings

    @property
    def core_key(self) -> tuple[int | None, ...]:
        """Identifies the physical core; falls back to the thread siblings set."""
        if self.core_id is None:
            return (min(self.siblings or {self.id}),)
        return (self.socket_id, self.die_id, self.cluster_id, self.core_id)


def group_cores(cpus: Iterable[HostCPU]) -> tuple[tuple[int, ...], ...]:
    """Each physical core's CPU ids (sorted), the cores ordered by their first CPU."""
    cores: dict[tuple[int | None, ...], list[int]] = {}
    for cpu in cpus:
        threads = cores.get(key := cpu.core_key)
        if threads is None:
            cores[key] = [cpu.id]
        else:
            threads.append(cpu.id)
    # cores share no CPU, so ordering the sorted cores as tuples orders them by first CPU
    return tuple(sorted(tuple(sorted(threads)) for threads in cores.values()))


class PagePool(Record):
    __slots__ = ("count", "free", "size_kib")

    def __init__(self, size_kib: int, count: int, free: int | None = None) -> None:
        self.size_kib = size_kib
        self.count = count
        self.free = free

    @property
    def total_kib(self) -> int:
        return self.size_kib * self.count


class HostCell(Record):
    __slots__ = (
        "core_groups",
        "cpus",
        "distances",
        "free_memory_kib",
        "id",
        "memory_kib",
        "pages",
        "span",
    )

    def __init__(
        self,
        id: int,
        memory_kib: int | None,
        distances: dict[int, int],
        pages: tuple[PagePool, ...] = (),
        cpus: tuple[HostCPU, ...] = (),
        free_memory_kib: int | None = None,
        span: Span | None = None,
        core_groups: tuple[tuple[int, ...], ...] | None = None,
    ) -> None:
        self.id = id
        self.memory_kib = memory_kib
        self.distances = distances
        """Node id -> distance (always given: no shared default dict)."""
        self.pages = pages
        self.cpus = cpus
        self.free_memory_kib = free_memory_kib
        self.span = span
        self.core_groups = core_groups
        """`group_cores(cpus)`, stored by the loaders; None (a cell built by hand): derived
        on each ask of `core_cpus`. Not a fact of the snapshot, so the host cache omits it."""

    @property
    def core_cpus(self) -> tuple[tuple[int, ...], ...]:
        """Each physical core's CPU ids (sorted), the cores ordered by their first CPU."""
        return self.core_groups if self.core_groups is not None else group_cores(self.cpus)

    @property
    def cpu_ids(self) -> frozenset[int]:
        return frozenset(cpu.id for cpu in self.cpus)

    @property
    def cores(self) -> int:
        return len(self.core_cpus)

    @property
    def sockets(self) -> frozenset[int]:
        return frozenset(cpu.socket_id for cpu in self.cpus if cpu.socket_id is not None)

    def pool(self, size_kib: int) -> PagePool | None:
        return next((pool for pool in self.pages if pool.size_kib == size_kib), None)

    @property
    def base_page_kib(self) -> int:
        """The node's ordinary page size: its smallest pool, unless the snapshot lists only
        huge page pools (a sysfs tree without meminfo); no base page exceeds 64 KiB."""
        smallest = min([pool.size_kib for pool in self.pages]) if self.pages else 4
        return smallest if smallest <= MAX_BASE_PAGE_KIB else 4

    @property
    def hugepage_reserved_kib(self) -> int:
        """Memory set aside in huge page pools: not available to ordinary (small-page) guests."""
        # plain loops: the capacity checks ask every bound node of every guest of a fleet
        if not self.pages:
            return 0
        base = self.base_page_kib
        reserved = 0
        for pool in self.pages:
            if pool.size_kib != base:
                reserved += pool.size_kib * pool.count
        return reserved

    @property
    def small_page_kib(self) -> int | None:
        if self.memory_kib is None:
            return None
        return max(self.memory_kib - self.hugepage_reserved_kib, 0)


class HostTopology(Record):
    """The whole host. One per snapshot, so unlike the per-CPU records it is a class that
    keeps what placement and the checks look up on every guest: its node ids, each node's
    cell by id and each node's CPU ids in order."""

    __slots__ = (
        "_cell_of",
        "_core_shape_of",
        "_cpu_count",
        "_cpus_of",
        "_memory_layouts",
        "_node_ids",
        "_small_page_kib",
        "arch",
        "captured_at",
        "captured_from",
        "cells",
        "clusters",
        "cores_per_socket",
        "dies",
        "page_sizes_kib",
        "sockets",
        "source",
        "threads_per_core",
        "twins",
    )

    def __init__(
        self,
        source: str,
        arch: str | None,
        cells: tuple[HostCell, ...],
        page_sizes_kib: tuple[int, ...] = (),
        sockets: int | None = None,
        dies: int | None = None,
        clusters: int | None = None,
        cores_per_socket: int | None = None,
        threads_per_core: int | None = None,
        captured_at: str | None = None,
        captured_from: str | None = None,
        twins: tuple[tuple[int, ...], ...] | None = None,
    ) -> None:
        self.source = source
        self.arch = arch
        self.cells = cells
        self.page_sizes_kib = page_sizes_kib
        self.sockets = sockets
        self.dies = dies
        self.clusters = clusters
        self.cores_per_socket = cores_per_socket
        self.threads_per_core = threads_per_core
        self.captured_at = captured_at
        """When `vnuma capture` took the snapshot (ISO 8601 UTC), if it says."""
        self.captured_from = captured_from
        """Where it was captured: a libvirt URI or a sysfs directory."""
        self.twins = twins
        """`distance_twins(cells)`, stored by the loaders: the nodes at the same distance
        from every other node, over the whole host. None (a host built by hand, or
        distances that are not a full symmetric matrix): placement derives what it needs
        on use."""
        self._cell_of = {cell.id: cell for cell in reversed(cells)}  # the first of an id wins
        self._node_ids = frozenset(self._cell_of)
        self._small_page_kib = {node: cell.small_page_kib for node, cell in self._cell_of.items()}
        self._cpus_of = {
            node: tuple(sorted([cpu.id for cpu in cell.cpus]))
            for node, cell in self._cell_of.items()
        }
        self._core_shape_of = {
            node: tuple(map(len, cell.core_cpus)) for node, cell in self._cell_of.items()
        }
        self._cpu_count = sum([len(cell.cpus) for cell in cells])
        layouts: dict[tuple[object, ...], int] = {}
        self._memory_layouts = tuple(
            [layouts.setdefault(_memory_layout(cell), len(layouts)) for cell in cells]
        )

    @property
    def node_ids(self) -> frozenset[int]:
        return self._node_ids

    def cell(self, node_id: int) -> HostCell | None:
        return self._cell_of.get(node_id)

    def small_page_kib(self, node_id: int) -> int | None:
        """`HostCell.small_page_kib` of the node (None: no such node, or its memory is
        unknown), worked out once per host: every capacity check of every guest asks."""
        return self._small_page_kib.get(node_id)

    def cpus_of(self, node_id: int) -> tuple[int, ...]:
        """The node's CPU ids, ascending (placement reads every node's on every call)."""
        return self._cpus_of.get(node_id, ())

    def core_shape(self, node_id: int) -> tuple[int, ...]:
        """How many threads each of the node's cores has, in `HostCell.core_cpus` order:
        what tells two nodes' CPUs apart for placement, worked out once per host."""
        return self._core_shape_of.get(node_id, ())

    @property
    def cpu_ids(self) -> frozenset[int]:
        return frozenset(cpu.id for cell in self.cells for cpu in cell.cpus)

    @property
    def node_of_cpu(self) -> dict[int, int]:
        """Host CPU id -> the node it is on."""
        return {cpu.id: cell.id for cell in self.cells for cpu in cell.cpus}

    def cells_of(self, node_ids: frozenset[int]) -> list[HostCell]:
        """The host cells among ``node_ids`` (ids the host lacks are skipped)."""
        return [cell for cell in self.cells if cell.id in node_ids]

    @property
    def cpu_count(self) -> int:
        return self._cpu_count

    @property
    def memory_layouts(self) -> tuple[int, ...]:
        """A small number per cell, in `cells` order: equal for cells of equal memory, free
        memory and huge page pools (what placement may give from them is then equal)."""
        return self._memory_layouts

    @property
    def memory_kib(self) -> int:
        return sum(cell.memory_kib or 0 for cell in self.cells)

    def supports_page_size(self, size_kib: int) -> bool:
        if size_kib in self.page_sizes_kib:
            return True
        return any(cell.pool(size_kib) is not None for cell in self.cells)

    def distance(self, a: int, b: int) -> int | None:
        cell = self.cell(a)
        if cell is None:
            return None
        if a == b and not cell.distances:
            return 10
        return cell.distances.get(b)


def _memory_layout(cell: HostCell) -> tuple[object, ...]:
    pools = tuple([(pool.size_kib, pool.count, pool.free) for pool in cell.pages])
    return (cell.memory_kib, cell.free_memory_kib, pools)


Rows = Mapping[int, Mapping[int, int]]
"""rows[a][b]: the distance from node a to node b."""


def twin_classes(
    nodes: Sequence[int], everyone: Sequence[int], rows: Rows, signature: Callable[[int], Hashable]
) -> list[list[int]]:
    """``nodes`` (sorted) grouped into classes of nodes that can replace each other: the
    same signature and the same distance to every other node of ``everyone``. Classes are
    ordered by their first member, members ascending. With asymmetric distances every node
    is its own class."""
    columns = itemgetter(*everyone)
    row_of = {a: _as_tuple(columns(rows[a])) for a in everyone}
    ordered = [row_of[a] for a in everyone]
    if list(zip(*ordered, strict=True)) != ordered:  # asymmetric: every node on its own
        return [[node] for node in nodes]
    position = {node: i for i, node in enumerate(everyone)}
    opened: dict[Hashable, list[list[int]]] = {}  # profile key -> classes whose first has it
    classes: list[list[int]] = []
    for node in nodes:
        keys = _profile_keys(signature(node), row_of[node], position[node])
        matches = [members for key in keys for members in opened.get(key, ())]
        if matches:
            min(matches, key=lambda members: members[0]).append(node)
            continue
        classes.append([node])
        for key in keys:
            opened.setdefault(key, []).append(classes[-1])
    return classes


def distance_twins(cells: Sequence[HostCell]) -> tuple[tuple[int, ...], ...] | None:
    """`twin_classes` of every node of the host, all of one signature; None unless the
    cells give a full distance matrix (then placement works out what it needs itself)."""
    everyone = sorted(cell.id for cell in cells)
    rows = {cell.id: cell.distances for cell in cells}
    if not everyone or any(row.keys() != set(everyone) for row in rows.values()):
        return None
    return tuple(tuple(members) for members in twin_classes(everyone, everyone, rows, _alike))


def _alike(node: int) -> None:
    """Every node's signature, when only distances tell nodes apart."""


def _as_tuple(found: int | tuple[int, ...]) -> tuple[int, ...]:
    """`itemgetter` of one column gives the value itself."""
    return found if isinstance(found, tuple) else (found,)


def _profile_keys(signature: Hashable, row: tuple[int, ...], own: int) -> list[Hashable]:
    """Keys such that two nodes a, b (symmetric matrix) share one exactly when they have
    the same signature and the same distance to every node other than themselves: the
    row with its own entry replaced by v, for each distance v to another node. If a and
    b match, the key with v = d(a, b) is the same for both; if a key is shared, position
    b of a's key is d(a, b) and of b's key is v, so v = d(a, b) and the rows agree
    everywhere else."""
    before, after = row[:own], row[own + 1 :]
    values = set(before)
    values.update(after)
    return [(signature, value, (*before, value, *after)) for value in sorted(values)]
