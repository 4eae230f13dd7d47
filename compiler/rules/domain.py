"""What only a libvirt domain XML can get wrong: pins, memnodes, page nodesets, devices.

These rules read the parts of the model an intent leaves empty (`Intent.domain`), so
they run for every file and find nothing in intents.
"""

from __future__ import annotations

from collections.abc import Iterator

from vnuma.cpusets import format_cpuset
from vnuma.diagnostics import Severity
from vnuma.model.intent import GuestCell, Intent, MemMode
from vnuma.rules import Finding, rule
from vnuma.rules.check import CheckContext
from vnuma.sizes import format_kib

# Architectures where libvirt allows memory hotplug without guest NUMA cells.
HOTPLUG_WITHOUT_CELLS_ARCHES = ("ppc64", "ppc64le", "s390x")


@rule("VN401", "vcpupin-beyond-max", Severity.WARNING)
def vcpupin_beyond_max(ctx: CheckContext) -> Iterator[Finding]:
    """A `<vcpupin>` names a vCPU the guest does not have; libvirt drops it.

    ## What it checks
    Every `<vcpupin vcpu='N'>` has N below the `<vcpu>` maximum.

    ## Why
    libvirt discards the pin with only a log line ("Ignoring vcpupin for missing
    vcpus"): the definition you keep in Git no longer matches the running guest, and
    the pin you meant for another vCPU is silently lost.

    ## Example
    ```xml
    <vcpu>4</vcpu>
    <cputune><vcpupin vcpu='4' cpuset='12'/></cputune>
    ```

    ## Fix
    Pin vCPUs 0..vcpus-1 only, or raise `<vcpu>`.
    """
    intent = ctx.intent
    for pin in intent.domain.pins:
        if pin.vcpu >= intent.vcpus:
            yield Finding(
                "VN401",
                f"vcpupin for vCPU {pin.vcpu}, but the guest has vCPUs 0-{intent.vcpus - 1}: "
                "libvirt drops it",
                (*pin.path, "vcpu"),
                hint='libvirt logs "Ignoring vcpupin for missing vcpus"; remove the pin or fix its vcpu',
            )


@rule("VN402", "vcpupin-duplicate", Severity.ERROR)
def vcpupin_duplicate(ctx: CheckContext) -> Iterator[Finding]:
    """Two `<vcpupin>` elements pin the same vCPU.

    ## What it checks
    Each vCPU has at most one `<vcpupin>`.

    ## Why
    libvirt refuses the definition: "duplicate vcpupin for vcpu 'N'".

    ## Example
    ```xml
    <vcpupin vcpu='0' cpuset='2'/>
    <vcpupin vcpu='0' cpuset='3'/>
    ```

    ## Fix
    Keep one pin per vCPU.
    """
    seen: set[int] = set()
    for pin in ctx.intent.domain.pins:
        if pin.vcpu in seen:
            yield Finding(
                "VN402",
                f"duplicate vcpupin for vcpu '{pin.vcpu}'",
                (*pin.path, "vcpu"),
                hint="libvirt refuses this at define time; keep one pin per vCPU",
            )
        seen.add(pin.vcpu)


@rule("VN403", "emulatorpin-overlaps-dedicated", Severity.WARNING)
def emulatorpin_overlaps_dedicated(ctx: CheckContext) -> Iterator[Finding]:
    """The emulator threads are pinned onto host CPUs that vCPUs own exclusively.

    ## What it checks
    `<emulatorpin>` shares no host CPU with a dedicated `<vcpupin>` (a vCPU pinned to
    exactly one host CPU).

    ## Why
    Dedicated pinning exists so a vCPU never waits for the host CPU; QEMU's emulator
    and I/O threads running there steal time from it and cause latency spikes (the
    reason Nova's `hw:emulator_threads_policy` exists).

    ## Example
    ```xml
    <vcpupin vcpu='0' cpuset='4'/>
    <emulatorpin cpuset='4-5'/>
    ```

    ## Fix
    Pin the emulator to housekeeping CPUs no vCPU uses.
    """
    emulator = ctx.intent.domain.emulator_pin
    if not emulator:
        return
    owners = {
        cpu: pin.vcpu for pin in ctx.intent.domain.pins if pin.dedicated for cpu in pin.cpuset
    }
    shared = sorted(cpu for cpu in emulator if cpu in owners)
    if shared:
        which = ", ".join(f"host CPU {cpu} (vCPU {owners[cpu]})" for cpu in shared)
        yield Finding(
            "VN403",
            f"emulatorpin shares {which} with dedicated vCPU pins",
            ("emulator_pin",),
            hint="pin the emulator to CPUs outside "
            f"{format_cpuset(frozenset(owners))}, e.g. the host's housekeeping CPUs",
        )


def _cell_of_vcpu(intent: Intent, vcpu: int) -> GuestCell | None:
    return next((cell for cell in intent.cells if vcpu in cell.cpus), None)


def _memory_nodes(intent: Intent, cell: GuestCell | None) -> frozenset[int] | None:
    """The host nodes a vCPU's memory is bound to (None when unbound or interleaved)."""
    if cell is not None and cell.host_nodes:
        mode = intent.cell_mode(cell)
        return None if mode is MemMode.INTERLEAVE else cell.host_nodes
    nodeset = intent.effective_nodeset
    if nodeset is None or intent.memory_mode is MemMode.INTERLEAVE:
        return None
    return nodeset


@rule("VN404", "vcpu-pinned-off-cell-nodes", Severity.WARNING, needs_host=True)
def vcpu_pinned_off_cell_nodes(ctx: CheckContext) -> Iterator[Finding]:
    """A vCPU is pinned to host CPUs outside the host nodes that hold its cell's memory.

    ## What it checks
    For every `<vcpupin>`, the host CPUs are on the host nodes its guest cell's memory
    is bound to (`<memnode>`, else the `<numatune>` nodeset).

    ## Why
    The vCPU then reaches all of its memory over the interconnect: every access pays
    remote latency and bandwidth, the thing guest NUMA is meant to prevent. libvirt
    does not compare pins with memory bindings.

    ## Example
    ```xml
    <vcpupin vcpu='0' cpuset='40'/>           <!-- CPU 40 is on host node 1 -->
    <memnode cellid='0' mode='strict' nodeset='0'/>
    ```

    ## Fix
    Pin the cell's vCPUs to CPUs of its memory's nodes, or bind the memory where the
    vCPUs run.
    """
    host, intent = ctx.host, ctx.intent
    assert host is not None
    node_of = host.node_of_cpu
    for pin in intent.domain.pins:
        cell = _cell_of_vcpu(intent, pin.vcpu)
        nodes = _memory_nodes(intent, cell)
        if nodes is None or not nodes <= host.node_ids:
            continue
        remote = frozenset(
            cpu for cpu in pin.cpuset if cpu in node_of and node_of[cpu] not in nodes
        )
        if remote:
            remote_nodes = frozenset(node_of[cpu] for cpu in remote)
            owner = f"cell {cell.id}" if cell is not None else "the guest"
            yield Finding(
                "VN404",
                f"vCPU {pin.vcpu} is pinned to host CPU(s) {format_cpuset(remote)} on node(s) "
                f"{format_cpuset(remote_nodes)}, but {owner}'s memory is on node(s) "
                f"{format_cpuset(nodes)}",
                (*pin.path, "cpuset"),
                hint="pin it to CPUs of node(s) "
                f"{format_cpuset(nodes)} or bind the memory to node(s) {format_cpuset(remote_nodes)}",
            )


@rule("VN405", "pin-to-missing-host-cpu", Severity.ERROR, needs_host=True)
def pin_to_missing_host_cpu(ctx: CheckContext) -> Iterator[Finding]:
    """A vCPU, emulator or `<vcpu cpuset>` pin names host CPUs the host does not have.

    ## What it checks
    Every CPU in `<vcpupin>`, `<emulatorpin>` and `<vcpu cpuset>` exists in the host
    snapshot.

    ## Why
    libvirt does not check this at define time; the guest fails to start with
    "cannot set CPU affinity on process N: Invalid argument" (or the cgroup refuses
    the cpuset), typically after a VM moves to a smaller host.

    ## Example
    ```xml
    <vcpupin vcpu='0' cpuset='96'/>     <!-- host has CPUs 0-79 -->
    ```

    ## Fix
    Pin to CPUs the host has (`vnuma host` lists them).
    """
    host, intent = ctx.host, ctx.intent
    assert host is not None
    present = host.cpu_ids
    if not present:
        return
    targets = [
        (f"vcpupin for vCPU {p.vcpu}", p.cpuset, (*p.path, "cpuset")) for p in intent.domain.pins
    ]
    if intent.domain.emulator_pin:
        targets.append(("emulatorpin", intent.domain.emulator_pin, ("emulator_pin",)))
    if intent.domain.vcpu_cpuset:
        targets.append(("<vcpu cpuset>", intent.domain.vcpu_cpuset, ("vcpu_cpuset",)))
    for label, cpus, path in targets:
        missing = cpus - present
        if missing:
            yield Finding(
                "VN405",
                f"{label} names host CPU(s) {format_cpuset(missing)}, which the host does not have",
                path,
                hint=f"the host has CPUs {format_cpuset(present)}; libvirt fails at start with "
                '"cannot set CPU affinity"',
            )


@rule("VN406", "memory-device-node-missing", Severity.ERROR)
def memory_device_node_missing(ctx: CheckContext) -> Iterator[Finding]:
    """A memory device targets a guest NUMA node that does not exist.

    ## What it checks
    `<devices><memory><target><node>N</node>` names one of the guest's cells.

    ## Why
    libvirt refuses it: "can't add memory backend for guest node 'N' as the guest has
    only 'M' NUMA nodes configured", or "can't add memory backend as guest has no
    NUMA nodes configured" when there are no cells.

    ## Example
    ```xml
    <numa><cell id='0' cpus='0-1' memory='1048576'/></numa>
    ...
    <memory model='dimm'><target><size unit='GiB'>1</size><node>1</node></target></memory>
    ```

    ## Fix
    Target an existing cell (0..cells-1), or add the cell.
    """
    cells = ctx.intent.cells
    for device in ctx.intent.domain.memory_devices:
        if device.node is None or device.node < len(cells):
            continue
        message = (
            f"can't add memory backend for guest node '{device.node}' as the guest has only "
            f"'{len(cells)}' NUMA nodes configured"
            if cells
            else "can't add memory backend as guest has no NUMA nodes configured"
        )
        yield Finding(
            "VN406",
            message,
            (*device.path, "node"),
            hint=f"use a node 0-{len(cells) - 1}" if cells else "add guest cells or drop <node>",
        )


@rule("VN407", "memory-hotplug-without-cells", Severity.ERROR)
def memory_hotplug_without_cells(ctx: CheckContext) -> Iterator[Finding]:
    """Memory hotplug (`<maxMemory>` or memory devices) without guest NUMA cells.

    ## What it checks
    A domain with `<maxMemory>` or `<devices><memory>` has at least one guest cell
    (except on ppc64 and s390x, where QEMU does not need one). Memory devices also
    need `<maxMemory>`.

    ## Why
    QEMU plugs DIMMs into a guest NUMA node, so libvirt refuses the domain: "At least
    one numa node has to be configured when enabling memory hotplug", and "cannot
    use/hotplug a memory device when domain 'maxMemory' is not defined".

    ## Example
    ```xml
    <maxMemory slots='16' unit='KiB'>1524288</maxMemory>
    <memory unit='KiB'>219100</memory>      <!-- and no <cpu><numa> -->
    ```

    ## Fix
    Add `<cpu><numa><cell id='0' cpus='0-N' memory='...'/></numa>` covering all vCPUs.
    """
    intent = ctx.intent
    extras = intent.domain
    hotplug = extras.max_memory_kib is not None or bool(extras.memory_devices)
    if hotplug and not intent.cells and extras.arch not in HOTPLUG_WITHOUT_CELLS_ARCHES:
        path = (
            ("max_memory",) if extras.max_memory_kib is not None else extras.memory_devices[0].path
        )
        yield Finding(
            "VN407",
            "memory hotplug needs guest NUMA cells, and this domain has none",
            path,
            hint='libvirt: "At least one numa node has to be configured when enabling memory '
            'hotplug"; add one <cell> with all vCPUs and the memory',
        )
    if extras.memory_devices and extras.max_memory_kib is None:
        yield Finding(
            "VN407",
            "memory devices need <maxMemory>",
            extras.memory_devices[0].path,
            hint="libvirt: \"cannot use/hotplug a memory device when domain 'maxMemory' is not "
            "defined\"; add <maxMemory slots='16' unit='GiB'>N</maxMemory>",
        )


@rule("VN408", "topology-vcpu-mismatch", Severity.ERROR)
def topology_vcpu_mismatch(ctx: CheckContext) -> Iterator[Finding]:
    """`<cpu><topology>` (or an intent's `cpu.topology`) does not multiply out to the vCPUs.

    ## What it checks
    sockets x dies x clusters x cores x threads equals the maximum vCPU count (`<vcpu>`,
    or `vcpus` in an intent).

    ## Why
    libvirt refuses the domain: "CPU topology doesn't match maximum vcpu count".

    ## Example
    ```xml
    <vcpu>8</vcpu>
    <cpu><topology sockets='1' cores='4' threads='1'/></cpu>
    ```

    ## Fix
    Change the topology (e.g. cores='8') or `<vcpu>` so they agree.
    """
    topology, vcpus = ctx.intent.domain.topology, ctx.intent.vcpus
    if topology is None or topology.vcpus == vcpus:
        return
    yield Finding(
        "VN408",
        f"CPU topology {topology.describe()} = {topology.vcpus} vCPUs, but "
        + (f"<vcpu> is {vcpus}" if ctx.intent.is_domain else f"vcpus is {vcpus}"),
        ("topology",) if ctx.intent.is_domain else ("cpu", "topology"),
        hint='libvirt: "CPU topology doesn\'t match maximum vcpu count"',
    )


@rule("VN409", "vcpu-current-above-max", Severity.ERROR)
def vcpu_current_above_max(ctx: CheckContext) -> Iterator[Finding]:
    """`<vcpu current>` is larger than the maximum.

    ## What it checks
    `current` is at most the `<vcpu>` count and at least 1.

    ## Why
    libvirt: "maximum vCPU count must not be less than current vCPU count".

    ## Example
    ```xml
    <vcpu current='8'>4</vcpu>
    ```

    ## Fix
    Lower `current` or raise the maximum.
    """
    current = ctx.intent.domain.vcpus_current
    if current is not None and (current > ctx.intent.vcpus or current == 0):
        yield Finding(
            "VN409",
            f"current vCPUs {current} is not within 1..{ctx.intent.vcpus}",
            ("vcpus_current",),
            hint='libvirt: "maximum vCPU count must not be less than current vCPU count"',
        )


@rule("VN410", "hugepage-nodeset-unknown-cell", Severity.ERROR)
def hugepage_nodeset_unknown_cell(ctx: CheckContext) -> Iterator[Finding]:
    """A huge page `nodeset` names a guest cell that does not exist.

    ## What it checks
    Each `<page nodeset>` lists guest cell ids (not host nodes!) below the number of
    cells. Without cells, libvirt accepts `nodeset='0'` as the whole guest.

    ## Why
    libvirt refuses the domain: "hugepages: node N not found". The nodeset is a set
    of *guest* cells; host placement comes from `<numatune>`.

    ## Example
    ```xml
    <page size='2048' unit='KiB' nodeset='1'/>    <!-- the guest has only cell 0 -->
    ```

    ## Fix
    Name guest cells 0..cells-1, and bind host nodes with `<memnode>`.
    """
    count = len(ctx.intent.cells)
    for pages in ctx.intent.hugepages:
        if pages.cells is None:
            continue
        # Without cells libvirt reads node 0 as the whole guest and names the first other id.
        unknown = sorted(cell for cell in pages.cells if cell >= max(count, 1))
        if unknown:
            yield Finding(
                "VN410",
                f"hugepages: node {unknown[0]} not found"
                + (
                    f" (the guest has cells 0-{count - 1})"
                    if count
                    else " (the guest has no cells)"
                ),
                (*pages.path[:-1], "nodeset"),
                hint="the page nodeset lists guest cells, not host nodes; bind host nodes with <memnode>",
            )


@rule("VN411", "hugepage-nodesets-overlap", Severity.ERROR)
def hugepage_nodesets_overlap(ctx: CheckContext) -> Iterator[Finding]:
    """Two huge page sizes claim the same guest cell, or two sizes have no nodeset.

    ## What it checks
    `<page>` nodesets are disjoint, and at most one `<page>` has no nodeset (the
    default for cells no other `<page>` names).

    ## Why
    libvirt refuses the domain: "nodeset attribute of hugepages of sizes X and Y
    intersect", or "two master hugepages detected: X and Y".

    ## Example
    ```xml
    <page size='1048576' unit='KiB'/>
    <page size='2048' unit='KiB'/>
    ```

    ## Fix
    Give each size its own cells, and leave at most one without a nodeset.
    """
    pages = ctx.intent.hugepages
    for i, later in enumerate(pages):
        for earlier in pages[:i]:
            if earlier.is_master and later.is_master:
                yield Finding(
                    "VN411",
                    f"two master hugepages detected: {later.size_kib} and {earlier.size_kib}",
                    later.path,
                    hint="give one of them a nodeset of guest cells",
                )
            elif earlier.cells and later.cells and earlier.cells & later.cells:
                yield Finding(
                    "VN411",
                    f"nodeset attribute of hugepages of sizes {later.size_kib} and "
                    f"{earlier.size_kib} intersect (cells {format_cpuset(earlier.cells & later.cells)})",
                    (*later.path[:-1], "nodeset"),
                    hint="each guest cell can use one page size",
                )


@rule("VN412", "memnode-unknown-cell", Severity.ERROR)
def memnode_unknown_cell(ctx: CheckContext) -> Iterator[Finding]:
    """A `<memnode>` names a guest cell that does not exist, or there are no cells.

    ## What it checks
    Every `<memnode cellid>` is one of the guest's cell ids, and each appears once.

    ## Why
    libvirt refuses the domain: "Element 'memnode' is invalid without any guest NUMA
    cells", "Argument 'cellid' in memnode element must correspond to existing guest's
    NUMA cell", or "Multiple memnode elements with cellid N".

    ## Example
    ```xml
    <numatune><memnode cellid='2' mode='strict' nodeset='0'/></numatune>
    ```

    ## Fix
    Use cell ids 0..cells-1, one memnode per cell, or add `<cpu><numa>` cells.
    """
    intent = ctx.intent
    ids = {cell.id for cell in intent.cells}
    seen: set[int] = set()
    for ref in intent.domain.memnodes:
        path = (*ref.path, "cellid")
        if not intent.cells:
            yield Finding(
                "VN412",
                "Element 'memnode' is invalid without any guest NUMA cells",
                ref.path,
                hint="add <cpu><numa> cells, or use <numatune><memory> for the whole guest",
            )
            return
        if ref.cellid not in ids:
            yield Finding(
                "VN412",
                f"memnode cellid {ref.cellid} is not a guest cell (cells are "
                f"{format_cpuset(frozenset(ids))})",
                path,
                hint="libvirt: \"Argument 'cellid' in memnode element must correspond to existing "
                "guest's NUMA cell\"",
            )
        elif ref.cellid in seen:
            yield Finding(
                "VN412",
                f"Multiple memnode elements with cellid {ref.cellid}",
                path,
                hint="keep one memnode per cell",
            )
        seen.add(ref.cellid)


@rule("VN413", "numa-without-cells", Severity.ERROR)
def numa_without_cells(ctx: CheckContext) -> Iterator[Finding]:
    """`<cpu><numa>` has no `<cell>`.

    ## What it checks
    A `<numa>` element contains at least one cell.

    ## Why
    libvirt refuses the domain: "NUMA topology defined without NUMA cells".

    ## Example
    ```xml
    <cpu><numa/></cpu>
    ```

    ## Fix
    Add cells, or remove the empty `<numa>`.
    """
    if ctx.intent.domain.numa_without_cells:
        yield Finding(
            "VN413",
            "NUMA topology defined without NUMA cells",
            ("cells",),
            hint="add <cell> elements or delete <numa>",
        )


@rule("VN414", "memory-devices-exceed-max-memory", Severity.ERROR)
def memory_devices_exceed_max_memory(ctx: CheckContext) -> Iterator[Finding]:
    """Initial memory plus memory devices exceed `<maxMemory>`.

    ## What it checks
    The cells' memory (or `<memory>` without cells) plus every memory device's size is
    at most `<maxMemory>`.

    ## Why
    libvirt refuses the domain: "memory device total size exceeds hotplug space"
    (or "maximum memory size must be equal or greater than the actual memory size").

    ## Example
    ```xml
    <maxMemory slots='16' unit='GiB'>8</maxMemory>
    <memory unit='GiB'>4</memory>  <!-- cells 4 GiB, plus two 4 GiB DIMMs -->
    ```

    ## Fix
    Raise `<maxMemory>` or remove devices.
    """
    intent = ctx.intent
    limit = intent.domain.max_memory_kib
    if limit is None:
        return
    initial = sum(c.memory_kib for c in intent.cells) if intent.cells else intent.memory_kib
    devices = sum(d.size_kib or 0 for d in intent.domain.memory_devices)
    if initial + devices > limit:
        with_devices = f" plus {format_kib(devices)} of memory devices" if devices else ""
        yield Finding(
            "VN414",
            f"initial memory {format_kib(initial)}{with_devices} exceeds maxMemory "
            f"{format_kib(limit)}",
            ("max_memory",),
            hint=f"raise <maxMemory> to at least {format_kib(initial + devices)}",
        )


@rule("VN415", "vcpu-hotplug-granularity", Severity.ERROR)
def vcpu_hotplug_granularity(ctx: CheckContext) -> Iterator[Finding]:
    """On pSeries, the online vCPU count is not a multiple of the threads per core.

    ## What it checks
    For ppc64 `pseries` guests, `<vcpu current>` (or the maximum) is a multiple of the
    topology's `threads`: QEMU hot-plugs whole cores there.

    ## Why
    libvirt refuses the domain: "vCPUs count must be a multiple of the vCPU hotplug
    granularity (N)".

    ## Example
    ```xml
    <vcpu current='2'>8</vcpu>
    <cpu><topology sockets='1' cores='2' threads='4'/></cpu>   <!-- ppc64 pseries -->
    ```

    ## Fix
    Bring vCPUs online in whole cores: current='4' or '8'.
    """
    extras = ctx.intent.domain
    topology = extras.topology
    if topology is None or topology.threads <= 1 or not (extras.arch or "").startswith("ppc64"):
        return
    if not (extras.machine or "pseries").startswith("pseries"):
        return
    online = extras.vcpus_current if extras.vcpus_current is not None else ctx.intent.vcpus
    if online % topology.threads:
        yield Finding(
            "VN415",
            f"{online} online vCPUs is not a multiple of the vCPU hotplug granularity "
            f"({topology.threads} threads per core)",
            ("vcpus_current",) if extras.vcpus_current is not None else ("vcpus",),
            hint=f'libvirt: "vCPUs count must be a multiple of the vCPU hotplug granularity '
            f'({topology.threads})"',
        )


@rule("VN416", "pci-controller-numa-node", Severity.ERROR)
def pci_controller_numa_node(ctx: CheckContext) -> Iterator[Finding]:
    """A PCI controller is placed on a guest NUMA node that does not exist, or is the root bus.

    ## What it checks
    A `<controller type='pci'>` with `<target><node>` names an existing guest cell, and
    the controller with index 0 (the root bus) has no node.

    ## Why
    libvirt refuses both: "The PCI controller with index=0 can't be associated with a
    NUMA node", and "... is configured for a NUMA node (N) not present in the domain's
    <cpu><numa> array (M)".

    ## Example
    ```xml
    <controller type='pci' index='1' model='pci-expander-bus'>
      <target busNr='254'><node>3</node></target>   <!-- 2 guest cells -->
    </controller>
    ```

    ## Fix
    Use a guest cell id, and leave the root controller without a node.
    """
    cells = len(ctx.intent.cells)
    for ref in ctx.intent.domain.pci_nodes:
        if ref.index == 0:
            yield Finding(
                "VN416",
                "The PCI controller with index=0 can't be associated with a NUMA node",
                (*ref.path, "node"),
                hint="remove <node> from the root controller; put devices on an expander bus instead",
            )
        elif ref.node >= cells:
            yield Finding(
                "VN416",
                f"{ref.model or 'PCI controller'} with index {ref.index} is configured for a NUMA "
                f"node ({ref.node}) not present in the domain's <cpu><numa> array ({cells})",
                (*ref.path, "node"),
                hint=f"use a guest cell 0-{cells - 1}" if cells else "add guest NUMA cells",
            )
