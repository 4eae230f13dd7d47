"""The rules: the checks of each rule module, joined with their codes in `vnuma.codes`.

A code is either reported by a *check* (a function over the model, run by the check
stage), by an *admission* check (all guests of a host together), or by another stage
(parse errors, schema violations, placement, output verification). Every code is
documented the same way, in `vnuma.codes`, and shown by `vnuma explain CODE`.

Nothing is registered at import time: each rule module lists its checks in ``CHECKS``,
and the functions below read those tuples (once; the result is cached).
"""

from __future__ import annotations

from functools import cache

from vnuma import codes
from vnuma.records import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing when vnuma starts
if TYPE_CHECKING:
    from vnuma.diagnostics import Severity
    from vnuma.rules.base import Admission, Check


@cache
def checks() -> tuple[Check, ...]:
    """Every per-guest check, in code order."""
    # import statements, not importlib.import_module: `python -X importtime` (the
    # benchmark's import budget) only sees imports made by the import statement
    from vnuma.rules import cells, domain, host, numatune

    found = (*cells.CHECKS, *numatune.CHECKS, *host.CHECKS, *domain.CHECKS)
    return tuple(sorted(found, key=lambda c: c.code.code))


@cache
def admissions() -> tuple[Admission, ...]:
    """Every whole-host admission check, in code order."""
    from vnuma.rules import admission

    return tuple(sorted(admission.CHECKS, key=lambda c: c.code.code))


class Rule(Record):
    """A catalogue code and the check that reports it (None: another stage reports it)."""

    __slots__ = ("admission", "check", "entry")

    def __init__(
        self, entry: codes.Code, check: Check | None = None, admission: Admission | None = None
    ) -> None:
        self.entry = entry
        self.check = check
        self.admission = admission

    @property
    def code(self) -> str:
        return self.entry.code

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def severity(self) -> Severity:
        return self.entry.severity

    @property
    def doc(self) -> str:
        return self.entry.doc

    @property
    def summary(self) -> str:
        return self.entry.summary

    @property
    def needs_host(self) -> bool:
        return needs_host(self.code)


@cache
def _catalogue() -> dict[str, Rule]:
    reported = [c.code.code for c in checks()] + [a.code.code for a in admissions()]
    if len(set(reported)) != len(reported):
        raise RuntimeError(f"a code is reported by two checks: {sorted(reported)}")
    by_check = {found.code.code: found for found in checks()}
    by_admission = {found.code.code: found for found in admissions()}
    return {
        entry.code: Rule(entry, by_check.get(entry.code), by_admission.get(entry.code))
        for entry in codes.ALL
    }


def needs_host(code: str) -> bool:
    """Whether the code can only fire when a host snapshot is known: whole-host admission
    (every VN5xx code; answered without importing the admission rules, which a one-file
    lint never runs) and the checks registered with ``needs_host``."""
    code = code.upper()
    if code.startswith("VN5"):
        return True
    found = _check_by_code().get(code)
    return found is not None and found.needs_host


@cache
def _check_by_code() -> dict[str, Check]:
    return {found.code.code: found for found in checks()}


def all_rules() -> list[Rule]:
    """Every code of the catalogue, in code order, with the check that reports it."""
    return list(_catalogue().values())


def get_rule(code: str) -> Rule | None:
    return _catalogue().get(code.upper())
