"""Whole-host admission: every guest mapped to one host, checked together.

Each guest may fit on its own and still not fit beside the others. These rules see
all guests of a host at once (`vnuma lint` groups files by host snapshot) and report
a finding in the file of every guest involved. The message names the first
``MAX_NAMED`` guests (by file) and counts the others, so that a host with hundreds of
guests does not get hundreds of messages each naming hundreds of guests.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from vnuma import codes
from vnuma.cpusets import format_cpuset
from vnuma.diagnostics import JsonPath
from vnuma.model.capacity import owner_of
from vnuma.model.guest import Guest
from vnuma.rules.base import AdmissionContext, AdmissionFinding, admission
from vnuma.sizes import format_kib

MAX_NAMED = 5
"""Guests named in an admission message; the others are counted."""


if TYPE_CHECKING:
    from vnuma.model.flow import Shortfall


def _named(parts: list[str], separator: str) -> str:
    """``parts`` joined, the ones after the first MAX_NAMED replaced by a count."""
    if len(parts) <= MAX_NAMED:
        return separator.join(parts)
    others = len(parts) - MAX_NAMED
    rest = f"and {others} other guest{'s' if others > 1 else ''}"
    return separator.join([*parts[:MAX_NAMED], rest])


@admission(codes.VN501)
def host_cpu_pinned_twice(ctx: AdmissionContext) -> Iterator[AdmissionFinding]:
    """The same host CPU is pinned exclusively by vCPUs of two guests."""
    claims = _dedicated_claims(ctx.guests)
    by_guests: dict[tuple[int, ...], list[int]] = {}
    for cpu, owners in sorted(claims.items()):
        guests = {id(guest) for guest, _, _ in owners}
        if len(guests) > 1:
            key = tuple(sorted(guests))
            by_guests.setdefault(key, []).append(cpu)
    for cpus in by_guests.values():
        owners = [owner for cpu in cpus for owner in claims[cpu]]
        yield AdmissionFinding(
            f"host CPU(s) {format_cpuset(frozenset(cpus))} pinned exclusively by "
            + _pin_owners(owners),
            _first_place_per_guest(owners),
            hint="give each guest its own host CPUs (`vnuma host` lists them)",
        )


def _pin_owners(owners: list[tuple[Guest, int, JsonPath]]) -> str:
    vcpus: dict[int, tuple[Guest, set[int]]] = {}
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
    owners: list[tuple[Guest, int, JsonPath]],
) -> tuple[tuple[Guest, JsonPath], ...]:
    places: dict[int, tuple[Guest, JsonPath]] = {}
    for guest, _, path in owners:
        places.setdefault(id(guest), (guest, path))
    return tuple(sorted(places.values(), key=lambda place: place[0].path))


def _dedicated_claims(guests: Sequence[Guest]) -> dict[int, list[tuple[Guest, int, JsonPath]]]:
    """Each host CPU some guest's vCPU is dedicated to: the guest, the vCPU, the pin."""
    claims: dict[int, list[tuple[Guest, int, JsonPath]]] = {}
    for guest in guests:
        for pin in guest.domain.pins:
            if pin.dedicated:
                (cpu,) = pin.cpuset
                claims.setdefault(cpu, []).append((guest, pin.vcpu, (*pin.path, "cpuset")))
    return claims


def _emulator_path(guest: Guest) -> JsonPath:
    """Where the file pins the emulator threads: `<emulatorpin>`, or `cpu.emulator`
    (the key placement answered; `cpu` when it was left to vnuma)."""
    written = guest.positions
    if ("emulator_pin",) in written.values or ("emulator_pin",) in written.keys:
        return ("emulator_pin",)
    return ("cpu", "emulator")


@admission(codes.VN506)
def emulator_on_dedicated_cpu(ctx: AdmissionContext) -> Iterator[AdmissionFinding]:
    """A guest's emulator threads are pinned onto another guest's dedicated vCPU CPU."""
    claims = _dedicated_claims(ctx.guests)
    for guest in sorted(ctx.guests, key=lambda g: g.path):
        emulator = guest.domain.emulator_pin or frozenset()
        owners = [
            owner
            for cpu in sorted(emulator)
            for owner in claims.get(cpu, ())
            if owner[0] is not guest
        ]
        if not owners:
            continue
        cpus = frozenset(
            cpu for cpu in emulator for owner in claims.get(cpu, ()) if owner[0] is not guest
        )
        yield AdmissionFinding(
            f"emulator threads of {guest.label} pinned onto host CPU(s) {format_cpuset(cpus)}, "
            f"dedicated to {_pin_owners(owners)}",
            ((guest, _emulator_path(guest)), *_first_place_per_guest(owners)),
            hint=f"pin the emulator threads of {guest.label} to CPUs no guest's vCPU is "
            "dedicated to (`vnuma host` lists them)",
        )


@admission(codes.VN507)
def isolated_core_shared(ctx: AdmissionContext) -> Iterator[AdmissionFinding]:
    """Another guest's dedicated vCPU or emulator threads are pinned onto a CPU an
    isolated guest holds idle (a sibling of one of its whole cores)."""
    holders: dict[int, list[Guest]] = {}
    for guest in ctx.guests:
        for cpu in guest.held_cpus:
            holders.setdefault(cpu, []).append(guest)
    if not holders:
        return
    claims = _dedicated_claims(ctx.guests)
    for holder in sorted(
        {id(g): g for gs in holders.values() for g in gs}.values(), key=lambda g: g.path
    ):
        held = holder.held_cpus
        for other in sorted(ctx.guests, key=lambda g: g.path):
            if other is holder:
                continue
            pins = [
                owner for cpu in sorted(held) for owner in claims.get(cpu, ()) if owner[0] is other
            ]
            emulator = held & (other.domain.emulator_pin or frozenset())
            if not pins and not emulator:
                continue
            cpus = frozenset(cpu for cpu in held if any(o[0] is other for o in claims.get(cpu, ())))
            parts = []
            if pins:
                vcpus = frozenset(vcpu for _, vcpu, _ in pins)
                parts.append(
                    f"vCPU{'s' if len(vcpus) > 1 else ''} {format_cpuset(vcpus)} of {other.label} "
                    f"on host CPU(s) {format_cpuset(cpus)}"
                )
            if emulator:
                parts.append(
                    f"the emulator threads of {other.label} on host CPU(s) {format_cpuset(emulator)}"
                )
            place: JsonPath = pins[0][2] if pins else _emulator_path(other)
            yield AdmissionFinding(
                " and ".join(parts)
                + f": held idle by {holder.label} (siblings of its isolated cores, threads: isolate)",
                tuple(
                    sorted(((holder, ("cpu", "threads")), (other, place)), key=lambda p: p[0].path)
                ),
                hint=f"pin {other.label} to cores no isolated guest holds (`vnuma compile "
                "--occupied` chooses them)",
            )


def _shortfall_finding(
    shortfall: Shortfall, what: str, hint: str, unit: str = "memory"
) -> AdmissionFinding:
    def amount(value: int) -> str:
        return format_kib(value) if unit == "memory" else f"{value} pages"

    parts: dict[int, tuple[Guest, JsonPath, list[str]]] = {}
    for demand in shortfall.demands:
        owner = owner_of(demand)
        guest, path, label = owner.guest, owner.path, owner.label
        entry = parts.setdefault(id(guest), (guest, path, []))
        where = label.replace("guest cell", "cell") if label != "the guest" else ""
        entry[2].append(f"{where} {amount(demand.amount)}".strip())
    ordered = sorted(parts.values(), key=lambda entry: entry[0].path)
    named = _named([f"{guest.label}: {', '.join(items)}" for guest, _, items in ordered], "; ")
    return AdmissionFinding(
        f"{what} on host node(s) {format_cpuset(shortfall.nodes)}: {amount(shortfall.needed)} "
        f"needed, {amount(shortfall.available)} available ({named})",
        tuple((guest, path) for guest, path, _ in ordered),
        hint=hint,
    )


def _guests_in(shortfall: Shortfall) -> int:
    return len({id(owner_of(demand).guest) for demand in shortfall.demands})


@admission(codes.VN502)
def node_memory_overcommitted(ctx: AdmissionContext) -> Iterator[AdmissionFinding]:
    """Guests strictly bound to the same host nodes need more memory than the nodes have."""
    shortfall = ctx.load.memory.shortfall
    if shortfall is not None and _guests_in(shortfall) > 1:
        yield _shortfall_finding(
            shortfall,
            "strictly bound guest memory",
            "move a guest to other nodes or another host; huge page pools are not counted as free",
        )


@admission(codes.VN503)
def hugepage_pools_overcommitted(ctx: AdmissionContext) -> Iterator[AdmissionFinding]:
    """Guests on one host need more huge pages of a size than the pools hold."""
    for size, allocation in sorted(ctx.load.pages.items()):
        shortfall = allocation.shortfall
        if shortfall is not None and _guests_in(shortfall) > 1:
            yield _shortfall_finding(
                shortfall,
                f"{format_kib(size)} huge pages",
                f"raise nr_hugepages for {format_kib(size)} on node(s) "
                f"{format_cpuset(shortfall.nodes)} or move a guest",
                unit="pages",
            )


@admission(codes.VN504)
def free_memory_exceeded(ctx: AdmissionContext) -> Iterator[AdmissionFinding]:
    """The guests need more memory than the snapshot says is free on their nodes."""
    shortfall = ctx.load.free.shortfall if ctx.load.free is not None else None
    if shortfall is not None and _guests_in(shortfall) > 1:
        yield _shortfall_finding(
            shortfall,
            "free memory for the guests",
            "capture a fresh snapshot, start fewer guests here, or bind them to nodes with free memory",
        )


CHECKS = (
    host_cpu_pinned_twice,
    emulator_on_dedicated_cpu,
    isolated_core_shared,
    node_memory_overcommitted,
    hugepage_pools_overcommitted,
    free_memory_exceeded,
)
