"""What a rule module is written with: the contexts a check sees, what it reports, and the
`check` / `admission` decorators that tie a function to its code in `vnuma.codes`.

A decorator returns a `Check` (or `Admission`) record and registers nothing: each rule
module lists its records in a module-level ``CHECKS`` tuple, and `vnuma.rules` builds
the catalogue from those tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from vnuma.codes import Code
from vnuma.diagnostics import JsonPath, Severity
from vnuma.model.guest import Guest
from vnuma.model.host import HostTopology
from vnuma.records import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing when vnuma starts
if TYPE_CHECKING:
    from vnuma.model.capacity import HostLoad


class CheckContext(Record):
    __slots__ = ("guest", "host")

    def __init__(self, guest: Guest, host: HostTopology | None) -> None:
        self.guest = guest
        self.host = host

    @property
    def has_host_cells(self) -> bool:
        return self.host is not None and bool(self.host.cells)


class AdmissionContext(Record):
    """Every guest mapped to one host, checked together, and the capacity model's layout
    of their memory and pages on its nodes (the one the views draw)."""

    __slots__ = ("guests", "host", "load")

    def __init__(self, host: HostTopology, guests: tuple[Guest, ...], load: HostLoad) -> None:
        self.host = host
        self.guests = guests
        self.load = load


class Finding(Record):
    """What a check reports; the check stage adds the check's code, the file and position."""

    __slots__ = ("hint", "message", "path", "severity")

    def __init__(
        self,
        message: str,
        path: JsonPath = (),
        hint: str | None = None,
        severity: Severity | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.hint = hint
        self.severity = severity


class AdmissionFinding(Record):
    """A finding about several guests on one host: reported in each guest's file."""

    __slots__ = ("hint", "message", "places")

    def __init__(
        self, message: str, places: tuple[tuple[Guest, JsonPath], ...], hint: str | None = None
    ) -> None:
        self.message = message
        self.places = places
        self.hint = hint


CheckFn = Callable[[CheckContext], Iterable[Finding]]
AdmissionFn = Callable[[AdmissionContext], Iterable[AdmissionFinding]]


READS = frozenset(
    {
        "vcpus", "memory", "cells", "numatune", "max_memory", "pins", "memory_devices",
        "pci_nodes", "topology", "hugepages",
    }
)  # fmt: skip
"""The parts of a guest a check may read (`Check.reads`), as a domain XML's reader
names the parts it could not read (`DomainExtras.unreadable`)."""


class Check(Record):
    """A check over one guest (and its host, when ``needs_host``), reporting ``code``.

    ``reads``: the parts of the guest (`READS`) the check looks at. It runs on a guest
    whose domain XML had unreadable values only when it reads none of those parts."""

    __slots__ = ("code", "needs_host", "reads", "run")

    def __init__(
        self, code: Code, run: CheckFn, needs_host: bool = False, reads: frozenset[str] = READS
    ) -> None:
        self.code = code
        self.run = run
        self.needs_host = needs_host
        self.reads = reads

    def can_run(self, guest: Guest) -> bool:
        return not (self.reads & guest.domain.unreadable)

    def __call__(self, ctx: CheckContext) -> Iterable[Finding]:
        return self.run(ctx)


class Admission(Record):
    """A check over all guests mapped to one host (it always needs the host)."""

    __slots__ = ("code", "run")

    def __init__(self, code: Code, run: AdmissionFn) -> None:
        self.code = code
        self.run = run

    def __call__(self, ctx: AdmissionContext) -> Iterable[AdmissionFinding]:
        return self.run(ctx)


def check(
    code: Code, *, needs_host: bool = False, reads: Iterable[str] | None = None
) -> Callable[[CheckFn], Check]:
    """``@check(codes.VN104, reads=("cells",))``: the function is the check that reports
    ``code``, and looks only at those parts of the guest (default: all of them)."""
    parts = READS if reads is None else frozenset(reads)
    if not parts <= READS:
        raise ValueError(f"{code.code}: unknown parts {sorted(parts - READS)}")

    def decorate(fn: CheckFn) -> Check:
        return Check(code, fn, needs_host, parts)

    return decorate


def admission(code: Code) -> Callable[[AdmissionFn], Admission]:
    """``@admission(codes.VN501)``: the function is the whole-host check for ``code``."""

    def decorate(fn: AdmissionFn) -> Admission:
        return Admission(code, fn)

    return decorate
