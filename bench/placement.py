"""Placement benchmark: vnuma's solver (`vnuma.place.place`) against Nova's
`nova.virt.hardware.numa_fit_instance_to_host`, on the same synthetic hosts.

Hosts (`topology.py`): N nodes x 16 CPUs (8 cores x 2 threads), 64 GiB each with 32 GiB
in 2 MiB pages, 4 nodes per socket, distances 10/12/32. Guests: M cells of 4 dedicated
vCPUs on 2 MiB pages, three cases per (N, M):

* ``fit``: every cell 4 GiB (correct answer: fit);
* ``nofit_last``: the last cell needs 34 GiB of 2 MiB pages (correct: no fit, no node
  has more than 32 GiB of them);
* ``nofit_first``: the first cell needs 34 GiB (correct: no fit).

vnuma runs in this process; only the solver call is timed (intent and host are loaded
beforehand). Nova runs in its own virtualenv through ``nova_fit.py --serve``, one
subprocess kept alive across the cases (killed, and restarted for the next case, when a
call outlives the time limit). The two are timed in alternating rounds of K calls each
(:func:`measure`), so that a slow spell of this machine weighs on both: the ratio
reported is the median of the per-round ratios.

Public entry points: :func:`run_placement` returns rows, :func:`render_markdown` turns
them into the Markdown section of ``RESULTS.md``.
"""

from __future__ import annotations

import json
import math
import selectors
import signal
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import topology

BENCH = Path(__file__).resolve().parent
NOVA_FIT = BENCH / "nova_fit.py"

FULL_NODES = (8, 16, 32, 64)
FULL_CELLS = (4, 8, 16)
QUICK_NODES = (8, 16)
QUICK_CELLS = (4, 8)
CASES = ("fit", "nofit_last", "nofit_first")

CELL_VCPUS = 4
CELL_GIB = 4
BIG_CELL_GIB = 34
HUGEPAGE_GIB_PER_NODE = topology.HUGEPAGES_PER_NODE * topology.HUGEPAGE_KIB // (1024 * 1024)


class SolverUnavailable(RuntimeError):
    """vnuma's placement API (vnuma.place) cannot be imported yet."""


def import_vnuma_api() -> dict[str, Any]:
    """The four vnuma entry points the benchmark uses; SolverUnavailable with the reason."""
    try:
        from vnuma.libvirt.capabilities import load_host
        from vnuma.load.intent import load_intent
        from vnuma.runner import intent_from_raw
    except ImportError as exc:
        raise SolverUnavailable(f"vnuma is not importable: {exc}") from exc
    try:
        from vnuma.place import place
    except ImportError as exc:
        raise SolverUnavailable(
            f"vnuma's placement solver is not available (`from vnuma.place import place`"
            f" failed: {exc}); the benchmark needs compiler/place/"
        ) from exc
    return {
        "load_host": load_host,
        "load_intent": load_intent,
        "intent_from_raw": intent_from_raw,
        "place": place,
    }


# --------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    nodes: int
    cells: int
    kind: str

    @property
    def expected_fit(self) -> bool:
        return self.kind == "fit"

    @property
    def cell_gib(self) -> list[int]:
        sizes = [CELL_GIB] * self.cells
        if self.kind == "nofit_last":
            sizes[-1] = BIG_CELL_GIB
        elif self.kind == "nofit_first":
            sizes[0] = BIG_CELL_GIB
        return sizes

    @property
    def permutations(self) -> int:
        """Ordered choices of M of the N host cells: what Nova enumerates in the worst case."""
        return math.perm(self.nodes, self.cells)

    @property
    def label(self) -> str:
        return f"{self.nodes}x{self.cells}-{self.kind}"


def make_cases(quick: bool) -> list[Case]:
    nodes, cells = (QUICK_NODES, QUICK_CELLS) if quick else (FULL_NODES, FULL_CELLS)
    return [Case(n, m, kind) for n in nodes for m in cells if m <= n for kind in CASES]


def intent_yaml(case: Case) -> str:
    """The vnuma intent for a case (`cells: M` split automatically when all cells are equal)."""
    total = sum(case.cell_gib)
    lines = [
        "version: 1",
        f"name: bench-{case.label}",
        f"vcpus: {CELL_VCPUS * case.cells}",
        f"memory: {total}GiB",
    ]
    if case.kind == "fit":
        lines.append(f"cells: {case.cells}")
    else:
        lines.append("cells:")
        for i, gib in enumerate(case.cell_gib):
            first = CELL_VCPUS * i
            lines.append(
                f'  - {{cpus: "{first}-{first + CELL_VCPUS - 1}", memory: {gib}GiB,'
                " host_nodes: auto}"
            )
    lines += [
        "numatune: {mode: strict, nodeset: auto}",
        "hugepages: {size: 2MiB}",
        "cpu: {pinning: dedicated, threads: prefer}",
    ]
    return "\n".join(lines) + "\n"


def capacity_problem(case: Case, nodes: list[int] | tuple[int, ...]) -> str | None:
    """Why an answer does not fit the (empty) host, or None when it does."""
    if len(nodes) != case.cells:
        return f"{len(nodes)} host nodes for {case.cells} guest cells"
    used: dict[int, list[int]] = {}
    for cell, node in enumerate(nodes):
        if not 0 <= node < case.nodes:
            return f"g{cell}->h{node}: no such host node"
        used.setdefault(node, []).append(cell)
    for node, cells in sorted(used.items()):
        gib = sum(case.cell_gib[c] for c in cells)
        vcpus = CELL_VCPUS * len(cells)
        on = ",".join(f"g{c}" for c in cells)
        if gib > HUGEPAGE_GIB_PER_NODE:
            return (
                f"{on}->h{node} needs {gib} GiB of 2 MiB pages, the node has"
                f" {HUGEPAGE_GIB_PER_NODE} GiB"
            )
        if vcpus > topology.CPUS_PER_NODE:
            return (
                f"{on}->h{node} needs {vcpus} dedicated CPUs, the node has {topology.CPUS_PER_NODE}"
            )
    return None


# --------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------


@dataclass
class Answer:
    """One tool's answer to one case."""

    seconds: float | None = None  # median of every timed call; None when timed out or failed
    best: float | None = None  # the fastest timed call
    runs: int = 0
    fit: bool | None = None  # None: no verdict (timeout, error, not run)
    nodes: tuple[int, ...] | None = None  # host node per guest cell when it fits
    distance: int | None = None  # summed pairwise distance, from the generated matrix
    timeout: float | None = None  # set when killed / interrupted after this many seconds
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list, repr=False)

    def record(self, times: list[float]) -> None:
        self.times.extend(times)
        self.runs = len(self.times)
        self.seconds = statistics.median(self.times)
        self.best = min(self.times)


@dataclass
class Row:
    case: Case
    vnuma: Answer
    nova: Answer | None  # None: Nova not run
    rounds: list[tuple[float, float]] = field(default_factory=list)
    """Interleaved rounds: (vnuma's median, Nova's median) of the round's calls."""
    calls: int = 0
    """Calls per tool per round."""

    @property
    def paired(self) -> float | None:
        """The median over the rounds of Nova's time / vnuma's time in that round."""
        ratios = [nova / vnuma for vnuma, nova in self.rounds if vnuma > 0]
        return statistics.median(ratios) if ratios else None

    @property
    def ratio(self) -> str:
        """Nova time / vnuma time, paired by round ('>' when Nova hit the limit)."""
        if self.nova is None or self.vnuma.seconds is None or self.vnuma.seconds <= 0:
            return "—"
        if self.nova.timeout is not None:
            return f"> {_fmt_ratio(self.nova.timeout / self.vnuma.seconds)}"
        if self.nova.seconds is None:
            return "—"
        paired = self.paired
        return _fmt_ratio(paired if paired is not None else self.nova.seconds / self.vnuma.seconds)


# --------------------------------------------------------------------------
# vnuma side (in-process)
# --------------------------------------------------------------------------


class _Interrupted(Exception):
    pass


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt pure-Python code in the main thread after ``seconds`` (SIGALRM)."""

    def on_alarm(signum: int, frame: Any) -> None:
        raise _Interrupted

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _diagnostic_text(diagnostics: list[Any]) -> str:
    parts = []
    for d in diagnostics:
        code = getattr(d, "code", None) or getattr(d, "rule", None) or ""
        parts.append(f"{code} {getattr(d, 'message', d)}".strip())
    return "; ".join(parts) or "no diagnostics"


class _Vnuma:
    """vnuma's side of a case: ``place(intent, host)`` in this process, timed alone."""

    def __init__(
        self, case: Case, api: dict[str, Any], host: Any, workdir: Path, limit: float
    ) -> None:
        self.answer = Answer()
        self.place = api["place"]
        self.host = host
        self.limit = limit
        self.result: Any = None
        path = workdir / f"intent-{case.label}.yaml"
        path.write_text(intent_yaml(case), encoding="utf-8")
        raw = api["load_intent"](path, path.name)
        self.intent, diagnostics = api["intent_from_raw"](raw)
        if self.intent is None:
            self.answer.error = f"intent rejected: {_diagnostic_text(diagnostics)}"

    @property
    def live(self) -> bool:
        return self.answer.error is None and self.answer.timeout is None

    def time(self, calls: int) -> list[float] | None:
        """``calls`` timed calls; None (the answer says why) on a timeout or a crash."""
        times: list[float] = []
        place, intent, host = self.place, self.intent, self.host
        try:
            with _time_limit(self.limit):
                for _ in range(calls):
                    start = time.perf_counter()
                    result = place(intent, host)
                    times.append(time.perf_counter() - start)
        except _Interrupted:
            self.answer.timeout = self.limit
            return None
        except Exception as exc:  # a crashing solver is a result to report, not a reason to stop
            self.answer.error = f"place() raised {type(exc).__name__}: {exc}"
            return None
        self.result = result
        return times

    def finish(self, matrix: list[list[int]]) -> Answer:
        answer, result = self.answer, self.result
        if not self.live or result is None:
            return answer
        answer.fit = bool(result.ok)
        if answer.fit:
            answer.nodes = tuple(result.nodes)
            answer.distance = topology.summed_distance(matrix, answer.nodes)
            reported = getattr(result, "distance", None)
            if reported != answer.distance:
                answer.notes.append(
                    f"vnuma reports distance {reported}, the matrix gives {answer.distance}"
                )
        return answer


# --------------------------------------------------------------------------
# Nova side (a long-lived subprocess in the Nova venv)
# --------------------------------------------------------------------------


class NovaServer:
    """``nova_fit.py --serve`` in Nova's venv, started on first use and kept alive across
    cases; killed when a request outlives its limit (the next request starts a new one)."""

    def __init__(self, python: Path, workdir: Path, import_limit: float = 300.0) -> None:
        self.python = python
        self.import_limit = import_limit
        self.stderr_path = workdir / "nova-stderr.txt"
        self.proc: subprocess.Popen[str] | None = None

    def _start(self) -> subprocess.Popen[str]:
        cmd = [str(self.python), "-W", "ignore", str(NOVA_FIT), "--serve"]
        with self.stderr_path.open("w", encoding="utf-8") as err:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True
            )
        ready = _read_line(proc, self.import_limit)
        if ready is None or ready.strip() != "ready":
            self._kill(proc)
            raise RuntimeError(f"nova_fit.py --serve did not start: {self._stderr_tail()}")
        return proc

    def request(self, case: Case, calls: int, timeout: float) -> dict[str, Any] | None:
        """Nova's reply to ``calls`` timed calls on ``case``; None when it took longer than
        ``timeout`` seconds (the process is killed). RuntimeError when it failed."""
        proc = self.ensure()
        assert proc.stdin is not None
        request = {"nodes": case.nodes, "cells": case.cells, "case": case.kind, "calls": calls}
        try:
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
        except OSError as exc:
            self.close()
            raise RuntimeError(f"nova_fit.py --serve: {exc}: {self._stderr_tail()}") from exc
        line = _read_line(proc, timeout)
        if line is None:
            self.close()
            return None
        if not line.strip():
            self.close()
            raise RuntimeError(f"nova_fit.py --serve exited: {self._stderr_tail()}")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def ensure(self) -> subprocess.Popen[str]:
        """The running server (started now, Nova imported, if it is not running)."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        return self.proc

    def close(self) -> None:
        if self.proc is not None:
            self._kill(self.proc)
            self.proc = None

    @staticmethod
    def _kill(proc: subprocess.Popen[str]) -> None:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()

    def _stderr_tail(self) -> str:
        try:
            return _tail(self.stderr_path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return "no output"


class _Nova:
    """Nova's side of a case, through the server."""

    def __init__(self, case: Case, server: NovaServer, limit: float) -> None:
        self.case = case
        self.server = server
        self.limit = limit
        self.answer = Answer()
        self.reply: dict[str, Any] | None = None

    @property
    def live(self) -> bool:
        return self.answer.error is None and self.answer.timeout is None

    def time(self, calls: int) -> list[float] | None:
        try:
            # each call has the limit; the slack covers rebuilding the topologies
            reply = self.server.request(self.case, calls, self.limit * calls + 5.0)
        except RuntimeError as exc:
            self.answer.error = str(exc)
            return None
        if reply is None:
            self.answer.timeout = self.limit
            return None
        times = [float(t) for t in reply["times"]]
        if any(t > self.limit for t in times):  # a call that finished inside the slack
            self.answer.timeout = self.limit
            return None
        self.reply = reply
        return times

    def finish(self, matrix: list[list[int]]) -> Answer:
        answer, data = self.answer, self.reply
        if not self.live or data is None:
            return answer
        answer.fit = bool(data["fit"])
        if answer.fit:
            answer.nodes = tuple(data["host_cells"])
            answer.distance = topology.summed_distance(matrix, answer.nodes)
            empty = [i for i, pins in enumerate(data["cpu_pinning"]) if not pins]
            if empty:
                answer.notes.append(
                    "Nova left the CPU pinning of " + ", ".join(f"g{i}" for i in empty) + " empty"
                )
        return answer


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str | None:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            return None
    return proc.stdout.readline()


def _tail(text: str | None) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


# --------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    rounds: int  # at most this many interleaved rounds per case
    budget: float  # stop starting rounds once the case has spent this many seconds
    round_seconds: float  # aim for rounds this long per tool (calls = this / one call)
    max_calls: int  # at most this many calls per tool per round


FULL_SCHEDULE = Schedule(rounds=21, budget=5.0, round_seconds=0.02, max_calls=20)
QUICK_SCHEDULE = Schedule(rounds=5, budget=1.0, round_seconds=0.02, max_calls=20)


def measure(
    case: Case, vnuma: _Vnuma, nova: _Nova | None, schedule: Schedule
) -> tuple[list[tuple[float, float]], int]:
    """Time both tools on one case in alternating rounds: (per-round medians, calls per
    round). Untimed warm-up calls first, one each, three when a call is short (the fastest
    sizes the rounds); a tool whose single call takes more than half the budget keeps that
    call as its only sample. A tool that times out or fails drops out. Either way the
    other goes on alone, its budget left whole."""
    sides: list[_Vnuma | _Nova] = [vnuma] if nova is None else [vnuma, nova]
    spent = 0.0
    slowest = 0.0
    for side in sides:
        if not side.live:
            continue
        start = time.perf_counter()
        warm = side.time(1)
        if warm is None:
            continue  # timed out or failed: it drops out, its time is not the other's budget
        if warm[0] > schedule.budget / 2:
            side.answer.record(warm)  # too slow to repeat: the one call is the sample
            continue
        if warm[0] < schedule.round_seconds / 2:
            warm = side.time(2)  # the first call of a case may pay for more than the call
            if warm is None:
                continue
        spent += time.perf_counter() - start
        slowest = max(slowest, min(warm))
    repeat = [side for side in sides if side.live and not side.answer.times]
    calls = max(1, min(schedule.max_calls, round(schedule.round_seconds / max(slowest, 1e-9))))
    rounds: list[tuple[float, float]] = []
    for index in range(schedule.rounds):
        if index and spent >= schedule.budget:
            break
        order = repeat if index % 2 == 0 else repeat[::-1]  # who goes first alternates
        medians: dict[int, float] = {}
        start = time.perf_counter()
        for side in order:
            if not side.live:
                continue
            times = side.time(calls)
            if times is not None:
                side.answer.record(times)
                medians[id(side)] = statistics.median(times)
        spent += time.perf_counter() - start
        if nova is not None and id(vnuma) in medians and id(nova) in medians:
            rounds.append((medians[id(vnuma)], medians[id(nova)]))
        if not any(side.live for side in repeat):
            break
    return rounds, calls


def run_placement(
    *,
    quick: bool,
    workdir: Path,
    nova_python: Path | None,
    nova_timeout: float = 60.0,
    vnuma_timeout: float = 60.0,
    reps: int | None = None,
    log: Callable[[str], None] = lambda msg: None,
) -> list[Row]:
    """Run every case; raises SolverUnavailable when vnuma.place cannot be imported.
    ``reps``: interleaved rounds per case (default 21, 5 with ``quick``)."""
    api = import_vnuma_api()
    schedule = QUICK_SCHEDULE if quick else FULL_SCHEDULE
    if reps:
        schedule = Schedule(reps, schedule.budget, schedule.round_seconds, schedule.max_calls)
    workdir.mkdir(parents=True, exist_ok=True)
    server = NovaServer(nova_python, workdir) if nova_python is not None else None
    rows: list[Row] = []
    hosts: dict[int, tuple[Any, list[list[int]]]] = {}
    try:
        for case in make_cases(quick):
            if case.nodes not in hosts:
                path = topology.write_capabilities(case.nodes, workdir)
                host, diagnostics = api["load_host"](path, path.name)
                if host is None:
                    raise RuntimeError(f"{path.name}: {_diagnostic_text(diagnostics)}")
                hosts[case.nodes] = (host, topology.distance_matrix(case.nodes))
            host, matrix = hosts[case.nodes]
            vnuma = _Vnuma(case, api, host, workdir, vnuma_timeout)
            nova = _Nova(case, server, nova_timeout) if server is not None else None
            if server is not None:
                # Nova's import is not the case's time; when it fails, the case's first
                # request fails the same way and says why
                with suppress(RuntimeError):
                    server.ensure()
            rounds, calls = measure(case, vnuma, nova, schedule)
            row = Row(
                case, vnuma.finish(matrix), nova.finish(matrix) if nova else None, rounds, calls
            )
            rows.append(row)
            log(
                f"{case.label:>22}: vnuma {_fmt_answer_time(row.vnuma)} {_verdict(row.vnuma)}"
                + (
                    f" | nova {_fmt_answer_time(row.nova)} {_verdict(row.nova)}"
                    f" | paired {row.ratio} ({_fmt_rounds(row)})"
                    if row.nova
                    else ""
                )
            )
    finally:
        if server is not None:
            server.close()
    return rows


# --------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------


def _fmt_seconds(s: float) -> str:
    if s < 0:
        return "−" + _fmt_seconds(-s)
    if s < 1e-3:
        return f"{s * 1e6:.3g} µs"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def _fmt_count(n: int) -> str:
    if n < 10**12:
        return f"{n:,}"
    mantissa, exponent = f"{n:.2e}".split("e")
    return f"{mantissa}·10^{int(exponent)}"


def _fmt_ratio(r: float) -> str:
    if r >= 100:
        return f"{r:,.0f}×"
    if r >= 10:
        return f"{r:.1f}×"
    return f"{r:.2f}×"


def _fmt_answer_time(a: Answer | None) -> str:
    if a is None:
        return "—"
    if a.timeout is not None:
        return f"> {a.timeout:g} s"
    if a.error is not None:
        return "error"
    return _fmt_seconds(a.seconds) if a.seconds is not None else "—"


def _fmt_best(a: Answer | None) -> str:
    if a is None or a.best is None or a.timeout is not None or a.error is not None:
        return "—"
    return _fmt_seconds(a.best)


def _fmt_rounds(row: Row) -> str:
    if row.rounds:
        return f"{len(row.rounds)} × {row.calls}"
    return "—"


def _verdict(a: Answer | None) -> str:
    if a is None or a.fit is None:
        return "—"
    return "fit" if a.fit else "no fit"


def _fmt_verdict(a: Answer | None, case: Case) -> str:
    if a is None:
        return "—"
    if a.fit is None:
        return "timeout" if a.timeout is not None else "error"
    right = a.fit == case.expected_fit
    text = f"{_verdict(a)} {'✔' if right else '✘'}"
    return text if right else f"**{text}**"


def _fmt_nodes(a: Answer | None) -> str:
    if a is None or a.nodes is None:
        return "—"
    return ",".join(str(n) for n in a.nodes)


def _fmt_distance(a: Answer | None) -> str:
    if a is None or a.distance is None:
        return "—"
    return str(a.distance)


def render_markdown(rows: list[Row], nova_status: str, nova_timeout: float) -> str:
    """The placement section of RESULTS.md."""
    o: list[str] = []
    a = o.append
    a("## Placement: vnuma `vnuma.place.place` vs Nova `numa_fit_instance_to_host`")
    a("")
    a(
        "Hosts: N nodes × 16 CPUs (8 cores × 2 threads), 64 GiB per node of which 32 GiB are"
        " 16,384 × 2 MiB pages, no 1 GiB pool; 4 nodes per socket, distances 10 / 12 / 32"
        " (`bench/topology.py`). Guests: M cells × 4 dedicated vCPUs (thread policy *prefer*)"
        " on 2 MiB pages, 4 GiB per cell; *nofit_last* / *nofit_first*: the last / first cell"
        " needs 34 GiB of 2 MiB pages, so the correct answer is no fit."
    )
    a("")
    full, quick = FULL_SCHEDULE, QUICK_SCHEDULE
    a(
        "vnuma: in-process, only `place(intent, host)` is timed. Nova: "
        f"{nova_status}; `numa_fit_instance_to_host(host, instance, provider_mapping=None)`"
        " in one long-lived subprocess of its own venv (`bench/nova_fit.py --serve`), default"
        " *spread*, host and instance rebuilt before every call (outside the timed region),"
        f" killed after {nova_timeout:g} s on a call. Both are timed with `time.perf_counter`"
        " around the one call, in alternating rounds (who goes first alternates): after one"
        " untimed warm-up calls each (one, three when short), a round is K calls of vnuma"
        " and K calls of Nova, K sized from the faster warm-up calls"
        f" so that the slower tool's round takes about {full.round_seconds * 1e3:g} ms"
        f" (at most {full.max_calls}), up to {full.rounds} rounds, no new round once"
        f" {full.budget:g} s are spent ({quick.rounds} rounds, {quick.budget:g} s with"
        " `--quick`); a tool whose warm-up call takes more than half of that keeps it as its"
        " only sample. *vnuma* / *Nova*: median of every timed call; *min*: the fastest."
        " *Nova/vnuma*: the paired ratio, the median over the rounds of Nova's median / vnuma's"
        " median in the same round (rounds × K in *rounds*), so a slow spell of the machine"
        " weighs on both; without rounds, the ratio of the medians. *perms* = N!/(N−M)!, the"
        " ordered choices Nova enumerates when nothing fits. *dist* = summed pairwise host"
        " distance of the chosen nodes (over guest-cell pairs), from the generated matrix."
        " ✔/✘: agrees with the correct verdict, known by construction."
    )
    a("")
    a(
        "| N | M | case | perms | vnuma | vnuma min | vnuma verdict | vnuma nodes | vnuma dist"
        " | Nova | Nova min | Nova verdict | Nova nodes | Nova dist | rounds | Nova/vnuma |"
    )
    a("|---:|---:|---|---:|---:|---:|---|---|---:|---:|---:|---|---|---:|---:|---:|")
    notes: list[str] = []
    for row in rows:
        c = row.case
        a(
            f"| {c.nodes} | {c.cells} | {c.kind} | {_fmt_count(c.permutations)} "
            f"| {_fmt_answer_time(row.vnuma)} | {_fmt_best(row.vnuma)} "
            f"| {_fmt_verdict(row.vnuma, c)} "
            f"| {_fmt_nodes(row.vnuma)} | {_fmt_distance(row.vnuma)} "
            f"| {_fmt_answer_time(row.nova)} | {_fmt_best(row.nova)} "
            f"| {_fmt_verdict(row.nova, c)} "
            f"| {_fmt_nodes(row.nova)} | {_fmt_distance(row.nova)} | {_fmt_rounds(row)} "
            f"| {row.ratio} |"
        )
        for tool, ans in (("vnuma", row.vnuma), ("Nova", row.nova)):
            if ans is None:
                continue
            remarks = [ans.error] if ans.error else []
            if ans.nodes is not None:
                problem = capacity_problem(c, ans.nodes)
                if problem:
                    remarks.append(f"invalid placement, {problem}")
            remarks.extend(ans.notes)
            if remarks:
                notes.append(f"{c.label}, {tool}: {'; '.join(remarks)}")
    a("")
    wrong = [
        f"{tool} {r.case.label}"
        for r in rows
        for tool, ans in (("vnuma", r.vnuma), ("Nova", r.nova))
        if ans is not None and ans.fit is not None and ans.fit != r.case.expected_fit
    ]
    a(f"Wrong verdicts: {', '.join(wrong) if wrong else 'none'}.")
    fits = [r for r in rows if r.case.kind == "fit" and r.nova is not None]
    if fits:
        missed = [
            f"{r.case.nodes}×{r.case.cells} ({r.ratio})"
            for r in fits
            if (r.paired if r.paired is not None else 0.0) < 1.0
        ]
        a("")
        a(
            f"Goal, vnuma ≤ 1× Nova's time on every fit case (paired Nova/vnuma ≥ 1):"
            f" {len(fits) - len(missed)} of {len(fits)} met"
            + (f"; not met: {', '.join(missed)}." if missed else ".")
        )
    if notes:
        a("")
        a("Notes:")
        a("")
        o.extend(f"- {note}" for note in notes)
    return "\n".join(o) + "\n"
