"""Check stage: run every rule over the resolved guest and turn findings into located
diagnostics."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from vnuma.codes import Code, make_diagnostic
from vnuma.diagnostics import Diagnostic
from vnuma.model.guest import Guest
from vnuma.model.host import HostTopology
from vnuma.rules import admissions, checks
from vnuma.rules.base import AdmissionContext, AdmissionFinding, Check, CheckContext, Finding

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing when vnuma starts
if TYPE_CHECKING:
    from vnuma.model.capacity import HostLoad


@cache
def applicable_checks(has_host: bool) -> tuple[Check, ...]:
    """The checks that run with (or without) a host, in code order (once per run)."""
    return tuple(c for c in checks() if has_host or not c.needs_host)


def run_checks(guest: Guest, host: HostTopology | None) -> list[Diagnostic]:
    return run_checks_each([guest], host)[0]


def run_checks_each(guests: Sequence[Guest], host: HostTopology | None) -> list[list[Diagnostic]]:
    """`run_checks` for each guest (of one host): each check runs over every guest before
    the next check, whose code then stays in the processor's caches."""
    contexts = [CheckContext(guest, host) for guest in guests]
    found: list[list[Diagnostic]] = [[] for _ in guests]
    # ~50 checks per guest of a fleet: Check.can_run/__call__ and a generator per check
    # cost more than most checks, which find nothing
    has_host_cells = host is not None and bool(host.cells)
    rows = [
        (context, diagnostics, context.guest.domain.unreadable)
        for context, diagnostics in zip(contexts, found, strict=True)
    ]
    for check in applicable_checks(has_host_cells):
        code, reads, run = check.code, check.reads, check.run
        for context, diagnostics, unreadable in rows:
            if unreadable and reads & unreadable:
                continue  # it would read a value libvirt refuses (already reported)
            for finding in run(context):
                diagnostics.append(_locate(context.guest, code, finding))
    for diagnostics in found:
        if len(diagnostics) > 1:
            diagnostics.sort(key=Diagnostic.sort_key)
    return found


def _is_block_value(guest: Guest, finding: Finding) -> bool:
    """A YAML/TOML list or mapping written as an indented block is best pointed at by its key."""
    if not guest.language.keyed:
        return False  # an XML value is located exactly; its "key" is only the element's tag
    key = guest.positions.keys.get(finding.path)
    value = guest.positions.values.get(finding.path)
    return key is not None and value is not None and value.line > key.line


def _locate(guest: Guest, code: Code, finding: Finding) -> Diagnostic:
    span = guest.positions.locate(finding.path, prefer_key=_is_block_value(guest, finding))
    return make_diagnostic(
        code,
        finding.message,
        guest.path,
        span,
        hint=finding.hint,
        json_path=finding.path if guest.language.keyed else None,
        severity=finding.severity,
    )


def run_admission(
    host: HostTopology, guests: list[Guest], load: HostLoad | None = None
) -> list[Diagnostic]:
    """Whole-host checks; each finding becomes one diagnostic in every guest's file it names.

    Admission is about guests together: what one guest overcommits alone is its own
    per-guest finding (VN203, VN206, VN209, ...), and every admission rule stays silent
    for it. So a host with one guest is not admitted at all (a pre-commit run on one file
    skips the max-flow module). ``load``: the capacity model's layout of these guests,
    when the caller already has it."""
    readable = [guest for guest in guests if not guest.domain.unreadable]
    if len(readable) != len(guests):
        # a domain with values libvirt refuses holds stand-ins for them: admit without it
        guests, load = readable, None
    if not host.cells or len(guests) < 2:
        return []
    if load is None:
        from vnuma.model.capacity import host_load

        load = host_load(host, guests)
    context = AdmissionContext(host, tuple(guests), load)
    diagnostics: list[Diagnostic] = []
    for admission in admissions():
        for finding in admission(context):
            diagnostics.extend(_locate_admission(admission.code, finding))
    return sorted(diagnostics, key=Diagnostic.sort_key)


def _locate_admission(code: Code, finding: AdmissionFinding) -> list[Diagnostic]:
    return [
        _locate(guest, code, Finding(finding.message, path, finding.hint))
        for guest, path in finding.places
    ]
