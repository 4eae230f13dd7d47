"""Pre-commit latency: one intent file, whole-process wall time, vnuma against two peers.

* ``vnuma lint samples/intents/db-strict.yaml --host samples/hosts/2s-xeon.xml`` through
  the benchmark's interpreter (``python -m vnuma``) and, when there is one, the
  ``vnuma`` console script next to it (else on PATH);
* ``check-jsonschema --schemafile schemas/intent-v1.schema.json`` on the same file
  (schema only) and ``yamllint`` (syntax and style only), both from ``bench/.venv-peers``
  (``peers_env.py``).

vnuma caches parsed host snapshots (``$XDG_CACHE_HOME/vnuma``): every vnuma row runs with
a warm cache (a fresh ``XDG_CACHE_HOME`` for the benchmark, filled by the untimed warm-up
run), and the *cold cache* rows with a fresh empty ``XDG_CACHE_HOME`` for every run, as
the first run after an install or after the snapshot changed.

The commands run in N rounds (15, ``--quick`` 3) after one untimed warm-up round; each
round runs every command once, in alternating order, so that a slow spell of the machine
hits every tool alike. The table shows the median wall time of the whole process
(``subprocess.run``, from the benchmark's point of view); a ratio is the median of the
per-round ratios (paired). The import budget is ``python -X importtime -m vnuma lint
...``: its stderr lines parsed, the largest cumulative import times. Two floor rows
time, in vnuma's own venv, the interpreter start and the imports vnuma cannot do without
(PyYAML, lxml, argparse, pathlib, dataclasses); ``startup_probe.py`` then splits one run
inside the process (import, command, dataclass creation, regex compilation).

Public entry points: :func:`run_latency` returns rows, :func:`render_markdown` turns
them into the Markdown section of ``RESULTS.md``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import peers_env
from placement import _fmt_ratio, _fmt_seconds, _tail
from venvs import FLOOR_EXIT, checkout_env, install

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
INTENT = "samples/intents/db-strict.yaml"
HOST = "samples/hosts/2s-xeon.xml"
SCHEMA = "schemas/intent-v1.schema.json"
FULL_RUNS = 15
QUICK_RUNS = 3
GOALS = {"check-jsonschema": 0.3, "yamllint": 0.8}  # vnuma / peer at most, warm cache
COLD_GOALS = {"yamllint": 1.0}  # the first run after install: every cache cold
TOP_IMPORTS = 15
FLOOR_IMPORTS = "import yaml, yaml._yaml, lxml.etree, argparse, pathlib, dataclasses"
PROBE = Path(__file__).resolve().parent / "startup_probe.py"


@dataclass
class Timing:
    tool: str  # "vnuma", "check-jsonschema", "yamllint"
    label: str  # how it was run
    command: list[str]
    seconds: float | None = None  # median
    runs: list[float] = field(default_factory=list)
    exit_codes: set[int] = field(default_factory=set)
    unavailable: str = ""  # reason, when not run
    error: str = ""  # it ran but did not do its job
    checkout: bool = True  # run with PYTHONPATH at this checkout (False: the installed copy)
    cold_cache: bool = False  # vnuma: an empty XDG_CACHE_HOME for every run (else a warm one)

    @property
    def spread(self) -> str:
        if not self.runs:
            return "—"
        return f"{_fmt_seconds(min(self.runs))} – {_fmt_seconds(max(self.runs))}"


@dataclass
class ImportCost:
    module: str
    self_us: int
    cumulative_us: int


@dataclass
class Probe:
    """Medians of ``startup_probe.py`` runs (milliseconds), or why there are none."""

    python: str  # which interpreter ran it
    runs: int = 0
    figures: dict[str, float] = field(default_factory=dict)
    error: str = ""


@dataclass
class LatencyResult:
    timings: list[Timing]
    imports: list[ImportCost]
    import_total_us: int | None
    import_error: str
    peers: str  # peers_env description
    runs: int
    bytecode: str = ""  # how vnuma's bytecode was prepared
    probe: Probe | None = None
    import_python: str = ""  # which interpreter the import budget ran in


def _console_script() -> Path | None:
    beside = Path(sys.executable).parent / "vnuma"
    if beside.exists():
        return beside
    found = shutil.which("vnuma")
    return Path(found) if found else None


def compile_bytecode() -> str:
    """Write the checkout's bytecode (``__pycache__``, git-ignored) as ``pip install`` does
    for an installed package: with PYTHONDONTWRITEBYTECODE set, every run would compile
    vnuma's modules from source again. Returns a note for the report."""
    proc = subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "compiler")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        return f"compileall failed: {_tail(proc.stderr or proc.stdout)}"
    return "bytecode compiled beforehand (`python -m compileall compiler`), as `pip install` does"


VNUMA_VENV = Path(__file__).resolve().parent / ".venv-vnuma"


def installed_vnuma(log=lambda msg: None) -> tuple[Path | None, str]:  # type: ignore[no-untyped-def]
    """vnuma as a user gets it: `pip install .` of this checkout into a venv of its own
    (like the peers' venv: no `.pth` files of the benchmark's Python), bytecode compiled
    by pip. Reinstalled every run so it is this checkout. (console script, reason)."""
    reason = install(VNUMA_VENV, [str(REPO)], timeout=900, log=log) or install(
        VNUMA_VENV, ["--force-reinstall", "--no-deps", str(REPO)], timeout=900, log=log
    )
    script = VNUMA_VENV / "bin" / "vnuma"
    if reason is not None:
        return None, reason
    return (script, "") if script.exists() else (None, "pip install . wrote no vnuma script")


def commands(peers: peers_env.PeersEnv, installed: tuple[Path | None, str]) -> list[Timing]:
    lint = ["lint", INTENT, "--host", HOST]
    timings = [
        Timing(
            "python", "`python -c pass` (interpreter start alone)", [sys.executable, "-c", "pass"]
        )
    ]
    timings.append(Timing("vnuma", "`python -m vnuma`", [sys.executable, "-m", "vnuma", *lint]))
    script = _console_script()
    if script is not None:
        label = "`vnuma` console script" + (" (pyenv shim)" if "/shims/" in str(script) else "")
        timings.append(Timing("vnuma", label, [str(script), *lint]))
        timings.append(
            Timing("vnuma", f"{label}, cold cache", [str(script), *lint], cold_cache=True)
        )
    else:
        timings.append(
            Timing("vnuma", "`vnuma` console script", [], unavailable="no `vnuma` on PATH")
        )
    script, reason = installed
    label = "`vnuma` installed in a venv (`pip install .`)"
    if script is None:
        timings.append(Timing("vnuma", label, [], unavailable=reason))
    else:
        venv_python = str(script.parent / "python")
        timings.append(Timing("vnuma", label, [str(script), *lint], checkout=False))
        timings.append(
            Timing(
                "vnuma",
                f"{label}, cold cache",
                [str(script), *lint],
                checkout=False,
                cold_cache=True,
            )
        )
        timings.append(
            Timing(
                "floor",
                "vnuma's venv: `python -c pass`",
                [venv_python, "-c", "pass"],
                checkout=False,
            )
        )
        timings.append(
            Timing(
                "floor",
                f"vnuma's venv: `python -c '{FLOOR_IMPORTS}{FLOOR_EXIT}'`",
                [venv_python, "-c", FLOOR_IMPORTS + FLOOR_EXIT],
                checkout=False,
            )
        )
    for package, args in (
        ("check-jsonschema", ["--schemafile", SCHEMA, INTENT]),
        ("yamllint", [INTENT]),
    ):
        exe = peers.executable(package)
        if exe is None:
            timings.append(
                Timing(package, f"`{package}`", [], unavailable=peers.unavailable(package))
            )
        else:
            timings.append(Timing(package, f"`{package}`", [str(exe), *args]))
    return timings


def _installed_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # pip compiled the installed bytecode
    return env


def _with_cache(env: dict[str, str], cache_home: Path) -> dict[str, str]:
    """``env`` with vnuma's host snapshot cache in ``cache_home`` (and switched on)."""
    env = {k: v for k, v in env.items() if k != "VNUMA_NO_CACHE"}
    env["XDG_CACHE_HOME"] = str(cache_home)
    return env


def _time_rounds(timings: list[Timing], runs: int, warm_cache: Path) -> None:
    """``runs`` rounds after a warm-up round (page cache, snapshot cache): every command
    once per round, in alternating order."""
    live = [t for t in timings if not t.unavailable]
    for i in range(runs + 1):
        for timing in live if i % 2 == 0 else live[::-1]:
            if not timing.error:
                elapsed = _time_once(timing, warm_cache)
                if elapsed is not None and i:
                    timing.runs.append(elapsed)
    for timing in live:
        if not timing.error and timing.runs:
            timing.seconds = statistics.median(timing.runs)


def _time_once(timing: Timing, warm_cache: Path) -> float | None:
    base = checkout_env() if timing.checkout else _installed_env()
    with tempfile.TemporaryDirectory(prefix="vnuma-cold-cache-") as cold:
        env = _with_cache(base, Path(cold) if timing.cold_cache else warm_cache)
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                timing.command, cwd=REPO, capture_output=True, text=True, timeout=120, env=env
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            timing.error = f"{type(exc).__name__}: {exc}"
            return None
        elapsed = time.perf_counter() - start
    # 0: clean, 1: findings (yamllint: errors; vnuma: errors); anything else failed
    if proc.returncode not in (0, 1):
        timing.error = f"exit {proc.returncode}: {_tail(proc.stderr or proc.stdout)}"
        return None
    timing.exit_codes.add(proc.returncode)
    return elapsed


def paired_ratio(one: Timing, other: Timing) -> float:
    """The median of the per-round ratios (rounds both commands completed)."""
    if one.seconds is None or other.seconds is None:
        raise ValueError("no time")
    if len(one.runs) != len(other.runs) or not one.runs:
        return one.seconds / other.seconds
    return statistics.median(a / b for a, b in zip(one.runs, other.runs, strict=True))


def parse_importtime(stderr: str) -> tuple[list[ImportCost], int | None]:
    """``-X importtime`` lines -> (costs sorted by cumulative time, sum of self times)."""
    costs = []
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) != 3:
            continue
        try:
            self_us, cumulative_us = int(parts[0]), int(parts[1])
        except ValueError:  # the header line
            continue
        costs.append(ImportCost(parts[2].strip(), self_us, cumulative_us))
    total = sum(c.self_us for c in costs) if costs else None
    return sorted(costs, key=lambda c: -c.cumulative_us), total


def _probe_python(timings: list[Timing]) -> tuple[str, dict[str, str], str]:
    """(interpreter, environment, description) for in-process measurements: vnuma's own
    venv when it was installed (no `.pth` files of the benchmark's Python), else the
    benchmark's Python on this checkout."""
    installed = next(
        (t for t in timings if t.tool == "vnuma" and not t.checkout and t.command), None
    )
    if installed is not None:
        return str(Path(installed.command[0]).parent / "python"), _installed_env(), "vnuma's venv"
    return sys.executable, checkout_env(), "the benchmark's Python, this checkout"


def import_budget(
    timings: list[Timing], warm_cache: Path
) -> tuple[list[ImportCost], int | None, str, str]:
    python, env, label = _probe_python(timings)
    env = _with_cache(env, warm_cache)
    cmd = [python, "-X", "importtime", "-m", "vnuma", "lint", INTENT, "--host", HOST]
    proc = None
    for _ in range(2):  # the first run warms the page cache, bytecode and snapshot cache
        try:
            proc = subprocess.run(
                cmd, cwd=REPO, capture_output=True, text=True, timeout=120, env=env
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return [], None, f"{type(exc).__name__}: {exc}", label
    assert proc is not None
    costs, total = parse_importtime(proc.stderr)
    if not costs:
        error = f"no importtime lines (exit {proc.returncode}): {_tail(proc.stderr)}"
        return [], None, error, label
    return costs[:TOP_IMPORTS], total, "", label


def run_latency(
    *,
    quick: bool,
    peers: peers_env.PeersEnv,
    runs: int | None = None,
    log: Callable[[str], None] = lambda msg: None,
) -> LatencyResult:
    runs = runs or (QUICK_RUNS if quick else FULL_RUNS)
    bytecode = compile_bytecode()
    timings = commands(peers, installed_vnuma(log) if not quick else (None, "not in --quick"))
    with tempfile.TemporaryDirectory(prefix="vnuma-warm-cache-") as warm:
        _time_rounds(timings, runs, Path(warm))
        for timing in timings:
            if timing.unavailable:
                log(f"latency {timing.label}: not available ({timing.unavailable})")
                continue
            log(
                f"latency {timing.label}: "
                + (_fmt_seconds(timing.seconds) if timing.seconds is not None else timing.error)
            )
        imports, total, error, where = import_budget(timings, Path(warm))
        probe = startup_probe(timings, runs, Path(warm))
    return LatencyResult(
        timings, imports, total, error, peers.describe(), runs, bytecode, probe, where
    )


def startup_probe(timings: list[Timing], runs: int, warm_cache: Path) -> Probe:
    """``startup_probe.py`` in vnuma's venv (its installed copy), else in the benchmark's
    Python on this checkout; medians of every figure over ``runs`` runs after a warm-up
    (with a warm host snapshot cache)."""
    python, env, label = _probe_python(timings)
    env = _with_cache(env, warm_cache)
    probe = Probe(label)
    samples: dict[str, list[float]] = {}
    for i in range(runs + 1):
        try:
            proc = subprocess.run(
                [python, str(PROBE), "lint", INTENT, "--host", HOST],
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=120,
                env=env,
            )
            figures = json.loads(proc.stdout)
        except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
            probe.error = f"{type(exc).__name__}: {exc}"
            return probe
        if proc.returncode != 0 or figures.get("exit") not in (0, 1):
            probe.error = f"exit {proc.returncode}/{figures.get('exit')}: {_tail(proc.stderr)}"
            return probe
        if i:  # the first run warms the page cache
            for key, value in figures.items():
                if isinstance(value, int | float) and key != "exit":
                    samples.setdefault(key, []).append(float(value))
    probe.runs = runs
    probe.figures = {key: statistics.median(values) for key, values in samples.items()}
    return probe


# --------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------


def _fmt_timing(t: Timing) -> str:
    if t.unavailable:
        return f"not available: {t.unavailable}"
    if t.error:
        return f"error: {t.error}"
    return _fmt_seconds(t.seconds) if t.seconds is not None else "—"


def ratio_rows(result: LatencyResult) -> list[tuple[str, str, str, str]]:
    """(vnuma variant, peer, ratio, verdict) for every vnuma x peer pair."""
    rows = []
    for v in (t for t in result.timings if t.tool == "vnuma"):
        for peer, goal in (COLD_GOALS if v.cold_cache else GOALS).items():
            p = next(t for t in result.timings if t.tool == peer)
            if v.seconds is None or p.seconds is None or p.seconds <= 0:
                why = p.unavailable or p.error or v.unavailable or v.error or "no time"
                rows.append((v.label, f"≤ {goal:g}× `{peer}`", "—", f"not available: {why}"))
                continue
            ratio = paired_ratio(v, p)
            verdict = "met" if ratio <= goal else "**not met**"
            cache = "cold cache" if v.cold_cache else "warm cache"
            rows.append((v.label, f"≤ {goal:g}× `{peer}` ({cache})", _fmt_ratio(ratio), verdict))
    return rows


def _median(result: LatencyResult, tool: str, label_part: str = "") -> float | None:
    found = next(
        (
            t
            for t in result.timings
            if t.tool == tool and label_part in t.label and t.seconds and not t.cold_cache
        ),
        None,
    )
    return found.seconds if found is not None else None


def _where_the_time_goes(result: LatencyResult) -> list[str]:
    """The gap to yamllint, split into what vnuma cannot avoid and what is its own code."""
    o = ["### Where vnuma's time goes", ""]
    probe = result.probe
    if probe is None or probe.error or not probe.figures:
        why = probe.error if probe is not None else "not run"
        return [*o, f"`bench/startup_probe.py`: {why or 'no figures'}", ""]
    f = probe.figures

    def ms(key: str) -> str:
        value = f.get(key)
        return _fmt_seconds(value / 1000) if value is not None else "—"

    o.append(
        f"`python bench/startup_probe.py lint {INTENT} --host {HOST}` in {probe.python},"
        f" median of {probe.runs} runs: the same command inside one process, split by"
        " clocks around its steps and counters on `dataclasses._process_class` and"
        " the regular expression compiler `re` calls on a cache miss (`re._compiler.compile`)."
    )
    o.append("")
    o.append("| step | median |")
    o.append("|---|---:|")
    o.append(
        f"| probe start: `json`, `contextlib`, `dataclasses`, `re` imported | {ms('probe_setup_ms')} |"
    )
    o.append(f"| `import vnuma.cli` (argparse, pathlib, diagnostics) | {ms('import_cli_ms')} |")
    o.append(
        f"| `main(['lint', ...])`: the rest of vnuma, PyYAML and lxml imported on use,"
        f" the host and intent parsed, checked, reported | {ms('command_ms')} |"
    )
    o.append(
        f"| of which creating {f.get('dataclasses', 0):.0f} dataclasses (at import) |"
        f" {ms('dataclass_ms')} |"
    )
    o.append(
        f"| of which compiling regular expressions ({f.get('regex_compiles', 0):.0f} patterns"
        f" not in `re`'s cache, PyYAML's included) | {ms('regex_ms')} |"
    )
    o.append("")
    installed = _median(result, "vnuma", "(`pip install .`)")
    floor = _median(result, "floor", "import")
    yamllint = _median(result, "yamllint")
    if installed and floor and yamllint:
        own, room = installed - floor, yamllint - floor
        creation = f.get("dataclass_ms", 0.0) / 1000
        o.append(
            f"The floor row (interpreter start plus the modules vnuma needs from outside,"
            f" in its own venv) takes {_fmt_seconds(floor)}; installed vnuma takes"
            f" {_fmt_seconds(installed)}, so its own code costs {_fmt_seconds(own)}"
            + (" (less than the two medians' noise)" if own <= 0 else "")
            + f", of which {_fmt_seconds(creation)} is creating its dataclasses. yamllint takes"
            f" {_fmt_seconds(yamllint)}: ≤ 1× yamllint leaves vnuma's own code"
            f" {_fmt_seconds(room)}"
            + (
                f", less than creating the dataclasses alone ({_fmt_seconds(creation)})."
                if room < creation
                else "."
            )
        )
        o.append("")
    return o


def render_markdown(result: LatencyResult) -> str:
    """The latency section of RESULTS.md."""
    o: list[str] = []
    a = o.append
    a("## Pre-commit latency: one intent, whole process")
    a("")
    a(
        f"File: `{INTENT}` (host `{HOST}`). Median wall time of the whole process over"
        f" {result.runs} rounds after an untimed warm-up round (each round runs every"
        " command once, in alternating order; a ratio is the median of the per-round"
        " ratios), measured around `subprocess.run`"
        " from `bench/latency.py` (cwd: the repository). vnuma runs"
        f" `lint {INTENT} --host {HOST}`; `check-jsonschema --schemafile {SCHEMA}` validates"
        " the schema only and `yamllint` (default configuration) checks YAML syntax and"
        f" style only, so both do less than vnuma. Peers: {result.peers}. vnuma:"
        f" {result.bytecode}; both vnuma rows run this checkout (`PYTHONPATH`). The"
        " interpreter row is the floor under every vnuma row: the benchmark's Python"
        " runs its site-packages' `.pth` files at start, the peers' venv has none."
        " Host snapshot cache: every vnuma row runs with a warm cache (`XDG_CACHE_HOME`"
        " filled by the warm-up run: no XML parsed, lxml not imported); the *cold cache*"
        " rows get a fresh empty `XDG_CACHE_HOME` for every run (the first run after an"
        " install, or after the snapshot changed: parsed and the entry written)."
    )
    a("")
    a("| tool | run as | median | min – max | exit |")
    a("|---|---|---:|---:|---:|")
    for t in result.timings:
        codes = ",".join(str(c) for c in sorted(t.exit_codes)) or "—"
        a(f"| {t.tool} | {t.label} | {_fmt_timing(t)} | {t.spread} | {codes} |")
    a("")
    a("Goals (vnuma / peer):")
    a("")
    a("| vnuma | goal | ratio | met? |")
    a("|---|---|---:|---|")
    for label, goal, ratio, verdict in ratio_rows(result):
        a(f"| {label} | {goal} | {ratio} | {verdict} |")
    a("")
    o.extend(_where_the_time_goes(result))
    a("### Import budget")
    a("")
    if result.import_error:
        a(f"`python -X importtime -m vnuma lint ...`: {result.import_error}")
        return "\n".join(o) + "\n"
    total = _fmt_seconds(result.import_total_us / 1e6) if result.import_total_us else "—"
    a(
        f"`python -X importtime -m vnuma lint {INTENT} --host {HOST}` in"
        f" {result.import_python}, one run after a warm-up; all imports together (sum of"
        f" self times, `-X importtime` inflates them): {total}. The {TOP_IMPORTS} largest"
        " cumulative times (a package includes everything it imports; `site` is the"
        " interpreter's start, `.pth` files included):"
    )
    a("")
    a("| module | cumulative | self |")
    a("|---|---:|---:|")
    for c in result.imports:
        a(
            f"| `{c.module}` | {_fmt_seconds(c.cumulative_us / 1e6)} | {_fmt_seconds(c.self_us / 1e6)} |"
        )
    return "\n".join(o) + "\n"
