"""Conformance with libvirt's own test corpus (docs/conformance.py, docs/conformance.md).

Skipped when ../shared/corpus/libvirt is absent. The whole corpus is linted once per
session (about a third of a second).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "docs" / "conformance.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("vnuma_docs_conformance", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


conformance = _load_script()
CORPUS: Path = conformance.DEFAULT_CORPUS

pytestmark = pytest.mark.skipif(
    not (CORPUS / "MANIFEST.tsv").is_file(), reason=f"libvirt corpus not at {CORPUS}"
)

# In-scope failing rows that vnuma flags, but with another rule than the one that
# implements libvirt's check: vnuma bugs awaiting a fix. Strict, so a fix makes the
# test fail until the entry is removed.
RULE_MISMATCH_BUGS: dict[str, str] = {}


@pytest.fixture(scope="module")
def generated() -> tuple[list, str]:
    return conformance.generate(CORPUS)


@pytest.fixture(scope="module")
def rows(generated) -> list:
    return generated[0]


def test_doc_is_up_to_date(generated) -> None:
    committed = conformance.DOC.read_text(encoding="utf-8") if conformance.DOC.exists() else ""
    assert generated[1] == committed, (
        "docs/conformance.md is stale: run `python docs/conformance.py` and review the diff"
    )


def test_no_unexplained_disagreements(rows) -> None:
    disagreeing = {r.file: r.reason for r in rows if r.outcome == "disagree"}
    new = {
        f: reason for f, reason in disagreeing.items() if f not in conformance.KNOWN_DISAGREEMENTS
    }
    stale = sorted(set(conformance.KNOWN_DISAGREEMENTS) - set(disagreeing))
    assert not new, f"new disagreements with libvirt's corpus: {new}"
    assert not stale, f"KNOWN_DISAGREEMENTS lists rows that now agree; remove them: {stale}"


def test_in_scope_failing_rows_are_flagged(rows) -> None:
    missed = {r.file: r.expected_error for r in rows if r.in_scope_failure and not r.errors}
    assert not missed, f"libvirt refuses these, vnuma reports no error: {missed}"


def test_ok_rows_have_no_libvirt_enforced_error(rows) -> None:
    offenders = {
        r.file: [f"{f.code} {f.message}" for f in r.enforced_errors]
        for r in rows
        if r.expected == "ok"
        and r.enforced_errors
        and r.file not in conformance.KNOWN_DISAGREEMENTS
    }
    assert not offenders, f"libvirt accepts these, vnuma has libvirt-enforced errors: {offenders}"


def test_every_corpus_file_lints_without_crash_or_syntax_error(rows) -> None:
    raised = {r.file: r.raised for r in rows if r.raised is not None}
    syntax = {r.file: [f.message for f in r.findings if f.code == "VN001"] for r in rows}
    assert not raised, f"lint raised: {raised}"
    assert not {f: m for f, m in syntax.items() if m}, f"VN001 on well-formed files: {syntax}"


@pytest.mark.parametrize(
    "file",
    [
        pytest.param(f, marks=pytest.mark.xfail(strict=True, reason=RULE_MISMATCH_BUGS[f]))
        if f in RULE_MISMATCH_BUGS
        else f
        for f in sorted(conformance.LIBVIRT_CHECK)
    ],
)
def test_failing_row_flagged_by_libvirts_rule(rows, file: str) -> None:
    row = next(r for r in rows if r.file == file)
    code = conformance.LIBVIRT_CHECK[file]
    assert code in row.error_codes, (
        f"libvirt: {row.expected_error!r}; expected {code}, vnuma errors: {row.error_codes}"
    )


def test_tables_name_real_rows_and_rules(rows) -> None:
    from vnuma.rules import all_rules

    codes = {rule.code for rule in all_rules()}
    by_file = {r.file: r for r in rows}
    for table in (conformance.OUT_OF_SCOPE, conformance.LIBVIRT_CHECK):
        for file in table:
            assert file in by_file, f"{file} is not a corpus domain"
            assert by_file[file].expected in conformance.FAILING, f"{file} is not a failing row"
    for file in conformance.KNOWN_DISAGREEMENTS:
        assert file in by_file, f"{file} is not a corpus domain"
    in_scope = {r.file for r in rows if r.in_scope_failure}
    assert set(conformance.LIBVIRT_CHECK) == in_scope, (
        "LIBVIRT_CHECK must cover the in-scope failing rows"
    )
    assert set(conformance.VNUMA_ONLY) <= codes, "VNUMA_ONLY names unknown rules"
    checks = set(conformance.LIBVIRT_CHECK.values())
    assert checks <= codes - set(conformance.VNUMA_ONLY), "a libvirt check must be libvirt-enforced"
    assert set(RULE_MISMATCH_BUGS) <= set(conformance.LIBVIRT_CHECK)
