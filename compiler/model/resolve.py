"""An intent with nothing left open, as the guest vnuma writes for it."""

from __future__ import annotations

from vnuma.model.guest import (
    INTENT_LANGUAGE,
    CpuTopology,
    DomainExtras,
    Guest,
    NumaTune,
    VcpuPin,
)
from vnuma.model.intent import Intent


def resolve(
    intent: Intent,
    *,
    pins: tuple[VcpuPin, ...] = (),
    emulator_pin: frozenset[int] | None = None,
    topology: CpuTopology | None = None,
) -> Guest:
    """The guest of an intent whose nodes and cells are decided (as written, or by the
    placement stage), with the pins, emulator pin and topology placement chose."""
    assert not intent.unresolved, intent.path
    written = intent.numatune
    numatune = (
        NumaTune(mode=written.mode, nodeset=written.nodeset, placement=written.placement)
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
        domain=DomainExtras(
            pins=pins,
            emulator_pin=emulator_pin,
            topology=topology if topology is not None else intent.cpu.topology,
        ),
        positions=intent.positions,
    )
