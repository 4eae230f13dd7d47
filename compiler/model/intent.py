"""The guest NUMA intent as typed data, built from a schema-valid document."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.cpusets import CpusetError, parse_cpuset
from compiler.diagnostics import Diagnostic, JsonPath, PositionMap
from compiler.rules import make_diagnostic
from compiler.sizes import SizeError, parse_size_kib


class MemMode(enum.StrEnum):
    STRICT = "strict"
    PREFERRED = "preferred"
    INTERLEAVE = "interleave"
    RESTRICTIVE = "restrictive"

    @property
    def binds(self) -> bool:
        """Memory may come only from the nodeset (strict via mbind, restrictive via cgroups)."""
        return self in (MemMode.STRICT, MemMode.RESTRICTIVE)


class Placement(enum.StrEnum):
    STATIC = "static"
    AUTO = "auto"


@dataclass(frozen=True)
class NumaTune:
    mode: MemMode = MemMode.STRICT
    nodeset: frozenset[int] | None = None
    placement: Placement = Placement.STATIC


@dataclass(frozen=True)
class GuestCell:
    index: int
    id: int
    cpus: frozenset[int]
    memory_kib: int
    host_nodes: frozenset[int] | None = None
    mode: MemMode | None = None
    mem_access: str | None = None
    distances: dict[int, int] = field(default_factory=dict)

    @property
    def path(self) -> JsonPath:
        return ("cells", self.index)


@dataclass(frozen=True)
class Hugepages:
    size_kib: int


@dataclass(frozen=True)
class Binding:
    """Where a part of guest memory may live: host nodes and the mode that enforces it."""

    nodes: frozenset[int]
    mode: MemMode
    memory_kib: int
    path: JsonPath
    cell: GuestCell | None = None

    @property
    def label(self) -> str:
        return "the guest" if self.cell is None else f"guest cell {self.cell.id}"


@dataclass(frozen=True)
class Intent:
    path: str
    vcpus: int
    memory_kib: int
    name: str | None = None
    host_ref: Path | None = None
    numatune: NumaTune | None = None
    cells: tuple[GuestCell, ...] = ()
    hugepages: Hugepages | None = None
    positions: PositionMap = field(default_factory=PositionMap, compare=False, repr=False)

    @property
    def auto_placement(self) -> bool:
        return self.numatune is not None and self.numatune.placement is Placement.AUTO

    @property
    def memory_mode(self) -> MemMode:
        return self.numatune.mode if self.numatune else MemMode.STRICT

    def cell_mode(self, cell: GuestCell) -> MemMode:
        return cell.mode or self.memory_mode

    @property
    def effective_nodeset(self) -> frozenset[int] | None:
        """The <numatune><memory> nodeset: explicit, else the union of the cells' host nodes."""
        if self.auto_placement:
            return None
        if self.numatune is not None and self.numatune.nodeset is not None:
            return self.numatune.nodeset
        bound = [cell.host_nodes for cell in self.cells if cell.host_nodes]
        return frozenset().union(*bound) if bound else None

    def bindings(self) -> Iterator[Binding]:
        """Each cell's binding (its memnode, else the guest nodeset); the whole guest without cells."""
        nodeset = self.effective_nodeset
        if not self.cells:
            if nodeset is not None:
                yield Binding(nodeset, self.memory_mode, self.memory_kib, ("numatune", "nodeset"))
            return
        for cell in self.cells:
            if cell.host_nodes is not None:
                yield Binding(
                    cell.host_nodes,
                    self.cell_mode(cell),
                    cell.memory_kib,
                    (*cell.path, "host_nodes"),
                    cell,
                )
            elif nodeset is not None:
                yield Binding(
                    nodeset, self.memory_mode, cell.memory_kib, (*cell.path, "memory"), cell
                )


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
        return Intent(
            path=self.shown,
            name=data.get("name"),
            host_ref=(base_dir / host) if host else None,
            vcpus=data["vcpus"],
            memory_kib=self.size(data["memory"], ("memory",), positive=True),
            numatune=self.numatune(data["numatune"]) if "numatune" in data else None,
            cells=tuple(self.cell(i, raw) for i, raw in enumerate(data.get("cells", []))),
            hugepages=Hugepages(
                self.size(data["hugepages"]["size"], ("hugepages", "size"), positive=True)
            )
            if "hugepages" in data
            else None,
            positions=self.positions,
        )

    def numatune(self, raw: dict[str, Any]) -> NumaTune:
        nodeset = raw.get("nodeset")
        return NumaTune(
            mode=MemMode(raw.get("mode", "strict")),
            nodeset=self.idset(nodeset, ("numatune", "nodeset")) if nodeset is not None else None,
            placement=Placement(raw.get("placement", "static")),
        )

    def cell(self, index: int, raw: dict[str, Any]) -> GuestCell:
        path: JsonPath = ("cells", index)
        cpus = raw.get("cpus")
        host_nodes = raw.get("host_nodes")
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
