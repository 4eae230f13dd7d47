"""`vnuma lint samples/` reports exactly the mistakes seeded in samples/negative/.

Each seeded mistake is marked on its line with `expect: CODE@COLUMN` (in a YAML/TOML
comment or an XML comment); the positive samples must stay clean: nothing but the info
notes they mark the same way (VN122: placement auto needs numad on the host).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLES, marked_findings


def expected_findings(folder: Path = SAMPLES / "negative") -> set[tuple[str, int, int, str]]:
    expected = set()
    for path in sorted(folder.rglob("*")):
        if path.suffix not in (".yaml", ".yml", ".toml", ".xml"):
            continue
        shown = path.relative_to(REPO).as_posix()
        expected |= {(shown, *found) for found in marked_findings(path)}
    return expected


@pytest.fixture
def linted(run_cli, monkeypatch):
    monkeypatch.chdir(REPO)
    result = run_cli("lint", "samples", "--format", "json", "--quiet")
    return result


def test_samples_report_exactly_the_seeded_mistakes(linted) -> None:
    assert linted.code == 1
    reported = {
        (d["path"], d["line"], d["column"], d["code"])
        for d in json.loads(linted.out)
        if d["path"].startswith("samples/negative/")  # the others: test_positive_samples_are_clean
    }
    expected = expected_findings()
    assert len(expected) >= 20
    assert sorted(reported - expected) == [], "reported but not marked as expected"
    assert sorted(expected - reported) == [], "marked as expected but not reported"


def test_positive_samples_are_clean(linted) -> None:
    outside = [d for d in json.loads(linted.out) if not d["path"].startswith("samples/negative/")]
    marked = {f for f in expected_findings(SAMPLES) if not f[0].startswith("samples/negative/")}
    unmarked = [d for d in outside if (d["path"], d["line"], d["column"], d["code"]) not in marked]
    assert unmarked == []
    assert {d["severity"] for d in outside} <= {"info"}, outside
    reported = {(d["path"], d["line"], d["column"], d["code"]) for d in outside}
    assert marked <= reported, "marked as expected but not reported"


def test_every_rule_family_is_seeded() -> None:
    codes = {code for *_, code in expected_findings()}
    for family in ("VN0", "VN1", "VN2", "VN4", "VN5"):
        assert any(code.startswith(family) for code in codes), family


def test_admission_findings_name_every_guest(linted) -> None:
    findings = [d for d in json.loads(linted.out) if d["code"] == "VN502"]
    assert {d["path"] for d in findings} == {
        "samples/negative/hv01/db01.xml",
        "samples/negative/hv01/db02.xml",
        "samples/negative/hv01/web01.yaml",
    }
    for finding in findings:
        for guest in ("db01", "db02", "web01"):
            assert guest in finding["message"]


def test_skipped_files_are_noted_not_errors(run_cli, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    result = run_cli("lint", "samples/hosts")
    assert result.code == 0
    assert "samples/hosts/2s-xeon.xml: skipped: a host capabilities snapshot" in result.err
    assert "Found 0 errors, 0 warnings in 0 files checked (5 skipped)." in result.out
