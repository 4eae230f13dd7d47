"""Suppression comments: `# vnuma: disable=VN104` (YAML, TOML) and `<!-- vnuma: disable=VN104 -->`.

A YAML/TOML comment covers findings on its own line. An XML comment covers its own
line and the next one, so it can sit on the line before the element it silences.
Codes are comma-separated; a prefix (`VN2`) covers every code it starts. Codes that
silence nothing are reported as VN015, like ruff's RUF100.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable

from vnuma import codes
from vnuma.codes import make_diagnostic
from vnuma.diagnostics import Diagnostic, Span
from vnuma.records import Record

# Codes: words of [A-Za-z0-9_,] separated by spaces. Every repeat is possessive and no two
# parts can match the same character, so a hostile comment is read in one pass (a lazy
# run of codes before `\s*-->` took seconds on a comment of 2,000 spaces).
_CODES = r"(?P<codes>[A-Za-z0-9_,]++(?: ++[A-Za-z0-9_,]++)*+)"
# Strings, compiled by `re` on first use (and cached there): most files have no comment.
_HASH_COMMENT = rf"#\s*+vnuma:\s*+disable\s*+=\s*+{_CODES}"
_XML_COMMENT = rf"<!--\s*+vnuma:\s*+disable\s*+=\s*+{_CODES}\s*+-->"
_CODE = r"VN[0-9]{1,3}"


class Suppression(Record):
    __slots__ = ("code", "lines", "span")

    def __init__(self, code: str, lines: frozenset[int], span: Span) -> None:
        self.code = code
        self.lines = lines
        self.span = span

    def covers(self, diag: Diagnostic) -> bool:
        return diag.line in self.lines and diag.code.startswith(self.code)


def find_suppressions(text: str, kind: str) -> list[Suppression]:
    """Every code named in a suppression comment of a YAML/TOML (`kind` "hash") or XML text."""
    if "vnuma:" not in text:
        return []  # a fleet's files mostly have none: no line table, no regex scan
    pattern = _XML_COMMENT if kind == "xml" else _HASH_COMMENT
    found = []
    line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
    for match in re.finditer(pattern, text):
        line = _line_of(line_starts, match.start("codes"))
        last = _line_of(line_starts, match.end() - 1)
        # An XML comment covers its own lines and the element on the line after it.
        lines = frozenset(range(line, last + 2)) if kind == "xml" else frozenset({line})
        offset = match.start("codes")
        for raw in match.group("codes").split(","):
            code = raw.strip()
            start = offset + len(raw) - len(raw.lstrip())
            offset += len(raw) + 1
            if not code:
                continue
            column = start - line_starts[line - 1] + 1
            span = Span(line, column, line, column + len(code))
            found.append(Suppression(code.upper(), lines, span))
    return found


def _line_of(line_starts: list[int], offset: int) -> int:
    return bisect.bisect_right(line_starts, offset)


def apply_suppressions(
    diagnostics: Iterable[Diagnostic],
    suppressions: list[Suppression],
    path: str,
    *,
    may_fire: Callable[[str], bool],
) -> list[Diagnostic]:
    """Drop suppressed findings; add a VN015 for each code that silenced nothing.

    ``may_fire(code)`` says whether the code could have fired in this run (enabled and,
    for host rules, a host was known): only then is an unused suppression reported.
    """
    kept: list[Diagnostic] = []
    used: set[Suppression] = set()
    for diag in diagnostics:
        match = next((s for s in suppressions if s.covers(diag)), None)
        if match is None:
            kept.append(diag)
        else:
            used.add(match)
    for suppression in suppressions:
        if suppression in used:
            continue
        problem = _unused_reason(suppression.code, may_fire)
        if problem is not None:
            kept.append(
                make_diagnostic(
                    "VN015",
                    problem,
                    path,
                    suppression.span,
                    hint="remove it from the comment",
                )
            )
    return kept


def _unused_reason(code: str, may_fire: Callable[[str], bool]) -> str | None:
    if not re.fullmatch(_CODE, code):
        return f"'{code}' in a vnuma: disable comment is not a rule code"
    if not any(rule.code.startswith(code) for rule in codes.ALL):
        return f"unknown rule code {code} in a vnuma: disable comment"
    if len(code) < 5 or not may_fire(code):
        return None  # a prefix, or a rule this run could not have fired
    return f"unused suppression of {code}: nothing on this line reports it"
