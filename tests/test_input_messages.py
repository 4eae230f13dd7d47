"""Input errors a user can act on (issue 18): schema hints, size units, YAML syntax
positions and configuration errors, each as `vnuma lint` / `vnuma compile` prints it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from vnuma.schema.validate import intent_schema

from tests.conftest import REPO

UNITS = "Units: KiB MiB GiB TiB (binary) or KB MB GB TB (decimal)"
GIB_RULE = "(it suggests GiB below 1024, MiB from 1024 up)"
PAGE_RULE = "(it suggests the unit that makes a huge page size such as 2MiB or 1GiB)"


@pytest.fixture
def lint(run_cli, tmp_path, monkeypatch):
    """`vnuma lint --isolated NAME` of a file written in the temporary directory."""
    monkeypatch.chdir(tmp_path)

    def run(name: str, text: str, *extra: str) -> Any:
        (tmp_path / name).write_text(text, encoding="utf-8")
        return run_cli("lint", "--isolated", "--color", "never", *extra, name)

    return run


def one_finding(where: str, message: str, hint: str) -> str:
    return f"{where}: {message}\n    hint: {hint}\nFound 1 error, 0 warnings in 1 file checked.\n"


# --- 1. schema hints say how to fix the value, never the schema's description --------


@pytest.mark.parametrize(
    ("name", "text", "where", "message", "hint"),
    [
        (
            "a.yaml",
            "vcpus: 4\nmemory: 4GiB\n",
            "a.yaml:1:1",
            "VN002 missing required key 'version' in the intent",
            "add `version: 1`",
        ),
        (
            "a.toml",
            'vcpus = 4\nmemory = "4GiB"\n',
            "a.toml:1:1",
            "VN002 missing required key 'version' in the intent",
            "add `version = 1`",
        ),
        (
            "a.yaml",
            "version: 1\nvcpus: 4\nmemory: 4GiB\ncells:\n  - 5\n",
            "a.yaml:5:5",
            "VN002 cells[0] must be a mapping, not integer 5",
            "write a mapping with key memory, e.g. `{memory: 1GiB}`",
        ),
        (
            "a.toml",
            'version = 1\nvcpus = 4\nmemory = "4GiB"\n[[cells]]\ncpus = "0-3"\n',
            "a.toml:4:1",
            "VN002 missing required key 'memory' in cells[0]",
            'add memory, a size with a unit, e.g. `memory = "1GiB"`',
        ),
        (
            "a.yaml",
            "version: 1\nvcpus: four\nmemory: 4GiB\n",
            "a.yaml:2:8",
            "VN002 vcpus must be an integer, not string 'four'",
            "write an integer from 1 to 65535",
        ),
        (
            "a.toml",
            'version = 1\nvcpus = "4"\nmemory = "4GiB"\n',
            "a.toml:2:9",
            "VN002 vcpus must be an integer, not string '4'",
            "write the number without quotes: `vcpus = 4`",
        ),
        (
            # str.isdigit() accepts a superscript two, which int() then refuses.
            "a.toml",
            'version = 1\nvcpus = "\\u00b2"\nmemory = "4GiB"\n',
            "a.toml:2:9",
            "VN002 vcpus must be an integer, not string '\u00b2'",
            "write an integer from 1 to 65535",
        ),
        (
            "a.yaml",
            "version: 1\nvcpus: 4\nmemory: 4GiB\ncpu: {pinning: all}\n",
            "a.yaml:4:16",
            "VN002 cpu.pinning is 'all'; expected one of: none, node, dedicated",
            "write one of them, e.g. `pinning: none`",
        ),
        (
            "a.yaml",
            "version: 1\nvcpus: 4\nmemory: 4GiB\ncpu: {topology: {sockets: 0, cores: 2, threads: 2}}\n",
            "a.yaml:4:27",
            "VN002 cpu.topology.sockets is 0; it must be at least 1",
            "use an integer from 1 to 65535",
        ),
        (
            "a.yaml",
            "version: 1\nvcpus: 4\nmemory: 4GiB\nnumatune: {nodeset: true}\n",
            "a.yaml:4:21",
            "VN002 numatune.nodeset must be a string or an integer or 'auto', not boolean True",
            'write a set of ids such as "0-1,4" or auto',
        ),
        (
            "a.yaml",
            "version: 1\nvcpus: 4\nmemory: 4GiB\nnumatune: strict\n",
            "a.yaml:4:11",
            "VN002 numatune must be a mapping, not string 'strict'",
            "write a mapping, e.g. `numatune: {mode: strict}`",
        ),
        (
            "a.yaml",
            "version: 1\nvcpus: 2\nmemory: 4GiB\ncells:\n"
            "  - {memory: 2GiB, distances: {one: 21}}\n  - {memory: 2GiB}\n",
            "a.yaml:5:32",
            "VN002 cells[0].distances has key 'one'; keys must be cell ids (integers)",
            "key it by the other cell's id, e.g. `distances: {1: 21}`",
        ),
    ],
)
def test_schema_hint_says_how_to_fix(lint, name, text, where, message, hint) -> None:
    result = lint(name, text)
    assert result.code == 1
    assert result.out == one_finding(where, message, hint)


def test_every_missing_key_is_reported(run_cli, tmp_path) -> None:
    intent = tmp_path / "a.toml"
    intent.write_text('name = "db01"\n', encoding="utf-8")
    result = run_cli("compile", intent, "--no-host")
    assert result.code == 1
    assert result.err == (
        f"{intent}:1:1: VN002 missing required key 'memory' in the intent\n"
        '    hint: add memory, a size with a unit, e.g. `memory = "1GiB"`\n'
        f"{intent}:1:1: VN002 missing required key 'vcpus' in the intent\n"
        "    hint: add vcpus, an integer from 1 to 65535\n"
        f"{intent}:1:1: VN002 missing required key 'version' in the intent\n"
        "    hint: add `version = 1`\n"
        "Found 3 errors, 0 warnings.\n"
    )


def _descriptions(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("description"), str):
            yield node["description"]
        for value in node.values():
            yield from _descriptions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _descriptions(value)


BROKEN_INTENTS = {
    "missing.yaml": "vcpus: 4\ncells: [{}]\nhugepages: {}\n",
    "types.yaml": "version: 1\nvcpus: []\nmemory: {}\nname: 3\nhost: ''\nnumatune: 1\n"
    "cells: [5, {memory: 1GiB, id: -1, mem_access: x, distances: {1: 300}}]\n"
    "cpu: {pinning: 1, reserved: true, emulator: x, topology: {sockets: x}}\n"
    "hugepages: {}\n",
    "types.toml": 'version = "1"\nvcpus = 0\nmemory = 1\ncells = []\n[cpu]\ntopology = 3\n',
}


@pytest.mark.parametrize("name", sorted(BROKEN_INTENTS))
def test_no_hint_repeats_a_schema_description(lint, name) -> None:
    descriptions = set(_descriptions(intent_schema()))
    result = lint(name, BROKEN_INTENTS[name], "--format", "json")
    findings = json.loads(result.out)
    assert len(findings) >= 3
    for finding in findings:
        assert finding["hint"], finding
        assert finding["hint"] not in descriptions, finding
        assert finding["hint"].rstrip(".") + "." not in descriptions, finding


# --- 2. sizes: hints read as sentences; a bare number gets a unit by magnitude -------


@pytest.mark.parametrize(
    ("name", "text", "where", "number", "unit", "rule"),
    [
        ("a.toml", "version = 1\nvcpus = 4\nmemory = 16\n", "a.toml:3:10", "16", "GiB", GIB_RULE),
        ("a.yaml", "version: 1\nvcpus: 4\nmemory: 16\n", "a.yaml:3:9", "16", "GiB", GIB_RULE),
        ("a.yaml", "version: 1\nvcpus: 4\nmemory: 1023\n", "a.yaml:3:9", "1023", "GiB", GIB_RULE),
        ("a.yaml", "version: 1\nvcpus: 4\nmemory: 1024\n", "a.yaml:3:9", "1024", "MiB", GIB_RULE),
        (
            "a.yaml",
            "version: 1\nvcpus: 4\nmemory: 4GiB\nhugepages: {size: 2048}\n",
            "a.yaml:4:19",
            "2048",
            "KiB",
            PAGE_RULE,
        ),
        (
            "a.yaml",
            "version: 1\nvcpus: 4\nmemory: 4GiB\nhugepages: {size: 2}\n",
            "a.yaml:4:19",
            "2",
            "MiB",
            PAGE_RULE,
        ),
    ],
)
def test_bare_number_says_why_and_suggests_by_magnitude(
    lint, name, text, where, number, unit, rule
) -> None:
    hint = (
        f"sizes need a unit: did you mean {number}{unit}? A bare {number} would be {number} KiB "
        f"to libvirt, so vnuma refuses bare numbers {rule}. {UNITS}"
    )
    result = lint(name, text)
    assert result.code == 1
    assert result.out == one_finding(where, f"VN004 size {number} has no unit", hint)


def test_unknown_unit_hint_reads_as_sentences(lint) -> None:
    result = lint("a.yaml", "version: 1\nvcpus: 4\nmemory: 16G\n")
    assert result.code == 1
    assert result.out == one_finding(
        "a.yaml:3:9", "VN005 unknown size unit 'G' in '16G'", f"did you mean 16GiB? {UNITS}"
    )
    assert "?;" not in result.out


def test_unknown_unit_without_a_guess_lists_the_units(lint) -> None:
    result = lint("a.yaml", "version: 1\nvcpus: 4\nmemory: 16 gigs\n")
    assert result.out == one_finding(
        "a.yaml:3:9", "VN005 unknown size unit 'gigs' in '16 gigs'", "u" + UNITS[1:]
    )


# --- 3. YAML syntax errors where the user must look -----------------------------------


@pytest.fixture(params=["libyaml", "pure-python"])
def yaml_loader(request, monkeypatch):
    """Both loaders vnuma may use (CSafeLoader when PyYAML has libyaml) give one message."""
    import yaml

    if request.param == "pure-python":
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    elif not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML without libyaml")
    return request.param


UNCLOSED_DOUBLE = (
    'version: 1\nvcpus: 4\nmemory: 4GiB\nname: db01\nhost: "../hosts/a.xml\ncells: 2\n'
)
UNCLOSED_SINGLE = "version: 1\nvcpus: 4\nmemory: 4GiB\nname: 'db01\n"


@pytest.mark.parametrize(
    ("text", "where", "quote"),
    [(UNCLOSED_DOUBLE, "a.yaml:5:7", '"'), (UNCLOSED_SINGLE, "a.yaml:4:7", "'")],
)
def test_unterminated_quote_is_reported_where_it_opens(
    lint, yaml_loader, text, where, quote
) -> None:
    result = lint("a.yaml", text)
    assert result.code == 1
    assert result.out == (
        f"{where}: VN001 YAML syntax error: unterminated string: the {quote} opened here is "
        f"never closed\n    hint: add the closing {quote}; a quoted YAML string may span "
        "lines, so the parser read on to the end of the document\n"
        "Found 1 error, 0 warnings in 1 file checked.\n"
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("version: 1\nvcpus: 4\nmemory: 4GiB\nnumatune:\n\tmode: strict\n", "a.yaml:5:1"),
        (
            "version: 1\nvcpus: 4\nmemory: 4GiB\nnumatune:\n  mode: strict\n  \tnodeset: 0\n",
            "a.yaml:6:3",
        ),
    ],
)
def test_tab_indentation_is_named_and_pointed_at(lint, yaml_loader, text, where) -> None:
    result = lint("a.yaml", text)
    assert result.code == 1
    assert result.out == (
        f"{where}: VN001 YAML syntax error: a tab indents this line; YAML forbids tabs for "
        "indentation\n    hint: indent with spaces (set your editor to insert spaces for "
        "YAML files)\nFound 1 error, 0 warnings in 1 file checked.\n"
    )


def test_compile_reports_the_same_yaml_position(run_cli, tmp_path) -> None:
    intent = tmp_path / "a.yaml"
    intent.write_text(UNCLOSED_SINGLE, encoding="utf-8")
    result = run_cli("compile", intent, "--no-host")
    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith(
        f"{intent}:4:7: VN001 YAML syntax error: unterminated string: the ' opened here"
    )


# --- 4. configuration errors: all of them, each at its line and column ------------------


def readme_config_example() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", readme, flags=re.S)
    return next(block for block in blocks if block.startswith("[tool.vnuma]"))


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A directory with a clean intent, a.yaml, as the current directory."""
    (tmp_path / "a.yaml").write_text("version: 1\nvcpus: 4\nmemory: 4GiB\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_readme_tool_vnuma_example_in_vnuma_toml(run_cli, project) -> None:
    (project / "vnuma.toml").write_text(readme_config_example(), encoding="utf-8")
    expected = (
        f"vnuma: error: {project.resolve() / 'vnuma.toml'}:1:2: unknown key 'tool'\n"
        "    hint: in vnuma.toml, drop the [tool.vnuma] prefix: write the keys at the top level\n"
    )
    lint = run_cli("lint", "a.yaml")
    assert (lint.code, lint.out, lint.err) == (2, "", expected)
    compiled = run_cli("compile", "a.yaml", "--no-host")
    assert (compiled.code, compiled.out, compiled.err) == (2, "", expected)


def test_readme_example_without_the_prefix_is_valid(run_cli, project) -> None:
    top_level = readme_config_example().replace("[tool.vnuma]\n", "")
    top_level = re.sub(r"\[(\[?)tool\.vnuma\.", r"[\1", top_level)
    (project / "vnuma.toml").write_text(top_level, encoding="utf-8")
    assert run_cli("lint", "a.yaml").code == 0


def test_every_config_error_is_reported_with_its_position(run_cli, project) -> None:
    (project / "vnuma.toml").write_text(
        'select = ["VN9"]\n'
        "ignore = [1]\n"
        "exclud = []\n"
        "[severity]\n"
        'VN2 = "fatal"\n'
        "[[hosts]]\n"
        'snapshot = ""\n',
        encoding="utf-8",
    )
    path = project.resolve() / "vnuma.toml"
    result = run_cli("lint", "a.yaml")
    assert result.code == 2
    assert result.err == (
        f"vnuma: error: {path}: 6 errors in the configuration\n"
        f"{path}:1:11: unknown rule code or prefix 'VN9' in select\n"
        "    hint: `vnuma rules` lists the codes\n"
        f"{path}:2:11: ignore must be a list of strings\n"
        f"{path}:3:1: unknown key 'exclud'; did you mean 'exclude'? (valid keys: exclude, "
        "hosts, ignore, per-file-ignores, select, severity)\n"
        f"{path}:5:7: severity.VN2 must be one of 'info', 'warning', 'error', not 'fatal'\n"
        f"{path}:6:1: hosts[0].files is required\n"
        f"{path}:7:12: hosts[0].snapshot must be a non-empty string\n"
    )


def test_pyproject_errors_name_the_tool_vnuma_keys(run_cli, project) -> None:
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.vnuma]\nignore = ["VN207", "XX"]\n'
        '[tool.vnuma.per-file-ignores]\n"" = ["VN1"]\n',
        encoding="utf-8",
    )
    path = project.resolve() / "pyproject.toml"
    result = run_cli("lint", "a.yaml")
    assert result.code == 2
    assert result.err == (
        f"vnuma: error: {path}: 2 errors in the configuration\n"
        f"{path}:4:20: unknown rule code or prefix 'XX' in tool.vnuma.ignore\n"
        "    hint: `vnuma rules` lists the codes\n"
        f"{path}:6:1: tool.vnuma.per-file-ignores must not contain empty patterns\n"
    )


def test_pyproject_with_a_top_level_vnuma_table(run_cli, project) -> None:
    config = project / "pyproject.toml"
    config.write_text('[vnuma]\nselect = ["VN"]\n', encoding="utf-8")
    result = run_cli("lint", "--config", config, "a.yaml")
    assert (result.code, result.err) == (
        2,
        f"vnuma: error: {config.resolve()}:1:2: no [tool.vnuma] table\n"
        "    hint: in pyproject.toml, write vnuma's settings under [tool.vnuma]\n",
    )


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ('select = ["VN"]\nignore = [\n  "VN1"\n  "VN2"]\n', "4:3", "Unclosed array"),
        ('select = ["VN"\n', "2:1", "Unclosed array"),
    ],
)
def test_config_syntax_error_has_a_position(run_cli, project, text, where, message) -> None:
    (project / "vnuma.toml").write_text(text, encoding="utf-8")
    result = run_cli("lint", "a.yaml")
    assert (result.code, result.err) == (
        2,
        f"vnuma: error: {project.resolve() / 'vnuma.toml'}:{where}: invalid TOML: {message}\n",
    )


def test_config_that_is_not_utf8_points_at_the_byte(run_cli, project) -> None:
    (project / "vnuma.toml").write_bytes(b'select = ["VN"]\nignore = ["\xff"]\n')
    result = run_cli("lint", "a.yaml")
    assert (result.code, result.err) == (
        2,
        f"vnuma: error: {project.resolve() / 'vnuma.toml'}:2:12: config file is not UTF-8\n"
        "    hint: save it as UTF-8\n",
    )


def test_config_error_without_a_position_keeps_its_form() -> None:
    from vnuma.report.config import ConfigError

    assert str(ConfigError("boom", Path("/x/vnuma.toml"))) == "/x/vnuma.toml: boom"
