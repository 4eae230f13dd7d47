"""The resolved guest: what libvirt is given, with nothing left for vnuma to decide.

A guest comes from one of two written forms: an intent (`vnuma.model.intent`), resolved
by `vnuma.model.resolve` or placed by `vnuma.place`, or a domain XML, read by
`vnuma.libvirt.domain` (a domain is resolved as written: libvirt decides nothing vnuma
would). The check stage, admission, the capacity model, emit and the views all see a
`Guest`; none of them asks which form it came from. What differs between the forms is
resolved where each is read (the `<numatune><memory>` nodeset, for instance), or is a
property of its `Language` (how the file spells things).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from pathlib import Path

from vnuma.diagnostics import JsonPath, PositionMap, Severity
from vnuma.records import Record


class Language(Record):
    """How the file a guest was read from spells it, and what it makes of a definition
    libvirt would rewrite. Rules use it for wording and severity, never to change what
    they check."""

    __slots__ = ("keyed", "memory_setting", "name", "rewrite_severity")

    def __init__(
        self, name: str, keyed: bool, rewrite_severity: Severity | None, memory_setting: str
    ) -> None:
        self.name = name
        """"intent" or "domain"."""
        self.keyed = keyed
        """YAML or TOML: every value has a JSON path (reported, for SARIF and --format json)
        and a key, and a block value is pointed at by its key. XML values are located
        exactly, by element and attribute."""
        self.rewrite_severity = rewrite_severity
        """A definition libvirt accepts but silently rewrites (VN105, VN106, VN116): None (the
        rule's own severity) for an intent, since vnuma will not emit what libvirt would
        change; a warning for a domain XML, which libvirt defines as rewritten."""
        self.memory_setting = memory_setting
        """How the file sets the guest's memory: ``{size}`` human-readable, ``{kib}`` exact."""

    def set_memory(self, kib: int, size: str) -> str:
        return self.memory_setting.format(kib=kib, size=size)


INTENT_LANGUAGE = Language("intent", True, None, "memory: {size}")
DOMAIN_LANGUAGE = Language("domain", False, Severity.WARNING, "<memory unit='KiB'>{kib}</memory>")


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


class Pinning(enum.StrEnum):
    NONE = "none"
    NODE = "node"
    DEDICATED = "dedicated"


class ThreadPolicy(enum.StrEnum):
    PREFER = "prefer"
    ISOLATE = "isolate"
    REQUIRE = "require"


class NumaTune(Record):
    """The guest's memory policy (`<numatune><memory>`), as the file gives it."""

    __slots__ = ("guest_wide", "mode", "nodeset", "placement")

    def __init__(
        self,
        mode: MemMode = MemMode.STRICT,
        nodeset: frozenset[int] | None = None,
        placement: Placement = Placement.STATIC,
        guest_wide: bool = True,
    ) -> None:
        self.mode = mode
        self.nodeset = nodeset
        self.placement = placement
        self.guest_wide = guest_wide
        """False for a domain whose <numatune> has only <memnode>s (no <memory> element)."""


class GuestCell(Record):
    __slots__ = (
        "cpus",
        "distances",
        "host_nodes",
        "id",
        "index",
        "mem_access",
        "memory_kib",
        "mode",
    )

    def __init__(
        self,
        index: int,
        id: int,
        cpus: frozenset[int],
        memory_kib: int,
        host_nodes: frozenset[int] | None = None,
        mode: MemMode | None = None,
        mem_access: str | None = None,
        distances: dict[int, int] | None = None,
    ) -> None:
        self.index = index
        self.id = id
        self.cpus = cpus
        self.memory_kib = memory_kib
        self.host_nodes = host_nodes
        self.mode = mode
        self.mem_access = mem_access
        self.distances: dict[int, int] = {} if distances is None else distances

    @property
    def path(self) -> JsonPath:
        return ("cells", self.index)


class Hugepages(Record):
    """One huge page size backing guest memory: every cell, or the guest cells in `cells`."""

    __slots__ = ("cells", "path", "size_kib")

    def __init__(
        self,
        size_kib: int,
        cells: frozenset[int] | None = None,
        path: JsonPath = ("hugepages", "size"),
    ) -> None:
        self.size_kib = size_kib
        self.cells = cells
        self.path = path

    @property
    def is_master(self) -> bool:
        return self.cells is None


class VcpuPin(Record):
    """A `<vcpupin>`: the host CPUs one vCPU may run on."""

    __slots__ = ("cpuset", "path", "vcpu")

    def __init__(self, vcpu: int, cpuset: frozenset[int], path: JsonPath) -> None:
        self.vcpu = vcpu
        self.cpuset = cpuset
        self.path = path

    @property
    def dedicated(self) -> bool:
        """Pinned to exactly one host CPU, the way dedicated-CPU guests are."""
        return len(self.cpuset) == 1


class MemNodeRef(Record):
    """A domain `<memnode>` as written, including ones that name no existing cell."""

    __slots__ = ("cellid", "path")

    def __init__(self, cellid: int, path: JsonPath) -> None:
        self.cellid = cellid
        self.path = path


MEMORY_SLOT_MODELS = ("dimm", "nvdimm")
"""Memory device models that occupy a memory slot."""


class MemoryDevice(Record):
    """A `<devices><memory>` (DIMM, NVDIMM, virtio-mem ...) and the guest node it plugs into."""

    __slots__ = ("model", "node", "nodemask", "path", "size_kib", "slot")

    def __init__(
        self,
        model: str,
        size_kib: int | None,
        node: int | None,
        path: JsonPath,
        nodemask: frozenset[int] | None = None,
        slot: int | None = None,
    ) -> None:
        self.model = model
        self.size_kib = size_kib
        self.node = node
        self.path = path
        self.nodemask = nodemask
        """`<source><nodemask>`: the host nodes its memory backend is bound to."""
        self.slot = slot
        """`<address type='dimm' slot='N'>`: the memory slot it is given (0-based)."""

    @property
    def needs_slot(self) -> bool:
        """DIMM-like devices take one of `<maxMemory slots>`; virtio-mem, virtio-pmem and
        sgx-epc do not (libvirt's qemuDomainDefValidateMemoryHotplug)."""
        return self.model in MEMORY_SLOT_MODELS


class PciNodeRef(Record):
    """A PCI controller (expander bus, pSeries PHB) placed on a guest NUMA node."""

    __slots__ = ("index", "model", "node", "path")

    def __init__(self, index: int | None, model: str, node: int, path: JsonPath) -> None:
        self.index = index
        self.model = model
        self.node = node
        self.path = path


class CpuTopology(Record):
    __slots__ = ("clusters", "cores", "dies", "sockets", "threads")

    def __init__(self, sockets: int, dies: int, clusters: int, cores: int, threads: int) -> None:
        self.sockets = sockets
        self.dies = dies
        self.clusters = clusters
        self.cores = cores
        self.threads = threads

    @property
    def vcpus(self) -> int:
        return self.sockets * self.dies * self.clusters * self.cores * self.threads

    def describe(self) -> str:
        parts = [f"{self.sockets} sockets", f"{self.dies} dies"]
        if self.clusters != 1:
            parts.append(f"{self.clusters} clusters")
        parts += [f"{self.cores} cores", f"{self.threads} threads"]
        return " x ".join(parts)


class DomainExtras(Record):
    """libvirt details beyond the intent language: read from a domain XML, or resolved by
    the placement stage (pins, emulator pin, topology) for an intent."""

    __slots__ = (
        "arch",
        "emulator_pin",
        "machine",
        "max_memory_kib",
        "max_memory_slots",
        "memnodes",
        "memory_allocation",
        "memory_devices",
        "memory_given",
        "numa_without_cells",
        "pci_nodes",
        "pins",
        "topology",
        "unreadable",
        "uuid",
        "vcpu_cpuset",
        "vcpus_current",
    )

    def __init__(
        self,
        vcpus_current: int | None = None,
        vcpu_cpuset: frozenset[int] | None = None,
        pins: tuple[VcpuPin, ...] = (),
        emulator_pin: frozenset[int] | None = None,
        memnodes: tuple[MemNodeRef, ...] = (),
        memory_devices: tuple[MemoryDevice, ...] = (),
        pci_nodes: tuple[PciNodeRef, ...] = (),
        max_memory_kib: int | None = None,
        max_memory_slots: int | None = None,
        topology: CpuTopology | None = None,
        numa_without_cells: bool = False,
        memory_given: bool = True,
        arch: str | None = None,
        machine: str | None = None,
        uuid: str | None = None,
        memory_allocation: str | None = None,
        unreadable: frozenset[str] = frozenset(),
    ) -> None:
        self.vcpus_current = vcpus_current
        self.vcpu_cpuset = vcpu_cpuset
        self.pins = pins
        self.emulator_pin = emulator_pin
        self.memnodes = memnodes
        self.memory_devices = memory_devices
        self.pci_nodes = pci_nodes
        self.max_memory_kib = max_memory_kib
        self.max_memory_slots = max_memory_slots
        self.topology = topology
        self.numa_without_cells = numa_without_cells
        self.memory_given = memory_given
        self.arch = arch
        self.machine = machine
        self.uuid = uuid
        """<uuid>, lower case: with <name>, what makes two files one guest on a host."""
        self.memory_allocation = memory_allocation
        """`<memoryBacking><allocation mode>`: "immediate" (QEMU preallocates guest RAM at
        start) or "ondemand"; None when not written (QEMU allocates lazily)."""
        self.unreadable = unreadable
        """Inputs a domain XML gives in a form libvirt refuses (VN005, VN006, VN016): the
        parts of the guest (`Check.reads` names) that hold stand-in values. Only checks that
        read none of them run."""


class Binding(Record):
    """Where a part of guest memory may live: host nodes and the mode that enforces it."""

    __slots__ = ("cell", "memory_kib", "mode", "nodes", "path")

    def __init__(
        self,
        nodes: frozenset[int],
        mode: MemMode,
        memory_kib: int,
        path: JsonPath,
        cell: GuestCell | None = None,
    ) -> None:
        self.nodes = nodes
        self.mode = mode
        self.memory_kib = memory_kib
        self.path = path
        self.cell = cell

    @property
    def label(self) -> str:
        return "the guest" if self.cell is None else f"guest cell {self.cell.id}"


class Guest(Record):
    """One guest as libvirt gets it: cells, memory bindings, pages, pins, topology.

    It keeps its bindings once computed (``_bindings``) and compares by content, without
    its source positions."""

    __slots__ = (
        "_bindings",
        "cells",
        "domain",
        "effective_nodeset",
        "held_cpus",
        "hugepages",
        "language",
        "memory_kib",
        "name",
        "numatune",
        "path",
        "pinning",
        "positions",
        "reserved_cpus",
        "vcpus",
    )
    _uncompared = ("positions",)

    def __init__(
        self,
        path: str,
        vcpus: int,
        memory_kib: int,
        language: Language,
        name: str | None = None,
        numatune: NumaTune | None = None,
        effective_nodeset: frozenset[int] | None = None,
        cells: tuple[GuestCell, ...] = (),
        hugepages: tuple[Hugepages, ...] = (),
        pinning: Pinning = Pinning.NONE,
        reserved_cpus: frozenset[int] = frozenset(),
        held_cpus: frozenset[int] = frozenset(),
        domain: DomainExtras = DomainExtras(),  # noqa: B008  # an immutable value
        positions: PositionMap | None = None,
    ) -> None:
        self.path = path
        self.vcpus = vcpus
        self.memory_kib = memory_kib
        self.language = language
        self.name = name
        self.numatune = numatune
        self.effective_nodeset = effective_nodeset
        """The host nodes of `<numatune><memory>` (None with placement auto, or none
        given): a domain's as written; an intent's nodeset, else the union of its cells'
        host nodes, which is what vnuma writes."""
        self.cells = cells
        self.hugepages = hugepages
        self.pinning = pinning
        """How the intent asked vCPUs to be pinned (NONE for a domain: its pins say it all)."""
        self.reserved_cpus = reserved_cpus
        """Host CPUs the intent keeps free of guests (`cpu.reserved`)."""
        self.held_cpus = held_cpus
        """Host CPUs the guest keeps to itself beyond its pins: the idle siblings of the
        cores placement gave whole (`cpu.threads: isolate`). Set by the placement stage; a
        domain XML cannot say isolate, so a domain's held CPUs are its dedicated pins only
        (empty here)."""
        self.domain = domain
        self.positions = PositionMap() if positions is None else positions
        self._bindings: tuple[Binding, ...] | None = None

    def __repr__(self) -> str:
        return f"Guest(path={self.path!r}, name={self.name!r}, cells={len(self.cells)})"

    needs_placement = False
    """A guest has nothing left to place (the runner asks every written form)."""

    @property
    def label(self) -> str:
        """How findings that involve several guests name this one."""
        return self.name or Path(self.path).stem

    @property
    def uuid(self) -> str | None:
        return self.domain.uuid

    @property
    def dedicated_cpus(self) -> frozenset[int]:
        """Host CPUs of the guest's dedicated (single-CPU) vCPU pins."""
        return frozenset(cpu for pin in self.domain.pins if pin.dedicated for cpu in pin.cpuset)

    @property
    def kept_cpus(self) -> frozenset[int]:
        """Host CPUs no other guest's vCPU or emulator may use: the dedicated pins and
        the held CPUs (idle siblings of isolated cores)."""
        return self.dedicated_cpus | self.held_cpus

    def page_size_of(self, cell: GuestCell | None) -> Hugepages | None:
        """The huge pages backing a cell (or the guest without cells); None for small pages.

        As libvirt: a `<page>` whose nodeset names the cell, else the one without nodeset.
        """
        return page_size_of(self.hugepages, cell)

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

    def bindings(self) -> Iterator[Binding]:
        """Each cell's binding (its memnode, else the guest nodeset); the whole guest without cells."""
        if self._bindings is None:  # built once: a dozen rules walk the bindings of every guest
            self._bindings = tuple(self._each_binding())
        return iter(self._bindings)

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


def page_size_of(hugepages: tuple[Hugepages, ...], cell: GuestCell | None) -> Hugepages | None:
    """libvirt's rule: a `<page>` whose nodeset names the cell, else the one without nodeset."""
    if cell is not None:
        for pages in hugepages:
            if pages.cells is not None and cell.id in pages.cells:
                return pages
    return next((pages for pages in hugepages if pages.is_master), None)
