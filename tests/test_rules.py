"""Every rule: a negative case (the code fires, at the right line and column) and a positive
near-miss (it does not). A meta-test keeps the tables complete as rules are added."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from vnuma.diagnostics import Diagnostic, Severity
from vnuma.emit.verify import find_schema_dir
from vnuma.rules import all_rules
from vnuma.runner import CompileOptions, compile_intent

from tests.conftest import HOSTS

VALID = """\
version: 1
vcpus: 8
memory: 16GiB
numatune:
  mode: strict
  nodeset: "0-1"
cells:
  - cpus: "0-3"
    memory: 8GiB
    host_nodes: "0"
  - cpus: "4-7"
    memory: 8GiB
    host_nodes: "1"
"""

NO_CELLS_CAPS = (
    "<capabilities>\n  <host>\n    <cpu><arch>x86_64</arch></cpu>\n  </host>\n</capabilities>\n"
)
BAD_CAPS = "<capabilities>\n  <host>\n    <topology>\n      <cells num='1'>\n        <cell id='0'>\n          <memory unit='KiB'>lots</memory>\n"


@dataclass
class Case:
    code: str
    text: str
    line: int | None = None
    column: int | None = None
    host: str | None = "2s-xeon.xml"
    suffix: str = ".yaml"
    host_text: str | None = None
    domain_text: str | None = None
    in_file: str = "intent"  # which file the diagnostic points into: intent | host | domain
    needs_rng: bool = False
    id: str = field(default="")
    # Every code the case produces, as a multiset (default: `code` once for a negative case,
    # nothing for a near miss): a case must not fire anything it does not mean to.
    expect: tuple[str, ...] | None = None


def y(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


NEGATIVE: list[Case] = [
    Case(
        "VN001",
        y("""
        version: 1
        vcpus: 8
        memory: 16GiB
        cells:
          - cpus: "0-3"
           memory: 8GiB
        """),
        6,
        4,
    ),
    Case("VN001", 'version = 1\nvcpus = 8\nmemory = "16GiB\n', 3, 16, suffix=".toml", id="toml"),
    Case(
        "VN002",
        y("""
        version: 1
        vcpus: sixteen
        memory: 16GiB
        """),
        2,
        8,
    ),
    Case("VN002", "- version: 1\n- vcpus: 8\n", 1, 1, id="list-at-top"),
    Case(
        "VN003",
        y("""
        version: 1
        vcpus: 8
        memory: 16GiB
        numatune:
          mdoe: strict
          nodeset: "0"
        """),
        5,
        3,
    ),
    Case(
        "VN004",
        y("""
        version: 1
        vcpus: 8
        memory: 4096
        """),
        3,
        9,
    ),
    Case("VN004", "version = 1\nvcpus = 8\nmemory = 4096\n", 3, 10, suffix=".toml", id="toml"),
    Case(
        "VN005",
        y("""
        version: 1
        vcpus: 8
        memory: 16G
        """),
        3,
        9,
    ),
    Case("VN005", "version: 1\nvcpus: 8\nmemory: 0MiB\n", 3, 9, id="zero"),
    Case(
        "VN005",
        "version: 1\nvcpus: 8\nmemory: 8GiB\nhugepages: {size: 0KiB}\n",
        4,
        19,
        id="zero-page",
    ),
    Case("VN005", "version: 1\nvcpus: 8\nmemory: 1.0000001KB\n", 3, 9, id="fraction-of-kib"),
    Case("VN005", "version: 1\nvcpus: 8\nmemory: 99999999999TiB\n", 3, 9, id="overflow"),
    Case("VN006", VALID.replace('cpus: "4-7"', 'cpus: "7-4"'), 11, 11),
    Case("VN006", VALID.replace('nodeset: "0-1"', 'nodeset: "0,^0"'), 6, 12, id="empty-set"),
    Case(
        "VN007",
        y("""
        version: 1
        vcpus: 8
        memory: 16GiB
        memory: 32GiB
        """),
        4,
        1,
    ),
    Case("VN008", VALID, 7, None, host=None, host_text=BAD_CAPS, in_file="host"),
    Case("VN009", VALID, 1, None, host=None, host_text=NO_CELLS_CAPS, in_file="host"),
    Case("VN010", VALID, 1, None, domain_text="<capabilities/>\n", in_file="domain"),
    Case(
        "VN011",
        VALID,
        3,
        None,
        in_file="domain",
        domain_text=(
            "<domain type='kvm'>\n  <name>x</name>\n  <maxMemory slots='4' unit='GiB'>8</maxMemory>\n"
            "  <memory unit='GiB'>4</memory>\n  <os><type>hvm</type></os>\n</domain>\n"
        ),
    ),
    Case(
        "VN012", "version: 1\nhost: ../nowhere/hv01.xml\nvcpus: 8\nmemory: 16GiB\n", 2, 7, host=None
    ),
    Case(
        "VN014",
        VALID,
        5,
        None,
        in_file="domain",
        domain_text=(
            "<domain type='kvm'>\n  <name>x</name>\n  <os><type>hvm</type></os>\n  <cpu>\n"
            "    <topology sockets='1' cores='4' threads='1'/>\n  </cpu>\n</domain>\n"
        ),
    ),
    Case("VN101", VALID.replace('  - cpus: "4-7"', '  - id: 2\n    cpus: "4-7"'), 11, 9),
    Case("VN102", VALID.replace('  - cpus: "4-7"', '  - id: 0\n    cpus: "4-7"'), 11, 9),
    Case("VN103", VALID.replace('cpus: "4-7"', 'cpus: "4-9"'), 11, 11),
    Case("VN104", VALID.replace('cpus: "4-7"', 'cpus: "3-7"'), 11, 11),
    Case("VN105", VALID.replace('cpus: "4-7"', 'cpus: "4-6"'), 7, 1),
    Case("VN106", VALID.replace("memory: 16GiB", "memory: 20GiB"), 3, 9),
    Case(
        "VN107",
        VALID.replace("memory: 16GiB", "memory: 8GiB").replace(
            '    memory: 8GiB\n    host_nodes: "1"', '    memory: 0GiB\n    host_nodes: "1"'
        ),
        12,
        13,
    ),
    Case(
        "VN108",
        # three cells with vCPUs, two vCPUs: VN103 names vCPU 2, VN108 says renumbering
        # cannot fix it
        y("""
        version: 1
        vcpus: 2
        memory: 12GiB
        cells:
          - {cpus: "0", memory: 4GiB}
          - {cpus: "1", memory: 4GiB}
          - {cpus: "2", memory: 4GiB}
        """),
        4,
        1,
        expect=("VN103", "VN108"),
    ),
    Case(
        "VN109", VALID.replace('host_nodes: "0"', 'host_nodes: "0"\n    distances: {1: 10}'), 11, 20
    ),
    Case(
        "VN110",
        VALID.replace('host_nodes: "0"', 'host_nodes: "0"\n    distances: {1: 21}').replace(
            'host_nodes: "1"', 'host_nodes: "1"\n    distances: {0: 31}'
        ),
        11,
        20,
    ),
    Case(
        "VN111",
        y("""
        version: 1
        vcpus: 3
        memory: 3GiB
        cells:
          - {cpus: "0", memory: 1GiB, distances: {1: 12}}
          - {cpus: "1", memory: 1GiB}
          - {cpus: "2", memory: 1GiB}
        """),
        5,
        42,
        expect=("VN111", "VN111"),  # cells 0 and 1 both lack a distance to cell 2
    ),
    Case(
        "VN112",
        VALID.replace('host_nodes: "0"', 'host_nodes: "0"\n    distances: {5: 21}'),
        11,
        20,
        expect=("VN111", "VN112"),  # {5: 21} also leaves cell 0 without a distance to cell 1
    ),
    Case(
        "VN113",
        VALID.replace("mode: strict", "mode: restrictive").replace(
            'host_nodes: "1"', 'host_nodes: "1"\n    mode: strict'
        ),
        14,
        11,
    ),
    Case(
        "VN114",
        VALID.replace('  mode: strict\n  nodeset: "0-1"', "  placement: auto"),
        9,
        17,
        expect=("VN114", "VN114", "VN122"),  # one per cell with host_nodes; numad (info)
    ),
    Case(
        "VN115",
        y("""
        version: 1
        vcpus: 8
        memory: 16GiB
        numatune: {mode: preferred, nodeset: "0-1"}
        """),
        4,
        38,
    ),
    Case(
        "VN116",
        y("""
        version: 1
        vcpus: 8
        memory: 16GiB
        numatune: {placement: auto, nodeset: "0"}
        """),
        4,
        38,
        expect=("VN116", "VN122"),
    ),
    Case(
        "VN122",
        "version: 1\nvcpus: 8\nmemory: 16GiB\nnumatune: {mode: strict, placement: auto}\n",
        4,
        37,
    ),
    Case("VN117", VALID.replace('nodeset: "0-1"', 'nodeset: "0"'), 13, 17),
    Case(
        "VN118",
        y("""
        version: 1
        vcpus: 8
        memory: 16GiB
        numatune:
          mode: strict
        """),
        4,
        1,
    ),
    Case("VN119", VALID.replace('    host_nodes: "1"\n', "    mode: interleave\n"), 13, 11),
    Case(
        "VN120",
        VALID.replace("memory: 16GiB", "memory: 9.5GiB").replace(
            '    memory: 8GiB\n    host_nodes: "1"', '    memory: 1536MiB\n    host_nodes: "1"'
        )
        + "hugepages: {size: 1GiB}\n",
        12,
        13,
    ),
    Case(
        "VN013",
        VALID,
        4,
        None,
        in_file="domain",
        needs_rng=True,
        domain_text=(
            "<domain type='kvm'>\n  <name>x</name>\n  <os><type>hvm</type></os>\n  <bogus/>\n</domain>\n"
        ),
    ),
    Case(
        "VN201",
        VALID.replace('nodeset: "0-1"', 'nodeset: "0-3"'),
        6,
        12,
        expect=("VN201", "VN201"),  # nodes 2 and 3
    ),
    Case(
        "VN202",
        y("""
        version: 1
        vcpus: 8
        memory: 16GiB
        cells:
          - cpus: "0-7"
            memory: 16GiB
            host_nodes: "2"
        """),
        7,
        17,
        host="cxl-memory-node.xml",
    ),
    Case(
        "VN203",
        VALID.replace("memory: 16GiB", "memory: 168GiB").replace(
            '    memory: 8GiB\n    host_nodes: "0"', '    memory: 160GiB\n    host_nodes: "0"'
        ),
        10,
        17,
    ),
    Case(
        "VN204",
        y("""
        version: 1
        vcpus: 8
        memory: 300GiB
        numatune: {mode: strict, nodeset: "0-1"}
        """),
        4,
        35,
    ),
    Case("VN205", VALID + "hugepages: {size: 16MiB}\n", 14, 19),
    Case(
        "VN206",
        VALID.replace("memory: 16GiB", "memory: 104GiB").replace(
            '    memory: 8GiB\n    host_nodes: "0"', '    memory: 96GiB\n    host_nodes: "0"'
        )
        + "hugepages: {size: 1GiB}\n",
        10,
        17,
    ),
    Case(
        "VN209",  # node 0 of the live snapshot: 125 GiB for small pages, 40 GiB free
        VALID.replace("memory: 16GiB", "memory: 56GiB").replace(
            '    memory: 8GiB\n    host_nodes: "0"', '    memory: 48GiB\n    host_nodes: "0"'
        ),
        10,
        17,
        host="2s-xeon-live.xml",
    ),
    Case(
        "VN210",  # node 0 of the live snapshot: 64 x 1 GiB pages, 16 free
        VALID.replace("memory: 16GiB", "memory: 40GiB").replace(
            '    memory: 8GiB\n    host_nodes: "0"', '    memory: 32GiB\n    host_nodes: "0"'
        )
        + "hugepages: {size: 1GiB}\n",
        10,
        17,
        host="2s-xeon-live.xml",
    ),
    Case(
        "VN207",
        VALID.replace("vcpus: 8", "vcpus: 96")
        .replace('cpus: "0-3"', 'cpus: "0-47"')
        .replace('cpus: "4-7"', 'cpus: "48-95"'),
        None,
        expect=("VN207", "VN207", "VN207"),  # the guest (96 > 80) and each cell (48 > 40)
    ),
    Case("VN208", "version: 1\nvcpus: 8\nmemory: 1TiB\n", 3, 9),
]

# Near misses: each is as close as possible to its negative case, and must not fire the code.
POSITIVE: dict[str, Case] = {
    "VN001": Case("VN001", VALID),
    "VN002": Case("VN002", VALID.replace("vcpus: 8", "vcpus: 8  # sixteen later")),
    "VN003": Case("VN003", VALID.replace("  mode: strict", "  mode: strict  # mdoe")),
    "VN004": Case("VN004", "version: 1\nvcpus: 8\nmemory: 4096MiB\n"),
    "VN005": Case("VN005", "version: 1\nvcpus: 8\nmemory: 16GB\n"),
    "VN006": Case("VN006", VALID.replace('nodeset: "0-1"', 'nodeset: "0-2,^2"')),
    "VN007": Case("VN007", VALID),
    "VN008": Case("VN008", VALID),
    "VN009": Case("VN009", VALID),
    "VN010": Case(
        "VN010",
        VALID,
        domain_text="<domain type='kvm'>\n  <name>x</name>\n  <os><type>hvm</type></os>\n</domain>\n",
    ),
    "VN011": Case(
        "VN011",
        VALID,
        domain_text=(
            "<domain type='kvm'>\n  <name>x</name>\n  <maxMemory slots='4' unit='GiB'>32</maxMemory>\n"
            "  <memory unit='GiB'>4</memory>\n  <os><type>hvm</type></os>\n</domain>\n"
        ),
    ),
    "VN012": Case(
        "VN012", "version: 1\nhost: ../hosts/2s-xeon.xml\nvcpus: 8\nmemory: 16GiB\n", host=None
    ),
    "VN013": Case(
        "VN013",
        VALID,
        needs_rng=True,
        domain_text=(
            "<domain type='kvm'>\n  <name>x</name>\n  <os><type>hvm</type></os>\n</domain>\n"
        ),
    ),
    "VN014": Case(
        "VN014",
        VALID,
        domain_text=(
            "<domain type='kvm'>\n  <name>x</name>\n  <os><type>hvm</type></os>\n  <cpu>\n"
            "    <topology sockets='2' dies='1' cores='4' threads='1'/>\n  </cpu>\n</domain>\n"
        ),
    ),
    "VN101": Case("VN101", VALID.replace('  - cpus: "4-7"', '  - id: 1\n    cpus: "4-7"')),
    "VN102": Case("VN102", VALID.replace('  - cpus: "4-7"', '  - id: 1\n    cpus: "4-7"')),
    "VN103": Case("VN103", VALID),
    "VN104": Case("VN104", VALID),
    "VN105": Case("VN105", VALID),
    "VN106": Case("VN106", VALID),
    "VN107": Case("VN107", VALID),
    # more cells than vCPUs is legal when the extra cells are memory-only
    "VN108": Case(
        "VN108",
        y("""
        version: 1
        vcpus: 1
        memory: 16GiB
        cells:
          - {cpus: "0", memory: 8GiB}
          - {memory: 8GiB}
        """),
    ),
    "VN109": Case(
        "VN109", VALID.replace('host_nodes: "0"', 'host_nodes: "0"\n    distances: {0: 10, 1: 11}')
    ),
    "VN110": Case(
        "VN110",
        VALID.replace('host_nodes: "0"', 'host_nodes: "0"\n    distances: {1: 21}').replace(
            'host_nodes: "1"', 'host_nodes: "1"\n    distances: {0: 21}'
        ),
    ),
    "VN111": Case(
        "VN111", VALID.replace('host_nodes: "0"', 'host_nodes: "0"\n    distances: {1: 21}')
    ),
    "VN112": Case(
        "VN112", VALID.replace('host_nodes: "0"', 'host_nodes: "0"\n    distances: {1: 21}')
    ),
    "VN113": Case(
        "VN113",
        VALID.replace("mode: strict", "mode: restrictive")
        .replace('host_nodes: "0"', 'host_nodes: "0"\n    mode: restrictive')
        .replace('host_nodes: "1"', 'host_nodes: "1"\n    mode: restrictive'),
    ),
    "VN114": Case(
        "VN114",
        y("""
        version: 1
        vcpus: 8
        memory: 16GiB
        numatune: {placement: auto}
        cells:
          - {cpus: "0-3", memory: 8GiB}
          - {cpus: "4-7", memory: 8GiB}
        """),
        expect=("VN122",),
    ),
    "VN115": Case(
        "VN115", 'version: 1\nvcpus: 8\nmemory: 16GiB\nnumatune: {mode: preferred, nodeset: "1"}\n'
    ),
    "VN116": Case(
        "VN116",
        "version: 1\nvcpus: 8\nmemory: 16GiB\nnumatune: {placement: auto}\n",
        expect=("VN122",),
    ),
    "VN122": Case("VN122", VALID),
    "VN117": Case("VN117", VALID),
    "VN118": Case(
        "VN118", 'version: 1\nvcpus: 8\nmemory: 16GiB\nnumatune:\n  mode: strict\n  nodeset: "0"\n'
    ),
    "VN119": Case(
        "VN119",
        VALID.replace('    host_nodes: "1"\n', '    host_nodes: "1"\n    mode: interleave\n'),
    ),
    "VN120": Case("VN120", VALID + "hugepages: {size: 1GiB}\n"),
    "VN201": Case("VN201", VALID),
    "VN202": Case(
        "VN202",
        y("""
        version: 1
        vcpus: 8
        memory: 16GiB
        cells:
          - {cpus: "0-7", memory: 8GiB, host_nodes: "0"}
          - {memory: 8GiB, host_nodes: "2"}
        """),
        host="cxl-memory-node.xml",
    ),
    "VN203": Case(
        "VN203",
        VALID.replace("memory: 16GiB", "memory: 128GiB").replace(
            '    memory: 8GiB\n    host_nodes: "0"', '    memory: 120GiB\n    host_nodes: "0"'
        ),
    ),
    "VN204": Case(
        "VN204", 'version: 1\nvcpus: 8\nmemory: 240GiB\nnumatune: {mode: strict, nodeset: "0-1"}\n'
    ),
    # 2 MiB pages the pools hold exactly: 1024 per node (8 GiB cells would also fire VN206)
    "VN205": Case(
        "VN205",
        VALID.replace("memory: 16GiB", "memory: 4GiB").replace("memory: 8GiB", "memory: 2GiB")
        + "hugepages: {size: 2MiB}\n",
    ),
    "VN206": Case(
        "VN206",
        VALID.replace("memory: 16GiB", "memory: 72GiB").replace(
            '    memory: 8GiB\n    host_nodes: "0"', '    memory: 64GiB\n    host_nodes: "0"'
        )
        + "hugepages: {size: 1GiB}\n",
    ),
    "VN209": Case(
        "VN209",
        VALID.replace("memory: 16GiB", "memory: 40GiB").replace(
            '    memory: 8GiB\n    host_nodes: "0"', '    memory: 32GiB\n    host_nodes: "0"'
        ),
        host="2s-xeon-live.xml",
    ),
    "VN210": Case(
        "VN210",
        VALID.replace("memory: 16GiB", "memory: 24GiB").replace(
            '    memory: 8GiB\n    host_nodes: "0"', '    memory: 16GiB\n    host_nodes: "0"'
        )
        + "hugepages: {size: 1GiB}\n",
        host="2s-xeon-live.xml",
    ),
    "VN207": Case(
        "VN207",
        VALID.replace("vcpus: 8", "vcpus: 80")
        .replace('cpus: "0-3"', 'cpus: "0-39"')
        .replace('cpus: "4-7"', 'cpus: "40-79"'),
    ),
    "VN208": Case("VN208", "version: 1\nvcpus: 8\nmemory: 256GiB\n"),
    "VN301": Case(
        "VN301",
        VALID,
        needs_rng=True,
        domain_text=(
            "<domain type='kvm'>\n  <name>x</name>\n  <os><type>hvm</type></os>\n</domain>\n"
        ),
    ),
}


# Placement (VN6xx): what `nodeset: auto`, `host_nodes: auto`, `cells: N` and `cpu:` cannot do.
AUTO_2 = "version: 1\nvcpus: 4\nmemory: 4GiB\ncells: 2\nnumatune: {mode: strict, nodeset: auto}\n"
BIG_CELL = y("""
    version: 1
    vcpus: 4
    memory: {mem}
    cells:
      - {{cpus: "0-3", memory: {mem}, host_nodes: auto}}
    """)
THREE_ON_CXL = y("""
    version: 1
    vcpus: 4
    memory: {total}
    cells:
      - {{cpus: "0-1", memory: 88576MiB, host_nodes: auto}}
      - {{cpus: "2-3", memory: {second}, host_nodes: auto}}
      - {{memory: 1GiB, host_nodes: auto}}
    """)
ODD_REQUIRE = y("""
    version: 1
    vcpus: 6
    memory: 6GiB
    cells:
      - {{cpus: "0-2", memory: 3GiB, host_nodes: auto}}
      - {{cpus: "3-5", memory: 3GiB, host_nodes: auto}}
    cpu: {{pinning: dedicated, threads: {threads}}}
    """)
EMULATOR = (
    "version: 1\nvcpus: 4\nmemory: 4GiB\ncells: 1\nnumatune: {{mode: strict, nodeset: auto}}\n"
    'cpu: {{pinning: dedicated, emulator: "{cpus}"}}\n'
)
PLACEMENT_NEGATIVE = [
    Case("VN601", AUTO_2, 4, 8, host=None),  # `cells: 2`, the first value left to vnuma
    Case("VN602", BIG_CELL.format(mem="200GiB"), 5, 5),
    Case(
        "VN603",
        AUTO_2.replace("cells: 2", "cells: 3").replace("vcpus: 4", "vcpus: 6"),
        4,
        8,
        expect=("VN603", "VN605"),  # 4 GiB in 3 cells is also an uneven split (info)
    ),
    Case(
        "VN604",
        THREE_ON_CXL.format(total="178176MiB", second="88576MiB"),
        5,
        3,
        host="cxl-memory-node.xml",
    ),
    Case(
        "VN605",
        AUTO_2.replace("cells: 2", "cells: 4").replace("vcpus: 4", "vcpus: 6"),
        4,
        8,
        host="epyc-nps4.xml",
    ),
    Case("VN606", "version: 1\nvcpus: 2\nmemory: 4GiB\ncells: 4\n", 4, 8),
    Case("VN607", ODD_REQUIRE.format(threads="require"), 5, 5, expect=("VN607", "VN607")),
    Case("VN608", EMULATOR.format(cpus="20"), 6, 37),
    Case(
        "VN609",
        "version: 1\nvcpus: 8\nmemory: 4GiB\nnumatune: {mode: strict, nodeset: auto}\n"
        "cpu: {pinning: dedicated}\n",
        5,
        6,
        host="laptop-1n.xml",
    ),
]
PLACEMENT_POSITIVE = {
    "VN601": Case("VN601", AUTO_2),
    "VN602": Case("VN602", BIG_CELL.format(mem="100GiB")),
    "VN603": Case("VN603", AUTO_2),
    "VN604": Case(
        "VN604",
        THREE_ON_CXL.format(total="130560MiB", second="40GiB"),
        host="cxl-memory-node.xml",
    ),
    "VN605": Case(
        "VN605",
        AUTO_2.replace("cells: 2", "cells: 4").replace("vcpus: 4", "vcpus: 8"),
        host="epyc-nps4.xml",
    ),
    "VN606": Case("VN606", "version: 1\nvcpus: 4\nmemory: 4GiB\ncells: 4\n"),
    "VN607": Case("VN607", ODD_REQUIRE.format(threads="prefer")),
    "VN608": Case("VN608", EMULATOR.format(cpus="39")),
    "VN609": Case(
        "VN609",
        "version: 1\nvcpus: 6\nmemory: 4GiB\nnumatune: {mode: strict, nodeset: auto}\n"
        "cpu: {pinning: dedicated}\n",
        host="laptop-1n.xml",
    ),
}
NEGATIVE += PLACEMENT_NEGATIVE
POSITIVE.update(PLACEMENT_POSITIVE)
# VN115 on the guest-wide <memory> an intent writes beside its cells' memnodes (a written
# multi-node preferred nodeset); the near miss is the same intent without the nodeset:
# vnuma writes memnodes only.
PREFERRED_CELLS = y("""
    version: 1
    vcpus: 8
    memory: 16GiB
    numatune: {mode: preferred, nodeset: "0-1"}
    cells:
      - {cpus: "0-3", memory: 8GiB, host_nodes: "0"}
      - {cpus: "4-7", memory: 8GiB, host_nodes: "1"}
    """)
NEGATIVE.append(Case("VN115", PREFERRED_CELLS, 4, 38, id="guest-wide-beside-memnodes"))
POSITIVE["VN115-memnodes-only"] = Case(
    "VN115", PREFERRED_CELLS.replace(', nodeset: "0-1"', ""), id="memnodes-only"
)

# The hint of each negative case's (first) finding; a case missing here must have none.
HINTS: dict[str, str] = {
    "VN002": "write an integer from 1 to 65535",
    "VN002-list-at-top": "write the intent as keys and values, starting with `version: 1`",
    "VN003": "did you mean 'mode'?",
    "VN004": "sizes need a unit: did you mean 4096MiB? A bare 4096 would be 4096 KiB to libvirt, so vnuma refuses bare numbers (it suggests GiB below 1024, MiB from 1024 up). Units: KiB MiB GiB TiB (binary) or KB MB GB TB (decimal)",
    "VN004-toml": "sizes need a unit: did you mean 4096MiB? A bare 4096 would be 4096 KiB to libvirt, so vnuma refuses bare numbers (it suggests GiB below 1024, MiB from 1024 up). Units: KiB MiB GiB TiB (binary) or KB MB GB TB (decimal)",
    "VN005": "did you mean 16GiB? Units: KiB MiB GiB TiB (binary) or KB MB GB TB (decimal)",
    "VN005-zero": 'libvirt: "Memory size must be specified via <memory> or in the <numa> configuration"',
    "VN005-zero-page": 'libvirt: "Memory size must be specified via <memory> or in the <numa> configuration"',
    "VN005-fraction-of-kib": "libvirt sizes are whole KiB; use a binary unit (KiB, MiB, GiB) or a multiple of 1024 bytes",
    "VN006": "write it as '4-7'",
    "VN007": "YAML keeps only the last value; remove one of them",
    "VN010": "pass a domain definition, e.g. from `virsh dumpxml NAME`",
    "VN012": "fix the path (it is relative to the intent) or pass --host",
    "VN014": "make the base domain's topology multiply out to the intent's vcpus",
    "VN101": "libvirt: \"Exactly one 'cell' element per guest NUMA cell allowed, non-contiguous ranges or ranges not starting from 0 are not allowed\"; number cells 0..n-1",
    "VN102": "give every cell a distinct id 0..n-1, or omit id to use the position",
    "VN103": 'libvirt: "CPU IDs in <numa> exceed the <vcpu> count"; raise vcpus to 10 or fix the cell\'s cpus',
    "VN104": "put every vCPU in exactly one cell",
    "VN105": "add them to a cell's cpus so the definition says what the guest gets",
    "VN106": "set memory: 16GiB, or resize the cells",
    "VN107": 'QEMU: "can\'t create backend with size 0"; give the cell memory',
    "VN108": "raise vcpus to 3, or drop cpus from 1 cell(s) to make them memory-only (libvirt >= 6.6.0)",
    "VN109": "use 11..255",
    "VN110": "use one value for both directions",
    "VN111": "add `2: <value>` to cell 0's distances",
    "VN112": "guest cells are 0-1",
    "VN113": "libvirt: \"'restrictive' mode is required in memnode element when mode is 'restrictive' in memory element\"; set the cell's mode to restrictive",
    "VN114": 'libvirt: "Per-node binding is not compatible with automatic NUMA placement."; remove host_nodes or use a static nodeset',
    "VN115": "multi-node preferred needs Linux >= 5.15, QEMU >= 8.0 and libvirt >= 9.0, else only the first node is used; prefer one node or use interleave",
    "VN115-guest-wide-beside-memnodes": "multi-node preferred needs Linux >= 5.15, QEMU >= 8.0 and libvirt >= 9.0, else only the first node is used; prefer one node or use interleave, or drop the guest-wide <memory> (the memnodes suffice)",
    "VN116": "keep one of them: a static nodeset, or placement auto",
    "VN117": "add them to numatune.nodeset (0-1) or omit the nodeset",
    "VN118": "libvirt: \"nodeset for NUMA memory tuning must be set if 'placement' is 'static'\"; give it a nodeset (an intent may bind its cells to host nodes instead), or use placement auto",
    "VN119": 'libvirt: "Missing required nodeset attribute in memnode element"; add host_nodes or drop mode',
    "VN120": 'QEMU: "memory size must be multiple of 1 GiB"; use 1GiB or 2GiB',
    "VN013": "fix the base domain, or use --libvirt-schemas with the schemas of your libvirt version",
    "VN201": "libvirt accepts this and fails only at `virsh start`; use existing host nodes",
    "VN202": "every memory access will be remote; bind to a node with CPUs, or make this a memory-only guest cell",
    "VN203": "host node(s) 125.44 GiB usable (66 GiB of it is set aside as huge pages); bind more nodes, shrink the guest, or use mode: preferred",
    "VN204": "host node(s) 251.36 GiB usable (132 GiB of it is set aside as huge pages); bind more nodes, shrink the guest, or use mode: preferred",
    "VN205": 'libvirt: "Unable to find any usable hugetlbfs mount for 16384 KiB"; host page sizes: 4 KiB, 2 MiB, 1 GiB; use one and mount hugetlbfs for it before the guest starts, e.g. `mount -t hugetlbfs -o pagesize=2M hugetlbfs /dev/hugepages2M`',
    "VN206": '32 more 1 GiB page(s) needed on node(s) 0: raise /sys/devices/system/node/nodeN/hugepages/hugepages-1048576kB/nr_hugepages, bind more nodes or shrink the guest; libvirt also needs `mount -t hugetlbfs -o pagesize=1G hugetlbfs /dev/hugepages1G` before it starts ("Unable to find any usable hugetlbfs mount for 1048576 KiB")',
    "VN122": 'install and run numad on the host, or libvirt fails at start with "Failed to query numad for the advisory nodeset"; or bind a static nodeset',
    "VN209": "bind nodes with free memory (see `vnuma host`), make room first, or use mode: preferred; if this guest already runs there, a live snapshot counts it as used",
    "VN210": "16 more free 1 GiB page(s) needed on node(s) 0: stop guests holding them, bind other nodes or grow the pool; if this guest already runs there, a live snapshot counts its pages as used",
    "VN207": "vCPUs will time-share host CPUs; lower vcpus unless overcommit is intended",
    "VN208": "check the size and unit; this needs swap or memory overcommit",
    "VN601": "pass --host CAPS.xml, set `host:` in the intent, or pass --local-host to place it on this machine",
    "VN602": "fits with mode: preferred (memory may then come from other nodes)",
    "VN603": "fits with cells: 2",
    "VN604": "fits with mode: preferred",
    "VN606": "use at most 2 cells, or more vCPUs",
    "VN607": "shrink the cell, split the guest into more cells, or free the host",
    "VN608": "choose housekeeping CPUs no vCPU uses, or emulator: auto",
}


def run_case(case: Case, tmp_path: Path) -> tuple[list[Diagnostic], dict[str, str]]:
    if case.needs_rng and find_schema_dir(None) is None:
        pytest.skip("libvirt RelaxNG schemas not installed")
    intent = tmp_path / "vms" / f"guest{case.suffix}"
    intent.parent.mkdir(parents=True, exist_ok=True)
    intent.write_text(case.text, encoding="utf-8")
    hosts_dir = tmp_path / "hosts"
    hosts_dir.mkdir(exist_ok=True)
    (hosts_dir / "2s-xeon.xml").write_bytes((HOSTS / "2s-xeon.xml").read_bytes())
    files = {"intent": str(intent)}
    host_path = HOSTS / case.host if case.host else None
    if case.host_text is not None:
        host_path = tmp_path / "caps.xml"
        host_path.write_text(case.host_text, encoding="utf-8")
        files["host"] = str(host_path)
    domain_path = None
    if case.domain_text is not None:
        domain_path = tmp_path / "base.xml"
        domain_path.write_text(case.domain_text, encoding="utf-8")
        files["domain"] = str(domain_path)
    outcome = compile_intent(CompileOptions(intent, host_path=host_path, domain_path=domain_path))
    return outcome.diagnostics, files


def _case_id(case: Case) -> str:
    return f"{case.code}-{case.id}" if case.id else case.code


@pytest.mark.parametrize("case", NEGATIVE, ids=_case_id)
def test_rule_fires(case: Case, tmp_path: Path) -> None:
    diagnostics, files = run_case(case, tmp_path)
    hits = [d for d in diagnostics if d.code == case.code]
    assert hits, f"{case.code} did not fire; got {[(d.code, d.message) for d in diagnostics]}"
    # exactly the codes it means to fire, nothing else
    expected = case.expect if case.expect is not None else (case.code,)
    assert sorted(d.code for d in diagnostics) == sorted(expected), [
        (d.code, d.message) for d in diagnostics
    ]
    hit = hits[0]
    assert hit.hint == HINTS.get(_case_id(case)), hit
    assert hit.path == files[case.in_file]
    if case.line is not None:
        assert hit.line == case.line, hit
    if case.column is not None:
        assert hit.column == case.column, hit
    assert hit.message
    assert "Traceback" not in hit.message


@pytest.mark.parametrize("case", POSITIVE.values(), ids=_case_id)
def test_rule_quiet_on_near_miss(case: Case, tmp_path: Path) -> None:
    diagnostics, _ = run_case(case, tmp_path)
    assert [d for d in diagnostics if d.code == case.code] == []
    # ... and nothing else fires either: a near miss is a clean input
    assert sorted(d.code for d in diagnostics) == sorted(case.expect or ()), [
        (d.code, d.message) for d in diagnostics
    ]


# Rules come in three families: intent-form cases (NEGATIVE/POSITIVE above), XML-form cases
# (XML_NEGATIVE/XML_POSITIVE in test_domain_rules.py), and cases elsewhere, listed here:
# vnuma's own output must not trigger VN301; admission needs several guests on one host.
ADMISSION_TESTS = "tests/test_admission.py"
NEGATIVE_ELSEWHERE = {
    "VN301": "tests/test_verify.py::test_output_rejected_by_rng_is_reported",
    "VN501": f"{ADMISSION_TESTS}::test_three_guests_that_fit_alone_but_not_together",
    "VN502": f"{ADMISSION_TESTS}::test_three_guests_that_fit_alone_but_not_together",
    "VN503": f"{ADMISSION_TESTS}::test_hugepage_pool_boundary",
    "VN504": f"{ADMISSION_TESTS}::test_free_memory_from_the_snapshot",
    "VN505": "tests/test_spine.py::test_two_different_guests_with_one_name_are_a_finding",
    "VN506": "tests/test_held_cores.py::test_vn506_emulator_on_another_guests_dedicated_cpu",
    "VN507": "tests/test_held_cores.py::test_vn507_dedicated_pin_and_emulator_on_held_cpus",
}
POSITIVE_ELSEWHERE = {
    "VN501": f"{ADMISSION_TESTS}::test_guests_on_different_nodes_are_admitted",
    "VN502": f"{ADMISSION_TESTS}::test_guests_on_different_nodes_are_admitted",
    "VN503": f"{ADMISSION_TESTS}::test_hugepage_pool_boundary",
    "VN504": f"{ADMISSION_TESTS}::test_guests_on_different_nodes_are_admitted",
    "VN505": "tests/test_spine.py::test_an_intent_and_its_compiled_domain_are_one_guest",
    "VN506": "tests/test_held_cores.py::test_vn506_near_miss_emulator_beside_the_dedicated_cpu",
    "VN507": "tests/test_held_cores.py::test_vn507_near_miss_the_other_cores_are_free",
}


def _xml_tables():
    """XML_NEGATIVE, XML_POSITIVE, NOT_FROM_XML of test_domain_rules.py (`tests` has no
    __init__.py; it is importable as a namespace package, as `tests.conftest` is above)."""
    from tests.test_domain_rules import NOT_FROM_XML, XML_NEGATIVE, XML_POSITIVE

    return XML_NEGATIVE, XML_POSITIVE, NOT_FROM_XML


def test_every_rule_has_a_negative_and_a_positive_case() -> None:
    xml_negative, xml_positive, not_from_xml = _xml_tables()
    rules = all_rules()
    codes = {rule.code for rule in rules}
    negative = {c.code for c in NEGATIVE} | {c.code for c in xml_negative}
    positive = set(POSITIVE) | {c.code for c in xml_positive}
    # Every rule fires in at least one table (or a named test elsewhere) ...
    assert codes - negative - set(NEGATIVE_ELSEWHERE) == set()
    # ... and stays quiet on a near miss in at least one table (or elsewhere).
    assert codes - positive - set(POSITIVE_ELSEWHERE) == set()
    # Guest-cell and host checks run on domain XML too: each has XML cases both ways,
    # unless no domain can trigger it (NOT_FROM_XML says why).
    lifted = {
        rule.code
        for rule in rules
        if rule.check is not None and rule.code.startswith(("VN1", "VN2"))
    }
    xml_negative_codes = {c.code for c in xml_negative}
    xml_positive_codes = {c.code for c in xml_positive}
    assert lifted - xml_negative_codes - set(not_from_xml) == set()
    assert lifted - xml_positive_codes - set(not_from_xml) == set()
    # The exception lists stay honest: known codes, and no exception for a covered code.
    assert set(NEGATIVE_ELSEWHERE) | set(POSITIVE_ELSEWHERE) | set(not_from_xml) <= codes
    assert set(not_from_xml) & xml_negative_codes == set()
    assert set(NEGATIVE_ELSEWHERE) & negative == set()
    assert all(reason.strip() for reason in not_from_xml.values())


def test_errors_block_output_but_warnings_do_not(tmp_path: Path) -> None:
    warning_case = next(c for c in NEGATIVE if c.code == "VN115")
    diagnostics, _ = run_case(warning_case, tmp_path)
    assert {d.severity for d in diagnostics} == {Severity.WARNING}


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_rule_is_documented(rule) -> None:
    for section in ("## What it checks", "## Why", "## Example", "## Fix"):
        assert section in rule.doc, f"{rule.code} lacks {section}"
    assert rule.summary.endswith("."), rule.summary
    assert rule.name == rule.name.lower() and " " not in rule.name
