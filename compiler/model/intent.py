"""The guest NUMA intent as typed data, built from a schema-valid document."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from vnuma.codes import make_diagnostic
from vnuma.cpusets import CpusetError, parse_cpuset
from vnuma.diagnostics import Diagnostic, JsonPath, PositionMap
from vnuma.sizes import SizeError, parse_size_kib


class MemMode(enum.StrEnum):
    STRICT = "strict"
    PREFERRED = "preferred"
    INTERLEAVE = "interleave"
    RESTRICTIVE = "restrictive"

    @property
    def binds(self) -> bool:
        """Memory may come only from the nodeset (strict via mbind, restrictive via cgroups)."""
        return self in (MemMode.STRICT, MemMode.RESTRICTIVE)


class Placement(enum.StrEnum):
    STATIC = "static"
    AUTO = "auto"


class Origin(enum.StrEnum):
    """What the model was built from: a vnuma intent, or an existing libvirt domain XML."""

    INTENT = "intent"
    DOMAIN = "domain"


class Pinning(enum.StrEnum):
    NONE = "none"
    NODE = "node"
    DEDICATED = "dedicated"


class ThreadPolicy(enum.StrEnum):
    PREFER = "prefer"
    ISOLATE = "isolate"
    REQUIRE = "require"


@dataclass(frozen=True)
class NumaTune:
    mode: MemMode = MemMode.STRICT
    nodeset: frozenset[int] | None = None
    placement: Placement = Placement.STATIC
    guest_wide: bool = True
    """False for a domain whose <numatune> has only <memnode>s (no <memory> element)."""
    nodeset_auto: bool = False
    """`nodeset: auto`: the placement stage chooses the host nodes."""
    reserve_kib: int = 0
    """Memory placement leaves free on every host node it chooses."""


@dataclass(frozen=True)
class GuestCell:
    index: int
    id: int
    cpus: frozenset[int]
    memory_kib: int
    host_nodes: frozenset[int] | None = None
    mode: MemMode | None = None
    mem_access: str | None = None
    distances: dict[int, int] = field(default_factory=dict)
    host_nodes_auto: bool = False
    """`host_nodes: auto`: the placement stage chooses one host node for the cell."""

    @property
    def path(self) -> JsonPath:
        return ("cells", self.index)


@dataclass(frozen=True)
class Hugepages:
    """One huge page size backing guest memory: every cell, or the guest cells in `cells`."""

    size_kib: int
    cells: frozenset[int] | None = None
    path: JsonPath = ("hugepages", "size")

    @property
    def is_master(self) -> bool:
        return self.cells is None


@dataclass(frozen=True)
class VcpuPin:
    """A `<vcpupin>`: the host CPUs one vCPU may run on."""

    vcpu: int
    cpuset: frozenset[int]
    path: JsonPath

    @property
    def dedicated(self) -> bool:
        """Pinned to exactly one host CPU, the way dedicated-CPU guests are."""
        return len(self.cpuset) == 1


@dataclass(frozen=True)
class MemNodeRef:
    """A domain `<memnode>` as written, including ones that name no existing cell."""

    cellid: int
    path: JsonPath


@dataclass(frozen=True)
class MemoryDevice:
    """A `<devices><memory>` (DIMM, NVDIMM, virtio-mem ...) and the guest node it plugs into."""

    model: str
    size_kib: int | None
    node: int | None
    path: JsonPath


@dataclass(frozen=True)
class PciNodeRef:
    """A PCI controller (expander bus, pSeries PHB) placed on a guest NUMA node."""

    index: int | None
    model: str
    node: int
    path: JsonPath


@dataclass(frozen=True)
class CpuTopology:
    sockets: int
    dies: int
    clusters: int
    cores: int
    threads: int

    @property
    def vcpus(self) -> int:
        return self.sockets * self.dies * self.clusters * self.cores * self.threads

    def describe(self) -> str:
        parts = [f"{self.sockets} sockets", f"{self.dies} dies"]
        if self.clusters != 1:
            parts.append(f"{self.clusters} clusters")
        parts += [f"{self.cores} cores", f"{self.threads} threads"]
        return " x ".join(parts)


@dataclass(frozen=True)
class CpuPolicy:
    """The intent's `cpu:` block: how placement pins vCPUs and shapes the guest topology."""

    pinning: Pinning = Pinning.NONE
    threads: ThreadPolicy = ThreadPolicy.PREFER
    reserved: frozenset[int] = frozenset()
    emulator: str | frozenset[int] | None = None
    """"auto", "node", an explicit host CPU set, or None (auto for dedicated pinning)."""
    topology: CpuTopology | None = None
    topology_auto: bool = False


@dataclass(frozen=True)
class DomainExtras:
    """libvirt details beyond the intent language: read from a domain XML, or resolved by
    the placement stage (pins, emulator pin, topology) for an intent."""

    vcpus_current: int | None = None
    vcpu_cpuset: frozenset[int] | None = None
    pins: tuple[VcpuPin, ...] = ()
    emulator_pin: frozenset[int] | None = None
    memnodes: tuple[MemNodeRef, ...] = ()
    memory_devices: tuple[MemoryDevice, ...] = ()
    pci_nodes: tuple[PciNodeRef, ...] = ()
    max_memory_kib: int | None = None
    max_memory_slots: int | None = None
    topology: CpuTopology | None = None
    numa_without_cells: bool = False
    memory_given: bool = True
    arch: str | None = None
    machine: str | None = None
    uuid: str | None = None
    """<uuid>, lower case: with <name>, what makes two files one guest on a host."""


@dataclass(frozen=True)
class Binding:
    """Where a part of guest memory may live: host nodes and the mode that enforces it."""

    nodes: frozenset[int]
    mode: MemMode
    memory_kib: int
    path: JsonPath
    cell: GuestCell | None = None

    @property
    def label(self) -> str:
        return "the guest" if self.cell is None else f"guest cell {self.cell.id}"


@dataclass(frozen=True)
class Intent:
    path: str
    vcpus: int
    memory_kib: int
    name: str | None = None
    host_ref: Path | None = None
    numatune: NumaTune | None = None
    cells: tuple[GuestCell, ...] = ()
    hugepages: tuple[Hugepages, ...] = ()
    cell_count: int | None = None
    """`cells: N`: the placement stage splits vCPUs and memory into N cells."""
    cpu: CpuPolicy = field(default_factory=CpuPolicy)
    origin: Origin = Origin.INTENT
    domain: DomainExtras = field(default_factory=DomainExtras)
    positions: PositionMap = field(default_factory=PositionMap, compare=False, repr=False)

    @property
    def label(self) -> str:
        """How findings that involve several guests name this one."""
        return self.name or Path(self.path).stem

    @property
    def is_domain(self) -> bool:
        return self.origin is Origin.DOMAIN

    @property
    def needs_placement(self) -> bool:
        """Something is left for the placement stage to decide (it needs a host snapshot)."""
        numatune = self.numatune
        return (
            self.cell_count is not None
            or (numatune is not None and numatune.nodeset_auto)
            or any(cell.host_nodes_auto for cell in self.cells)
            or self.cpu.pinning is not Pinning.NONE
            or self.cpu.topology_auto
            or self.cpu.emulator is not None
        )

    @property
    def unresolved(self) -> bool:
        """Host nodes are still `auto`, or the cells are still a count."""
        numatune = self.numatune
        return (
            self.cell_count is not None
            or (numatune is not None and numatune.nodeset_auto)
            or any(cell.host_nodes_auto for cell in self.cells)
        )

    def page_size_of(self, cell: GuestCell | None) -> Hugepages | None:
        """The huge pages backing a cell (or the guest without cells); None for small pages.

        As libvirt: a `<page>` whose nodeset names the cell, else the one without nodeset.
        """
        if cell is not None:
            for pages in self.hugepages:
                if pages.cells is not None and cell.id in pages.cells:
                    return pages
        return next((pages for pages in self.hugepages if pages.is_master), None)

    @property
    def uses_hugepages(self) -> bool:
        return bool(self.hugepages)

    @property
    def auto_placement(self) -> bool:
        return self.numatune is not None and self.numatune.placement is Placement.AUTO

    @property
    def memory_mode(self) -> MemMode:
        return self.numatune.mode if self.numatune else MemMode.STRICT

    def cell_mode(self, cell: GuestCell) -> MemMode:
        return cell.mode or self.memory_mode

    @property
    def effective_nodeset(self) -> frozenset[int] | None:
        """The <numatune><memory> nodeset: explicit, else the union of the cells' host nodes."""
        if self.auto_placement:
            return None
        if self.numatune is not None and self.numatune.nodeset is not None:
            return self.numatune.nodeset
        if self.is_domain:
            return None
        bound = [cell.host_nodes for cell in self.cells if cell.host_nodes]
        return frozenset().union(*bound) if bound else None

    def bindings(self) -> Iterator[Binding]:
        """Each cell's binding (its memnode, else the guest nodeset); the whole guest without cells."""
        return iter(self._bindings)

    @cached_property
    def _bindings(self) -> tuple[Binding, ...]:
        # built once: a dozen rules walk the bindings of every guest
        return tuple(self._each_binding())

    def _each_binding(self) -> Iterator[Binding]:
        nodeset = self.effective_nodeset
        if not self.cells:
            if nodeset is not None:
                yield Binding(nodeset, self.memory_mode, self.memory_kib, ("numatune", "nodeset"))
            return
        for cell in self.cells:
            if cell.host_nodes is not None:
                yield Binding(
                    cell.host_nodes,
                    self.cell_mode(cell),
                    cell.memory_kib,
                    (*cell.path, "host_nodes"),
                    cell,
                )
            elif nodeset is not None:
                yield Binding(
                    nodeset, self.memory_mode, cell.memory_kib, (*cell.path, "memory"), cell
                )


AUTO = "auto"


def _cell_list(data: dict[str, Any]) -> list[Any]:
    cells = data.get("cells", [])
    return cells if isinstance(cells, list) else []


def build_intent(
    data: dict[str, Any], shown: str, base_dir: Path, positions: PositionMap
) -> tuple[Intent | None, list[Diagnostic]]:
    """Turn a schema-valid document into an Intent; sizes and sets are checked here."""
    builder = _Builder(shown, positions)
    intent = builder.intent(data, base_dir)
    return (None if builder.diagnostics else intent), builder.diagnostics


class _Builder:
    def __init__(self, shown: str, positions: PositionMap) -> None:
        self.shown = shown
        self.positions = positions
        self.diagnostics: list[Diagnostic] = []

    def intent(self, data: dict[str, Any], base_dir: Path) -> Intent:
        host = data.get("host")
        cpu = self.cpu(data.get("cpu", {}))
        return Intent(
            path=self.shown,
            name=data.get("name"),
            host_ref=(base_dir / host) if host else None,
            vcpus=data["vcpus"],
            memory_kib=self.size(data["memory"], ("memory",), positive=True),
            numatune=self.numatune(data["numatune"]) if "numatune" in data else None,
            cells=tuple(self.cell(i, raw) for i, raw in enumerate(_cell_list(data))),
            cell_count=data["cells"] if isinstance(data.get("cells"), int) else None,
            cpu=cpu,
            domain=DomainExtras(topology=cpu.topology),
            hugepages=(
                Hugepages(
                    self.size(data["hugepages"]["size"], ("hugepages", "size"), positive=True)
                ),
            )
            if "hugepages" in data
            else (),
            positions=self.positions,
        )

    def numatune(self, raw: dict[str, Any]) -> NumaTune:
        nodeset = raw.get("nodeset")
        auto = nodeset == AUTO
        return NumaTune(
            mode=MemMode(raw.get("mode", "strict")),
            nodeset=self.idset(nodeset, ("numatune", "nodeset"))
            if nodeset is not None and not auto
            else None,
            placement=Placement(raw.get("placement", "static")),
            nodeset_auto=auto,
            reserve_kib=self.size(raw["reserve"], ("numatune", "reserve"))
            if "reserve" in raw
            else 0,
        )

    def cpu(self, raw: dict[str, Any]) -> CpuPolicy:
        topology = raw.get("topology")
        emulator = raw.get("emulator")
        if emulator is not None and emulator not in (AUTO, "node"):
            emulator = self.idset(emulator, ("cpu", "emulator"))
        return CpuPolicy(
            pinning=Pinning(raw.get("pinning", "none")),
            threads=ThreadPolicy(raw.get("threads", "prefer")),
            reserved=self.idset(raw["reserved"], ("cpu", "reserved"))
            if "reserved" in raw
            else frozenset(),
            emulator=emulator,
            topology=CpuTopology(
                sockets=topology["sockets"],
                dies=topology.get("dies", 1),
                clusters=1,
                cores=topology["cores"],
                threads=topology["threads"],
            )
            if isinstance(topology, dict)
            else None,
            topology_auto=topology == AUTO,
        )

    def cell(self, index: int, raw: dict[str, Any]) -> GuestCell:
        path: JsonPath = ("cells", index)
        cpus = raw.get("cpus")
        host_nodes = raw.get("host_nodes")
        auto = host_nodes == AUTO
        if auto:
            host_nodes = None
        return GuestCell(
            index=index,
            id=raw.get("id", index),
            cpus=self.idset(cpus, (*path, "cpus")) if cpus is not None else frozenset(),
            memory_kib=self.size(raw["memory"], (*path, "memory")),
            host_nodes=self.idset(host_nodes, (*path, "host_nodes"))
            if host_nodes is not None
            else None,
            mode=MemMode(raw["mode"]) if "mode" in raw else None,
            mem_access=raw.get("mem_access"),
            distances={int(k): v for k, v in raw.get("distances", {}).items()},
            host_nodes_auto=auto,
        )

    def size(self, value: Any, path: JsonPath, *, positive: bool = False) -> int:
        try:
            kib = parse_size_kib(value)
        except SizeError as exc:
            self.report("VN005", exc.message, path, exc.hint)
            return 0
        if positive and kib == 0:
            self.report(
                "VN005",
                f"size {value!r} must be greater than zero",
                path,
                'libvirt: "Memory size must be specified via <memory> or in the <numa> configuration"',
            )
        return kib

    def idset(self, value: Any, path: JsonPath) -> frozenset[int]:
        try:
            return parse_cpuset(value)
        except CpusetError as exc:
            self.report("VN006", exc.message, path, exc.hint)
            return frozenset()

    def report(self, code: str, message: str, path: JsonPath, hint: str | None) -> None:
        span = self.positions.locate(path)
        self.diagnostics.append(
            make_diagnostic(code, message, self.shown, span, hint=hint, json_path=path)
        )
