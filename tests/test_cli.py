"""The command line as a user meets it: exit codes, streams, messages, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import HOSTS, INTENTS, REPO


def test_compile_writes_xml_to_stdout_and_nothing_to_stderr(run_cli) -> None:
    from vnuma.emit.verify import find_schema_dir

    result = run_cli("compile", INTENTS / "db-strict.yaml", "--host", HOSTS / "2s-xeon.xml")
    assert result.code == 0
    assert result.out.startswith('<domain type="kvm">') and "<numatune>" in result.out
    if find_schema_dir(None) is None:  # no libvirt0 here: the one note says what was not done
        assert result.err.startswith("note: libvirt's RelaxNG schemas not found"), result.err
        assert result.err.count("\n") == 1, result.err
    else:
        assert result.err == ""


def test_warnings_go_to_stderr_and_keep_exit_zero(run_cli, write) -> None:
    intent = write(
        "w.yaml",
        'version: 1\nvcpus: 4\nmemory: 4GiB\nnumatune: {mode: preferred, nodeset: "0-1"}\n',
    )
    result = run_cli("compile", intent, "--host", HOSTS / "2s-xeon.xml")
    assert result.code == 0
    assert "<domain" in result.out and "VN115" not in result.out
    assert f"{intent}:4:38: VN115 " in result.err
    assert "Found 0 errors, 1 warning." in result.err


def test_errors_exit_one_with_file_line_col_and_hint(run_cli, write) -> None:
    intent = write("e.yaml", "version: 1\nvcpus: 4\nmemory: 4096\n")
    result = run_cli("compile", intent)
    assert result.code == 1
    assert result.out == ""
    assert f"{intent}:3:9: VN004 size 4096 has no unit" in result.err
    assert "hint: sizes need a unit: did you mean 4096MiB?" in result.err


def test_output_file(run_cli, tmp_path) -> None:
    out = tmp_path / "vm.xml"
    result = run_cli("compile", INTENTS / "web-preferred.yaml", "-o", out)
    assert result.code == 0 and result.out == ""
    assert out.read_text().startswith('<domain type="kvm">')
    assert [p.name for p in tmp_path.iterdir()] == ["vm.xml"]


def test_output_file_not_written_on_errors(run_cli, write, tmp_path) -> None:
    out = tmp_path / "vm.xml"
    out.write_text("previous")
    intent = write("e.yaml", "version: 1\nvcpus: 4\nmemory: 4G\n")
    assert run_cli("compile", intent, "-o", out).code == 1
    assert out.read_text() == "previous"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compile", "missing.yaml"], "missing.yaml: no such file"),
        (["compile", "intent.json"], "must be a .yaml, .yml or .toml file"),
        (
            ["compile", str(INTENTS / "db-strict.yaml"), "--host", "nope.xml"],
            "nope.xml: no such file",
        ),
        (
            ["compile", str(INTENTS / "db-strict.yaml"), "--domain", "nope.xml"],
            "nope.xml: no such file",
        ),
        (["compile", str(INTENTS)], "is a directory; compile takes one intent file"),
        (["host", "nope.xml"], "nope.xml: no such file"),
        (["explain", "VN999"], "unknown rule"),
    ],
)
def test_usage_errors_exit_two(run_cli, args, message) -> None:
    result = run_cli(*args)
    assert result.code == 2
    assert message in result.err


def test_directory_with_intent_suffix_is_unreadable(run_cli, tmp_path) -> None:
    folder = tmp_path / "dir.yaml"
    folder.mkdir()
    result = run_cli("compile", folder)
    assert result.code == 2 and "is a directory" in result.err


def test_argparse_usage_error_exits_two(run_cli) -> None:
    with pytest.raises(SystemExit) as exc:
        run_cli("compile")
    assert exc.value.code == 2


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\xff\xfe\x00garbage",
        b"version: 1\nvcpus: [\n",
        b"- 1\n- 2\n",
        b"just a string\n",
        b"version: 1\nvcpus: 4\nmemory: 4GiB\ncells: {a: 1}\n",
        b"version: 1\nvcpus: 4\nmemory: 4GiB\ncells:\n  - {cpus: '0-', memory: 4GiB}\n",
        b"version: 1\nvcpus: 4\nmemory: 4GiB\ncells:\n  - {cpus: '0-3', memory: 4GiB, distances: {x: 1}}\n",
        b"version: 1\nvcpus: 4\nmemory: 99999999999999999999TiB\n",
        b"version: 1\nvcpus: 4\nmemory: 4GiB\nnumatune: {nodeset: '0-99999'}\n",
        b"version: 1\nvcpus: 4\nmemory: 4GiB\nnumatune: {nodeset: '^'}\n",
        b"version: 1\nvcpus: 1e400\nmemory: 4GiB\n",
        b"version: 1\nvcpus: .nan\nmemory: 4GiB\n",
        b"version: 1\n? [a, b]\n: 1\n",
        b"version: !!python/object/apply:os.system ['true']\n",
        b"&a [*a]\n",
        b"version: 2\nvcpus: 4\nmemory: 4GiB\n",
    ],
)
def test_malformed_intents_are_findings_not_crashes(run_cli, tmp_path, content) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    result = run_cli("compile", path)
    assert result.code == 1, result.err
    assert "VN0" in result.err
    assert "internal error" not in result.err


def test_toml_errors_have_positions(run_cli, write) -> None:
    intent = write(
        "bad.toml", 'version = 1\nvcpus = 4\nmemory = "4GiB"\n[numatune]\nmode = "strcit"\n'
    )
    result = run_cli("compile", intent)
    assert result.code == 1
    assert f"{intent}:5:8: VN002" in result.err
    assert "did you mean 'strict'?" in result.err


def test_unknown_key_suggests_the_right_one(run_cli, write) -> None:
    intent = write(
        "k.yaml",
        'version: 1\nvcpus: 4\nmemory: 4GiB\ncells:\n  - {cpus: "0-3", memory: 4GiB, host_node: 0}\n',
    )
    result = run_cli("compile", intent)
    assert f"{intent}:5:33: VN003 unknown key 'host_node' in cells[0]" in result.err
    assert "did you mean 'host_nodes'?" in result.err


def test_schema_command_prints_the_json_schema(run_cli) -> None:
    result = run_cli("schema")
    schema = json.loads(result.out)
    assert schema["$schema"].endswith("2020-12/schema")
    assert result.out == (REPO / "schemas" / "intent-v1.schema.json").read_text()


def test_rules_and_explain(run_cli) -> None:
    listing = run_cli("rules")
    assert listing.code == 0
    assert "VN104  cell-vcpu-overlap" in listing.out
    explained = run_cli("explain", "vn104")
    assert explained.code == 0
    assert "## Why" in explained.out and "overlapping vCPU ids" in explained.out
    assert run_cli("explain", "cell-vcpu-overlap").out == explained.out


def test_host_command(run_cli) -> None:
    result = run_cli("host", HOSTS / "2s-xeon.xml")
    assert result.code == 0
    assert "2 NUMA node(s)" in result.out and "0-19,40-59" in result.out


def test_no_host_is_noted(run_cli, write) -> None:
    intent = write("n.yaml", "version: 1\nvcpus: 4\nmemory: 4GiB\n")
    result = run_cli("compile", intent)  # without a host, host checks are skipped (as lint)
    assert result.code == 0
    assert "no host snapshot: host checks skipped" in result.err
    result = run_cli("compile", intent, "--local-host")  # conftest: this machine has no sysfs
    assert result.code == 0
    assert "no host snapshot and no sysfs here: host checks skipped" in result.err
    result = run_cli("compile", intent, "--no-host")
    assert result.code == 0
    assert "no host snapshot: host checks skipped" in result.err


def test_explicit_missing_schema_dir_is_noted(run_cli, tmp_path) -> None:
    result = run_cli("compile", INTENTS / "web-preferred.yaml", "--libvirt-schemas", tmp_path)
    assert result.code == 0
    assert "not validated" in result.err


def test_internal_errors_exit_two_without_traceback(run_cli, monkeypatch) -> None:
    import vnuma.runner

    def explode(options):
        raise RuntimeError("boom")

    monkeypatch.setattr(vnuma.runner, "compile_intent", explode)
    result = run_cli("compile", INTENTS / "db-strict.yaml")
    assert result.code == 2
    assert "internal error while processing" in result.err and "please report" in result.err
    assert "db-strict.yaml" in result.err


def test_python_dash_m_compiler_works() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vnuma", "compile", str(INTENTS / "db-strict.toml")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "<numatune>" in done.stdout


def _vnuma(*args: object, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    """`python -m vnuma ARGS`: the process, which ends without the interpreter's teardown."""
    command = [sys.executable, "-m", "vnuma", *map(str, args)]
    return subprocess.run(command, cwd=REPO, timeout=60, check=False, **kwargs)  # type: ignore[call-overload, no-any-return]


def test_the_process_writes_all_its_output_and_its_exit_status(run_cli, tmp_path) -> None:
    """Ending without teardown loses nothing: output larger than a pipe's buffer, or to
    a fully buffered file, is whole, and the exit status is main's."""
    negative = REPO / "samples" / "negative"
    expected = run_cli("lint", negative, "--format", "json")
    assert expected.code == 1
    piped = _vnuma("lint", negative, "--format", "json", capture_output=True)
    assert (piped.returncode, piped.stdout.decode()) == (1, expected.out)
    big = run_cli("rules", "--format", "markdown")
    assert len(big.out.encode()) > 65536  # more than a pipe holds
    assert _vnuma("rules", "--format", "markdown", capture_output=True).stdout.decode() == big.out
    with (tmp_path / "rules.md").open("wb") as out:
        done = _vnuma("rules", "--format", "markdown", stdout=out, stderr=subprocess.PIPE)
    assert done.returncode == 0 and done.stderr == b""
    assert (tmp_path / "rules.md").read_text(encoding="utf-8") == big.out


def test_a_reader_that_goes_away_or_a_full_disk_is_no_traceback() -> None:
    command = f"{sys.executable} -m vnuma rules --format markdown | head -c 1"
    done = subprocess.run(
        ["sh", "-c", command], cwd=REPO, capture_output=True, timeout=60, check=False
    )
    assert len(done.stdout) == 1 and b"Traceback" not in done.stderr
    assert b"Exception ignored" not in done.stderr
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "wb") as full:
        # buffered output smaller than the file buffer: written only by the last flush
        env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
        done = _vnuma("explain", "VN104", stdout=full, stderr=subprocess.PIPE, env=env)
    assert done.returncode == 2
    assert done.stderr.decode().startswith("vnuma: cannot write the output:")
    assert b"Traceback" not in done.stderr
    # unbuffered (or more than a buffer): the write fails inside main, the same way
    env["PYTHONUNBUFFERED"] = "1"
    with open("/dev/full", "wb") as full:
        done = _vnuma("explain", "VN104", stdout=full, stderr=subprocess.PIPE, env=env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.decode() == (
        "vnuma: cannot write the output: [Errno 28] No space left on device\n"
    )


def test_only_the_named_subcommand_is_built_and_help_still_lists_them_all(run_cli) -> None:
    from vnuma.cli import _parser

    def built(argv: list[str]) -> set[str]:
        parser = _parser(argv)
        sub = next(a for a in parser._actions if a.dest == "command")
        return set(sub.choices)  # type: ignore[arg-type]

    assert built(["lint", "x.yaml"]) == {"lint"}
    assert built(["--color", "never", "explain", "VN104"]) == {"schema", "explain", "rules"}
    everything = {"compile", "lint", "fit", "show", "host", "capture", "schema", "explain", "rules"}
    assert built(["-h"]) == built(["bogus"]) == built([]) == everything
    assert run_cli("--color", "never", "explain", "VN104").code == 0
