"""Scale: a 64-node, 1,024-CPU host and a 512-vCPU, 32-cell guest, compiled end to end.

Host: ``topology.capabilities_xml(64)`` (64 nodes x 16 CPUs, 64 GiB per node of which
32 GiB are 2 MiB huge pages). Two guests of 512 vCPUs, 1 TiB, 32 cells, dedicated
pinning on 2 MiB pages (:func:`make_cases`):

* ``auto``: ``cells: 32``, ``nodeset: auto``, ``topology: auto``: the placement stage
  splits the cells, chooses the host nodes (``vnuma.place.solver``) and pins every vCPU;
* ``explicit``: 32 cells written out with ``cpus``, ``host_nodes`` and a ``nodeset``
  and an explicit guest topology. The intent language has no per-vCPU host CPU list
  (``cpu.pinning`` is none / node / dedicated), so the placement stage still picks the
  host CPU of every vCPU inside the given node; the node solver is not run.

Per case, one fresh Python process (this file with ``--child``) imports the stage
modules (timed), then runs the pipeline's stages through their public functions, in
the order ``vnuma.runner.compile_intent`` runs them, 1 + reps times: the first
run is *cold* (caches empty: schema validator, jinja2 environment and template,
libvirt's RelaxNG schema), the median is over the other runs. After that it times
``compile_intent`` itself (median) and checks that its XML is byte-identical to the
staged one. The whole process is ``python -m vnuma compile INTENT --host HOST -o
OUT`` through ``subprocess.run``: one untimed warm-up, then the median wall time; its
output is compared with the staged XML and counted with lxml.

Public entry points: :func:`run_scale` returns rows, :func:`render_markdown` turns
them into the Markdown section of ``RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if __name__ == "__main__":  # --child: the checkout's `compiler`, even without an install
    sys.path.insert(0, str(REPO))

import topology  # noqa: E402
from placement import _fmt_seconds, _tail  # noqa: E402
from venvs import checkout_env  # noqa: E402

GOAL_SECONDS = 0.5
NODES = 64
VCPUS = 512
CELLS = 32
MEMORY_GIB = 1024
FULL_REPS = 9
QUICK_REPS = 3
FULL_PROCESS_RUNS = 5
QUICK_PROCESS_RUNS = 3
INTERPRETER_RUNS = 5  # `python -c pass`, also with --quick (45 ms each)

# (key, row label, what is called); in the order compile_intent runs them
STAGES: tuple[tuple[str, str, str], ...] = (
    ("load", "load intent (YAML)", "`vnuma.load.intent.load_intent`"),
    ("validate", "schema-validate", "`vnuma.schema.validate.validate_intent`"),
    ("model", "model", "`vnuma.model.intent.build_intent`"),
    ("host", "parse host snapshot", "`vnuma.libvirt.capabilities.load_host`"),
    ("place", "place", "`vnuma.place.place`"),
    ("check", "check (rules)", "`vnuma.rules.check.run_checks`"),
    ("plan", "plan", "`vnuma.emit.plan.make_plan`"),
    ("emit", "emit (templates)", "`vnuma.emit.render.render_fragment`"),
    (
        "verify",
        "verify (re-parse, RelaxNG)",
        "`vnuma.emit.verify.find_schema_dir` + `verify_domain_xml`",
    ),
)
STAGE_KEYS = tuple(key for key, _, _ in STAGES)


# --------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    key: str
    label: str
    intent: str  # YAML text


def auto_intent() -> str:
    return (
        "\n".join(
            [
                "version: 1",
                "name: scale-auto",
                f"vcpus: {VCPUS}",
                f"memory: {MEMORY_GIB // 1024}TiB",
                f"cells: {CELLS}",
                "numatune: {mode: strict, nodeset: auto}",
                "hugepages: {size: 2MiB}",
                "cpu: {pinning: dedicated, threads: prefer, topology: auto}",
            ]
        )
        + "\n"
    )


def explicit_intent() -> str:
    """32 cells of 16 vCPUs and 32 GiB, cell i on host node i (a whole node each)."""
    per_cell = VCPUS // CELLS
    lines = [
        "version: 1",
        "name: scale-explicit",
        f"vcpus: {VCPUS}",
        f"memory: {MEMORY_GIB // 1024}TiB",
        f'numatune: {{mode: strict, nodeset: "0-{CELLS - 1}"}}',
        "cells:",
    ]
    for i in range(CELLS):
        first = per_cell * i
        lines.append(
            f'  - {{cpus: "{first}-{first + per_cell - 1}", memory: {MEMORY_GIB // CELLS}GiB,'
            f' host_nodes: "{i}"}}'
        )
    lines += [
        "hugepages: {size: 2MiB}",
        "cpu:",
        "  pinning: dedicated",
        "  threads: prefer",
        f"  topology: {{sockets: {CELLS}, cores: {per_cell // 2}, threads: 2}}",
    ]
    return "\n".join(lines) + "\n"


def make_cases() -> list[Case]:
    return [
        Case("auto", "auto: `cells: 32`, `nodeset: auto` (node solver)", auto_intent()),
        Case("explicit", "explicit: 32 cells, `host_nodes`, `nodeset`", explicit_intent()),
    ]


# --------------------------------------------------------------------------
# the child process: stages in-process
# --------------------------------------------------------------------------


def _child(intent_path: Path, host_path: Path, reps: int, xml_out: Path) -> dict[str, Any]:
    """Import the stage modules, run the stages 1 + reps times, then compile_intent."""
    start = time.perf_counter()
    from vnuma.diagnostics import Severity
    from vnuma.emit.plan import make_plan
    from vnuma.emit.render import render_fragment
    from vnuma.emit.verify import find_schema_dir, verify_domain_xml
    from vnuma.libvirt.capabilities import load_host
    from vnuma.load.intent import load_intent
    from vnuma.model.intent import build_intent
    from vnuma.model.resolve import resolve
    from vnuma.place import place
    from vnuma.rules.check import run_checks
    from vnuma.runner import CompileOptions, compile_intent, display_path
    from vnuma.schema.validate import validate_intent

    imports = time.perf_counter() - start
    import vnuma

    where = Path(vnuma.__file__).resolve().parent
    if where != REPO / "compiler":  # e.g. an installed vnuma shadowing this checkout
        return {"error": f"imported compiler from {where}, not {REPO / 'compiler'}"}
    shown_intent, shown_host = display_path(intent_path), display_path(host_path)
    output_name = str(xml_out)
    runs: list[dict[str, float]] = []
    facts: dict[str, Any] = {}
    codes: list[str] = []
    xml = ""
    for _ in range(reps + 1):
        t: dict[str, float] = {}
        diagnostics: list[Any] = []
        now = time.perf_counter

        s = now()
        raw = load_intent(intent_path, shown_intent)
        t["load"] = now() - s
        diagnostics += raw.diagnostics

        s = now()
        schema_problems = validate_intent(raw.data, raw.path, raw.positions)
        t["validate"] = now() - s
        diagnostics += schema_problems

        s = now()
        intent, model_problems = build_intent(raw.data, raw.path, raw.base_dir, raw.positions)
        t["model"] = now() - s
        diagnostics += model_problems
        if intent is None:
            return {"error": f"model: {_codes(diagnostics)}"}

        s = now()
        host, host_problems = load_host(host_path, shown_host)
        t["host"] = now() - s
        diagnostics += host_problems
        if host is None:
            return {"error": f"host: {_codes(diagnostics)}"}

        result = None
        s = now()
        if intent.needs_placement:  # as compile_intent: only when something is left to vnuma
            result = place(intent, host, [])
        else:
            placed = resolve(intent)
        t["place"] = now() - s
        if result is not None:
            diagnostics += result.diagnostics
            if not result.ok or result.guest is None:
                return {"error": f"place: {_codes(diagnostics)}"}
            placed = result.guest

        s = now()
        diagnostics += run_checks(placed, host)
        t["check"] = now() - s

        s = now()
        plan = make_plan(placed)
        t["plan"] = now() - s

        s = now()
        xml = render_fragment(plan)
        t["emit"] = now() - s

        s = now()
        verified = verify_domain_xml(xml, output_name, find_schema_dir(None), fragment=True)
        t["verify"] = now() - s
        diagnostics += verified.diagnostics

        errors = [d for d in diagnostics if d.severity >= Severity.ERROR]
        if errors:
            return {"error": f"diagnostics: {_codes(errors)}"}
        runs.append(t)
        codes = sorted({f"{d.code} ({d.severity.name.lower()})" for d in diagnostics})
        facts = {
            "host_nodes": len(host.cells),
            "host_cpus": host.cpu_count,
            "placement_ran": result is not None,
            "guest_nodes": sorted({n for c in placed.cells for n in (c.host_nodes or ())}),
            "rng_checked": verified.rng_checked,
            "notes": verified.notes,
        }
    xml_out.write_bytes(xml.encode("utf-8"))

    pipeline: list[float] = []
    same = True
    options = CompileOptions(intent_path=intent_path, host_path=host_path, output_name=output_name)
    for _ in range(reps):
        s = time.perf_counter()
        outcome = compile_intent(options)
        pipeline.append(time.perf_counter() - s)
        same = same and outcome.xml == xml
    return {
        "imports": imports,
        "runs": runs,
        "pipeline": pipeline,
        "pipeline_same_xml": same,
        "codes": codes,
        **facts,
    }


def _codes(diagnostics: list[Any]) -> str:
    return "; ".join(f"{d.code} {d.message}" for d in diagnostics) or "no diagnostics"


# --------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------


@dataclass
class Row:
    case: Case
    intent_bytes: int = 0
    error: str = ""
    imports: float | None = None
    runs: list[dict[str, float]] = field(default_factory=list)  # [0]: cold
    pipeline: list[float] = field(default_factory=list)
    pipeline_same_xml: bool | None = None
    process: list[float] = field(default_factory=list)
    process_warmup: float | None = None
    codes: list[str] = field(default_factory=list)
    host_nodes: int = 0
    host_cpus: int = 0
    host_bytes: int = 0
    placement_ran: bool = False
    guest_nodes: list[int] = field(default_factory=list)
    rng_checked: bool = False
    verify_notes: list[str] = field(default_factory=list)
    xml_bytes: int = 0
    vcpupins: int = 0
    pinned_cpus: int = 0  # distinct host CPUs in <vcpupin cpuset>
    guest_cells: int = 0  # <cpu><numa><cell>
    memnodes: int = 0  # <numatune><memnode>
    siblings: int = 0  # <cpu><numa><cell><distances><sibling>
    same_output: bool | None = None  # CLI output == staged XML

    def cold(self, key: str) -> float | None:
        return self.runs[0][key] if self.runs else None

    def median(self, key: str) -> float | None:
        warm = [run[key] for run in self.runs[1:]]
        return statistics.median(warm) if warm else None

    @property
    def cold_total(self) -> float | None:
        if not self.runs or self.imports is None:
            return None
        return self.imports + sum(self.runs[0].values())

    @property
    def median_total(self) -> float | None:
        totals = [sum(run.values()) for run in self.runs[1:]]
        return statistics.median(totals) if totals else None

    @property
    def process_median(self) -> float | None:
        return statistics.median(self.process) if self.process else None

    @property
    def pipeline_median(self) -> float | None:
        return statistics.median(self.pipeline) if self.pipeline else None


def _count_output(row: Row, path: Path) -> None:
    """Facts about the CLI's output, counted with lxml."""
    from lxml import etree

    data = path.read_bytes()
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    pins = root.findall("cputune/vcpupin")
    row.xml_bytes = len(data)
    row.vcpupins = len(pins)
    row.pinned_cpus = len({pin.get("cpuset") for pin in pins})
    row.guest_cells = len(root.findall("cpu/numa/cell"))
    row.memnodes = len(root.findall("numatune/memnode"))
    row.siblings = len(root.findall("cpu/numa/cell/distances/sibling"))
    vcpus = sorted(int(pin.get("vcpu")) for pin in pins)
    if vcpus != list(range(VCPUS)):
        row.error = f"output pins {len(set(vcpus))} distinct vCPUs, expected 0..{VCPUS - 1}"
    elif row.pinned_cpus != VCPUS:
        row.error = f"dedicated pinning shares host CPUs: {row.pinned_cpus} distinct cpusets"
    elif row.guest_cells != CELLS:
        row.error = f"output has {row.guest_cells} guest cells, expected {CELLS}"


def run_case(case: Case, host_path: Path, workdir: Path, reps: int, process_runs: int) -> Row:
    intent_path = workdir / f"scale-{case.key}.yaml"
    intent_path.write_text(case.intent, encoding="utf-8")
    row = Row(case, intent_bytes=intent_path.stat().st_size, host_bytes=host_path.stat().st_size)
    staged = workdir / f"scale-{case.key}-staged.xml"
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        str(intent_path),
        str(host_path),
        "--reps",
        str(reps),
        "--xml-out",
        str(staged),
    ]
    try:
        proc = subprocess.run(
            cmd, cwd=REPO, capture_output=True, text=True, timeout=600, env=checkout_env()
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        row.error = f"in-process run: {type(exc).__name__}: {exc}"
        return row
    if proc.returncode != 0:
        row.error = f"in-process run exited {proc.returncode}: {_tail(proc.stderr)}"
        return row
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    if data.get("error"):
        row.error = data["error"]
        return row
    row.imports = data["imports"]
    row.runs = data["runs"]
    row.pipeline = data["pipeline"]
    row.pipeline_same_xml = data["pipeline_same_xml"]
    row.codes = data["codes"]
    row.host_nodes, row.host_cpus = data["host_nodes"], data["host_cpus"]
    row.placement_ran = data["placement_ran"]
    row.guest_nodes = data["guest_nodes"]
    row.rng_checked, row.verify_notes = data["rng_checked"], data["notes"]
    if not row.pipeline_same_xml:
        row.error = "compile_intent's XML differs from the staged run's"
        return row

    out = workdir / f"scale-{case.key}-cli.xml"
    cli = [sys.executable, "-m", "vnuma", "compile", str(intent_path), "--host", str(host_path)]
    cli += ["-o", str(out)]
    for i in range(process_runs + 1):  # the first run warms the page cache, not counted
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                cli, cwd=REPO, capture_output=True, text=True, timeout=120, env=checkout_env()
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            row.error = f"`vnuma compile`: {type(exc).__name__}: {exc}"
            return row
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            row.error = f"`vnuma compile` exited {proc.returncode}: {_tail(proc.stderr)}"
            return row
        if i:
            row.process.append(elapsed)
        else:
            row.process_warmup = elapsed
    row.same_output = out.read_bytes() == staged.read_bytes()
    _count_output(row, out)
    if not row.error and not row.same_output:
        row.error = "the CLI's output differs from the staged run's"
    return row


@dataclass
class ScaleResult:
    rows: list[Row]
    bytecode: str  # how vnuma's bytecode was prepared
    reps: int  # in-process runs after the cold one
    process_runs: int  # whole-process runs after the warm-up
    interpreter: float | None = None  # `python -c pass`, median
    interpreter_error: str = ""

    @property
    def failed(self) -> list[str]:
        return [f"scale {r.case.key}" for r in self.rows if r.error]


def _interpreter_start(runs: int) -> tuple[float | None, str]:
    """`python -c pass` the same way: the floor under every whole-process row."""
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        try:
            subprocess.run([sys.executable, "-c", "pass"], cwd=REPO, timeout=60, env=checkout_env())
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"{type(exc).__name__}: {exc}"
        if i:
            times.append(time.perf_counter() - start)
    return statistics.median(times), ""


def run_scale(
    *,
    quick: bool,
    workdir: Path,
    reps: int | None = None,
    log: Callable[[str], None] = lambda msg: None,
) -> ScaleResult:
    """Both guests at full size (also with ``quick``: only fewer repetitions)."""
    from latency import compile_bytecode

    reps = reps or (QUICK_REPS if quick else FULL_REPS)
    process_runs = QUICK_PROCESS_RUNS if quick else FULL_PROCESS_RUNS
    workdir.mkdir(parents=True, exist_ok=True)
    result = ScaleResult([], compile_bytecode(), reps, process_runs)
    host_path = workdir / f"host-{NODES}n.xml"
    host_path.write_text(topology.capabilities_xml(NODES), encoding="utf-8")
    for case in make_cases():
        row = run_case(case, host_path, workdir, reps, process_runs)
        result.rows.append(row)
        if row.error:
            log(f"scale {case.key}: error: {row.error}")
        else:
            log(
                f"scale {case.key}: in-process {_fmt(row.median_total)}"
                f" (cold {_fmt(row.cold_total)}), whole process {_fmt(row.process_median)}"
            )
    result.interpreter, result.interpreter_error = _interpreter_start(INTERPRETER_RUNS)
    return result


# --------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------


def _fmt(seconds: float | None) -> str:
    return "—" if seconds is None else _fmt_seconds(seconds)


def _met(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return "met" if seconds < GOAL_SECONDS else "**not met**"


def _nodes(ids: list[int]) -> str:
    from vnuma.cpusets import format_cpuset

    return format_cpuset(frozenset(ids)) if ids else "—"


def render_markdown(result: ScaleResult) -> str:
    """The scale section of RESULTS.md."""
    rows = result.rows
    o: list[str] = []
    a = o.append
    a(f"## Scale: {NODES}-node, 1,024-CPU host; {VCPUS}-vCPU, {CELLS}-cell guest")
    a("")
    a(
        f"Host: `topology.capabilities_xml({NODES})` (`bench/topology.py`): {NODES} nodes × 16"
        " CPUs (8 cores × 2 threads), 64 GiB per node of which 32 GiB are 2 MiB huge pages."
        f" Guests: {VCPUS} vCPUs, 1 TiB, {CELLS} cells of 16 vCPUs and 32 GiB on 2 MiB pages,"
        " `numatune` strict, dedicated pinning (thread policy *prefer*). *auto*: `cells: 32`,"
        " `nodeset: auto`, `topology: auto`; the placement stage splits the cells, chooses the"
        " host nodes with the solver and pins every vCPU. *explicit*: the 32 cells written"
        ' out with `cpus`, `host_nodes: "i"` and `nodeset: "0-31"`, explicit guest'
        " topology; the intent language has no per-vCPU host CPU list, so the placement"
        " stage still chooses the host CPU of each vCPU inside the given node (the node"
        " solver does not run)."
    )
    a("")
    a(
        "In-process: one fresh Python process per guest (`bench/scale.py --child`) imports"
        " the stage modules (*imports*; the harness's own stdlib imports came before), then"
        " calls the stages' public functions, each row naming its function, in the order"
        " `vnuma.runner.compile_intent` calls them (*place* because the intent leaves"
        " something to vnuma, as in the pipeline). *cold* is the first run in that process:"
        " caches empty (schema validator, jinja2 environment and template, libvirt's"
        " RelaxNG schema) and jinja2 / lxml still to be imported by *emit* / *verify*;"
        f" *median* is over the next {result.reps} runs. *total* is the sum of the stages"
        " (cold: plus *imports*). *`compile_intent`* is the pipeline in one call (median of"
        f" {result.reps} calls after the staged runs), to show the stage rows add up to it;"
        " its XML is byte-identical to the staged one."
    )
    a("")
    ok = [r for r in rows if not r.error]
    if ok:
        head = " | ".join(f"{r.case.key} cold | {r.case.key} median" for r in ok)
        a(f"| stage | called | {head} |")
        a("|---|---|" + "---:|---:|" * len(ok))
        a(
            "| imports | `import compiler.…` (the stage modules) | "
            + " | ".join(f"{_fmt(r.imports)} | —" for r in ok)
            + " |"
        )
        for key, label, called in STAGES:
            cells = [
                "not run | not run"
                if key == "place" and not r.placement_ran
                else f"{_fmt(r.cold(key))} | {_fmt(r.median(key))}"
                for r in ok
            ]
            a(f"| {label} | {called} | " + " | ".join(cells) + " |")
        a(
            "| **total** | | "
            + " | ".join(f"**{_fmt(r.cold_total)}** | **{_fmt(r.median_total)}**" for r in ok)
            + " |"
        )
        a(
            "| `compile_intent` | `vnuma.runner.compile_intent` | "
            + " | ".join(f"— | {_fmt(r.pipeline_median)}" for r in ok)
            + " |"
        )
        a("")
    interpreter = (
        _fmt(result.interpreter)
        if result.interpreter is not None
        else f"not measured: {result.interpreter_error}"
    )
    a(
        "Whole process: `python -m vnuma compile INTENT --host HOST -o OUT` through"
        f" `subprocess.run` (this checkout on `PYTHONPATH`; {result.bytecode}), one untimed"
        f" warm-up run, then the median wall time of {result.process_runs} runs; it includes"
        " the interpreter's start, argument parsing, printing the diagnostics and writing"
        f" the file. The interpreter alone (`python -c pass`, same method, median of"
        f" {INTERPRETER_RUNS}): {interpreter}."
        " The output file is compared byte for byte with the staged XML (*same output*) and"
        " counted with lxml: `<vcpupin>` elements, distinct host CPUs in their `cpuset`,"
        " `<cpu><numa><cell>`s, `<numatune><memnode>`s and guest distances (`<sibling>`:"
        " *auto* writes the host distances between the chosen nodes, 32 × 32; *explicit*"
        " gives none, so libvirt's defaults apply)."
    )
    a("")
    a(
        "| guest | intent | `vnuma compile` | min – max | warm-up | host nodes / CPUs"
        " | host XML | output XML | `<vcpupin>` | distinct pinned CPUs | guest cells"
        " | `<memnode>` | `<sibling>` | host nodes used | same output | diagnostics |"
    )
    a("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|")
    for r in rows:
        if r.error:
            a(f"| {r.case.label} | {r.intent_bytes:,} B | error: {r.error} |" + " — |" * 13)
            continue
        spread = f"{_fmt(min(r.process))} – {_fmt(max(r.process))}" if r.process else "—"
        a(
            f"| {r.case.label} | {r.intent_bytes:,} B | {_fmt(r.process_median)} | {spread}"
            f" | {_fmt(r.process_warmup)} | {r.host_nodes} / {r.host_cpus:,}"
            f" | {r.host_bytes:,} B | {r.xml_bytes:,} B | {r.vcpupins} | {r.pinned_cpus}"
            f" | {r.guest_cells} | {r.memnodes} | {r.siblings:,} | {_nodes(r.guest_nodes)}"
            f" | {'yes' if r.same_output else '**no**'} | {', '.join(r.codes) or 'none'} |"
        )
    a("")
    a(f"Goal: parse, check, place, emit in < {GOAL_SECONDS:g} s total.")
    a("")
    a("| guest | measured | time | met? |")
    a("|---|---|---:|---|")
    for r in rows:
        if r.error:
            a(f"| {r.case.key} | — | error | **not met** (error) |")
            continue
        for what, value in (
            ("whole process, `python -m vnuma compile` (median)", r.process_median),
            ("in-process total, cold (imports + first run)", r.cold_total),
            ("in-process total (median)", r.median_total),
        ):
            a(f"| {r.case.key} | {what} | {_fmt(value)} | {_met(value)} |")
    notes = sorted({n for r in ok for n in r.verify_notes})
    if notes:
        a("")
        a("Notes:")
        a("")
        o.extend(f"- verify: {n}" for n in notes)
    return "\n".join(o) + "\n"


# --------------------------------------------------------------------------
# child entry point
# --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="bench/scale.py --child: the in-process timings")
    ap.add_argument("--child", action="store_true", required=True)
    ap.add_argument("intent", type=Path)
    ap.add_argument("host", type=Path)
    ap.add_argument("--reps", type=int, default=FULL_REPS)
    ap.add_argument("--xml-out", type=Path, required=True)
    args = ap.parse_args(argv)
    print(json.dumps(_child(args.intent, args.host, args.reps, args.xml_out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
