"""libvirt itself defines what vnuma emits and keeps its NUMA parts (libvirt-python, test driver).

Every compiled sample and every compiled-domain snapshot is defined on libvirt's
`test:///default` driver with `defineXMLFlags(xml, VIR_DOMAIN_DEFINE_VALIDATE)`: RelaxNG
validation, libvirt's parser, post-parse defaults and define-time validation, no hypervisor.
The domain libvirt parses back (`XMLDesc(0)`) must hold the same NUMA configuration as the
XML we sent, compared on a normalised model (sets of ints, KiB, libvirt's defaults made
explicit on both sides), so a dropped or rewritten element fails while libvirt's own
additions (ids, units, default attributes) do not.

Skipped without libvirt-python (`pip install 'vnuma[libvirt]'`) unless VNUMA_REQUIRE_LIBVIRT_PYTHON
is set, then the tests fail instead.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import pytest
from lxml import etree
from vnuma.cpusets import parse_cpuset
from vnuma.runner import CompileOptions, compile_intent

from tests.conftest import INTENTS, REPO, SAMPLES

try:
    import libvirt
except ImportError:  # pragma: no cover - depends on the environment
    libvirt = None

REQUIRED = bool(os.environ.get("VNUMA_REQUIRE_LIBVIRT_PYTHON"))
BASE_VM = SAMPLES / "domains" / "base-vm.xml"
SNAPSHOTS = REPO / "tests" / "__snapshots__"
# Every .xml snapshot is a compiled domain (a NUMA fragment or a merged full domain).
SNAPSHOT_FILES = sorted(SNAPSHOTS.rglob("*.xml"))

# The normaliser's own tests need no libvirt; everything that talks to libvirt goes through
# the `conn` fixture, which skips without libvirt-python (fails under the REQUIRE variable).
pytestmark = [pytest.mark.libvirt]
MISSING = "libvirt-python not installed (pip install 'vnuma[libvirt]')"

UNITS_KIB = {
    "b": 1 / 1024,
    "bytes": 1 / 1024,
    "kb": 1000 / 1024,
    "k": 1,
    "kib": 1,
    "mb": 1000**2 / 1024,
    "m": 1024,
    "mib": 1024,
    "gb": 1000**3 / 1024,
    "g": 1024**2,
    "gib": 1024**2,
    "tb": 1000**4 / 1024,
    "t": 1024**3,
    "tib": 1024**3,
}


def test_libvirt_python_present_when_required() -> None:
    if not REQUIRED:
        pytest.skip("VNUMA_REQUIRE_LIBVIRT_PYTHON is not set")
    assert libvirt is not None, (
        "VNUMA_REQUIRE_LIBVIRT_PYTHON is set but libvirt-python is missing (pip install 'vnuma[libvirt]')"
    )


@pytest.fixture(scope="module")
def conn():
    if libvirt is None:
        if not REQUIRED:
            pytest.skip(MISSING)
        pytest.fail("VNUMA_REQUIRE_LIBVIRT_PYTHON is set but `import libvirt` failed")
    # libvirt-python prints every error to stderr besides raising it; the exception is enough.
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    connection = libvirt.open("test:///default")
    yield connection
    connection.close()


# --- normalised model ------------------------------------------------------------------------


def _ids(text: str | None) -> frozenset[int] | None:
    return None if text is None else parse_cpuset(text)


def _kib(value: str | None, unit: str | None) -> int | None:
    if value is None:
        return None
    # libvirt's default unit for <memory>, cell memory and <page size> is KiB.
    return round(int(value) * UNITS_KIB[(unit or "KiB").lower()])


def numa_model(domain: etree._Element) -> dict:
    """The NUMA configuration of a domain, with libvirt's defaults filled in explicitly."""
    model: dict = {}
    memory = domain.find("memory")
    model["memory"] = None if memory is None else _kib(memory.text, memory.get("unit"))
    current = domain.find("currentMemory")
    # libvirt writes <currentMemory> = <memory> when it is absent, and always in KiB
    model["currentMemory"] = (
        model["memory"] if current is None else _kib(current.text, current.get("unit"))
    )

    vcpu = domain.find("vcpu")
    if vcpu is None:
        model["vcpu"] = None
    else:
        count = int(vcpu.text)
        model["vcpu"] = {
            "count": count,
            # libvirt's defaults: placement static (auto when numatune is auto, see below),
            # current = count (libvirt prints `current` only when it differs).
            "placement": vcpu.get("placement", "static"),
            "cpuset": _ids(vcpu.get("cpuset")),
            "current": int(vcpu.get("current", count)),
        }

    numatune = domain.find("numatune")
    memory_policy = None if numatune is None else numatune.find("memory")
    if memory_policy is None:
        model["numatune"] = None
    else:
        nodeset = memory_policy.get("nodeset")
        model["numatune"] = {
            "mode": memory_policy.get("mode", "strict"),
            "placement": memory_policy.get("placement", "static" if nodeset else "auto"),
            "nodeset": _ids(nodeset),
        }
    model["memnodes"] = {
        int(node.get("cellid")): (node.get("mode", "strict"), _ids(node.get("nodeset")))
        for node in ([] if numatune is None else numatune.findall("memnode"))
    }

    cells = {}
    for index, cell in enumerate(domain.findall("cpu/numa/cell")):
        distances = {
            int(sibling.get("id")): int(sibling.get("value"))
            for sibling in cell.findall("distances/sibling")
        }
        # libvirt numbers cells by position when `id` is absent; a cell without cpus (a
        # memory-only node) has the empty set.
        cells[int(cell.get("id", index))] = (
            _ids(cell.get("cpus")) or frozenset(),
            _kib(cell.get("memory"), cell.get("unit")),
            cell.get("memAccess"),
            cell.get("discard"),
            distances,
        )
    model["cells"] = cells

    model["vcpupin"] = {
        int(pin.get("vcpu")): _ids(pin.get("cpuset")) for pin in domain.findall("cputune/vcpupin")
    }
    emulator = domain.find("cputune/emulatorpin")
    model["emulatorpin"] = None if emulator is None else _ids(emulator.get("cpuset"))

    model["hugepages"] = sorted(
        (_kib(page.get("size"), page.get("unit")), _ids(page.get("nodeset")) or frozenset())
        for page in domain.findall("memoryBacking/hugepages/page")
    )
    model["hugepages_default"] = domain.find(
        "memoryBacking/hugepages"
    ) is not None and not domain.findall("memoryBacking/hugepages/page")

    topology = domain.find("cpu/topology")
    model["topology"] = (
        None
        if topology is None
        else {
            # dies and clusters default to 1 (libvirt 10+ may print clusters='1')
            key: int(topology.get(key, 1))
            for key in ("sockets", "dies", "clusters", "cores", "threads")
        }
    )
    return model


def parse(xml: str) -> etree._Element:
    return etree.fromstring(xml.encode("utf-8"), etree.XMLParser(remove_comments=True))


SAMPLE_NUMA = """<domain type="kvm">
  <memory unit="KiB">4194304</memory>
  <memoryBacking><hugepages><page size="2048" unit="KiB"/></hugepages></memoryBacking>
  <vcpu placement="static">4</vcpu>
  <cputune>
    <vcpupin vcpu="0" cpuset="0"/><vcpupin vcpu="1" cpuset="1"/>
    <emulatorpin cpuset="4"/>
  </cputune>
  <numatune>
    <memory mode="strict" nodeset="0-1"/>
    <memnode cellid="0" mode="strict" nodeset="0"/>
  </numatune>
  <cpu>
    <topology sockets="2" dies="1" cores="2" threads="1"/>
    <numa>
      <cell id="0" cpus="0-1" memory="2097152" unit="KiB" memAccess="shared">
        <distances><sibling id="0" value="10"/><sibling id="1" value="21"/></distances>
      </cell>
      <cell id="1" cpus="2-3" memory="2097152" unit="KiB"/>
    </numa>
  </cpu>
</domain>"""


def _edited(*edits: tuple[str, str | None, str | None]) -> str:
    """SAMPLE_NUMA with (xpath, attribute, value) edits: value None drops the attribute,
    attribute None sets the text, both None drop the element."""
    domain = parse(SAMPLE_NUMA)
    for xpath, attribute, value in edits:
        (element,) = domain.xpath(xpath)
        if attribute is None and value is None:
            element.getparent().remove(element)
        elif attribute is None:
            element.text = value
        elif value is None:
            del element.attrib[attribute]
        else:
            element.set(attribute, value)
    return etree.tostring(domain, encoding="unicode")


@pytest.mark.parametrize(
    "edit",
    [
        ("memory", "unit", None),  # KiB is the default unit
        ("cpu/numa/cell[2]", "id", None),  # cells are numbered by position
        [("cpu/numa/cell[1]", "memory", "2048"), ("cpu/numa/cell[1]", "unit", "MiB")],
        ("cpu/topology", "clusters", "1"),  # libvirt 10+ may print clusters='1'
        ("vcpu", "current", "4"),
        ("numatune/memory", "nodeset", "1,0"),
        ("numatune/memnode", "mode", None),  # strict is the default mode
    ],
    ids=lambda e: ";".join(f"{x}@{a}={v}" for x, a, v in (e if isinstance(e, list) else [e])),
)
def test_the_model_ignores_libvirts_defaults(edit) -> None:
    edits = edit if isinstance(edit, list) else [edit]
    assert numa_model(parse(_edited(*edits))) == numa_model(parse(SAMPLE_NUMA))


@pytest.mark.parametrize(
    "edit",
    [
        ("numatune/memnode", None, None),
        ("numatune/memnode", "nodeset", "1"),
        ("numatune/memory", "mode", "preferred"),
        ("cputune/vcpupin[2]", None, None),
        ("cputune/vcpupin[2]", "cpuset", "1-2"),
        ("cputune/emulatorpin", None, None),
        ("cpu/numa/cell[1]", "cpus", "0"),
        ("cpu/numa/cell[1]", "memAccess", None),
        ("cpu/numa/cell[1]", "discard", "yes"),
        ("cpu/numa/cell[1]/distances/sibling[2]", "value", "20"),
        ("cpu/numa/cell[2]", "memory", "1048576"),
        ("cpu/numa/cell[2]", None, None),
        ("memoryBacking/hugepages/page", "size", "1048576"),
        ("memoryBacking/hugepages/page", "nodeset", "0"),
        ("cpu/topology", "threads", "2"),
        ("vcpu", None, "8"),
        ("vcpu", "current", "2"),
        ("vcpu", "cpuset", "0-3"),
        ("memory", None, "2097152"),
    ],
    ids=lambda e: f"{e[0]}@{e[1]}={e[2]}",
)
def test_the_model_sees_our_elements_changed_or_dropped(edit) -> None:
    assert numa_model(parse(_edited(edit))) != numa_model(parse(SAMPLE_NUMA))


# --- building the domain we define -------------------------------------------------------------

NUMA_PARTS = ("memory", "currentMemory", "memoryBacking", "vcpu", "cputune", "numatune")


def is_full_domain(domain: etree._Element) -> bool:
    return domain.find("os") is not None and domain.find("devices") is not None


def merge_into_base(fragment: etree._Element) -> etree._Element:
    """Put a NUMA fragment's elements into samples/domains/base-vm.xml (a copy of it)."""
    base = parse(BASE_VM.read_text(encoding="utf-8"))
    for tag in NUMA_PARTS:
        ours = fragment.find(tag)
        theirs = base.find(tag)
        if ours is None:
            if tag == "currentMemory" and theirs is not None:
                # the base's 8 GiB balloon would exceed a smaller compiled <memory>:
                # an unballooned guest, as vnuma's own merge writes it.
                theirs.getparent().remove(theirs)
            continue
        if theirs is not None:
            theirs.getparent().replace(theirs, copy.deepcopy(ours))
        else:
            base.find("os").addprevious(copy.deepcopy(ours))
    ours_cpu = fragment.find("cpu")
    if ours_cpu is not None:
        cpu = base.find("cpu")
        # the base's <cpu mode='host-passthrough' .../> keeps its attributes, takes our children
        for child in list(cpu):
            cpu.remove(child)
        for child in ours_cpu:
            cpu.append(copy.deepcopy(child))
        for key, value in ours_cpu.attrib.items():
            cpu.set(key, value)
    return base


def definable(xml: str, name: str) -> str:
    domain = parse(xml)
    if not is_full_domain(domain):
        domain = merge_into_base(domain)
    # A unique name per case and no uuid: the test driver keeps every domain of the connection
    # and refuses a second definition with the same uuid under another name.
    if domain.find("name") is None:
        etree.SubElement(domain, "name")
    domain.find("name").text = name
    uuid = domain.find("uuid")
    if uuid is not None:
        domain.remove(uuid)
    # type='kvm' stays: the test driver accepts any domain type its parser knows (it does not
    # check hypervisor capabilities), so the domain we define is the one users get.
    return etree.tostring(domain, encoding="unicode")


# What libvirt 9.0 changed in the parsed-back XML of these cases, and why the model allows it:
# - <currentMemory unit='KiB'> = <memory> is added where we send none (fragments merged
#   above, where the base's balloon is dropped); the model defaults currentMemory to memory.
# - a ballooned <currentMemory unit='GiB'>12</currentMemory> comes back as 12582912 KiB;
#   the model holds KiB.
# - outside the model: <qemu:commandline> is dropped (the test driver has no qemu namespace),
#   <console type='pty'/> grows a <serial> and <target>, comments are gone.
# Our <vcpu>, <cputune>, <numatune>, <memoryBacking> and <cpu> come back textually unchanged;
# the defaults the model fills in (cell ids, unit='KiB', modes, dies/clusters, current)
# cover what other libvirt versions print on their own.
def define_and_compare(conn, xml: str, case: str) -> None:
    name = "vnuma-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", case).strip("-")
    sent = definable(xml, name)
    dom = conn.defineXMLFlags(sent, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
    try:
        back = dom.XMLDesc(0)
    finally:
        dom.undefine()
    ours, theirs = numa_model(parse(sent)), numa_model(parse(back))
    assert theirs == ours, f"libvirt changed the NUMA configuration of {case}:\n{back}"
    # the merge in this test must not lose anything either
    assert numa_model(parse(xml)) == ours


# --- the cases ---------------------------------------------------------------------------------


@pytest.mark.parametrize("intent", sorted(INTENTS.iterdir()), ids=lambda p: p.name)
def test_libvirt_keeps_every_compiled_sample(conn, intent: Path) -> None:
    outcome = compile_intent(CompileOptions(intent, domain_path=BASE_VM))
    assert outcome.xml is not None, outcome.diagnostics
    define_and_compare(conn, outcome.xml, f"sample-{intent.name}")


@pytest.mark.parametrize(
    "snapshot", SNAPSHOT_FILES, ids=lambda p: str(p.relative_to(SNAPSHOTS).with_suffix(""))
)
def test_libvirt_keeps_every_snapshot(conn, snapshot: Path) -> None:
    define_and_compare(conn, snapshot.read_text(encoding="utf-8"), f"snap-{snapshot.stem}")


def test_there_are_snapshots_to_check() -> None:
    assert len(SNAPSHOT_FILES) >= 40


BROKEN = {
    # vCPU 1 in two cells
    "vcpu-in-two-cells": (
        '<cell id="0" cpus="0-1" memory="1048576" unit="KiB"/>'
        '<cell id="1" cpus="1-3" memory="1048576" unit="KiB"/>',
        "",
        "NUMA cells 1 and 0 have overlapping vCPU ids",
    ),
    # a memnode for a cell the guest does not have
    "memnode-unknown-cell": (
        '<cell id="0" cpus="0-1" memory="1048576" unit="KiB"/>'
        '<cell id="1" cpus="2-3" memory="1048576" unit="KiB"/>',
        '<memnode cellid="5" mode="strict" nodeset="0"/>',
        "must correspond to existing guest's NUMA cell",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_libvirt_refuses_a_broken_domain(conn, case: str) -> None:
    cells, memnodes, message = BROKEN[case]
    fragment = (
        '<domain type="kvm"><memory unit="KiB">2097152</memory>'
        '<vcpu placement="static">4</vcpu>'
        f'<numatune><memory mode="strict" nodeset="0"/>{memnodes}</numatune>'
        f"<cpu><numa>{cells}</numa></cpu></domain>"
    )
    sent = definable(fragment, f"vnuma-broken-{case}")
    with pytest.raises(libvirt.libvirtError, match=re.escape(message)):
        conn.defineXMLFlags(sent, libvirt.VIR_DOMAIN_DEFINE_VALIDATE).undefine()
