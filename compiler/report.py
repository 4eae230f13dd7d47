"""Human-readable diagnostics for a terminal or a log: `path:line:col: CODE [severity] message`."""

from __future__ import annotations

from collections.abc import Iterable

from compiler.diagnostics import Diagnostic, Severity

_COLOURS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}
_RESET = "\033[0m"
_BOLD = "\033[1m"


def format_diagnostic(diag: Diagnostic, *, colour: bool = False) -> str:
    label = diag.severity.label
    code = diag.code
    if colour:
        label = f"{_COLOURS[diag.severity]}{label}{_RESET}"
        code = f"{_BOLD}{code}{_RESET}"
    text = f"{diag.path}:{diag.line}:{diag.column}: {code} [{label}] {diag.message}"
    if diag.hint:
        text += f"\n    hint: {diag.hint}"
    return text


def summary(diagnostics: Iterable[Diagnostic]) -> str:
    counts = {severity: 0 for severity in Severity}
    for diag in diagnostics:
        counts[diag.severity] += 1
    parts = [
        f"{counts[Severity.ERROR]} error{'s' if counts[Severity.ERROR] != 1 else ''}",
        f"{counts[Severity.WARNING]} warning{'s' if counts[Severity.WARNING] != 1 else ''}",
    ]
    if counts[Severity.INFO]:
        parts.append(f"{counts[Severity.INFO]} note{'s' if counts[Severity.INFO] != 1 else ''}")
    return "Found " + ", ".join(parts) + "."
