"""An intent with nothing left open, as the guest vnuma writes for it."""

from __future__ import annotations

from vnuma.model.guest import (
    INTENT_LANGUAGE,
    CpuTopology,
    DomainExtras,
    Guest,
    GuestCell,
    MemMode,
    NumaTune,
    Placement,
    VcpuPin,
)
from vnuma.model.intent import Intent


def resolve(
    intent: Intent,
    *,
    pins: tuple[VcpuPin, ...] = (),
    emulator_pin: frozenset[int] | None = None,
    topology: CpuTopology | None = None,
    held_cpus: frozenset[int] = frozenset(),
    vcpu_cpuset: frozenset[int] | None = None,
) -> Guest:
    """The guest of an intent whose nodes and cells are decided (as written, or by the
    placement stage), with the pins (or, for `pinning: node` with one set for every
    vCPU, the `<vcpu cpuset>` instead), emulator pin, topology and held CPUs (idle
    siblings of isolated cores) placement chose: the guest vnuma writes, and the one
    lint reads back from that XML."""
    assert not intent.unresolved, intent.path
    written = intent.numatune
    numatune = (
        NumaTune(
            mode=written.mode,
            nodeset=written.nodeset,
            placement=written.placement,
            guest_wide=not _memnodes_only(
                written.mode, written.nodeset, written.placement, intent.cells
            ),
        )
        if written is not None
        else None
    )
    return Guest(
        path=intent.path,
        vcpus=intent.vcpus,
        memory_kib=intent.memory_kib,
        language=INTENT_LANGUAGE,
        name=intent.name,
        numatune=numatune,
        effective_nodeset=intent.effective_nodeset,
        cells=intent.cells,
        hugepages=intent.hugepages,
        pinning=intent.cpu.pinning,
        reserved_cpus=intent.cpu.reserved,
        held_cpus=held_cpus,
        domain=DomainExtras(
            vcpu_cpuset=vcpu_cpuset,
            pins=pins,
            emulator_pin=emulator_pin,
            topology=topology if topology is not None else intent.cpu.topology,
        ),
        positions=intent.positions,
    )


def _memnodes_only(
    mode: MemMode,
    nodeset: frozenset[int] | None,
    placement: Placement,
    cells: tuple[GuestCell, ...],
) -> bool:
    """vnuma writes `<memnode>`s and no guest-wide `<memory>` for this intent: preferred,
    no nodeset written, every cell bound, over several nodes in all.

    Each cell's memory already prefers its node, and a guest-wide multi-node `preferred`
    is what libvirt < 9.0 or a libnuma without numa_set_preferred_many refuses at start
    ("NUMA memory tuning in 'preferred' mode only supports single node", VN115). libvirt
    accepts memnodes without `<memory>` (its test numatune-memnode-no-memory); QEMU's own
    allocations then follow the default (local) policy, which is what preferring each
    cell's node means. strict, interleave and restrictive keep `<memory>` over the union
    (restrictive memnodes need a restrictive `<memory>`, libvirt >= 9.4). The emit stage
    reads the decision from `NumaTune.guest_wide`, so what is written is what lint reads
    back."""
    if mode is not MemMode.PREFERRED or nodeset is not None or placement is Placement.AUTO:
        return False
    if not cells or not all(cell.host_nodes for cell in cells):
        return False
    return len({node for cell in cells for node in cell.host_nodes or ()}) > 1
