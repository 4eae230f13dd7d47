"""Host capacity as placement sees it: what each node can still give, what a cell needs,
and why a cell does not fit a node (the message VN602 quotes)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from vnuma.cpusets import format_cpuset
from vnuma.model.guest import Guest, Pinning, ThreadPolicy
from vnuma.model.host import HostCell, HostTopology
from vnuma.model.intent import Intent
from vnuma.sizes import format_kib

# --- host capacity ---------------------------------------------------------------------


@dataclass(slots=True)
class NodeState:
    """What one host node can still give this guest."""

    id: int
    memory_kib: int
    pages: dict[int, int]
    cpus: list[int]
    cores: tuple[tuple[int, ...], ...]
    """Cores whose threads are all usable (sibling CPU ids, sorted), by first CPU."""
    has_cpus: bool
    signature: tuple[object, ...]
    """What the node can give, without its CPU ids (`node_signature`): nodes of equal
    signature are interchangeable for every cell."""


def node_signature(
    memory_kib: int,
    pages: dict[int, int],
    cpu_count: int,
    core_shape: tuple[int, ...],
    has_cpus: bool,
) -> tuple[object, ...]:
    """The memory, pools and CPU shape (threads per usable core) of a node."""
    return _signature(memory_signature(memory_kib, pages), cpu_count, core_shape, has_cpus)


def memory_signature(memory_kib: int, pages: dict[int, int]) -> tuple[object, object]:
    """`node_signature`'s memory part: the same for every node of one memory layout."""
    return memory_kib, tuple(sorted(pages.items()) if len(pages) > 1 else pages.items())


def _signature(
    memory: tuple[object, object], cpu_count: int, core_shape: tuple[int, ...], has_cpus: bool
) -> tuple[object, ...]:
    return (*memory, cpu_count, core_shape, has_cpus)


def node_states(
    host: HostTopology,
    reserved: frozenset[int],
    reserve_kib: int,
    occupied: Sequence[Guest],
    *,
    dedicated: bool = False,
) -> dict[int, NodeState]:
    """What each node can still give: the capacity model's placeable memory and pools,
    less what the ``occupied`` guests hold (laid out by the same max-flow admission
    uses), and its CPUs less ``reserved`` and the occupied guests' dedicated pins. For
    ``dedicated`` vCPUs, the CPUs the occupied guests' emulator threads are pinned to
    are taken too (a dedicated vCPU must not share its CPU with another guest's QEMU).
    An occupied guest's held CPUs (the idle siblings of its isolated cores) are taken
    like its dedicated pins: an isolated core is held whole."""
    from vnuma.model.capacity import held_on_nodes

    taken_cpus = {cpu for guest in occupied for cpu in guest.kept_cpus}
    if dedicated:
        taken_cpus |= {
            cpu
            for guest in occupied
            if guest.domain.emulator_pin
            for cpu in guest.domain.emulator_pin
        }
    unusable = reserved | taken_cpus
    states = {
        cell.id: _node_state(
            cell, host.cpus_of(cell.id), host.core_shape(cell.id), unusable, placeable
        )
        for cell, placeable in zip(host.cells, _placeable(host, reserve_kib), strict=True)
    }
    if occupied:
        memory = {node: state.memory_kib for node, state in states.items()}
        pages = {node: dict(state.pages) for node, state in states.items()}
        small, taken_pages = held_on_nodes(host, occupied, memory, pages)
        changed = set(small)
        for node, amount in small.items():
            states[node].memory_kib -= amount
        for size, used in taken_pages.items():
            for node, count in used.items():
                states[node].pages[size] = states[node].pages.get(size, 0) - count
                changed.add(node)
        for node in changed:
            state = states[node]
            state.signature = node_signature(
                state.memory_kib,
                state.pages,
                len(state.cpus),
                tuple(map(len, state.cores)),
                state.has_cpus,
            )
    return states


_Placeable = tuple[int, dict[int, int], tuple[object, object]]
"""A cell's placeable memory, its own copy of its pools, and their `memory_signature`."""


def _placeable(host: HostTopology, reserve_kib: int) -> Iterator[_Placeable]:
    """The capacity model's placeable memory and pools of each cell, asked once per
    distinct memory layout (a host's nodes are mostly alike); each cell gets its own
    pools dict, which the occupied guests' holdings are taken from."""
    from vnuma.model.capacity import placeable_kib, placeable_pages

    by_layout: dict[int, _Placeable] = {}
    for cell, layout in zip(host.cells, host.memory_layouts, strict=True):
        found = by_layout.get(layout)
        if found is None:
            memory_kib, pages = placeable_kib(cell, reserve_kib), placeable_pages(cell)
            key = memory_signature(memory_kib, pages)
            found = by_layout[layout] = (memory_kib, pages, key)
        yield found[0], dict(found[1]), found[2]


def isolated_siblings(host: HostTopology, cpus: Iterable[int]) -> frozenset[int]:
    """The other threads of the cores of ``cpus``: what a guest given those cores whole
    (`threads: isolate`) holds beyond its pins."""
    pinned = frozenset(cpus)
    return (
        frozenset(
            sibling
            for cell in host.cells  # grouped per node, as `_node_state` groups a node's cores
            for threads in cell.core_cpus
            if not pinned.isdisjoint(threads)
            for sibling in threads
        )
        - pinned
    )


def _node_state(
    cell: HostCell,
    ids: tuple[int, ...],
    shape: tuple[int, ...],
    unusable: frozenset[int] | set[int],
    placeable: _Placeable,
) -> NodeState:
    """``ids``: the cell's CPU ids, ascending; ``shape``: `HostTopology.core_shape`."""
    memory_kib, pages, memory = placeable
    whole = cell.core_cpus
    if not unusable or unusable.isdisjoint(ids):
        cpus = list(ids)
    else:
        cpus = [i for i in ids if i not in unusable]
        usable = set(cpus)
        whole = tuple(threads for threads in whole if usable.issuperset(threads))
        shape = tuple(map(len, whole))
    signature = _signature(memory, len(cpus), shape, bool(ids))
    return NodeState(cell.id, memory_kib, pages, cpus, whole, bool(ids), signature)


# --- what each cell needs -----------------------------------------------------------------


@dataclass(frozen=True)
class CellNeed:
    index: int
    cell_id: int
    vcpus: int
    memory_kib: int
    page_kib: int | None


def shortfall(need: CellNeed, node: NodeState, intent: Intent, binds: bool) -> str | None:
    """Why ``need`` does not fit ``node`` (None: it fits)."""
    if need.page_kib is not None:
        pages = -(-need.memory_kib // need.page_kib)
        have = node.pages.get(need.page_kib, 0)
        if pages > have:  # huge pages come from the pools in every mode
            return (
                f"needs {pages} x {format_kib(need.page_kib)} pages, node {node.id} has {have} "
                f"(short by {pages - have})"
            )
    elif binds and need.memory_kib > node.memory_kib:
        return (
            f"needs {format_kib(need.memory_kib)}, node {node.id} has "
            f"{format_kib(node.memory_kib)} (short by {format_kib(need.memory_kib - node.memory_kib)})"
        )
    if need.vcpus == 0:
        return None
    if not node.has_cpus:
        return f"has {need.vcpus} vCPUs, node {node.id} has no CPUs"
    return _cpu_shortfall(need, node, intent)


def _cpu_shortfall(need: CellNeed, node: NodeState, intent: Intent) -> str | None:
    policy = intent.cpu
    if policy.pinning is Pinning.NODE and not node.cpus:
        return f"node {node.id} has no CPUs left after cpu.reserved"
    if policy.pinning is not Pinning.DEDICATED:
        return None
    if policy.threads is ThreadPolicy.ISOLATE and len(node.cores) < need.vcpus:
        return (
            f"needs {need.vcpus} whole free cores (threads: isolate), node {node.id} has "
            f"{len(node.cores)}"
        )
    if policy.threads is ThreadPolicy.REQUIRE:
        pairs = sum(1 for core in node.cores if len(core) >= 2)
        if need.vcpus % 2:
            return f"has {need.vcpus} vCPUs, an odd count cannot be pinned on sibling pairs"
        if pairs < need.vcpus // 2:
            return (
                f"needs {need.vcpus // 2} free sibling pairs (threads: require), node {node.id} "
                f"has {pairs}"
            )
    if len(node.cpus) < need.vcpus:
        return f"needs {need.vcpus} dedicated CPUs, node {node.id} has {len(node.cpus)} free"
    return None


def grouped_reasons(reasons: dict[int, str | None]) -> str:
    """One line per distinct shortfall: "needs 32 x 1 GiB pages, nodes 0-3 have 16 ..."."""
    groups: dict[str, list[int]] = {}
    for node, reason in reasons.items():
        if reason:
            groups.setdefault(reason.replace(f"node {node} has", "{nodes}"), []).append(node)
    parts = []
    for template, nodes in groups.items():
        who = (
            f"node {nodes[0]} has"
            if len(nodes) == 1
            else f"nodes {format_cpuset(frozenset(nodes))} have"
        )
        parts.append(template.replace("{nodes}", who))
    return "; ".join(parts) or "no candidate host nodes"


def match_cells(
    needs: Sequence[CellNeed], nodes: Iterable[int], compatible: Mapping[int, AbstractSet[int]]
) -> dict[int, int]:
    """Cells onto distinct nodes: each cell, in order, on the lowest-id node that still lets
    every later cell be matched (so the result is deterministic); {} when impossible."""
    nodes = sorted(nodes)
    if len(nodes) >= len(needs) and _fit_everywhere(needs, nodes, compatible):
        return {need.index: node for need, node in zip(needs, nodes, strict=False)}
    if not perfect_matching(list(needs), nodes, compatible):
        return {}
    mapping: dict[int, int] = {}
    left = list(nodes)
    for i, need in enumerate(needs):
        for node in left:
            if node in compatible[need.index] and perfect_matching(
                list(needs[i + 1 :]), [n for n in left if n != node], compatible
            ):
                mapping[need.index] = node
                left.remove(node)
                break
    return mapping


def fits_together(
    needs: Sequence[CellNeed], nodes: Sequence[int], compatible: Mapping[int, AbstractSet[int]]
) -> bool:
    """Can every need get its own node of ``nodes`` (what `match_cells` finds non-empty)?"""
    if len(nodes) >= len(needs) and _fit_everywhere(needs, nodes, compatible):
        return True
    return perfect_matching(list(needs), list(nodes), compatible)


def _fit_everywhere(
    needs: Sequence[CellNeed], nodes: Sequence[int], compatible: Mapping[int, AbstractSet[int]]
) -> bool:
    """Every need fits every one of ``nodes``."""
    wanted = frozenset(nodes)
    return all(wanted <= compatible[need.index] for need in needs)


def perfect_matching(
    needs: list[CellNeed], nodes: list[int], compatible: Mapping[int, Collection[int]]
) -> bool:
    """Can every need get its own node? (Kuhn's augmenting paths; sizes are small.)"""
    if len(needs) > len(nodes):
        return False
    owner: dict[int, int] = {}
    allowed = {need.index: [n for n in nodes if n in compatible[need.index]] for need in needs}

    def augment(index: int, seen: set[int]) -> bool:
        for node in allowed[index]:
            if node in seen:
                continue
            seen.add(node)
            if node not in owner or augment(owner[node], seen):
                owner[node] = index
                return True
        return False

    return all(augment(need.index, set()) for need in needs)


def hall_violator(
    needs: Sequence[CellNeed], compatible: dict[int, list[int]]
) -> tuple[list[CellNeed], list[int]] | None:
    """When the cells cannot all get distinct nodes: a set of cells and the fewer nodes
    they all fit on (Hall's condition fails there), found from a maximum matching: an
    unmatched cell and every cell and node reachable from it by alternating paths."""
    owner: dict[int, int] = {}
    by_index = {need.index: need for need in needs}

    def augment(index: int, seen: set[int]) -> bool:
        for node in compatible[index]:
            if node in seen:
                continue
            seen.add(node)
            if node not in owner or augment(owner[node], seen):
                owner[node] = index
                return True
        return False

    unmatched = [need for need in needs if not augment(need.index, set())]
    if not unmatched:
        return None
    cells, nodes = {unmatched[0].index}, set()
    frontier = [unmatched[0].index]
    while frontier:
        index = frontier.pop()
        for node in compatible[index]:
            if node not in nodes:
                nodes.add(node)
                if node in owner and owner[node] not in cells:
                    cells.add(owner[node])
                    frontier.append(owner[node])
    return [by_index[i] for i in sorted(cells)], sorted(nodes)
