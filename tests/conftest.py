"""Shared fixtures: one-.xml-file-per-case syrupy snapshots, in-process CLI runs, paths."""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

if TYPE_CHECKING:
    from tests.sysfs_trees import Tree

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
HOSTS = SAMPLES / "hosts"
INTENTS = SAMPLES / "intents"
SHARED_CORPUS = REPO.parent / "shared" / "corpus" / "libvirt"


@cache
def source_trees() -> dict[Path, ast.Module]:
    """Every module under compiler/, parsed once per session (the tests of the import graph,
    the code catalogue and the declared dependencies read the same trees)."""
    return {
        path: ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted((REPO / "compiler").rglob("*.py"))
    }


@pytest.fixture(autouse=True, scope="session")
def private_cache_home(tmp_path_factory):
    """vnuma caches parsed host snapshots under $XDG_CACHE_HOME/vnuma: the suite (and the
    CLI subprocesses it starts, which inherit os.environ) never touches the real one."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        patch.delenv("VNUMA_NO_CACHE", raising=False)
        yield


@pytest.fixture(autouse=True)
def no_local_host(monkeypatch, tmp_path_factory):
    """`vnuma compile --local-host` reads this machine's sysfs; tests must not depend on
    the machine they run on, so they see none (tests of --local-host set their own)."""
    monkeypatch.setenv("VNUMA_SYSFS_ROOT", str(tmp_path_factory.getbasetemp() / "no-sysfs"))


@pytest.fixture(scope="session")
def machine_tree(tmp_path_factory) -> Callable[[Callable[[], Tree]], Path]:
    """``machine_tree(xeon_2s)``: the ``system`` folder of one of the sample machines of
    `tests/sysfs_trees.py`, written once per session (hundreds of files each). Read only:
    a test that changes a tree, or needs one of its own, writes it with ``write_tree``."""
    from tests.sysfs_trees import write_tree

    written: dict[str, Path] = {}

    def tree(machine: Callable[[], Tree]) -> Path:
        name = machine.__name__
        if name not in written:
            written[name] = write_tree(tmp_path_factory.mktemp(f"sysfs-{name}"), machine())
        return written[name]

    return tree


class XmlSnapshotExtension(SingleFileSnapshotExtension):
    file_extension = "xml"
    _write_mode = WriteMode.TEXT


@pytest.fixture
def snapshot_xml(snapshot):
    return snapshot.with_defaults(extension_class=XmlSnapshotExtension)


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys):
    """Run `vnuma ARGS` in-process; never lets an exception escape unnoticed."""
    from vnuma.cli import main

    def run(*args: str | Path) -> CliResult:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def write(tmp_path):
    """Write a file under tmp_path and return its path."""

    def make(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return make


def clean_environment() -> dict[str, str]:
    """The environment for a subprocess that must not see this checkout or this venv."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def run_process(
    cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: int = 120
) -> subprocess.CompletedProcess[str]:
    """Run an external command; a timeout fails the test with everything it printed."""
    try:
        return subprocess.run(
            cmd,
            cwd=cwd,
            env=env if env is not None else clean_environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"{cmd} timed out after {timeout}s\nstdout:\n{exc.stdout}\nstderr:\n{exc.stderr}"
        )


def explain_process(result: subprocess.CompletedProcess[str]) -> str:
    return (
        f"{shlex.join(str(arg) for arg in result.args)} exited {result.returncode}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )


EXPECT_MARKER = re.compile(r"expect:\s*(?P<codes>VN\d{3}@\d+(?:\s*,\s*VN\d{3}@\d+)*)")
"""`expect: CODE@COLUMN[, ...]` on a sample's line: a finding the sample means to produce
(a seeded mistake in samples/negative/; an info note in a positive sample)."""


def marked_findings(path: Path) -> set[tuple[int, int, str]]:
    """(line, column, code) of every finding ``path`` marks as expected."""
    found = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = EXPECT_MARKER.search(line)
        if match is None:
            continue
        for item in match["codes"].split(","):
            code, column = item.strip().split("@")
            found.add((number, int(column), code))
    return found
