"""First contact on the command line (issue 18): install lines that work, --help with a
description and an example everywhere, missing dependencies named, one diagnostic order,
`compile --format json` and `compile -`, VN601 where the intent leaves things open, `show`
without --host, compile's host default, and `vnuma rules` wrapped to the terminal."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.conftest import HOSTS, INTENTS, REPO, explain_process, run_process
from tests.sysfs_trees import xeon_2s

README = (REPO / "README.md").read_text(encoding="utf-8")
NO_UNIT = "version: 1\nvcpus: 4\nmemory: 4096\n"  # VN004 at 3:9


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))


def _located(err: str) -> list[str]:
    """`path:line:col: CODE` of each diagnostic line, in the order printed."""
    return re.findall(r"^(\S+:\d+:\d+: VN\d{3})", err, re.MULTILINE)


# --- 1. install lines and the pre-commit example ----------------------------------------------


def test_capture_install_message_names_what_works_from_a_checkout(run_cli, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "libvirt", None)  # import libvirt -> ImportError
    result = run_cli("capture", "--connect", "test:///default")
    assert result.code == 2
    assert result.err == (
        "vnuma: error: libvirt-python is not installed: `pip install '.[libvirt]'` in a vnuma "
        "checkout (or `pip install 'vnuma[libvirt]'` once vnuma is published on PyPI); it "
        "builds against the system libvirt: apt-get install libvirt-dev pkg-config gcc "
        "python3-dev. Or read this machine's topology without libvirt: `vnuma capture --sysfs`\n"
    )
    extras = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    assert "libvirt" in extras["optional-dependencies"]  # what '.[libvirt]' installs


def _help_texts(run_cli, capsys) -> dict[str, str]:
    """`vnuma --help` and every `vnuma COMMAND --help`, by command ("" for the top)."""
    texts = {"": _help(run_cli, capsys)}
    for command in _commands(texts[""]):
        texts[command] = _help(run_cli, capsys, command)
    return texts


def _help(run_cli, capsys, *command: str) -> str:
    with pytest.raises(SystemExit) as done:
        run_cli(*command, "--help")
    assert done.value.code == 0
    return capsys.readouterr().out


def _commands(top_help: str) -> list[str]:
    listed = re.search(r"^  COMMAND\n((?:    .*\n|                        .*\n)+)", top_help, re.M)
    assert listed, top_help
    return re.findall(r"^    (\w+)", listed.group(1), re.MULTILINE)


def test_every_pip_line_installs_something_that_exists(run_cli, capsys) -> None:
    """`vnuma[...]` is on no index yet: every mention says what works from a checkout."""
    texts = [("README.md", line) for line in README.splitlines()]
    for command, text in _help_texts(run_cli, capsys).items():
        texts += [(f"vnuma {command} --help", line) for line in text.splitlines()]
    pip_lines = [(where, line) for where, line in texts if "pip install" in line]
    assert len(pip_lines) >= 5
    for where, line in pip_lines:
        for target in re.findall(r"pip install (?:-e )?'?([^'`\s)]+)", line):
            published = target.startswith("vnuma") and "once vnuma is" in line
            assert target.startswith(".") or published, (where, line)
    assert "pip install '.[libvirt]'" in README
    assert "pip install '.[libvirt]'" in _help(run_cli, capsys, "capture").replace("\n", " ")


def _precommit_example() -> dict:
    blocks = re.findall(r"```yaml\n(repos:\n.*?)```", README, re.DOTALL)
    assert len(blocks) == 1, blocks
    return yaml.safe_load(blocks[0])


def test_precommit_example_is_a_local_hook_with_the_manifest_settings() -> None:
    """No tag exists to pin (`git tag` is empty): the example runs the installed vnuma."""
    (repo,) = _precommit_example()["repos"]
    assert repo["repo"] == "local" and "rev" not in repo
    (hook,) = repo["hooks"]
    (manifest,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text("utf-8"))
    for key in ("id", "name", "entry", "types_or", "require_serial"):
        assert hook[key] == manifest[key], key
    assert hook["language"] == "system"
    assert not re.search(r"rev: v\d", README)
    assert "a full 40-character commit SHA" in README


def test_precommit_example_validates(tmp_path: Path) -> None:
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    if pre_commit is None:
        pytest.skip("pre-commit is not installed")
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(yaml.safe_dump(_precommit_example()), encoding="utf-8")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "home")}
    result = run_process([pre_commit, "validate-config", str(config)], cwd=tmp_path, env=env)
    assert result.returncode == 0, explain_process(result)


# --- 2. --help -----------------------------------------------------------------------------


def _options_without_help(text: str) -> list[str]:
    """Option and positional lines of a --help whose help text is missing: nothing after
    the name on its line, and no deeper-indented continuation line below it."""
    lines = text.splitlines()
    missing = []
    for index, line in enumerate(lines):
        entry = re.match(r"^  (-{1,2}\w[\w-]*.*?|[a-z][\w-]*)(?:\s{2,}(\S.*))?$", line)
        if not entry or line.startswith("   "):
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        continued = re.match(r"^ {8,}\S", following) is not None
        if entry.group(2) is None and not continued:
            missing.append(line.strip())
    return missing


def test_every_command_has_a_description_an_example_and_option_help(run_cli, capsys) -> None:
    texts = _help_texts(run_cli, capsys)
    commands = [command for command in texts if command]
    assert commands == [
        "compile",
        "lint",
        "fit",
        "show",
        "host",
        "capture",
        "schema",
        "explain",
        "rules",
    ]
    for command in commands:
        text = texts[command]
        body = text.split("\n\n")
        assert body[0].startswith(f"usage: vnuma {command}"), text
        description = body[1]
        assert "\n" not in description and 10 < len(description) <= 80, (command, description)
        assert description.endswith("."), (command, description)
        example = re.search(r"^example:\n  (.*)$", text, re.MULTILINE)
        assert example, (command, text)
        assert example.group(1).startswith(f"vnuma {command}"), (command, example.group(1))
        assert _options_without_help(text) == [], (command, text)
    # the top level too: every command listed with its line, and an example
    assert re.search(r"^example:\n  vnuma compile ", texts[""], re.MULTILINE)
    assert _options_without_help(texts[""]) == []


def test_the_option_help_walker_can_fail() -> None:
    text = "options:\n  -h, --help  show this\n  --host CAPS.xml\n  --format {text,json}\n"
    assert _options_without_help(text) == ["--host CAPS.xml", "--format {text,json}"]


# --- 3. a missing runtime dependency ----------------------------------------------------------


def test_a_missing_dependency_is_named_with_how_to_install_it(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "lxml"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text('raise ImportError("No module named lxml")\n')
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(shadow.parent)
    cmd = [sys.executable, "-m", "vnuma", "compile", str(INTENTS / "db-strict.yaml")]
    cmd += ["--host", str(HOSTS / "2s-xeon.xml")]
    result = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 2, explain_process(result)
    assert result.stdout == ""
    assert result.stderr == (
        "vnuma: error: the Python module 'lxml' cannot be imported (No module named lxml); "
        f"vnuma needs it: {sys.executable} -m pip install 'lxml>=4.9'\n"
    ), explain_process(result)


def test_the_dependency_table_is_pyproject_s(run_cli, monkeypatch) -> None:
    from vnuma.cli import DEPENDENCIES

    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    assert set(DEPENDENCIES.values()) == set(project["dependencies"])
    monkeypatch.setitem(sys.modules, "yaml", None)  # ModuleNotFoundError, name="yaml"
    result = run_cli("compile", INTENTS / "db-strict.yaml")
    assert result.code == 2
    assert result.err.startswith("vnuma: error: the Python module 'yaml' cannot be imported")
    assert result.err.endswith(" -m pip install 'pyyaml>=6.0'\n") and result.err.count("\n") == 1


# --- 4. one order --------------------------------------------------------------------------


def test_compile_sorts_diagnostics_by_file_line_column_code(run_cli, write) -> None:
    intent = write(
        "vm.yaml",
        'version: 1\nvcpus: 4\nmemory: 4GiB\nnumatune: {mode: preferred, nodeset: "0-1"}\n',
    )
    base = write("a-base.xml", '<domain type="kvm">\n  <name>x</name>\n  <bogus>\n</domain>\n')
    result = run_cli("compile", intent, "--host", HOSTS / "2s-xeon.xml", "--domain", base)
    assert result.code == 1
    assert _located(result.err) == [f"{base}:4:10: VN010", f"{intent}:4:38: VN115"]


# --- 5. --format json, stdin, a directory -------------------------------------------------------


def test_compile_json_is_lint_json_on_stderr(run_cli, write) -> None:
    intent = write("vm.yaml", NO_UNIT)
    compiled = run_cli("compile", intent, "--format", "json")
    linted = run_cli("lint", intent, "--format", "json")
    assert compiled.code == linted.code == 1
    assert compiled.out == ""
    entries = json.loads(compiled.err)  # stderr is the JSON document and nothing else
    assert entries == json.loads(linted.out)
    assert [(e["code"], e["line"], e["column"]) for e in entries] == [("VN004", 3, 9)]


def test_compile_json_keeps_the_xml_on_stdout(run_cli) -> None:
    result = run_cli(
        "compile", INTENTS / "db-strict.yaml", "--host", HOSTS / "2s-xeon.xml", "--format", "json"
    )
    assert result.code == 0
    assert result.out.startswith('<domain type="kvm">')
    assert json.loads(result.err) == []


def test_explain_needs_text_format(run_cli) -> None:
    result = run_cli("compile", INTENTS / "db-strict.yaml", "--explain", "--format", "json")
    assert result.code == 2
    assert (
        result.err == "vnuma: error: --explain prints text on stderr: use it with --format text\n"
    )


def test_compile_reads_the_intent_from_stdin(run_cli, monkeypatch) -> None:
    _stdin(monkeypatch, NO_UNIT)
    result = run_cli("compile", "-")
    assert result.code == 1
    assert _located(result.err) == ["<stdin>:3:9: VN004"]


def test_compile_reads_a_toml_intent_from_stdin_when_told(run_cli, monkeypatch) -> None:
    toml = next(INTENTS.glob("*.toml"))
    from_file = run_cli("compile", str(toml), "--host", str(HOSTS / "2s-xeon.xml"))
    assert from_file.code == 0, from_file.err
    _stdin(monkeypatch, toml.read_text("utf-8"))
    as_toml = run_cli(
        "compile", "-", "--stdin-format", "toml", "--host", str(HOSTS / "2s-xeon.xml")
    )
    assert (as_toml.code, as_toml.out) == (0, from_file.out), as_toml.err
    _stdin(monkeypatch, toml.read_text("utf-8"))
    as_yaml = run_cli("compile", "-", "--host", str(HOSTS / "2s-xeon.xml"))
    assert as_yaml.code == 1 and "<stdin>:" in as_yaml.err  # TOML is no YAML intent


def test_stdin_format_is_for_stdin_only(run_cli) -> None:
    result = run_cli("compile", str(INTENTS / "db-strict.yaml"), "--stdin-format", "toml")
    assert result.code == 2
    assert "--stdin-format is for an intent read from stdin" in result.err


def test_stdin_host_is_relative_to_the_working_directory(
    run_cli, monkeypatch, tmp_path: Path
) -> None:
    (tmp_path / "hosts").mkdir()
    shutil.copy(HOSTS / "2s-xeon.xml", tmp_path / "hosts" / "hv.xml")
    text = (INTENTS / "auto-dedicated.yaml").read_text("utf-8")
    text = re.sub(r"^host: .*$", "host: hosts/hv.xml", text, flags=re.MULTILINE)
    (tmp_path / "vm.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    from_file = run_cli("compile", "vm.yaml")
    assert from_file.code == 0, from_file.err
    _stdin(monkeypatch, text)
    from_stdin = run_cli("compile", "-")
    assert from_stdin.code == 0, from_stdin.err
    assert from_stdin.out == from_file.out and "<vcpupin" in from_stdin.out
    _stdin(monkeypatch, text.replace("hosts/hv.xml", "hosts/gone.xml"))
    missing = run_cli("compile", "-")
    assert missing.code == 1
    assert re.search(
        r"^<stdin>:\d+:7: VN012 host snapshot cannot be read: .*gone\.xml", missing.err, re.M
    )


def test_a_directory_is_a_usage_error_that_points_at_lint(run_cli) -> None:
    result = run_cli("compile", INTENTS)
    assert result.code == 2
    assert result.err == (
        f"vnuma: error: {INTENTS}: is a directory; compile takes one intent file; "
        f"use `vnuma lint {INTENTS}` for a tree\n"
    )


# --- 6. VN601 where the intent leaves something open --------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("cells.yaml", "version: 1\nvcpus: 4\nmemory: 4GiB\ncells: 2\n", "4:8"),
        (
            "pinning-first.yaml",
            "version: 1\nvcpus: 4\nmemory: 4GiB\ncpu: {pinning: dedicated}\ncells: 2\n",
            "4:16",
        ),
        (
            "second-cell.yaml",
            "version: 1\nvcpus: 4\nmemory: 4GiB\ncells:\n"
            '  - {cpus: "0-1", memory: 2GiB, host_nodes: "0"}\n'
            '  - {cpus: "2-3", memory: 2GiB, host_nodes: auto}\n',
            "6:45",
        ),
        (
            "nodeset.toml",
            'version = 1\nvcpus = 4\nmemory = "4GiB"\n[numatune]\nmode = "strict"\n'
            'nodeset = "auto"\n',
            "6:11",
        ),
    ],
)
def test_vn601_points_at_the_first_value_left_to_vnuma(run_cli, write, name, text, where) -> None:
    intent = write(name, text)
    result = run_cli("compile", intent)
    assert result.code == 1
    assert _located(result.err) == [f"{intent}:{where}: VN601"]
    assert (
        "hint: pass --host CAPS.xml, set `host:` in the intent, or pass --local-host" in result.err
    )


# --- 7. show without --host -------------------------------------------------------------------


def test_show_uses_the_intents_own_host(run_cli) -> None:
    intent = INTENTS / "auto-dedicated.yaml"  # host: ../hosts/2s-xeon.xml
    named = run_cli("show", intent)
    given = run_cli("show", "--host", HOSTS / "2s-xeon.xml", intent)
    assert named.code == given.code == 0, named.err
    assert named.out == given.out and named.out.startswith("host ")


def test_show_uses_the_configured_host(run_cli, write, monkeypatch, tmp_path: Path) -> None:
    (tmp_path / "hosts").mkdir()
    shutil.copy(HOSTS / "2s-xeon.xml", tmp_path / "hosts" / "hv.xml")
    write("vnuma.toml", '[[hosts]]\nsnapshot = "hosts/hv.xml"\nfiles = ["vms/**"]\n')
    intent = write("vms/vm.yaml", "version: 1\nvcpus: 4\nmemory: 4GiB\ncells: 2\n")
    monkeypatch.chdir(tmp_path)
    mapped = run_cli("show", intent)
    given = run_cli("show", "--host", tmp_path / "hosts" / "hv.xml", intent)
    assert mapped.code == given.code == 0, mapped.err
    assert mapped.out == given.out


def test_show_without_any_host_is_a_usage_error(run_cli, write) -> None:
    intent = write("vm.yaml", "version: 1\nvcpus: 4\nmemory: 4GiB\n")
    result = run_cli("show", intent)
    assert result.code == 2
    assert result.err == (
        "vnuma: error: no host to draw: pass --host CAPS.xml, set `host:` in an intent, or "
        "map the guests to a host in [[tool.vnuma.hosts]]\n"
    )
    assert run_cli("show").code == 2


def test_show_of_guests_on_different_hosts_needs_host(run_cli, write, monkeypatch) -> None:
    monkeypatch.chdir(REPO)  # hosts are shown relative to the working directory
    one = write("one.yaml", f"version: 1\nhost: {HOSTS / '2s-xeon.xml'}\nvcpus: 2\nmemory: 2GiB\n")
    two = write(
        "two.yaml", f"version: 1\nhost: {HOSTS / 'epyc-nps4.xml'}\nvcpus: 2\nmemory: 2GiB\n"
    )
    result = run_cli("show", one, two)
    assert result.code == 2
    assert result.err == (
        "vnuma: error: the guests name different hosts: samples/hosts/2s-xeon.xml "
        f"({one}), samples/hosts/epyc-nps4.xml ({two}); pass --host CAPS.xml\n"
    )


# --- 8. compile's host default ----------------------------------------------------------------

AUTO_TWO_CELLS = (
    "version: 1\nvcpus: 8\nmemory: 16GiB\ncells: 2\nnumatune: {mode: strict, nodeset: auto}\n"
)


def test_compile_checks_this_machine_only_when_asked(
    run_cli, write, monkeypatch, machine_tree
) -> None:
    monkeypatch.setenv("VNUMA_SYSFS_ROOT", str(machine_tree(xeon_2s)))
    intent = write("vm.yaml", AUTO_TWO_CELLS)
    default = run_cli("compile", intent)
    assert default.code == 1 and _located(default.err) == [f"{intent}:4:8: VN601"]
    assert "note: no host snapshot: host checks skipped" in default.err
    local = run_cli("compile", intent, "--local-host")
    assert local.code == 0, local.err
    assert local.out == run_cli("compile", intent, "--host", HOSTS / "2s-xeon.xml").out
    assert "## Compatibility" in README and "`--local-host` for the old behaviour" in README


# --- 9. vnuma rules fits the terminal ------------------------------------------------------------


def _rules_summaries(out: str) -> dict[str, str]:
    """Each rule's summary, its wrapped lines joined again."""
    found: dict[str, list[str]] = {}
    code = ""
    for line in out.splitlines():
        head = re.match(r"^(VN\d{3})  \S+\s+(?:error|warning|info)\s*(.*)$", line)
        if head:
            code = head.group(1)
            found[code] = [head.group(2)] if head.group(2) else []
        else:
            found[code].append(line.strip())
    return {code: " ".join(parts) for code, parts in found.items()}


@pytest.mark.parametrize("columns", [200, 100, 80, 60])
def test_rules_wrap_to_the_terminal_without_cutting(run_cli, monkeypatch, columns: int) -> None:
    from vnuma import codes

    monkeypatch.setenv("COLUMNS", str(columns))
    out = run_cli("rules").out
    assert max(len(line) for line in out.splitlines()) <= columns
    assert _rules_summaries(out) == {c.code: c.summary for c in codes.ALL}
    if columns == 200:
        assert len(out.splitlines()) == len(codes.ALL)


def test_rules_are_80_columns_when_not_a_terminal(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    result = run_process([sys.executable, "-m", "vnuma", "rules"], cwd=tmp_path, env=env)
    assert result.returncode == 0, explain_process(result)
    assert max(len(line) for line in result.stdout.splitlines()) == 80
