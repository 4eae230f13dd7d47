"""CPU placement: `<vcpupin>` per vCPU (node or dedicated, by core and sibling),
`<emulatorpin>` and the automatic guest topology, once cells have host nodes."""

from __future__ import annotations

from abc import ABC, abstractmethod

from vnuma.cpusets import format_cpuset
from vnuma.diagnostics import JsonPath
from vnuma.model.guest import CpuTopology, GuestCell, Pinning, ThreadPolicy, VcpuPin
from vnuma.model.host import HostTopology
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

    def dedicated(
        self, cell: GuestCell | None, vcpus: list[int], nodes: list[int]
    ) -> list[VcpuPin]:
        threads = self.intent.cpu.threads
        cores = [
            [cpu for cpu in core if cpu not in self.used]
            for n in nodes
            for core in self.states[n].cores
            if not set(core) & self.used
        ]
        free = [cpu for n in nodes for cpu in self.states[n].cpus if cpu not in self.used]
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
        policy = intent.cpu
        if policy.topology is not None:
            return policy.topology
        if not policy.topology_auto:
            return None
        sizes = {len(c.cpus) for c in intent.cells if c.cpus}
        cpu_cells = [c for c in intent.cells if c.cpus]
        sockets = len(cpu_cells) if len(sizes) == 1 and cpu_cells else 1
        threads = 2 if self.pinned_on_siblings(intent, pins) else 1
        if intent.vcpus % (sockets * threads):
            sockets = 1
        if intent.vcpus % (sockets * threads):
            threads = 1
        cores = intent.vcpus // (sockets * threads)
        topology = CpuTopology(sockets=sockets, dies=1, clusters=1, cores=cores, threads=threads)
        self.note(
            f"guest topology {topology.describe()} (one socket per cell; threads=2 only on sibling pairs)"
        )
        return topology

    def pinned_on_siblings(self, intent: Intent, pins: list[VcpuPin]) -> bool:
        if (
            intent.cpu.pinning is not Pinning.DEDICATED
            or intent.cpu.threads is ThreadPolicy.ISOLATE
        ):
            return False
        by_vcpu = {p.vcpu: min(p.cpuset) for p in pins if p.dedicated}
        siblings = {cpu.id: cpu.siblings for cell in self.host.cells for cpu in cell.cpus}
        if len(by_vcpu) != intent.vcpus or intent.vcpus % 2:
            return False
        return all(
            by_vcpu[v + 1] in siblings.get(by_vcpu[v], frozenset()) and by_vcpu[v + 1] != by_vcpu[v]
            for v in range(0, intent.vcpus, 2)
        )
