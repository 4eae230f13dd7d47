"""What an intent says (YAML or TOML), as typed data built from a schema-valid document.

An `Intent` may leave things to vnuma (`auto` nodes, `cells: N`, pinning, topology);
`vnuma.model.resolve` and `vnuma.place` turn it into a `vnuma.model.guest.Guest`, the
type every later stage sees.
"""

from __future__ import annotations

from pathlib import Path

from vnuma.codes import make_diagnostic
from vnuma.cpusets import CpusetError, parse_cpuset
from vnuma.diagnostics import Diagnostic, JsonPath, PositionMap
from vnuma.model.guest import (
    CpuTopology,
    GuestCell,
    Hugepages,
    MemMode,
    Pinning,
    Placement,
    ThreadPolicy,
    page_size_of,
)
from vnuma.records import Record
from vnuma.sizes import SizeError, parse_size_kib

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing when vnuma starts
if TYPE_CHECKING:
    from typing import Any


class NumaTuneIntent(Record):
    """The intent's `numatune:` block."""

    __slots__ = ("mode", "nodeset", "nodeset_auto", "placement", "reserve_kib")

    def __init__(
        self,
        mode: MemMode = MemMode.STRICT,
        nodeset: frozenset[int] | None = None,
        placement: Placement = Placement.STATIC,
        nodeset_auto: bool = False,
        reserve_kib: int = 0,
    ) -> None:
        self.mode = mode
        self.nodeset = nodeset
        self.placement = placement
        self.nodeset_auto = nodeset_auto
        """`nodeset: auto`: the placement stage chooses the host nodes."""
        self.reserve_kib = reserve_kib
        """Memory placement leaves free on every host node it chooses."""


class CpuPolicy(Record):
    """The intent's `cpu:` block: how placement pins vCPUs and shapes the guest topology."""

    __slots__ = ("emulator", "pinning", "reserved", "threads", "topology", "topology_auto")

    def __init__(
        self,
        pinning: Pinning = Pinning.NONE,
        threads: ThreadPolicy = ThreadPolicy.PREFER,
        reserved: frozenset[int] = frozenset(),
        emulator: str | frozenset[int] | None = None,
        topology: CpuTopology | None = None,
        topology_auto: bool = False,
    ) -> None:
        self.pinning = pinning
        self.threads = threads
        self.reserved = reserved
        self.emulator = emulator
        """"auto", "node", an explicit host CPU set, or None (auto for dedicated pinning)."""
        self.topology = topology
        self.topology_auto = topology_auto


class Intent(Record):
    __slots__ = (
        "auto_cells",
        "cell_count",
        "cells",
        "cpu",
        "host_ref",
        "hugepages",
        "memory_kib",
        "name",
        "numatune",
        "path",
        "positions",
        "vcpus",
    )
    _uncompared = ("positions",)

    def __init__(
        self,
        path: str,
        vcpus: int,
        memory_kib: int,
        name: str | None = None,
        host_ref: Path | None = None,
        numatune: NumaTuneIntent | None = None,
        cells: tuple[GuestCell, ...] = (),
        auto_cells: frozenset[int] = frozenset(),
        hugepages: tuple[Hugepages, ...] = (),
        cell_count: int | None = None,
        cpu: CpuPolicy | None = None,
        positions: PositionMap | None = None,
    ) -> None:
        self.path = path
        self.vcpus = vcpus
        self.memory_kib = memory_kib
        self.name = name
        self.host_ref = host_ref
        self.numatune = numatune
        self.cells = cells
        self.auto_cells = auto_cells
        """The indices of the cells written with `host_nodes: auto` (placement picks one node)."""
        self.hugepages = hugepages
        self.cell_count = cell_count
        """`cells: N`: the placement stage splits vCPUs and memory into N cells."""
        self.cpu = CpuPolicy() if cpu is None else cpu
        self.positions = PositionMap() if positions is None else positions

    @property
    def uuid(self) -> None:
        """An intent names no uuid: its name is what makes it one guest with its domain XML."""
        return None

    @property
    def label(self) -> str:
        """How findings that involve several guests name this one."""
        return self.name or Path(self.path).stem

    @property
    def needs_placement(self) -> bool:
        """Something is left for the placement stage to decide (it needs a host snapshot)."""
        return bool(self.left_open())

    def left_open(self) -> list[JsonPath]:
        """Where the intent leaves something to vnuma: `cells: N`, `auto` host nodes,
        pinning, an automatic topology, an emulator pin."""
        cpu = self.cpu
        wanted: dict[JsonPath, bool] = {
            ("cells",): self.cell_count is not None,
            ("numatune", "nodeset"): self.numatune is not None and self.numatune.nodeset_auto,
            ("cpu", "pinning"): cpu.pinning is not Pinning.NONE,
            ("cpu", "topology"): cpu.topology_auto,
            ("cpu", "emulator"): cpu.emulator is not None,
        }
        found = [path for path, open_ in wanted.items() if open_]
        return found + [("cells", index, "host_nodes") for index in sorted(self.auto_cells)]

    @property
    def unresolved(self) -> bool:
        """Host nodes are still `auto`, or the cells are still a count."""
        numatune = self.numatune
        return (
            self.cell_count is not None
            or (numatune is not None and numatune.nodeset_auto)
            or bool(self.auto_cells)
        )

    def page_size_of(self, cell: GuestCell | None) -> Hugepages | None:
        return page_size_of(self.hugepages, cell)

    @property
    def auto_placement(self) -> bool:
        return self.numatune is not None and self.numatune.placement is Placement.AUTO

    @property
    def memory_mode(self) -> MemMode:
        return self.numatune.mode if self.numatune else MemMode.STRICT

    @property
    def effective_nodeset(self) -> frozenset[int] | None:
        """The host nodes vnuma writes in `<numatune><memory>`: the nodeset, else the union
        of the cells' host nodes; None with placement auto."""
        if self.auto_placement:
            return None
        if self.numatune is not None and self.numatune.nodeset is not None:
            return self.numatune.nodeset
        bound = [cell.host_nodes for cell in self.cells if cell.host_nodes]
        return frozenset().union(*bound) if bound else None


AUTO = "auto"


def _cell_list(data: dict[str, Any]) -> list[Any]:
    cells = data.get("cells", [])
    return cells if isinstance(cells, list) else []


def build_intent(
    data: dict[str, Any], shown: str, base_dir: Path, positions: PositionMap
) -> tuple[Intent | None, list[Diagnostic]]:
    """Turn a schema-valid document into an Intent; sizes and sets are checked here."""
    builder = _Builder(shown, positions)
    intent = builder.intent(data, base_dir)
    return (None if builder.diagnostics else intent), builder.diagnostics


class _Builder:
    def __init__(self, shown: str, positions: PositionMap) -> None:
        self.shown = shown
        self.positions = positions
        self.diagnostics: list[Diagnostic] = []

    def intent(self, data: dict[str, Any], base_dir: Path) -> Intent:
        host = data.get("host")
        cpu = self.cpu(data.get("cpu", {}))
        return Intent(
            path=self.shown,
            name=data.get("name"),
            host_ref=(base_dir / host) if host else None,
            vcpus=data["vcpus"],
            memory_kib=self.size(data["memory"], ("memory",), positive=True),
            numatune=self.numatune(data["numatune"]) if "numatune" in data else None,
            cells=tuple(self.cell(i, raw) for i, raw in enumerate(_cell_list(data))),
            auto_cells=frozenset(
                i for i, raw in enumerate(_cell_list(data)) if raw.get("host_nodes") == AUTO
            ),
            cell_count=data["cells"] if isinstance(data.get("cells"), int) else None,
            cpu=cpu,
            hugepages=(
                Hugepages(
                    self.size(data["hugepages"]["size"], ("hugepages", "size"), positive=True)
                ),
            )
            if "hugepages" in data
            else (),
            positions=self.positions,
        )

    def numatune(self, raw: dict[str, Any]) -> NumaTuneIntent:
        nodeset = raw.get("nodeset")
        auto = nodeset == AUTO
        return NumaTuneIntent(
            mode=MemMode(raw.get("mode", "strict")),
            nodeset=self.idset(nodeset, ("numatune", "nodeset"))
            if nodeset is not None and not auto
            else None,
            placement=Placement(raw.get("placement", "static")),
            nodeset_auto=auto,
            reserve_kib=self.size(raw["reserve"], ("numatune", "reserve"))
            if "reserve" in raw
            else 0,
        )

    def cpu(self, raw: dict[str, Any]) -> CpuPolicy:
        topology = raw.get("topology")
        emulator = raw.get("emulator")
        if emulator is not None and emulator not in (AUTO, "node"):
            emulator = self.idset(emulator, ("cpu", "emulator"))
        return CpuPolicy(
            pinning=Pinning(raw.get("pinning", "none")),
            threads=ThreadPolicy(raw.get("threads", "prefer")),
            reserved=self.idset(raw["reserved"], ("cpu", "reserved"))
            if "reserved" in raw
            else frozenset(),
            emulator=emulator,
            topology=CpuTopology(
                sockets=topology["sockets"],
                dies=topology.get("dies", 1),
                clusters=1,
                cores=topology["cores"],
                threads=topology["threads"],
            )
            if isinstance(topology, dict)
            else None,
            topology_auto=topology == AUTO,
        )

    def cell(self, index: int, raw: dict[str, Any]) -> GuestCell:
        path: JsonPath = ("cells", index)
        cpus = raw.get("cpus")
        host_nodes = raw.get("host_nodes")
        if host_nodes == AUTO:
            host_nodes = None  # Intent.auto_cells says the cell waits for placement
        return GuestCell(
            index=index,
            id=raw.get("id", index),
            cpus=self.idset(cpus, (*path, "cpus")) if cpus is not None else frozenset(),
            memory_kib=self.size(raw["memory"], (*path, "memory")),
            host_nodes=self.idset(host_nodes, (*path, "host_nodes"))
            if host_nodes is not None
            else None,
            mode=MemMode(raw["mode"]) if "mode" in raw else None,
            mem_access=raw.get("mem_access"),
            distances={int(k): v for k, v in raw.get("distances", {}).items()},
        )

    def size(self, value: Any, path: JsonPath, *, positive: bool = False) -> int:
        try:
            kib = parse_size_kib(value)
        except SizeError as exc:
            self.report("VN005", exc.message, path, exc.hint)
            return 0
        if positive and kib == 0:
            self.report(
                "VN005",
                f"size {value!r} must be greater than zero",
                path,
                'libvirt: "Memory size must be specified via <memory> or in the <numa> configuration"',
            )
        return kib

    def idset(self, value: Any, path: JsonPath) -> frozenset[int]:
        try:
            return parse_cpuset(value)
        except CpusetError as exc:
            self.report("VN006", exc.message, path, exc.hint)
            return frozenset()

    def report(self, code: str, message: str, path: JsonPath, hint: str | None) -> None:
        span = self.positions.locate(path)
        self.diagnostics.append(
            make_diagnostic(code, message, self.shown, span, hint=hint, json_path=path)
        )
