"""The rule catalogue: every diagnostic code, its name, default severity and documentation.

A rule is either a *check* (a function over the model, run by the check stage) or a
*declared* code that another stage reports (parse errors, schema violations, output
verification). Both are documented the same way and shown by `vnuma explain CODE`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from vnuma.diagnostics import Diagnostic, JsonPath, Severity, Span, format_json_path

if TYPE_CHECKING:
    from vnuma.model.intent import Intent
    from vnuma.rules.check import AdmissionContext, CheckContext

RULE_MODULES = (  # what _catalogue() imports
    "input",
    "cells",
    "numatune",
    "host",
    "domain",
    "admission",
    "placement",
)


@dataclass(frozen=True)
class Finding:
    """What a check reports; the check stage adds the file and position."""

    code: str
    message: str
    path: JsonPath = ()
    hint: str | None = None
    severity: Severity | None = None


@dataclass(frozen=True)
class AdmissionFinding:
    """A finding about several guests on one host: reported in each guest's file."""

    code: str
    message: str
    places: tuple[tuple[Intent, JsonPath], ...]
    hint: str | None = None


CheckFn = Callable[["CheckContext"], Iterable[Finding]]
AdmissionFn = Callable[["AdmissionContext"], Iterable[AdmissionFinding]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    doc: str
    needs_host: bool = False
    check: CheckFn | None = None
    admission: AdmissionFn | None = None

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0]


_REGISTRY: dict[str, Rule] = {}


def _register(rule: Rule) -> Rule:
    if rule.code in _REGISTRY:
        raise RuntimeError(f"duplicate rule code {rule.code}")
    _REGISTRY[rule.code] = rule
    return rule


def rule(
    code: str, name: str, severity: Severity, *, needs_host: bool = False
) -> Callable[[CheckFn], CheckFn]:
    """Register a check function; its docstring is the rule's documentation."""

    def decorate(fn: CheckFn) -> CheckFn:
        _register(Rule(code, name, severity, inspect.cleandoc(fn.__doc__ or ""), needs_host, fn))
        return fn

    return decorate


def admission_rule(
    code: str, name: str, severity: Severity
) -> Callable[[AdmissionFn], AdmissionFn]:
    """Register a check over all guests mapped to one host (whole-host admission)."""

    def decorate(fn: AdmissionFn) -> AdmissionFn:
        doc = inspect.cleandoc(fn.__doc__ or "")
        _register(Rule(code, name, severity, doc, needs_host=True, admission=fn))
        return fn

    return decorate


def declare(code: str, name: str, severity: Severity, doc: str) -> None:
    """Register a code that a stage other than `check` reports."""
    _register(Rule(code, name, severity, inspect.cleandoc(doc)))


@cache
def _catalogue() -> tuple[Rule, ...]:
    # import statements, not importlib.import_module: `python -X importtime` (the
    # benchmark's import budget) only sees imports made by the import statement
    from vnuma.rules import admission, cells, domain, host, input, numatune, placement  # noqa: F401

    return tuple(sorted(_REGISTRY.values(), key=lambda r: r.code))


def all_rules() -> list[Rule]:
    return list(_catalogue())


def get_rule(code: str) -> Rule | None:
    _catalogue()
    return _REGISTRY.get(code.upper())


def make_diagnostic(
    code: str,
    message: str,
    path: str,
    span: Span | None = None,
    *,
    hint: str | None = None,
    json_path: JsonPath | None = None,
    severity: Severity | None = None,
) -> Diagnostic:
    found = get_rule(code)
    if found is None:
        raise KeyError(f"unknown rule code {code}")
    return Diagnostic(
        code=found.code,
        name=found.name,
        severity=severity if severity is not None else found.severity,
        message=message,
        path=path,
        span=span,
        hint=hint,
        json_path=format_json_path(json_path) if json_path is not None else None,
    )
