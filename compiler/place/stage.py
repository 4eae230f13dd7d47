"""Placement stage: decide what the intent left to vnuma, against one host snapshot.

- `cells: N` becomes N cells: contiguous vCPU ranges that never split a guest core's
  threads, memory split evenly in whole pages (or MiB).
- `nodeset: auto` / `host_nodes: auto`: one distinct host node per guest cell, chosen
  exactly by `solver.choose` (least summed host distance, then most memory left, then
  lowest ids) among the nodes where each cell fits: memory (free memory when the
  snapshot has it, minus `numatune.reserve` and what `--occupied` guests hold), huge
  page pools, CPUs for the pinning policy after `cpu.reserved`.
- `cpu.pinning`: `<vcpupin>` per vCPU inside its cell's node (dedicated: one host CPU
  each, following the core/sibling structure and `cpu.threads`); `<emulatorpin>`;
  `cpu.topology: auto`.

The result is a `Guest` (nothing left open), which the check stage, admission and the
emit stage treat like any other. Every decision is recorded in `trace` for
`vnuma compile --explain`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from vnuma.codes import make_diagnostic
from vnuma.cpusets import format_cpuset
from vnuma.diagnostics import Diagnostic, JsonPath, Severity
from vnuma.model.guest import Guest, GuestCell, MemMode, Pinning, ThreadPolicy
from vnuma.model.host import HostTopology
from vnuma.model.intent import Intent, NumaTuneIntent
from vnuma.model.resolve import resolve
from vnuma.place.cpus import CpuPlacement
from vnuma.place.nodes import (
    CellNeed,
    fits_together,
    grouped_reasons,
    hall_violator,
    isolated_siblings,
    match_cells,
    node_states,
    shortfall,
)
from vnuma.place.solver import Choice, Distances, Problem, choose
from vnuma.sizes import format_kib

MIB = 1024
LOCAL_DISTANCE = 10
DEFAULT_REMOTE_DISTANCE = 20


@dataclass
class PlacementResult:
    guest: Guest | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)
    nodes: tuple[int, ...] = ()
    """The host node of each guest cell, in cell order (empty without cells)."""
    distance: int = 0
    """Summed pairwise host distance between the guest's host nodes."""

    @property
    def ok(self) -> bool:
        return self.guest is not None and not any(
            d.severity >= Severity.ERROR for d in self.diagnostics
        )


# --- the stage -------------------------------------------------------------------------------


def place(
    intent: Intent, host: HostTopology, occupied: Sequence[Guest] = (), *, hints: bool = True
) -> PlacementResult:
    """Resolve the intent's automatic parts; ``hints`` searches for the nearest alternative
    that fits when it does not (off for the trial placements that search)."""
    return _Placement(intent, host, occupied, hints).run()


class _Placement(CpuPlacement):
    def __init__(
        self, intent: Intent, host: HostTopology, occupied: Sequence[Guest], hints: bool
    ) -> None:
        self.hints = hints
        self._hint_cache: dict[tuple[int, ...], str | None] = {}
        self.intent = intent
        self.host = host
        self.occupied = occupied
        self.result = PlacementResult(guest=None)
        numatune = intent.numatune
        self.binds = intent.memory_mode.binds
        self.states = node_states(
            host,
            intent.cpu.reserved,
            numatune.reserve_kib if numatune else 0,
            occupied,
            dedicated=intent.cpu.pinning is Pinning.DEDICATED,
        )
        self.used: set[int] = set()
        self.whole_guest_nodes: frozenset[int] | None = None
        self.bound_by_placement = False
        """A dedicated guest without cells or nodeset: placement chose and bound its nodes."""
        self._preferred_fits: bool | None = None
        self.page_kib = _page(intent)
        """The guest's page size when it uses huge pages (None: small pages)."""
        self._distances: dict[int, dict[int, int]] = {}
        self._signatures: dict[tuple[object, ...], int] = {}
        self._signature_ids: dict[int, int] = {}

    # reporting

    def note(self, text: str) -> None:
        self.result.trace.append(text)

    def fail(self, code: str, message: str, path: JsonPath, hint: str | None = None) -> None:
        self._report(code, message, path, hint=hint)

    def info(self, code: str, message: str, path: JsonPath) -> None:
        self._report(code, message, path, severity=Severity.INFO)

    def _report(
        self,
        code: str,
        message: str,
        path: JsonPath,
        *,
        hint: str | None = None,
        severity: Severity | None = None,
    ) -> None:
        self.result.diagnostics.append(
            make_diagnostic(
                code,
                message,
                self.intent.path,
                self.intent.positions.locate(path),
                hint=hint,
                json_path=path,
                severity=severity,
            )
        )

    @property
    def failed(self) -> bool:
        return any(d.severity >= Severity.ERROR for d in self.result.diagnostics)

    # steps

    def run(self) -> PlacementResult:
        intent = self.intent
        self.note(
            f"host {self.host.source}: {len(self.host.cells)} nodes, {self.host.cpu_count} CPUs"
        )
        split = self.split() if intent.cell_count is not None else intent.cells
        if self.failed or split is None:
            return self.result
        cells = self.assign_nodes(split)
        if self.failed or cells is None:
            return self.result
        numatune = self.resolved_numatune(cells)
        resolved = intent._replace(
            cells=cells, cell_count=None, auto_cells=frozenset(), numatune=numatune
        )
        pins = self.pin(resolved)
        if self.failed:
            return self.result
        emulator = self.emulator(resolved, pins)
        if self.bound_by_placement and resolved.cpu.topology is None:
            resolved = resolved._replace(cpu=resolved.cpu._replace(topology_auto=True))
        topology = self.topology(resolved, pins)
        if self.failed:
            return self.result
        held = (
            isolated_siblings(self.host, (cpu for pin in pins for cpu in pin.cpuset))
            if resolved.cpu.pinning is Pinning.DEDICATED
            and resolved.cpu.threads is ThreadPolicy.ISOLATE
            else frozenset()
        )
        confined = self.confined(resolved, pins, emulator)
        guest = resolve(
            resolved,
            pins=() if confined is not None else tuple(pins),
            vcpu_cpuset=confined,
            emulator_pin=emulator,
            topology=topology,
            held_cpus=held,
        )
        self.result.guest = guest
        self.result.nodes = tuple(
            min(cell.host_nodes) for cell in cells if cell.host_nodes and len(cell.host_nodes) == 1
        )
        return self.result

    # cells: N

    def guest_threads(self) -> int:
        policy = self.intent.cpu
        if policy.topology is not None:
            return policy.topology.threads
        if policy.pinning is not Pinning.DEDICATED or policy.threads is ThreadPolicy.ISOLATE:
            return 1
        smt = any(len(core) >= 2 for state in self.states.values() for core in state.cores)
        count = self.intent.cell_count or 1
        if policy.threads is ThreadPolicy.PREFER and self.intent.vcpus % (2 * count):
            return 1  # "prefer": pairs only when every cell gets whole pairs
        return 2 if smt and self.intent.vcpus % 2 == 0 else 1

    def split(self) -> tuple[GuestCell, ...]:
        intent = self.intent
        count = intent.cell_count or 1
        threads = self.guest_threads()
        cores = intent.vcpus // threads
        if intent.vcpus % threads or cores < count:
            self.fail(
                "VN606",
                f"{intent.vcpus} vCPUs ({cores} guest cores of {threads} thread(s)) cannot be "
                f"split into {count} cells without splitting a core",
                ("cells",),
                hint=f"use at most {max(cores, 1)} cells, or more vCPUs",
            )
            return ()
        page = intent.hugepages[0].size_kib if intent.hugepages else MIB
        if intent.memory_kib % page:
            self.fail(
                "VN606",
                f"memory {format_kib(intent.memory_kib)} is not a whole number of "
                f"{format_kib(page)} units to split",
                ("memory",),
                hint=f"make memory a multiple of {format_kib(page)}",
            )
            return ()
        units = intent.memory_kib // page
        if units < count:
            self.fail(
                "VN606",
                f"memory {format_kib(intent.memory_kib)} is less than one {format_kib(page)} unit "
                f"per cell for {count} cells",
                ("memory",),
            )
            return ()
        core_share = _even_shares(cores, count)
        unit_share = _even_shares(units, count)
        cells, first = [], 0
        for index in range(count):
            vcpus = core_share[index] * threads
            cells.append(
                GuestCell(
                    index=index,
                    id=index,
                    cpus=frozenset(range(first, first + vcpus)),
                    memory_kib=unit_share[index] * page,
                )
            )
            first += vcpus
        if len(set(core_share)) > 1 or len(set(unit_share)) > 1:
            self.info(
                "VN605",
                "uneven split: cells get "
                + ", ".join(f"{len(c.cpus)} vCPUs/{format_kib(c.memory_kib)}" for c in cells),
                ("cells",),
            )
        self.note(
            f"split into {count} cells: "
            + "; ".join(
                f"cell {c.id} vCPUs {format_cpuset(c.cpus)} {format_kib(c.memory_kib)}"
                for c in cells
            )
            + f" (guest cores of {threads} thread(s) kept whole)"
        )
        return tuple(cells)

    # host nodes

    def assign_nodes(self, cells: tuple[GuestCell, ...]) -> tuple[GuestCell, ...] | None:
        intent = self.intent
        nodeset_auto = intent.numatune is not None and intent.numatune.nodeset_auto
        if not cells:
            if nodeset_auto and intent.memory_mode is MemMode.INTERLEAVE:
                return self.assign_interleave()
            if nodeset_auto:
                return self.assign_without_cells()
            if self.dedicated_unbound():
                return self.bind_dedicated_guest()
            return cells
        auto = [
            c
            for c in cells
            if c.index in intent.auto_cells or (nodeset_auto and c.host_nodes is None)
        ]
        placed = {c.index for c in auto}  # a cell's index is its position: one per cell
        if self.occupied:
            self.check_fixed_beside_occupied([c for c in cells if c.index not in placed])
            if self.failed:
                return None
        if not auto:
            return cells
        fixed = sorted(
            {n for c in cells if c.index not in placed and c.host_nodes for n in c.host_nodes}
        )
        needs = [self.need(c) for c in auto]
        candidates = [n for n in sorted(self.states) if n not in fixed]
        compatible, fits_on = self._compatible(needs, candidates)
        rejections: dict[str, list[int]] = {}
        for need in needs:
            if len(fits_on[need.index]) == len(candidates):
                continue  # fits every candidate (a subset of them): nothing rejected
            rejected = {n: self.misfit(need, n) for n in candidates if n not in fits_on[need.index]}
            if rejected:
                rejections.setdefault(grouped_reasons(rejected), []).append(need.cell_id)
        for reasons, cell_ids in rejections.items():
            who = (
                f"cells {format_cpuset(frozenset(cell_ids))}"
                if len(cell_ids) > 1
                else (f"cell {cell_ids[0]}")
            )
            self.note(f"{who} cannot go: {reasons}")
        for need in needs:
            if not compatible[need.index]:
                self.no_node_fits(need, candidates)
        if self.failed:
            return None
        usable = sorted(frozenset().union(*fits_on.values()))
        if len(needs) > len(usable):
            others = [n for n in candidates if n not in usable]
            why = f": {self.why_not(needs, others)}" if others else ""
            taken = f"; node(s) {format_cpuset(frozenset(fixed))} hold fixed cells" if fixed else ""
            self.fail(
                "VN603",
                f"{len(needs)} guest cells need distinct host nodes, only {len(usable)} of the "
                f"host's {len(self.states)} node(s) can take any of them "
                f"({format_cpuset(frozenset(usable)) or 'none'}){why}{taken}",
                ("cells",),
                hint=self.alternative_hint(len(usable)),
            )
            return None
        choice = self.solve(needs, usable, fixed, compatible, fits_on)
        if choice is None:
            self.fail(
                "VN604",
                f"no set of {len(needs)} distinct host nodes fits all {len(needs)} cells together "
                f"(each fits somewhere alone): {self.crowded(needs, candidates, compatible)}",
                ("cells",),
                hint=self.alternative_hint(len(needs) - 1),
            )
            return None
        mapping = match_cells(needs, choice.nodes, fits_on)
        self.result.distance = choice.cost // 2
        self.note(
            f"host nodes {format_cpuset(frozenset(choice.nodes) | set(fixed))}: summed distance "
            f"{choice.cost // 2} (least of all feasible sets; ties: most memory left, lowest ids; "
            f"{choice.explored} search steps)"
        )
        for cell in cells:
            node = mapping.get(cell.index)
            if node is None:
                continue
            state = self.states[node]
            self.note(
                f"cell {cell.id} ({len(cell.cpus)} vCPUs, {format_kib(cell.memory_kib)}) -> node "
                f"{node} ({format_kib(state.memory_kib)} small-page memory, "
                f"{len(state.cpus)} usable CPUs)"
            )
        return self.with_host_distances(cells, mapping)

    def check_fixed_beside_occupied(self, cells: list[GuestCell]) -> None:
        """A cell bound by hand to one node must still fit there beside `--occupied` guests
        (alone on the host, the check stage's VN203/VN206 judge it)."""
        for cell in cells:
            if not cell.host_nodes or len(cell.host_nodes) != 1:
                continue
            (node,) = cell.host_nodes
            if node not in self.states:
                continue
            reason = self.misfit(self.need(cell), node)
            if reason is not None:
                self.fail(
                    "VN602",
                    f"guest cell {cell.id} is bound to host node {node}, where it no longer fits "
                    f"beside the occupied guests: {reason}",
                    (*cell.path, "host_nodes"),
                    hint="bind it to another node, or use host_nodes: auto",
                )

    def need(self, cell: GuestCell) -> CellNeed:
        pages = self.intent.page_size_of(cell)
        return CellNeed(
            cell.index, cell.id, len(cell.cpus), cell.memory_kib, pages.size_kib if pages else None
        )

    def misfit(self, need: CellNeed, node: int) -> str | None:
        return shortfall(need, self.states[node], self.intent, self.binds)

    def compatible(self, needs: list[CellNeed], candidates: list[int]) -> dict[int, list[int]]:
        """The candidates each need fits on. Whether a need fits a node depends only on the
        need's size and the node's signature, so each distinct pair is judged once."""
        return self._compatible(needs, candidates)[0]

    def _compatible(
        self, needs: list[CellNeed], candidates: list[int]
    ) -> tuple[dict[int, list[int]], dict[int, frozenset[int]]]:
        """`compatible`, and the same as sets (one set shared by the needs of one size)."""
        by_size: dict[tuple[int, int | None, int], tuple[list[int], frozenset[int]]] = {}
        compatible: dict[int, list[int]] = {}
        fits_on: dict[int, frozenset[int]] = {}
        signature_of = self.signature_ids()
        for need in needs:
            size = (need.vcpus, need.page_kib, need.memory_kib)
            found = by_size.get(size)
            if found is None:
                verdicts: dict[int, bool] = {}
                for node in candidates:
                    signature = signature_of[node]
                    if signature not in verdicts:
                        verdicts[signature] = self.misfit(need, node) is None
                nodes = [n for n in candidates if verdicts[signature_of[n]]]
                found = by_size[size] = (nodes, frozenset(nodes))
            compatible[need.index] = list(found[0])
            fits_on[need.index] = found[1]
        return compatible, fits_on

    def signature_id(self, node: int) -> int:
        """A small number per distinct `NodeState.signature` (equal ids, equal signatures)."""
        return self.signature_ids()[node]

    def signature_ids(self) -> dict[int, int]:
        """`signature_id` of every node, worked out together on first use."""
        if not self._signature_ids:
            ids = self._signatures
            self._signature_ids = {
                node: ids.setdefault(state.signature, len(ids))
                for node, state in self.states.items()
            }
        return self._signature_ids

    def why_not(self, needs: Sequence[CellNeed], nodes: Sequence[int]) -> str:
        """What each of ``needs`` lacks on each of ``nodes``, one group per distinct text."""
        texts: dict[str, list[int]] = {}
        for need in needs:
            text = grouped_reasons({n: self.misfit(need, n) for n in nodes})
            texts.setdefault(text, []).append(need.cell_id)
        if len(texts) == 1:
            return next(iter(texts))
        return "; ".join(f"{_cells_label(ids)}: {text}" for text, ids in texts.items())

    def crowded(
        self, needs: list[CellNeed], candidates: list[int], compatible: dict[int, list[int]]
    ) -> str:
        """Hall's condition where it fails: these cells fit only on fewer nodes, and why
        they fit nowhere else."""
        found = hall_violator(needs, compatible)
        if found is None:  # cannot happen: the solver is exact
            return "no matching of cells onto distinct nodes"
        cells, nodes = found
        text = (
            f"{_cells_label([c.cell_id for c in cells])} fit only on node(s) "
            f"{format_cpuset(frozenset(nodes)) or 'none'} ({len(nodes)} node(s) for "
            f"{len(cells)} cells)"
        )
        others = [n for n in candidates if n not in nodes]
        if others:
            text += f"; elsewhere: {self.why_not(cells, others)}"
        return text

    def preferred_fits(self) -> bool:
        """A trial placement of the intent with `mode: preferred` places (the hint is
        only given when it is true)."""
        if not self.hints or not self.binds:
            return False
        if self._preferred_fits is None:
            trial = self.intent._replace(
                numatune=(self.intent.numatune or NumaTuneIntent())._replace(
                    mode=MemMode.PREFERRED
                ),
            )
            self._preferred_fits = place(trial, self.host, self.occupied, hints=False).ok
        return self._preferred_fits

    def no_node_fits(self, need: CellNeed, candidates: list[int]) -> None:
        detail = grouped_reasons({n: self.misfit(need, n) for n in candidates})
        hint = None
        if self.intent.cell_count is not None:
            more = range(self.intent.cell_count + 1, len(self.states) + 1)
            hint = self.fitting_count(more)
        if hint is None and self.preferred_fits():
            hint = "fits with mode: preferred (memory may then come from other nodes)"
        threads_only = self.intent.cpu.threads is ThreadPolicy.REQUIRE and all(
            "sibling" in (self.misfit(need, n) or "sibling") for n in candidates
        )
        self.fail(
            "VN607" if threads_only and candidates else "VN602",
            f"guest cell {need.cell_id} fits on no host node: {detail}",
            ("cells", need.index) if self.intent.cell_count is None else ("cells",),
            hint=hint or "shrink the cell, split the guest into more cells, or free the host",
        )

    def fitting_count(self, counts: Iterable[int]) -> str | None:
        """The first of ``counts`` for `cells:` that places, as a hint."""
        counts = tuple(counts)
        if not self.hints:
            return None
        if counts not in self._hint_cache:
            self._hint_cache[counts] = next(
                (
                    f"fits with cells: {count}"
                    for count in counts
                    if place(
                        self.intent._replace(cell_count=count),
                        self.host,
                        self.occupied,
                        hints=False,
                    ).ok
                ),
                None,
            )
        return self._hint_cache[counts]

    def alternative_hint(self, nodes: int) -> str:
        if self.intent.cell_count is not None and nodes >= 1:
            hint = self.fitting_count(range(min(nodes, self.intent.cell_count - 1), 0, -1))
            if hint is not None:
                return hint
        if self.preferred_fits():
            return "fits with mode: preferred"
        return "use fewer or smaller cells, or another host (`vnuma fit` compares hosts)"

    def solve(
        self,
        needs: list[CellNeed],
        usable: list[int],
        fixed: list[int],
        compatible: dict[int, list[int]],
        fits_on: dict[int, frozenset[int]],
    ) -> Choice | None:
        def chosen_nodes(chosen: list[tuple[list[int], int]]) -> list[int]:
            return [n for members, count in chosen for n in members[:count]]

        def feasible(chosen: list[tuple[list[int], int]]) -> bool:
            return fits_together(needs, chosen_nodes(chosen), fits_on)

        def possible(chosen: list[tuple[list[int], int]]) -> bool:
            return fits_together(needs, sorted(set(chosen_nodes(chosen))), fits_on)

        problem = Problem(
            candidates=usable,
            k=len(needs),
            fixed=fixed,
            distances=self.distances(fixed),
            weight=self.memory_left,
            # which needs a node fits follows from its signature (see `compatible`)
            signature=self.signature_ids().__getitem__,
            feasible=feasible,
            possible=None if all(compatible[n.index] == usable for n in needs) else possible,
            host_twins=self.host.twins,
        )
        return choose(problem)

    def memory_left(self, node: int) -> int:
        """What the node leaves of the guest's kind of memory (the "most memory left"
        tie-break): its pool of the guest's page size for a huge-page guest, else its
        small-page memory (pools are not memory a small-page cell can use)."""
        state = self.states[node]
        page = self.page_kib
        return state.pages.get(page, 0) * page if page else state.memory_kib

    def distance(self, a: int, b: int) -> int:
        row = self._distances.get(a)
        if row is not None and b in row:
            return row[b]
        return self.distances((a, b))[a][b]

    def distances(self, nodes: Iterable[int] = ()) -> Distances:
        """The host distance between every two of the host's nodes and ``nodes`` (10 local,
        20 remote where the snapshot has none), built once per placement."""
        wanted = set(self.states).union(nodes)
        if not wanted <= self._distances.keys():
            self._distances = _distance_rows(self.host, sorted(wanted))
        return self._distances

    def with_host_distances(
        self, cells: tuple[GuestCell, ...], placed: Mapping[int, int]
    ) -> tuple[GuestCell, ...]:
        """The cells bound to the node ``placed`` chose for them (by cell index), the host's
        distances mirrored in the guest, unless the intent gave its own (one copy of each
        cell for both)."""
        bound = [
            (c, frozenset({placed[c.index]}) if c.index in placed else c.host_nodes) for c in cells
        ]
        distances = self.mirrored_distances(bound)
        if distances is None:
            return tuple(
                c._replace(host_nodes=nodes) if c.index in placed else c for c, nodes in bound
            )
        return tuple(c._replace(host_nodes=nodes, distances=distances[c.id]) for c, nodes in bound)

    def mirrored_distances(
        self, bound: list[tuple[GuestCell, frozenset[int] | None]]
    ) -> dict[int, dict[int, int]] | None:
        """Each cell's distances (by cell id) to the others, mirroring the host's between
        their nodes; None unless every cell is on one node of its own and the intent gave
        no distances."""
        if any(c.distances for c in self.intent.cells) or len(bound) < 2:
            return None
        if not all(nodes and len(nodes) == 1 for _, nodes in bound):
            return None
        node = {c.id: min(nodes or {0}) for c, nodes in bound}
        if len(set(node.values())) < len(node):
            return None  # two cells on one host node: no host distance to mirror
        rows = self.distances(node.values())
        return {
            c.id: {o.id: rows[node[c.id]][node[o.id]] for o, _ in bound if o.id != c.id}
            for c, _ in bound
        }

    def assign_without_cells(self, *, required: bool = True) -> tuple[GuestCell, ...] | None:
        """`nodeset: auto` without cells: the fewest, closest nodes that hold the guest.
        Not ``required`` (a dedicated guest that asked for no binding): when none hold
        it, it stays unbound, as written."""
        intent = self.intent
        whole = CellNeed(0, 0, intent.vcpus, intent.memory_kib, _page(intent))
        candidates = sorted(n for n, s in self.states.items() if s.has_cpus or whole.vcpus == 0)
        for k in range(self.fewest_nodes(whole, candidates), len(candidates) + 1):
            choice = choose(
                Problem(
                    candidates=candidates,
                    k=k,
                    fixed=(),
                    distances=self.distances(),
                    weight=self.memory_left,
                    signature=self.signature_id,
                    feasible=lambda chosen: self.aggregate_fits(whole, chosen),
                    host_twins=self.host.twins,
                )
            )
            if choice is not None:
                self.whole_guest_nodes = frozenset(choice.nodes)
                self.result.distance = choice.cost // 2
                self.note(
                    f"guest without cells -> host node(s) {format_cpuset(self.whole_guest_nodes)} "
                    f"(fewest nodes that hold it, then least distance {choice.cost // 2})"
                )
                return ()
        if not required:
            self.note(
                f"the guest fits no set of host nodes ({self.aggregate_shortfall(whole, candidates)}): "
                "its memory is left unbound and its vCPUs may use every node"
            )
            return ()
        self.fail(
            "VN602",
            f"the guest ({intent.vcpus} vCPUs, {format_kib(intent.memory_kib)}) does not fit the "
            f"host even on all its nodes: {self.aggregate_shortfall(whole, candidates)}",
            ("memory",),
            hint="fits with mode: preferred" if self.preferred_fits() else "use a larger host",
        )
        return None

    def aggregate_shortfall(self, whole: CellNeed, candidates: list[int]) -> str:
        """Which resource all the candidate nodes together lack, and by how much."""
        nodes = [self.states[n] for n in candidates]
        where = f"node(s) {format_cpuset(frozenset(candidates)) or 'none'}"
        parts = []
        if whole.page_kib is not None:
            pages = -(-whole.memory_kib // whole.page_kib)
            have = sum(s.pages.get(whole.page_kib, 0) for s in nodes)
            if self.binds and have < pages:
                parts.append(
                    f"needs {pages} x {format_kib(whole.page_kib)} pages, {where} have {have} "
                    f"(short by {pages - have})"
                )
        elif self.binds:
            have = sum(s.memory_kib for s in nodes)
            if have < whole.memory_kib:
                parts.append(
                    f"needs {format_kib(whole.memory_kib)}, {where} have {format_kib(have)} "
                    f"(short by {format_kib(whole.memory_kib - have)})"
                )
        policy = self.intent.cpu
        if policy.pinning is Pinning.DEDICATED:
            isolate = policy.threads is ThreadPolicy.ISOLATE
            have = sum(len(s.cores) if isolate else len(s.cpus) for s in nodes)
            if have < whole.vcpus:
                what = "whole free cores (threads: isolate)" if isolate else "dedicated CPUs"
                parts.append(f"needs {whole.vcpus} {what}, {where} have {have} free")
        return "; ".join(parts) or f"{where} cannot hold it"

    def dedicated_unbound(self) -> bool:
        """Dedicated pinning, no cells, and no host nodes written for the memory."""
        intent = self.intent
        numatune = intent.numatune
        return (
            intent.cpu.pinning is Pinning.DEDICATED
            and intent.cell_count is None
            and not intent.cells
            and not intent.auto_placement
            and (numatune is None or numatune.nodeset is None)
            and intent.memory_mode is not MemMode.PREFERRED
        )

    def bind_dedicated_guest(self) -> tuple[GuestCell, ...] | None:
        """A dedicated guest without cells or nodeset stays on one node when it fits there
        (its memory bound there), else on the fewest closest nodes that hold its vCPUs and
        memory (its memory bound to them); without a written numatune the mode is strict."""
        before = self.whole_guest_nodes
        result = self.assign_without_cells(required=False)
        if self.whole_guest_nodes is not None and self.whole_guest_nodes != before:
            self.bound_by_placement = True
            nodes = self.whole_guest_nodes
            self.note(
                f"dedicated vCPUs without cells: vCPUs pinned and memory bound "
                f"({self.intent.memory_mode.value}) to host node(s) {format_cpuset(nodes)}"
                + (" (the guest fits one node)" if len(nodes) == 1 else "")
                + "; guest topology follows the pins"
            )
        return result

    def assign_interleave(self) -> tuple[GuestCell, ...] | None:
        """`interleave` with `nodeset: auto` and no cells: interleaving is for bandwidth,
        so spread over every node of one socket that holds the guest; else over the
        fewest whole sockets that hold it (least summed distance, then most memory left,
        then lowest ids); else over every node with CPUs. "Holds" counts memory (the
        pools for a huge-page guest) and dedicated CPUs."""
        whole = CellNeed(0, 0, self.intent.vcpus, self.intent.memory_kib, _page(self.intent))
        groups: dict[tuple[int, ...], list[int]] = {}
        for node in sorted(self.states):
            cell = self.host.cell(node)
            if cell is None or not cell.cpus:
                continue
            socket = tuple(sorted(cell.sockets)) or (-1 - node,)
            groups.setdefault(socket, []).append(node)
        sockets = sorted(groups.values())
        best: tuple[int, int, tuple[int, ...]] | None = None
        for count in range(1, len(sockets) + 1):
            for combo in combinations(sockets, count):
                nodes = sorted(n for group in combo for n in group)
                if not self.holds(whole, nodes):
                    continue
                cost = sum(
                    self.distance(a, b) + self.distance(b, a)
                    for i, a in enumerate(nodes)
                    for b in nodes[i + 1 :]
                )
                rank = (cost, -sum(self.memory_left(n) for n in nodes), tuple(nodes))
                if best is None or rank < best:
                    best = rank
            if best is not None:
                break
        if best is None:
            nodes = sorted(n for group in sockets for n in group)
            why = "no set of whole sockets holds it: every node with CPUs"
        else:
            nodes = list(best[2])
            why = "every node of the fewest, closest sockets that hold it"
            self.result.distance = best[0] // 2
        self.whole_guest_nodes = frozenset(nodes)
        self.note(
            f"interleave without cells -> host node(s) {format_cpuset(self.whole_guest_nodes)} "
            f"({why})"
        )
        return ()

    def holds(self, whole: CellNeed, nodes: list[int]) -> bool:
        """The nodes together hold the guest's memory (pools for huge pages) and CPUs."""
        states = [self.states[n] for n in nodes]
        if whole.page_kib is not None:
            pages = -(-whole.memory_kib // whole.page_kib)
            if sum(s.pages.get(whole.page_kib, 0) for s in states) < pages:
                return False
        elif sum(s.memory_kib for s in states) < whole.memory_kib:
            return False
        policy = self.intent.cpu
        if policy.pinning is Pinning.DEDICATED:
            isolate = policy.threads is ThreadPolicy.ISOLATE
            have = sum(len(s.cores) if isolate else len(s.cpus) for s in states)
            return have >= whole.vcpus
        return True

    def fewest_nodes(self, whole: CellNeed, candidates: list[int]) -> int:
        """A lower bound on how many nodes can hold the guest: the roomiest k must suffice
        for every resource (fewer nodes cannot fit, so the search starts there)."""
        states = [self.states[n] for n in candidates]
        policy = self.intent.cpu
        needs: list[tuple[int, list[int]]] = []
        if whole.page_kib is not None:
            pages = -(-whole.memory_kib // whole.page_kib)
            needs.append((pages, [s.pages.get(whole.page_kib, 0) for s in states]))
        elif self.binds:
            needs.append((whole.memory_kib, [s.memory_kib for s in states]))
        if policy.pinning is Pinning.DEDICATED:
            isolate = policy.threads is ThreadPolicy.ISOLATE
            needs.append((whole.vcpus, [len(s.cores) if isolate else len(s.cpus) for s in states]))
        fewest = 1
        for amount, capacities in needs:
            total, count = 0, 0
            for capacity in sorted(capacities, reverse=True):
                if total >= amount:
                    break
                total += capacity
                count += 1
            fewest = max(fewest, count)
        return fewest

    def aggregate_fits(self, whole: CellNeed, chosen: list[tuple[list[int], int]]) -> bool:
        nodes = [self.states[n] for members, count in chosen for n in members[:count]]
        if whole.page_kib is not None:
            pages = -(-whole.memory_kib // whole.page_kib)
            if self.binds and sum(s.pages.get(whole.page_kib, 0) for s in nodes) < pages:
                return False
        elif self.binds and sum(s.memory_kib for s in nodes) < whole.memory_kib:
            return False
        policy = self.intent.cpu
        if policy.pinning is Pinning.DEDICATED:
            if policy.threads is ThreadPolicy.ISOLATE:
                return sum(len(s.cores) for s in nodes) >= whole.vcpus
            return sum(len(s.cpus) for s in nodes) >= whole.vcpus
        return True

    def resolved_numatune(self, cells: tuple[GuestCell, ...]) -> NumaTuneIntent | None:
        numatune = self.intent.numatune
        if self.bound_by_placement:
            return (numatune or NumaTuneIntent())._replace(nodeset=self.whole_guest_nodes)
        if numatune is None or not numatune.nodeset_auto:
            return numatune
        chosen = self.whole_guest_nodes
        if chosen is None and all(c.host_nodes for c in cells):
            # the guest-wide nodeset is the cells' union, derived as for a written intent
            return numatune._replace(nodeset_auto=False)
        if chosen is None:
            chosen = frozenset(n for c in cells if c.host_nodes for n in c.host_nodes)
        return numatune._replace(nodeset=chosen, nodeset_auto=False)


def _distance_rows(host: HostTopology, nodes: list[int]) -> dict[int, dict[int, int]]:
    everyone = set(nodes)
    by_id = {cell.id: cell.distances for cell in host.cells}  # not host.cell(): O(N) each
    if host.twins is not None and everyone == by_id.keys():
        return by_id  # the loaders found a full matrix (see `distance_twins`): read only
    rows = {}
    for a in nodes:
        known = by_id.get(a, {})
        if known.keys() == everyone:  # the usual full matrix: the host's own row, read only
            rows[a] = known
            continue
        rows[a] = {
            b: known.get(b, LOCAL_DISTANCE if a == b else DEFAULT_REMOTE_DISTANCE) for b in nodes
        }
    return rows


def _cells_label(ids: Sequence[int]) -> str:
    return f"cells {format_cpuset(frozenset(ids))}" if len(ids) > 1 else f"cell {ids[0]}"


def _page(intent: Intent) -> int | None:
    pages = intent.page_size_of(None)
    return pages.size_kib if pages else None


def _even_shares(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]
