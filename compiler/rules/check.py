"""Check stage: run every rule over the model and turn findings into located diagnostics."""

from __future__ import annotations

from dataclasses import dataclass

from vnuma.diagnostics import Diagnostic
from vnuma.model.host import HostTopology
from vnuma.model.intent import Intent
from vnuma.rules import AdmissionFinding, Finding, Rule, all_rules, make_diagnostic


@dataclass(frozen=True)
class CheckContext:
    intent: Intent
    host: HostTopology | None

    @property
    def has_host_cells(self) -> bool:
        return self.host is not None and bool(self.host.cells)


@dataclass(frozen=True)
class AdmissionContext:
    """Every guest mapped to one host, checked together."""

    host: HostTopology
    guests: tuple[Intent, ...]


def applicable_rules(has_host: bool) -> list[Rule]:
    return [r for r in all_rules() if r.check is not None and (has_host or not r.needs_host)]


def run_checks(intent: Intent, host: HostTopology | None) -> list[Diagnostic]:
    context = CheckContext(intent, host)
    diagnostics: list[Diagnostic] = []
    for rule in applicable_rules(context.has_host_cells):
        assert rule.check is not None
        diagnostics.extend(_locate(intent, finding) for finding in rule.check(context))
    return sorted(diagnostics, key=Diagnostic.sort_key)


def _is_block_value(intent: Intent, finding: Finding) -> bool:
    """A YAML/TOML list or mapping written as an indented block is best pointed at by its key."""
    if intent.is_domain:
        return False  # an XML value is located exactly; its "key" is only the element's tag
    key = intent.positions.keys.get(finding.path)
    value = intent.positions.values.get(finding.path)
    return key is not None and value is not None and value.line > key.line


def _locate(intent: Intent, finding: Finding) -> Diagnostic:
    span = intent.positions.locate(finding.path, prefer_key=_is_block_value(intent, finding))
    return make_diagnostic(
        finding.code,
        finding.message,
        intent.path,
        span,
        hint=finding.hint,
        json_path=None if intent.is_domain else finding.path,
        severity=finding.severity,
    )


def run_admission(host: HostTopology, guests: list[Intent]) -> list[Diagnostic]:
    """Whole-host checks; each finding becomes one diagnostic in every guest's file it names.

    Admission is about guests together: what one guest overcommits alone is its own
    per-guest finding (VN203, VN206, VN209, ...), and every admission rule stays silent
    for it. So a host with one guest is not admitted at all (a pre-commit run on one file
    skips the max-flow module)."""
    if not host.cells or len(guests) < 2:
        return []
    context = AdmissionContext(host, tuple(guests))
    diagnostics: list[Diagnostic] = []
    for rule in all_rules():
        if rule.admission is None:
            continue
        for finding in rule.admission(context):
            diagnostics.extend(_locate_admission(finding))
    return sorted(diagnostics, key=Diagnostic.sort_key)


def _locate_admission(finding: AdmissionFinding) -> list[Diagnostic]:
    return [
        _locate(guest, Finding(finding.code, finding.message, path, finding.hint))
        for guest, path in finding.places
    ]
