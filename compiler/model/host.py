"""The host's NUMA topology, as read from `virsh capabilities` or from Linux sysfs."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from vnuma.diagnostics import Span

MAX_BASE_PAGE_KIB = 64  # 4 KiB on x86, 4/16/64 KiB on arm64, 64 KiB on ppc64


@dataclass(frozen=True)
class HostCPU:
    id: int
    socket_id: int | None = None
    die_id: int | None = None
    cluster_id: int | None = None
    core_id: int | None = None
    siblings: frozenset[int] = frozenset()

    @property
    def core_key(self) -> tuple[int | None, ...]:
        """Identifies the physical core; falls back to the thread siblings set."""
        if self.core_id is None:
            return (min(self.siblings or {self.id}),)
        return (self.socket_id, self.die_id, self.cluster_id, self.core_id)


@dataclass(frozen=True)
class PagePool:
    size_kib: int
    count: int
    free: int | None = None

    @property
    def total_kib(self) -> int:
        return self.size_kib * self.count


@dataclass(frozen=True)
class HostCell:
    id: int
    memory_kib: int | None
    pages: tuple[PagePool, ...] = ()
    distances: dict[int, int] = field(default_factory=dict)
    cpus: tuple[HostCPU, ...] = ()
    free_memory_kib: int | None = None
    span: Span | None = None

    @cached_property
    def cpu_ids(self) -> frozenset[int]:
        return frozenset(cpu.id for cpu in self.cpus)

    @cached_property
    def cores(self) -> int:
        return len({cpu.core_key for cpu in self.cpus})

    @cached_property
    def sockets(self) -> frozenset[int]:
        return frozenset(cpu.socket_id for cpu in self.cpus if cpu.socket_id is not None)

    def pool(self, size_kib: int) -> PagePool | None:
        return next((pool for pool in self.pages if pool.size_kib == size_kib), None)

    @cached_property
    def base_page_kib(self) -> int:
        """The node's ordinary page size: its smallest pool, unless the snapshot lists only
        huge page pools (a sysfs tree without meminfo); no base page exceeds 64 KiB."""
        smallest = min((pool.size_kib for pool in self.pages), default=4)
        return smallest if smallest <= MAX_BASE_PAGE_KIB else 4

    @cached_property
    def hugepage_reserved_kib(self) -> int:
        """Memory set aside in huge page pools: not available to ordinary (small-page) guests."""
        base = self.base_page_kib
        return sum(pool.total_kib for pool in self.pages if pool.size_kib != base)

    @cached_property
    def small_page_kib(self) -> int | None:
        if self.memory_kib is None:
            return None
        return max(self.memory_kib - self.hugepage_reserved_kib, 0)


@dataclass(frozen=True)
class HostTopology:
    source: str
    arch: str | None
    cells: tuple[HostCell, ...]
    page_sizes_kib: tuple[int, ...] = ()
    sockets: int | None = None
    dies: int | None = None
    clusters: int | None = None
    cores_per_socket: int | None = None
    threads_per_core: int | None = None
    captured_at: str | None = None
    """When `vnuma capture` took the snapshot (ISO 8601 UTC), if it says."""
    captured_from: str | None = None
    """Where it was captured: a libvirt URI or a sysfs directory."""

    @cached_property
    def node_ids(self) -> frozenset[int]:
        return frozenset(cell.id for cell in self.cells)

    @cached_property
    def _by_id(self) -> dict[int, HostCell]:
        return {cell.id: cell for cell in self.cells}

    def cell(self, node_id: int) -> HostCell | None:
        return self._by_id.get(node_id)

    @cached_property
    def cpu_ids(self) -> frozenset[int]:
        return frozenset().union(*(cell.cpu_ids for cell in self.cells))

    @cached_property
    def node_of_cpu(self) -> dict[int, int]:
        """Host CPU id -> the node it is on."""
        return {cpu.id: cell.id for cell in self.cells for cpu in cell.cpus}

    def cells_of(self, node_ids: frozenset[int]) -> list[HostCell]:
        """The host cells among ``node_ids`` (ids the host lacks are skipped)."""
        return [cell for cell in self.cells if cell.id in node_ids]

    @property
    def cpu_count(self) -> int:
        return sum(len(cell.cpus) for cell in self.cells)

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
