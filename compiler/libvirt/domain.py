"""Lift a libvirt domain XML (`virsh dumpxml`) into the same model as an intent.

Every value gets a position keyed by the JSON path an intent would use for it
(``("cells", 1, "cpus")`` is the `cpus` attribute of the second `<cell>`), so the
topology rules run unchanged and point at the right line and column of the XML.
Where libvirt parses leniently (defaults, inferred placement), the lifter does what
libvirt's parser does (`numa_conf.c`, `domain_conf.c`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vnuma.cpusets import CpusetError, parse_cpuset
from vnuma.diagnostics import DeferredSpans, Diagnostic, JsonPath, PositionMap, Span
from vnuma.libvirt.values import parse_uint, scaled_kib
from vnuma.load.document import XmlDocument
from vnuma.model.intent import (
    CpuTopology,
    DomainExtras,
    GuestCell,
    Hugepages,
    Intent,
    MemMode,
    MemNodeRef,
    MemoryDevice,
    NumaTune,
    Origin,
    PciNodeRef,
    Placement,
    VcpuPin,
)
from vnuma.rules import make_diagnostic

SYSTEM_PAGE_KIB = 4
# The page size libvirt uses for `<hugepages/>` without `<page>`: the host's default
# hugetlbfs size, 2 MiB on x86_64 and aarch64 (4 KiB base pages), 16 MiB on ppc64.
DEFAULT_HUGEPAGE_KIB = {"ppc64": 16384, "ppc64le": 16384}
MEM_MODES = {mode.value for mode in MemMode}
MEM_ACCESS = ("shared", "private")


def lift_domain(doc: XmlDocument) -> tuple[Intent | None, list[Diagnostic]]:
    """The domain as an Intent (origin DOMAIN); None when a value libvirt needs is unreadable."""
    lifter = _Lifter(doc)
    intent = lifter.lift()
    return (None if lifter.fatal else intent), lifter.diagnostics


class _Lifter:
    def __init__(self, doc: XmlDocument) -> None:
        assert doc.root is not None and doc.locator is not None
        self.doc = doc
        self.root = doc.root
        self.locator = doc.locator
        self.values = DeferredSpans(self.locator.locate)
        self.keys = DeferredSpans(self.locator.locate)
        self.positions = PositionMap(self.values, self.keys)
        self.diagnostics: list[Diagnostic] = []
        self.fatal = False

    # --- positions and reporting ------------------------------------------------

    # Positions are located when a finding asks for them (DeferredSpans).

    def at(self, path: JsonPath, element: Any, attribute: str | None = None) -> None:
        if element is None:
            return
        self.keys.defer_default(path, (element, None, False))
        self.values.defer(path, (element, attribute, False))

    def at_text(self, path: JsonPath, element: Any) -> None:
        self.values.defer(path, (element, None, True))
        self.keys.defer_default(path, (element, None, False))

    def report(
        self,
        code: str,
        message: str,
        span: Span | None,
        hint: str | None = None,
        fatal: bool = True,
    ) -> None:
        self.diagnostics.append(make_diagnostic(code, message, self.doc.path, span, hint=hint))
        self.fatal = self.fatal or fatal

    # --- value readers (libvirt's messages) -------------------------------------

    def uint_attr(self, element: Any, name: str, *, required: bool = False) -> int | None:
        raw = element.get(name)
        if raw is None:
            if required:
                self.report(
                    "VN016",
                    f"Missing required attribute '{name}' in element '{element.tag}'",
                    self.locator.element(element),
                )
            return None
        value = parse_uint(raw)
        if value is None:
            self.report(
                "VN016",
                f"Invalid value for attribute '{name}' in element '{element.tag}': '{raw}'. "
                "Expected non-negative integer value",
                self.locator.attribute(element, name),
            )
        return value

    def uint_text(self, element: Any, what: str) -> int | None:
        value = parse_uint(element.text)
        if value is None:
            self.report(
                "VN016",
                f"{what} must be an integer, not '{(element.text or '').strip()}'",
                self.locator.text(element),
            )
        return value

    def scaled(self, element: Any, value: int | None, unit_attr: str = "unit") -> int | None:
        if value is None:
            return None
        kib = scaled_kib(value, element.get(unit_attr))
        if kib is None:
            self.report(
                "VN005",
                f"unknown unit '{element.get(unit_attr)}' in element '{element.tag}'",
                self.locator.attribute(element, unit_attr),
                hint="libvirt units: b, KiB (default), MiB, GiB, TiB, KB, MB, GB ...",
            )
        return kib

    def text_size(self, element: Any, what: str) -> int | None:
        return self.scaled(element, self.uint_text(element, what))

    def cpuset_attr(self, element: Any, name: str) -> frozenset[int] | None:
        raw = element.get(name)
        if raw is None:
            return None
        try:
            return parse_cpuset(raw)
        except CpusetError as exc:
            self.report("VN006", exc.message, self.locator.attribute(element, name), exc.hint)
            return None

    def enum_attr(self, element: Any, name: str, allowed: tuple[str, ...] | set[str]) -> str | None:
        raw = element.get(name)
        if raw is None or raw in allowed:
            return raw
        self.report(
            "VN016",
            f"Invalid value for attribute '{name}' in element '{element.tag}': '{raw}'.",
            self.locator.attribute(element, name),
            hint="expected one of: " + ", ".join(sorted(allowed)),
        )
        return None

    # --- the domain -------------------------------------------------------------

    def lift(self) -> Intent:
        root = self.root
        self.at((), root)
        os_type = root.find("os/type")
        arch = os_type.get("arch") if os_type is not None else None
        vcpus, current, vcpu_placement, vcpu_cpuset = self.vcpu()
        cells = self.cells()
        memory_kib, memory_given = self.memory(cells)
        numatune, memnodes, cells = self.numatune(cells, vcpu_placement)
        max_memory_kib, max_memory_slots = self.max_memory()
        extras = DomainExtras(
            vcpus_current=current,
            vcpu_cpuset=vcpu_cpuset,
            pins=self.pins(),
            emulator_pin=self.emulator_pin(),
            memnodes=memnodes,
            memory_devices=self.memory_devices(),
            pci_nodes=self.pci_nodes(),
            max_memory_kib=max_memory_kib,
            max_memory_slots=max_memory_slots,
            topology=self.topology(),
            numa_without_cells=root.find("cpu/numa") is not None and not cells,
            memory_given=memory_given,
            arch=arch,
            machine=os_type.get("machine") if os_type is not None else None,
        )
        name = root.findtext("name")
        return Intent(
            path=self.doc.path,
            vcpus=vcpus,
            memory_kib=memory_kib,
            name=name.strip() if name else Path(self.doc.path).stem,
            numatune=numatune,
            cells=cells,
            hugepages=self.hugepages(arch, has_cells=bool(cells)),
            origin=Origin.DOMAIN,
            domain=extras,
            positions=self.positions,
        )

    def vcpu(self) -> tuple[int, int | None, Placement, frozenset[int] | None]:
        element = self.root.find("vcpu")
        if element is None:
            return 1, None, Placement.STATIC, None
        self.at_text(("vcpus",), element)
        count = parse_uint(element.text)
        if count is None or count == 0:
            self.report(
                "VN016",
                "maximum vcpus count must be an integer"
                if count is None
                else "Domain requires at least 1 vCPU",
                self.locator.text(element),
            )
            count = 1
        current = self.uint_attr(element, "current")
        if current is not None:
            self.at(("vcpus_current",), element, "current")
        placement = self.enum_attr(element, "placement", ("static", "auto")) or "static"
        cpuset = self.cpuset_attr(element, "cpuset")
        if cpuset is not None:
            self.at(("vcpu_cpuset",), element, "cpuset")
        return count, current, Placement(placement), cpuset

    def memory(self, cells: tuple[GuestCell, ...]) -> tuple[int, bool]:
        element = self.root.find("memory")
        cell_sum = sum(cell.memory_kib for cell in cells)
        if element is None:
            numa = self.root.find("cpu/numa")
            self.at(("memory",), numa if numa is not None else self.root)
            if not cells:
                self.report(
                    "VN016",
                    "Memory size must be specified via <memory> or in the <numa> configuration",
                    self.locator.element(self.root),
                    hint="add <memory unit='GiB'>N</memory>",
                )
            return cell_sum, False
        self.at_text(("memory",), element)
        size = self.text_size(element, "memory size")
        if size == 0 and not cells:
            self.report(
                "VN016",
                "Memory size must be specified via <memory> or in the <numa> configuration",
                self.locator.text(element),
                hint="a guest needs memory: give <memory> a size above zero",
            )
        return size or 0, True

    def max_memory(self) -> tuple[int | None, int | None]:
        element = self.root.find("maxMemory")
        if element is None:
            return None, None
        self.at_text(("max_memory",), element)
        return self.text_size(element, "maximum memory size"), parse_uint(element.get("slots"))

    def topology(self) -> CpuTopology | None:
        element = self.root.find("cpu/topology")
        if element is None:
            return None
        self.at(("topology",), element)
        values = {
            name: self.uint_attr(element, name, required=name not in ("dies", "clusters"))
            for name in ("sockets", "dies", "clusters", "cores", "threads")
        }
        if any(values[n] is None for n in ("sockets", "cores", "threads")):
            return None
        return CpuTopology(
            sockets=values["sockets"] or 0,
            dies=values["dies"] if values["dies"] is not None else 1,
            clusters=values["clusters"] if values["clusters"] is not None else 1,
            cores=values["cores"] or 0,
            threads=values["threads"] or 0,
        )

    def cells(self) -> tuple[GuestCell, ...]:
        numa = self.root.find("cpu/numa")
        if numa is None:
            return ()
        self.at(("cells",), numa)
        return tuple(
            self.cell(index, element) for index, element in enumerate(numa.findall("cell"))
        )

    def cell(self, index: int, element: Any) -> GuestCell:
        path: JsonPath = ("cells", index)
        self.at(path, element)
        cell_id = self.uint_attr(element, "id")
        if cell_id is not None:
            self.at((*path, "id"), element, "id")
        cpus = self.cpuset_attr(element, "cpus")
        self.at((*path, "cpus"), element, "cpus")
        memory = self.scaled(element, self.uint_attr(element, "memory", required=True))
        self.at((*path, "memory"), element, "memory")
        access = self.enum_attr(element, "memAccess", MEM_ACCESS)
        if access is not None:
            self.at((*path, "mem_access"), element, "memAccess")
        return GuestCell(
            index=index,
            id=cell_id if cell_id is not None else index,
            cpus=cpus or frozenset(),
            memory_kib=memory or 0,
            mem_access=access,
            distances=self.distances(path, element),
        )

    def distances(self, path: JsonPath, cell: Any) -> dict[int, int]:
        block = cell.find("distances")
        if block is None:
            return {}
        self.at((*path, "distances"), block)
        result: dict[int, int] = {}
        for sibling in block.findall("sibling"):
            target = self.uint_attr(sibling, "id", required=True)
            value = self.uint_attr(sibling, "value", required=True)
            if target is None or value is None:
                continue
            self.at((*path, "distances", str(target)), sibling, "value")
            result[target] = value
        return result

    def numatune(
        self, cells: tuple[GuestCell, ...], vcpu_placement: Placement
    ) -> tuple[NumaTune | None, tuple[MemNodeRef, ...], tuple[GuestCell, ...]]:
        block = self.root.find("numatune")
        memory = block.find("memory") if block is not None else None
        memnode_elements = block.findall("memnode") if block is not None else []
        numatune = self.guest_wide_numatune(block, memory, vcpu_placement)
        if numatune is None and memnode_elements:
            self.at(("numatune",), block)
            numatune = NumaTune(guest_wide=False)
        refs, cells = self.memnodes(memnode_elements, cells)
        return numatune, refs, cells

    def guest_wide_numatune(
        self, block: Any, memory: Any, vcpu_placement: Placement
    ) -> NumaTune | None:
        if memory is None:
            if vcpu_placement is Placement.AUTO:
                # libvirt adds <memory mode='strict' placement='auto'/> (numa_conf.c)
                self.at(("numatune",), self.root.find("vcpu"), "placement")
                return NumaTune(placement=Placement.AUTO)
            return None
        self.at(("numatune",), memory)
        mode = self.enum_attr(memory, "mode", MEM_MODES) or "strict"
        self.at(("numatune", "mode"), memory, "mode")
        nodeset = self.cpuset_attr(memory, "nodeset")
        if memory.get("nodeset") is not None:
            self.at(("numatune", "nodeset"), memory, "nodeset")
        placement = self.enum_attr(memory, "placement", ("static", "auto"))
        if memory.get("placement") is not None:
            self.at(("numatune", "placement"), memory, "placement")
        if placement is None:
            placement = "static" if memory.get("nodeset") is not None else vcpu_placement.value
        return NumaTune(MemMode(mode), nodeset, Placement(placement))

    def memnodes(
        self, elements: list[Any], cells: tuple[GuestCell, ...]
    ) -> tuple[tuple[MemNodeRef, ...], tuple[GuestCell, ...]]:
        refs: list[MemNodeRef] = []
        by_id = {cell.id: cell for cell in cells}
        bound: set[int] = set()
        for index, element in enumerate(elements):
            path: JsonPath = ("memnodes", index)
            self.at(path, element)
            cellid = self.uint_attr(element, "cellid", required=True)
            if cellid is None:
                continue
            self.at((*path, "cellid"), element, "cellid")
            refs.append(MemNodeRef(cellid, path))
            mode = self.enum_attr(element, "mode", MEM_MODES) or "strict"
            nodeset = self.cpuset_attr(element, "nodeset")
            cell = by_id.get(cellid)
            if cell is None or cellid in bound:
                continue
            bound.add(cellid)
            self.at((*cell.path, "host_nodes"), element, "nodeset")
            self.at((*cell.path, "mode"), element, "mode")
            by_id[cellid] = GuestCell(
                index=cell.index,
                id=cell.id,
                cpus=cell.cpus,
                memory_kib=cell.memory_kib,
                host_nodes=nodeset,
                mode=MemMode(mode),
                mem_access=cell.mem_access,
                distances=cell.distances,
            )
        return tuple(refs), self._rebound(cells, by_id)

    @staticmethod
    def _rebound(
        cells: tuple[GuestCell, ...], by_id: dict[int, GuestCell]
    ) -> tuple[GuestCell, ...]:
        """Cells with their memnode bindings; a duplicated id keeps each cell's own entry."""
        out = []
        for cell in cells:
            replacement = by_id.get(cell.id)
            out.append(
                replacement if replacement is not None and replacement.index == cell.index else cell
            )
        return tuple(out)

    def hugepages(self, arch: str | None, *, has_cells: bool) -> tuple[Hugepages, ...]:
        block = self.root.find("memoryBacking/hugepages")
        if block is None:
            return ()
        pages = block.findall("page")
        if not pages:
            self.at(("hugepages", 0), block)
            size = DEFAULT_HUGEPAGE_KIB.get(arch or "", 2048)
            return (Hugepages(size, None, ("hugepages", 0)),)
        result = []
        for index, page in enumerate(pages):
            path: JsonPath = ("hugepages", index)
            self.at(path, page)
            self.at((*path, "size"), page, "size")
            size = self.scaled(page, self.uint_attr(page, "size", required=True))
            if size is None:
                continue
            if size == 0:
                self.report(
                    "VN005", "hugepage size can't be zero", self.locator.attribute(page, "size")
                )
                continue
            cells = self.cpuset_attr(page, "nodeset")
            if page.get("nodeset") is not None:
                self.at((*path, "nodeset"), page, "nodeset")
            if not has_cells and cells is not None and cells <= {0}:
                cells = None  # without guest cells, node 0 is the whole guest (libvirt)
            if size == SYSTEM_PAGE_KIB:
                continue  # the system page size counts as no huge pages (qemu_command.c)
            result.append(Hugepages(size, cells, (*path, "size")))
        return tuple(result)

    def pins(self) -> tuple[VcpuPin, ...]:
        pins = []
        for index, element in enumerate(self.root.findall("cputune/vcpupin")):
            path: JsonPath = ("pins", index)
            self.at(path, element)
            vcpu = self.uint_attr(element, "vcpu", required=True)
            self.at((*path, "vcpu"), element, "vcpu")
            if element.get("cpuset") is None:
                self.report("VN016", "missing cpuset for vcpupin", self.locator.element(element))
                continue
            cpuset = self.cpuset_attr(element, "cpuset")
            self.at((*path, "cpuset"), element, "cpuset")
            if vcpu is not None and cpuset is not None:
                pins.append(VcpuPin(vcpu, cpuset, path))
        return tuple(pins)

    def emulator_pin(self) -> frozenset[int] | None:
        element = self.root.find("cputune/emulatorpin")
        if element is None:
            return None
        self.at(("emulator_pin",), element, "cpuset")
        return self.cpuset_attr(element, "cpuset")

    def memory_devices(self) -> tuple[MemoryDevice, ...]:
        devices = []
        for index, element in enumerate(self.root.findall("devices/memory")):
            path: JsonPath = ("memory_devices", index)
            self.at(path, element)
            size_element = element.find("target/size")
            size = (
                self.text_size(size_element, "memory device size")
                if size_element is not None
                else None
            )
            node_element = element.find("target/node")
            node = None
            if node_element is not None:
                node = self.uint_text(node_element, "memory device target node")
                self.at_text((*path, "node"), node_element)
            devices.append(MemoryDevice(element.get("model", ""), size, node, path))
        return tuple(devices)

    def pci_nodes(self) -> tuple[PciNodeRef, ...]:
        refs = []
        for index, element in enumerate(self.root.findall("devices/controller")):
            node_element = element.find("target/node")
            if element.get("type") != "pci" or node_element is None:
                continue
            path: JsonPath = ("pci_controllers", index)
            self.at(path, element)
            self.at_text((*path, "node"), node_element)
            node = self.uint_text(node_element, "PCI controller target node")
            if node is not None:
                refs.append(
                    PciNodeRef(
                        parse_uint(element.get("index")), element.get("model", ""), node, path
                    )
                )
        return tuple(refs)
