"""Every rule that applies to libvirt domain XML, in XML form: `vnuma lint` on a small domain.

Each NEGATIVE case is a complete `<domain>` written inline (checked against a sample host
where the rule needs one) and says where the code must point: line and column are counted
by hand from the text (an element at its `<`, an attribute at the opening quote of its
value, a text value at its first non-space character). Each POSITIVE case is the smallest
change that makes the document correct and must not fire the code. The meta-test in
test_rules.py keeps these tables complete.

`dom()` wraps the interesting XML into a fixed skeleton, so positions are predictable::

    1  <domain type='kvm'>
    2    <name>guest</name>
    3    <memory unit='GiB'>16</memory>       the text starts at column 22
    4    <vcpu>8</vcpu>                        the text starts at column 9 (no attributes)
    5    <os><type arch='x86_64' machine='q35'>hvm</type></os>
    6    first line of the body (indented by 2 more spaces) ...
         </domain>

The helpers `numa()`, `numatune()`, `cputune()`, `memory_backing()` and `devices()` put
their items 4 spaces (numa: cells 6 spaces) into the document; each comment gives the
line and the ruler of the expected position.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from vnuma.commands.lint import LintOptions, lint
from vnuma.diagnostics import Diagnostic, Severity
from vnuma.report.config import default_config

from tests.conftest import HOSTS, REPO

E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO  # N: a note (info)

X86 = "<type arch='x86_64' machine='q35'>hvm</type>"
PPC = "<type arch='ppc64' machine='pseries'>hvm</type>"


def dom(
    *body: str,
    vcpu: str = "8",
    vcpu_attrs: str = "",
    memory: str | None = "16",
    os: str = X86,
) -> str:
    """A complete domain; `body` parts (each ending in a newline) start on line 6."""
    lines = [
        "<domain type='kvm'>",
        "  <name>guest</name>",
        f"  <memory unit='GiB'>{memory}</memory>" if memory is not None else "  <!-- no memory -->",
        f"  <vcpu{vcpu_attrs}>{vcpu}</vcpu>",
        f"  <os>{os}</os>",
    ]
    lines += textwrap.indent("".join(body), "  ").splitlines()
    lines.append("</domain>")
    return "\n".join(lines) + "\n"


def _block(tag: str, items: tuple[str, ...]) -> str:
    inner = "".join(textwrap.indent(item.rstrip("\n") + "\n", "  ") for item in items)
    return f"<{tag}>\n{inner}</{tag}>\n"


def numa(*cells: str) -> str:
    """`<cpu><numa>` with the cells 6 spaces into the document (`<cell` at column 7)."""
    inner = "".join(textwrap.indent(cell + "\n", "    ") for cell in cells)
    return f"<cpu>\n  <numa>\n{inner}  </numa>\n</cpu>\n"


def numatune(*items: str) -> str:
    return _block("numatune", items)


def cputune(*items: str) -> str:
    return _block("cputune", items)


def devices(*items: str) -> str:
    return _block("devices", items)


def memory_backing(*pages: str) -> str:
    """`<memoryBacking><hugepages>` with the pages 6 spaces into the document."""
    inner = "".join(textwrap.indent(page + "\n", "    ") for page in pages)
    return f"<memoryBacking>\n  <hugepages>\n{inner}  </hugepages>\n</memoryBacking>\n"


def memnode(cellid: int, nodeset: str, mode: str = "strict") -> str:
    # 4 spaces in: `    <memnode cellid='0' mode='strict' nodeset='0'/>`
    #               cellid quote at column 21, mode at 30, nodeset at 47 (mode strict)
    return f"<memnode cellid='{cellid}' mode='{mode}' nodeset='{nodeset}'/>"


def vcpupin(vcpu: int, cpuset: str) -> str:
    # 4 spaces in: `    <vcpupin vcpu='0' cpuset='2'/>`: vcpu at column 19, cpuset at 30
    return f"<vcpupin vcpu='{vcpu}' cpuset='{cpuset}'/>"


def dimm(size_gib: int, node: int) -> str:
    # in devices: `<memory` 4 spaces in, `<node>` 8 spaces in, its text at column 15
    return (
        "<memory model='dimm'>\n"
        "  <target>\n"
        f"    <size unit='GiB'>{size_gib}</size>\n"
        f"    <node>{node}</node>\n"
        "  </target>\n"
        "</memory>"
    )


def dimm_at(slot: int) -> str:
    """A 1 GiB DIMM on guest node 0 at `<address type='dimm' slot=...>` (its 6th line)."""
    return dimm(1, node=0).replace(
        "</memory>", f"  <address type='dimm' slot='{slot}'/>\n</memory>"
    )


def memory_device(model: str, size_gib: int, node: int | None = None, nodemask: str = "") -> str:
    """A `<memory model=...>` device; with ``nodemask`` its `<source><nodemask>` is on the
    third line of the device, 8 spaces into the document (its text at column 19)."""
    source = f"  <source>\n    <nodemask>{nodemask}</nodemask>\n  </source>\n" if nodemask else ""
    target_node = f"    <node>{node}</node>\n" if node is not None else ""
    return (
        f"<memory model='{model}'>\n{source}"
        "  <target>\n"
        f"    <size unit='GiB'>{size_gib}</size>\n"
        f"{target_node}"
        "  </target>\n"
        "</memory>"
    )


def pci_expander(index: int, node: int, model: str = "pci-expander-bus") -> str:
    # in devices: `<controller` 4 spaces in, `<node>` 8 spaces in (its text at column 15)
    return (
        f"<controller type='pci' index='{index}' model='{model}'>\n"
        "  <target busNr='254'>\n"
        f"    <node>{node}</node>\n"
        "  </target>\n"
        "</controller>"
    )


# Cells 6 spaces into the document, on lines 8 and 9 of `dom(numa(CELL0, CELL1))`:
#   `      <cell id='0' cpus='0-3' memory='8' unit='GiB'/>`
#    123456789012345678901234567890123456789012345678
#   id quote at column 16, cpus at 25, memory at 38, unit at 47
CELL0 = "<cell id='0' cpus='0-3' memory='8' unit='GiB'/>"
CELL1 = "<cell id='1' cpus='4-7' memory='8' unit='GiB'/>"
ID_COL, CPUS_COL, MEMORY_COL, UNIT_COL = 16, 25, 38, 47
TWO_CELLS = numa(CELL0, CELL1)  # lines 6-11; a block after it starts on line 12
ONE_CELL = numa("<cell id='0' cpus='0-7' memory='16' unit='GiB'/>")  # lines 6-10
MAX_MEMORY = "<maxMemory slots='4' unit='GiB'>32</maxMemory>\n"  # on line 6: text at column 35


def cell1(**changes: str) -> str:
    """CELL1 with some attribute values replaced (same columns while the lengths agree)."""
    text = CELL1
    for name, value in changes.items():
        old = text.split(f"{name}='", 1)[1].split("'", 1)[0]
        text = text.replace(f"{name}='{old}'", f"{name}='{value}'")
    return text


def with_siblings(cell: str, siblings: dict[int, int]) -> str:
    """The cell with a `<distances>` block: `<distances` 8 spaces in, `<sibling` 10 spaces.

    `          <sibling id='1' value='21'/>`: value quote at column 33.
    """
    rows = "".join(f"    <sibling id='{i}' value='{v}'/>\n" for i, v in siblings.items())
    return f"{cell[:-2]}>\n  <distances>\n{rows}  </distances>\n</cell>"


@dataclass
class XmlCase:
    code: str
    xml: str
    line: int | None = None
    column: int | None = None
    severity: Severity | None = None
    host: str | None = None
    id: str = ""
    # Every code the document produces, as a multiset (default: `code` once for a negative
    # case, nothing for a near miss): a case must not fire anything it does not mean to.
    expect: tuple[str, ...] | None = None


def _case_id(case: XmlCase) -> str:
    return f"{case.code}-{case.id}" if case.id else case.code


def params(cases: list[XmlCase]) -> list:
    return [pytest.param(case, id=_case_id(case)) for case in cases]


XEON = "2s-xeon.xml"  # nodes 0 (CPUs 0-19,40-59) and 1 (20-39,60-79); pools 64 x 1G, 1024 x 2M
LIVE = "2s-xeon-live.xml"  # the Xeon with free memory: node 0 has 40 GiB, 16 x 1G pages free
CXL = "cxl-memory-node.xml"  # node 2 has memory and no CPUs

XML_NEGATIVE: list[XmlCase] = [
    # --- reading the document ------------------------------------------------------------
    XmlCase(
        "VN001",
        # line 7: `    <vcpupin vcpu=0 cpuset='2'/>`: the unquoted value at column 19
        dom(cputune("<vcpupin vcpu=0 cpuset='2'/>")),
        7,
        19,
        E,
        id="unquoted-attribute",
    ),
    XmlCase(
        "VN001",
        # the `<cell>` on line 8 is never closed: libxml2 stops at `</numa>` on line 9
        dom(
            "<cpu>\n  <numa>\n    <cell id='0' cpus='0-7' memory='16' unit='GiB'>\n"
            "  </numa>\n</cpu>\n"
        ),
        9,
        None,
        E,
        id="tag-mismatch",
    ),
    XmlCase(
        "VN005",
        dom(numa(CELL0.replace("unit='GiB'", "unit='XiB'"), CELL1)),
        8,
        UNIT_COL,
        E,
        id="unknown-unit",
    ),
    XmlCase(
        "VN005",
        # line 8: `      <page size='0' unit='KiB'/>`: size quote at column 18
        dom(memory_backing("<page size='0' unit='KiB'/>")),
        8,
        18,
        E,
        id="hugepage-size-zero",
    ),
    XmlCase("VN006", dom(numa(CELL0.replace("'0-3'", "'aaa'"), CELL1)), 8, CPUS_COL, E, id="aaa"),
    XmlCase(
        "VN006",
        # line 7: `    <memory mode='strict' nodeset='0,^0'/>`: nodeset quote at column 35
        dom(numatune("<memory mode='strict' nodeset='0,^0'/>")),
        7,
        35,
        E,
        id="empty-set",
    ),
    XmlCase(
        "VN016",
        # line 8: `...unit='GiB' memAccess='bogus'/>`: 'GiB' ends at 51, memAccess quote at 63
        dom(numa(CELL0.replace("/>", " memAccess='bogus'/>"), CELL1)),
        8,
        63,
        E,
        id="memaccess-enum",
    ),
    XmlCase("VN016", dom(vcpu="eight"), 4, 9, E, id="vcpu-not-integer"),
    XmlCase("VN016", dom(vcpu="0"), 4, 9, E, id="vcpu-zero"),
    XmlCase("VN016", dom(memory="lots"), 3, 22, E, id="memory-not-integer"),
    XmlCase(
        "VN016",
        # the second `<cell` (line 9, column 7) lacks its required memory attribute
        dom(numa(CELL0, "<cell id='1' cpus='4-7'/>")),
        9,
        7,
        E,
        id="cell-memory-missing",
    ),
    XmlCase("VN016", dom(memory=None), 1, 1, E, id="no-memory-no-cells"),
    XmlCase("VN016", dom(memory="0"), 3, 22, E, id="memory-zero"),
    XmlCase(
        "VN016",
        dom(TWO_CELLS, numatune("<memnode cellid='0' mode='strct' nodeset='0'/>")),
        13,
        30,
        E,
        id="memnode-mode-enum",
    ),
    # --- guest cells (VN1xx) -----------------------------------------------------------------
    XmlCase("VN101", dom(numa(CELL0, cell1(id="2"))), 9, ID_COL, E),
    XmlCase("VN102", dom(numa(CELL0, cell1(id="0"))), 9, ID_COL, E),
    XmlCase("VN103", dom(numa(CELL0, cell1(cpus="4-9"))), 9, CPUS_COL, E),
    XmlCase("VN104", dom(TWO_CELLS.replace("'4-7'", "'3-7'")), 9, CPUS_COL, E),
    # `<numa` on line 7, column 5; a warning: libvirt moves vCPUs 8-9 to cell 0
    XmlCase("VN105", dom(TWO_CELLS, vcpu="10"), 7, 5, W),
    # `<memory>` text on line 3, column 22; a warning: libvirt replaces <memory> with 16 GiB
    XmlCase("VN106", dom(TWO_CELLS, memory="20"), 3, 22, W),
    XmlCase(
        "VN106",
        # cells 16 GiB plus a 1 GiB DIMM make 17 GiB, not the 16 written in <memory>
        dom(MAX_MEMORY, ONE_CELL, devices(dimm(1, node=0))),
        3,
        22,
        W,
        id="memory-device",
    ),
    XmlCase("VN107", dom(numa(CELL0, cell1(memory="0")), memory="8"), 9, MEMORY_COL, E),
    XmlCase(
        "VN108",
        # three cells with vCPUs, two vCPUs: VN103 names vCPU 2 (cell 2, line 10)
        dom(
            numa(
                "<cell id='0' cpus='0' memory='4' unit='GiB'/>",
                "<cell id='1' cpus='1' memory='4' unit='GiB'/>",
                "<cell id='2' cpus='2' memory='4' unit='GiB'/>",
            ),
            vcpu="2",
            memory="12",
        ),
        7,
        5,
        W,
        expect=("VN103", "VN108"),
    ),
    XmlCase(
        "VN109",
        # lines 8 `<cell>`, 9 `<distances>`, 10 sibling 0, 11 sibling 1 (value quote at 33)
        dom(numa(with_siblings(CELL0, {0: 10, 1: 10}), CELL1)),
        11,
        33,
        E,
    ),
    XmlCase(
        "VN110",
        # cell 0: lines 8-12 (its sibling on line 10); cell 1: lines 13-17
        dom(numa(with_siblings(CELL0, {1: 21}), with_siblings(CELL1, {0: 31}))),
        10,
        33,
        W,
    ),
    XmlCase(
        "VN111",
        # cell 0: lines 8-12, `<distances` on line 9 at column 9; cells 1 and 2 on 13, 14
        dom(
            numa(
                with_siblings("<cell id='0' cpus='0' memory='1' unit='GiB'/>", {1: 12}),
                "<cell id='1' cpus='1' memory='1' unit='GiB'/>",
                "<cell id='2' cpus='2' memory='1' unit='GiB'/>",
            ),
            vcpu="3",
            memory="3",
        ),
        9,
        9,
        W,
        expect=("VN111", "VN111"),  # cells 0 and 1 both lack a distance to cell 2
    ),
    XmlCase(
        "VN112",
        dom(numa(with_siblings(CELL0, {5: 21}), CELL1)),
        10,
        33,
        E,
        expect=("VN111", "VN112"),  # {5: 21} also leaves cell 0 without a distance to cell 1
    ),
    XmlCase(
        "VN113",
        # numatune on line 12: <memory> 13, memnode 0 on 14, memnode 1 on 15 (mode at 30)
        dom(
            TWO_CELLS,
            numatune(
                "<memory mode='restrictive' nodeset='0-1'/>",
                memnode(0, "0", "restrictive"),
                memnode(1, "1", "strict"),
            ),
        ),
        15,
        30,
        E,
    ),
    XmlCase(
        "VN114",
        dom(TWO_CELLS, numatune("<memory mode='strict' placement='auto'/>", memnode(0, "0"))),
        14,
        47,
        E,
        expect=("VN114", "VN122"),
    ),
    XmlCase(
        "VN114",
        # no <memory>: libvirt infers placement auto from <vcpu placement='auto'>
        dom(TWO_CELLS, numatune(memnode(0, "0")), vcpu_attrs=" placement='auto'"),
        13,
        47,
        E,
        id="from-vcpu-placement",
        expect=("VN114", "VN122"),
    ),
    XmlCase(
        "VN115",
        # line 7: `    <memory mode='preferred' nodeset='0-1'/>`: nodeset quote at column 38
        dom(numatune("<memory mode='preferred' nodeset='0-1'/>")),
        7,
        38,
        W,
    ),
    XmlCase(
        "VN115",
        dom(TWO_CELLS, numatune("<memnode cellid='1' mode='preferred' nodeset='0-1'/>")),
        13,
        50,  # `    <memnode cellid='1' mode='preferred' nodeset=`: 'preferred' ends at 40
        W,
        id="memnode",
    ),
    XmlCase(
        "VN115",
        # a memnode for every cell, and a guest-wide multi-node preferred <memory> beside
        # them: libvirt sets it as QEMU's policy at start (line 12, nodeset at column 38)
        dom(
            TWO_CELLS,
            numatune(
                "<memory mode='preferred' nodeset='0-1'/>",
                memnode(0, "0", "preferred"),
                memnode(1, "1", "preferred"),
            ),
        ),
        13,
        38,
        W,
        id="guest-wide-beside-memnodes",
    ),
    XmlCase(
        "VN116",
        dom(numatune("<memory mode='strict' nodeset='0' placement='auto'/>")),
        7,
        35,
        W,
        expect=("VN116", "VN122"),
    ),
    # line 7: `    <memory mode='strict' placement='auto'/>`: placement quote at column 37
    XmlCase("VN122", dom(numatune("<memory mode='strict' placement='auto'/>")), 7, 37, N),
    # line 4: `  <vcpu placement='auto'>8</vcpu>`: libvirt infers numatune placement auto
    XmlCase("VN122", dom(vcpu_attrs=" placement='auto'"), 4, 19, N, id="from-vcpu-placement"),
    XmlCase(
        "VN117",
        dom(
            TWO_CELLS,
            numatune("<memory mode='strict' nodeset='0'/>", memnode(0, "0"), memnode(1, "1")),
        ),
        15,
        47,
        W,
    ),
    XmlCase("VN118", dom(numatune("<memory mode='strict'/>")), 7, 5, E),
    XmlCase(
        "VN119",
        # a <memnode> without nodeset: libvirt "Missing required nodeset attribute"
        dom(TWO_CELLS, numatune("<memnode cellid='1' mode='interleave'/>")),
        13,
        30,
        E,
    ),
    XmlCase(
        "VN120",
        dom(
            numa(CELL0, "<cell id='1' cpus='4-7' memory='1536' unit='MiB'/>"),
            memory_backing("<page size='1' unit='GiB'/>"),
            memory=None,
        ),
        9,
        MEMORY_COL,
        E,
    ),
    XmlCase(
        "VN121",
        dom(numa(CELL0, cell1(memory="9007199254740991", unit="KiB")), memory=None),
        9,
        MEMORY_COL,
        E,
    ),
    # --- against a host (VN2xx) ------------------------------------------------------------
    XmlCase("VN201", dom(TWO_CELLS, numatune(memnode(0, "5"))), 13, 47, E, host=XEON),
    XmlCase(
        "VN201",
        dom(numatune("<memory mode='strict' nodeset='0-3'/>")),
        7,
        35,
        E,
        host=XEON,
        id="guest-wide",
        expect=("VN201", "VN201"),  # nodes 2 and 3
    ),
    XmlCase(
        "VN201",
        dom(numatune("<memory mode='strict' nodeset='4-8'/>")),
        7,
        35,
        E,
        host="epyc-nps4.xml",  # nodes 0-7
        id="epyc",
    ),
    XmlCase(
        "VN201",
        # maxMemory 6, ONE_CELL 7-11, devices 12, memory 13, source 14, `<nodemask>` 15
        dom(MAX_MEMORY, ONE_CELL, devices(memory_device("dimm", 1, 0, "0-3")), memory="17"),
        15,
        19,
        E,
        host=XEON,
        id="dimm-nodemask",
        expect=("VN201", "VN201"),  # nodes 2 and 3
    ),
    # ONE_CELL on lines 6-10, numatune 11, memnode 12
    XmlCase("VN202", dom(ONE_CELL, numatune(memnode(0, "2"))), 12, 47, W, host=CXL),
    XmlCase(
        "VN203",
        # node 0: 191 GiB, of which 66 GiB are huge page pools
        dom(
            numa(CELL0.replace("memory='8'", "memory='160'"), CELL1),
            numatune(memnode(0, "0"), memnode(1, "1")),
            memory="168",
        ),
        13,
        47,
        E,
        host=XEON,
    ),
    XmlCase(
        "VN204",
        dom(numatune("<memory mode='strict' nodeset='0-1'/>"), memory="300"),
        7,
        35,
        E,
        host=XEON,
    ),
    XmlCase("VN205", dom(memory_backing("<page size='16' unit='MiB'/>")), 8, 18, E, host=XEON),
    XmlCase(
        "VN206",
        # memnode on line 13; 96 x 1 GiB pages on node 0, whose pool holds 64
        dom(
            numa(CELL0.replace("memory='8'", "memory='96'"), CELL1),
            numatune(memnode(0, "0")),
            memory_backing("<page size='1' unit='GiB'/>"),
            memory="104",
        ),
        13,
        47,
        E,
        host=XEON,
    ),
    XmlCase(
        "VN209",
        dom(
            numa(CELL0.replace("memory='8'", "memory='48'"), CELL1),
            numatune(memnode(0, "0"), memnode(1, "1")),
            memory="56",
        ),
        13,
        47,
        W,
        host=LIVE,
    ),
    XmlCase(
        "VN210",
        dom(
            numa(CELL0.replace("memory='8'", "memory='32'"), CELL1),
            numatune(memnode(0, "0")),
            memory_backing("<page size='1' unit='GiB'/>"),
            memory="40",
        ),
        13,
        47,
        E,
        host=LIVE,
    ),
    XmlCase("VN207", dom(vcpu="96"), 4, 9, W, host=XEON),
    XmlCase("VN208", dom(memory="1024"), 3, 22, W, host=XEON),
    # --- domain-only (VN4xx) ----------------------------------------------------------------
    XmlCase("VN401", dom(cputune(vcpupin(8, "2"))), 7, 19, W),
    XmlCase("VN402", dom(cputune(vcpupin(0, "2"), vcpupin(0, "3"))), 8, 19, E),
    XmlCase(
        "VN403",
        # line 8: `    <emulatorpin cpuset='4-5'/>`: cpuset quote at column 25
        dom(cputune(vcpupin(0, "4"), "<emulatorpin cpuset='4-5'/>")),
        8,
        25,
        N,  # advice: libvirt runs it as written
    ),
    XmlCase(
        "VN404",
        # CPU 20 is on host node 1; cell 0's memory is on node 0 (cputune lines 6-8)
        dom(cputune(vcpupin(0, "20")), TWO_CELLS, numatune(memnode(0, "0"), memnode(1, "1"))),
        7,
        30,
        W,
        host=XEON,
    ),
    XmlCase(
        "VN404",
        dom(cputune(vcpupin(0, "20")), numatune("<memory mode='strict' nodeset='0'/>")),
        7,
        30,
        W,
        host=XEON,
        id="guest-wide",
    ),
    XmlCase("VN405", dom(cputune(vcpupin(0, "96"))), 7, 30, E, host=XEON),
    XmlCase(
        "VN405",
        dom(cputune("<emulatorpin cpuset='96'/>")),
        7,
        25,
        E,
        host=XEON,
        id="emulatorpin",
    ),
    # line 4: `  <vcpu cpuset='96'>8</vcpu>`: cpuset quote at column 16
    XmlCase("VN405", dom(vcpu_attrs=" cpuset='96'"), 4, 16, E, host=XEON, id="vcpu-cpuset"),
    XmlCase(
        "VN406",
        # maxMemory 6, ONE_CELL 7-11, devices 12, memory 13, target 14, size 15, node 16
        dom(MAX_MEMORY, ONE_CELL, devices(dimm(1, node=1)), memory="17"),
        16,
        15,
        E,
    ),
    XmlCase("VN407", dom(MAX_MEMORY), 6, 35, E),
    XmlCase(
        "VN407",
        # ONE_CELL 6-10, devices 11, the device's `<memory` on line 12 at column 5
        dom(ONE_CELL, devices(dimm(1, node=0)), memory="17"),
        12,
        5,
        E,
        id="device-without-maxmemory",
    ),
    XmlCase(
        "VN408", dom("<cpu>\n  <topology sockets='1' cores='4' threads='1'/>\n</cpu>\n"), 7, 5, E
    ),
    # line 4: `  <vcpu current='16'>8</vcpu>`: current quote at column 17
    XmlCase("VN409", dom(vcpu_attrs=" current='16'"), 4, 17, E),
    XmlCase("VN409", dom(vcpu_attrs=" current='0'"), 4, 17, E, id="zero"),
    XmlCase(
        "VN410",
        # ONE_CELL 6-10, memoryBacking 11, hugepages 12, page 13 (nodeset quote at 41)
        dom(ONE_CELL, memory_backing("<page size='2' unit='MiB' nodeset='1'/>")),
        13,
        41,
        E,
    ),
    XmlCase(
        "VN411",
        # pages on lines 14 and 15; the second one's size quote at column 18
        dom(
            TWO_CELLS,
            memory_backing("<page size='1' unit='GiB'/>", "<page size='2' unit='MiB'/>"),
        ),
        15,
        18,
        E,
        id="two-masters",
    ),
    XmlCase(
        "VN411",
        dom(
            TWO_CELLS,
            memory_backing(
                "<page size='1' unit='GiB' nodeset='0-1'/>",
                "<page size='2' unit='MiB' nodeset='1'/>",
            ),
        ),
        15,
        41,
        E,
        id="intersect",
    ),
    XmlCase("VN412", dom(TWO_CELLS, numatune(memnode(2, "0"))), 13, 21, E),
    XmlCase("VN412", dom(numatune(memnode(0, "0"))), 7, 5, E, id="no-cells"),
    XmlCase(
        "VN412",
        # no <memory> either (VN016): the memnode check reads neither, so it still runs
        dom(numatune(memnode(0, "0")), memory=None),
        7,
        5,
        E,
        id="no-cells-no-memory",
        expect=("VN016", "VN412"),
    ),
    XmlCase(
        "VN412", dom(TWO_CELLS, numatune(memnode(0, "0"), memnode(0, "1"))), 14, 21, E, id="twice"
    ),
    XmlCase("VN413", dom("<cpu>\n  <numa/>\n</cpu>\n"), 7, 5, E),
    XmlCase(
        "VN414",
        # 4 GiB in the cell plus a 5 GiB DIMM exceed maxMemory 8 GiB (text on line 6 at 35)
        dom(
            "<maxMemory slots='4' unit='GiB'>8</maxMemory>\n",
            numa("<cell id='0' cpus='0-7' memory='4' unit='GiB'/>"),
            devices(dimm(5, node=0)),
            memory="9",
        ),
        6,
        35,
        E,
    ),
    XmlCase(
        "VN415",
        dom(
            "<cpu>\n  <topology sockets='1' cores='2' threads='4'/>\n</cpu>\n",
            vcpu_attrs=" current='2'",
            os=PPC,
        ),
        4,
        17,
        E,
    ),
    XmlCase(
        "VN416",
        # ONE_CELL 6-10, devices 11, controller 12, target 13, `<node>` 14: text at 15
        dom(ONE_CELL, devices(pci_expander(1, node=3))),
        14,
        15,
        E,
    ),
    XmlCase(
        "VN416",
        dom(ONE_CELL, devices(pci_expander(0, node=0, model="pci-root"))),
        14,
        15,
        E,
        id="root-bus",
    ),
    XmlCase(
        "VN417",
        # two DIMMs, one slot: maxMemory's text on line 6 at column 35
        dom(
            MAX_MEMORY.replace("slots='4'", "slots='1'"),
            ONE_CELL,
            devices(dimm(1, node=0), memory_device("nvdimm", 1, 0)),
            memory="18",
        ),
        6,
        35,
        E,
    ),
    XmlCase(
        "VN419",
        # four slots (0-3), one DIMM at slot 4: VN417's count fits, the slot does not
        # (line 18: `      <address type='dimm' slot=`, the quote at column 33)
        dom(MAX_MEMORY, ONE_CELL, devices(dimm_at(slot=4)), memory="17"),
        18,
        33,
        E,
    ),
    XmlCase(
        "VN418",
        # pSeries may hot-plug without cells; 4 GiB of DIMM in a 2 GiB <memory>
        dom(MAX_MEMORY, devices(memory_device("dimm", 4)), memory="2", os=PPC),
        3,
        22,
        E,
    ),
    # --- suppressions ------------------------------------------------------------------------
    XmlCase(
        "VN015",
        # line 7: `    <!-- vnuma: disable=VN401 -->`: the code at column 25
        dom(cputune("<!-- vnuma: disable=VN401 -->", vcpupin(7, "2"))),
        7,
        25,
        W,
        id="unused",
    ),
    XmlCase(
        "VN015",
        dom(cputune("<!-- vnuma: disable=VN999 -->", vcpupin(7, "2"))),
        7,
        25,
        W,
        id="unknown-code",
    ),
    XmlCase(
        "VN015",
        dom(cputune("<!-- vnuma: disable=VN4O1 -->", vcpupin(7, "2"))),
        7,
        25,
        W,
        id="not-a-code",
    ),
    XmlCase(
        "VN015",
        # VN401 is used; `VN401, ` takes columns 25-31, so VN402 starts at 32
        dom(cputune("<!-- vnuma: disable=VN401, VN402 -->", vcpupin(8, "2"))),
        7,
        32,
        W,
        id="second-code-unused",
    ),
]

XML_POSITIVE: list[XmlCase] = [
    XmlCase("VN001", dom(cputune("<vcpupin vcpu='0' cpuset='2'/>"))),
    XmlCase("VN005", dom(numa(CELL0.replace("unit='GiB'", "unit='G'"), CELL1))),
    XmlCase("VN005", dom(memory_backing("<page size='4' unit='KiB'/>")), id="system-page"),
    XmlCase("VN006", dom(numatune("<memory mode='strict' nodeset='0-2,^2'/>"))),
    XmlCase("VN015", dom(cputune("<!-- vnuma: disable=VN401 -->", vcpupin(8, "2")))),
    XmlCase(
        "VN015",
        # a host rule that could not fire without a host: its suppression is not "unused"
        dom(cputune("<!-- vnuma: disable=VN404 -->", vcpupin(0, "2"))),
        id="host-rule-without-host",
    ),
    XmlCase("VN016", dom(numa(CELL0.replace("/>", " memAccess='shared'/>"), CELL1))),
    XmlCase("VN016", dom(TWO_CELLS, memory=None), id="memory-from-cells"),
    XmlCase("VN101", dom(TWO_CELLS)),
    XmlCase("VN102", dom(TWO_CELLS)),
    XmlCase("VN103", dom(numa(CELL0, cell1(cpus="4-9")), vcpu="10")),
    XmlCase("VN104", dom(TWO_CELLS)),
    XmlCase("VN105", dom(TWO_CELLS)),
    XmlCase("VN106", dom(TWO_CELLS, memory=None), id="no-memory-element"),
    XmlCase("VN106", dom(MAX_MEMORY, ONE_CELL, devices(dimm(1, node=0)), memory="17")),
    XmlCase("VN107", dom(TWO_CELLS)),
    XmlCase(
        "VN108",
        dom(
            numa(
                "<cell id='0' cpus='0' memory='8' unit='GiB'/>",
                "<cell id='1' cpus='1' memory='8' unit='GiB'/>",
            ),
            vcpu="2",
        ),
    ),
    XmlCase(
        "VN108",
        # more cells than vCPUs, the extra one memory-only: legal since libvirt 6.6.0
        dom(
            numa(
                "<cell id='0' cpus='0' memory='8' unit='GiB'/>",
                "<cell id='1' memory='8' unit='GiB'/>",
            ),
            vcpu="1",
        ),
        id="memory-only-cell",
    ),
    XmlCase("VN109", dom(numa(with_siblings(CELL0, {0: 10, 1: 21}), CELL1))),
    XmlCase("VN110", dom(numa(with_siblings(CELL0, {1: 21}), with_siblings(CELL1, {0: 21})))),
    XmlCase(
        "VN111",
        dom(
            numa(
                with_siblings("<cell id='0' cpus='0' memory='1' unit='GiB'/>", {1: 12, 2: 21}),
                with_siblings("<cell id='1' cpus='1' memory='1' unit='GiB'/>", {2: 21}),
                "<cell id='2' cpus='2' memory='1' unit='GiB'/>",
            ),
            vcpu="3",
            memory="3",
        ),
    ),
    XmlCase("VN112", dom(numa(with_siblings(CELL0, {1: 21}), CELL1))),
    XmlCase(
        "VN113",
        dom(
            TWO_CELLS,
            numatune(
                "<memory mode='restrictive' nodeset='0-1'/>",
                memnode(0, "0", "restrictive"),
                memnode(1, "1", "restrictive"),
            ),
        ),
    ),
    XmlCase(
        "VN114",
        dom(TWO_CELLS, numatune("<memory mode='strict' nodeset='0-1'/>", memnode(0, "0"))),
    ),
    XmlCase("VN115", dom(numatune("<memory mode='preferred' nodeset='1'/>"))),
    XmlCase(
        "VN115",
        # memnodes only (what vnuma writes), or a strict guest-wide <memory> beside them
        dom(TWO_CELLS, numatune(memnode(0, "0", "preferred"), memnode(1, "1", "preferred"))),
        id="memnodes-without-memory",
    ),
    XmlCase(
        "VN115",
        dom(
            TWO_CELLS,
            numatune(
                "<memory mode='strict' nodeset='0-1'/>",
                memnode(0, "0", "preferred"),
                memnode(1, "1", "preferred"),
            ),
        ),
        id="strict-memory-beside-preferred-memnodes",
    ),
    XmlCase("VN116", dom(numatune("<memory mode='strict' placement='auto'/>")), expect=("VN122",)),
    XmlCase("VN122", dom(numatune("<memory mode='strict' nodeset='0'/>"))),
    XmlCase(
        "VN117",
        dom(
            TWO_CELLS,
            numatune("<memory mode='strict' nodeset='0-1'/>", memnode(0, "0"), memnode(1, "1")),
        ),
    ),
    XmlCase("VN118", dom(numatune("<memory mode='strict' nodeset='0'/>"))),
    XmlCase(
        "VN119",
        dom(TWO_CELLS, numatune("<memnode cellid='1' mode='interleave' nodeset='1'/>")),
    ),
    XmlCase(
        "VN120",
        dom(
            numa(CELL0, "<cell id='1' cpus='4-7' memory='2048' unit='MiB'/>"),
            memory_backing("<page size='1' unit='GiB'/>"),
            memory=None,
        ),
    ),
    XmlCase(
        "VN121",
        # 1023 KiB less: the largest size whose 1 MiB alignment stays within LLONG_MAX bytes
        dom(numa(CELL0, cell1(memory="9007199254739968", unit="KiB")), memory=None),
    ),
    XmlCase("VN201", dom(TWO_CELLS, numatune(memnode(0, "1"))), host=XEON),
    XmlCase(
        "VN201",
        dom(numatune("<memory mode='strict' nodeset='4-7'/>")),
        host="epyc-nps4.xml",
        id="epyc",
    ),
    XmlCase("VN202", dom(ONE_CELL, numatune(memnode(0, "0"))), host=CXL),
    XmlCase(
        "VN203",
        dom(
            numa(CELL0.replace("memory='8'", "memory='120'"), CELL1),
            numatune(memnode(0, "0"), memnode(1, "1")),
            memory="128",
        ),
        host=XEON,
    ),
    XmlCase(
        "VN204", dom(numatune("<memory mode='strict' nodeset='0-1'/>"), memory="240"), host=XEON
    ),
    # 4 GiB of 2 MiB pages: 2048, exactly the pools' 2 x 1024 (16 GiB would also fire VN206)
    XmlCase("VN205", dom(memory_backing("<page size='2' unit='MiB'/>"), memory="4"), host=XEON),
    XmlCase(
        "VN206",
        dom(
            numa(CELL0.replace("memory='8'", "memory='64'"), CELL1),
            numatune(memnode(0, "0")),
            memory_backing("<page size='1' unit='GiB'/>"),
            memory="72",
        ),
        host=XEON,
    ),
    XmlCase(
        "VN209",
        dom(
            numa(CELL0.replace("memory='8'", "memory='32'"), CELL1),
            numatune(memnode(0, "0"), memnode(1, "1")),
            memory="40",
        ),
        host=LIVE,
    ),
    XmlCase(
        "VN210",
        dom(
            numa(CELL0.replace("memory='8'", "memory='16'"), CELL1),
            numatune(memnode(0, "0")),
            memory_backing("<page size='1' unit='GiB'/>"),
            memory="24",
        ),
        host=LIVE,
    ),
    XmlCase("VN207", dom(vcpu="80"), host=XEON),
    XmlCase("VN208", dom(memory="256"), host=XEON),
    XmlCase("VN401", dom(cputune(vcpupin(7, "2")))),
    XmlCase("VN402", dom(cputune(vcpupin(0, "2"), vcpupin(1, "3")))),
    XmlCase("VN403", dom(cputune(vcpupin(0, "4"), "<emulatorpin cpuset='5-6'/>"))),
    XmlCase(
        "VN404",
        dom(cputune(vcpupin(0, "2")), TWO_CELLS, numatune(memnode(0, "0"), memnode(1, "1"))),
        host=XEON,
    ),
    XmlCase(
        "VN404",
        # interleaved memory has no single home node to be remote from
        dom(cputune(vcpupin(0, "20")), numatune("<memory mode='interleave' nodeset='0'/>")),
        host=XEON,
        id="interleave",
    ),
    XmlCase("VN405", dom(cputune(vcpupin(0, "79"))), host=XEON),
    XmlCase("VN406", dom(MAX_MEMORY, ONE_CELL, devices(dimm(1, node=0)), memory="17")),
    XmlCase("VN407", dom(MAX_MEMORY, ONE_CELL)),
    XmlCase("VN408", dom("<cpu>\n  <topology sockets='1' cores='8' threads='1'/>\n</cpu>\n")),
    XmlCase("VN409", dom(vcpu_attrs=" current='8'")),
    XmlCase("VN410", dom(ONE_CELL, memory_backing("<page size='2' unit='MiB' nodeset='0'/>"))),
    XmlCase(
        "VN411",
        dom(
            TWO_CELLS,
            memory_backing(
                "<page size='1' unit='GiB' nodeset='0'/>", "<page size='2' unit='MiB'/>"
            ),
        ),
    ),
    XmlCase("VN412", dom(TWO_CELLS, numatune(memnode(1, "0")))),
    XmlCase("VN413", dom(ONE_CELL)),
    XmlCase(
        "VN414",
        dom(
            "<maxMemory slots='4' unit='GiB'>8</maxMemory>\n",
            numa("<cell id='0' cpus='0-7' memory='4' unit='GiB'/>"),
            devices(dimm(4, node=0)),
            memory="8",
        ),
    ),
    XmlCase(
        "VN415",
        dom(
            "<cpu>\n  <topology sockets='1' cores='2' threads='4'/>\n</cpu>\n",
            vcpu_attrs=" current='4'",
            os=PPC,
        ),
    ),
    XmlCase("VN416", dom(ONE_CELL, devices(pci_expander(1, node=0)))),
    XmlCase(
        "VN201",
        dom(MAX_MEMORY, ONE_CELL, devices(memory_device("dimm", 1, 0, "1")), memory="17"),
        host=XEON,
        id="dimm-nodemask",
    ),
    XmlCase(
        "VN417",
        # one slot: the DIMM takes it, virtio-mem takes none
        dom(
            MAX_MEMORY.replace("slots='4'", "slots='1'"),
            ONE_CELL,
            devices(dimm(1, node=0), memory_device("virtio-mem", 1, 0)),
            memory="18",
        ),
    ),
    XmlCase("VN418", dom(MAX_MEMORY, devices(memory_device("dimm", 4)), memory="6", os=PPC)),
    # the last of four slots (0-3)
    XmlCase("VN419", dom(MAX_MEMORY, ONE_CELL, devices(dimm_at(slot=3)), memory="17")),
]

# VN1xx/VN2xx check rules that no domain XML can trigger (the meta-test in test_rules.py
# requires an XML case for every other one). Every guest-cell and host rule can be reached
# from libvirt's elements: a per-cell mode without host nodes is a <memnode> without
# nodeset (VN119), restrictive mixing is <memory mode='restrictive'> plus a strict
# <memnode> (VN113), per-cell binding under auto placement is a <memnode> next to
# placement='auto' (VN114).
NOT_FROM_XML: dict[str, str] = {}

# The hint of each negative case's (first) finding; a case missing here must have none.
XML_HINTS: dict[str, str] = {
    "VN005-unknown-unit": "libvirt units: b, KiB (default), MiB, GiB, TiB, KB, MB, GB ...",
    "VN006-aaa": "use ids and ranges separated by commas, '^N' excludes: e.g. '0-7,^3'",
    "VN016-memaccess-enum": "expected one of: private, shared",
    "VN016-no-memory-no-cells": "add <memory unit='GiB'>N</memory>",
    "VN016-memory-zero": "a guest needs memory: give <memory> a size above zero",
    "VN016-memnode-mode-enum": "expected one of: interleave, preferred, restrictive, strict",
    "VN101": "libvirt: \"Exactly one 'cell' element per guest NUMA cell allowed, non-contiguous ranges or ranges not starting from 0 are not allowed\"; number cells 0..n-1",
    "VN102": "give every cell a distinct id 0..n-1, or omit id to use the position",
    "VN103": 'libvirt: "CPU IDs in <numa> exceed the <vcpu> count"; raise vcpus to 10 or fix the cell\'s cpus',
    "VN104": "put every vCPU in exactly one cell",
    "VN105": "add them to a cell's cpus so the definition says what the guest gets",
    "VN106": "set <memory unit='KiB'>16777216</memory>, or resize the cells",
    "VN106-memory-device": "set <memory unit='KiB'>17825792</memory>, or resize the cells",
    "VN107": 'QEMU: "can\'t create backend with size 0"; give the cell memory',
    "VN108": "raise vcpus to 3, or drop cpus from 1 cell(s) to make them memory-only (libvirt >= 6.6.0)",
    "VN122": 'install and run numad on the host, or libvirt fails at start with "Failed to query numad for the advisory nodeset"; or bind a static nodeset',
    "VN122-from-vcpu-placement": 'install and run numad on the host, or libvirt fails at start with "Failed to query numad for the advisory nodeset"; or bind a static nodeset',
    "VN109": "use 11..255",
    "VN110": "use one value for both directions",
    "VN111": "add `2: <value>` to cell 0's distances",
    "VN112": "guest cells are 0-1",
    "VN113": "libvirt: \"'restrictive' mode is required in memnode element when mode is 'restrictive' in memory element\"; set the cell's mode to restrictive",
    "VN114": 'libvirt: "Per-node binding is not compatible with automatic NUMA placement."; remove host_nodes or use a static nodeset',
    "VN114-from-vcpu-placement": 'libvirt: "Per-node binding is not compatible with automatic NUMA placement."; remove host_nodes or use a static nodeset',
    "VN115": "multi-node preferred needs Linux >= 5.15, QEMU >= 8.0 and libvirt >= 9.0, else only the first node is used; prefer one node or use interleave",
    "VN115-memnode": "multi-node preferred needs Linux >= 5.15, QEMU >= 8.0 and libvirt >= 9.0, else only the first node is used; prefer one node or use interleave",
    "VN115-guest-wide-beside-memnodes": "multi-node preferred needs Linux >= 5.15, QEMU >= 8.0 and libvirt >= 9.0, else only the first node is used; prefer one node or use interleave, or drop the guest-wide <memory> (the memnodes suffice)",
    "VN116": "keep one of them: a static nodeset, or placement auto",
    "VN117": "add them to numatune.nodeset (0-1) or omit the nodeset",
    "VN118": "libvirt: \"nodeset for NUMA memory tuning must be set if 'placement' is 'static'\"; give it a nodeset (an intent may bind its cells to host nodes instead), or use placement auto",
    "VN119": 'libvirt: "Missing required nodeset attribute in memnode element"; add host_nodes or drop mode',
    "VN120": 'QEMU: "memory size must be multiple of 1 GiB"; use 1GiB or 2GiB',
    "VN121": "libvirt: \"memory size of NUMA node '1' overflowed after alignment\"; check the size and unit",
    "VN201": "libvirt accepts this and fails only at `virsh start`; use existing host nodes",
    "VN201-guest-wide": "libvirt accepts this and fails only at `virsh start`; use existing host nodes",
    "VN201-epyc": "libvirt accepts this and fails only at `virsh start`; use existing host nodes",
    "VN202": "every memory access will be remote; bind to a node with CPUs, or make this a memory-only guest cell",
    "VN203": "host node(s) 125.44 GiB usable (66 GiB of it is set aside as huge pages); bind more nodes, shrink the guest, or use mode: preferred",
    "VN204": "host node(s) 251.36 GiB usable (132 GiB of it is set aside as huge pages); bind more nodes, shrink the guest, or use mode: preferred",
    "VN201-dimm-nodemask": "libvirt accepts this and fails only at `virsh start`; use existing host nodes",
    "VN205": 'libvirt: "Unable to find any usable hugetlbfs mount for 16384 KiB"; host page sizes: 4 KiB, 2 MiB, 1 GiB; use one and mount hugetlbfs for it before the guest starts, e.g. `mount -t hugetlbfs -o pagesize=2M hugetlbfs /dev/hugepages2M`',
    "VN206": '32 more 1 GiB page(s) needed on node(s) 0: raise /sys/devices/system/node/nodeN/hugepages/hugepages-1048576kB/nr_hugepages, bind more nodes or shrink the guest; libvirt also needs `mount -t hugetlbfs -o pagesize=1G hugetlbfs /dev/hugepages1G` before it starts ("Unable to find any usable hugetlbfs mount for 1048576 KiB")',
    "VN209": "bind nodes with free memory (see `vnuma host`), make room first, or use mode: preferred; if this guest already runs there, a live snapshot counts it as used",
    "VN210": "16 more free 1 GiB page(s) needed on node(s) 0: stop guests holding them, bind other nodes or grow the pool; if this guest already runs there, a live snapshot counts its pages as used",
    "VN207": "vCPUs will time-share host CPUs; lower vcpus unless overcommit is intended",
    "VN208": "check the size and unit; this needs swap or memory overcommit",
    "VN401": 'libvirt logs "Ignoring vcpupin for missing vcpus"; remove the pin or fix its vcpu',
    "VN402": "libvirt refuses this at define time; keep one pin per vCPU",
    "VN403": "pin the emulator to CPUs outside 4, e.g. the host's housekeeping CPUs",
    "VN404": "pin it to CPUs of node(s) 0 or bind the memory to node(s) 1",
    "VN404-guest-wide": "pin it to CPUs of node(s) 0 or bind the memory to node(s) 1",
    "VN405": 'the host has CPUs 0-79; libvirt fails at start with "cannot set CPU affinity"',
    "VN405-emulatorpin": 'the host has CPUs 0-79; libvirt fails at start with "cannot set CPU affinity"',
    "VN405-vcpu-cpuset": 'the host has CPUs 0-79; libvirt fails at start with "cannot set CPU affinity"',
    "VN406": "use a node 0-0",
    "VN407": 'libvirt: "At least one numa node has to be configured when enabling memory hotplug"; add one <cell> with all vCPUs and the memory',
    "VN407-device-without-maxmemory": "libvirt: \"cannot use/hotplug a memory device when domain 'maxMemory' is not defined\"; add <maxMemory slots='16' unit='GiB'>N</maxMemory>",
    "VN408": 'libvirt: "CPU topology doesn\'t match maximum vcpu count"',
    "VN409": 'libvirt: "maximum vCPU count must not be less than current vCPU count"',
    "VN409-zero": 'libvirt: "maximum vCPU count must not be less than current vCPU count"',
    "VN410": "the page nodeset lists guest cells, not host nodes; bind host nodes with <memnode>",
    "VN411-two-masters": "give one of them a nodeset of guest cells",
    "VN411-intersect": "each guest cell can use one page size",
    "VN412": "libvirt: \"Argument 'cellid' in memnode element must correspond to existing guest's NUMA cell\"",
    "VN412-no-cells": "add <cpu><numa> cells, or use <numatune><memory> for the whole guest",
    "VN412-twice": "keep one memnode per cell",
    "VN413": "add <cell> elements or delete <numa>",
    "VN414": "raise <maxMemory> to at least 9 GiB",
    "VN415": 'libvirt: "vCPUs count must be a multiple of the vCPU hotplug granularity (4)"',
    "VN416": "use a guest cell 0-0",
    "VN412-no-cells-no-memory": "add <cpu><numa> cells, or use <numatune><memory> for the whole guest",
    "VN419": "slots are numbered 0-3: use a free one, or set <maxMemory slots='5'> or more",
    "VN417": "set <maxMemory slots='2'> or more (each dimm and nvdimm takes a slot; virtio-mem and virtio-pmem take none), or remove devices",
    "VN418": "<memory> is initial memory plus the devices: set <memory unit='KiB'>6291456</memory> if 2 GiB was meant as initial memory",
    "VN416-root-bus": "remove <node> from the root controller; put devices on an expander bus instead",
    "VN015-unused": "remove it from the comment",
    "VN015-unknown-code": "remove it from the comment",
    "VN015-not-a-code": "remove it from the comment",
    "VN015-second-code-unused": "remove it from the comment",
}


def run_xml(xml: str, tmp_path: Path, host: str | None = None, name: str = "guest.xml"):
    path = tmp_path / name
    path.write_text(xml, encoding="utf-8")
    report = lint(
        LintOptions(
            paths=(path,),
            config=default_config(tmp_path),
            host_path=HOSTS / host if host else None,
            keep_models=True,
        )
    )
    return report


def _codes(diagnostics: list[Diagnostic]) -> list[tuple[str, int, int, str]]:
    return [(d.code, d.line, d.column, d.message) for d in diagnostics]


@pytest.mark.parametrize("case", params(XML_NEGATIVE))
def test_rule_fires_in_domain_xml(case: XmlCase, tmp_path: Path) -> None:
    report = run_xml(case.xml, tmp_path, case.host)
    hits = [d for d in report.diagnostics if d.code == case.code]
    assert hits, f"{case.code} did not fire; got {_codes(report.diagnostics)}"
    # exactly the codes it means to fire, nothing else
    expected = case.expect if case.expect is not None else (case.code,)
    assert sorted(d.code for d in report.diagnostics) == sorted(expected), _codes(
        report.diagnostics
    )
    hit = hits[0]
    assert hit.hint == XML_HINTS.get(_case_id(case)), hit
    assert Path(hit.path).name == "guest.xml"
    assert hit.line == case.line, (hit, case.xml)
    if case.column is not None:
        assert hit.column == case.column, (hit, case.xml)
    assert hit.severity == case.severity, hit
    assert hit.message and "Traceback" not in hit.message


@pytest.mark.parametrize("case", params(XML_POSITIVE))
def test_rule_quiet_on_domain_near_miss(case: XmlCase, tmp_path: Path) -> None:
    report = run_xml(case.xml, tmp_path, case.host)
    assert [d for d in report.diagnostics if d.code == case.code] == []
    # ... and nothing else fires either: a near miss is a clean document
    assert sorted(d.code for d in report.diagnostics) == sorted(case.expect or ()), _codes(
        report.diagnostics
    )
    # the near miss was read into the model: it is quiet because it is right, not unreadable
    assert report.files[0].guest is not None, _codes(report.diagnostics)
    assert not [d for d in report.diagnostics if d.code in ("VN001", "VN005", "VN006", "VN016")]


def test_cases_are_well_formed() -> None:
    """Every negative case has a position and a severity; every document but VN001's parses."""
    from lxml import etree

    for case in XML_NEGATIVE:
        assert case.line is not None and case.severity is not None, case
    for case in [c for c in XML_NEGATIVE if c.code != "VN001"] + XML_POSITIVE:
        assert etree.fromstring(case.xml.encode()).tag == "domain", case


# --- suppressions --------------------------------------------------------------------------


def test_suppression_on_the_line_before_silences_the_element(tmp_path: Path) -> None:
    xml = dom(cputune("<!-- vnuma: disable=VN401 -->", vcpupin(8, "2")))
    assert run_xml(xml, tmp_path).diagnostics == []


def test_suppression_on_the_same_line(tmp_path: Path) -> None:
    xml = dom(cputune(vcpupin(8, "2") + "  <!-- vnuma: disable=VN401 -->"))
    assert run_xml(xml, tmp_path).diagnostics == []


def test_suppression_by_prefix(tmp_path: Path) -> None:
    xml = dom(cputune("<!-- vnuma: disable=VN4 -->", vcpupin(8, "2")))
    assert run_xml(xml, tmp_path).diagnostics == []


def test_suppression_two_lines_above_does_not_reach(tmp_path: Path) -> None:
    # line 7 the comment, line 8 a correct pin, line 9 the pin VN401 reports
    xml = dom(cputune("<!-- vnuma: disable=VN401 -->", vcpupin(0, "2"), vcpupin(8, "3")))
    found = [(d.code, d.line, d.column) for d in run_xml(xml, tmp_path).diagnostics]
    assert found == [("VN015", 7, 25), ("VN401", 9, 19)]


def test_suppression_of_another_code_keeps_the_finding(tmp_path: Path) -> None:
    xml = dom(cputune("<!-- vnuma: disable=VN402 -->", vcpupin(8, "2")))
    found = [(d.code, d.line, d.column) for d in run_xml(xml, tmp_path).diagnostics]
    assert found == [("VN015", 7, 25), ("VN401", 8, 19)]


def test_suppression_of_a_host_rule_with_a_host(tmp_path: Path) -> None:
    """With a host, VN404 could fire: an unused suppression of it is reported."""
    xml = dom(cputune("<!-- vnuma: disable=VN404 -->", vcpupin(0, "2")))
    found = [(d.code, d.line, d.column) for d in run_xml(xml, tmp_path, XEON).diagnostics]
    assert found == [("VN015", 7, 25)]
    used = dom(
        cputune("<!-- vnuma: disable=VN404 -->", vcpupin(0, "20")),
        numatune("<memory mode='strict' nodeset='0'/>"),
    )
    assert run_xml(used, tmp_path, XEON, "used.xml").diagnostics == []


# --- whole documents ---------------------------------------------------------------------------


def test_capabilities_xml_is_skipped(tmp_path: Path) -> None:
    report = run_xml((HOSTS / XEON).read_text(encoding="utf-8"), tmp_path, name="caps.xml")
    assert [f.path.name for f in report.skipped] == ["caps.xml"]
    assert report.checked == [] and report.diagnostics == []
    assert "capabilities" in (report.skipped[0].note or "")


def test_other_xml_is_skipped(tmp_path: Path) -> None:
    report = run_xml("<foo>\n  <vcpu>nope</vcpu>\n</foo>\n", tmp_path, name="foo.xml")
    assert [f.path.name for f in report.skipped] == ["foo.xml"]
    assert report.diagnostics == []
    assert "<foo>" in (report.skipped[0].note or "")


@pytest.mark.parametrize("host", [None, XEON, "laptop-1n.xml", "epyc-nps4.xml"])
def test_domain_without_numa_is_clean(host: str | None, tmp_path: Path) -> None:
    report = run_xml(dom(memory="4", vcpu="2"), tmp_path, host)
    assert [f.kind for f in report.files] == ["domain"]
    assert report.diagnostics == []


def test_sample_base_domain_is_clean(tmp_path: Path) -> None:
    report = run_xml(
        (REPO / "samples" / "domains" / "base-vm.xml").read_text(encoding="utf-8"),
        tmp_path,
        XEON,
    )
    assert report.diagnostics == []


def test_sample_numa_domain_on_2s_xeon(tmp_path: Path) -> None:
    """numa-vm.xml is clean but for its 2 MiB pages: 16 GiB of them is 8192 pages, and the
    2s-xeon snapshot has pools of 1024 per node (2048 in all). Everything else (cells,
    interleave nodeset 0-1, the pin of vCPU 0 to CPU 2, topology, current vCPUs) is right."""
    report = run_xml(
        (REPO / "samples" / "domains" / "numa-vm.xml").read_text(encoding="utf-8"),
        tmp_path,
        XEON,
    )
    # line 7: `      <page size='2048' unit='KiB'/>`: size quote at column 18
    assert [(d.code, d.line, d.column) for d in report.diagnostics] == [("VN206", 7, 18)]
    assert "8192 x 2 MiB" in report.diagnostics[0].message
    guest = report.files[0].guest
    assert guest is not None and len(guest.cells) == 2


def test_sample_numa_domain_without_huge_pages_is_clean(tmp_path: Path) -> None:
    text = (REPO / "samples" / "domains" / "numa-vm.xml").read_text(encoding="utf-8")
    start, end = text.index("    <hugepages>"), text.index("    <nosharepages/>")
    report = run_xml(text[:start] + text[end:], tmp_path, XEON)
    assert report.diagnostics == []


# --- positions ----------------------------------------------------------------------------------


def test_attribute_on_a_continuation_line_of_a_start_tag(tmp_path: Path) -> None:
    body = numa(
        "<cell id='0'\n      cpus='0-3'\n      memory='8' unit='GiB'/>",
        "<cell\n  id='1'\n  cpus='3-7'\n  memory='8'\n  unit='GiB'/>",
    )
    # lines: 8 `<cell id='0'`, 9 cpus, 10 memory; 11 `<cell`, 12 id, 13 `        cpus='3-7'`
    report = run_xml(dom(body), tmp_path)
    assert [(d.code, d.line, d.column) for d in report.diagnostics] == [("VN104", 13, 14)]


def test_attribute_value_after_a_line_break(tmp_path: Path) -> None:
    # line 9: `      <cell id='1' cpus=`, line 10: `            '3-7' memory='8' unit='GiB'/>`
    body = numa(CELL0, "<cell id='1' cpus=\n      '3-7' memory='8' unit='GiB'/>")
    report = run_xml(dom(body), tmp_path)
    assert [(d.code, d.line, d.column) for d in report.diagnostics] == [("VN104", 10, 13)]


def test_prolog_and_a_comment_with_markup_shift_nothing(tmp_path: Path) -> None:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'  # 1
        "<!-- a comment with a <vcpu>1</vcpu> in it -->\n"  # 2
        "<domain type='kvm'>\n"  # 3
        "  <name>big</name>\n"  # 4
        "  <memory unit='GiB'>4</memory>\n"  # 5
        "  <!-- <cputune><vcpupin vcpu='9' cpuset='1'/></cputune> -->\n"  # 6
        "  <vcpu placement='static'>96</vcpu>\n"  # 7: the count at column 28
        "  <![CDATA[<vcpu>3</vcpu>]]>\n"  # 8 (whitespace and CDATA are text in <domain>)
        "</domain>\n"
    )
    report = run_xml(xml, tmp_path, XEON)
    assert [(d.code, d.line, d.column) for d in report.diagnostics] == [("VN207", 7, 28)]


def test_text_value_on_its_own_line(tmp_path: Path) -> None:
    """libvirt reads `<vcpu>` as string(./vcpu[1]) with virStrToLong_ui: white space before
    the digits is skipped, white space after them is refused (libvirt 9.0's `virsh define`:
    "maximum vcpus count must be an integer"). Either way the finding is at the count."""
    head = (
        "<domain type='kvm'>\n"  # 1
        "  <name>big</name>\n"  # 2
        "  <memory unit='GiB'>4</memory>\n"  # 3
        "  <vcpu placement='static'>\n"  # 4
    )
    # 5: the count at column 6, the end tag on the same line: libvirt reads 96
    report = run_xml(head + "     96</vcpu>\n</domain>\n", tmp_path, XEON)
    assert [(d.code, d.line, d.column) for d in report.diagnostics] == [("VN207", 5, 6)]
    # 5: the count at column 6, then a newline before the end tag (6): libvirt refuses it
    report = run_xml(head + "     96\n  </vcpu>\n</domain>\n", tmp_path, XEON)
    found = [(d.code, d.line, d.column, d.message) for d in report.diagnostics]
    assert found == [("VN016", 5, 6, "maximum vcpus count must be an integer")]


def test_unused_suppression_in_a_comment_over_two_lines(tmp_path: Path) -> None:
    # line 7: `    <!-- vnuma: disable=VN999` (the code at column 25), line 8: `    -->`
    xml = dom(cputune("<!-- vnuma: disable=VN999\n-->", vcpupin(7, "2")))
    found = [(d.code, d.line, d.column) for d in run_xml(xml, tmp_path).diagnostics]
    assert found == [("VN015", 7, 25)]


def test_attribute_value_containing_a_greater_than_sign(tmp_path: Path) -> None:
    # line 6: `  <description note='a > b'>x</description>` must not end the scan early
    body = "<description note='a &gt; b > c'>x</description>\n" + cputune(vcpupin(8, "2"))
    report = run_xml(dom(body), tmp_path)
    # description on 6, cputune 7, vcpupin 8
    assert [(d.code, d.line, d.column) for d in report.diagnostics] == [("VN401", 8, 19)]


def test_a_domain_of_billions_of_vcpus_is_checked_without_listing_them(tmp_path: Path) -> None:
    """`<vcpu>` is an unsigned int: the ids past the cells' are reported as one range
    (the fuzzer's `<vcpu>4294967296</vcpu>` made VN105 build a set of them, 23 GB)."""
    xml = (
        "<domain type='kvm'><name>big</name><memory unit='KiB'>1048576</memory>"
        "<vcpu>4294967295</vcpu><cpu><numa>"
        "<cell id='0' cpus='0-1,4' memory='1048576' unit='KiB'/></numa></cpu></domain>\n"
    )
    found = [d for d in run_xml(xml, tmp_path).diagnostics if d.code == "VN105"]
    assert [d.message for d in found] == [
        "vCPU(s) 2-3,5-4294967294 are in no cell: libvirt moves them to cell 0"
    ]
