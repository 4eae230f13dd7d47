"""`vnuma lint -j N`: files linted in N processes give byte-identical output to one process."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLES, CliResult

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


def _split_fleet(root: Path, *, shared_snapshot: bool = False) -> None:
    """Half of each host's files moved to ``other/``: one host, two folders, two globs;
    with ``shared_snapshot`` the second host's mapping names the first host's snapshot."""
    config = root / "vnuma.toml"
    text = config.read_text(encoding="utf-8")
    for folder in sorted((root / "vms").iterdir()):
        moved = root / "other" / folder.name
        moved.mkdir(parents=True)
        for file in sorted(folder.iterdir())[::2]:
            file.rename(moved / file.name)
        text = text.replace(
            f'files = ["vms/{folder.name}/**"]',
            f'files = ["vms/{folder.name}/**", "other/{folder.name}/*.*"]',
        )
    if shared_snapshot:
        text = text.replace('snapshot = "hosts/hv002.xml"', 'snapshot = "hosts/hv001.xml"')
    config.write_text(text, encoding="utf-8")


JOBS = ["2", pytest.param("3", marks=pytest.mark.slow)]
"""-j N for the scenarios below: two processes in the default run, three (an odd split of
three hosts) in CI's slow step; test_generated_fleet_same_output_with_jobs runs both."""


def _same_for_jobs(run_cli, jobs: str, *args: str) -> CliResult:  # type: ignore[no-untyped-def]
    one = run_cli("lint", *args, "--format", "json", "-j", "1")
    other = run_cli("lint", *args, "--format", "json", "-j", jobs)
    assert (other.code, other.out, other.err) == (one.code, one.out, one.err), jobs
    return one


@pytest.mark.parametrize("jobs", JOBS)
@pytest.mark.parametrize("shared", [False, True])
def test_host_in_several_folders_same_output_with_jobs(
    run_cli, tmp_path: Path, monkeypatch, shared: bool, jobs: str
) -> None:
    _fleet_gen().generate(tmp_path, 120, hosts=3, seed=3, problem_every=10)
    _split_fleet(tmp_path, shared_snapshot=shared)
    monkeypatch.chdir(tmp_path)
    whole = _same_for_jobs(run_cli, jobs, ".")
    findings = json.loads(whole.out)
    admitted = [d for d in findings if d["code"].startswith("VN50")]
    assert admitted, whole.out
    # files of both folders are on one host: admission names guests of both
    assert {d["path"].split("/")[0] for d in admitted} == {"vms", "other"}


@pytest.mark.parametrize("jobs", JOBS)
def test_unasked_files_are_admitted_with_jobs(run_cli, tmp_path: Path, monkeypatch, jobs) -> None:
    # a pre-commit run passes only staged files: their hosts are still admitted whole,
    # from files in the other folder of the host too
    _fleet_gen().generate(tmp_path, 120, hosts=3, seed=3, problem_every=10)
    _split_fleet(tmp_path)
    monkeypatch.chdir(tmp_path)
    whole = json.loads(run_cli("lint", ".", "--format", "json").out)
    flagged = sorted({d["path"] for d in whole if d["code"].startswith("VN50")})
    staged = [flagged[0], flagged[-1], "vms/hv001", "other/hv003"]
    one = _same_for_jobs(run_cli, jobs, *staged[:2])
    found = json.loads(one.out)
    assert {d["path"] for d in found} <= set(staged[:2])
    assert [d for d in found if d["code"].startswith("VN50")], one.out
    _same_for_jobs(run_cli, jobs, *staged[2:])


@pytest.mark.parametrize("jobs", JOBS)
def test_nested_configs_same_output_with_jobs(run_cli, tmp_path: Path, monkeypatch, jobs) -> None:
    _fleet_gen().generate(tmp_path, 120, hosts=3, seed=5, problem_every=10)
    nested = tmp_path / "vms" / "hv002"
    (nested / "vnuma.toml").write_text(
        'ignore = ["VN502"]\n\n[[hosts]]\nsnapshot = "../../hosts/hv001.xml"\nfiles = ["*.xml"]\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    one = _same_for_jobs(run_cli, jobs, ".")
    assert one.code in (0, 1), one.err
    found = [(d["path"], d["code"]) for d in json.loads(one.out)]
    assert ("vms/hv002", "VN502") not in {(path.rsplit("/", 1)[0], code) for path, code in found}


@pytest.mark.parametrize("jobs", JOBS)
def test_unreadable_files_are_the_same_error_with_jobs(
    run_cli, tmp_path: Path, monkeypatch, jobs: str
) -> None:
    # files that vanish after discovery, on two hosts: the first in the report's order
    # is the error, whichever worker met it
    _fleet_gen().generate(tmp_path, 120, hosts=3, seed=5)
    for host in ("hv003", "hv001"):
        (tmp_path / "vms" / host / "zz-gone.yaml").symlink_to(tmp_path / "missing.yaml")
    monkeypatch.chdir(tmp_path)
    one = _same_for_jobs(run_cli, jobs, ".")
    assert one.code == 2 and "zz-gone.yaml" in one.err and not one.out, one.err


@pytest.mark.parametrize("jobs", JOBS)
def test_bad_nested_config_is_the_same_error_with_jobs(
    run_cli, tmp_path: Path, monkeypatch, jobs: str
) -> None:
    _fleet_gen().generate(tmp_path, 60, hosts=2, seed=5)
    (tmp_path / "vms" / "hv002" / "vnuma.toml").write_text("[lint\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    one = _same_for_jobs(run_cli, jobs, ".")
    assert one.code == 2 and "vnuma.toml" in one.err, one.err


def test_split_walk_finds_what_discover_finds(tmp_path: Path, monkeypatch) -> None:
    # the parts -j workers walk, in order, are the walk of one process: excluded and
    # hidden directories, nested configurations, symlinks, files given beside folders
    from vnuma.load.discover import ConfigResolver, discover, split_walk, walk_unit

    _fleet_gen().generate(tmp_path, 60, hosts=2, seed=5)
    (tmp_path / "vnuma.toml").write_text(
        (tmp_path / "vnuma.toml")
        .read_text(encoding="utf-8")
        .replace("[[hosts]]", 'exclude = ["vms/hv002/vm0001*"]\n\n[[hosts]]', 1),
        encoding="utf-8",
    )
    (tmp_path / "vms" / ".hidden").mkdir()
    (tmp_path / "vms" / ".hidden" / "a.yaml").write_text("vcpus: 2\n", encoding="utf-8")
    (tmp_path / "vms" / "hv001" / "vnuma.toml").write_text('exclude = ["*.yaml"]\n')
    (tmp_path / "linked").symlink_to(tmp_path / "vms" / "hv002")
    monkeypatch.chdir(tmp_path)
    given = (Path("."), Path("vms/hv002"), Path("hosts/hv001.xml"))
    expected = list(discover(given, ConfigResolver(None)))
    for wanted in (1, 4, 50):
        configs = ConfigResolver(None)
        units = split_walk(given, configs, wanted=wanted)
        walked = [path for unit in units for path in walk_unit(unit, configs)]
        assert list(dict.fromkeys(walked)) == expected, wanted
        assert wanted == 1 or len(units) > len(given)


def test_config_error_reaches_the_parent_whole(tmp_path: Path) -> None:
    # a worker's ConfigError keeps every problem (its pickle alone would keep one)
    import os

    from vnuma.commands import lint
    from vnuma.commands.forked import Channel
    from vnuma.diagnostics import Span
    from vnuma.report.config import ConfigError, ConfigProblem

    problems = (ConfigProblem("first", Span(1, 2, 1, 3)), ConfigProblem("second", hint="fix"))
    error = ConfigError("first", tmp_path / "vnuma.toml", problems=problems)
    read, write = os.pipe()
    receiving, sending = Channel(os.fdopen(read, "rb"), None), Channel(None, os.fdopen(write, "wb"))
    lint._send(sending, lint._Share({}, (3, error)), 5)
    sending.close()
    share = lint._received(receiving, 5)
    receiving.close()
    assert share.error is not None and share.error[0] == 3
    assert isinstance(share.error[1], ConfigError)
    assert str(share.error[1]) == str(error) and "second" in str(error)


def test_a_fleet_report_keeps_no_path_per_file(tmp_path: Path) -> None:
    """A report's files share their folders' paths, and linting made no path per file
    that stays: a fleet's peak memory grows by a small record and a name per file
    (pathlib keeps every name it parses interned, so even a path made and dropped per
    file would leave a table of names behind)."""
    import gc
    from pathlib import PurePath

    from vnuma.commands.lint import LintOptions, lint

    def paths() -> int:
        gc.collect()
        return sum(isinstance(o, PurePath) for o in gc.get_objects())

    _fleet_gen().generate(tmp_path, 120, hosts=3, seed=2)
    before = paths()
    report = lint(LintOptions((tmp_path,)))
    assert len(report.files) >= 120
    folders = {id(file.folder) for file in report.files}
    assert len(folders) <= 10
    assert paths() - before < 30
    names = [file.name for file in report.files]
    assert sum(sys.intern("".join(list(name))) is name for name in names) == 0
    assert report.files[0].path == report.files[0].folder.path / report.files[0].name


def test_the_shared_counter_gives_each_number_once_across_forks() -> None:
    from vnuma.commands.forked import SharedCounter, fork_worker

    counter = SharedCounter()
    count = 2000

    def taken() -> list[int]:
        numbers = []
        while (number := counter.take()) < count:
            numbers.append(number)
        return numbers

    children = []
    for _ in range(2):
        children.append(fork_worker(lambda channel: channel.send(taken()), children))
    mine = taken()
    theirs = [child.channel.receive() for child in children]
    for child in children:
        child.join()
    counter.close()
    everything = mine + [n for numbers in theirs for n in numbers]
    assert sorted(everything) == list(range(count))
    assert all(numbers == sorted(numbers) for numbers in [mine, *theirs])


def test_a_worker_that_dies_is_an_error_not_a_hang(run_cli, tmp_path: Path, monkeypatch) -> None:
    from vnuma.commands import lint

    def dies(*args: object) -> None:
        raise RuntimeError("the worker broke")

    _fleet_gen().generate(tmp_path, 60, hosts=3, seed=3)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(lint, "_planned_from", dies)  # only a worker calls it
    for _ in range(5):  # whether or not it is gone before the parent writes to it
        result = run_cli("lint", ".", "-j", "2")
        assert result.code == 2
        assert "a lint worker process died" in result.err, result.err


def test_a_parent_that_fails_stops_its_workers(run_cli, tmp_path: Path, monkeypatch) -> None:
    """An internal error in the parent ends the run at once: a worker still busy with its
    share is stopped, not waited for."""
    import os
    import time

    from vnuma.commands import lint

    parent = os.getpid()

    def share(*args: object) -> None:
        if os.getpid() == parent:
            raise RuntimeError("the parent broke")
        time.sleep(60)  # a worker with a long share

    _fleet_gen().generate(tmp_path, 60, hosts=3, seed=3)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(lint, "_task_share", share)
    start = time.monotonic()
    result = run_cli("lint", ".", "-j", "2")
    assert result.code == 2 and "the parent broke" in result.err, result.err
    assert time.monotonic() - start < 30
