"""What only a libvirt domain XML can get wrong: pins, memnodes, page nodesets, devices.

These rules read the parts of the guest only a domain XML fills in (`Guest.domain`:
vcpu cpuset, memnodes, devices); placement fills in an intent's pins, emulator pin and
topology, which the same rules then check. They run for every guest.
"""

from __future__ import annotations

from collections.abc import Iterator

from vnuma import codes
from vnuma.cpusets import format_cpuset
from vnuma.model.guest import Guest, GuestCell, MemMode
from vnuma.rules.base import CheckContext, Finding, check
from vnuma.sizes import format_kib

# Architectures where libvirt allows memory hotplug without guest NUMA cells.
HOTPLUG_WITHOUT_CELLS_ARCHES = ("ppc64", "ppc64le", "s390x")


@check(codes.VN401, reads=("pins", "vcpus"))
def vcpupin_beyond_max(ctx: CheckContext) -> Iterator[Finding]:
    """A `<vcpupin>` names a vCPU the guest does not have; libvirt drops it."""
    guest = ctx.guest
    for pin in guest.domain.pins:
        if pin.vcpu >= guest.vcpus:
            yield Finding(
                f"vcpupin for vCPU {pin.vcpu}, but the guest has vCPUs 0-{guest.vcpus - 1}: "
                "libvirt drops it",
                (*pin.path, "vcpu"),
                hint='libvirt logs "Ignoring vcpupin for missing vcpus"; remove the pin or fix its vcpu',
            )


@check(codes.VN402, reads=("pins",))
def vcpupin_duplicate(ctx: CheckContext) -> Iterator[Finding]:
    """Two `<vcpupin>` elements pin the same vCPU."""
    seen: set[int] = set()
    for pin in ctx.guest.domain.pins:
        if pin.vcpu in seen:
            yield Finding(
                f"duplicate vcpupin for vcpu '{pin.vcpu}'",
                (*pin.path, "vcpu"),
                hint="libvirt refuses this at define time; keep one pin per vCPU",
            )
        seen.add(pin.vcpu)


@check(codes.VN403, reads=("pins",))
def emulatorpin_overlaps_dedicated(ctx: CheckContext) -> Iterator[Finding]:
    """The emulator threads are pinned onto host CPUs that vCPUs own exclusively."""
    emulator = ctx.guest.domain.emulator_pin
    if not emulator:
        return
    owners = {cpu: pin.vcpu for pin in ctx.guest.domain.pins if pin.dedicated for cpu in pin.cpuset}
    shared = sorted(cpu for cpu in emulator if cpu in owners)
    if shared:
        which = ", ".join(f"host CPU {cpu} (vCPU {owners[cpu]})" for cpu in shared)
        yield Finding(
            f"emulatorpin shares {which} with dedicated vCPU pins",
            ("emulator_pin",),
            hint="pin the emulator to CPUs outside "
            f"{format_cpuset(frozenset(owners))}, e.g. the host's housekeeping CPUs",
        )


def _cell_of_vcpu(guest: Guest, vcpu: int) -> GuestCell | None:
    return next((cell for cell in guest.cells if vcpu in cell.cpus), None)


def _memory_nodes(guest: Guest, cell: GuestCell | None) -> frozenset[int] | None:
    """The host nodes a vCPU's memory is bound to (None when unbound or interleaved)."""
    if cell is not None and cell.host_nodes:
        mode = guest.cell_mode(cell)
        return None if mode is MemMode.INTERLEAVE else cell.host_nodes
    nodeset = guest.effective_nodeset
    if nodeset is None or guest.memory_mode is MemMode.INTERLEAVE:
        return None
    return nodeset


@check(codes.VN404, needs_host=True, reads=("pins", "cells", "numatune"))
def vcpu_pinned_off_cell_nodes(ctx: CheckContext) -> Iterator[Finding]:
    """A vCPU is pinned to host CPUs outside the host nodes that hold its cell's memory."""
    host, guest = ctx.host, ctx.guest
    assert host is not None
    if not guest.domain.pins:
        return  # most guests pin nothing: the host's CPU map is not worth building for them
    node_of = host.node_of_cpu
    for pin in guest.domain.pins:
        cell = _cell_of_vcpu(guest, pin.vcpu)
        nodes = _memory_nodes(guest, cell)
        if nodes is None or not nodes <= host.node_ids:
            continue
        remote = frozenset(
            cpu for cpu in pin.cpuset if cpu in node_of and node_of[cpu] not in nodes
        )
        if remote:
            remote_nodes = frozenset(node_of[cpu] for cpu in remote)
            owner = f"cell {cell.id}" if cell is not None else "the guest"
            yield Finding(
                f"vCPU {pin.vcpu} is pinned to host CPU(s) {format_cpuset(remote)} on node(s) "
                f"{format_cpuset(remote_nodes)}, but {owner}'s memory is on node(s) "
                f"{format_cpuset(nodes)}",
                (*pin.path, "cpuset"),
                hint="pin it to CPUs of node(s) "
                f"{format_cpuset(nodes)} or bind the memory to node(s) {format_cpuset(remote_nodes)}",
            )


@check(codes.VN405, needs_host=True, reads=("pins", "vcpus"))
def pin_to_missing_host_cpu(ctx: CheckContext) -> Iterator[Finding]:
    """A vCPU, emulator or `<vcpu cpuset>` pin names host CPUs the host does not have."""
    host, guest = ctx.host, ctx.guest
    assert host is not None
    targets = [
        (f"vcpupin for vCPU {p.vcpu}", p.cpuset, (*p.path, "cpuset")) for p in guest.domain.pins
    ]
    if guest.domain.emulator_pin:
        targets.append(("emulatorpin", guest.domain.emulator_pin, ("emulator_pin",)))
    if guest.domain.vcpu_cpuset:
        targets.append(("<vcpu cpuset>", guest.domain.vcpu_cpuset, ("vcpu_cpuset",)))
    present = host.cpu_ids if targets else frozenset()  # the set of every host CPU: only if needed
    if not present:
        return
    for label, cpus, path in targets:
        missing = cpus - present
        if missing:
            yield Finding(
                f"{label} names host CPU(s) {format_cpuset(missing)}, which the host does not have",
                path,
                hint=f"the host has CPUs {format_cpuset(present)}; libvirt fails at start with "
                '"cannot set CPU affinity"',
            )


@check(codes.VN406, reads=("memory_devices", "cells"))
def memory_device_node_missing(ctx: CheckContext) -> Iterator[Finding]:
    """A memory device targets a guest NUMA node that does not exist."""
    cells = ctx.guest.cells
    for device in ctx.guest.domain.memory_devices:
        if device.node is None or device.node < len(cells):
            continue
        message = (
            f"can't add memory backend for guest node '{device.node}' as the guest has only "
            f"'{len(cells)}' NUMA nodes configured"
            if cells
            else "can't add memory backend as guest has no NUMA nodes configured"
        )
        yield Finding(
            message,
            (*device.path, "node"),
            hint=f"use a node 0-{len(cells) - 1}" if cells else "add guest cells or drop <node>",
        )


@check(codes.VN407, reads=("max_memory", "memory_devices", "cells"))
def memory_hotplug_without_cells(ctx: CheckContext) -> Iterator[Finding]:
    """Memory hotplug (`<maxMemory>` or memory devices) without guest NUMA cells."""
    guest = ctx.guest
    extras = guest.domain
    hotplug = extras.max_memory_kib is not None or bool(extras.memory_devices)
    if hotplug and not guest.cells and extras.arch not in HOTPLUG_WITHOUT_CELLS_ARCHES:
        path = (
            ("max_memory",) if extras.max_memory_kib is not None else extras.memory_devices[0].path
        )
        yield Finding(
            "memory hotplug needs guest NUMA cells, and this domain has none",
            path,
            hint='libvirt: "At least one numa node has to be configured when enabling memory '
            'hotplug"; add one <cell> with all vCPUs and the memory',
        )
    if extras.memory_devices and extras.max_memory_kib is None:
        yield Finding(
            "memory devices need <maxMemory>",
            extras.memory_devices[0].path,
            hint="libvirt: \"cannot use/hotplug a memory device when domain 'maxMemory' is not "
            "defined\"; add <maxMemory slots='16' unit='GiB'>N</maxMemory>",
        )


@check(codes.VN408, reads=("topology", "vcpus"))
def topology_vcpu_mismatch(ctx: CheckContext) -> Iterator[Finding]:
    """`<cpu><topology>` (or an intent's `cpu.topology`) does not multiply out to the vCPUs."""
    topology, vcpus = ctx.guest.domain.topology, ctx.guest.vcpus
    if topology is None or topology.vcpus == vcpus:
        return
    yield Finding(
        f"CPU topology {topology.describe()} = {topology.vcpus} vCPUs, but the guest has "
        f"{vcpus} vCPUs",
        ("cpu", "topology"),
        hint='libvirt: "CPU topology doesn\'t match maximum vcpu count"',
    )


@check(codes.VN409, reads=("vcpus",))
def vcpu_current_above_max(ctx: CheckContext) -> Iterator[Finding]:
    """`<vcpu current>` is larger than the maximum."""
    current = ctx.guest.domain.vcpus_current
    if current is not None and (current > ctx.guest.vcpus or current == 0):
        yield Finding(
            f"current vCPUs {current} is not within 1..{ctx.guest.vcpus}",
            ("vcpus_current",),
            hint='libvirt: "maximum vCPU count must not be less than current vCPU count"',
        )


@check(codes.VN410, reads=("hugepages", "cells"))
def hugepage_nodeset_unknown_cell(ctx: CheckContext) -> Iterator[Finding]:
    """A huge page `nodeset` names a guest cell that does not exist."""
    count = len(ctx.guest.cells)
    for pages in ctx.guest.hugepages:
        if pages.cells is None:
            continue
        # Without cells libvirt reads node 0 as the whole guest and names the first other id.
        unknown = sorted(cell for cell in pages.cells if cell >= max(count, 1))
        if unknown:
            yield Finding(
                f"hugepages: node {unknown[0]} not found"
                + (
                    f" (the guest has cells 0-{count - 1})"
                    if count
                    else " (the guest has no cells)"
                ),
                (*pages.path[:-1], "nodeset"),
                hint="the page nodeset lists guest cells, not host nodes; bind host nodes with <memnode>",
            )


@check(codes.VN411, reads=("hugepages",))
def hugepage_nodesets_overlap(ctx: CheckContext) -> Iterator[Finding]:
    """Two huge page sizes claim the same guest cell, or two sizes have no nodeset."""
    pages = ctx.guest.hugepages
    for i, later in enumerate(pages):
        for earlier in pages[:i]:
            if earlier.is_master and later.is_master:
                yield Finding(
                    f"two master hugepages detected: {later.size_kib} and {earlier.size_kib}",
                    later.path,
                    hint="give one of them a nodeset of guest cells",
                )
            elif earlier.cells and later.cells and earlier.cells & later.cells:
                yield Finding(
                    f"nodeset attribute of hugepages of sizes {later.size_kib} and "
                    f"{earlier.size_kib} intersect (cells {format_cpuset(earlier.cells & later.cells)})",
                    (*later.path[:-1], "nodeset"),
                    hint="each guest cell can use one page size",
                )


@check(codes.VN412, reads=("cells", "numatune"))
def memnode_unknown_cell(ctx: CheckContext) -> Iterator[Finding]:
    """A `<memnode>` names a guest cell that does not exist, or there are no cells."""
    guest = ctx.guest
    ids = {cell.id for cell in guest.cells}
    seen: set[int] = set()
    for ref in guest.domain.memnodes:
        path = (*ref.path, "cellid")
        if not guest.cells:
            yield Finding(
                "Element 'memnode' is invalid without any guest NUMA cells",
                ref.path,
                hint="add <cpu><numa> cells, or use <numatune><memory> for the whole guest",
            )
            return
        if ref.cellid not in ids:
            yield Finding(
                f"memnode cellid {ref.cellid} is not a guest cell (cells are "
                f"{format_cpuset(frozenset(ids))})",
                path,
                hint="libvirt: \"Argument 'cellid' in memnode element must correspond to existing "
                "guest's NUMA cell\"",
            )
        elif ref.cellid in seen:
            yield Finding(
                f"Multiple memnode elements with cellid {ref.cellid}",
                path,
                hint="keep one memnode per cell",
            )
        seen.add(ref.cellid)


@check(codes.VN413, reads=("cells",))
def numa_without_cells(ctx: CheckContext) -> Iterator[Finding]:
    """`<cpu><numa>` has no `<cell>`."""
    if ctx.guest.domain.numa_without_cells:
        yield Finding(
            "NUMA topology defined without NUMA cells",
            ("cells",),
            hint="add <cell> elements or delete <numa>",
        )


@check(codes.VN414, reads=("max_memory", "cells", "memory", "memory_devices"))
def memory_devices_exceed_max_memory(ctx: CheckContext) -> Iterator[Finding]:
    """Initial memory plus memory devices exceed `<maxMemory>`."""
    guest = ctx.guest
    limit = guest.domain.max_memory_kib
    if limit is None:
        return
    devices = sum(d.size_kib or 0 for d in guest.domain.memory_devices)
    # libvirt's initial memory: the cells' sum; without cells, <memory> minus the devices
    # (<memory> is the total then), so the test is the total against maxMemory
    initial = sum(c.memory_kib for c in guest.cells) if guest.cells else guest.memory_kib - devices
    if initial + devices > limit:
        with_devices = f" plus {format_kib(devices)} of memory devices" if devices else ""
        yield Finding(
            f"initial memory {format_kib(max(initial, 0))}{with_devices} exceeds maxMemory "
            f"{format_kib(limit)}",
            ("max_memory",),
            hint=f"raise <maxMemory> to at least {format_kib(initial + devices)}",
        )


@check(codes.VN415, reads=("topology", "vcpus"))
def vcpu_hotplug_granularity(ctx: CheckContext) -> Iterator[Finding]:
    """On pSeries, the online vCPU count is not a multiple of the threads per core."""
    extras = ctx.guest.domain
    topology = extras.topology
    if topology is None or topology.threads <= 1 or not (extras.arch or "").startswith("ppc64"):
        return
    if not (extras.machine or "pseries").startswith("pseries"):
        return
    online = extras.vcpus_current if extras.vcpus_current is not None else ctx.guest.vcpus
    if online % topology.threads:
        yield Finding(
            f"{online} online vCPUs is not a multiple of the vCPU hotplug granularity "
            f"({topology.threads} threads per core)",
            ("vcpus_current",) if extras.vcpus_current is not None else ("vcpus",),
            hint=f'libvirt: "vCPUs count must be a multiple of the vCPU hotplug granularity '
            f'({topology.threads})"',
        )


@check(codes.VN416, reads=("pci_nodes", "cells"))
def pci_controller_numa_node(ctx: CheckContext) -> Iterator[Finding]:
    """A PCI controller is placed on a guest NUMA node that does not exist, or is the root bus."""
    cells = len(ctx.guest.cells)
    for ref in ctx.guest.domain.pci_nodes:
        if ref.index == 0:
            yield Finding(
                "The PCI controller with index=0 can't be associated with a NUMA node",
                (*ref.path, "node"),
                hint="remove <node> from the root controller; put devices on an expander bus instead",
            )
        elif ref.node >= cells:
            yield Finding(
                f"{ref.model or 'PCI controller'} with index {ref.index} is configured for a NUMA "
                f"node ({ref.node}) not present in the domain's <cpu><numa> array ({cells})",
                (*ref.path, "node"),
                hint=f"use a guest cell 0-{cells - 1}" if cells else "add guest NUMA cells",
            )


@check(codes.VN417, reads=("max_memory", "memory_devices"))
def memory_device_slots_exceeded(ctx: CheckContext) -> Iterator[Finding]:
    """More DIMM or NVDIMM devices than `<maxMemory slots>`."""
    extras = ctx.guest.domain
    if extras.max_memory_kib is None:
        return  # VN407: memory devices need <maxMemory> first
    slotted = [device for device in extras.memory_devices if device.needs_slot]
    slots = extras.max_memory_slots or 0
    if len(slotted) > slots:
        yield Finding(
            f"count of memory devices requiring memory slots '{len(slotted)}' exceeds slots "
            f"count '{slots}'",
            ("max_memory",),
            hint=f"set <maxMemory slots='{len(slotted)}'> or more (each dimm and nvdimm takes "
            "a slot; virtio-mem and virtio-pmem take none), or remove devices",
        )


@check(codes.VN419, reads=("max_memory", "memory_devices"))
def memory_device_slot_beyond_slots(ctx: CheckContext) -> Iterator[Finding]:
    """A DIMM or NVDIMM's `<address slot>` is not below `<maxMemory slots>`."""
    extras = ctx.guest.domain
    if extras.max_memory_kib is None:
        return  # VN407: memory devices need <maxMemory> first
    slots = extras.max_memory_slots or 0
    for device in extras.memory_devices:
        if device.needs_slot and device.slot is not None and device.slot >= slots:
            yield Finding(
                f"memory device slot '{device.slot}' exceeds slots count '{slots}'",
                (*device.path, "slot"),
                hint=f"slots are numbered 0-{slots - 1}: use a free one, or set "
                f"<maxMemory slots='{device.slot + 1}'> or more"
                if slots
                else f"set <maxMemory slots='{device.slot + 1}'> or more",
            )


@check(codes.VN418, reads=("memory", "cells", "memory_devices"))
def memory_devices_exceed_memory(ctx: CheckContext) -> Iterator[Finding]:
    """Without guest cells, the memory devices are larger than the guest's `<memory>`."""
    guest = ctx.guest
    if guest.cells or not guest.domain.memory_given:
        return  # with cells libvirt recomputes <memory> (VN106)
    devices = sum(d.size_kib or 0 for d in guest.domain.memory_devices)
    if devices > guest.memory_kib:
        yield Finding(
            f"Total size of memory devices exceeds the total memory size: "
            f"{format_kib(devices)} of devices, <memory> is {format_kib(guest.memory_kib)}",
            ("memory",),
            hint="<memory> is initial memory plus the devices: set "
            f"{guest.language.set_memory(guest.memory_kib + devices, '')} if "
            f"{format_kib(guest.memory_kib)} was meant as initial memory",
        )


CHECKS = (
    vcpupin_beyond_max,
    vcpupin_duplicate,
    emulatorpin_overlaps_dedicated,
    vcpu_pinned_off_cell_nodes,
    pin_to_missing_host_cpu,
    memory_device_node_missing,
    memory_hotplug_without_cells,
    topology_vcpu_mismatch,
    vcpu_current_above_max,
    hugepage_nodeset_unknown_cell,
    hugepage_nodesets_overlap,
    memnode_unknown_cell,
    numa_without_cells,
    memory_devices_exceed_max_memory,
    vcpu_hotplug_granularity,
    pci_controller_numa_node,
    memory_device_slots_exceeded,
    memory_devices_exceed_memory,
    memory_device_slot_beyond_slots,
)
