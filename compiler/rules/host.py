"""Fit against the host snapshot: node existence, memory, huge page pools, CPUs."""

from __future__ import annotations

from collections.abc import Iterator

from vnuma.cpusets import format_cpuset
from vnuma.diagnostics import JsonPath, Severity
from vnuma.model.host import HostTopology
from vnuma.model.intent import Binding, GuestCell, Intent
from vnuma.rules import Finding, rule
from vnuma.rules.check import CheckContext
from vnuma.sizes import format_kib


def _named_nodes(intent: Intent) -> Iterator[tuple[frozenset[int], JsonPath]]:
    """Host node sets the guest binds to (a nodeset next to placement auto is dropped)."""
    numatune = intent.numatune
    if numatune is not None and numatune.nodeset is not None and not intent.auto_placement:
        yield intent.numatune.nodeset, ("numatune", "nodeset")
    for cell in intent.cells:
        if cell.host_nodes is not None:
            yield cell.host_nodes, (*cell.path, "host_nodes")


def _known(host: HostTopology, binding: Binding) -> bool:
    return binding.nodes <= host.node_ids


def _groups(bindings: list[Binding]) -> Iterator[tuple[Binding, list[Binding]]]:
    """For each distinct node set, the bindings that must fit inside it (first one reports)."""
    seen: set[frozenset[int]] = set()
    for binding in bindings:
        if binding.nodes in seen:
            continue
        seen.add(binding.nodes)
        yield binding, [b for b in bindings if b.nodes <= binding.nodes]


def _labels(group: list[Binding]) -> str:
    """'guest cell 0 needs' / 'guest cells 0, 1 need' style subject."""
    if len(group) == 1:
        return f"{group[0].label} needs"
    cells = [b.cell.id for b in group if b.cell is not None]
    return (
        f"guest cells {', '.join(map(str, cells))} need"
        if len(cells) == len(group)
        else "the guest needs"
    )


@rule("VN201", "host-node-missing", Severity.ERROR, needs_host=True)
def host_node_missing(ctx: CheckContext) -> Iterator[Finding]:
    """A nodeset or a cell's host_nodes names a NUMA node the host does not have.

    ## What it checks
    Every host node in `numatune.nodeset` and in cells' `host_nodes` exists in the
    host snapshot.

    ## Why
    libvirt accepts the definition and fails only at `virsh start` with
    "NUMA node N is unavailable" (or "Invalid value '1-2' for 'cpuset.mems'" on
    some hosts).

    ## Example
    ```yaml
    numatune: {mode: strict, nodeset: "0-3"}   # on a 2-node host
    ```

    ## Fix
    Use nodes the host has (`vnuma host HOST.xml` lists them).
    """
    host = ctx.host
    assert host is not None
    for nodes, path in _named_nodes(ctx.intent):
        for node in sorted(nodes - host.node_ids):
            yield Finding(
                "VN201",
                f"NUMA node {node} is unavailable: the host has node(s) "
                f"{format_cpuset(host.node_ids)}",
                path,
                hint="libvirt accepts this and fails only at `virsh start`; use existing host nodes",
            )


@rule("VN202", "cell-on-cpuless-node", Severity.WARNING, needs_host=True)
def cell_on_cpuless_node(ctx: CheckContext) -> Iterator[Finding]:
    """Memory of vCPUs is bound only to host nodes without CPUs.

    ## What it checks
    A guest cell with vCPUs (or a guest without cells) whose memory binding has at
    least one host node with CPUs.

    ## Why
    CPU-less nodes (CXL expanders, HBM, persistent memory) are remote to every CPU:
    each memory access of those vCPUs crosses the interconnect.

    ## Example
    ```yaml
    cells:
      - {cpus: "0-7", memory: 8GiB, host_nodes: "2"}   # node 2 is memory-only
    ```

    ## Fix
    Bind vCPU cells to nodes with CPUs; model the slow memory as a CPU-less guest cell.
    """
    host = ctx.host
    assert host is not None
    intent = ctx.intent
    for binding in intent.bindings():
        if not _known(host, binding) or (binding.cell is not None and not binding.cell.cpus):
            continue
        if all(not cell.cpus for cell in host.cells_of(binding.nodes)):
            yield Finding(
                "VN202",
                f"{binding.label} has vCPUs but its memory is bound to CPU-less host node(s) "
                f"{format_cpuset(binding.nodes)}",
                binding.path,
                hint="every memory access will be remote; bind to a node with CPUs, or make this a "
                "memory-only guest cell",
            )


def _small_page_capacity(host: HostTopology, nodes: frozenset[int]) -> int | None:
    total = 0
    for node in nodes:
        cell = host.cell(node)
        if cell is None or cell.small_page_kib is None:
            return None
        total += cell.small_page_kib
    return total


def _capacity_hint(host: HostTopology, nodes: frozenset[int]) -> str:
    reserved = sum(cell.hugepage_reserved_kib for cell in host.cells_of(nodes))
    note = f" ({format_kib(reserved)} of it is set aside as huge pages)" if reserved else ""
    return (
        f"host node(s) {format_kib(_small_page_capacity(host, nodes) or 0)} usable{note}; "
        "bind more nodes, shrink the guest, or use mode: preferred"
    )


@rule("VN203", "cell-exceeds-node-memory", Severity.ERROR, needs_host=True)
def cell_exceeds_node_memory(ctx: CheckContext) -> Iterator[Finding]:
    """Strictly bound guest cells need more memory than their host nodes have.

    ## What it checks
    With mode strict or restrictive and no huge pages, the memory of the cells bound
    to a set of host nodes fits those nodes' memory minus what is set aside in huge
    page pools (that memory cannot back ordinary pages).

    ## Why
    A strict binding cannot fall back to other nodes: the guest is OOM-killed or fails
    to allocate at start. libvirt does not check this; oVirt checks total memory only
    and ignores huge page pools.

    ## Example
    ```yaml
    cells:
      - {cpus: "0-7", memory: 256GiB, host_nodes: "0"}   # node 0 has 192 GiB
    ```

    ## Fix
    Bind the cell to more nodes, make it smaller, or use mode: preferred.
    """
    host, intent = ctx.host, ctx.intent
    assert host is not None
    if not intent.cells:
        return
    bindings = [
        b
        for b in intent.bindings()
        if b.mode.binds and _known(host, b) and intent.page_size_of(b.cell) is None
    ]
    for first, group in _groups(bindings):
        need = sum(b.memory_kib for b in group)
        have = _small_page_capacity(host, first.nodes)
        if have is not None and need > have:
            yield Finding(
                "VN203",
                f"{_labels(group)} {format_kib(need)} bound to host node(s) "
                f"{format_cpuset(first.nodes)}, which have {format_kib(have)}",
                first.path,
                hint=_capacity_hint(host, first.nodes),
            )


@rule("VN204", "guest-exceeds-nodeset-memory", Severity.ERROR, needs_host=True)
def guest_exceeds_nodeset_memory(ctx: CheckContext) -> Iterator[Finding]:
    """The whole guest, strictly bound, needs more memory than its host nodes have.

    ## What it checks
    With mode strict or restrictive and no huge pages, the guest's memory fits the
    nodeset (plus the cells' host_nodes), minus huge page pools.

    ## Why
    As for VN203: a strict binding has no fallback, and libvirt does not check it.

    ## Example
    ```yaml
    memory: 512GiB
    numatune: {mode: strict, nodeset: "0-1"}     # 2 x 192 GiB host
    ```

    ## Fix
    Add nodes to the nodeset, shrink the guest, or use preferred/interleave.
    """
    host, intent = ctx.host, ctx.intent
    assert host is not None
    if intent.uses_hugepages or not intent.memory_mode.binds or intent.auto_placement:
        return
    if intent.numatune is None or not intent.numatune.guest_wide:
        return
    nodes = frozenset().union(*(nodes for nodes, _ in _named_nodes(intent)))
    if not nodes or not nodes <= host.node_ids:
        return
    have = _small_page_capacity(host, nodes)
    # A domain's memory is what its cells hold (libvirt recomputes <memory>, see VN106).
    need = sum(c.memory_kib for c in intent.cells) if intent.cells else intent.memory_kib
    if have is not None and need > have:
        yield Finding(
            "VN204",
            f"the guest needs {format_kib(need)} bound to host node(s) "
            f"{format_cpuset(nodes)}, which have {format_kib(have)}",
            ("numatune", "nodeset") if intent.numatune and intent.numatune.nodeset else ("memory",),
            hint=_capacity_hint(host, nodes),
        )


@rule("VN205", "hugepage-size-unavailable", Severity.ERROR, needs_host=True)
def hugepage_size_unavailable(ctx: CheckContext) -> Iterator[Finding]:
    """The huge page size does not exist on the host.

    ## What it checks
    `hugepages.size` is one of the host's page sizes (capabilities `<pages>`).

    ## Why
    libvirt fails at start: "Unable to find any usable hugetlbfs mount for N KiB".

    ## Example
    ```yaml
    hugepages: {size: 16MiB}    # x86_64 has 4 KiB, 2 MiB, 1 GiB
    ```

    ## Fix
    Use a size the host supports.
    """
    host = ctx.host
    assert host is not None
    sizes = sorted(set(host.page_sizes_kib) | {p.size_kib for c in host.cells for p in c.pages})
    for pages in ctx.intent.hugepages:
        if host.supports_page_size(pages.size_kib):
            continue
        yield Finding(
            "VN205",
            f"the host has no {format_kib(pages.size_kib)} pages",
            pages.path,
            hint=f'libvirt: "Unable to find any usable hugetlbfs mount for {pages.size_kib} KiB"; '
            f"host page sizes: {', '.join(format_kib(s) for s in sizes) or 'none listed'}",
        )


def _pool_pages(host: HostTopology, nodes: frozenset[int], size_kib: int) -> int:
    total = 0
    for node in nodes:
        cell = host.cell(node)
        pool = cell.pool(size_kib) if cell else None
        total += pool.count if pool else 0
    return total


@rule("VN206", "hugepage-pool-too-small", Severity.ERROR, needs_host=True)
def hugepage_pool_too_small(ctx: CheckContext) -> Iterator[Finding]:
    """The host's huge page pools cannot hold the guest's memory.

    ## What it checks
    For strict/restrictive bindings: the pages the bound cells need fit the pools of
    their host nodes, per node set. In any mode: the whole guest fits the host's total
    pool of that size. Pool sizes come from the snapshot (`<pages>` per cell).

    ## Why
    libvirt does not check pools; QEMU fails at start ("unable to map backing store
    for guest RAM", "Insufficient free host memory pages available to allocate guest
    RAM"), or Nova-style placement puts 34 GiB on a 32 GiB pool.

    ## Example
    ```yaml
    hugepages: {size: 1GiB}
    cells:
      - {cpus: "0-7", memory: 96GiB, host_nodes: "0"}  # node 0 has 64 x 1 GiB
    ```

    ## Fix
    Grow the pool (`echo N > /sys/devices/system/node/nodeX/hugepages/hugepages-1048576kB/nr_hugepages`),
    bind more nodes, or shrink the guest.
    """
    host, intent = ctx.host, ctx.intent
    assert host is not None
    for size in sorted({pages.size_kib for pages in intent.hugepages}):
        if host.supports_page_size(size):
            yield from _pool_findings(host, intent, size)


def _uses_size(intent: Intent, cell: GuestCell | None, size_kib: int) -> bool:
    pages = intent.page_size_of(cell)
    return pages is not None and pages.size_kib == size_kib


def _page_bindings(host: HostTopology, intent: Intent, size: int) -> list[Binding]:
    """Strict or restrictive bindings to known host nodes of memory backed by ``size`` pages."""
    return [
        b
        for b in intent.bindings()
        if b.mode.binds and _known(host, b) and _uses_size(intent, b.cell, size)
    ]


def _guest_pages(intent: Intent, size: int) -> int:
    """Pages of ``size`` the whole guest needs (each cell rounded up to whole pages)."""
    if intent.cells:
        parts = [c.memory_kib for c in intent.cells if _uses_size(intent, c, size)]
    else:
        parts = [intent.memory_kib] if _uses_size(intent, None, size) else []
    return sum(-(-memory // size) for memory in parts)


def _pool_findings(host: HostTopology, intent: Intent, size: int) -> Iterator[Finding]:
    bindings = _page_bindings(host, intent, size)
    short_group = False
    for first, group in _groups(bindings):
        need = sum(-(-b.memory_kib // size) for b in group)
        have = _pool_pages(host, first.nodes, size)
        if need > have:
            short_group = True
            yield Finding(
                "VN206",
                f"{_labels(group)} {need} x {format_kib(size)} pages on host node(s) "
                f"{format_cpuset(first.nodes)}, whose pools hold {have}",
                first.path,
                hint=_pool_hint(first.nodes, size, need - have),
            )
    need = _guest_pages(intent, size)
    have = _pool_pages(host, host.node_ids, size)
    if need > have and not short_group:
        path = next(p.path for p in intent.hugepages if p.size_kib == size)
        yield Finding(
            "VN206",
            f"the guest needs {need} x {format_kib(size)} pages, the host's pools hold {have} in all",
            path,
            hint=_pool_hint(host.node_ids, size, need - have),
        )


def _pool_hint(nodes: frozenset[int], size_kib: int, short: int) -> str:
    return (
        f"{short} more {format_kib(size_kib)} page(s) needed on node(s) {format_cpuset(nodes)}: raise "
        f"/sys/devices/system/node/nodeN/hugepages/hugepages-{size_kib}kB/nr_hugepages, bind more nodes "
        "or shrink the guest"
    )


def _free_small_memory(host: HostTopology, nodes: frozenset[int]) -> int | None:
    """Free memory of ``nodes`` per the snapshot; None unless every node records it."""
    cells = host.cells_of(nodes)
    if not cells or any(cell.free_memory_kib is None for cell in cells):
        return None
    return sum(cell.free_memory_kib or 0 for cell in cells)


@rule("VN209", "strict-binding-exceeds-free-memory", Severity.WARNING, needs_host=True)
def strict_binding_exceeds_free_memory(ctx: CheckContext) -> Iterator[Finding]:
    """Strictly bound memory fits the host nodes, but not the memory free on them now.

    ## What it checks
    Only when the host snapshot records free memory per node (`vnuma capture` does):
    with mode strict or restrictive and no huge pages, the memory bound to a set of
    host nodes (per cell, or the whole guest) fits what is free on those nodes. When
    it does not even fit their total memory, VN203 or VN204 reports it instead.

    ## Why
    A strict binding cannot spill to other nodes, so a guest started now allocates
    only from these nodes, beside everything already running there. It is a warning:
    the kernel's free figure (MemFree) excludes page cache it can still reclaim, and a
    guest that already runs on the host is counted as used in a live snapshot.

    ## Example
    ```yaml
    cells:
      - {cpus: "0-7", memory: 64GiB, host_nodes: "0"}   # node 0: 192 GiB, 40 GiB free
    ```

    ## Fix
    Bind the cell to nodes with free memory (`vnuma host` shows them), stop or move
    other guests first, or use mode: preferred.
    """
    host, intent = ctx.host, ctx.intent
    assert host is not None
    if intent.auto_placement:
        return
    bindings = [
        b
        for b in intent.bindings()
        if b.mode.binds and _known(host, b) and intent.page_size_of(b.cell) is None
    ]
    for first, group in _groups(bindings):
        need = sum(b.memory_kib for b in group)
        free = _free_small_memory(host, first.nodes)
        if free is None or need <= free:
            continue
        total = _small_page_capacity(host, first.nodes)
        if total is not None and need > total:
            continue
        yield Finding(
            "VN209",
            f"{_labels(group)} {format_kib(need)} bound to host node(s) "
            f"{format_cpuset(first.nodes)}, which have {format_kib(free)} free "
            f"(of {format_kib(total or 0)})",
            first.path,
            hint="bind nodes with free memory (see `vnuma host`), make room first, or use "
            "mode: preferred; if this guest already runs there, a live snapshot counts it as used",
        )


def _free_pool_pages(host: HostTopology, nodes: frozenset[int], size_kib: int) -> int | None:
    """Free pages of a size on ``nodes``; None unless every existing pool records it."""
    total = 0
    for cell in host.cells_of(nodes):
        pool = cell.pool(size_kib)
        if pool is None:
            continue
        if pool.free is None:
            return None
        total += pool.free
    return total


@rule("VN210", "hugepage-pool-free-too-small", Severity.ERROR, needs_host=True)
def hugepage_pool_free_too_small(ctx: CheckContext) -> Iterator[Finding]:
    """The huge page pools are big enough, but too few of their pages are free now.

    ## What it checks
    Only when the host snapshot records free huge pages per node and size (`vnuma
    capture` does): the same fits as VN206, against the free pages instead of the
    pool sizes. When the pools are too small even empty, VN206 reports it instead.

    ## Why
    Huge pages are reserved when QEMU maps guest RAM; pages other guests hold are
    never reclaimed. Started now, QEMU fails with "unable to map backing store for
    guest RAM". If this guest already runs on the host, a live snapshot counts its
    pages as used: capture with it stopped, or ignore the rule for running guests.

    ## Example
    ```yaml
    hugepages: {size: 1GiB}
    cells:
      - {cpus: "0-7", memory: 32GiB, host_nodes: "0"}  # pool: 64 pages, 16 free
    ```

    ## Fix
    Bind nodes whose pools have free pages, free pages by stopping other guests, or
    grow the pool (`nr_hugepages`).
    """
    host, intent = ctx.host, ctx.intent
    assert host is not None
    for size in sorted({pages.size_kib for pages in intent.hugepages}):
        if host.supports_page_size(size):
            yield from _free_pool_findings(host, intent, size)


def _free_pool_findings(host: HostTopology, intent: Intent, size: int) -> Iterator[Finding]:
    bindings = _page_bindings(host, intent, size)
    reported = False
    for first, group in _groups(bindings):
        need = sum(-(-b.memory_kib // size) for b in group)
        free = _free_pool_pages(host, first.nodes, size)
        if free is None or need <= free or need > _pool_pages(host, first.nodes, size):
            continue
        reported = True
        yield Finding(
            "VN210",
            f"{_labels(group)} {need} x {format_kib(size)} pages on host node(s) "
            f"{format_cpuset(first.nodes)}, which have {free} free "
            f"(of {_pool_pages(host, first.nodes, size)})",
            first.path,
            hint=_free_pool_hint(first.nodes, size, need - free),
        )
    need = _guest_pages(intent, size)
    free = _free_pool_pages(host, host.node_ids, size)
    if reported or free is None or need <= free or need > _pool_pages(host, host.node_ids, size):
        return
    path = next(p.path for p in intent.hugepages if p.size_kib == size)
    yield Finding(
        "VN210",
        f"the guest needs {need} x {format_kib(size)} pages, the host's pools have {free} free",
        path,
        hint=_free_pool_hint(host.node_ids, size, need - free),
    )


def _free_pool_hint(nodes: frozenset[int], size_kib: int, short: int) -> str:
    return (
        f"{short} more free {format_kib(size_kib)} page(s) needed on node(s) "
        f"{format_cpuset(nodes)}: stop guests holding them, bind other nodes or grow the pool; "
        "if this guest already runs there, a live snapshot counts its pages as used"
    )


@rule("VN207", "vcpu-overcommit", Severity.WARNING, needs_host=True)
def vcpu_overcommit(ctx: CheckContext) -> Iterator[Finding]:
    """More vCPUs than host CPUs: in total, or in a cell versus its bound host nodes.

    ## What it checks
    `vcpus` does not exceed the host's CPUs, and a cell's vCPUs do not exceed the CPUs
    of the host nodes that hold its memory.

    ## Why
    Overcommitted vCPUs time-share host CPUs; a cell's vCPUs that cannot all run on
    their memory's node run elsewhere and pay remote-memory latency on every access.

    ## Example
    ```yaml
    vcpus: 48
    cells:
      - {cpus: "0-47", memory: 64GiB, host_nodes: "0"}   # node 0 has 40 CPUs
    ```

    ## Fix
    Spread the cell over more host nodes, split it into more cells, or use fewer vCPUs.
    """
    host, intent = ctx.host, ctx.intent
    assert host is not None
    if intent.vcpus > host.cpu_count:
        yield Finding(
            "VN207",
            f"{intent.vcpus} vCPUs on a host with {host.cpu_count} CPUs",
            ("vcpus",),
            hint="vCPUs will time-share host CPUs; lower vcpus unless overcommit is intended",
        )
    for cell in intent.cells:
        if not cell.host_nodes or not cell.host_nodes <= host.node_ids:
            continue
        cpus = sum(len(node.cpus) for node in host.cells_of(cell.host_nodes))
        if cpus and len(cell.cpus) > cpus:
            yield Finding(
                "VN207",
                f"cell {cell.id} has {len(cell.cpus)} vCPUs but its host node(s) "
                f"{format_cpuset(cell.host_nodes)} have {cpus} CPUs",
                (*cell.path, "cpus"),
                hint="split the cell or bind it to more nodes so its vCPUs can run next to its memory",
            )


@rule("VN208", "guest-exceeds-host-memory", Severity.WARNING, needs_host=True)
def guest_exceeds_host_memory(ctx: CheckContext) -> Iterator[Finding]:
    """The guest has more memory than the whole host.

    ## What it checks
    Without a strict binding or huge pages (which VN204 and VN206 check), the guest's
    memory does not exceed the host's total memory.

    ## Why
    Only swap or memory overcommit (KSM, ballooning) can make this work; it is usually
    a typo in a size.

    ## Example
    ```yaml
    memory: 1TiB     # on a 384 GiB host
    ```

    ## Fix
    Check the size and unit.
    """
    host, intent = ctx.host, ctx.intent
    assert host is not None
    if intent.uses_hugepages or (intent.memory_mode.binds and intent.effective_nodeset is not None):
        return
    if host.memory_kib and intent.memory_kib > host.memory_kib:
        yield Finding(
            "VN208",
            f"the guest has {format_kib(intent.memory_kib)}, the host "
            f"{format_kib(host.memory_kib)}",
            ("memory",),
            hint="check the size and unit; this needs swap or memory overcommit",
        )
