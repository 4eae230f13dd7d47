"""A small, dependency-free mutation tester for vnuma (no mutmut: the project keeps its
dependencies minimal).

For each target module it parses the source with `ast`, lists every mutant (one small
change each), and for each mutant, in a private copy of the checkout:

1. writes the mutated module in place of the original (the copy's, never the checkout's),
2. runs the tests relevant to that module (``RELEVANT`` below) with ``pytest -x``,
3. if they pass, runs the whole default suite with ``-x``,
4. records the mutant as *killed* (a test failed, or the run timed out) or *survived*.

The copy holds compiler/, tests/, schemas/, templates/, samples/, docs/, bench/, .ci/ and the
top-level files, plus a ``vnuma`` symlink to the copy's compiler/; the copy's directory
comes first on PYTHONPATH, so ``import vnuma`` resolves to the copy (checked before the
run), not to the editable install of the checkout.

Mutations (source-level, so the rest of the file is byte for byte the original):
``+``/``-`` and ``+=``/``-=`` swapped; comparisons ``<``<->``<=``,
``>``<->``>=``, ``==``<->``!=``, ``is``<->``is not``, ``in``<->``not in``; ``and``<->``or``;
``not X`` -> ``X``; ``True``<->``False``; an integer constant n -> n+1; ``break`` -> ``pass``,
``continue`` -> ``break``; ``return X`` -> ``return None`` for non-trivial X. Code inside
f-strings (messages), ``assert`` statements, docstrings, annotations, module-level
assignments (constant tables) and ``if TYPE_CHECKING:`` blocks is not mutated.

Each mutant has a stable key that does not depend on line numbers (others edit these
files): ``module | stripped line text | mutation | occurrence on that line``. Keys of
known equivalent mutants, each with its reason, live in docs/mutation_equivalents.json;
the score is killed / (mutants - equivalent).

Usage (from the checkout, with the venv active)::

    nice -n 10 python docs/mutation.py                       # every target, docs/mutation.md
    python docs/mutation.py --modules compiler/sizes.py --limit 20 --seed 3 --jobs 2
    python docs/mutation.py --list                           # the mutants, nothing run
    python docs/mutation.py --rerun-survivors                # only last run's survivors
    nice -n 10 python docs/mutation.py --budget-minutes 60   # stop starting mutants after 60 min
    python docs/mutation.py --from-log sweep.log --tree-from REV  # a sweep cut short

A sweep runs the mutants in a shuffled order (``--seed``), so one cut short (by
``--budget-minutes``, or killed: ``--from-log`` rebuilds its results from the progress lines
it printed, against the tree it mutated) measured a uniform random sample of them; the
report says how many of the population that is.

Results go to docs/mutation-results.json (every mutant's outcome; ``--rerun-survivors``
reads it) and the report to docs/mutation.md.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import json
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
EQUIVALENTS = DOCS / "mutation_equivalents.json"
RESULTS = DOCS / "mutation-results.json"
REPORT = DOCS / "mutation.md"

DEFAULT_MODULES = [
    "compiler/model/capacity.py",
    "compiler/model/flow.py",
    "compiler/place/nodes.py",
    "compiler/place/cpus.py",
    "compiler/rules/host.py",
    "compiler/rules/admission.py",
    "compiler/cpusets.py",
    "compiler/sizes.py",
]
# Tests that exercise each module directly, fastest first; the whole suite runs after them.
RELEVANT: dict[str, list[str]] = {
    "compiler/model/capacity.py": [
        "tests/test_capacity_model.py",
        "tests/test_admission.py",
        "tests/test_boundaries.py",
        "tests/test_spine.py",
        "tests/test_show.py",
    ],
    "compiler/model/flow.py": [
        "tests/test_capacity_model.py",
        "tests/test_capacity_oracle.py",
        "tests/test_admission.py",
    ],
    "compiler/place/nodes.py": [
        "tests/test_capacity_model.py",
        "tests/test_boundaries.py",
        "tests/test_placement_cli.py",
        "tests/test_placement_properties.py",
    ],
    "compiler/place/cpus.py": [
        "tests/test_capacity_model.py",
        "tests/test_boundaries.py",
        "tests/test_placement_cli.py",
        "tests/test_placement_properties.py",
    ],
    "compiler/rules/host.py": [
        "tests/test_capacity_model.py",
        "tests/test_boundaries.py",
        "tests/test_rules.py",
        "tests/test_domain_rules.py",
    ],
    "compiler/rules/admission.py": ["tests/test_boundaries.py", "tests/test_admission.py"],
    "compiler/cpusets.py": ["tests/test_boundaries.py", "tests/test_values.py"],
    "compiler/sizes.py": ["tests/test_boundaries.py", "tests/test_values.py"],
}
COPIED = [
    "compiler", "tests", "schemas", "templates", "samples", "docs", "bench", ".ci",
    "pyproject.toml", "README.md", ".pre-commit-hooks.yaml", ".gitignore",
]  # fmt: skip
PYTEST = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "--no-header"]


# --- mutants ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    module: str
    line: int
    text: str  # the original line, stripped
    change: str  # e.g. "Lt -> LtE"
    occurrence: int  # the n-th mutation of this kind on this line text
    start: int  # byte offsets into the source
    end: int
    replacement: str

    @property
    def key(self) -> str:
        return f"{self.module} | {self.text} | {self.change} | {self.occurrence}"

    def apply(self, source: bytes) -> bytes:
        return source[: self.start] + self.replacement.encode() + source[self.end :]


SWAP_BIN = {ast.Add: ("+", "-", "Add -> Sub"), ast.Sub: ("-", "+", "Sub -> Add")}
SWAP_CMP = {
    ast.Lt: ("<", "<=", "Lt -> LtE"),
    ast.LtE: ("<=", "<", "LtE -> Lt"),
    ast.Gt: (">", ">=", "Gt -> GtE"),
    ast.GtE: (">=", ">", "GtE -> Gt"),
    ast.Eq: ("==", "!=", "Eq -> NotEq"),
    ast.NotEq: ("!=", "==", "NotEq -> Eq"),
    ast.Is: ("is", "is not", "Is -> IsNot"),
    ast.IsNot: ("is not", "is", "IsNot -> Is"),
    ast.In: ("in", "not in", "In -> NotIn"),
    ast.NotIn: ("not in", "in", "NotIn -> In"),
}


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, source: bytes) -> None:
        self.module = module
        self.source = source
        self.lines = source.split(b"\n")
        self.offsets = [0]
        for line in self.lines:
            self.offsets.append(self.offsets[-1] + len(line) + 1)
        self.found: list[tuple[int, str, int, int, str]] = []

    # positions ---------------------------------------------------------------------------
    def _offset(self, line: int, col: int) -> int:
        return self.offsets[line - 1] + col

    def _start(self, node: ast.AST) -> int:
        return self._offset(node.lineno, node.col_offset)

    def _end(self, node: ast.AST) -> int:
        return self._offset(node.end_lineno, node.end_col_offset)

    def _add(self, line: int, change: str, start: int, end: int, replacement: str) -> None:
        self.found.append((line, change, start, end, replacement))

    def _between(self, a: ast.AST, b: ast.AST, token: str) -> tuple[int, int] | None:
        """Byte span of ``token`` in the text between node a's end and node b's start."""
        lo, hi = self._end(a), self._start(b)
        region = self.source[lo:hi]
        if b"#" in region:
            return None
        words = region.replace(b"(", b" ").replace(b")", b" ").split()
        wanted = token.encode().split()
        if words != wanted:
            return None
        first = region.find(wanted[0])
        last = region.rfind(wanted[-1]) + len(wanted[-1])
        return lo + first, lo + last

    # skipped regions ---------------------------------------------------------------------
    def visit_Module(self, node: ast.Module) -> None:
        for statement in node.body:  # module-level constants are data, not logic
            if not isinstance(statement, ast.Assign | ast.AnnAssign | ast.Import | ast.ImportFrom):
                self.visit(statement)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        return  # messages: not mutated

    def visit_Assert(self, node: ast.Assert) -> None:
        return

    def visit_If(self, node: ast.If) -> None:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)

    def visit_arguments(self, node: ast.arguments) -> None:
        for default in [*node.defaults, *node.kw_defaults]:
            if default is not None:
                self.visit(default)

    def _body_without_docstring(self, node) -> None:
        body = node.body
        if (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            body = body[1:]
        for decorator in getattr(node, "decorator_list", []):
            self.visit(decorator)
        if hasattr(node, "args"):
            self.visit(node.args)
        for statement in body:
            self.visit(statement)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._body_without_docstring(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._body_without_docstring(node)

    # mutations ---------------------------------------------------------------------------
    def visit_BinOp(self, node: ast.BinOp) -> None:
        swap = SWAP_BIN.get(type(node.op))
        if swap:
            span = self._between(node.left, node.right, swap[0])
            if span:
                self._add(node.lineno, swap[2], *span, swap[1])
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        swap = SWAP_BIN.get(type(node.op))
        if swap:
            span = self._between(node.target, node.value, swap[0] + "=")
            if span:
                self._add(node.lineno, "Aug" + swap[2], *span, swap[1] + "=")
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            swap = SWAP_CMP.get(type(op))
            if swap:
                span = self._between(left, right, swap[0])
                if span:
                    self._add(right.lineno, swap[2], *span, swap[1])
            left = right
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        word, other = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
        for a, b in zip(node.values, node.values[1:], strict=False):
            span = self._between(a, b, word)
            if span:
                self._add(b.lineno, f"{word} -> {other}", *span, other)
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):
            self._add(node.lineno, "not X -> X", self._start(node), self._start(node.operand), "")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool):
            self._add(node.lineno, f"{value} -> {not value}", self._start(node), self._end(node),
                      str(not value))  # fmt: skip
        elif isinstance(value, int):
            self._add(node.lineno, f"int {value} -> {value + 1}", self._start(node),
                      self._end(node), str(value + 1))  # fmt: skip

    def visit_Break(self, node: ast.Break) -> None:
        self._add(node.lineno, "break -> pass", self._start(node), self._end(node), "pass")

    def visit_Continue(self, node: ast.Continue) -> None:
        self._add(node.lineno, "continue -> break", self._start(node), self._end(node), "break")

    def visit_Return(self, node: ast.Return) -> None:
        value = node.value
        if value is not None and not (isinstance(value, ast.Constant) and value.value is None):
            self._add(node.lineno, "return X -> return None", self._start(value), self._end(value),
                      "None")  # fmt: skip
        self.generic_visit(node)


def mutants_of(module: str, root: Path = REPO) -> list[Mutant]:
    source = (root / module).read_bytes()
    collector = _Collector(module, source)
    collector.visit(ast.parse(source))
    seen: dict[tuple[str, str], int] = {}
    result = []
    for line, change, start, end, replacement in sorted(collector.found, key=lambda f: f[2]):
        text = collector.lines[line - 1].decode().strip()
        occurrence = seen.get((text, change), 0)
        seen[(text, change)] = occurrence + 1
        mutant = Mutant(module, line, text, change, occurrence, start, end, replacement)
        mutated = mutant.apply(source)
        try:
            ast.parse(mutated)
        except SyntaxError:  # e.g. `not` removed where the operand needs it; skip
            continue
        result.append(mutant)
    return result


# --- running ---------------------------------------------------------------------------------


SOURCE = REPO  # where the copies come from (--tree-from REV: the checkout with REV's compiler/)


def make_copy(base: Path, source: Path | None = None) -> Path:
    source = source or SOURCE
    base.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", "mutation-results.json")
    for name in COPIED:
        src = source / name
        if src.is_dir():
            shutil.copytree(src, base / name, ignore=ignore, symlinks=True)
        elif src.exists():
            shutil.copy2(src, base / name)
    if not (base / "vnuma").exists():
        (base / "vnuma").symlink_to("compiler", target_is_directory=True)
    return base


def pristine_from(rev: str) -> Path:
    """A copy of the checkout whose compiler/ is that of git revision ``rev`` (while others
    edit compiler/ in the working tree, a sweep can measure the tests against a fixed one)."""
    global SOURCE
    base = make_copy(Path(tempfile.mkdtemp(prefix="vnuma-mutation-src-")) / "src", REPO)
    shutil.rmtree(base / "compiler")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "compiler"],
                             capture_output=True, check=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
    SOURCE = base
    return base


def env_for(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(copy), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # a same-size mutant in the same second: no stale .pyc
    env.pop("PYTEST_ADDOPTS", None)
    return env


def check_copy(copy: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import vnuma; print(vnuma.__file__)"],
        cwd=copy, env=env_for(copy), capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if not Path(out).resolve().is_relative_to(copy.resolve()):
        raise SystemExit(f"`import vnuma` in the copy resolves to {out}, not to {copy}")


def run_pytest(copy: Path, args: list[str], timeout: float) -> tuple[str, float, str]:
    """("pass" | "fail" | "timeout", seconds, last output line)."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [*PYTEST, *args], cwd=copy, env=env_for(copy), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return "timeout", time.monotonic() - started, f"timed out after {timeout:.0f}s"
    lines = [line for line in out.strip().splitlines() if line.strip()]
    failed = next((line for line in lines if line.startswith(("FAILED", "ERROR"))), "")
    last = failed or (lines[-1] if lines else "")
    return ("pass" if proc.returncode == 0 else "fail"), time.monotonic() - started, last


@dataclass
class Outcome:
    key: str
    module: str
    line: int
    text: str
    change: str
    status: str  # killed | survived | equivalent-survived | equivalent-killed
    stage: str  # relevant | suite | timeout | -
    seconds: float
    detail: str


def run_mutant(mutant: Mutant, copy: Path, timeout: float, equivalent: dict) -> Outcome:
    path = copy / mutant.module
    original = path.read_bytes()
    path.write_bytes(mutant.apply(original))
    status, stage, detail, total = "survived", "-", "", 0.0
    try:
        relevant = [t for t in RELEVANT.get(mutant.module, []) if (copy / t).exists()]
        for stage_name, args in (("relevant", relevant), ("suite", [])):
            if stage_name == "relevant" and not relevant:
                continue
            result, seconds, last = run_pytest(copy, args, timeout)
            total += seconds
            if result != "pass":
                status, stage, detail = (
                    "killed",
                    stage_name if result == "fail" else "timeout",
                    last,
                )
                break
    finally:
        path.write_bytes(original)
    if mutant.key in equivalent:
        status = "equivalent-" + status
    return Outcome(mutant.key, mutant.module, mutant.line, mutant.text, mutant.change, status,
                   stage, round(total, 1), detail)  # fmt: skip


def load_equivalents() -> dict[str, dict]:
    if not EQUIVALENTS.exists():
        return {}
    return {entry["key"]: entry for entry in json.loads(EQUIVALENTS.read_text())}


def sweep(
    mutants: list[Mutant], jobs: int, timeout: float, keep: bool, budget: float | None = None
) -> list[Outcome]:
    """Every mutant's outcome; with ``budget`` (seconds), mutants not started by then are
    skipped (the ones running finish)."""
    workdir = Path(tempfile.mkdtemp(prefix="vnuma-mutation-"))
    copies: queue.Queue[Path] = queue.Queue()
    for i in range(jobs):
        copy = make_copy(workdir / f"w{i}")
        check_copy(copy)
        copies.put(copy)
    equivalent = load_equivalents()
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    deadline = None if budget is None else time.monotonic() + budget

    def work(mutant: Mutant) -> Outcome | None:
        if deadline is not None and time.monotonic() > deadline:
            return None
        copy = copies.get()
        try:
            return run_mutant(mutant, copy, timeout, equivalent)
        finally:
            copies.put(copy)

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(work, m) for m in mutants]
            for n, future in enumerate(concurrent.futures.as_completed(futures), 1):
                outcome = future.result()
                if outcome is None:
                    continue
                with lock:
                    outcomes.append(outcome)
                mark = "." if outcome.status.endswith("killed") else "S"
                print(f"[{n}/{len(mutants)}] {mark} {outcome.status:20} {outcome.stage:8} "
                      f"{outcome.seconds:6.1f}s {outcome.key}", flush=True)  # fmt: skip
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return outcomes


def baseline(jobs_copy: Path, modules: list[str], timeout: float) -> list[str]:
    """Run the unmutated tests once. Tests that already fail (others' work in progress) are
    deselected from every mutant's runs and listed in the report."""
    proc = subprocess.run(
        [x for x in PYTEST if x != "-x"] + ["-rf"], cwd=jobs_copy, env=env_for(jobs_copy),
        capture_output=True, text=True, timeout=timeout * 3, check=False,
    )  # fmt: skip
    failing = [
        line.split()[1]
        for line in proc.stdout.splitlines()
        if line.startswith(("FAILED ", "ERROR "))
    ]
    print(f"baseline suite: {proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ''}; "
          f"deselected from now on: {failing}", flush=True)  # fmt: skip
    PYTEST.extend(f"--deselect={node}" for node in failing)
    return failing


# --- report ---------------------------------------------------------------------------------


def write_report(
    outcomes: list[Outcome],
    command: str,
    elapsed: float,
    path: Path,
    failing: list[str],
    population: int,
    reruns: int,
) -> None:
    equivalent = load_equivalents()
    modules = sorted({o.module for o in outcomes})
    rows, total_k, total_n, total_e = [], 0, 0, 0
    for module in modules:
        mine = [o for o in outcomes if o.module == module]
        eq = sum(1 for o in mine if o.status.startswith("equivalent"))
        killed = sum(1 for o in mine if o.status == "killed")
        counted = len(mine) - eq
        rows.append(f"| `{module}` | {len(mine)} | {eq} | {killed} | {counted - killed} | "
                    f"{100 * killed / counted if counted else 100:.1f}% |")  # fmt: skip
        total_k, total_n, total_e = total_k + killed, total_n + len(mine), total_e + eq
    counted = total_n - total_e
    score = 100 * total_k / counted if counted else 100.0
    lines = [
        "# Mutation testing",
        "",
        "Generated by `docs/mutation.py` (see its docstring for the mutation operators, the copy "
        "of the tree it mutates and how a mutant is run). Do not edit by hand; the explanations "
        "come from `docs/mutation_equivalents.json`.",
        "",
        f"Command: `{command}`",
        "",
        f"Run time: {elapsed / 60:.1f} min for {total_n} mutants.",
        "",
        *(
            [
                f"A sample: {total_n} of the {population} mutants the operators make in these "
                "modules: a seeded `--limit` per module, or a sweep cut short (it runs the "
                "mutants in a seeded shuffled order, so the ones it reached are a uniform random "
                "sample); a full sweep runs every one.",
                "",
            ]
            if total_n < population
            else []
        ),
        *(
            [
                f"Survivors were re-run {reruns} time(s) with `--rerun-survivors` after the "
                "tests that kill them were added; the table is the merged result.",
                "",
            ]
            if reruns
            else []
        ),
        "| module | mutants | equivalent | killed | survived | score |",
        "|---|---|---|---|---|---|",
        *rows,
        f"| **all** | {total_n} | {total_e} | {total_k} | {counted - total_k} | **{score:.1f}%** |",
        "",
        "Score: killed / (mutants - equivalent). A mutant is killed when the relevant tests, "
        "then the whole default suite (`pytest -x`), fail or time out.",
        "",
        "Tests that failed without any mutant (deselected from every run): "
        + (", ".join(f"`{node}`" for node in failing) or "none")
        + ".",
        "",
        "## Survivors",
        "",
    ]
    survivors = sorted(
        (o for o in outcomes if o.status in ("survived", "equivalent-survived")),
        key=lambda o: (o.module, o.line),
    )
    if not survivors:
        lines.append("None.")
    for o in survivors:
        entry = equivalent.get(o.key)
        why = (
            f"**{entry.get('kind', 'equivalent')}**: {entry['reason']}"
            if entry
            else "**not explained**: add a test that kills it, or an entry in "
            "docs/mutation_equivalents.json"
        )
        lines.append(f"- `{o.module}:{o.line}` `{o.text}` ({o.change}): {why}")
    killed_equivalents = [o for o in outcomes if o.status == "equivalent-killed"]
    if killed_equivalents:
        lines += ["", "## Listed as equivalent but killed (remove them from the list)", ""]
        lines += [f"- `{o.key}`" for o in killed_equivalents]
    lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", nargs="+", default=DEFAULT_MODULES)
    parser.add_argument("--limit", type=int, help="at most N mutants per module (seeded sample)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per pytest run")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--rerun-survivors", action="store_true",
                        help="only the survivors in docs/mutation-results.json; merge the results")  # fmt: skip
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--deselect", action="append", default=[], metavar="NODEID",
                        help="a test that fails without any mutant (others' work in progress); "
                        "repeatable, passed to every pytest run")  # fmt: skip
    parser.add_argument("--tree-from", metavar="REV",
                        help="mutate and test the compiler/ of git revision REV (e.g. HEAD) "
                        "instead of the working tree's")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the copies (debugging)")
    parser.add_argument("--budget-minutes", type=float,
                        help="start no mutant after this many minutes (a random sample)")  # fmt: skip
    parser.add_argument("--from-log", type=Path, metavar="LOG",
                        help="rebuild the results of a sweep cut short from its progress "
                        "lines (use the --tree-from it ran with); nothing is run")  # fmt: skip
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    PYTEST.extend(f"--deselect={node}" for node in args.deselect)
    rng = random.Random(args.seed)
    if args.tree_from:
        pristine_from(args.tree_from)
    mutants: list[Mutant] = []
    for module in args.modules:
        mine = mutants_of(module, SOURCE)
        if args.limit is not None and len(mine) > args.limit:
            mine = sorted(rng.sample(mine, args.limit), key=lambda m: m.start)
        mutants += mine
    previous: dict[str, dict] = {}
    if args.rerun_survivors:
        previous = {o["key"]: o for o in json.loads(args.results.read_text())["outcomes"]}
        again = {k for k, o in previous.items() if o["status"].endswith("survived")}
        mutants = [m for m in mutants if m.key in again]
    if args.list:
        for m in mutants:
            print(f"{m.module}:{m.line}: {m.change}: {m.text}")
        print(f"{len(mutants)} mutants")
        return 0
    started = time.monotonic()
    failing: list[str] = list(args.deselect)
    if args.from_log:
        return _results_from_log(args, mutants)
    if not args.no_baseline:
        workdir = Path(tempfile.mkdtemp(prefix="vnuma-mutation-base-"))
        try:
            copy = make_copy(workdir / "base")
            check_copy(copy)
            failing += baseline(copy, args.modules, args.timeout)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    rng.shuffle(mutants)  # spread slow modules over the workers
    budget = None if args.budget_minutes is None else args.budget_minutes * 60
    outcomes = sweep(mutants, args.jobs, args.timeout, args.keep, budget)
    elapsed = time.monotonic() - started
    population = sum(len(mutants_of(module, SOURCE)) for module in args.modules)
    reruns = 0
    if args.rerun_survivors:
        reruns = json.loads(args.results.read_text()).get("reruns", 0) + 1
        merged = {**previous, **{o.key: asdict(o) for o in outcomes}}
        current = {m.key for module in args.modules for m in mutants_of(module, SOURCE)}
        all_outcomes = [Outcome(**o) for k, o in merged.items() if k in current]
        elapsed = json.loads(args.results.read_text()).get("seconds", elapsed)
        command = json.loads(args.results.read_text()).get("command", "")
    else:
        all_outcomes = outcomes
        command = "nice -n 10 python docs/mutation.py " + " ".join(argv or sys.argv[1:])
    equivalent = load_equivalents()
    for o in all_outcomes:  # the equivalents list may have changed since the run
        base = o.status.removeprefix("equivalent-")
        o.status = f"equivalent-{base}" if o.key in equivalent else base
    _write_results(args, all_outcomes, command, elapsed, failing, population, reruns)
    return 0


def _write_results(
    args: argparse.Namespace,
    all_outcomes: list[Outcome],
    command: str,
    elapsed: float,
    failing: list[str],
    population: int,
    reruns: int,
) -> None:
    args.results.write_text(json.dumps(
        {"command": command, "seconds": round(elapsed), "reruns": reruns,
         "outcomes": [asdict(o) for o in all_outcomes]},
        indent=1,
    ) + "\n")  # fmt: skip
    write_report(all_outcomes, command, elapsed, args.report, failing, population, reruns)
    survived = [o for o in all_outcomes if o.status == "survived"]
    print(f"{len(all_outcomes)} mutants, {len(survived)} non-equivalent survivors; "
          f"report: {args.report}")  # fmt: skip


PROGRESS = re.compile(
    r"^\[\d+/(?P<total>\d+)\] [.S] (?P<status>\S+)\s+(?P<stage>\S+)\s+(?P<seconds>[\d.]+)s "
    r"(?P<key>.+)$"
)


def _results_from_log(args: argparse.Namespace, mutants: list[Mutant]) -> int:
    """The outcomes a sweep printed before it was cut short (it ran them in its shuffled
    order, so they are a random sample); nothing is run."""
    by_key = {m.key: m for m in mutants}
    outcomes: list[Outcome] = []
    seconds = 0.0
    for line in args.from_log.read_text(encoding="utf-8").splitlines():
        match = PROGRESS.match(line)
        if match is None:
            continue
        mutant = by_key.get(match["key"])
        if mutant is None:
            raise SystemExit(f"{args.from_log}: no such mutant in this tree: {match['key']}")
        status = match["status"].removeprefix("equivalent-")
        outcomes.append(Outcome(mutant.key, mutant.module, mutant.line, mutant.text,
                                mutant.change, status, match["stage"],
                                float(match["seconds"]), ""))  # fmt: skip
        seconds += float(match["seconds"])
    equivalent = load_equivalents()
    for o in outcomes:
        o.status = f"equivalent-{o.status}" if o.key in equivalent else o.status
    population = sum(len(mutants_of(module, SOURCE)) for module in args.modules)
    command = f"nice -n 10 python docs/mutation.py --jobs {args.jobs} (cut short, rebuilt with --from-log)"
    _write_results(args, outcomes, command, seconds / max(args.jobs, 1), [], population, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
