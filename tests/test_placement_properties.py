"""Properties of the placement stage (`compiler/place.py`, `compiler/solver.py`).

Random small hosts and intents (`tests/strategies.py`) are checked against an oracle
written here from the documented rules, not from place.py's code:

1. feasibility and optimality agree with a brute force over every injective
   assignment of auto cells to host nodes (least summed distance, then most memory
   left, then lowest ids);
2. every successful placement compiles to schema-valid XML that `vnuma lint --host`
   accepts, with pins that honour `cpu.pinning`, `cpu.threads` and `cpu.reserved`;
3. compiling twice gives the same bytes;
4. a guest placed with `--occupied` beside another is admitted together with it;
5. a "no fit" is truly infeasible and says which node or resource is short.

The default run keeps each property to a few dozen examples; the `slow` marker runs
the same properties with many more (`pytest -m slow tests/test_placement_properties.py`).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import combinations, permutations
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from lxml import etree

from compiler.config import default_config
from compiler.diagnostics import Severity
from compiler.lint import LintOptions, lint
from compiler.load.host import load_host
from compiler.load.intent import load_intent
from compiler.model.host import HostTopology
from compiler.model.intent import Intent
from compiler.pipeline import CompileOptions, CompileOutcome, compile_intent, intent_from_raw
from compiler.place import PlacementResult, place
from tests.strategies import (
    KIB_PER_GIB,
    CellSpec,
    CpuSpec,
    HostSpec,
    IntentSpec,
    NodeSpec,
    hosts,
    intents,
    scenarios,
)

COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FAST = settings(max_examples=60, **COMMON)
QUICK = settings(max_examples=30, **COMMON)
SLOW = settings(max_examples=2000, **COMMON)
PLACEMENT_CODES = {"VN602", "VN603", "VN604", "VN606", "VN607"}
ADMISSION_CODES = {"VN501", "VN502", "VN503"}


# --- files -------------------------------------------------------------------------------


@contextmanager
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="vnuma-prop-") as name:
        yield Path(name)


def write_case(directory: Path, host: HostSpec, spec: IntentSpec) -> tuple[Path, Path]:
    caps = directory / "host.xml"
    caps.write_text(host.caps_xml(), encoding="utf-8")
    intent = directory / f"{spec.name}.yaml"
    intent.write_text(spec.yaml(), encoding="utf-8")
    note(f"host ({host.kind}):\n{host.caps_xml()}")
    note(f"intent:\n{spec.yaml()}")
    return caps, intent


def load_case(caps: Path, intent_path: Path) -> tuple[HostTopology, Intent]:
    host, problems = load_host(caps, caps.name)
    assert host is not None, problems
    intent, diagnostics = intent_from_raw(load_intent(intent_path, intent_path.name))
    assert intent is not None, [d.message for d in diagnostics]
    return host, intent


def errors(diagnostics) -> list:
    return [d for d in diagnostics if d.severity >= Severity.ERROR]


def describe(diagnostics) -> list[str]:
    return [f"{d.code} {d.message}" for d in diagnostics]


# --- the oracle: capacities and fit, from the documented rules ---------------------------


@dataclass(frozen=True)
class Capacity:
    memory_kib: int
    pages: dict[int, int]
    cpus: frozenset[int]
    cores: tuple[tuple[int, ...], ...]
    """Cores whose every thread is usable."""
    has_cpus: bool

    @property
    def weight(self) -> int:
        """Memory left: small-page memory plus the huge page pools, in KiB."""
        return self.memory_kib + sum(size * count for size, count in self.pages.items())


def capacities(host: HostSpec, spec: IntentSpec) -> dict[int, Capacity]:
    """What each node offers the guest: free small-page memory (else total minus pools)
    minus numatune.reserve, free huge pages (else the pool), CPUs minus cpu.reserved."""
    out = {}
    for node in host.nodes:
        small = node.free_kib if node.free_kib is not None else node.memory_kib - node.pool_kib
        free_pages = dict(node.free_pages)
        pages = {size: free_pages.get(size, count) for size, count in node.pools}
        usable = node.cpu_ids - spec.reserved
        cores = tuple(core for core in node.cores() if set(core) <= usable)
        out[node.id] = Capacity(
            max(small - spec.reserve_kib, 0), pages, usable, cores, bool(node.cpus)
        )
    return out


def cpu_fits(vcpus: int, cap: Capacity, spec: IntentSpec) -> bool:
    if vcpus == 0 or spec.pinning == "none":
        return True
    if not cap.has_cpus:
        return False
    if spec.pinning == "node":
        return bool(cap.cpus)
    if spec.threads == "isolate":
        return len(cap.cores) >= vcpus
    if spec.threads == "require":
        pairs = sum(1 for core in cap.cores if len(core) >= 2)
        return vcpus % 2 == 0 and pairs >= vcpus // 2
    return len(cap.cpus) >= vcpus


def memory_fits(memory_kib: int, cap: Capacity, spec: IntentSpec) -> bool:
    if not spec.binds:
        return True
    if spec.page_kib is not None:
        return -(-memory_kib // spec.page_kib) <= cap.pages.get(spec.page_kib, 0)
    return memory_kib <= cap.memory_kib


def auto_fits(cell: CellSpec, cap: Capacity, spec: IntentSpec) -> bool:
    """An automatically placed cell: memory, and CPUs (never a CPU-less node with vCPUs)."""
    if cell.vcpus and not cap.has_cpus:
        return False
    return memory_fits(cell.memory_kib, cap, spec) and cpu_fits(cell.vcpus, cap, spec)


def split_cells(host: HostSpec, spec: IntentSpec, caps: dict[int, Capacity]) -> list[CellSpec]:
    """`cells: N`: contiguous vCPU ranges of whole guest cores (2 threads only for
    dedicated non-isolate pinning on an SMT host with an even vCPU count), memory in
    whole pages (else MiB), the remainders to the first cells. [] when impossible."""
    if spec.form != "count":
        return list(spec.cells)
    threads = 1
    if spec.pinning == "dedicated" and spec.threads != "isolate":
        smt = any(len(core) >= 2 for cap in caps.values() for core in cap.cores)
        threads = 2 if smt and spec.vcpus % 2 == 0 else 1
    n = spec.count
    cores = spec.vcpus // threads
    unit = spec.page_kib or 1024
    if spec.vcpus % threads or cores < n or spec.memory_kib % unit or spec.memory_kib // unit < n:
        return []
    units = spec.memory_kib // unit

    def shares(total: int) -> list[int]:
        base, extra = divmod(total, n)
        return [base + (1 if i < extra else 0) for i in range(n)]

    return [
        CellSpec(c * threads, u * unit)
        for c, u in zip(shares(cores), shares(units), strict=True)
    ]


@dataclass
class Verdict:
    cells: list[CellSpec]
    split_ok: bool
    assign_ok: bool
    fixed_ok: bool
    best: tuple[int, int, tuple[int, ...]] | None
    """(cost counted both ways, -memory left, node ids) of the best auto node set."""
    auto: list[int]
    fixed: list[int]

    @property
    def ok(self) -> bool:
        return self.split_ok and self.assign_ok and self.fixed_ok


def brute_force(host: HostSpec, spec: IntentSpec) -> Verdict:
    caps = capacities(host, spec)
    cells = split_cells(host, spec, caps)
    if not cells:
        return Verdict([], False, False, False, None, [], [])
    auto = [i for i, c in enumerate(cells) if c.node is None]
    fixed = sorted({c.node for c in cells if c.node is not None})
    fixed_ok = all(cpu_fits(cells[i].vcpus, caps[cells[i].node], spec) for i in range(len(cells)) if cells[i].node is not None)  # type: ignore[index]
    candidates = [n for n in host.node_ids if n not in fixed]
    sets: set[tuple[int, ...]] = set()
    for nodes in permutations(candidates, len(auto)):
        if all(auto_fits(cells[i], caps[n], spec) for i, n in zip(auto, nodes, strict=True)):
            sets.add(tuple(sorted(nodes)))
    best = None
    for chosen in sets:
        everyone = [*chosen, *fixed]
        cost = sum(
            host.distance(a, b) + host.distance(b, a) for a, b in combinations(everyone, 2)
        )
        key = (cost, -sum(caps[n].weight for n in chosen), chosen)
        best = key if best is None or key < best else best
    return Verdict(cells, True, bool(sets), fixed_ok, best, auto, fixed)


def placed_nodes(result: PlacementResult) -> list[int | None]:
    """The single host node of each resolved cell, in cell order."""
    assert result.intent is not None
    out: list[int | None] = []
    for cell in sorted(result.intent.cells, key=lambda c: c.index):
        nodes = cell.host_nodes
        out.append(min(nodes) if nodes and len(nodes) == 1 else None)
    return out


NAMES_SOMETHING = re.compile(r"node|CPU|cores?\b|sibling|pages|memory|GiB|MiB|KiB|vCPUs")


def check_against_brute_force(host: HostSpec, spec: IntentSpec) -> PlacementResult:
    verdict = brute_force(host, spec)
    with workdir() as directory:
        host_model, intent = load_case(*write_case(directory, host, spec))
        result = place(intent, host_model)
    note(f"verdict: {verdict}")
    note(f"placement: ok={result.ok} nodes={result.nodes} distance={result.distance}")
    note("\n".join(result.trace))
    note("\n".join(describe(result.diagnostics)))
    event(f"feasible={verdict.ok}")
    assert result.ok == verdict.ok, describe(result.diagnostics)
    if not result.ok:
        check_no_fit_diagnostics(result, verdict)
        return result
    nodes = placed_nodes(result)
    for i, cell in enumerate(verdict.cells):
        if cell.node is not None:
            assert nodes[i] == cell.node
        else:
            assert nodes[i] is not None, f"cell {i} has no single host node"
            caps = capacities(host, spec)
            assert auto_fits(cell, caps[nodes[i]], spec), f"cell {i} does not fit node {nodes[i]}"
    chosen = [nodes[i] for i in verdict.auto]
    assert len(set(chosen)) == len(chosen), f"two auto cells share a node: {chosen}"
    assert not set(chosen) & set(verdict.fixed), "an auto cell shares a fixed cell's node"
    if verdict.auto:
        assert verdict.best is not None
        cost, neg_weight, best_nodes = verdict.best
        assert result.distance == cost // 2, "not the least summed distance"
        caps = capacities(host, spec)
        weight = sum(caps[n].weight for n in chosen)  # type: ignore[index]
        assert weight == -neg_weight, "least distance, but not the most memory left"
        assert tuple(sorted(chosen)) == best_nodes, "equal cost and memory, not the lowest ids"
    return result


def check_no_fit_diagnostics(result: PlacementResult, verdict: Verdict) -> None:
    found = errors(result.diagnostics)
    assert found, "placement failed without an error"
    assert any(d.code.startswith("VN60") for d in found), describe(found)
    for d in found:
        assert d.code.startswith("VN60"), describe(found)
        assert NAMES_SOMETHING.search(d.message), f"names no node or resource: {d.message}"
    codes = {d.code for d in found}
    if not verdict.split_ok:
        assert codes == {"VN606"}, describe(found)
    elif not verdict.assign_ok:
        assert codes <= {"VN602", "VN603", "VN604", "VN607"}, describe(found)
    else:
        assert codes <= {"VN602", "VN607"}, describe(found)


# --- 1 and 5: feasibility, optimality, honest "no fit" -----------------------------------


@FAST
@given(scenarios())
def test_placement_is_exact_against_brute_force(scenario) -> None:
    check_against_brute_force(*scenario)


@pytest.mark.slow
@SLOW
@given(scenarios())
def test_placement_is_exact_against_brute_force_many(scenario) -> None:
    check_against_brute_force(*scenario)


@st.composite
def crowded(draw: st.DrawFn) -> tuple[HostSpec, IntentSpec]:
    """Scenarios that mostly do not fit: big cells on small hosts."""
    host = draw(hosts(max_nodes=4))
    spec = draw(intents(host, fixed=False, max_cell_gib=48))
    return host, spec


@FAST
@given(crowded())
def test_no_fit_is_true_and_explained(scenario) -> None:
    host, spec = scenario
    result = check_against_brute_force(host, spec)
    event(f"placed={result.ok}")


@pytest.mark.slow
@SLOW
@given(crowded())
def test_no_fit_is_true_and_explained_many(scenario) -> None:
    check_against_brute_force(*scenario)


# --- 2 and 3: compiled output ------------------------------------------------------------


def check_stage_rejects(host: HostSpec, spec: IntentSpec) -> bool:
    """Errors the check stage reports for things placement does not decide: fixed cells
    that do not fit their node (VN203/VN206), and huge pages beyond all the host's pools
    in any mode (VN206 "the guest needs N pages, the host's pools hold M in all")."""
    if spec.page_kib is not None:
        pool = sum(count for n in host.nodes for size, count in n.pools if size == spec.page_kib)
        if -(-spec.memory_kib // spec.page_kib) > pool:
            return True
    for cell in spec.cells:
        if cell.node is None or not spec.binds:
            continue
        node = host.node(cell.node)
        if spec.page_kib is not None:
            have = dict(node.pools).get(spec.page_kib, 0)
            if -(-cell.memory_kib // spec.page_kib) > have:
                return True
        elif cell.memory_kib > node.memory_kib - node.pool_kib:
            return True
    return False


def parse_cpuset(text: str) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            out.update(range(int(a), int(b) + 1))
        else:
            out.add(int(part))
    return out


def check_pins(xml: str, host: HostSpec, spec: IntentSpec) -> None:
    root = etree.fromstring(xml.encode())
    pins: dict[int, list[set[int]]] = {}
    for pin in root.findall("cputune/vcpupin"):
        pins.setdefault(int(pin.get("vcpu")), []).append(parse_cpuset(pin.get("cpuset")))
    emulator = root.find("cputune/emulatorpin")
    emulator_cpus = parse_cpuset(emulator.get("cpuset")) if emulator is not None else set()
    cell_node = {
        int(m.get("cellid")): parse_cpuset(m.get("nodeset")) for m in root.findall("numatune/memnode")
    }
    vcpu_cell = {}
    for cell in root.findall("cpu/numa/cell"):
        if cell.get("cpus"):
            for v in parse_cpuset(cell.get("cpus")):
                vcpu_cell[v] = int(cell.get("id"))
    siblings = host.sibling_map()
    node_cpus = {n.id: n.cpu_ids for n in host.nodes}

    def home(v: int) -> set[int]:
        (node,) = cell_node[vcpu_cell[v]]
        return set(node_cpus[node])

    if spec.pinning == "none":
        assert not pins, "pins without cpu.pinning"
        return
    assert sorted(pins) == list(range(spec.vcpus)), f"pinned vCPUs {sorted(pins)}"
    assert all(len(sets) == 1 for sets in pins.values()), "a vCPU pinned twice"
    pin = {v: sets[0] for v, sets in pins.items()}
    if spec.pinning == "node":
        for v, cpus in pin.items():
            assert cpus == home(v) - spec.reserved, f"vCPU {v} floats over {cpus}"
        return
    assert all(len(cpus) == 1 for cpus in pin.values()), "a dedicated vCPU on several CPUs"
    cpu = {v: min(cpus) for v, cpus in pin.items()}
    assert len(set(cpu.values())) == len(cpu), "two vCPUs share a host CPU"
    assert not set(cpu.values()) & spec.reserved, "a vCPU on a reserved CPU"
    for v, c in cpu.items():
        assert c in home(v), f"vCPU {v} on CPU {c}, outside its cell's host node"
    used = set(cpu.values())
    if spec.threads == "isolate":
        for c in used:
            assert not (siblings[c] - {c}) & used, f"CPU {c} and a sibling both hold vCPUs"
    if spec.threads == "require":
        for v in range(0, spec.vcpus, 2):
            a, b = cpu[v], cpu[v + 1]
            assert a != b and b in siblings[a], f"vCPUs {v},{v + 1} on CPUs {a},{b}: not siblings"
    assert not emulator_cpus & used, "emulator pinned on a dedicated vCPU's CPU"
    if spec.threads == "isolate" and emulator_cpus and emulator_cpus != spec.reserved:
        for c in emulator_cpus:
            assert not siblings[c] & used, f"emulator CPU {c} is a sibling of a dedicated vCPU"
    topology = root.find("cpu/topology")
    if topology is not None and topology.get("threads") == "2":
        for v in range(0, spec.vcpus, 2):
            assert cpu[v + 1] in siblings[cpu[v]], "threads=2 but vCPU pairs are not siblings"


def check_topology(xml: str, spec: IntentSpec) -> None:
    topology = etree.fromstring(xml.encode()).find("cpu/topology")
    if not spec.topology_auto:
        assert topology is None
        return
    assert topology is not None
    product = 1
    for attr in ("sockets", "dies", "cores", "threads"):
        product *= int(topology.get(attr))
    assert product == spec.vcpus


def compile_case(directory: Path, caps: Path, intent: Path, occupied=()) -> CompileOutcome:
    return compile_intent(
        CompileOptions(intent_path=intent, host_path=caps, occupied=tuple(occupied))
    )


def check_compiled_output(host: HostSpec, spec: IntentSpec) -> None:
    verdict = brute_force(host, spec)
    event(f"placeable={verdict.ok}")
    if not verdict.ok or check_stage_rejects(host, spec):
        return
    with workdir() as directory:
        caps, intent = write_case(directory, host, spec)
        outcome = compile_case(directory, caps, intent)
        note("\n".join(outcome.trace))
        assert not any(d.code == "VN301" for d in outcome.diagnostics), describe(
            outcome.diagnostics
        )
        assert not outcome.has_errors, describe(outcome.diagnostics)
        assert outcome.xml is not None
        note(outcome.xml)
        again = compile_case(directory, caps, intent)
        assert again.xml == outcome.xml, "compiling twice gave different XML"
        out = directory / "out" / f"{spec.name}.xml"
        out.parent.mkdir()
        out.write_text(outcome.xml, encoding="utf-8")
        report = lint(LintOptions(paths=(out,), config=default_config(directory), host_path=caps))
        assert not errors(report.diagnostics), describe(report.diagnostics)
    check_pins(outcome.xml, host, spec)
    check_topology(outcome.xml, spec)
    event("compiled")


@st.composite
def roomy(draw: st.DrawFn) -> tuple[HostSpec, IntentSpec]:
    """Scenarios that mostly fit: cells of up to 8 GiB."""
    host = draw(hosts())
    return host, draw(intents(host, max_cell_gib=8))


@FAST
@given(roomy())
def test_placement_compiles_lints_and_pins(scenario) -> None:
    check_compiled_output(*scenario)


@pytest.mark.slow
@SLOW
@given(roomy())
def test_placement_compiles_lints_and_pins_many(scenario) -> None:
    check_compiled_output(*scenario)


# --- 4: sequential admission -------------------------------------------------------------


@st.composite
def two_guests(draw: st.DrawFn) -> tuple[HostSpec, IntentSpec, IntentSpec]:
    host = draw(hosts(max_nodes=4))
    first = draw(intents(host, max_cell_gib=16, name="a"))
    second = draw(intents(host, max_cell_gib=16, fixed=False, name="b"))
    return host, first, second


def check_sequential_admission(host: HostSpec, a: IntentSpec, b: IntentSpec) -> None:
    with workdir() as directory:
        caps, a_intent = write_case(directory, host, a)
        b_intent = directory / "b.yaml"
        b_intent.write_text(b.yaml(), encoding="utf-8")
        note(f"second intent:\n{b.yaml()}")
        guests = directory / "guests"
        guests.mkdir()
        first = compile_case(directory, caps, a_intent)
        if first.xml is None:
            event("first guest does not fit")
            return
        (guests / "a.xml").write_text(first.xml, encoding="utf-8")
        second = compile_case(directory, caps, b_intent, occupied=[guests / "a.xml"])
        note("\n".join(second.trace))
        if second.xml is None:
            event("second guest does not fit beside the first")
            return
        (guests / "b.xml").write_text(second.xml, encoding="utf-8")
        note(f"a.xml:\n{first.xml}\nb.xml:\n{second.xml}")
        report = lint(
            LintOptions(paths=(guests,), config=default_config(directory), host_path=caps)
        )
        found = [d for d in report.diagnostics if d.code in ADMISSION_CODES]
        event("both placed")
        assert not found, describe(found)


@FAST
@given(two_guests())
def test_guest_placed_beside_another_is_admitted(scenario) -> None:
    check_sequential_admission(*scenario)


@pytest.mark.slow
@SLOW
@given(two_guests())
def test_guest_placed_beside_another_is_admitted_many(scenario) -> None:
    check_sequential_admission(*scenario)
