"""Output formats of `vnuma lint`: exact text/GitHub lines, JSON shape, SARIF against the schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft4Validator
from jsonschema.validators import validator_for
from vnuma import __version__
from vnuma.codes import make_diagnostic
from vnuma.diagnostics import Severity, Span
from vnuma.report.formats import (
    FORMATS,
    artifact_uri,
    doc_sections,
    escape_data,
    escape_property,
    fingerprint,
    render,
    render_github,
    render_json,
    render_sarif,
    render_text,
    resolve_format,
)
from vnuma.rules import all_rules, get_rule

SCHEMA_PATH = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

OVERLAP = make_diagnostic(
    "VN104",
    "vCPU 4 is in cells 0 and 1",
    "intents/db01.yaml",
    Span(7, 13, 7, 16),
    hint="put each vCPU in exactly one cell",
    json_path=("cells", 1, "cpus"),
)
OVERCOMMIT = make_diagnostic(
    "VN207",
    "cell 0 has 16 vCPUs but host nodes 0 have 8 CPUs",
    "intents/db01.yaml",
    Span(9, 5, 9, 11),
)
NO_SPAN = make_diagnostic("VN012", "cannot read host snapshot hosts/gone.xml", "intents/web.toml")
ODD = make_diagnostic(
    "VN002",
    "100% wrong: expected a, b\nor c",
    "odd dir/a,b:c.yaml",
    Span(2, 1, 3, 4),
    hint="see 50%",
)
NOTE = make_diagnostic(
    "VN108", "3 cells for 2 vCPUs", "intents/tiny.yaml", Span(4, 3, 4, 8), severity=Severity.INFO
)
ALL = (OVERLAP, OVERCOMMIT, NO_SPAN, ODD, NOTE)


@pytest.fixture(scope="module")
def sarif_validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _subset_rules():
    return [get_rule(code) for code in sorted({d.code for d in ALL})]


@pytest.mark.parametrize(
    ("name", "environ", "expected"),
    [
        ("auto", {}, "text"),
        ("auto", {"GITHUB_ACTIONS": "true", "GITHUB_WORKFLOW": "CI"}, "github"),
        ("auto", {"GITHUB_ACTIONS": "true"}, "text"),
        ("auto", {"GITHUB_ACTIONS": "true", "GITHUB_WORKFLOW": ""}, "text"),
        ("auto", {"GITHUB_ACTIONS": "false", "GITHUB_WORKFLOW": "CI"}, "text"),
        ("json", {"GITHUB_ACTIONS": "true", "GITHUB_WORKFLOW": "CI"}, "json"),
        ("sarif", {}, "sarif"),
        ("text", {"GITHUB_ACTIONS": "true", "GITHUB_WORKFLOW": "CI"}, "text"),
    ],
)
def test_resolve_format(name, environ, expected):
    assert resolve_format(name, environ) == expected


def test_formats_tuple():
    assert FORMATS == ("text", "json", "sarif", "github")


def test_render_unknown_format():
    with pytest.raises(ValueError, match="unknown output format 'xml'"):
        render("xml", ALL)


@pytest.mark.parametrize("fmt", FORMATS)
def test_render_ends_with_newline(fmt):
    out = render(fmt, ALL, summary="Found 3 errors, 2 warnings.")
    assert out.endswith("\n")
    assert not out.endswith("\n\n")


def test_render_empty():
    assert render("text", []) == ""
    assert render("github", []) == ""
    assert render("json", []) == "[]\n"
    assert render("text", [], summary="All checks passed.") == "All checks passed.\n"
    assert render("github", [], summary="ignored") == ""


def test_render_dispatches():
    assert render("text", ALL, summary="s") == render_text(ALL, summary="s")
    assert render("text", ALL, colour=True) == render_text(ALL, colour=True)
    assert render("json", ALL) == render_json(ALL)
    assert render("sarif", ALL) == render_sarif(ALL)
    assert render("github", ALL) == render_github(ALL)


def test_text_exact():
    assert render_text(ALL, summary="Found 3 errors, 1 warning, 1 note.") == (
        "intents/db01.yaml:7:13: VN104 vCPU 4 is in cells 0 and 1\n"
        "    hint: put each vCPU in exactly one cell\n"
        "intents/db01.yaml:9:5: VN207 cell 0 has 16 vCPUs but host nodes 0 have 8 CPUs (warning)\n"
        "intents/web.toml:1:1: VN012 cannot read host snapshot hosts/gone.xml\n"
        "odd dir/a,b:c.yaml:2:1: VN002 100% wrong: expected a, b\nor c\n"
        "    hint: see 50%\n"
        "intents/tiny.yaml:4:3: VN108 3 cells for 2 vCPUs (info)\n"
        "Found 3 errors, 1 warning, 1 note.\n"
    )


def test_text_no_ansi_without_colour():
    assert "\033" not in render_text(ALL, summary="Found 5.")


def test_text_colour():
    out = render_text([OVERLAP, OVERCOMMIT, NOTE], colour=True, summary="Found 3.")
    lines = out.splitlines()
    assert lines[0] == (
        "intents/db01.yaml:7:13: \033[1m\033[31mVN104\033[0m vCPU 4 is in cells 0 and 1"
    )
    assert lines[1] == "    hint: put each vCPU in exactly one cell"
    assert lines[2] == (
        "intents/db01.yaml:9:5: \033[1m\033[33mVN207\033[0m "
        "cell 0 has 16 vCPUs but host nodes 0 have 8 CPUs \033[33m(warning)\033[0m"
    )
    assert lines[3] == (
        "intents/tiny.yaml:4:3: \033[1m\033[36mVN108\033[0m 3 cells for 2 vCPUs \033[36m(info)\033[0m"
    )
    assert lines[4] == "Found 3."


JSON_KEYS = [
    "code",
    "name",
    "severity",
    "message",
    "hint",
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "json_path",
]


def test_json_shape():
    data = json.loads(render_json(ALL))
    assert isinstance(data, list)
    assert [list(entry) for entry in data] == [JSON_KEYS] * len(ALL)
    assert data[0] == {
        "code": "VN104",
        "name": "cell-vcpu-overlap",
        "severity": "error",
        "message": "vCPU 4 is in cells 0 and 1",
        "hint": "put each vCPU in exactly one cell",
        "path": "intents/db01.yaml",
        "line": 7,
        "column": 13,
        "end_line": 7,
        "end_column": 16,
        "json_path": "$.cells[1].cpus",
    }
    assert data[1]["severity"] == "warning"
    assert data[1]["hint"] is None
    assert data[1]["json_path"] is None
    assert data[2]["line"] == 1
    assert data[2]["column"] == 1
    assert data[2]["end_line"] is None
    assert data[2]["end_column"] is None
    assert data[3]["message"] == "100% wrong: expected a, b\nor c"
    assert data[4]["severity"] == "info"


def test_json_empty_and_unicode():
    assert render_json([]) == "[]\n"
    diag = make_diagnostic("VN003", "unknown key ‘cpüs’", "ü.yaml")
    assert "‘cpüs’" in render_json([diag])


def test_vendored_schema_is_draft4(sarif_validator):
    assert isinstance(sarif_validator, Draft4Validator)


def test_sarif_validates(sarif_validator):
    doc = json.loads(render_sarif(ALL))
    sarif_validator.validate(doc)
    assert doc["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert doc["version"] == "2.1.0"
    assert len(doc["runs"]) == 1
    run = doc["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"
    driver = run["tool"]["driver"]
    assert driver["name"] == "vnuma"
    assert driver["version"] == __version__
    assert driver["informationUri"] == "https://github.com/vnuma/vnuma"


def test_sarif_empty_run_validates(sarif_validator):
    doc = json.loads(render_sarif([]))
    sarif_validator.validate(doc)
    assert doc["runs"][0]["results"] == []


def test_sarif_validator_rejects_bad_level(sarif_validator):
    doc = json.loads(render_sarif([OVERLAP]))
    doc["runs"][0]["results"][0]["level"] = "fatal"
    assert not sarif_validator.is_valid(doc)


def test_sarif_github_rule_requirements():
    doc = json.loads(render_sarif(ALL))
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    catalogue = all_rules()
    assert [r["id"] for r in rules] == sorted(rule.code for rule in catalogue)
    for entry in rules:
        assert entry["id"]
        assert entry["shortDescription"]["text"]
        assert entry["fullDescription"]["text"]
        assert entry["help"]["text"]
        assert entry["help"]["markdown"]
        assert entry["defaultConfiguration"]["level"] in {"error", "warning", "note"}
        assert entry["properties"]["precision"] == "very-high"
        assert entry["properties"]["tags"]


def test_sarif_rule_content():
    doc = json.loads(render_sarif([], rules=[get_rule("VN207"), get_rule("VN104")]))
    vn104, vn207 = doc["runs"][0]["tool"]["driver"]["rules"]
    rule = get_rule("VN104")
    assert vn104 == {
        "id": "VN104",
        "name": "cell-vcpu-overlap",
        "shortDescription": {"text": "A vCPU is in two guest cells."},
        "fullDescription": {"text": rule.doc.strip()},
        "help": {"text": "Put each vCPU in exactly one cell.", "markdown": rule.doc.strip()},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["guest"], "precision": "very-high"},
    }
    assert vn207["defaultConfiguration"] == {"level": "warning"}
    assert vn207["properties"]["tags"] == ["host"]


def test_sarif_tags_by_code_range():
    tags = {
        r["id"]: r["properties"]["tags"]
        for r in json.loads(render_sarif([]))["runs"][0]["tool"]["driver"]["rules"]
    }
    assert tags["VN001"] == ["input"]
    assert tags["VN120"] == ["guest"]
    assert tags["VN201"] == ["host"]
    assert tags["VN301"] == ["output"]


def test_sarif_results():
    doc = json.loads(render_sarif(ALL))
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert len(results) == len(ALL)
    for result, diag in zip(results, ALL, strict=True):
        assert result["ruleId"] == diag.code
        assert rules[result["ruleIndex"]]["id"] == diag.code
        assert result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        assert location["region"]["startLine"] >= 1
        assert not location["artifactLocation"]["uri"].startswith("file:")
        assert result["partialFingerprints"]["vnuma/v1"] == fingerprint(diag)
    first = results[0]
    assert first["level"] == "error"
    assert first["message"]["text"] == (
        "vCPU 4 is in cells 0 and 1\nhint: put each vCPU in exactly one cell"
    )
    assert first["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "intents/db01.yaml"},
                "region": {"startLine": 7, "startColumn": 13, "endLine": 7, "endColumn": 16},
            }
        }
    ]
    assert results[1]["level"] == "warning"
    assert results[1]["message"]["text"] == OVERCOMMIT.message
    no_span = results[2]["locations"][0]["physicalLocation"]
    assert no_span["region"] == {"startLine": 1, "startColumn": 1}
    assert results[3]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "odd%20dir/a%2Cb%3Ac.yaml"
    )
    assert results[4]["level"] == "note"


def test_sarif_unknown_rule_has_no_index(sarif_validator):
    doc = json.loads(render_sarif([OVERLAP], rules=[get_rule("VN207")]))
    sarif_validator.validate(doc)
    result = doc["runs"][0]["results"][0]
    assert result["ruleId"] == "VN104"
    assert "ruleIndex" not in result


def test_sarif_fingerprints_stable():
    first = json.loads(render_sarif(ALL))["runs"][0]["results"]
    second = json.loads(render_sarif(ALL))["runs"][0]["results"]
    assert [r["partialFingerprints"] for r in first] == [r["partialFingerprints"] for r in second]
    moved = make_diagnostic(OVERLAP.code, OVERLAP.message, OVERLAP.path, Span(70, 1, 70, 4))
    assert fingerprint(moved) == fingerprint(OVERLAP)
    assert len(fingerprint(OVERLAP)) == 32
    assert fingerprint(OVERLAP) != fingerprint(OVERCOMMIT)


def test_sarif_deterministic():
    assert render_sarif(ALL) == render_sarif(ALL)


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("intents/db01.yaml", "intents/db01.yaml"),
        ("./intents/db01.yaml", "intents/db01.yaml"),
        ("db 01.yaml", "db%2001.yaml"),
        ("/srv/vnuma/db01.yaml", "file:///srv/vnuma/db01.yaml"),
    ],
)
def test_artifact_uri(path, uri):
    assert artifact_uri(path) == uri


def test_region_omits_end_when_span_is_backwards():
    diag = make_diagnostic("VN104", "m", "a.yaml", Span(3, 5, 3, 0))
    region = json.loads(render_sarif([diag]))["runs"][0]["results"][0]["locations"][0]
    assert region["physicalLocation"]["region"] == {"startLine": 3, "startColumn": 5}


def test_doc_sections_ignores_headings_in_code_fences():
    doc = "Summary.\n\n## Example\n```yaml\n## not a heading\n```\n\n## Fix\nDo it.\n"
    assert doc_sections(doc) == {"Example": "```yaml\n## not a heading\n```", "Fix": "Do it."}


def test_every_rule_has_fix_section():
    for rule in all_rules():
        assert doc_sections(rule.doc).get("Fix"), rule.code


def test_github_exact():
    assert render_github(ALL) == (
        "::error file=intents/db01.yaml,line=7,col=13,endLine=7,endColumn=16,"
        "title=VN104 (cell-vcpu-overlap)::vCPU 4 is in cells 0 and 1%0Ahint: put each vCPU in "
        "exactly one cell\n"
        "::warning file=intents/db01.yaml,line=9,col=5,endLine=9,endColumn=11,"
        "title=VN207 (vcpu-overcommit)::cell 0 has 16 vCPUs but host nodes 0 have 8 CPUs\n"
        "::error file=intents/web.toml,line=1,col=1,"
        "title=VN012 (host-snapshot-missing)::cannot read host snapshot hosts/gone.xml\n"
        "::error file=odd dir/a%2Cb%3Ac.yaml,line=2,col=1,endLine=3,endColumn=4,"
        "title=VN002 (schema-violation)::100%25 wrong: expected a, b%0Aor c%0Ahint: see 50%25\n"
        "::notice file=intents/tiny.yaml,line=4,col=3,endLine=4,endColumn=8,"
        "title=VN108 (more-cells-than-vcpus)::3 cells for 2 vCPUs\n"
    )


def test_github_one_line_per_diagnostic():
    assert len(render_github(ALL).splitlines()) == len(ALL)


def test_github_escaping():
    assert escape_data("50%\r\nnext: a, b") == "50%25%0D%0Anext: a, b"
    assert escape_property("C:\\a,b%\n") == "C%3A\\a%2Cb%25%0A"


def test_snapshot_text(snapshot):
    assert render("text", ALL, summary="Found 3 errors, 1 warning, 1 note.") == snapshot


def test_snapshot_json(snapshot):
    assert render("json", ALL) == snapshot


def test_snapshot_sarif(snapshot):
    # Only the rules these diagnostics use, so new rules elsewhere do not churn the snapshot.
    assert render_sarif(ALL, rules=_subset_rules()) == snapshot


def test_snapshot_github(snapshot):
    assert render("github", ALL) == snapshot
