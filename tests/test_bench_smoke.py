"""The benchmark under bench/: its host generator, the scale section's intents and Markdown
(fast), and a --quick run without Nova (slow)."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from vnuma.libvirt.capabilities import load_host

from tests.conftest import REPO, explain_process, run_process

BENCH = REPO / "bench"


def _load_topology():
    """bench/topology.py (a script directory, not a package), imported by path."""
    name = "vnuma_bench_topology"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCH / "topology.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("nodes", [8, 16, 32, 64])
def test_generated_host_parses(tmp_path: Path, nodes: int) -> None:
    topology = _load_topology()
    path = topology.write_capabilities(nodes, tmp_path)
    host, diagnostics = load_host(path)
    assert host is not None, diagnostics
    assert diagnostics == []
    assert [cell.id for cell in host.cells] == list(range(nodes))
    assert host.cpu_count == 16 * nodes
    for cell in host.cells:
        assert len(cell.cpus) == 16
        assert cell.cores == 8
        assert all(len(cpu.siblings) == 2 and cpu.id in cpu.siblings for cpu in cell.cpus)
        assert cell.sockets == {cell.id // 4}
        assert cell.memory_kib == 64 * 1024 * 1024
        assert cell.pool(2048) is not None and cell.pool(2048).count == 16384
        assert cell.pool(1048576) is None
        assert cell.small_page_kib == 32 * 1024 * 1024
    matrix = topology.distance_matrix(nodes)
    for a in range(nodes):
        for b in range(nodes):
            expected = 10 if a == b else 12 if a // 4 == b // 4 else 32
            assert host.distance(a, b) == expected == matrix[a][b]
    # every CPU id appears once, siblings are on the same node
    ids = [cpu.id for cell in host.cells for cpu in cell.cpus]
    assert sorted(ids) == list(range(16 * nodes))
    for cell in host.cells:
        assert all(cpu.siblings <= cell.cpu_ids for cpu in cell.cpus)


def test_summed_distance() -> None:
    topology = _load_topology()
    matrix = topology.distance_matrix(8)
    assert topology.summed_distance(matrix, [0, 1, 2, 3]) == 6 * 12
    assert topology.summed_distance(matrix, [0, 4]) == 32
    assert topology.summed_distance(matrix, [3]) == 0


@pytest.mark.slow
def test_quick_benchmark_without_nova(tmp_path: Path) -> None:
    try:
        import vnuma.place  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"vnuma.place is not importable yet ({exc}); the benchmark needs it")
    output = tmp_path / "RESULTS.md"
    result = run_process(
        [sys.executable, "bench/run.py", "--quick", "--no-nova", "--output", str(output)],
        cwd=REPO,
        timeout=1200,
    )
    assert result.returncode == 0, explain_process(result)
    text = output.read_text(encoding="utf-8")
    assert "nova: not available (skipped with --no-nova)" in text
    rows = [line for line in text.splitlines() if re.match(r"\| \d+ \| \d+ \| [a-z_]+ \|", line)]
    # N in {8, 16} x M in {4, 8} x three cases
    assert len(rows) == 12, text
    assert "error" not in "\n".join(rows), text

    # latency: vnuma always measured; peers measured or "not available: reason" (CI)
    assert "## Pre-commit latency" in text, text
    vnuma_rows = [line for line in text.splitlines() if line.startswith("| vnuma | `")]
    timed = [r for r in vnuma_rows if re.search(r"\| [\d.]+ [µm]?s \|", r)]
    # --quick skips installing vnuma into a venv of its own; the checkout rows are timed
    skipped = [r for r in vnuma_rows if "installed in a venv" in r and "not in --quick" in r]
    assert len(timed) >= 2 and len(timed) + len(skipped) == len(vnuma_rows), text
    for peer in ("check-jsonschema", "yamllint"):
        line = next(line for line in text.splitlines() if line.startswith(f"| {peer} | "))
        assert re.search(r"\| ([\d.]+ [µm]?s|not available: .+) \|", line), line
    assert "### Import budget" in text, text
    assert "| `vnuma" in text, text  # the import budget names vnuma's own modules

    # fleet: the 200-file repository; virt-xml-validate measured or "not available"
    assert "## Fleet lint" in text, text
    fleet_rows = [line for line in text.splitlines() if line.startswith("| 200 | ")]
    assert len(fleet_rows) == 1, text
    assert "error" not in fleet_rows[0], fleet_rows[0]
    assert re.search(r"\| [\d.]+ [µm]?s \| [\d.]+ [µm]?s \| \d+ MiB \|", fleet_rows[0])

    # scale: full size also with --quick; both guests compiled, verdicts rendered
    assert "## Scale: 64-node, 1,024-CPU host; 512-vCPU, 32-cell guest" in text, text
    scale_text = text[text.index("## Scale:") :]
    for guest in ("auto", "explicit"):
        assert re.search(
            rf"^\| {guest} \| whole process, .* \| (met|\*\*not met\*\*) \|$", scale_text, re.M
        ), scale_text
        assert not re.search(rf"^\| {guest}\b.*error", scale_text, re.M), scale_text
    sizes = [line for line in scale_text.splitlines() if "| 64 / 1,024 |" in line]
    assert len(sizes) == 2 and all("| 512 | 512 | 32 | 32 |" in line for line in sizes), sizes


def _load_scale():
    """bench/scale.py with bench/ on the path (it imports topology and placement)."""
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module("scale")
    finally:
        sys.path.remove(str(BENCH))


def test_scale_intents_model(tmp_path: Path) -> None:
    """The scale section's two guests are valid intents of 512 vCPUs in 32 cells."""
    from vnuma.load.intent import load_intent
    from vnuma.runner import intent_from_raw

    scale = _load_scale()
    intents = {}
    for case in scale.make_cases():
        path = tmp_path / f"{case.key}.yaml"
        path.write_text(case.intent, encoding="utf-8")
        intent, diagnostics = intent_from_raw(load_intent(path))
        assert intent is not None and diagnostics == [], diagnostics
        assert intent.vcpus == 512 and intent.needs_placement
        intents[case.key] = intent
    assert set(intents) == {"auto", "explicit"}
    assert intents["auto"].cell_count == 32
    explicit = intents["explicit"]
    assert [sorted(c.host_nodes) for c in explicit.cells] == [[i] for i in range(32)]
    assert [len(c.cpus) for c in explicit.cells] == [16] * 32


def test_scale_markdown_verdicts() -> None:
    """Rendering only (no timing): over 0.5 s is **not met**, an error row says so."""
    scale = _load_scale()
    auto, explicit = scale.make_cases()
    stages = dict.fromkeys(scale.STAGE_KEYS, 0.01)
    fast = scale.Row(auto, imports=0.05, runs=[stages] * 3, pipeline=[0.09], process=[0.3])
    fast.placement_ran, fast.same_output = True, True
    slow = scale.Row(explicit, imports=0.05, runs=[stages] * 3, pipeline=[0.09], process=[0.7])
    slow.same_output = True
    result = scale.ScaleResult([fast, slow], "bytecode note", 2, 1, interpreter=0.045)
    text = scale.render_markdown(result)
    assert "| auto | whole process, `python -m vnuma compile` (median) | 300 ms | met |" in text
    assert (
        "| explicit | whole process, `python -m vnuma compile` (median) | 700 ms | **not met** |"
        in text
    )
    assert "| auto | in-process total, cold (imports + first run) | 140 ms | met |" in text
    assert "| place | `vnuma.place.place` | 10 ms | 10 ms | not run | not run |" in text
    assert result.failed == []
    broken = scale.Row(explicit, error="VN201 boom")
    result = scale.ScaleResult([fast, broken], "bytecode note", 2, 1)
    text = scale.render_markdown(result)
    assert "| explicit | — | error | **not met** (error) |" in text
    assert result.failed == ["scale explicit"]


def test_fleet_generator(run_cli, monkeypatch, tmp_path: Path) -> None:
    """The generated fleet lints: hosts are mapped, no file is rejected as malformed, the
    guests fit their hosts except the deliberately misplaced ones."""
    sys.path.insert(0, str(BENCH))
    try:
        fleet_gen = importlib.import_module("fleet_gen")
    finally:
        sys.path.remove(str(BENCH))

    def lint_codes(root: Path) -> list[str]:
        monkeypatch.chdir(root)  # in-process: the generator is under test, not the CLI
        result = run_cli("lint", root, "--format", "json", "-q")
        assert result.code in (0, 1), result.err
        return [d["code"] for d in json.loads(result.out)]

    fleet = fleet_gen.generate(tmp_path / "clean", 60, seed=1)
    assert len(fleet.hosts) == 20
    assert len(fleet.domains) + len(fleet.intents) == 60 and fleet.intents
    assert lint_codes(tmp_path / "clean") == [], "guests that fit their hosts lint clean"

    fleet = fleet_gen.generate(tmp_path / "full", 200, hosts=2, seed=1, problem_every=20)
    assert len(fleet.hosts) > 2, "more hosts when the guests need them"
    codes = set(lint_codes(tmp_path / "full"))
    # only admission findings: VN0xx (syntax, schema), VN1xx or per-guest capacity
    # findings would be generator bugs
    assert codes and codes <= {"VN501", "VN502"}, codes


def test_fleet_cost_split() -> None:
    """Rendering only (no timing): the fixed and per-file parts come from the `-j 1`
    totals, and each size says what the ratio goal leaves a file once the fixed part is paid."""
    sys.path.insert(0, str(BENCH))
    try:
        fleet = importlib.import_module("fleet")
    finally:
        sys.path.remove(str(BENCH))

    def row(files: int, seconds: float) -> object:
        run = fleet.VnumaRun(seconds=seconds, runs=[seconds], max_rss_kib=30_000)
        check = fleet.ValidateRun(sampled=10, seconds_per_file=0.012)
        return fleet.FleetRow(files, files // 2, files // 2, run, check, hosts=files // 40)

    rows = [row(1000, 0.1 + 1000 * 300e-6), row(5000, 0.1 + 5000 * 300e-6)]
    fixed, per_file = fleet.cost_split(rows)
    assert abs(fixed - 0.1) < 1e-9 and abs(per_file - 300e-6) < 1e-12
    text = fleet.render_markdown(rows, "measured")
    assert "100 ms per run + 300 µs per file" in text, text
    # 1,000 files at 12 ms each: 40x allows 300 ms; the fixed 100 ms leaves 200 µs a file
    assert "- 1,000 files: 40× allows 300 ms in all; the fixed part takes 33% of it" in text
    assert "leaving 200 µs per file (measured: 300 µs)." in text
    assert fleet.cost_split(rows[:1]) is None


def test_fleet_speedup_bound_from_the_floor() -> None:
    """Rendering only: with a floor F that no split shortens, -j 2 gains at most
    T1 / (F + (T1 - F) / 2); a goal missed below that bound says so, one above it does not."""
    sys.path.insert(0, str(BENCH))
    try:
        fleet = importlib.import_module("fleet")
    finally:
        sys.path.remove(str(BENCH))

    def row(files: int, one: float, two: float) -> object:
        serial = fleet.VnumaRun(seconds=one, runs=[one], max_rss_kib=30_000)
        parallel = fleet.VnumaRun(jobs=2, seconds=two, runs=[two], max_rss_kib=30_000)
        check = fleet.ValidateRun(sampled=10, seconds_per_file=0.012)
        return fleet.FleetRow(
            files, files // 2, files // 2, serial, check, 25, parallel, [two], [0.1, 0.1, 0.3]
        )

    small, large = row(1000, 0.5, 0.35), row(10000, 4.1, 2.4)
    large.halves = [2.0]  # the control: 2.05x
    assert abs(small.speedup_bound - 0.5 / (0.1 + 0.2)) < 1e-9  # 1.67x
    text = fleet.render_markdown([small, large], "measured")
    assert "| 100 ms | 1.67× |" in text, text
    assert (
        "- 1,000 files: `-j 2` 1.43× (per round 1.43×): **not met** (below the floor: with"
        " 100 ms that no split shortens, `-j 2` can gain at most 1.67×)" in text
    ), text
    # the control (two halves) was faster than the goal: nothing to add
    assert "- 10,000 files: `-j 2` 1.71× (per round 1.71×): **not met**\n" in text, text
    large.halves = [4.1 / 1.6]
    text = fleet.render_markdown([small, large], "measured")
    assert (
        "- 10,000 files: `-j 2` 1.71× (per round 1.71×): **not met** (the two halves, which"
        " share nothing, got 1.60× in the same rounds)" in text
    ), text


def test_fleet_speedup_per_round_pairs_the_runs_of_a_round() -> None:
    """*speedup* divides the medians; *per round* is the median of each round's own
    ratio, so one slow `-j 1` run and one fast `-j 2` run of different rounds do not make
    a ratio together. The verdict stays on *speedup*."""
    sys.path.insert(0, str(BENCH))
    try:
        fleet = importlib.import_module("fleet")
    finally:
        sys.path.remove(str(BENCH))
    ones, twos = [1.0, 1.9, 1.1, 2.0, 1.2], [0.5, 1.0, 0.6, 1.05, 0.65]
    serial = fleet.VnumaRun(seconds=statistics.median(ones), runs=ones, max_rss_kib=1)
    parallel = fleet.VnumaRun(jobs=2, seconds=statistics.median(twos), runs=twos, max_rss_kib=1)
    check = fleet.ValidateRun(sampled=10, seconds_per_file=0.012)
    row = fleet.FleetRow(5000, 2500, 2500, serial, check, 100, parallel, [0.6], [0.1])
    assert abs(row.speedup - 1.2 / 0.65) < 1e-9  # 1.85x
    pairs = sorted(one / two for one, two in zip(ones, twos, strict=True))
    assert abs(row.paired_speedup - pairs[2]) < 1e-9  # 1.90x: 1.9 / 1.0
    text = fleet.render_markdown([row], "measured")
    assert "| 1.85× | 1.90× |" in text, text
    assert "- 5,000 files: `-j 2` 1.85× (per round 1.90×): met" in text, text
    uneven = fleet.VnumaRun(jobs=2, seconds=0.6, runs=twos[:4], max_rss_kib=1)
    assert fleet.FleetRow(5000, 2500, 2500, serial, check, 100, uneven).paired_speedup is None


def test_peak_rss_is_the_commands_own(tmp_path: Path) -> None:
    """The fleet's peak RSS comes from bench/peak_rss.py: a command started straight from a
    large process reports at least that process's size (Linux counts a child's peak from
    the fork); through the helper it reports its own."""
    sys.path.insert(0, str(BENCH))
    try:
        fleet = importlib.import_module("fleet")
    finally:
        sys.path.remove(str(BENCH))
    ballast = bytearray(256 * 1024 * 1024)
    ballast[::4096] = b"\1" * len(range(0, len(ballast), 4096))  # resident, not just reserved
    command = [sys.executable, "-c", "import sys; sys.exit(3)"]
    with (tmp_path / "out").open("w+b") as out, (tmp_path / "err").open("w+b") as err:
        code, rss_kib, seconds = fleet.measured(command, tmp_path, out, err)
        direct = subprocess.Popen(command, stdout=out, stderr=err)
        _, _, usage = os.wait4(direct.pid, 0)
    assert code == 3 and 0 < seconds < 30
    assert usage.ru_maxrss > 256 * 1024, "the trap the helper avoids"
    assert rss_kib < 64 * 1024, rss_kib
    del ballast


def test_fleet_first_run_of_each_mode_is_not_timed(monkeypatch, tmp_path: Path) -> None:
    """The run that fills the host snapshot cache is a warm-up, for `-j 1` and `-j 2` alike:
    a cold first run would weigh on whichever mode happened to go first."""
    sys.path.insert(0, str(BENCH))
    try:
        fleet = importlib.import_module("fleet")
    finally:
        sys.path.remove(str(BENCH))
    calls: list[int] = []

    def fake_run(root: Path, jobs: int = 1) -> object:
        cold = jobs not in calls
        calls.append(jobs)
        seconds = 9.0 if cold else 1.0 / jobs
        return fleet.VnumaRun(jobs, seconds=seconds, runs=[seconds], max_rss_kib=1, exit_code=0)

    monkeypatch.setattr(fleet, "run_vnuma", fake_run)
    monkeypatch.setattr(fleet, "run_halves", lambda root, folders: None)
    monkeypatch.setattr(fleet, "run_floor", lambda root: None)
    monkeypatch.setattr(fleet, "virt_xml_validate", lambda: (None, "not installed"))
    (row,), _ = fleet.run_fleet(quick=True, workdir=tmp_path, sizes=(40,))
    assert calls == [1, fleet.JOBS, 1, fleet.JOBS]
    assert row.vnuma.runs == [1.0] and row.parallel.runs == [1.0 / fleet.JOBS]
