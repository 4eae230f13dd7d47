"""Shared fixtures: one-.xml-file-per-case syrupy snapshots, in-process CLI runs, paths."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
HOSTS = SAMPLES / "hosts"
INTENTS = SAMPLES / "intents"
SHARED_CORPUS = REPO.parent / "shared" / "corpus" / "libvirt"


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
    from compiler.cli import main

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
