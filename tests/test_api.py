"""The Python API (vnuma.api) used as a script or an Ansible module would use it: the same
answers as the command line, errors as UsageError, results as plain JSON-able records."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from vnuma import api

from tests.conftest import HOSTS, INTENTS, SAMPLES, clean_environment, explain_process, run_process

XEON = HOSTS / "2s-xeon.xml"

MODULE = textwrap.dedent(
    """
    # What an Ansible module's main() does: arguments in, one JSON document out.
    import json, sys
    from vnuma import api

    args = json.loads(sys.argv[1])
    try:
        result = api.compile_intent(args["intent"], host=args["host"])
    except api.UsageError as exc:
        print(json.dumps({"failed": True, "msg": str(exc)}))
        sys.exit(1)
    print(json.dumps({
        "failed": not result.ok,
        "changed": result.ok,
        "xml": result.xml,
        "diagnostics": [d.as_dict() for d in result.diagnostics],
    }))
    """
)


def test_compile_is_what_the_cli_prints(run_cli) -> None:
    result = api.compile_intent(INTENTS / "db-strict.yaml", host=XEON)
    cli = run_cli("compile", INTENTS / "db-strict.yaml", "--host", XEON)
    assert result.ok and result.xml == cli.out
    assert result.diagnostics == ()


def test_compile_errors_are_diagnostics(write) -> None:
    intent = write(
        "db.yaml",
        'version: 1\nvcpus: 4\nmemory: 8GiB\ncells:\n  - {cpus: "0-3", memory: 8GiB, host_nodes: "5"}\n',
    )
    result = api.compile_intent(intent, host=XEON)
    assert not result.ok and result.xml is None
    assert [(d.code, d.line, d.severity) for d in result.diagnostics] == [("VN201", 5, "error")]
    assert json.dumps([d.as_dict() for d in result.diagnostics])


def test_lint_is_what_the_cli_reports(run_cli) -> None:
    result = api.lint([SAMPLES / "negative"])
    cli = run_cli("lint", SAMPLES / "negative", "--format", "json")
    assert [d.as_dict() for d in result.diagnostics] == [
        {key: entry[key] for key in api.Problem.__dataclass_fields__}
        for entry in json.loads(cli.out)
    ]
    assert not result.ok and result.checked


def test_read_host() -> None:
    host = api.read_host(HOSTS / "epyc-nps4.xml")
    assert len(host.cells) == 8 and host.cpu_count == 128


def test_unreadable_files_raise_usage_error(tmp_path: Path) -> None:
    with pytest.raises(api.UsageError, match="no such file"):
        api.compile_intent(tmp_path / "missing.yaml")
    with pytest.raises(api.UsageError, match="no such file"):
        api.lint([tmp_path / "missing"])
    with pytest.raises(api.UsageError):
        api.read_host(tmp_path / "missing.xml")
    broken = tmp_path / "broken.xml"
    broken.write_text("<capabilities>", encoding="utf-8")
    with pytest.raises(api.UsageError, match="not a usable host snapshot"):
        api.read_host(broken)


def test_as_an_ansible_style_module_outside_the_checkout(tmp_path: Path) -> None:
    module = tmp_path / "vnuma_compile.py"
    module.write_text(MODULE, encoding="utf-8")
    args = json.dumps({"intent": str(INTENTS / "db-strict.yaml"), "host": str(XEON)})
    env = clean_environment()
    result = run_process([sys.executable, str(module), args], cwd=tmp_path, env=env)
    assert result.returncode == 0, explain_process(result)
    answer = json.loads(result.stdout)
    assert answer["failed"] is False and "<numatune>" in answer["xml"]
    missing = json.dumps({"intent": str(tmp_path / "nope.yaml"), "host": str(XEON)})
    result = run_process([sys.executable, str(module), missing], cwd=tmp_path, env=env)
    assert result.returncode == 1 and json.loads(result.stdout)["failed"] is True
