"""`vnuma lint -j N`: files linted in N processes give byte-identical output to one process."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLES

BENCH = REPO / "bench"


def _fleet_gen():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module("fleet_gen")
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_samples_same_output_with_two_jobs(run_cli, monkeypatch, fmt: str) -> None:
    monkeypatch.chdir(REPO)
    one = run_cli("lint", SAMPLES, "--format", fmt, "-j", "1")
    two = run_cli("lint", SAMPLES, "--format", fmt, "-j", "2")
    assert one.code in (0, 1), one.err
    assert (two.code, two.out, two.err) == (one.code, one.out, one.err)


def test_samples_with_one_host_same_output_with_two_jobs(run_cli, monkeypatch) -> None:
    # --host puts every guest on one host: admission over files from both workers
    monkeypatch.chdir(REPO)
    host = SAMPLES / "hosts" / "2s-xeon.xml"
    one = run_cli("lint", SAMPLES / "intents", "--host", host, "-j", "1")
    two = run_cli("lint", SAMPLES / "intents", "--host", host, "-j", "2")
    assert (two.code, two.out, two.err) == (one.code, one.out, one.err)


def test_generated_fleet_same_output_with_jobs(run_cli, tmp_path: Path, monkeypatch) -> None:
    # some guests do not fit beside the others: admission findings across chunks
    _fleet_gen().generate(tmp_path, 150, hosts=3, seed=7, problem_every=15)
    monkeypatch.chdir(tmp_path)
    one = run_cli("lint", ".", "--format", "json", "-j", "1")
    assert one.code == 1 and '"VN50' in one.out, one.out
    for jobs in ("2", "3", "0"):
        other = run_cli("lint", ".", "--format", "json", "-j", jobs)
        assert (other.code, other.out, other.err) == (one.code, one.out, one.err), jobs


def test_unreadable_host_is_a_usage_error_with_jobs(run_cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("a.yaml", "b.yaml", "c.yaml"):
        (tmp_path / name).write_text("version: 1\nvcpus: 2\nmemory: 2GiB\n", encoding="utf-8")
    one = run_cli("lint", ".", "--host", "missing.xml", "-j", "1")
    two = run_cli("lint", ".", "--host", "missing.xml", "-j", "2")
    assert one.code == 2
    assert (two.code, two.out, two.err) == (one.code, one.out, one.err)


@pytest.mark.parametrize("value", ["-1", "x", "1.5", ""])
def test_bad_jobs_is_a_usage_error(run_cli, value: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_cli("lint", SAMPLES, "-j", value)
    assert exit_info.value.code == 2
