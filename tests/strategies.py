"""Hypothesis strategies for placement tests: small host snapshots and intents.

A `HostSpec` renders to a `virsh capabilities` document (the format
`vnuma.libvirt.capabilities.load_host` reads, as in `samples/hosts/*.xml`); an `IntentSpec`
renders to an intent YAML. Both keep their own plain description of what they hold,
so the tests can compute what placement *should* answer without asking the compiler.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

KIB_PER_MIB = 1024
KIB_PER_GIB = 1024 * 1024
PAGE_2M = 2048
PAGE_1G = KIB_PER_GIB


# --- hosts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CpuSpec:
    id: int
    socket_id: int
    core_id: int
    siblings: tuple[int, ...]


@dataclass(frozen=True)
class NodeSpec:
    id: int
    memory_gib: int
    cpus: tuple[CpuSpec, ...]
    pools: tuple[tuple[int, int], ...]
    """(huge page size KiB, count) pools written as <pages> (2 MiB and/or 1 GiB)."""
    free_kib: int | None = None
    """<?vnuma-free-memory?>: free small-page memory, when the snapshot records it."""
    free_pages: tuple[tuple[int, int], ...] = ()
    """<?vnuma-free-pages?>: free huge pages per size, when the snapshot records them."""

    @property
    def memory_kib(self) -> int:
        return self.memory_gib * KIB_PER_GIB

    @property
    def pool_kib(self) -> int:
        return sum(size * count for size, count in self.pools)

    @property
    def cpu_ids(self) -> frozenset[int]:
        return frozenset(c.id for c in self.cpus)

    def cores(self) -> list[tuple[int, ...]]:
        """Each physical core's thread ids (sorted), ordered by first thread."""
        seen: dict[tuple[int, int], list[int]] = {}
        for cpu in self.cpus:
            seen.setdefault((cpu.socket_id, cpu.core_id), []).append(cpu.id)
        return sorted((tuple(sorted(t)) for t in seen.values()), key=lambda t: t[0])


@dataclass(frozen=True)
class HostSpec:
    nodes: tuple[NodeSpec, ...]
    matrix: dict[tuple[int, int], int] | None
    """d(a, b) per ordered pair of node ids (missing pairs: no <sibling> entry); None: no
    <distances> in the snapshot."""
    kind: str = "random"

    @property
    def node_ids(self) -> list[int]:
        return [n.id for n in self.nodes]

    def node(self, node_id: int) -> NodeSpec:
        return next(n for n in self.nodes if n.id == node_id)

    def distance(self, a: int, b: int) -> int:
        default = 10 if a == b else 20  # what a snapshot without the entry means
        if self.matrix is None:
            return default
        return self.matrix.get((a, b), default)

    def sibling_map(self) -> dict[int, frozenset[int]]:
        return {c.id: frozenset(c.siblings) for n in self.nodes for c in n.cpus}

    def caps_xml(self, reverse: bool = False) -> str:
        """The snapshot; ``reverse`` lists cells, CPUs and distances in reverse order (the
        same host, written differently)."""

        def order(items: list) -> list:
            return items[::-1] if reverse else items

        lines = [
            "<capabilities>",
            '  <?vnuma-host-state version="1"?>',
            "  <host>",
            "    <cpu>",
            "      <arch>x86_64</arch>",
            "      <pages unit='KiB' size='4'/>",
            "      <pages unit='KiB' size='2048'/>",
            "      <pages unit='KiB' size='1048576'/>",
            "    </cpu>",
            "    <topology>",
            f"      <cells num='{len(self.nodes)}'>",
        ]
        for node in order(list(self.nodes)):
            small_pages = (node.memory_kib - node.pool_kib) // 4
            lines.append(f"        <cell id='{node.id}'>")
            lines.append(f"          <memory unit='KiB'>{node.memory_kib}</memory>")
            lines.append(f"          <pages unit='KiB' size='4'>{small_pages}</pages>")
            for size, count in node.pools:
                lines.append(f"          <pages unit='KiB' size='{size}'>{count}</pages>")
            if node.free_kib is not None:
                lines.append(f'          <?vnuma-free-memory unit="KiB" value="{node.free_kib}"?>')
            for size, count in node.free_pages:
                lines.append(
                    f'          <?vnuma-free-pages size="{size}" unit="KiB" count="{count}"?>'
                )
            if self.matrix is not None:
                lines.append("          <distances>")
                for other in order(list(self.nodes)):
                    value = self.matrix.get((node.id, other.id))
                    if value is not None:
                        lines.append(f"            <sibling id='{other.id}' value='{value}'/>")
                lines.append("          </distances>")
            if not node.cpus:
                lines.append("          <cpus num='0'/>")
            else:
                lines.append(f"          <cpus num='{len(node.cpus)}'>")
                for cpu in order(sorted(node.cpus, key=lambda c: c.id)):
                    siblings = ",".join(str(s) for s in cpu.siblings)
                    lines.append(
                        f"            <cpu id='{cpu.id}' socket_id='{cpu.socket_id}' "
                        f"die_id='0' cluster_id='0' core_id='{cpu.core_id}' "
                        f"siblings='{siblings}'/>"
                    )
                lines.append("          </cpus>")
            lines.append("        </cell>")
        lines += ["      </cells>", "    </topology>", "  </host>", "</capabilities>", ""]
        return "\n".join(lines)


def _cpus(
    cores_per_node: list[int], threads: int, layout: str, per_socket: int
) -> list[list[CpuSpec]]:
    """CPU ids the way Linux numbers them: "split" (thread 0 of every core first, then the
    siblings: i and i+C), or "adjacent" (a core's threads are consecutive ids)."""
    total = sum(cores_per_node)
    nodes: list[list[CpuSpec]] = []
    core_index = 0
    core_in_socket: dict[int, int] = {}
    for node_index, cores in enumerate(cores_per_node):
        socket = node_index // per_socket
        specs = []
        for _ in range(cores):
            if layout == "split":
                ids = tuple(core_index + t * total for t in range(threads))
            else:
                ids = tuple(core_index * threads + t for t in range(threads))
            core_id = core_in_socket.get(socket, 0)
            core_in_socket[socket] = core_id + 1
            specs.extend(CpuSpec(i, socket, core_id, ids) for i in ids)
            core_index += 1
        nodes.append(specs)
    return nodes


@st.composite
def _node_resources(draw: st.DrawFn) -> tuple:
    """(memory GiB, huge page pools, free small-page KiB or None, free huge pages)."""
    memory_gib = draw(st.integers(1, 64))
    pools: list[tuple[int, int]] = []
    left_kib = memory_gib * KIB_PER_GIB
    if draw(st.booleans()):
        if draw(st.booleans()):
            count_2m = 512 * draw(st.integers(0, min(memory_gib, 16)))
        else:
            count_2m = draw(st.integers(0, min(left_kib // PAGE_2M, 8 * 512)))
        pools.append((PAGE_2M, count_2m))
        left_kib -= count_2m * PAGE_2M
    if draw(st.booleans()):
        count_1g = draw(st.integers(0, min(left_kib // PAGE_1G, 24)))
        pools.append((PAGE_1G, count_1g))
        left_kib -= count_1g * PAGE_1G
    free_kib = None
    if draw(st.integers(0, 3)) == 0:
        free_kib = draw(st.integers(0, left_kib // KIB_PER_MIB)) * KIB_PER_MIB
    free_pages: list[tuple[int, int]] = []
    for size, pool_count in pools:
        if draw(st.integers(0, 3)) == 0:
            free_pages.append((size, draw(st.integers(0, pool_count))))
    return memory_gib, tuple(pools), free_kib, tuple(free_pages)


@st.composite
def hosts(draw: st.DrawFn, max_nodes: int = 6, min_nodes: int = 1) -> HostSpec:
    count = draw(st.integers(min_nodes, max_nodes))
    ids = list(range(count))
    if count > 1 and draw(st.integers(0, 9)) == 0:
        # node ids with gaps (an offline node): ids are not positions
        ids = sorted(draw(st.sets(st.integers(0, count + 2), min_size=count, max_size=count)))
    threads = draw(st.sampled_from([1, 2]))
    layout = draw(st.sampled_from(["split", "adjacent"]))
    # "identical" nodes (and "repeat": each node may copy the one before) give the solver
    # classes of interchangeable nodes to exploit; "mixed" nodes are all different.
    sameness = draw(st.sampled_from(["mixed", "mixed", "identical", "repeat"]))
    cores_per_node: list[int] = []
    resources: list[tuple] = []
    for index in range(count):
        copy = index > 0 and (
            sameness == "identical" or (sameness == "repeat" and draw(st.booleans()))
        )
        if copy:
            cores_per_node.append(cores_per_node[-1])
            resources.append(resources[-1])
        else:
            cores_per_node.append(draw(st.integers(1, 4)) if draw(st.integers(0, 11)) else 0)
            resources.append(draw(_node_resources()))
    if not any(cores_per_node):
        cores_per_node[0] = 1
    per_socket = draw(st.sampled_from([1, 2, count])) if count > 1 else 1
    cpu_lists = _cpus(cores_per_node, threads, layout, per_socket)
    nodes = [
        NodeSpec(node_id, memory_gib, tuple(cpu_lists[index]), pools, free_kib, free_pages)
        for index, (node_id, (memory_gib, pools, free_kib, free_pages)) in enumerate(
            zip(ids, resources, strict=True)
        )
    ]
    kind = draw(
        st.sampled_from(["symmetric", "sockets", "asymmetric", "uniform", "absent", "partial"])
    )
    matrix: dict[tuple[int, int], int] | None = {}
    assert matrix is not None
    if kind == "absent":
        matrix = None
    elif kind == "uniform":
        remote = draw(st.integers(11, 40))
        matrix = {(a, b): 10 if a == b else remote for a in ids for b in ids}
    elif kind == "sockets":
        near = draw(st.integers(11, 25))
        far = draw(st.integers(near + 1, 40))
        socket = {node_id: index // per_socket for index, node_id in enumerate(ids)}
        for a in ids:
            for b in ids:
                matrix[(a, b)] = 10 if a == b else near if socket[a] == socket[b] else far
    else:
        for i, a in enumerate(ids):
            matrix[(a, a)] = 10
            for b in ids[i + 1 :]:
                value = draw(st.integers(11, 40))
                matrix[(a, b)] = value
                matrix[(b, a)] = draw(st.integers(11, 40)) if kind == "asymmetric" else value
        if kind == "partial":  # some <sibling> entries missing (10 local, 20 remote then)
            matrix = {pair: value for pair, value in matrix.items() if draw(st.integers(0, 2))}
    return HostSpec(tuple(nodes), matrix, kind)


# --- intents -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CellSpec:
    vcpus: int
    memory_kib: int
    node: int | None = None
    """A fixed host node (host_nodes: "N"); None: placed automatically."""


@dataclass(frozen=True)
class IntentSpec:
    form: str
    """"list" (cells with host_nodes: auto), "list-nodeset" (cells without host_nodes,
    numatune.nodeset: auto) or "count" (cells: N, numatune.nodeset: auto)."""
    vcpus: int
    memory_kib: int
    cells: tuple[CellSpec, ...] = ()
    count: int = 0
    mode: str = "strict"
    page_kib: int | None = None
    pinning: str = "none"
    threads: str = "prefer"
    reserved: frozenset[int] = frozenset()
    reserve_kib: int = 0
    emulator: str | None = None
    topology_auto: bool = False
    name: str = "guest"
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def binds(self) -> bool:
        return self.mode in ("strict", "restrictive")

    def cell_ranges(self) -> list[tuple[int, int]]:
        """(first vCPU, vCPU count) of each listed cell."""
        out, first = [], 0
        for cell in self.cells:
            out.append((first, cell.vcpus))
            first += cell.vcpus
        return out

    def yaml(self, host_ref: str | None = None) -> str:
        lines = ["version: 1", f"name: {self.name}"]
        if host_ref:
            lines.append(f"host: {host_ref}")
        lines += [f"vcpus: {self.vcpus}", f"memory: {self.memory_kib}KiB"]
        numatune = [f"mode: {self.mode}"]
        if self.form in ("count", "list-nodeset"):
            numatune.append("nodeset: auto")
        if self.reserve_kib:
            numatune.append(f"reserve: {self.reserve_kib}KiB")
        lines.append("numatune: {" + ", ".join(numatune) + "}")
        if self.form == "count":
            lines.append(f"cells: {self.count}")
        else:
            lines.append("cells:")
            for cell, (first, n) in zip(self.cells, self.cell_ranges(), strict=True):
                parts = []
                if n:
                    parts.append(f'cpus: "{first}-{first + n - 1}"')
                parts.append(f"memory: {cell.memory_kib}KiB")
                if cell.node is not None:
                    parts.append(f'host_nodes: "{cell.node}"')
                elif self.form == "list":
                    parts.append("host_nodes: auto")
                lines.append("  - {" + ", ".join(parts) + "}")
        if self.page_kib:
            lines.append(f"hugepages: {{size: {self.page_kib}KiB}}")
        cpu = [f"pinning: {self.pinning}", f"threads: {self.threads}"]
        if self.reserved:
            cpu.append(f'reserved: "{",".join(str(c) for c in sorted(self.reserved))}"')
        if self.emulator:
            cpu.append(f"emulator: {self.emulator}")
        if self.topology_auto:
            cpu.append("topology: auto")
        if self.pinning != "none" or self.reserved or self.emulator or self.topology_auto:
            lines.append("cpu: {" + ", ".join(cpu) + "}")
        return "\n".join(lines) + "\n"


def _memory_unit(page_kib: int | None) -> int:
    return PAGE_1G if page_kib == PAGE_1G else 512 * KIB_PER_MIB


@st.composite
def intents(
    draw: st.DrawFn,
    host: HostSpec,
    max_cells: int = 4,
    fixed: bool = True,
    name: str = "guest",
    max_cell_gib: int = 16,
) -> IntentSpec:
    if draw(st.integers(0, 6)):
        max_cells = min(max_cells, len(host.nodes))  # mostly no more cells than nodes
    form = draw(st.sampled_from(["list", "list", "list-nodeset", "count"]))
    mode = draw(st.sampled_from(["strict", "strict", "preferred", "restrictive"]))
    page_kib = draw(st.sampled_from([None, None, PAGE_2M, PAGE_1G]))
    pinning = draw(st.sampled_from(["none", "node", "dedicated", "dedicated"]))
    threads = draw(st.sampled_from(["prefer", "isolate", "require"]))
    all_cpus = sorted(c.id for n in host.nodes for c in n.cpus)
    reserved: frozenset[int] = frozenset()
    if all_cpus and draw(st.integers(0, 2)) == 0:
        reserved = frozenset(
            draw(st.lists(st.sampled_from(all_cpus), min_size=1, max_size=3, unique=True))
        )
    reserve_kib = draw(st.sampled_from([0, 0, 0, 512 * KIB_PER_MIB, 2 * KIB_PER_GIB]))
    emulator = draw(st.sampled_from([None, None, "auto", "node"]))
    topology_auto = draw(st.booleans())
    unit = _memory_unit(page_kib)
    common = dict(
        mode=mode,
        page_kib=page_kib,
        pinning=pinning,
        threads=threads,
        reserved=reserved,
        reserve_kib=reserve_kib,
        emulator=emulator,
        topology_auto=topology_auto,
        name=name,
    )
    if form == "count":
        count = draw(st.integers(1, max_cells))
        vcpus = draw(st.integers(1, 4 * count))
        units = draw(st.integers(1, max(1, count * max_cell_gib * KIB_PER_GIB // unit)))
        return IntentSpec(form=form, vcpus=vcpus, memory_kib=units * unit, count=count, **common)
    n_cells = draw(st.integers(1, max_cells))
    fixed_nodes: list[int] = []
    cells = []
    for _ in range(n_cells):
        vcpus = draw(st.integers(0, 4) if n_cells > 1 else st.integers(1, 4))
        units = draw(st.integers(1, max(1, max_cell_gib * KIB_PER_GIB // unit)))
        node = None
        free = [n for n in host.node_ids if n not in fixed_nodes]
        if fixed and free and draw(st.integers(0, 5)) == 0:
            node = draw(st.sampled_from(free))
            fixed_nodes.append(node)
        cells.append(CellSpec(vcpus, units * unit, node))
    if not any(c.vcpus for c in cells):
        cells[0] = CellSpec(1, cells[0].memory_kib, cells[0].node)
    return IntentSpec(
        form=form,
        vcpus=sum(c.vcpus for c in cells),
        memory_kib=sum(c.memory_kib for c in cells),
        cells=tuple(cells),
        **common,
    )


@st.composite
def scenarios(draw: st.DrawFn, max_nodes: int = 6, fixed: bool = True, min_nodes: int = 1) -> tuple:
    host = draw(hosts(max_nodes, min_nodes))
    return host, draw(intents(host, fixed=fixed))


def build_host(
    nodes: list[tuple[int, int]],
    threads: int = 1,
    pools: tuple[tuple[int, int], ...] = (),
    remote: int = 21,
) -> HostSpec:
    """A hand-written host: (cores, memory GiB) per node, the same huge page pools on
    every node, distance 10 local and ``remote`` between nodes."""
    cpu_lists = _cpus([cores for cores, _ in nodes], threads, "split", 1)
    specs = tuple(
        NodeSpec(index, memory_gib, tuple(cpu_lists[index]), pools)
        for index, (_, memory_gib) in enumerate(nodes)
    )
    ids = range(len(nodes))
    matrix = {(a, b): 10 if a == b else remote for a in ids for b in ids}
    return HostSpec(specs, matrix, "hand")
