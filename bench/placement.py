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
beforehand). Nova runs in its own virtualenv through ``nova_fit.py``, one subprocess
per case, killed after the time limit.

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
from contextlib import contextmanager
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

    seconds: float | None = None  # median; None when timed out or failed
    runs: int = 0
    fit: bool | None = None  # None: no verdict (timeout, error, not run)
    nodes: tuple[int, ...] | None = None  # host node per guest cell when it fits
    distance: int | None = None  # summed pairwise distance, from the generated matrix
    timeout: float | None = None  # set when killed / interrupted after this many seconds
    error: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Row:
    case: Case
    vnuma: Answer
    nova: Answer | None  # None: Nova not run

    @property
    def ratio(self) -> str:
        """Nova time / vnuma time ('>' when Nova hit the limit)."""
        if self.nova is None or self.vnuma.seconds is None or self.vnuma.seconds <= 0:
            return "—"
        if self.nova.timeout is not None:
            return f"> {_fmt_ratio(self.nova.timeout / self.vnuma.seconds)}"
        if self.nova.seconds is None:
            return "—"
        return _fmt_ratio(self.nova.seconds / self.vnuma.seconds)


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


def run_vnuma(
    case: Case,
    api: dict[str, Any],
    host: Any,
    matrix: list[list[int]],
    workdir: Path,
    reps: int,
    budget: float,
    limit: float,
) -> Answer:
    path = workdir / f"intent-{case.label}.yaml"
    path.write_text(intent_yaml(case), encoding="utf-8")
    raw = api["load_intent"](path, path.name)
    intent, diagnostics = api["intent_from_raw"](raw)
    if intent is None:
        return Answer(error=f"intent rejected: {_diagnostic_text(diagnostics)}")
    place = api["place"]
    times: list[float] = []
    result = None
    spent = 0.0
    try:
        with _time_limit(limit):
            while len(times) < reps and (not times or spent < budget):
                start = time.perf_counter()
                result = place(intent, host)
                elapsed = time.perf_counter() - start
                times.append(elapsed)
                spent += elapsed
    except _Interrupted:
        return Answer(timeout=limit, runs=len(times))
    except Exception as exc:  # a crashing solver is a result to report, not a reason to stop
        return Answer(error=f"place() raised {type(exc).__name__}: {exc}")
    answer = Answer(seconds=statistics.median(times), runs=len(times), fit=bool(result.ok))
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
# Nova side (subprocess in the Nova venv)
# --------------------------------------------------------------------------


def run_nova(
    case: Case,
    python: Path,
    matrix: list[list[int]],
    limit: float,
    reps: int,
    budget: float,
    import_limit: float = 300.0,
) -> Answer:
    """Run ``nova_fit.py`` for one case; kill it ``limit`` (+ repetition budget) s after Nova imported."""
    cmd = [
        str(python),
        "-W",
        "ignore",
        str(NOVA_FIT),
        "--nodes",
        str(case.nodes),
        "--cells",
        str(case.cells),
        "--case",
        case.kind,
        "--reps",
        str(reps),
        "--budget",
        str(budget),
        "--ready",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = _read_line(proc, import_limit)
        if ready is None or ready.strip() != "ready":
            proc.kill()
            _, err = proc.communicate()
            return Answer(error=f"nova_fit.py did not start: {_tail(err)}")
        try:
            out, err = proc.communicate(timeout=limit + budget)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return Answer(timeout=limit)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    if proc.returncode != 0:
        return Answer(error=f"nova_fit.py exited {proc.returncode}: {_tail(err)}")
    data = json.loads(out.strip().splitlines()[-1])
    if data["seconds"] > limit:  # a single run that finished inside the repetition slack
        return Answer(timeout=limit, runs=data["runs"])
    answer = Answer(seconds=data["seconds"], runs=data["runs"], fit=data["fit"])
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
    """Run every case; raises SolverUnavailable when vnuma.place cannot be imported."""
    api = import_vnuma_api()
    reps = reps or (3 if quick else 9)
    budget = 1.0 if quick else 5.0
    workdir.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    hosts: dict[int, tuple[Any, list[list[int]]]] = {}
    for case in make_cases(quick):
        if case.nodes not in hosts:
            path = topology.write_capabilities(case.nodes, workdir)
            host, diagnostics = api["load_host"](path, path.name)
            if host is None:
                raise RuntimeError(f"{path.name}: {_diagnostic_text(diagnostics)}")
            hosts[case.nodes] = (host, topology.distance_matrix(case.nodes))
        host, matrix = hosts[case.nodes]
        vnuma = run_vnuma(case, api, host, matrix, workdir, reps, budget, vnuma_timeout)
        nova = None
        if nova_python is not None:
            nova = run_nova(case, nova_python, matrix, nova_timeout, reps, budget)
        row = Row(case, vnuma, nova)
        rows.append(row)
        log(
            f"{case.label:>22}: vnuma {_fmt_answer_time(vnuma)} {_verdict(vnuma)}"
            + (f" | nova {_fmt_answer_time(nova)} {_verdict(nova)}" if nova else "")
        )
    return rows


# --------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------


def _fmt_seconds(s: float) -> str:
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
    a(
        "vnuma: in-process, only `place(intent, host)` is timed (median of up to 9 runs, fewer"
        " once 5 s are spent; 3 runs / 1 s with `--quick`). Nova: "
        f"{nova_status}; `numa_fit_instance_to_host(host, instance, provider_mapping=None)`"
        " in a subprocess of its own venv, default *spread*, instance rebuilt before every run,"
        f" same median rule, killed after {nova_timeout:g} s. *perms* = N!/(N−M)!, the ordered"
        " choices Nova enumerates when nothing fits. *dist* = summed pairwise host distance"
        " of the chosen nodes (over guest-cell pairs), from the generated matrix. ✔/✘: agrees"
        " with the correct verdict, known by construction."
    )
    a("")
    a(
        "| N | M | case | perms | vnuma | vnuma verdict | vnuma nodes | vnuma dist"
        " | Nova | Nova verdict | Nova nodes | Nova dist | Nova/vnuma |"
    )
    a("|---:|---:|---|---:|---:|---|---|---:|---:|---|---|---:|---:|")
    notes: list[str] = []
    for row in rows:
        c = row.case
        a(
            f"| {c.nodes} | {c.cells} | {c.kind} | {_fmt_count(c.permutations)} "
            f"| {_fmt_answer_time(row.vnuma)} | {_fmt_verdict(row.vnuma, c)} "
            f"| {_fmt_nodes(row.vnuma)} | {_fmt_distance(row.vnuma)} "
            f"| {_fmt_answer_time(row.nova)} | {_fmt_verdict(row.nova, c)} "
            f"| {_fmt_nodes(row.nova)} | {_fmt_distance(row.nova)} | {row.ratio} |"
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
    if notes:
        a("")
        a("Notes:")
        a("")
        o.extend(f"- {note}" for note in notes)
    return "\n".join(o) + "\n"
