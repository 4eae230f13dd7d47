"""Fleet lint: ``vnuma lint REPO --format json --quiet`` on generated repositories of
1k / 5k / 10k files (``--quick``: 200) against ``virt-xml-validate FILE domain`` per domain.

The repository (``fleet_gen.py``): domain XMLs and intents on 20 hosts mapped by a
``vnuma.toml`` ``[[hosts]]`` table each. vnuma: one process for the whole repository,
wall time and peak RSS (``os.wait4`` rusage) measured by ``peak_rss.py``, a small process
that forks vnuma, so the benchmark's own memory is not counted in vnuma's.
virt-xml-validate (libvirt-clients) validates one file per process, so it is timed on a
random sample of the domain XMLs (all of them when there are fewer) and its per-file
time extrapolated to the repository.

Public entry points: :func:`run_fleet` returns rows, :func:`render_markdown` turns them
into the Markdown section of ``RESULTS.md``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import fleet_gen
from placement import _fmt_ratio, _fmt_seconds, _tail
from venvs import FLOOR_EXIT, checkout_env

FULL_SIZES = (1000, 5000, 10000)
QUICK_SIZES = (200,)
FULL_SAMPLE = 200
QUICK_SAMPLE = 20
FULL_RUNS = 5  # vnuma runs per size and mode (median); the sample is split among them
QUICK_RUNS = 1
GOAL = 40.0  # vnuma at least this many times faster per file (`-j 1`)
SPEEDUP_GOAL = 1.8  # `-j 2` at least this many times faster than `-j 1`
RSS_GROWTH_GOAL_KIB = 0.5  # peak RSS growth per file, smallest to largest repository
JOBS = 2  # the -j run beside -j 1
# What every process that lints the repository loads before its first file: the
# interpreter and the libraries the repository's files need (domain XML: lxml; intents:
# PyYAML; vnuma.toml: tomllib). No split of the work shortens it.
FLOOR_IMPORTS = "import lxml.etree, yaml, tomllib"
REPO = Path(__file__).resolve().parent.parent
PEAK_RSS = Path(__file__).resolve().parent / "peak_rss.py"


@dataclass
class VnumaRun:
    jobs: int = 1
    seconds: float | None = None  # median over the runs
    runs: list[float] = field(default_factory=list)
    max_rss_kib: int | None = None
    exit_code: int | None = None
    findings: Counter[str] = field(default_factory=Counter)
    error: str = ""
    output: str = ""  # stdout, to compare -j 1 with -j N


@dataclass
class ValidateRun:
    sampled: int = 0
    seconds_per_file: float | None = None  # median over the sample
    invalid: int = 0
    unavailable: str = ""
    error: str = ""


@dataclass
class FleetRow:
    files: int
    domains: int
    intents: int
    vnuma: VnumaRun
    validate: ValidateRun
    hosts: int = 0
    parallel: VnumaRun | None = None  # -j JOBS
    halves: list[float] = field(default_factory=list)
    """Wall times of the control: two `-j 1` processes at once, each linting half the
    host folders (what -j 2 would take if splitting the work cost nothing)."""
    floor: list[float] = field(default_factory=list)
    """Wall times of `python -c FLOOR_IMPORTS`, run beside the others."""

    @property
    def speedup_bound(self) -> float | None:
        """The most `-j JOBS` can gain over `-j 1` when the floor is paid once and all
        the rest of the `-j 1` time splits evenly: T1 / (F + (T1 - F) / JOBS)."""
        if not self.floor or self.vnuma.seconds is None:
            return None
        total, floor = self.vnuma.seconds, min(statistics.median(self.floor), self.vnuma.seconds)
        return total / (floor + (total - floor) / JOBS)

    @property
    def speedup(self) -> float | None:
        p = self.parallel
        if p is None or p.seconds is None or self.vnuma.seconds is None or p.seconds <= 0:
            return None
        return self.vnuma.seconds / p.seconds

    @property
    def paired_speedup(self) -> float | None:
        """The median over the rounds of `-j 1`'s time / `-j JOBS`'s in the same round
        (the two run back to back), where *speedup* divides the medians: a slow spell
        that falls on one round weighs on both of its runs."""
        p = self.parallel
        if p is None or not p.runs or len(p.runs) != len(self.vnuma.runs):
            return None
        pairs = [one / two for one, two in zip(self.vnuma.runs, p.runs, strict=True) if two > 0]
        return statistics.median(pairs) if pairs else None

    @property
    def halves_speedup(self) -> float | None:
        if not self.halves or self.vnuma.seconds is None:
            return None
        return self.vnuma.seconds / statistics.median(self.halves)

    @property
    def identical(self) -> bool | None:
        p = self.parallel
        if p is None or p.error or self.vnuma.error:
            return None
        return p.output == self.vnuma.output

    @property
    def vnuma_per_file(self) -> float | None:
        if self.vnuma.seconds is None or not self.files:
            return None
        return self.vnuma.seconds / self.files

    @property
    def ratio(self) -> float | None:
        v = self.vnuma_per_file
        if v is None or self.validate.seconds_per_file is None or v <= 0:
            return None
        return self.validate.seconds_per_file / v


def virt_xml_validate() -> tuple[str | None, str]:
    """(path, version) or (None, reason)."""
    path = shutil.which("virt-xml-validate")
    if path is None:
        return None, "`virt-xml-validate` not on PATH (apt package libvirt-clients)"
    try:
        proc = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
        version = "virt-xml-validate " + (proc.stdout or proc.stderr).split()[-1]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        version = "virt-xml-validate, version unknown"
    return path, version


def measured(
    cmd: list[str], cwd: Path, stdout: IO[bytes], stderr: IO[bytes]
) -> tuple[int, int, float] | str:
    """(exit code, peak RSS in KiB, seconds) of ``cmd``, started by `peak_rss.py` so that
    the benchmark's own memory is not counted in the command's peak; else what failed."""
    report, write_end = os.pipe()
    try:
        helper = [sys.executable, "-S", str(PEAK_RSS), str(write_end), *cmd]
        proc = subprocess.Popen(
            helper, cwd=cwd, stdout=stdout, stderr=stderr, env=checkout_env(), pass_fds=(write_end,)
        )
        os.close(write_end)
        write_end = -1
        with os.fdopen(report, "rb") as reader:
            report = -1
            line = reader.read().decode("ascii", errors="replace")
        if proc.wait() != 0:
            return f"bench/peak_rss.py exited {proc.returncode}"
    finally:
        for fd in (report, write_end):
            if fd >= 0:
                os.close(fd)
    try:
        code, rss, seconds = line.split()
        return int(code), int(rss), float(seconds)
    except ValueError:
        return f"bench/peak_rss.py reported {line!r}"


def run_vnuma(root: Path, jobs: int = 1) -> VnumaRun:
    cmd = [sys.executable, "-m", "vnuma", "lint", str(root), "--format", "json", "--quiet"]
    cmd += ["-j", str(jobs)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        result = measured(cmd, root, out, err)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if isinstance(result, str):
        return VnumaRun(jobs, error=result)
    code, max_rss_kib, elapsed = result
    run = VnumaRun(jobs, exit_code=code, max_rss_kib=max_rss_kib, output=stdout)
    if code not in (0, 1):
        run.error = f"exit {code}: {_tail(stderr)}"
        return run
    try:
        run.findings = Counter(d["code"] for d in json.loads(stdout))
    except (ValueError, KeyError, TypeError) as exc:
        run.error = f"unreadable JSON output: {exc}"
        return run
    run.seconds = elapsed
    return run


def run_halves(root: Path, folders: list[Path]) -> float | None:
    """Wall time of two `vnuma lint` processes started together, one on every other host
    folder each; None when either fails."""
    halves = [folders[0::2], folders[1::2]]
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "vnuma", "lint", *map(str, half), "--format", "json"],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=checkout_env(),
        )
        for half in halves
        if half
    ]
    codes = [proc.wait() for proc in procs]
    elapsed = time.perf_counter() - start
    return elapsed if all(code in (0, 1) for code in codes) else None


def run_floor(root: Path) -> float | None:
    """Wall time of a process that only loads what vnuma needs for the repository."""
    start = time.perf_counter()
    code = subprocess.call(
        [sys.executable, "-c", FLOOR_IMPORTS + FLOOR_EXIT],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=checkout_env(),
    )
    elapsed = time.perf_counter() - start
    return elapsed if code == 0 else None


def validate_times(tool: str, paths: list[Path]) -> tuple[list[float], int, str]:
    """(wall time per file, how many were invalid, error) for `virt-xml-validate FILE domain`."""
    times = []
    invalid = 0
    for path in paths:
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                [tool, str(path), "domain"], capture_output=True, text=True, timeout=60
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return times, invalid, f"{type(exc).__name__}: {exc}"
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            invalid += 1
    return times, invalid, ""


def median_run(runs: list[VnumaRun]) -> VnumaRun:
    """One VnumaRun for several of the same command: median time, largest peak RSS; an
    error, or output that differs between runs, is reported."""
    first = runs[0]
    merged = VnumaRun(first.jobs, exit_code=first.exit_code, output=first.output)
    merged.findings = first.findings
    failed = next((r for r in runs if r.error), None)
    if failed is not None:
        merged.error = failed.error
        return merged
    if any(r.output != first.output for r in runs):
        merged.error = "output differs between runs of the same command"
        return merged
    merged.runs = [r.seconds for r in runs if r.seconds is not None]
    merged.seconds = statistics.median(merged.runs)
    merged.max_rss_kib = max(r.max_rss_kib or 0 for r in runs) or None
    return merged


def run_fleet(
    *,
    quick: bool,
    workdir: Path,
    sizes: tuple[int, ...] | None = None,
    sample: int | None = None,
    log: Callable[[str], None] = lambda msg: None,
) -> tuple[list[FleetRow], str]:
    """Rows per repository size and a description of virt-xml-validate."""
    sizes = sizes or (QUICK_SIZES if quick else FULL_SIZES)
    sample = sample or (QUICK_SAMPLE if quick else FULL_SAMPLE)
    tool, version = virt_xml_validate()
    described = f"{version} ({tool})" if tool else f"not available: {version}"
    rows = []
    runs = QUICK_RUNS if quick else FULL_RUNS
    for size in sizes:
        root = workdir / f"fleet-{size}"
        fleet = fleet_gen.generate(root, size, seed=size)
        chosen = random.Random(size).sample(fleet.domains, min(sample, len(fleet.domains)))
        serial: list[VnumaRun] = []
        parallel: list[VnumaRun] = []
        halves: list[float] = []
        floor: list[float] = []
        folders = sorted({path.parent for path in fleet.domains + fleet.intents})
        times: list[float] = []
        validate = ValidateRun(unavailable=version if tool is None else "")
        # untimed: the first run fills the host snapshot cache, which every later run reads
        run_vnuma(root)
        run_vnuma(root, JOBS)
        for i in range(runs):
            # interleaved, so a slow spell of the machine hits every tool alike
            serial.append(run_vnuma(root))
            parallel.append(run_vnuma(root, JOBS))
            half = run_halves(root, folders)
            if half is not None:
                halves.append(half)
            loaded = run_floor(root)
            if loaded is not None:
                floor.append(loaded)
            if tool is not None and not validate.error:
                chunk_times, invalid, error = validate_times(tool, chosen[i::runs])
                times += chunk_times
                validate.invalid += invalid
                validate.error = error
        if tool is not None and not validate.error:
            if times:
                validate.sampled = len(times)
                validate.seconds_per_file = statistics.median(times)
            else:
                validate.error = "no domain XMLs to validate"
        vnuma, j_run = median_run(serial), median_run(parallel)
        row = FleetRow(
            size,
            len(fleet.domains),
            len(fleet.intents),
            vnuma,
            validate,
            len(fleet.hosts),
            j_run,
            halves,
            floor,
        )
        rows.append(row)
        log(
            f"fleet {size}: vnuma {_fmt_time(vnuma)} ({vnuma.max_rss_kib} KiB),"
            f" -j {JOBS} {_fmt_time(j_run)}, two halves at once"
            f" {_fmt_seconds(statistics.median(halves)) if halves else '—'}"
            f" | virt-xml-validate {_fmt_validate(validate)}"
        )
        shutil.rmtree(root, ignore_errors=True)
    return rows, described


# --------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------


def _fmt_time(v: VnumaRun) -> str:
    if v.error:
        return f"error: {v.error}"
    return _fmt_seconds(v.seconds) if v.seconds is not None else "—"


def _fmt_validate(v: ValidateRun) -> str:
    if v.unavailable:
        return f"not available: {v.unavailable}"
    if v.error:
        return f"error: {v.error}"
    return _fmt_seconds(v.seconds_per_file) if v.seconds_per_file is not None else "—"


def runs_text(rows: list[FleetRow]) -> str:
    counts = sorted({len(r.vnuma.runs) for r in rows if r.vnuma.runs})
    if not counts:
        return "timed runs"
    return " or ".join(str(c) for c in counts) + (" run" if counts == [1] else " runs")


def render_markdown(rows: list[FleetRow], validate_status: str) -> str:
    """The fleet section of RESULTS.md."""
    o: list[str] = []
    a = o.append
    a("## Fleet lint: a repository of domain XMLs and intents")
    a("")
    a(
        "Repository from `bench/fleet_gen.py`: domain XMLs and intents (half each) on host"
        " snapshots (copies of `samples/hosts/2s-xeon.xml`, `epyc-nps4.xml`,"
        " `cxl-memory-node.xml` and the 8- and 16-node hosts of `bench/topology.py`), one"
        " `[[hosts]]` table per host folder in `vnuma.toml`; guests of 1–2 cells with"
        " `<memnode>`s, some `<vcpupin>`s and 2 MiB huge pages. Guests fit their hosts (up"
        " to 85% of each node, pinned CPUs of their own; at least 20 hosts, more as the"
        " repository grows: *hosts* column) except one in 250, placed deliberately where it"
        " does not fit beside the others: whole-host admission findings are listed below."
    )
    a("")
    a(
        f"vnuma: `{Path(sys.executable).name} -m vnuma lint REPO --format json --quiet`,"
        f" {runs_text(rows)} per size and mode, wall time of the whole process (median) and"
        " its peak RSS (`os.wait4`, the largest of the runs), both measured by"
        " `bench/peak_rss.py`, a process of about 10 MiB that forks vnuma (a child's peak"
        " RSS counts the process it was forked from); every run's output must be"
        f" the same. virt-xml-validate: {validate_status}; `virt-xml-validate FILE domain`,"
        " one process per file, median wall time over a random sample of the domain XMLs"
        " (*sampled* column), extrapolated to the repository's domains (*est. total*)."
        " One untimed run of each vnuma mode comes first (it fills the host snapshot cache"
        " that every timed run reads, as on any machine after its first lint). The"
        " runs are interleaved (`-j 1`, `-j 2`, the two halves, the floor, then a share of"
        " the sample, and again) so"
        " that a slow spell of the machine hits both tools alike. Ratio: per-file"
        f" time of virt-xml-validate / per-file time of vnuma (`-j 1`); goal ≥ {GOAL:g}×."
        f" `-j {JOBS}`: the same command with {JOBS} processes; *same output*: its stdout is"
        " byte-identical to `-j 1`'s. *two halves*: the control for the speedup, two"
        " `-j 1` processes started together, each on every other host folder (wall time"
        " until both end, median), as `-j 1` time / that time. The files' total includes"
        " reading the host snapshots. *floor*: the wall time (median, run beside the others)"
        f' of `{Path(sys.executable).name} -c "{FLOOR_IMPORTS}{FLOOR_EXIT}"`, the interpreter and the'
        " libraries any process linting these files loads first; *bound*: the most `-j 2`"
        " could gain if that were paid once and everything else split evenly,"
        " `-j 1` / (floor + (`-j 1` − floor) / 2). *per round*: the median over the rounds"
        f" of `-j 1` / `-j {JOBS}` in the same round (they run back to back); the goal's"
        " verdict is on *speedup*, the ratio of the medians."
    )
    a("")
    a(
        "| files | domains | intents | hosts | vnuma total | vnuma / file | peak RSS | findings"
        " | virt-xml-validate / file | sampled | invalid | est. total | ratio | goal"
        f" | `-j {JOBS}` total | `-j {JOBS}` / file | peak RSS `-j {JOBS}` (largest process) | speedup"
        " | per round | two halves | floor | bound | same output |"
    )
    a(
        "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:"
        "|---:|---:|---:|---|"
    )
    for r in rows:
        per = r.vnuma_per_file
        rss = f"{r.vnuma.max_rss_kib / 1024:.0f} MiB" if r.vnuma.max_rss_kib else "—"
        findings = ", ".join(f"{c} ×{n}" for c, n in sorted(r.vnuma.findings.items())) or "none"
        v = r.validate
        est = (
            _fmt_seconds(v.seconds_per_file * r.domains) if v.seconds_per_file is not None else "—"
        )
        ratio = r.ratio
        if ratio is None:
            verdict = "not available" if (v.unavailable or v.error) else "—"
        else:
            verdict = "met" if ratio >= GOAL else "**not met**"
        p = r.parallel
        p_time = _fmt_time(p) if p is not None else "—"
        p_per = (
            _fmt_seconds(p.seconds / r.files) if p is not None and p.seconds is not None else "—"
        )
        p_rss = f"{p.max_rss_kib / 1024:.0f} MiB" if p is not None and p.max_rss_kib else "—"
        speedup = _fmt_ratio(r.speedup) if r.speedup is not None else "—"
        paired = _fmt_ratio(r.paired_speedup) if r.paired_speedup is not None else "—"
        same = {True: "yes", False: "**no**", None: "—"}[r.identical]
        halves = _fmt_ratio(r.halves_speedup) if r.halves_speedup is not None else "—"
        floor = _fmt_seconds(statistics.median(r.floor)) if r.floor else "—"
        bound = _fmt_ratio(r.speedup_bound) if r.speedup_bound is not None else "—"
        a(
            f"| {r.files:,} | {r.domains:,} | {r.intents:,} | {r.hosts:,} | {_fmt_time(r.vnuma)}"
            f" | {_fmt_seconds(per) if per is not None else '—'} | {rss} | {findings}"
            f" | {_fmt_validate(v)} | {v.sampled or '—'} | {v.invalid if v.sampled else '—'}"
            f" | {est} | {_fmt_ratio(ratio) if ratio is not None else '—'} | {verdict}"
            f" | {p_time} | {p_per} | {p_rss} | {speedup} | {paired} | {halves} | {floor} | {bound}"
            f" | {same} |"
        )
    timed = [r for r in rows if r.vnuma_per_file is not None]
    if len(timed) > 1:
        base = timed[0]
        a("")
        a(
            "Linearity (per-file time relative to the smallest repository, 1.00× = linear): "
            + ", ".join(
                f"{r.files:,} files {_fmt_ratio(r.vnuma_per_file / base.vnuma_per_file)}"
                for r in timed
            )
            + "."
        )
    o.extend(_cost_split_lines(timed))
    o.extend(_goal_lines(timed))
    return "\n".join(o) + "\n"


def cost_split(rows: list[FleetRow]) -> tuple[float, float] | None:
    """(fixed seconds, seconds per file): the least-squares line through the `-j 1`
    totals. The fixed part is what a run costs whatever its size (the interpreter, the
    imports, the configuration); hosts grow with the files, so they are in the slope."""
    points = [(r.files, r.vnuma.seconds) for r in rows if r.vnuma.seconds is not None]
    if len({files for files, _ in points}) < 2:
        return None
    mean_x = statistics.fmean(files for files, _ in points)
    mean_y = statistics.fmean(seconds for _, seconds in points)
    spread = sum((files - mean_x) ** 2 for files, _ in points)
    slope = sum((files - mean_x) * (seconds - mean_y) for files, seconds in points) / spread
    return mean_y - slope * mean_x, slope


def _cost_split_lines(rows: list[FleetRow]) -> list[str]:
    """What the ratio goal leaves each file once the fixed cost is paid, per size."""
    split = cost_split(rows)
    if split is None:
        return []
    fixed, per_file = split
    lines = [
        "",
        f"Fixed and per-file cost (least squares over the `-j 1` totals): {_fmt_seconds(fixed)}"
        f" per run + {_fmt_seconds(per_file)} per file.",
    ]
    for r in rows:
        vxv = r.validate.seconds_per_file
        if vxv is None:
            continue
        budget = r.files * vxv / GOAL
        left = (budget - fixed) / r.files
        lines.append(
            f"- {r.files:,} files: {GOAL:g}× allows {_fmt_seconds(budget)} in all; the fixed"
            f" part takes {budget and fixed / budget:.0%} of it, leaving"
            f" {_fmt_seconds(left) if left > 0 else 'nothing'} per file"
            f" (measured: {_fmt_seconds(per_file)})."
        )
    return lines


def _goal_lines(rows: list[FleetRow]) -> list[str]:
    """The `-j` speedup and memory goals, one verdict each."""
    lines = [
        "",
        f"Goals besides the ratio: `-j {JOBS}` ≥ {SPEEDUP_GOAL:g}× `-j 1`, output identical;",
    ]
    lines[-1] += (
        f" peak RSS growth ≤ {RSS_GROWTH_GOAL_KIB:g} KB per file from the smallest to the largest repository."
    )
    lines.append("")
    for r in rows:
        if r.speedup is None:
            continue
        met = r.speedup >= SPEEDUP_GOAL and r.identical is True
        verdict = "met" if met else "**not met**"
        bound = r.speedup_bound
        if not met and bound is not None and bound < SPEEDUP_GOAL:
            verdict += (
                f" (below the floor: with {_fmt_seconds(statistics.median(r.floor))} that no"
                f" split shortens, `-j {JOBS}` can gain at most {_fmt_ratio(bound)})"
            )
        elif not met and r.halves_speedup is not None and r.halves_speedup < SPEEDUP_GOAL:
            verdict += (
                f" (the two halves, which share nothing, got {_fmt_ratio(r.halves_speedup)}"
                " in the same rounds)"
            )
        paired = r.paired_speedup
        per_round = f" (per round {_fmt_ratio(paired)})" if paired is not None else ""
        lines.append(
            f"- {r.files:,} files: `-j {JOBS}` {_fmt_ratio(r.speedup)}{per_round}: {verdict}"
        )
    sized = [r for r in rows if r.vnuma.max_rss_kib]
    if len(sized) > 1 and sized[-1].files > sized[0].files:
        growth = (sized[-1].vnuma.max_rss_kib - sized[0].vnuma.max_rss_kib) * 1024 / 1000
        per_file = growth / (sized[-1].files - sized[0].files)
        verdict = "met" if per_file <= RSS_GROWTH_GOAL_KIB else "**not met**"
        lines.append(
            f"- peak RSS (`-j 1`) {sized[0].files:,} → {sized[-1].files:,} files:"
            f" {per_file:.2f} KB more per file: {verdict}"
        )
    return lines
