"""Whole-host admission: every guest mapped to one host, checked together.

Each guest may fit on its own and still not fit beside the others. These rules see
all guests of a host at once (`vnuma lint` groups files by host snapshot) and report
a finding in the file of every guest involved. The message names the first
``MAX_NAMED`` guests (by file) and counts the others, so that a host with hundreds of
guests does not get hundreds of messages each naming hundreds of guests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from vnuma.cpusets import format_cpuset
from vnuma.diagnostics import JsonPath, Severity
from vnuma.model.host import HostTopology
from vnuma.model.intent import Binding, Intent
from vnuma.rules import AdmissionFinding, admission_rule
from vnuma.rules.check import AdmissionContext
from vnuma.sizes import format_kib

MAX_NAMED = 5
"""Guests named in an admission message; the others are counted."""


if TYPE_CHECKING:
    from vnuma.model.capacity import Demand, Shortfall


def _demand(owner: object, amount: int, nodes: frozenset[int]) -> Demand:
    # The max-flow module is needed only when guests are admitted together, not to lint
    # one file: imported on first use (pre-commit startup).
    from vnuma.model.capacity import Demand

    return Demand(owner, amount, nodes)


def find_shortfall(demands: list[Demand], capacity: dict[int, int]) -> Shortfall | None:
    from vnuma.model.capacity import find_shortfall as find

    return find(demands, capacity)


def _named(parts: list[str], separator: str) -> str:
    """``parts`` joined, the ones after the first MAX_NAMED replaced by a count."""
    if len(parts) <= MAX_NAMED:
        return separator.join(parts)
    others = len(parts) - MAX_NAMED
    rest = f"and {others} other guest{'s' if others > 1 else ''}"
    return separator.join([*parts[:MAX_NAMED], rest])


@admission_rule("VN501", "host-cpu-pinned-twice", Severity.ERROR)
def host_cpu_pinned_twice(ctx: AdmissionContext) -> Iterator[AdmissionFinding]:
    """The same host CPU is pinned exclusively by vCPUs of two guests.

    ## What it checks
    Across all guests mapped to the host, no host CPU is the single-CPU `<vcpupin>`
    target of vCPUs in two different guests.

    ## Why
    A vCPU pinned to exactly one host CPU is meant to own it (real-time, DPDK,
    databases). Two guests on the same CPU time-share it, and both lose the latency
    they were pinned for. libvirt checks nothing across domains; oVirt's pinning
    helpers are known to pin every VM to the same first CPUs.

    ## Example
    ```xml
    <!-- vms/hv01/db01.xml -->  <vcpupin vcpu='0' cpuset='4'/>
    <!-- vms/hv01/db02.xml -->  <vcpupin vcpu='0' cpuset='4'/>
    ```

    ## Fix
    Give each guest its own host CPUs, or pin one of them to a shared (floating) set.
    """
    claims: dict[int, list[tuple[Intent, int, JsonPath]]] = {}
    for guest in ctx.guests:
        for pin in guest.domain.pins:
            if pin.dedicated:
                (cpu,) = pin.cpuset
                claims.setdefault(cpu, []).append((guest, pin.vcpu, (*pin.path, "cpuset")))
    by_guests: dict[tuple[int, ...], list[int]] = {}
    for cpu, owners in sorted(claims.items()):
        guests = {id(guest) for guest, _, _ in owners}
        if len(guests) > 1:
            key = tuple(sorted(guests))
            by_guests.setdefault(key, []).append(cpu)
    for cpus in by_guests.values():
        owners = [owner for cpu in cpus for owner in claims[cpu]]
        yield AdmissionFinding(
            "VN501",
            f"host CPU(s) {format_cpuset(frozenset(cpus))} pinned exclusively by "
            + _pin_owners(owners),
            _first_place_per_guest(owners),
            hint="give each guest its own host CPUs (`vnuma host` lists them)",
        )


def _pin_owners(owners: list[tuple[Intent, int, JsonPath]]) -> str:
    vcpus: dict[int, tuple[Intent, set[int]]] = {}
    for guest, vcpu, _ in owners:
        vcpus.setdefault(id(guest), (guest, set()))[1].add(vcpu)
    return _named(
        [
            f"{guest.label} (vCPU{'s' if len(ids) > 1 else ''} {format_cpuset(frozenset(ids))})"
            for guest, ids in sorted(vcpus.values(), key=lambda item: item[0].path)
        ],
        ", ",
    )


def _first_place_per_guest(
    owners: list[tuple[Intent, int, JsonPath]],
) -> tuple[tuple[Intent, JsonPath], ...]:
    places: dict[int, tuple[Intent, JsonPath]] = {}
    for guest, _, path in owners:
        places.setdefault(id(guest), (guest, path))
    return tuple(sorted(places.values(), key=lambda place: place[0].path))


def _bound_small_page_demands(host: HostTopology, guest: Intent) -> list[Demand]:
    return [
        _demand((guest, b.path, b.label), b.memory_kib, b.nodes)
        for b in guest.bindings()
        if b.mode.binds and b.nodes <= host.node_ids and guest.page_size_of(b.cell) is None
    ]


def _shortfall_finding(
    code: str, shortfall: Shortfall, what: str, hint: str, unit: str = "memory"
) -> AdmissionFinding:
    def amount(value: int) -> str:
        return format_kib(value) if unit == "memory" else f"{value} pages"

    parts: dict[int, tuple[Intent, JsonPath, list[str]]] = {}
    for demand in shortfall.demands:
        guest, path, label = demand.owner  # type: ignore[misc]
        entry = parts.setdefault(id(guest), (guest, path, []))
        where = label.replace("guest cell", "cell") if label != "the guest" else ""
        entry[2].append(f"{where} {amount(demand.amount)}".strip())
    ordered = sorted(parts.values(), key=lambda entry: entry[0].path)
    named = _named([f"{guest.label}: {', '.join(items)}" for guest, _, items in ordered], "; ")
    return AdmissionFinding(
        code,
        f"{what} on host node(s) {format_cpuset(shortfall.nodes)}: {amount(shortfall.needed)} "
        f"needed, {amount(shortfall.available)} available ({named})",
        tuple((guest, path) for guest, path, _ in ordered),
        hint=hint,
    )


def _guests_in(shortfall: Shortfall) -> int:
    return len({id(demand.owner[0]) for demand in shortfall.demands})  # type: ignore[index]


@admission_rule("VN502", "node-memory-overcommitted", Severity.ERROR)
def node_memory_overcommitted(ctx: AdmissionContext) -> Iterator[AdmissionFinding]:
    """Guests strictly bound to the same host nodes need more memory than the nodes have.

    ## What it checks
    The strict/restrictive-bound, small-page memory of all guests mapped to the host
    fits the bound nodes' memory minus their huge page pools. A cell bound to several
    nodes may use any of them: the check is exact (a max-flow), not a per-node sum.

    ## Why
    Each guest passes VN203 alone, yet together they cannot all start: the last one
    is OOM-killed or fails to allocate. Nova and oVirt count a host's memory, not
    each node's.

    ## Example
    Two guests, each with a 120 GiB cell bound strictly to host node 0 (192 GiB).

    ## Fix
    Bind one guest to another node, move it to another host, or shrink them.
    """
    host = ctx.host
    capacity = {cell.id: cell.small_page_kib or 0 for cell in host.cells}
    demands = [d for guest in ctx.guests for d in _bound_small_page_demands(host, guest)]
    shortfall = find_shortfall(demands, capacity)
    if shortfall is not None and _guests_in(shortfall) > 1:
        yield _shortfall_finding(
            "VN502",
            shortfall,
            "strictly bound guest memory",
            "move a guest to other nodes or another host; huge page pools are not counted as free",
        )


def _hugepage_demands(host: HostTopology, guest: Intent, size_kib: int) -> list[Demand]:
    demands = []
    bindings: dict[object, Binding] = {id(b.cell): b for b in guest.bindings()}
    parts = [(cell, cell.memory_kib) for cell in guest.cells] or [(None, guest.memory_kib)]
    for cell, memory in parts:
        pages = guest.page_size_of(cell)
        if pages is None or pages.size_kib != size_kib:
            continue
        binding = bindings.get(id(cell))
        if binding is not None and binding.mode.binds and binding.nodes <= host.node_ids:
            nodes, path, label = binding.nodes, binding.path, binding.label
        else:
            nodes, path = host.node_ids, pages.path
            label = "the guest" if cell is None else f"guest cell {cell.id}"
        demands.append(_demand((guest, path, label), -(-memory // size_kib), nodes))
    return demands


@admission_rule("VN503", "hugepage-pools-overcommitted", Severity.ERROR)
def hugepage_pools_overcommitted(ctx: AdmissionContext) -> Iterator[AdmissionFinding]:
    """Guests on one host need more huge pages of a size than the pools hold.

    ## What it checks
    Per page size, the pages of all guests mapped to the host fit the pools: pages of
    a strictly bound cell come from its nodes' pools, others from any node.

    ## Why
    libvirt never checks pools; the guest that starts last fails with "unable to map
    backing store for guest RAM". Each guest alone passes VN206.

    ## Example
    Two guests with 48 x 1 GiB pages each, bound to host node 0, whose pool has 64.

    ## Fix
    Grow the pool, bind a guest to other nodes, or move it to another host.
    """
    host = ctx.host
    sizes = sorted({pages.size_kib for guest in ctx.guests for pages in guest.hugepages})
    for size in sizes:
        if not host.supports_page_size(size):
            continue
        capacity = {
            cell.id: (pool.count if (pool := cell.pool(size)) else 0) for cell in host.cells
        }
        demands = [d for guest in ctx.guests for d in _hugepage_demands(host, guest, size)]
        shortfall = find_shortfall(demands, capacity)
        if shortfall is not None and _guests_in(shortfall) > 1:
            yield _shortfall_finding(
                "VN503",
                shortfall,
                f"{format_kib(size)} huge pages",
                f"raise nr_hugepages for {format_kib(size)} on node(s) "
                f"{format_cpuset(shortfall.nodes)} or move a guest",
                unit="pages",
            )


@admission_rule("VN504", "free-memory-exceeded", Severity.WARNING)
def free_memory_exceeded(ctx: AdmissionContext) -> Iterator[AdmissionFinding]:
    """The guests need more memory than the snapshot says is free on their nodes.

    ## What it checks
    Only when the host snapshot records free memory per node (`vnuma capture` does):
    the small-page memory of all guests mapped to the host fits the free memory of the
    nodes it is bound to (unbound guests: of any node). A shortfall of one strictly
    bound guest alone is VN209's.

    ## Why
    Total memory says whether guests could ever fit; free memory says whether they
    fit now, beside everything else running on the host.

    ## Example
    Three guests of 64 GiB bound to node 0, whose snapshot shows 100 GiB free.

    ## Fix
    Start fewer guests on the host, or bind some to nodes with free memory. If the
    guests already run, the snapshot's free figure already excludes them.
    """
    host = ctx.host
    if any(cell.free_memory_kib is None for cell in host.cells):
        return
    capacity = {cell.id: cell.free_memory_kib or 0 for cell in host.cells}
    demands = []
    for guest in ctx.guests:
        bound = _bound_small_page_demands(host, guest)
        demands.extend(bound)
        if not bound and not guest.uses_hugepages:
            demands.append(
                _demand((guest, ("memory",), "the guest"), guest.memory_kib, host.node_ids)
            )
    shortfall = find_shortfall(demands, capacity)
    if shortfall is not None and _guests_in(shortfall) > 1:
        yield _shortfall_finding(
            "VN504",
            shortfall,
            "free memory for the guests",
            "capture a fresh snapshot, start fewer guests here, or bind them to nodes with free memory",
        )
