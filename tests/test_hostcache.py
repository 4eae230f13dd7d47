"""The on-disk cache of parsed host snapshots (vnuma.load.hostcache): a hit reads exactly
as a miss and as --no-cache, never imports lxml, and anything but a valid entry of the
user's own is a miss that gets rewritten."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from vnuma.libvirt.capabilities import load_host
from vnuma.load import hostcache

from tests.conftest import HOSTS, INTENTS, REPO

SAMPLE_HOSTS = sorted(HOSTS.glob("*.xml"))
INTENT = INTENTS / "db-strict.yaml"
NO_CELLS = """<capabilities><host><cpu><arch>x86_64</arch></cpu></host></capabilities>\n"""
BROKEN = """<capabilities><host><topology><cells num='1'>
<cell id='0'><memory unit='KiB'>oops</memory></cell></cells></topology></host></capabilities>
"""


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    """A fresh, empty cache for one test; returns where its entries go."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "vnuma"


@pytest.fixture
def snapshots(tmp_path):
    """The samples plus a snapshot with a warning (no cells) and one with an error."""
    folder = tmp_path / "hosts"
    folder.mkdir()
    for sample in SAMPLE_HOSTS:
        (folder / sample.name).write_bytes(sample.read_bytes())
    (folder / "no-cells.xml").write_text(NO_CELLS, encoding="utf-8")
    (folder / "broken.xml").write_text(BROKEN, encoding="utf-8")
    return folder


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.json"))


def only_entry(cache: Path) -> Path:
    found = entries(cache)
    assert len(found) == 1, found
    return found[0]


def refuse_to_parse(monkeypatch) -> None:
    """From here on, a snapshot that is not served from the cache fails the test."""

    def parse(data: bytes, shown: str) -> hostcache.Loaded:
        raise AssertionError(f"{shown} was parsed, not read from the cache")

    monkeypatch.setattr(hostcache, "_parse", parse)


SNAPSHOT_NAMES = [*(p.name for p in SAMPLE_HOSTS), "no-cells.xml", "broken.xml"]
COMMANDS = {
    "host": lambda snapshot: ["host", snapshot, "--format", "json"],
    "lint": lambda snapshot: ["lint", INTENT, "--host", snapshot, "--format", "json"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("name", SNAPSHOT_NAMES)
def test_a_hit_prints_what_a_miss_and_no_cache_print(
    name, command, snapshots, cache_home, run_cli, monkeypatch
):
    args = COMMANDS[command]
    monkeypatch.chdir(snapshots)
    miss = run_cli(*args(name))
    assert entries(cache_home), "the miss stored no entry"
    # the hit is shown under another display path than the one the entry was written with
    monkeypatch.chdir(snapshots.parent)
    uncached = run_cli(*args(Path("hosts") / name), "--no-cache")
    refuse_to_parse(monkeypatch)
    hit = run_cli(*args(Path("hosts") / name))
    assert (hit.code, hit.out, hit.err) == (uncached.code, uncached.out, uncached.err)
    assert (miss.code, miss.out.replace(name, f"hosts/{name}")) == (hit.code, hit.out)
    if name in ("no-cells.xml", "broken.xml"):
        assert f"hosts/{name}" in hit.out + hit.err  # the snapshot's own finding, shown here


@pytest.mark.parametrize("name", SNAPSHOT_NAMES)
def test_an_entry_reads_back_as_the_loader_reported(name, snapshots, cache_home):
    path = snapshots / name
    expected = load_host(path, "shown-as.xml")
    assert hostcache.load_snapshot(path, "first.xml") != expected  # the miss, shown elsewhere
    assert hostcache.load_snapshot(path, "shown-as.xml") == expected


def test_a_hit_allocates_what_the_entry_holds_not_the_limit(snapshots, cache_home):
    """Reading an entry asks for its size: a read of the 64 MiB limit allocated that much
    for every host of a fleet."""
    import tracemalloc

    path = snapshots / "2s-xeon.xml"
    hostcache.load_snapshot(path, "x.xml")  # the miss writes the entry
    tracemalloc.start()
    try:
        assert hostcache.load_snapshot(path, "x.xml")[0] is not None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, peak


@pytest.mark.parametrize("subcommand", ["compile", "fit", "show"])
def test_every_command_that_reads_a_snapshot_goes_through_the_cache(
    subcommand, cache_home, run_cli, monkeypatch, tmp_path
):
    host = HOSTS / "2s-xeon.xml"
    argv = {
        "compile": ["compile", INTENT, "--host", host],
        "fit": ["fit", INTENT, "--host", host],
        "show": ["show", "--host", host, INTENT],
    }[subcommand]
    uncached = run_cli(*argv, "--no-cache")
    assert not cache_home.exists(), "--no-cache wrote to the cache"
    run_cli(*argv)
    refuse_to_parse(monkeypatch)
    hit = run_cli(*argv)
    assert (hit.code, hit.out, hit.err) == (uncached.code, uncached.out, uncached.err)


def test_no_cache_variable_turns_the_cache_off(cache_home, run_cli, monkeypatch):
    monkeypatch.setenv(hostcache.NO_CACHE_VARIABLE, "1")
    result = run_cli("lint", INTENT, "--host", HOSTS / "2s-xeon.xml")
    assert result.code == 0
    assert not cache_home.exists()


def test_the_cache_is_private_and_tagged(cache_home, run_cli):
    run_cli("host", HOSTS / "2s-xeon.xml")
    assert cache_home.stat().st_mode & 0o777 == 0o700
    assert only_entry(cache_home).stat().st_mode & 0o777 == 0o600
    tag = (cache_home / "CACHEDIR.TAG").read_text(encoding="utf-8")
    assert tag.startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert [p.name for p in cache_home.iterdir() if p.name.startswith(".")] == []  # no temp


def test_a_hit_imports_neither_lxml_nor_the_xml_loaders(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    command = [sys.executable, "-X", "importtime", "-m", "vnuma", "lint", str(INTENT)]
    command += ["--host", str(HOSTS / "2s-xeon.xml")]

    def imported() -> set[str]:
        run = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO)
        assert run.returncode == 0, run.stderr
        rows = [line.split("|")[-1] for line in run.stderr.splitlines() if "|" in line]
        return {row.strip() for row in rows}

    loaders = {"lxml", "lxml.etree", "vnuma.libvirt.capabilities", "vnuma.load.xmlsafe"}
    assert loaders <= imported()  # the miss parses the XML
    assert loaders & imported() == set()


def test_a_warm_one_file_lint_imports_no_typing(tmp_path):
    """`typing` costs a pre-commit run 4% of its instructions, and a `NamedTuple` or
    `cast` would import it: the records of a lint are plain classes, and the modules name
    typing's helpers only under `if TYPE_CHECKING:` (a local False)."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    command = [sys.executable, "-X", "importtime", "-m", "vnuma", "lint", str(INTENT)]
    command += ["--host", str(HOSTS / "2s-xeon.xml")]
    for _ in range(2):  # the first run fills the cache
        run = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO)
        assert run.returncode == 0, run.stderr
    imported = {line.split("|")[-1].strip() for line in run.stderr.splitlines() if "|" in line}
    assert "vnuma.rules.host" in imported  # the host checks ran
    assert "typing" not in imported


# --- entries that must not be trusted --------------------------------------------------


def _valid_entry(cache_home: Path, run_cli) -> tuple[Path, dict[str, object]]:
    run_cli("host", HOSTS / "2s-xeon.xml", "--format", "json")
    entry = only_entry(cache_home)
    return entry, json.loads(entry.read_bytes())


def _poisoned(document: dict) -> dict:
    """A well-formed entry that says something else: trusted, it would change the output."""
    poisoned = json.loads(json.dumps(document))
    poisoned["host"]["cells"][0]["memory_kib"] = 1
    return poisoned


def _with(document: dict, path: tuple[object, ...], value: object) -> bytes:
    changed = json.loads(json.dumps(document))
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return json.dumps(changed).encode()


CORRUPTIONS = {
    "empty": lambda doc: b"",
    "truncated": lambda doc: json.dumps(doc).encode()[:-40],
    "binary garbage": lambda doc: bytes(range(256)) * 8,
    "not an object": lambda doc: b"[1, 2, 3]",
    "deeply nested": lambda doc: b"[" * 100_000 + b"]" * 100_000,
    "another format": lambda doc: _with(doc, ("format",), 999),
    "another vnuma": lambda doc: _with(doc, ("vnuma",), "0.0.0-other"),
    "another key": lambda doc: _with(doc, ("key",), "0" * 64),
    "a missing field": lambda doc: json.dumps({k: v for k, v in doc.items() if k != "host"}),
    "an extra field": lambda doc: _with(doc, ("extra",), 1),
    "a string for a number": lambda doc: _with(doc, ("host", "cells", 0, "id"), "0"),
    "true for a number": lambda doc: _with(doc, ("host", "cells", 0, "cpus", 0, 0), True),
    "a negative number": lambda doc: _with(doc, ("host", "cells", 0, "memory_kib"), -1),
    "a float": lambda doc: _with(doc, ("host", "cells", 0, "memory_kib"), 1.5),
    "a short CPU row": lambda doc: _with(doc, ("host", "cells", 0, "cpus", 0), [0, 0]),
    "a bad span": lambda doc: _with(doc, ("host", "cells", 0, "span"), [1, 2, 3]),
    "a bad diagnostic": lambda doc: _with(doc, ("diagnostics",), [["VN009"]]),
    "a bad severity": lambda doc: _with(
        doc, ("diagnostics",), [["VN009", "x", 7, "message", None, None, None]]
    ),
    "invalid UTF-8": lambda doc: json.dumps(doc).encode().replace(b'"x86_64"', b'"\xff\xfe"'),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_a_corrupt_entry_is_a_miss_and_is_rewritten(corruption, cache_home, run_cli):
    entry, document = _valid_entry(cache_home, run_cli)
    good = entry.read_bytes()
    expected = run_cli("host", HOSTS / "2s-xeon.xml", "--format", "json", "--no-cache")
    data = CORRUPTIONS[corruption](document)
    entry.write_bytes(data.encode() if isinstance(data, str) else data)
    result = run_cli("host", HOSTS / "2s-xeon.xml", "--format", "json")
    assert (result.code, result.out, result.err) == (expected.code, expected.out, expected.err)
    assert entry.read_bytes() == good


def test_a_valid_entry_is_trusted(cache_home, run_cli):
    """The counterpart of the tests below: the poisoned entry does change the output."""
    entry, document = _valid_entry(cache_home, run_cli)
    entry.write_text(json.dumps(_poisoned(document)), encoding="utf-8")
    result = run_cli("host", HOSTS / "2s-xeon.xml", "--format", "json")
    assert json.loads(result.out)["nodes"][0]["memory_kib"] == 1


@pytest.mark.skipif(not hasattr(os, "chown") or os.geteuid() != 0, reason="needs root to chown")
def test_an_entry_owned_by_another_user_is_ignored(cache_home, run_cli):
    entry, document = _valid_entry(cache_home, run_cli)
    expected = run_cli("host", HOSTS / "2s-xeon.xml", "--format", "json", "--no-cache")
    entry.write_text(json.dumps(_poisoned(document)), encoding="utf-8")
    os.chown(entry, 12345, -1)
    result = run_cli("host", HOSTS / "2s-xeon.xml", "--format", "json")
    assert result.out == expected.out
    assert entry.stat().st_uid == os.getuid()  # rewritten: the directory is ours


def test_a_directory_owned_by_another_user_is_neither_read_nor_written(
    cache_home, run_cli, monkeypatch
):
    entry, document = _valid_entry(cache_home, run_cli)
    expected = run_cli("host", HOSTS / "2s-xeon.xml", "--format", "json", "--no-cache")
    entry.write_text(json.dumps(_poisoned(document)), encoding="utf-8")
    poisoned = entry.read_bytes()
    someone_else = os.getuid() + 12345
    monkeypatch.setattr(hostcache.os, "getuid", lambda: someone_else)
    result = run_cli("host", HOSTS / "2s-xeon.xml", "--format", "json")
    assert (result.code, result.out) == (expected.code, expected.out)
    assert entry.read_bytes() == poisoned


@pytest.mark.parametrize("kind", ["symlink", "directory", "fifo"])
def test_an_entry_that_is_not_a_regular_file_is_ignored(kind, cache_home, run_cli, tmp_path):
    entry, document = _valid_entry(cache_home, run_cli)
    expected = run_cli("host", HOSTS / "2s-xeon.xml", "--format", "json", "--no-cache")
    entry.unlink()
    if kind == "symlink":
        elsewhere = tmp_path / "poisoned.json"
        elsewhere.write_text(json.dumps(_poisoned(document)), encoding="utf-8")
        entry.symlink_to(elsewhere)
    elif kind == "directory":
        entry.mkdir()
    else:
        os.mkfifo(entry)
    result = run_cli("host", HOSTS / "2s-xeon.xml", "--format", "json")
    assert (result.code, result.out, result.err) == (expected.code, expected.out, expected.err)


def test_an_oversized_entry_is_not_read(cache_home, run_cli, monkeypatch):
    entry, document = _valid_entry(cache_home, run_cli)
    entry.write_text(json.dumps(_poisoned(document)), encoding="utf-8")
    monkeypatch.setattr(hostcache, "MAX_ENTRY_BYTES", 100)
    result = run_cli("host", HOSTS / "2s-xeon.xml", "--format", "json")
    assert json.loads(result.out)["nodes"][0]["memory_kib"] != 1


# --- a cache that cannot be written ----------------------------------------------------


def test_a_cache_home_that_is_a_file_leaves_the_run_working(tmp_path, run_cli, monkeypatch):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    expected = run_cli("lint", INTENT, "--host", HOSTS / "2s-xeon.xml", "--no-cache")
    result = run_cli("lint", INTENT, "--host", HOSTS / "2s-xeon.xml")
    assert (result.code, result.out, result.err) == (expected.code, expected.out, expected.err)


def test_a_full_disk_leaves_the_run_working(cache_home, run_cli, monkeypatch):
    real_open = os.open

    def no_space(path: object, flags: int, *args: object) -> int:
        if str(path).endswith(".tmp"):
            raise OSError(28, "No space left on device")
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(hostcache.os, "open", no_space)
    expected = run_cli("lint", INTENT, "--host", HOSTS / "2s-xeon.xml", "--no-cache")
    result = run_cli("lint", INTENT, "--host", HOSTS / "2s-xeon.xml")
    assert (result.code, result.out, result.err) == (expected.code, expected.out, expected.err)
    assert entries(cache_home) == []


def test_a_failed_write_leaves_no_temporary_file(cache_home, monkeypatch):
    def fail(source: object, target: object) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(hostcache.os, "replace", fail)
    hostcache.load_snapshot(HOSTS / "2s-xeon.xml", "2s-xeon.xml")
    assert [p.name for p in cache_home.iterdir()] == []


def test_without_a_home_there_is_no_cache() -> None:
    assert hostcache.cache_directory({"HOME": "relative"}) is None
    assert hostcache.cache_directory({}) is None
    assert hostcache.cache_directory({"HOME": "/home/u"}) == Path("/home/u/.cache/vnuma")
    assert hostcache.cache_directory({"HOME": "/h", "XDG_CACHE_HOME": "rel"}) == Path(
        "/h/.cache/vnuma"
    )
    assert hostcache.cache_directory({"HOME": "/h", "XDG_CACHE_HOME": "/c"}) == Path("/c/vnuma")
    assert hostcache.cache_directory({"HOME": "/h", hostcache.NO_CACHE_VARIABLE: "1"}) is None


# --- the key -----------------------------------------------------------------------------


def test_the_key_follows_the_bytes_and_the_version() -> None:
    data = (HOSTS / "2s-xeon.xml").read_bytes()
    key = hostcache.entry_key(data, "0.1.0")
    assert key == hostcache.entry_key(bytes(data), "0.1.0")
    assert key != hostcache.entry_key(data + b"\n", "0.1.0")
    assert key != hostcache.entry_key(data.replace(b"2048", b"2049", 1), "0.1.0")
    assert key != hostcache.entry_key(data, "0.1.1")


def test_an_edited_snapshot_is_parsed_again_whatever_its_size_and_mtime(
    cache_home, tmp_path, run_cli
):
    snapshot = tmp_path / "host.xml"
    original = (HOSTS / "2s-xeon.xml").read_text(encoding="utf-8")
    snapshot.write_text(original, encoding="utf-8")
    stamp = snapshot.stat()
    before = run_cli("host", snapshot, "--format", "json")
    snapshot.write_text(original.replace(">200734516<", ">100734516<"), encoding="utf-8")
    os.utime(snapshot, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    after = run_cli("host", snapshot, "--format", "json")
    assert json.loads(before.out)["nodes"][0]["memory_kib"] == 200734516
    assert json.loads(after.out)["nodes"][0]["memory_kib"] == 100734516
    assert len(entries(cache_home)) == 2
