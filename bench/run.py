#!/usr/bin/env python3
"""vnuma benchmarks; writes bench/RESULTS.md.

    python bench/run.py [--sections latency,fleet,placement,scale] [--quick] [--nova-timeout S]
                        [--no-nova] [--no-peers] [--output PATH]

Sections (one module each, each with a function returning rows and one rendering its
Markdown): latency (`latency.py`, single-file `vnuma lint` against check-jsonschema and
yamllint), fleet (`fleet.py`, `vnuma lint` on generated repositories against
virt-xml-validate), placement (`placement.py`, vnuma's solver against OpenStack Nova's
`numa_fit_instance_to_host`) and scale (`scale.py`, a 512-vCPU, 32-cell guest compiled
for a 64-node, 1,024-CPU host, stage by stage and as a whole process). Nova is installed
on demand into `bench/.venv-nova`, the lint peers into `bench/.venv-peers` (both
git-ignored); when that fails the section says why and only vnuma is measured. A Python
that cannot import vnuma's runtime dependencies (a fresh machine's `python3`: no lxml,
PyYAML or jinja2) re-runs the benchmark in `bench/.venv-bench`, a venv it creates with
this checkout installed editable (`pip install -e .`), and says so. For
a subset of the sections the default output is `bench/RESULTS-partial.md` (git-ignored),
so a partial run never overwrites the full report in `bench/RESULTS.md`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
if str(REPO) not in sys.path:
    sys.path.insert(1, str(REPO))  # the checkout's `compiler`, even without an install

import fleet  # noqa: E402
import latency  # noqa: E402
import nova_env  # noqa: E402
import peers_env  # noqa: E402
import placement  # noqa: E402
import scale  # noqa: E402

SECTIONS = ("latency", "fleet", "placement", "scale")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def vnuma_version() -> str:
    try:
        from vnuma import __version__
    except ImportError:
        return "not importable"
    commit = _git("rev-parse", "--short", "HEAD")
    if commit is None:
        return __version__
    text = f"{__version__} (git {commit}"
    if _git("status", "--porcelain", "--untracked-files=no", "--", "compiler"):
        # the working tree is what ran: identify the solver files by content
        digests = ", ".join(
            f"{path.name} {hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"
            for path in [
                *sorted((REPO / "compiler" / "place").glob("*.py")),
                REPO / "compiler" / "solver.py",
            ]
            if path.exists()
        )
        text += f" + uncommitted changes in compiler/: sha256 {digests}"
    return text + ")"


def _git(*args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def machine_section(command: str, tools: list[str], started: float) -> str:
    lines = [
        "## Machine",
        "",
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical CPUs",
        f"- OS: {platform.system()} {platform.release()} ({platform.machine()})",
        f"- Python: {platform.python_version()} ({sys.executable})",
        f"- vnuma: {vnuma_version()}",
        *(f"- {tool}" for tool in tools),
        f"- Date: {time.strftime('%Y-%m-%d %H:%M %Z', time.localtime(started))},"
        f" run took {time.time() - started:.0f} s",
        "",
        "Command:",
        "",
        "```sh",
        command,
        "```",
        "",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="placement: N in {8, 16}, M in {4, 8}, 3 repetitions; latency: 3 runs;"
        " fleet: 200 files; scale: full size, 3 repetitions (CI smoke)",
    )
    ap.add_argument(
        "--nova-timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="per-case limit for Nova (default 60 s)",
    )
    ap.add_argument(
        "--vnuma-timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="per-case limit for vnuma's solver (default 60 s)",
    )
    ap.add_argument("--no-nova", action="store_true", help="placement: measure vnuma only")
    ap.add_argument(
        "--no-peers",
        action="store_true",
        help="latency: do not install or run check-jsonschema / yamllint",
    )
    ap.add_argument("--reps", type=int, default=None, help="repetitions per case (median)")
    ap.add_argument(
        "--output",
        type=Path,
        default=None,
        help="where to write the report (default bench/RESULTS.md for all sections,"
        " bench/RESULTS-partial.md for a subset)",
    )
    args = ap.parse_args(argv)
    args.sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown or not args.sections:
        ap.error(f"--sections: unknown {', '.join(unknown) or '(empty)'}; choose from {SECTIONS}")
    if args.output is None:
        name = "RESULTS.md" if set(args.sections) == set(SECTIONS) else "RESULTS-partial.md"
        args.output = BENCH / name
    return args


RUNTIME_MODULES = ("lxml.etree", "yaml", "jinja2", "vnuma")
BENCH_VENV = BENCH / ".venv-bench"


def _missing_runtime() -> list[str]:
    """vnuma's runtime modules this interpreter cannot import (vnuma: this checkout)."""
    import importlib

    missing = []
    for name in RUNTIME_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name.split(".")[0])
    return missing


def _rerun_in_bench_venv(argv: list[str], missing: list[str]) -> int:
    """Create bench/.venv-bench with this checkout installed editable and run the benchmark
    there (every section runs vnuma from it); exit 2, saying what is needed, when that
    cannot be done."""
    from venvs import install, venv_python

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    log(f"{sys.executable} cannot import {', '.join(missing)}: running in {BENCH_VENV}")
    reason = install(BENCH_VENV, ["-e", str(REPO)], timeout=900, log=log)
    if reason is not None:
        log(
            f"error: the benchmark needs vnuma's dependencies ({', '.join(missing)}): "
            f"creating {BENCH_VENV} failed ({reason}); run it from a venv with "
            "`pip install -e '.[test]'`"
        )
        return 2
    python = str(venv_python(BENCH_VENV))
    env = {**os.environ, "VNUMA_BENCH_IN_VENV": "1"}
    return subprocess.call([python, str(Path(__file__).resolve()), *argv], env=env)


def main(argv: list[str] | None = None) -> int:
    raw_argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    missing = _missing_runtime()
    if missing and not os.environ.get("VNUMA_BENCH_IN_VENV"):
        return _rerun_in_bench_venv(raw_argv, missing)
    if missing:
        print(f"error: {sys.executable} cannot import {', '.join(missing)}", file=sys.stderr)
        return 2
    started = time.time()
    raw = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", "bench/run.py", *raw])

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    tools: list[str] = []
    body: list[str] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="vnuma-bench-") as tmp:
        if "latency" in args.sections or "fleet" in args.sections:
            if args.no_peers:
                peers = peers_env.PeersEnv(None, {}, "skipped with --no-peers")
            else:
                peers = peers_env.ensure_peers(log=log)
            tools.append(f"Lint peers: {peers.describe()}")
        for section in SECTIONS:  # fixed order in the report
            if section not in args.sections:
                continue
            if section == "latency":
                result = latency.run_latency(quick=args.quick, peers=peers, log=log)
                body.append(latency.render_markdown(result))
                failed += [
                    f"latency {t.label}" for t in result.timings if t.tool == "vnuma" and t.error
                ]
            elif section == "fleet":
                rows, validate_status = fleet.run_fleet(
                    quick=args.quick, workdir=Path(tmp), log=log
                )
                tools.append(f"virt-xml-validate: {validate_status}")
                body.append(fleet.render_markdown(rows, validate_status))
                failed += [f"fleet {r.files}" for r in rows if r.vnuma.error]
                failed += [
                    f"fleet {r.files} -j {fleet.JOBS}"
                    for r in rows
                    if r.parallel is not None and (r.parallel.error or r.identical is False)
                ]
            elif section == "scale":
                result_s = scale.run_scale(
                    quick=args.quick, workdir=Path(tmp) / "scale", reps=args.reps, log=log
                )
                body.append(scale.render_markdown(result_s))
                failed += result_s.failed
            else:
                try:
                    placement.import_vnuma_api()
                except placement.SolverUnavailable as exc:
                    log(f"error: {exc}")
                    return 2
                if args.no_nova:
                    env = nova_env.NovaEnv(None, None, "skipped with --no-nova")
                else:
                    env = nova_env.ensure_nova(log=log)
                nova_status = env.describe()
                tools.append(f"Nova: {nova_status}")
                log(nova_status)
                rows_p = placement.run_placement(
                    quick=args.quick,
                    workdir=Path(tmp) / "placement",
                    nova_python=env.python,
                    nova_timeout=args.nova_timeout,
                    vnuma_timeout=args.vnuma_timeout,
                    reps=args.reps,
                    log=log,
                )
                body.append(placement.render_markdown(rows_p, nova_status, args.nova_timeout))
                failed += [f"placement {r.case.label}" for r in rows_p if r.vnuma.error is not None]
    sections = [
        "# vnuma benchmarks",
        "",
        "Generated by `bench/run.py`; do not edit by hand.",
        "",
        machine_section(command, tools, started),
        "\n".join(body),
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(sections), encoding="utf-8")
    log(f"wrote {args.output}")
    if failed:
        log(f"error: vnuma failed on {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
