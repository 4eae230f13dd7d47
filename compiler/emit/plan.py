"""Plan stage: decide every libvirt element and attribute the guest turns into.

The plan is plain data with libvirt's vocabulary (KiB, set strings, modes), so the
emit stage only formats it: `plan_tree` sets each value at the path declared for it in
`vnuma.libvirt.elements`, and the template writes that tree. Automatic cells, host-node
choice and CPU pinning were decided before, by the placement stage (`compiler/place/`), and
arrive in the resolved `Guest`: pins, the emulator pin and the topology sit in `guest.domain`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from vnuma.cpusets import format_cpuset
from vnuma.model.guest import Guest, GuestCell

if TYPE_CHECKING:
    from vnuma.emit.tree import XmlNode

LOCAL_DISTANCE = 10
LIBVIRT_DEFAULT_REMOTE_DISTANCE = 20


class MemoryPolicy(NamedTuple):
    mode: str
    nodeset: str | None
    placement: str | None


class MemNode(NamedTuple):
    cellid: int
    mode: str
    nodeset: str


class CellPlan(NamedTuple):
    id: int
    cpus: str | None
    memory_kib: int
    mem_access: str | None
    distances: tuple[tuple[int, int], ...]


class PagePlan(NamedTuple):
    size_kib: int


class PinPlan(NamedTuple):
    vcpu: int
    cpuset: str


class TopologyPlan(NamedTuple):
    sockets: int
    dies: int
    cores: int
    threads: int


class DomainPlan(NamedTuple):
    name: str | None
    memory_kib: int
    vcpus: int
    vcpu_placement: str
    memory_policy: MemoryPolicy | None
    memnodes: tuple[MemNode, ...]
    cells: tuple[CellPlan, ...]
    hugepages: tuple[PagePlan, ...]
    pins: tuple[PinPlan, ...] = ()
    emulator_pin: str | None = None
    topology: TopologyPlan | None = None
    vcpu_cpuset: str | None = None
    """`<vcpu cpuset>`: the host CPUs every vCPU floats over (`pinning: node`, one set)."""

    @property
    def has_cputune(self) -> bool:
        """Whether the plan owns the pins: also with `<vcpu cpuset>`, so that a base
        domain's `<vcpupin>`s, which would override it, are dropped by the merge."""
        return bool(self.pins) or self.emulator_pin is not None or self.vcpu_cpuset is not None

    @property
    def has_numatune(self) -> bool:
        return self.memory_policy is not None or bool(self.memnodes)


def make_plan(guest: Guest) -> DomainPlan:
    cells = tuple(sorted(guest.cells, key=lambda c: c.id))
    return DomainPlan(
        name=guest.name,
        memory_kib=guest.memory_kib,
        vcpus=guest.vcpus,
        vcpu_placement="auto" if guest.auto_placement else "static",
        memory_policy=_memory_policy(guest),
        memnodes=tuple(
            MemNode(cell.id, guest.cell_mode(cell).value, format_cpuset(cell.host_nodes))
            for cell in cells
            if cell.host_nodes
        ),
        cells=tuple(_cell_plan(cell, cells) for cell in cells),
        hugepages=tuple(PagePlan(pages.size_kib) for pages in guest.hugepages),
        pins=tuple(PinPlan(p.vcpu, format_cpuset(p.cpuset)) for p in guest.domain.pins),
        emulator_pin=format_cpuset(guest.domain.emulator_pin)
        if guest.domain.emulator_pin
        else None,
        topology=_topology(guest),
        vcpu_cpuset=format_cpuset(guest.domain.vcpu_cpuset) if guest.domain.vcpu_cpuset else None,
    )


def plan_tree(plan: DomainPlan) -> XmlNode:
    """The `<domain>` element tree of the plan: each value at its declared path."""
    from vnuma.emit.tree import XmlNode
    from vnuma.libvirt import elements as e

    domain = XmlNode(e.DOMAIN).set(e.DOMAIN_TYPE, "kvm")
    domain.set(e.NAME, plan.name)
    domain.set(e.MEMORY, plan.memory_kib)
    for page in plan.hugepages:
        domain.add(e.PAGE, {e.PAGE_SIZE: page.size_kib})
    domain.set(e.VCPU, plan.vcpus).set(e.VCPU_PLACEMENT, plan.vcpu_placement)
    domain.set(e.VCPU_CPUSET, plan.vcpu_cpuset)
    for pin in plan.pins:
        domain.add(e.VCPUPIN, {e.VCPUPIN_VCPU: pin.vcpu, e.VCPUPIN_CPUSET: pin.cpuset})
    domain.set(e.EMULATORPIN_CPUSET, plan.emulator_pin)
    if plan.memory_policy is not None:
        policy = plan.memory_policy
        domain.add(
            e.NUMATUNE_MEMORY,
            {
                e.NUMATUNE_MODE: policy.mode,
                e.NUMATUNE_PLACEMENT: policy.placement,
                e.NUMATUNE_NODESET: policy.nodeset,
            },
        )
    for memnode in plan.memnodes:
        domain.add(
            e.MEMNODE,
            {
                e.MEMNODE_CELLID: memnode.cellid,
                e.MEMNODE_MODE: memnode.mode,
                e.MEMNODE_NODESET: memnode.nodeset,
            },
        )
    if plan.topology is not None:
        t = plan.topology
        domain.add(
            e.TOPOLOGY,
            {
                e.TOPOLOGY_SOCKETS: t.sockets,
                e.TOPOLOGY_DIES: t.dies,
                e.TOPOLOGY_CORES: t.cores,
                e.TOPOLOGY_THREADS: t.threads,
            },
        )
    for cell in plan.cells:
        node = domain.add(
            e.CELL,
            {
                e.CELL_ID: cell.id,
                e.CELL_CPUS: cell.cpus,
                e.CELL_MEMORY: cell.memory_kib,
                e.CELL_MEM_ACCESS: cell.mem_access,
            },
        )
        for sibling, value in cell.distances:
            node.add(e.SIBLING, {e.SIBLING_ID: sibling, e.SIBLING_VALUE: value})
    return domain


def _topology(guest: Guest) -> TopologyPlan | None:
    topology = guest.domain.topology
    if topology is None:
        return None
    # An intent cannot say clusters (the schema has no such key; the model sets 1), so there
    # is nothing to write: `clusters` is only read from domain XML (VN014's product).
    assert topology.clusters == 1, topology
    return TopologyPlan(topology.sockets, topology.dies, topology.cores, topology.threads)


def writes_guest_wide_memory(guest: Guest) -> bool:
    """Whether the guest gets a `<numatune><memory>` element: placement auto, or a nodeset,
    unless the guest has memnodes only (`NumaTune.guest_wide`; for an intent,
    `vnuma.model.resolve` decides that, and says why)."""
    numatune = guest.numatune
    if numatune is not None and not numatune.guest_wide:
        return False
    return guest.auto_placement or guest.effective_nodeset is not None


def _memory_policy(guest: Guest) -> MemoryPolicy | None:
    if not writes_guest_wide_memory(guest):
        return None
    if guest.auto_placement:
        return MemoryPolicy(guest.memory_mode.value, None, "auto")
    nodeset = guest.effective_nodeset
    if nodeset is None:
        return None
    return MemoryPolicy(guest.memory_mode.value, format_cpuset(nodeset), None)


def _cell_plan(cell: GuestCell, cells: tuple[GuestCell, ...]) -> CellPlan:
    return CellPlan(
        id=cell.id,
        cpus=format_cpuset(cell.cpus) if cell.cpus else None,
        memory_kib=cell.memory_kib,
        mem_access=cell.mem_access,
        distances=_distance_row(cell, cells),
    )


def _distance_row(cell: GuestCell, cells: tuple[GuestCell, ...]) -> tuple[tuple[int, int], ...]:
    """The full row of the symmetric matrix, as libvirt would complete it; empty if none given."""
    if not any(c.distances for c in cells):
        return ()
    row = []
    for other in cells:
        if other.id == cell.id:
            value = LOCAL_DISTANCE
        else:
            value = (
                cell.distances.get(other.id)
                or other.distances.get(cell.id)
                or LIBVIRT_DEFAULT_REMOTE_DISTANCE
            )
        row.append((other.id, value))
    return tuple(row)
