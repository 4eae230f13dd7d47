"""Output formats for `vnuma lint`: text, JSON, SARIF 2.1.0 and GitHub Actions annotations.

Every renderer is a pure function of the diagnostics (and, for SARIF, the rule catalogue):
no timestamps, no environment, no working directory, so output is byte-for-byte stable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePath

from vnuma import __version__, codes
from vnuma.codes import Code
from vnuma.diagnostics import Diagnostic, Severity, Span

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing when vnuma starts
if TYPE_CHECKING:
    from typing import Any

FORMATS = ("text", "json", "sarif", "github")

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/vnuma/vnuma"
FINGERPRINT_KEY = "vnuma/v1"

_BOLD = "\033[1m"
_RESET = "\033[0m"
_COLOURS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}
_SARIF_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_GITHUB_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
_TAGS = {
    "VN0": "input",
    "VN1": "guest",
    "VN2": "host",
    "VN3": "output",
    "VN4": "domain",
    "VN5": "admission",
}
_SECTION = re.compile(r"^##\s+(.+?)\s*$")


def resolve_format(name: str, environ: Mapping[str, str]) -> str:
    """Turn `auto` into `github` inside a GitHub Actions workflow and `text` elsewhere."""
    if name != "auto":
        return name
    if environ.get("GITHUB_ACTIONS") == "true" and environ.get("GITHUB_WORKFLOW"):
        return "github"
    return "text"


def render(
    fmt: str, diagnostics: Sequence[Diagnostic], *, colour: bool = False, summary: str = ""
) -> str:
    renderers: dict[str, Callable[[], str]] = {
        "text": lambda: render_text(diagnostics, colour=colour, summary=summary),
        "json": lambda: render_json(diagnostics),
        "sarif": lambda: render_sarif(diagnostics),
        "github": lambda: render_github(diagnostics),
    }
    if fmt not in renderers:
        raise ValueError(f"unknown output format {fmt!r}; choose from {', '.join(FORMATS)}")
    return renderers[fmt]()


def _lines(lines: Sequence[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


def _text_entry(diag: Diagnostic, colour: bool) -> list[str]:
    code = f"{_BOLD}{_COLOURS[diag.severity]}{diag.code}{_RESET}" if colour else diag.code
    line = f"{diag.path}:{diag.line}:{diag.column}: {code} {diag.message}"
    if diag.severity is not Severity.ERROR:
        label = f"({diag.severity.label})"
        line += f" {_COLOURS[diag.severity]}{label}{_RESET}" if colour else f" {label}"
    entry = [line]
    if diag.hint:
        entry.append(f"    hint: {diag.hint}")
    return entry


def render_text(
    diagnostics: Sequence[Diagnostic], *, colour: bool = False, summary: str = ""
) -> str:
    lines = [line for diag in diagnostics for line in _text_entry(diag, colour)]
    if summary:
        lines.append(summary)
    return _lines(lines)


def _json_entry(diag: Diagnostic) -> dict[str, Any]:
    span = diag.span
    return {
        "code": diag.code,
        "name": diag.name,
        "severity": diag.severity.label,
        "message": diag.message,
        "hint": diag.hint,
        "path": diag.path,
        "line": diag.line,
        "column": diag.column,
        "end_line": span.end_line if span else None,
        "end_column": span.end_column if span else None,
        "json_path": diag.json_path,
    }


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    import json

    entries = [_json_entry(diag) for diag in diagnostics]
    return json.dumps(entries, indent=2, ensure_ascii=False) + "\n"


def doc_sections(doc: str) -> dict[str, str]:
    """The `## Heading` sections of a rule doc, by heading, with their stripped text.

    Headings inside fenced code blocks (a YAML comment such as `## note`) do not count.
    """
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    in_fence = False
    for line in doc.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        heading = None if in_fence else _SECTION.match(line)
        if heading:
            current = sections.setdefault(heading.group(1), [])
        elif current is not None:
            current.append(line)
    return {heading: "\n".join(body).strip() for heading, body in sections.items()}


def rule_tags(code: str) -> list[str]:
    return [_TAGS.get(code[:3].upper(), "vnuma")]


def artifact_uri(path: str) -> str:
    """A SARIF artifact URI: relative paths stay relative (with `/`), absolute ones get file://."""
    from urllib.parse import quote

    pure = PurePath(path)
    if pure.is_absolute():
        return Path(path).as_uri()
    return quote(pure.as_posix(), safe="/")


def fingerprint(diag: Diagnostic) -> str:
    """Stable across runs and line moves: only code, path and message go in."""
    import hashlib

    return hashlib.sha256(f"{diag.code}:{diag.path}:{diag.message}".encode()).hexdigest()[:32]


def _sarif_rule(rule: Code) -> dict[str, Any]:
    doc = rule.doc.strip()
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": doc},
        "help": {"text": doc_sections(doc).get("Fix") or rule.summary, "markdown": doc},
        "defaultConfiguration": {"level": _SARIF_LEVELS[rule.severity]},
        "properties": {"tags": rule_tags(rule.code), "precision": "very-high"},
    }


def _has_end(span: Span) -> bool:
    return span.end_column > 0 and (span.end_line, span.end_column) >= (span.line, span.column)


def _region(diag: Diagnostic) -> dict[str, int]:
    region = {"startLine": diag.line, "startColumn": diag.column}
    if diag.span and _has_end(diag.span):
        region |= {"endLine": diag.span.end_line, "endColumn": diag.span.end_column}
    return region


def _sarif_result(diag: Diagnostic, rule_index: Mapping[str, int]) -> dict[str, Any]:
    text = f"{diag.message}\nhint: {diag.hint}" if diag.hint else diag.message
    result: dict[str, Any] = {"ruleId": diag.code}
    if diag.code in rule_index:
        result["ruleIndex"] = rule_index[diag.code]
    result |= {
        "level": _SARIF_LEVELS[diag.severity],
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(diag.path)},
                    "region": _region(diag),
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(diag)},
    }
    return result


def render_sarif(diagnostics: Sequence[Diagnostic], *, rules: Sequence[Code] | None = None) -> str:
    catalogue = sorted(codes.ALL if rules is None else rules, key=lambda r: r.code)
    rule_index = {rule.code: index for index, rule in enumerate(catalogue)}
    driver = {
        "name": "vnuma",
        "version": __version__,
        "informationUri": INFORMATION_URI,
        "rules": [_sarif_rule(rule) for rule in catalogue],
    }
    run = {
        "tool": {"driver": driver},
        "columnKind": "unicodeCodePoints",
        "results": [_sarif_result(diag, rule_index) for diag in diagnostics],
    }
    doc = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    import json

    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def escape_data(text: str) -> str:
    """Escape a workflow command's message as actions/toolkit `escapeData` does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command property value as actions/toolkit `escapeProperty` does."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _github_line(diag: Diagnostic) -> str:
    props = {"file": diag.path, "line": diag.line, "col": diag.column}
    if diag.span:
        props |= {"endLine": diag.span.end_line, "endColumn": diag.span.end_column}
    props["title"] = f"{diag.code} ({diag.name})"
    joined = ",".join(f"{key}={escape_property(str(value))}" for key, value in props.items())
    message = f"{diag.message}\nhint: {diag.hint}" if diag.hint else diag.message
    return f"::{_GITHUB_LEVELS[diag.severity]} {joined}::{escape_data(message)}"


def render_github(diagnostics: Sequence[Diagnostic]) -> str:
    return _lines([_github_line(diag) for diag in diagnostics])


def count_summary(diagnostics: Sequence[Diagnostic]) -> str:
    """`Found 2 errors, 1 warning.` (notes counted only when there are some)."""
    counts = {severity: 0 for severity in Severity}
    for diag in diagnostics:
        counts[diag.severity] += 1
    parts = [_plural(counts[Severity.ERROR], "error"), _plural(counts[Severity.WARNING], "warning")]
    if counts[Severity.INFO]:
        parts.append(_plural(counts[Severity.INFO], "note"))
    return "Found " + ", ".join(parts) + "."


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
