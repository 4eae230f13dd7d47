"""Every libvirt domain element and attribute vnuma reads or writes, declared once.

One line names the path under ``<domain>``, the value's type and, by its place in this
file, the order (virt-manager's ``XMLProperty("./memory/@nodeset")`` is the model):

- the reader (`vnuma.libvirt.domain`) finds elements and parses values through them;
- the plan (`vnuma.emit.plan.plan_tree`) sets values at these paths, and the template
  (`templates/domain.xml.j2`) writes that tree: elements in their parent's ``children``
  order, attributes in the order they are declared here;
- the merge into a base domain (`vnuma.emit.render`) inserts by the same ``children`` order.

``children`` is libvirt's order of an element's children (``virDomainDefFormatInternal``
and the format functions it calls), in full where vnuma inserts elements, and as far as
vnuma reads them elsewhere. A ``kib`` value is a number and its ``unit`` attribute (libvirt
scales by it when reading; vnuma writes KiB). ``tests/test_elements.py`` checks that every
element and attribute in the compiled snapshots and every path the reader uses is declared
here exactly once, and that the output follows the declared order.

Only the compile and XML-lint paths import this module: linting an intent never does.
"""

from __future__ import annotations

from typing import Any

from vnuma.model.guest import MemMode, Placement
from vnuma.records import Record


class Value(Record):
    """How a value is spelled in libvirt's XML."""

    __slots__ = ("choices", "kind", "unit")

    def __init__(self, kind: str, choices: tuple[str, ...] = (), unit: str = "") -> None:
        self.kind = kind
        """uint (unsigned decimal), kib (a size with a `unit`), cpuset (libvirt set syntax
        "0-3,^2"), enum (one of ``choices``) or string."""
        self.choices = choices
        self.unit = unit
        """kib: the attribute of the same element that holds the unit (absent: KiB)."""

    def format(self, value: Any) -> str:
        if self.kind == "enum" and value not in self.choices:
            raise ValueError(f"{value!r} is not one of {self.choices}")
        return str(value)


UINT = Value("uint")
KIB = Value("kib", unit="unit")
CPUSET = Value("cpuset")
STRING = Value("string")
WRITTEN_UNIT = "KiB"


def enum(*choices: str) -> Value:
    return Value("enum", tuple(choices))


PLACEMENT = enum(*(p.value for p in Placement))
MEM_MODE = enum(*(m.value for m in MemMode))


class Element:
    """An element at ``path`` (``./cpu/numa/cell``; ``.`` is `<domain>` itself).

    A declaration is itself: compared and hashed by identity (a plain class)."""

    __slots__ = ("_ranks", "children", "path", "steps", "tag", "text", "what", "xpath")

    def __init__(
        self,
        path: str,
        text: Value | None = None,
        children: tuple[str, ...] = (),
        what: str = "",
        xpath: str = "",
    ) -> None:
        self.path = path
        self.text = text
        self.children = children
        self.what = what
        """How libvirt's messages name the text value ("memory size")."""
        self.xpath = xpath
        """kib: the XPath libvirt's size messages name (``./memory[1]``, ``./size``)."""
        self.tag = "domain" if path == "." else path.rsplit("/", 1)[1]
        self.steps: tuple[str, ...] = tuple(path.split("/")[1:])
        """The tags from `<domain>` down to this element."""
        self._ranks = {tag: index for index, tag in enumerate(children)}

    def __repr__(self) -> str:
        return f"Element({self.path!r})"

    @property
    def parent(self) -> Element:
        if self.path == ".":
            raise ValueError("<domain> has no parent")
        return ELEMENTS[self.path.rsplit("/", 1)[0]]

    def relative(self, base: Element | None = None) -> str:
        """The ElementPath from ``base`` (default `<domain>`) down to this element."""
        if base is None or base.path == ".":
            return self.path
        if not self.path.startswith(base.path + "/"):
            raise ValueError(f"{self.path} is not below {base.path}")
        return "." + self.path[len(base.path) :]

    def steps_below(self, base: Element | None = None) -> tuple[str, ...]:
        """The tags from ``base`` (default `<domain>`) down to this element."""
        if base is None or base.path == ".":
            return self.steps
        if self.steps[: len(base.steps)] != base.steps or len(self.steps) == len(base.steps):
            raise ValueError(f"{self.path} is not below {base.path}")
        return self.steps[len(base.steps) :]

    def find(self, node: Any, base: Element | None = None) -> Any:
        """The first such element under ``node``: the `<domain>`, or an element at ``base``."""
        return node.find(self.relative(base))

    def findall(self, node: Any, base: Element | None = None) -> list[Any]:
        """Every such element under ``node`` (as for ``find``), in document order."""
        found: list[Any] = node.findall(self.relative(base))
        return found

    def rank(self, tag: str) -> int:
        """A child's place in libvirt's order (unknown children go last)."""
        return self._ranks.get(tag, len(self.children))


class Attribute:
    """An attribute at ``path`` (``./numatune/memory/@mode``).

    A declaration is itself: compared and hashed by identity (a plain class)."""

    __slots__ = ("name", "path", "required", "value")

    def __init__(self, path: str, value: Value, required: bool = False) -> None:
        self.path = path
        self.value = value
        self.required = required
        self.name = path.rsplit("/@", 1)[1]

    def __repr__(self) -> str:
        return f"Attribute({self.path!r})"

    @property
    def xpath(self) -> str:
        """The XPath libvirt's size messages name, from the element (``./@memory``)."""
        return f"./@{self.name}"

    @property
    def element(self) -> Element:
        return ELEMENTS[self.path.rsplit("/@", 1)[0]]

    def get(self, node: Any, default: str | None = None) -> str | None:
        """The raw value on an element found at ``element``'s path."""
        value: str | None = node.get(self.name, default)
        return value


# --- <domain> (virDomainDefFormatInternal) ---------------------------------------------

DOMAIN = Element(
    ".",
    children=(
        "name", "uuid", "genid", "title", "description", "metadata", "maxMemory", "memory",
        "currentMemory", "blkiotune", "memtune", "memoryBacking", "vcpu", "vcpus", "iothreads",
        "iothreadids", "defaultiothread", "cputune", "numatune", "resource", "sysinfo",
        "bootloader", "bootloader_args", "os", "idmap", "features", "cpu", "clock",
        "on_poweroff", "on_reboot", "on_crash", "pm", "perf", "devices", "seclabel", "keywrap",
        "launchSecurity",
    ),
)  # fmt: skip
DOMAIN_TYPE = Attribute("./@type", STRING)
NAME = Element("./name", STRING)
UUID = Element("./uuid", STRING)

MAX_MEMORY = Element("./maxMemory", KIB, what="maximum memory size", xpath="./maxMemory[1]")
MAX_MEMORY_SLOTS = Attribute("./maxMemory/@slots", UINT)
MEMORY = Element("./memory", KIB, what="memory size", xpath="./memory[1]")
CURRENT_MEMORY = Element("./currentMemory", KIB, xpath="./currentMemory[1]")

MEMORY_BACKING = Element(
    "./memoryBacking",
    children=("hugepages", "nosharepages", "locked", "source", "access", "allocation", "discard"),
)
HUGEPAGES = Element("./memoryBacking/hugepages", children=("page",))
PAGE = Element("./memoryBacking/hugepages/page")
PAGE_SIZE = Attribute("./memoryBacking/hugepages/page/@size", KIB, required=True)
PAGE_NODESET = Attribute("./memoryBacking/hugepages/page/@nodeset", CPUSET)  # read only
ALLOCATION = Element("./memoryBacking/allocation")  # read only
ALLOCATION_MODE = Attribute("./memoryBacking/allocation/@mode", enum("immediate", "ondemand"))

VCPU = Element("./vcpu", UINT, what="maximum vcpus count")
VCPU_PLACEMENT = Attribute("./vcpu/@placement", PLACEMENT)
VCPU_CPUSET = Attribute("./vcpu/@cpuset", CPUSET)  # read; written for one node set, else kept
VCPU_CURRENT = Attribute("./vcpu/@current", UINT)  # read, and kept by the merge
VCPUS = Element("./vcpus", children=("vcpu",))  # read only
VCPUS_VCPU = Element("./vcpus/vcpu")
VCPUS_VCPU_ID = Attribute("./vcpus/vcpu/@id", UINT, required=True)

# virDomainCputuneDefFormat
CPUTUNE = Element(
    "./cputune",
    children=(
        "shares", "period", "quota", "global_period", "global_quota", "emulator_period",
        "emulator_quota", "iothread_period", "iothread_quota", "vcpupin", "emulatorpin",
        "iothreadpin", "vcpusched", "iothreadsched", "emulatorsched", "cachetune", "memorytune",
    ),
)  # fmt: skip
VCPUPIN = Element("./cputune/vcpupin")
VCPUPIN_VCPU = Attribute("./cputune/vcpupin/@vcpu", UINT, required=True)
VCPUPIN_CPUSET = Attribute("./cputune/vcpupin/@cpuset", CPUSET, required=True)
EMULATORPIN = Element("./cputune/emulatorpin")
EMULATORPIN_CPUSET = Attribute("./cputune/emulatorpin/@cpuset", CPUSET)

# virDomainNumatuneFormatXML
NUMATUNE = Element("./numatune", children=("memory", "memnode"))
NUMATUNE_MEMORY = Element("./numatune/memory")
NUMATUNE_MODE = Attribute("./numatune/memory/@mode", MEM_MODE)
NUMATUNE_PLACEMENT = Attribute("./numatune/memory/@placement", PLACEMENT)
NUMATUNE_NODESET = Attribute("./numatune/memory/@nodeset", CPUSET)
MEMNODE = Element("./numatune/memnode")
MEMNODE_CELLID = Attribute("./numatune/memnode/@cellid", UINT, required=True)
MEMNODE_MODE = Attribute("./numatune/memnode/@mode", MEM_MODE)
MEMNODE_NODESET = Attribute("./numatune/memnode/@nodeset", CPUSET)

OS = Element("./os", children=("type",))  # read only
OS_TYPE = Element("./os/type")
OS_ARCH = Attribute("./os/type/@arch", STRING)
OS_MACHINE = Attribute("./os/type/@machine", STRING)

# virCPUDefFormatBuf
CPU = Element(
    "./cpu", children=("model", "vendor", "topology", "cache", "maxphysaddr", "feature", "numa")
)
TOPOLOGY = Element("./cpu/topology")
TOPOLOGY_SOCKETS = Attribute("./cpu/topology/@sockets", UINT, required=True)
TOPOLOGY_DIES = Attribute("./cpu/topology/@dies", UINT)
# Read only: intents cannot say clusters, and domain.rng before libvirt 10.1 refuses it.
TOPOLOGY_CLUSTERS = Attribute("./cpu/topology/@clusters", UINT)
TOPOLOGY_CORES = Attribute("./cpu/topology/@cores", UINT, required=True)
TOPOLOGY_THREADS = Attribute("./cpu/topology/@threads", UINT, required=True)
TOPOLOGY_COUNTS = (
    TOPOLOGY_SOCKETS,
    TOPOLOGY_DIES,
    TOPOLOGY_CLUSTERS,
    TOPOLOGY_CORES,
    TOPOLOGY_THREADS,
)
"""Their product is the vCPU count; an absent one counts as 1."""

# virDomainNumaDefFormatXML
NUMA = Element("./cpu/numa", children=("cell", "interconnects"))
CELL = Element("./cpu/numa/cell", children=("distances", "cache"))
CELL_ID = Attribute("./cpu/numa/cell/@id", UINT)
CELL_CPUS = Attribute("./cpu/numa/cell/@cpus", CPUSET)
CELL_MEMORY = Attribute("./cpu/numa/cell/@memory", KIB, required=True)
CELL_MEM_ACCESS = Attribute("./cpu/numa/cell/@memAccess", enum("shared", "private"))
DISTANCES = Element("./cpu/numa/cell/distances", children=("sibling",))
SIBLING = Element("./cpu/numa/cell/distances/sibling")
SIBLING_ID = Attribute("./cpu/numa/cell/distances/sibling/@id", UINT, required=True)
SIBLING_VALUE = Attribute("./cpu/numa/cell/distances/sibling/@value", UINT, required=True)

# Read only: memory devices and PCI controllers placed on guest nodes.
DEVICES = Element("./devices", children=("controller", "memory"))
CONTROLLER = Element("./devices/controller", children=("target",))
CONTROLLER_TYPE = Attribute("./devices/controller/@type", STRING)
CONTROLLER_INDEX = Attribute("./devices/controller/@index", UINT)
CONTROLLER_MODEL = Attribute("./devices/controller/@model", STRING)
CONTROLLER_TARGET = Element("./devices/controller/target", children=("node",))
CONTROLLER_NODE = Element(
    "./devices/controller/target/node", UINT, what="PCI controller target node"
)
MEMORY_DEVICE = Element("./devices/memory", children=("source", "target", "address"))
MEMORY_DEVICE_MODEL = Attribute("./devices/memory/@model", STRING)
MEMORY_DEVICE_SOURCE = Element("./devices/memory/source", children=("pagesize", "nodemask"))
MEMORY_DEVICE_NODEMASK = Element(
    "./devices/memory/source/nodemask", CPUSET, what="memory device nodemask"
)
MEMORY_DEVICE_TARGET = Element("./devices/memory/target", children=("size", "node"))
MEMORY_DEVICE_SIZE = Element(
    "./devices/memory/target/size", KIB, what="memory device size", xpath="./size"
)
MEMORY_DEVICE_NODE = Element("./devices/memory/target/node", UINT, what="memory device target node")
MEMORY_DEVICE_ADDRESS = Element("./devices/memory/address")  # read only
MEMORY_DEVICE_ADDRESS_TYPE = Attribute("./devices/memory/address/@type", STRING)
MEMORY_DEVICE_ADDRESS_SLOT = Attribute("./devices/memory/address/@slot", UINT)


ELEMENTS: dict[str, Element] = {}
"""Every declared element by path, in declaration order."""
ATTRIBUTES: dict[str, tuple[Attribute, ...]] = {}
"""Each element's declared attributes, in declaration order: the order vnuma writes them."""
for _declared in list(globals().values()):
    if isinstance(_declared, Element):
        ELEMENTS[_declared.path] = _declared
        ATTRIBUTES[_declared.path] = ()
    elif isinstance(_declared, Attribute):
        _owner = _declared.path.rsplit("/@", 1)[0]
        ATTRIBUTES[_owner] = (*ATTRIBUTES[_owner], _declared)
del _declared, _owner
