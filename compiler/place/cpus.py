"""CPU placement: `<vcpupin>` per vCPU (node or dedicated, by core and sibling), or one
`<vcpu cpuset>` when every vCPU floats over the same CPUs, `<emulatorpin>` and the
automatic guest topology, once cells have host nodes."""

from __future__ import annotations

from abc import ABC, abstractmethod

from vnuma.cpusets import format_cpuset
from vnuma.diagnostics import JsonPath
from vnuma.model.guest import CpuTopology, GuestCell, Pinning, ThreadPolicy, VcpuPin
from vnuma.model.host import HostCPU, HostTopology
from vnuma.model.intent import Intent
from vnuma.place.nodes import NodeState


class CpuPlacement(ABC):
    """The CPU half of the placement stage; the stage supplies the host, the node states
    (usable CPUs after reserved and occupied ones), and the reporting methods."""

    host: HostTopology
    intent: Intent
    states: dict[int, NodeState]
    used: set[int]

    @abstractmethod
    def note(self, text: str) -> None:
        """Implemented by the stage."""

    @abstractmethod
    def fail(self, code: str, message: str, path: JsonPath, hint: str | None = None) -> None:
        """Implemented by the stage."""

    @abstractmethod
    def info(self, code: str, message: str, path: JsonPath) -> None:
        """Implemented by the stage."""

    def guest_nodes(self, intent: Intent, cell: GuestCell | None) -> list[int]:
        if cell is not None and cell.host_nodes:
            return sorted(cell.host_nodes)
        nodeset = intent.effective_nodeset
        if nodeset:
            return sorted(nodeset)
        return sorted(self.states)

    def pin(self, intent: Intent) -> list[VcpuPin]:
        policy = intent.cpu
        if policy.pinning is Pinning.NONE:
            return []
        groups: list[tuple[GuestCell | None, list[int]]] = [
            (c, sorted(c.cpus)) for c in intent.cells if c.cpus
        ]
        if not intent.cells:
            groups = [(None, list(range(intent.vcpus)))]
        covered = {v for _, vcpus in groups for v in vcpus}
        if len(covered) < intent.vcpus:
            groups.append((None, [v for v in range(intent.vcpus) if v not in covered]))
        pins: list[VcpuPin] = []
        for cell, vcpus in groups:
            nodes = [n for n in self.guest_nodes(intent, cell) if n in self.states]
            if policy.pinning is Pinning.NODE:
                cpus = frozenset(c for n in nodes for c in self.states[n].cpus)
                if not cpus:
                    self.fail(
                        "VN602", f"no usable host CPUs on node(s) {nodes}", ("cpu", "pinning")
                    )
                    return []
                pins.extend(VcpuPin(v, cpus, ("cpu", "pinning")) for v in vcpus)
                label = f"cell {cell.id}" if cell else "the guest"
                self.note(
                    f"{label}: vCPUs {format_cpuset(frozenset(vcpus))} float over host CPUs {format_cpuset(cpus)}"
                )
            else:
                pins.extend(self.dedicated(cell, vcpus, nodes))
        return sorted(pins, key=lambda p: p.vcpu)

    def confined(
        self, intent: Intent, pins: list[VcpuPin], emulator: frozenset[int] | None
    ) -> frozenset[int] | None:
        """`pinning: node` with the same host CPUs for every vCPU: `<vcpu cpuset>`, libvirt's
        way to confine all vCPUs (and, without `<emulatorpin>`, the emulator threads) to
        one set, instead of identical `<vcpupin>`s. Sets that differ per cell stay one
        `<vcpupin>` per vCPU: libvirt has no per-cell pin element."""
        if intent.cpu.pinning is not Pinning.NODE or len(pins) != intent.vcpus:
            return None
        sets = {pin.cpuset for pin in pins}
        if len(sets) != 1:
            self.note(
                "vCPU sets differ per cell: one <vcpupin> per vCPU (libvirt has no per-cell pin)"
            )
            return None
        (cpus,) = sets
        self.note(
            f"every vCPU floats over host CPUs {format_cpuset(cpus)}: written as <vcpu cpuset>"
            + ("" if emulator else ", which confines the emulator threads too (no <emulatorpin>)")
        )
        return cpus

    def dedicated(
        self, cell: GuestCell | None, vcpus: list[int], nodes: list[int]
    ) -> list[VcpuPin]:
        threads = self.intent.cpu.threads
        used = self.used
        cores = [
            list(core) for n in nodes for core in self.states[n].cores if used.isdisjoint(core)
        ]
        free = [cpu for n in nodes for cpu in self.states[n].cpus if cpu not in used]
        label = f"cell {cell.id}" if cell else "the guest"
        chosen: dict[int, int] = {}
        if threads is ThreadPolicy.ISOLATE:
            if len(cores) < len(vcpus):
                self.fail(
                    "VN602",
                    f"{label} needs {len(vcpus)} whole free cores (threads: isolate) on node(s) "
                    f"{format_cpuset(frozenset(nodes))}, there are {len(cores)}",
                    ("cpu", "threads"),
                )
                return []
            for vcpu, core in zip(vcpus, cores, strict=False):
                chosen[vcpu] = core[0]
                self.used.update(core)
            why = "one vCPU per core, siblings idle"
        else:
            pairs = [core[:2] for core in cores if len(core) >= 2]
            if threads is ThreadPolicy.REQUIRE and (len(vcpus) % 2 or len(pairs) < len(vcpus) // 2):
                self.fail(
                    "VN607",
                    f"{label}: {len(vcpus)} vCPUs cannot all sit on host sibling pairs "
                    f"({len(pairs)} free pairs on node(s) {format_cpuset(frozenset(nodes))})",
                    ("cpu", "threads"),
                    hint="use threads: prefer, an even number of vCPUs per cell, or a host with SMT",
                )
                return []
            rest = list(vcpus)
            for pair in pairs:
                if len(rest) < 2:
                    break
                chosen[rest.pop(0)], chosen[rest.pop(0)] = pair
                self.used.update(pair)
            singles = [cpu for cpu in free if cpu not in self.used]
            if len(singles) < len(rest):
                self.fail(
                    "VN602",
                    f"{label} needs {len(vcpus)} dedicated CPUs on node(s) "
                    f"{format_cpuset(frozenset(nodes))}",
                    ("cpu", "pinning"),
                )
                return []
            for vcpu, cpu in zip(rest, singles, strict=False):
                chosen[vcpu] = cpu
                self.used.add(cpu)
            why = "guest thread pairs on host sibling pairs" if pairs else "one host CPU each"
        self.note(
            f"{label}: dedicated "
            + ", ".join(f"vCPU {v}->CPU {c}" for v, c in sorted(chosen.items()))
            + f" ({why})"
        )
        return [VcpuPin(v, frozenset({c}), ("cpu", "pinning")) for v, c in sorted(chosen.items())]

    def emulator(self, intent: Intent, pins: list[VcpuPin]) -> frozenset[int] | None:
        policy = intent.cpu
        wanted = policy.emulator
        if wanted is None:
            wanted = "auto" if policy.pinning is Pinning.DEDICATED else None
        if wanted is None:
            return None
        dedicated = (
            {cpu for pin in pins for cpu in pin.cpuset}
            if policy.pinning is Pinning.DEDICATED
            else set()
        )
        if isinstance(wanted, frozenset):
            overlap = wanted & dedicated
            if overlap:
                self.fail(
                    "VN608",
                    f"cpu.emulator {format_cpuset(wanted)} overlaps dedicated vCPU pins on "
                    f"{format_cpuset(frozenset(overlap))}",
                    ("cpu", "emulator"),
                    hint="choose housekeeping CPUs no vCPU uses, or emulator: auto",
                )
                return None
            return wanted
        first = self.guest_nodes(intent, intent.cells[0] if intent.cells else None)
        if wanted == "node":
            nodes = sorted(
                {n for cell in intent.cells for n in self.guest_nodes(intent, cell)} or set(first)
            )
            cpus = (
                frozenset(c for n in nodes if n in self.states for c in self.states[n].cpus)
                - dedicated
            )
            if cpus:
                self.note(
                    f"emulator threads float over {format_cpuset(cpus)} (the guest's nodes, no vCPU)"
                )
                return cpus
        else:
            node = first[0] if first else None
            if node is not None:
                state = self.states[node]
                used = self.used | dedicated
                if policy.threads is ThreadPolicy.ISOLATE:
                    spare = [core for core in state.cores if not set(core) & used]
                    if spare:
                        self.note(
                            f"emulator threads on CPU {spare[0][0]} (a whole free core of node {node})"
                        )
                        return frozenset({spare[0][0]})
                else:
                    spare_cpus = [c for c in state.cpus if c not in used]
                    if spare_cpus:
                        self.note(f"emulator threads on CPU {spare_cpus[0]} (free on node {node})")
                        return frozenset({spare_cpus[0]})
        if policy.reserved:
            self.note(f"emulator threads on the reserved CPUs {format_cpuset(policy.reserved)}")
            return policy.reserved
        self.info(
            "VN609",
            "no free host CPU for the emulator threads: they are not pinned",
            ("cpu",),
        )
        return None

    def topology(self, intent: Intent, pins: list[VcpuPin]) -> CpuTopology | None:
        """The automatic guest topology, and the trace of what was emitted and why:
        sockets mirror the host sockets the cells sit on (one socket per cell when the
        cells are not laid out socket by socket), dies the host's dies when a socket's
        cells sit on distinct dies, threads=2 only when every vCPU pair is on a sibling
        pair."""
        policy = intent.cpu
        if policy.topology is not None:
            return policy.topology
        if not policy.topology_auto:
            return None
        sockets, dies, why = self.sockets_and_dies(intent)
        threads, threads_why = self.guest_threads_of(intent, pins)
        if intent.vcpus % (sockets * dies * threads):
            why = (
                f"1 socket: {intent.vcpus} vCPUs do not divide into {sockets * dies} "
                f"socket(s) x die(s) of {threads} thread(s) ({why})"
            )
            sockets = dies = 1
        if intent.vcpus % threads:
            threads, threads_why = 1, f"threads=1: {intent.vcpus} vCPUs is odd"
        cores = intent.vcpus // (sockets * dies * threads)
        topology = CpuTopology(sockets=sockets, dies=dies, clusters=1, cores=cores, threads=threads)
        self.note(f"guest topology {topology.describe()} ({why}; {threads_why})")
        return topology

    def sockets_and_dies(self, intent: Intent) -> tuple[int, int, str]:
        cpu_cells = sorted((c for c in intent.cells if c.cpus), key=lambda c: min(c.cpus))
        if not cpu_cells:
            return 1, 1, "1 socket: no cells"
        if len(cpu_cells) == 1:
            return 1, 1, "1 socket: one cell"
        if len({len(c.cpus) for c in cpu_cells}) != 1:
            return 1, 1, f"1 socket: the {len(cpu_cells)} cells have different vCPU counts"
        per_cell = f"{len(cpu_cells)} sockets, one per cell"
        placed = [self.socket_and_die(cell) for cell in cpu_cells]
        if any(where is None for where in placed):
            return len(cpu_cells), 1, per_cell
        order = [where[0] for where in placed if where is not None]
        groups = [s for i, s in enumerate(order) if i == 0 or order[i - 1] != s]
        if len(groups) != len(set(groups)):
            return len(cpu_cells), 1, per_cell + " (cells of one host socket are not consecutive)"
        count = len(groups)
        if len(cpu_cells) == count:
            return count, 1, f"{count} sockets: one per host socket the cells sit on"
        sizes = {order.count(s) for s in groups}
        if len(sizes) != 1:
            return len(cpu_cells), 1, per_cell + " (host sockets hold different numbers of cells)"
        (k,) = sizes
        dies_of = {
            s: [where[1] for where in placed if where is not None and where[0] == s] for s in groups
        }
        if all(None not in ids and len(set(ids)) == k for ids in dies_of.values()):
            return (
                count,
                k,
                (
                    f"{count} socket(s), one per host socket the cells sit on; {k} dies per "
                    "socket, one per cell, as the host's cells sit on distinct dies"
                ),
            )
        return (
            len(cpu_cells),
            1,
            (
                per_cell + f": {k} cells share a host socket whose die ids do not tell them apart, "
                "and a guest socket (its cache) should not span guest nodes"
            ),
        )

    def socket_and_die(self, cell: GuestCell) -> tuple[int, int | None] | None:
        """The one host socket (and die, if one) of a cell's host nodes, else None."""
        cpus = [cpu for n in sorted(cell.host_nodes or ()) for cpu in self._host_cpus(n)]
        sockets = {cpu.socket_id for cpu in cpus}
        (socket,) = sockets if len(sockets) == 1 else (None,)
        if not cpus or socket is None:
            return None
        dies = {cpu.die_id for cpu in cpus}
        return socket, dies.pop() if len(dies) == 1 else None

    def _host_cpus(self, node: int) -> tuple[HostCPU, ...]:
        cell = self.host.cell(node)
        return cell.cpus if cell is not None else ()

    def guest_threads_of(self, intent: Intent, pins: list[VcpuPin]) -> tuple[int, str]:
        if intent.cpu.pinning is not Pinning.DEDICATED:
            return 1, "threads=1: vCPUs are not pinned to host threads"
        if intent.cpu.threads is ThreadPolicy.ISOLATE:
            return 1, "threads=1: one vCPU per host core (threads: isolate)"
        paired = self.sibling_pairs(intent, pins)
        if paired == intent.vcpus // 2 and not intent.vcpus % 2:
            return 2, "threads=2: every vCPU pair sits on a host sibling pair"
        if intent.vcpus % 2:
            return 1, (
                f"threads=1: {intent.vcpus} vCPUs is odd, so not every vCPU is one of a "
                f"pair ({paired} pair(s) sit on host sibling pairs)"
            )
        return 1, (
            f"threads=1: {paired} of {intent.vcpus // 2} vCPU pairs sit on host sibling pairs"
        )

    def sibling_pairs(self, intent: Intent, pins: list[VcpuPin]) -> int:
        """How many guest vCPU pairs (0-1, 2-3, ...) are pinned to two host sibling threads."""
        by_vcpu = {p.vcpu: min(p.cpuset) for p in pins if p.dedicated}
        siblings = {cpu.id: cpu.siblings for cell in self.host.cells for cpu in cell.cpus}
        return sum(
            1
            for v in range(0, intent.vcpus - 1, 2)
            if v in by_vcpu
            and v + 1 in by_vcpu
            and by_vcpu[v + 1] != by_vcpu[v]
            and by_vcpu[v + 1] in siblings.get(by_vcpu[v], frozenset())
        )
