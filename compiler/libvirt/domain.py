"""Read a libvirt domain XML (`virsh dumpxml`) as the `Guest` every stage checks.

Every value gets a position keyed by the JSON path an intent would use for it
(``("cells", 1, "cpus")`` is the `cpus` attribute of the second `<cell>`), so the
topology rules run unchanged and point at the right line and column of the XML.
Where libvirt parses leniently (defaults, inferred placement), the lifter does what
libvirt's parser does (`numa_conf.c`, `domain_conf.c`). Every element and attribute is
found and parsed through its declaration in `vnuma.libvirt.elements` (path and type).
"""

from __future__ import annotations

from typing import Any

from vnuma.codes import make_diagnostic
from vnuma.cpusets import CpusetError, parse_cpuset
from vnuma.diagnostics import DeferredSpans, Diagnostic, JsonPath, PositionMap, Span
from vnuma.libvirt import elements as e
from vnuma.libvirt.values import (
    SizeRefused,
    parse_memory_kib,
    parse_node_int,
    parse_prop_uint,
    parse_uint,
    parse_xpath_uint,
)
from vnuma.load.document import XmlDocument
from vnuma.model.guest import (
    DOMAIN_LANGUAGE,
    CpuTopology,
    DomainExtras,
    Guest,
    GuestCell,
    Hugepages,
    MemMode,
    MemNodeRef,
    MemoryDevice,
    NumaTune,
    PciNodeRef,
    Placement,
    VcpuPin,
)

SYSTEM_PAGE_KIB = 4
# The page size libvirt uses for `<hugepages/>` without `<page>`: the host's default
# hugetlbfs size, 2 MiB on x86_64 and aarch64 (4 KiB base pages), 16 MiB on ppc64.
DEFAULT_HUGEPAGE_KIB = {"ppc64": 16384, "ppc64le": 16384}


def lift_domain(doc: XmlDocument) -> tuple[Guest | None, list[Diagnostic]]:
    """The domain as a Guest, and what libvirt would refuse while reading it.

    A value libvirt cannot read (VN005, VN006, VN016) does not stop the others: the guest
    holds a stand-in for it and names the part it belongs to in
    ``DomainExtras.unreadable``, so that the check stage runs every check whose inputs
    were read (libvirt, too, reports each of these in turn as they are fixed)."""
    lifter = _Lifter(doc)
    guest = lifter.lift()
    return guest, lifter.diagnostics


def _select(found: list[Any], tags: tuple[str, ...]) -> list[Any]:
    """The elements down ``tags`` from ``found``, in document order: what lxml's
    ``findall("./a/b")`` returns, at a fraction of its ElementPath engine's cost (several
    microseconds a call, and `iterchildren(tag)` is not much cheaper than a loop)."""
    for tag in tags:
        if not found:
            break
        found = [child for parent in found for child in parent if child.tag == tag]
    return found


def _string(element: Any) -> str:
    """The element's XPath ``string()``, as libvirt reads ``string(./vcpu[1])``: all the
    text inside it (comments left out), its white space kept."""
    return "".join(element.itertext())


# Device NUMA nodes are C ints (non-negative, at most INT_MAX); libvirt's messages for them.
_NODE_MESSAGES = {
    e.MEMORY_DEVICE_NODE: "invalid value of memory device node",
    e.CONTROLLER_NODE: "invalid NUMA node in target",
}


def _children_by_tag(node: Any) -> dict[str, list[Any]]:
    """``node``'s child elements by tag (comments and processing instructions have none)."""
    children: dict[str, list[Any]] = {}
    for child in node:
        if isinstance(child.tag, str):
            children.setdefault(child.tag, []).append(child)
    return children


class _Lifter:
    def __init__(self, doc: XmlDocument) -> None:
        assert doc.root is not None and doc.locator is not None
        self.doc = doc
        self.root = doc.root
        self.locator = doc.locator
        self.value_tokens: dict[JsonPath, Any] = {}
        self.key_tokens: dict[JsonPath, Any] = {}
        self.positions = PositionMap(
            DeferredSpans(self.locator.locate, self.value_tokens),
            DeferredSpans(self.locator.locate, self.key_tokens),
        )
        self.diagnostics: list[Diagnostic] = []
        self.fatal = False
        self.area = "domain"
        """The part of the guest being read (a `Check.reads` name)."""
        self.unreadable: set[str] = set()
        self.top = _children_by_tag(self.root)
        self.found: dict[e.Element, list[Any]] = {}
        """The elements at a declared path under `<domain>`, once looked up."""

    # --- finding elements -------------------------------------------------------

    def findall(
        self, declared: e.Element, node: Any = None, base: e.Element | None = None
    ) -> list[Any]:
        """As ``declared.findall(node or <domain>, base)``."""
        if node is not None:
            return _select([node], declared.steps_below(base))
        found = self.found.get(declared)
        if found is None:
            steps = declared.steps
            found = self.found[declared] = _select(self.top.get(steps[0], []), steps[1:])
        return found

    def find(self, declared: e.Element, node: Any = None, base: e.Element | None = None) -> Any:
        """As ``declared.find(node or <domain>, base)``."""
        found = self.findall(declared, node, base)
        return found[0] if found else None

    # --- positions and reporting ------------------------------------------------

    # Positions are located when a finding asks for them (DeferredSpans).

    def at(self, path: JsonPath, element: Any, attribute: str | None = None) -> None:
        if element is None:
            return
        self.key_tokens.setdefault(path, (element, None, False))
        self.value_tokens[path] = (element, attribute, False)

    def at_text(self, path: JsonPath, element: Any) -> None:
        self.value_tokens[path] = (element, None, True)
        self.key_tokens.setdefault(path, (element, None, False))

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
        if fatal:
            self.unreadable.add(self.area)

    def reading(self, area: str) -> _Lifter:
        """Report what follows as a problem of ``area`` (a `Check.reads` name)."""
        self.area = area
        return self

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
        # virXMLPropUInt: an unsigned int, no sign '-', no trailing white space
        value = parse_prop_uint(raw)
        if value is None:
            self.report(
                "VN016",
                f"Invalid value for attribute '{name}' in element '{element.tag}': '{raw}'. "
                "Expected non-negative integer value",
                self.locator.attribute(element, name),
            )
        return value

    def node_text(self, element: Any, declared: e.Element) -> int | None:
        """A device's NUMA node (`<target><node>`): a non-negative C int."""
        value = parse_node_int(_string(element))
        if value is None:
            message = _NODE_MESSAGES.get(declared, f"{declared.what} must be an integer")
            self.report("VN016", message, self.locator.text(element))
        return value

    def size(
        self, element: Any, raw: str | None, declared: e.Attribute | e.Element, *, required: bool
    ) -> int | None:
        """A size (``virDomainParseMemory``) in KiB; None when absent, empty or refused.
        ``declared``: the attribute, or the element whose text, ``raw`` is (located only
        when refused: a fleet's every cell has a size)."""
        if not raw:
            if required:
                self.report(
                    "VN016",
                    f"missing element or attribute '{declared.xpath}'",
                    self.locator.element(element),
                )
            return None
        unit = element.get(e.KIB.unit)
        try:
            return parse_memory_kib(raw, unit, declared.xpath)
        except SizeRefused as exc:
            if exc.unit:
                self.report(
                    "VN005",
                    f"unknown unit '{unit}' in element '{element.tag}'",
                    self.locator.attribute(element, e.KIB.unit),
                    hint="libvirt units: b, KiB (default), MiB, GiB, TiB, KB, MB, GB ...",
                )
            else:
                span = (
                    self.locator.attribute(element, declared.name)
                    if isinstance(declared, e.Attribute)
                    else self.locator.text(element)
                )
                self.report("VN016", exc.message, span)
            return None

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
        raw: str | None = element.get(name)
        if raw is None or raw in allowed:
            return raw
        self.report(
            "VN016",
            f"Invalid value for attribute '{name}' in element '{element.tag}': '{raw}'.",
            self.locator.attribute(element, name),
            hint="expected one of: " + ", ".join(sorted(allowed)),
        )
        return None

    def attr(self, element: Any, declared: e.Attribute) -> Any:
        """A declared attribute of ``element``, parsed as its type; None when absent or bad."""
        value = declared.value
        if value is e.UINT:
            return self.uint_attr(element, declared.name, required=declared.required)
        if value is e.KIB:
            raw = element.get(declared.name)
            return self.size(element, raw, declared, required=declared.required)
        if value is e.CPUSET:
            return self.cpuset_attr(element, declared.name)
        if value.kind == "enum":
            return self.enum_attr(element, declared.name, value.choices)
        return declared.get(element)

    def text(self, element: Any, declared: e.Element) -> Any:
        """The text of a declared element, parsed as its type; None when bad."""
        value = declared.text
        if value is e.UINT:
            return self.node_text(element, declared)
        if value is e.KIB:
            required = declared is e.MEMORY_DEVICE_SIZE  # <memory> may come from the cells
            return self.size(element, _string(element), declared, required=required)
        if value is e.CPUSET:
            try:
                return parse_cpuset((element.text or "").strip())
            except CpusetError as exc:
                self.report("VN006", exc.message, self.locator.text(element), exc.hint)
                return None
        return element.text

    # --- the domain -------------------------------------------------------------

    def lift(self) -> Guest:
        root = self.root
        self.at((), root)
        os_type = self.find(e.OS_TYPE)
        arch = e.OS_ARCH.get(os_type) if os_type is not None else None
        vcpus, current, vcpu_placement, vcpu_cpuset = self.reading("vcpus").vcpu()
        cells = self.reading("cells").cells()
        memory_kib, memory_given = self.reading("memory").memory(cells)
        numatune, memnodes, cells = self.reading("numatune").numatune(cells, vcpu_placement)
        max_memory_kib, max_memory_slots = self.reading("max_memory").max_memory()
        pins = self.reading("pins").pins()
        emulator_pin = self.reading("pins").emulator_pin()
        memory_devices = self.reading("memory_devices").memory_devices()
        pci_nodes = self.reading("pci_nodes").pci_nodes()
        topology = self.reading("topology").topology()
        hugepages = self.reading("hugepages").hugepages(arch, has_cells=bool(cells))
        allocation = self.reading("hugepages").allocation()
        self.reading("domain")
        extras = DomainExtras(
            vcpus_current=current,
            vcpu_cpuset=vcpu_cpuset,
            pins=pins,
            emulator_pin=emulator_pin,
            memnodes=memnodes,
            memory_devices=memory_devices,
            pci_nodes=pci_nodes,
            max_memory_kib=max_memory_kib,
            max_memory_slots=max_memory_slots,
            topology=topology,
            numa_without_cells=self.find(e.NUMA) is not None and not cells,
            memory_given=memory_given,
            arch=arch,
            machine=e.OS_MACHINE.get(os_type) if os_type is not None else None,
            uuid=self.identity(e.UUID),
            memory_allocation=allocation,
            unreadable=frozenset(self.unreadable),
        )
        return Guest(
            path=self.doc.path,
            vcpus=vcpus,
            memory_kib=memory_kib,
            language=DOMAIN_LANGUAGE,
            name=self.identity(e.NAME),
            numatune=numatune,
            # libvirt binds the guest-wide policy to its own nodeset only: memnodes bind
            # their cells, not <numatune><memory>
            effective_nodeset=numatune.nodeset
            if numatune is not None and numatune.placement is Placement.STATIC
            else None,
            cells=cells,
            hugepages=hugepages,
            domain=extras,
            positions=self.positions,
        )

    def identity(self, declared: e.Element) -> str | None:
        """<name> or <uuid> as written (None when absent): what makes two files one guest."""
        element = self.find(declared)
        text = (element.text or "").strip() if element is not None else ""
        if not text:
            return None
        self.at_text((declared.tag,), element)
        return text.lower() if declared is e.UUID else text

    def vcpu(self) -> tuple[int, int | None, Placement, frozenset[int] | None]:
        element = self.find(e.VCPU)
        if element is None:
            return 1, None, Placement.STATIC, None
        self.at_text(("vcpus",), element)
        # virXPathUInt: an unsigned int ('-1' wraps to UINT_MAX); the text's white space
        # counts, so "<vcpu>\n  4\n</vcpu>" is refused for the newline after the 4
        count = parse_xpath_uint(_string(element))
        given = count is not None and count > 0
        if count is None or count == 0:
            self.report(
                "VN016",
                "maximum vcpus count must be an integer"
                if count is None
                else "Domain requires at least 1 vCPU",
                self.locator.text(element),
            )
            count = 1
        current = self.attr(element, e.VCPU_CURRENT)
        if current is not None:
            self.at(("vcpus_current",), element, e.VCPU_CURRENT.name)
        placement = self.attr(element, e.VCPU_PLACEMENT) or "static"
        cpuset = self.attr(element, e.VCPU_CPUSET)
        if cpuset is not None:
            self.at(("vcpu_cpuset",), element, e.VCPU_CPUSET.name)
        self.vcpu_ids(count if given else None)
        return count, current, Placement(placement), cpuset

    def vcpu_ids(self, count: int | None) -> None:
        """`<vcpus><vcpu id>`: each id an unsigned int below the maximum vCPU count."""
        for element in self.findall(e.VCPUS_VCPU):
            vcpu_id = self.attr(element, e.VCPUS_VCPU_ID)
            if vcpu_id is not None and count is not None and vcpu_id >= count:
                self.report(
                    "VN016",
                    f"vcpu id '{vcpu_id}' is out of range of maximum vcpu count",
                    self.locator.attribute(element, e.VCPUS_VCPU_ID.name),
                )

    def memory(self, cells: tuple[GuestCell, ...]) -> tuple[int, bool]:
        element = self.find(e.MEMORY)
        current = self.find(e.CURRENT_MEMORY)
        if current is not None:
            self.text(current, e.CURRENT_MEMORY)  # read only to refuse what libvirt refuses
        cell_sum = sum(cell.memory_kib for cell in cells)
        if element is None:
            numa = self.find(e.NUMA)
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
        size = self.text(element, e.MEMORY)
        # an empty <memory></memory> is no size, as an absent one (virParseScaledValue)
        if (size == 0 or not _string(element)) and not cells:
            self.report(
                "VN016",
                "Memory size must be specified via <memory> or in the <numa> configuration",
                self.locator.text(element),
                hint="a guest needs memory: give <memory> a size above zero",
            )
        return size or 0, True

    def max_memory(self) -> tuple[int | None, int | None]:
        element = self.find(e.MAX_MEMORY)
        if element is None:
            return None, None
        self.at_text(("max_memory",), element)
        return self.text(element, e.MAX_MEMORY), parse_prop_uint(e.MAX_MEMORY_SLOTS.get(element))

    def topology(self) -> CpuTopology | None:
        element = self.find(e.TOPOLOGY)
        if element is None:
            return None
        self.at(("cpu", "topology"), element)
        values = {count.name: self.attr(element, count) for count in e.TOPOLOGY_COUNTS}
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
        numa = self.find(e.NUMA)
        if numa is None:
            return ()
        self.at(("cells",), numa)
        return tuple(
            self.cell(index, element)
            for index, element in enumerate(self.findall(e.CELL, numa, e.NUMA))
        )

    def cell(self, index: int, element: Any) -> GuestCell:
        path: JsonPath = ("cells", index)
        self.at(path, element)
        cell_id = self.attr(element, e.CELL_ID)
        if cell_id is not None:
            self.at((*path, "id"), element, e.CELL_ID.name)
        cpus = self.attr(element, e.CELL_CPUS)
        self.at((*path, "cpus"), element, e.CELL_CPUS.name)
        memory = self.attr(element, e.CELL_MEMORY)
        self.at((*path, "memory"), element, e.CELL_MEMORY.name)
        access = self.attr(element, e.CELL_MEM_ACCESS)
        if access is not None:
            self.at((*path, "mem_access"), element, e.CELL_MEM_ACCESS.name)
        return GuestCell(
            index=index,
            id=cell_id if cell_id is not None else index,
            cpus=cpus or frozenset(),
            memory_kib=memory or 0,
            mem_access=access,
            distances=self.distances(path, element),
        )

    def distances(self, path: JsonPath, cell: Any) -> dict[int, int]:
        block = self.find(e.DISTANCES, cell, e.CELL)
        if block is None:
            return {}
        self.at((*path, "distances"), block)
        result: dict[int, int] = {}
        for sibling in self.findall(e.SIBLING, block, e.DISTANCES):
            target = self.attr(sibling, e.SIBLING_ID)
            value = self.attr(sibling, e.SIBLING_VALUE)
            if target is None or value is None:
                continue
            self.at((*path, "distances", str(target)), sibling, e.SIBLING_VALUE.name)
            result[target] = value
        return result

    def numatune(
        self, cells: tuple[GuestCell, ...], vcpu_placement: Placement
    ) -> tuple[NumaTune | None, tuple[MemNodeRef, ...], tuple[GuestCell, ...]]:
        block = self.find(e.NUMATUNE)
        memory = self.find(e.NUMATUNE_MEMORY, block, e.NUMATUNE) if block is not None else None
        memnode_elements = self.findall(e.MEMNODE, block, e.NUMATUNE) if block is not None else []
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
                self.at(("numatune",), self.find(e.VCPU), e.VCPU_PLACEMENT.name)
                return NumaTune(placement=Placement.AUTO)
            return None
        self.at(("numatune",), memory)
        mode = self.attr(memory, e.NUMATUNE_MODE) or "strict"
        self.at(("numatune", "mode"), memory, e.NUMATUNE_MODE.name)
        nodeset = self.attr(memory, e.NUMATUNE_NODESET)
        has_nodeset = e.NUMATUNE_NODESET.get(memory) is not None
        if has_nodeset:
            self.at(("numatune", "nodeset"), memory, e.NUMATUNE_NODESET.name)
        placement = self.attr(memory, e.NUMATUNE_PLACEMENT)
        if e.NUMATUNE_PLACEMENT.get(memory) is not None:
            self.at(("numatune", "placement"), memory, e.NUMATUNE_PLACEMENT.name)
        if placement is None:
            placement = "static" if has_nodeset else vcpu_placement.value
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
            cellid = self.attr(element, e.MEMNODE_CELLID)
            if cellid is None:
                continue
            self.at((*path, "cellid"), element, e.MEMNODE_CELLID.name)
            refs.append(MemNodeRef(cellid, path))
            mode = self.attr(element, e.MEMNODE_MODE) or "strict"
            nodeset = self.attr(element, e.MEMNODE_NODESET)
            cell = by_id.get(cellid)
            if cell is None or cellid in bound:
                continue
            bound.add(cellid)
            self.at((*cell.path, "host_nodes"), element, e.MEMNODE_NODESET.name)
            self.at((*cell.path, "mode"), element, e.MEMNODE_MODE.name)
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
        block = self.find(e.HUGEPAGES)
        if block is None:
            return ()
        pages = self.findall(e.PAGE, block, e.HUGEPAGES)
        if not pages:
            self.at(("hugepages", 0), block)
            size = DEFAULT_HUGEPAGE_KIB.get(arch or "", 2048)
            return (Hugepages(size, None, ("hugepages", 0)),)
        result = []
        for index, page in enumerate(pages):
            path: JsonPath = ("hugepages", index)
            self.at(path, page)
            self.at((*path, "size"), page, e.PAGE_SIZE.name)
            size = self.attr(page, e.PAGE_SIZE)
            if size is None:
                continue
            if size == 0:
                self.report(
                    "VN005",
                    "hugepage size can't be zero",
                    self.locator.attribute(page, e.PAGE_SIZE.name),
                )
                continue
            cells = self.attr(page, e.PAGE_NODESET)
            if e.PAGE_NODESET.get(page) is not None:
                self.at((*path, "nodeset"), page, e.PAGE_NODESET.name)
            if not has_cells and cells is not None and cells <= {0}:
                cells = None  # without guest cells, node 0 is the whole guest (libvirt)
            if size == SYSTEM_PAGE_KIB:
                continue  # the system page size counts as no huge pages (qemu_command.c)
            result.append(Hugepages(size, cells, (*path, "size")))
        return tuple(result)

    def allocation(self) -> str | None:
        """`<memoryBacking><allocation mode>` (None when not written)."""
        element = self.find(e.ALLOCATION)
        if element is None:
            return None
        mode: str | None = self.attr(element, e.ALLOCATION_MODE)
        if mode is not None:
            self.at(("memory_allocation",), element, e.ALLOCATION_MODE.name)
        return mode

    def pins(self) -> tuple[VcpuPin, ...]:
        pins = []
        for index, element in enumerate(self.findall(e.VCPUPIN)):
            path: JsonPath = ("pins", index)
            self.at(path, element)
            vcpu = self.attr(element, e.VCPUPIN_VCPU)
            self.at((*path, "vcpu"), element, e.VCPUPIN_VCPU.name)
            if e.VCPUPIN_CPUSET.get(element) is None:
                self.report("VN016", "missing cpuset for vcpupin", self.locator.element(element))
                continue
            cpuset = self.attr(element, e.VCPUPIN_CPUSET)
            self.at((*path, "cpuset"), element, e.VCPUPIN_CPUSET.name)
            if vcpu is not None and cpuset is not None:
                pins.append(VcpuPin(vcpu, cpuset, path))
        return tuple(pins)

    def emulator_pin(self) -> frozenset[int] | None:
        element = self.find(e.EMULATORPIN)
        if element is None:
            return None
        self.at(("emulator_pin",), element, e.EMULATORPIN_CPUSET.name)
        cpuset: frozenset[int] | None = self.attr(element, e.EMULATORPIN_CPUSET)
        return cpuset

    def memory_devices(self) -> tuple[MemoryDevice, ...]:
        devices = []
        for index, element in enumerate(self.findall(e.MEMORY_DEVICE)):
            path: JsonPath = ("memory_devices", index)
            self.at(path, element)
            size_element = self.find(e.MEMORY_DEVICE_SIZE, element, e.MEMORY_DEVICE)
            size = (
                self.text(size_element, e.MEMORY_DEVICE_SIZE) if size_element is not None else None
            )
            node_element = self.find(e.MEMORY_DEVICE_NODE, element, e.MEMORY_DEVICE)
            node = None
            if node_element is not None:
                node = self.text(node_element, e.MEMORY_DEVICE_NODE)
                self.at_text((*path, "node"), node_element)
            model = e.MEMORY_DEVICE_MODEL.get(element, "") or ""
            nodemask_element = self.find(e.MEMORY_DEVICE_NODEMASK, element, e.MEMORY_DEVICE)
            nodemask = None
            if nodemask_element is not None:
                nodemask = self.text(nodemask_element, e.MEMORY_DEVICE_NODEMASK)
                self.at_text((*path, "nodemask"), nodemask_element)
            address = self.find(e.MEMORY_DEVICE_ADDRESS, element, e.MEMORY_DEVICE)
            slot = None
            if address is not None and e.MEMORY_DEVICE_ADDRESS_TYPE.get(address) == "dimm":
                slot = self.attr(address, e.MEMORY_DEVICE_ADDRESS_SLOT)
                self.at((*path, "slot"), address, e.MEMORY_DEVICE_ADDRESS_SLOT.name)
            devices.append(MemoryDevice(model, size, node, path, nodemask, slot))
        return tuple(devices)

    def pci_nodes(self) -> tuple[PciNodeRef, ...]:
        refs = []
        for index, element in enumerate(self.findall(e.CONTROLLER)):
            node_element = self.find(e.CONTROLLER_NODE, element, e.CONTROLLER)
            if e.CONTROLLER_TYPE.get(element) != "pci" or node_element is None:
                continue
            path: JsonPath = ("pci_controllers", index)
            self.at(path, element)
            self.at_text((*path, "node"), node_element)
            node = self.text(node_element, e.CONTROLLER_NODE)
            if node is not None:
                bus = parse_uint(e.CONTROLLER_INDEX.get(element))
                model = e.CONTROLLER_MODEL.get(element, "") or ""
                refs.append(PciNodeRef(bus, model, node, path))
        return tuple(refs)
