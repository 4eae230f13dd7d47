"""VN016 and VN006 at libvirt 9.0's integer limits: what `virsh define` accepts, vnuma accepts.

Each case is a domain XML with one value at a limit (accepted) or one past it (refused with
libvirt's message, at the line and column of the value; a `§` in the case marks that
place). The limits, as libvirt 9.0 reads these values (src/conf/domain_conf.c,
numa_conf.c, src/util/virstring.c, virxml.c):

- unsigned ints, UINT_MAX (4294967295): `<vcpu>` (virXPathUInt, virStrToLong_ui: '-N'
  wraps to 2**32 - N), and `<vcpu current>`, `<cell id>`, `<vcpupin vcpu>`, `<memnode
  cellid>`, `<vcpus><vcpu id>` (virXMLPropUInt, virStrToLong_uip: no '-'). White space
  before the digits is skipped, white space after them is refused.
- sizes (virDomainParseMemory): the number an unsigned long long, then at most LLONG_MAX
  bytes once scaled by the unit ("value too large: N<unit>"), and below 2**53 KiB once
  rounded up to KiB ("size value too large").
- cpusets and nodesets: ids up to 16383 (VIR_DOMAIN_CPUMASK_LEN bits).

With `virsh` installed, the refused cases are also defined with the test driver
(`virsh -c test:///default define`), which must fail with the same message.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_domain_rules import run_xml

VIRSH = shutil.which("virsh")
MARK = "§"
MEMORY = "<memory unit='KiB'>1048576</memory>"
CELL = "<cpu><numa><cell id='0' cpus='0-7' memory='1048576'/></numa></cpu>"
HOTPLUG = "<maxMemory slots='4' unit='KiB'>4194304</maxMemory>" + MEMORY
BIG = "9" * 5000  # past int()'s 4300 digits: no Python int may be made of it


def domain(*body: str, memory: str = MEMORY, vcpu: str = "<vcpu>8</vcpu>") -> str:
    """A domain, `body` from line 6 on (one line each)."""
    lines = [
        "<domain type='kvm'>",
        "  <name>bounds</name>",
        f"  {memory}",
        f"  {vcpu}",
        "  <os><type arch='x86_64' machine='q35'>hvm</type></os>",
        *(f"  {line}" for line in body),
        "</domain>",
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Bound:
    id: str
    xml: str
    """With `MARK` where the finding points (refused cases)."""
    message: str | None = None
    """libvirt's message; None: accepted."""
    code: str = "VN016"
    virsh: bool = True
    """Also ask libvirt (False where its test driver fails for reasons of its own)."""


def vcpu(text: str, attrs: str = "") -> str:
    return domain(vcpu=f"<vcpu{attrs}>{text}</vcpu>")


def pin(vcpu_id: str, cpuset: str = "'0'") -> str:
    return domain(f"<cputune><vcpupin vcpu={vcpu_id} cpuset={cpuset}/></cputune>")


def memnode(cellid: str) -> str:
    return domain(
        CELL, f"<numatune><memnode cellid={cellid} mode='strict' nodeset='0'/></numatune>"
    )


def vcpu_ids(vcpu_id: str) -> str:
    return domain(f"<vcpus><vcpu id='0' enabled='yes'/><vcpu id={vcpu_id} enabled='yes'/></vcpus>")


def memory(text: str, unit: str = "") -> str:
    return domain(memory=f"<memory{unit}>{text}</memory>")


def cell(attrs: str) -> str:
    return domain(f"<cpu><numa><cell id='0' cpus='0-7' {attrs}/></numa></cpu>", memory="")


def page(attrs: str) -> str:
    return domain(f"<memoryBacking><hugepages><page {attrs}/></hugepages></memoryBacking>")


def dimm(size: str) -> str:
    target = f"<target><size>{size}</size><node>0</node></target>"
    return domain(
        CELL, f"<devices><memory model='dimm'>{target}</memory></devices>", memory=HOTPLUG
    )


def uint_attr(name: str, element: str, value: str) -> str:
    return (
        f"Invalid value for attribute '{name}' in element '{element}': '{value}'. "
        "Expected non-negative integer value"
    )


MAX = "4294967295"
PAST = "4294967296"
KIB_MAX = "9007199254740991"  # LLONG_MAX // 1024: the largest size in KiB
KIB_PAST = "9007199254740992"
BYTES_MAX = "9223372036854774784"  # 2**63 - 1024: the largest size in bytes
BYTES_PAST = "9223372036854774785"  # rounds up to 2**53 KiB
ULLONG_PAST = "18446744073709551616"

CASES = [
    # --- <vcpu>: virXPathUInt ----------------------------------------------------------
    # libvirt 9.0's test driver accepts 4294967295 vCPUs and then dies allocating them
    Bound("vcpu-max", vcpu(MAX), virsh=False),
    Bound("vcpu-past", vcpu(MARK + PAST), "maximum vcpus count must be an integer"),
    Bound("vcpu-minus-wraps", vcpu("-4294967288")),  # 8 vCPUs
    Bound("vcpu-minus-past", vcpu(MARK + "-" + PAST), "maximum vcpus count must be an integer"),
    Bound("vcpu-space-before", vcpu(" +8")),
    Bound("vcpu-space-after", vcpu(MARK + "8 "), "maximum vcpus count must be an integer"),
    Bound(
        "vcpu-empty",
        domain(vcpu=f"{MARK}<vcpu></vcpu>"),
        "maximum vcpus count must be an integer",
    ),
    Bound("vcpu-thousands", vcpu(MARK + BIG), "maximum vcpus count must be an integer"),
    # --- unsigned int attributes: virXMLPropUInt ----------------------------------------
    Bound("current-max", vcpu(MAX, f" current='{MAX}'"), virsh=False),
    Bound(
        "current-past",
        vcpu("8", f" current={MARK}'{PAST}'"),
        uint_attr("current", "vcpu", PAST),
    ),
    Bound("current-minus", vcpu("8", f" current={MARK}'-1'"), uint_attr("current", "vcpu", "-1")),
    Bound("current-space-before", vcpu("8", " current=' 4'")),
    Bound(
        "current-space-after", vcpu("8", f" current={MARK}'4 '"), uint_attr("current", "vcpu", "4 ")
    ),
    Bound(
        "cell-id-max", domain(f"<cpu><numa><cell id='{MAX}' cpus='0-7' memory='1'/></numa></cpu>")
    ),
    Bound(
        "cell-id-past",
        domain(f"<cpu><numa><cell id={MARK}'{PAST}' cpus='0-7' memory='1'/></numa></cpu>"),
        uint_attr("id", "cell", PAST),
    ),
    Bound("vcpupin-max", pin(f"'{MAX}'")),
    Bound("vcpupin-past", pin(f"{MARK}'{PAST}'"), uint_attr("vcpu", "vcpupin", PAST)),
    Bound("vcpupin-minus", pin(f"{MARK}'-1'"), uint_attr("vcpu", "vcpupin", "-1")),
    Bound("memnode-max", memnode(f"'{MAX}'")),
    Bound("memnode-past", memnode(f"{MARK}'{PAST}'"), uint_attr("cellid", "memnode", PAST)),
    Bound("memnode-thousands", memnode(f"{MARK}'{BIG}'"), uint_attr("cellid", "memnode", BIG)),
    Bound("vcpus-id-last", vcpu_ids("'7'")),
    Bound(
        "vcpus-id-count",
        vcpu_ids(f"{MARK}'8'"),
        "vcpu id '8' is out of range of maximum vcpu count",
    ),
    Bound(
        "vcpus-id-max",
        vcpu_ids(f"{MARK}'{MAX}'"),
        f"vcpu id '{MAX}' is out of range of maximum vcpu count",
    ),
    Bound("vcpus-id-past", vcpu_ids(f"{MARK}'{PAST}'"), uint_attr("id", "vcpu", PAST)),
    Bound(
        "vcpus-id-missing",
        domain(f"<vcpus><vcpu id='0' enabled='yes'/>{MARK}<vcpu enabled='yes'/></vcpus>"),
        "Missing required attribute 'id' in element 'vcpu'",
    ),
    # --- sizes: virDomainParseMemory ----------------------------------------------------
    Bound("memory-max", memory(KIB_MAX)),
    Bound("memory-past", memory(MARK + KIB_PAST), f"value too large: {KIB_PAST}"),
    Bound(
        "memory-past-unit",
        memory(MARK + KIB_PAST, " unit='KiB'"),
        f"value too large: {KIB_PAST}KiB",
    ),
    Bound("memory-mib-max", memory("8796093022207", " unit='MiB'")),
    Bound(
        "memory-mib-past",
        memory(MARK + "8796093022208", " unit='MiB'"),
        "value too large: 8796093022208MiB",
    ),
    Bound("memory-bytes-max", memory(BYTES_MAX, " unit='b'")),
    Bound("memory-bytes-past", memory(MARK + BYTES_PAST, " unit='b'"), "size value too large"),
    Bound(
        "memory-ullong-past",
        memory(MARK + ULLONG_PAST),
        f"Invalid value '{ULLONG_PAST}' for element or attribute './memory[1]'",
    ),
    Bound(
        "memory-minus",
        memory(MARK + "-1"),
        "Invalid value '-1' for element or attribute './memory[1]'",
    ),
    Bound(
        "memory-space-after",
        memory(MARK + "1048576 "),
        "Invalid value '1048576 ' for element or attribute './memory[1]'",
    ),
    Bound(
        "memory-thousands",
        memory(MARK + BIG),
        f"Invalid value '{BIG}' for element or attribute './memory[1]'",
    ),
    Bound(
        "current-memory-past",
        domain(memory=f"{MEMORY}<currentMemory>{MARK}{KIB_PAST}</currentMemory>"),
        f"value too large: {KIB_PAST}",
    ),
    Bound(
        "current-memory-ullong-past",
        domain(memory=f"{MEMORY}<currentMemory>{MARK}{ULLONG_PAST}</currentMemory>"),
        f"Invalid value '{ULLONG_PAST}' for element or attribute './currentMemory[1]'",
    ),
    Bound(
        "max-memory-past",
        domain(CELL, memory=f"<maxMemory slots='4'>{MARK}{KIB_PAST}</maxMemory>{MEMORY}"),
        f"value too large: {KIB_PAST}",
    ),
    Bound("cell-memory-max", cell(f"memory='{KIB_MAX}'")),
    Bound("cell-memory-past", cell(f"memory={MARK}'{KIB_PAST}'"), f"value too large: {KIB_PAST}"),
    Bound(
        "cell-memory-ullong-past",
        cell(f"memory={MARK}'{ULLONG_PAST}'"),
        f"Invalid value '{ULLONG_PAST}' for element or attribute './@memory'",
    ),
    Bound(
        "cell-memory-missing",
        domain(f"<cpu><numa>{MARK}<cell id='0' cpus='0-7'/></numa></cpu>", memory=""),
        "missing element or attribute './@memory'",
    ),
    Bound(
        "cell-memory-empty",
        domain(f"<cpu><numa>{MARK}<cell id='0' cpus='0-7' memory=''/></numa></cpu>", memory=""),
        "missing element or attribute './@memory'",
    ),
    Bound("page-size-past", page(f"size={MARK}'{KIB_PAST}'"), f"value too large: {KIB_PAST}"),
    Bound(
        "page-size-thousands",
        page(f"size={MARK}'{BIG}'"),
        f"Invalid value '{BIG}' for element or attribute './@size'",
    ),
    Bound(
        "page-size-missing",
        domain(f"<memoryBacking><hugepages>{MARK}<page/></hugepages></memoryBacking>"),
        "missing element or attribute './@size'",
    ),
    Bound("dimm-size-past", dimm(MARK + KIB_PAST), f"value too large: {KIB_PAST}"),
    Bound(
        "dimm-size-ullong-past",
        dimm(MARK + ULLONG_PAST),
        f"Invalid value '{ULLONG_PAST}' for element or attribute './size'",
    ),
    # --- bitmaps: VIR_DOMAIN_CPUMASK_LEN --------------------------------------------------
    Bound("vcpupin-cpuset-max", pin("'0'", "'16383'")),
    Bound(
        "vcpupin-cpuset-past",
        pin("'0'", f"{MARK}'16384'"),
        "Failed to parse bitmap '16384'",
        code="VN006",
    ),
    Bound(
        "vcpupin-cpuset-range-past",
        pin("'0'", f"{MARK}'0-16384'"),
        "Failed to parse bitmap '0-16384'",
        code="VN006",
    ),
    Bound(
        "vcpupin-cpuset-thousands",
        pin("'0'", f"{MARK}'0-{BIG}'"),
        f"Failed to parse bitmap '0-{BIG}'",
        code="VN006",
    ),
    Bound(
        "vcpu-cpuset-past",
        vcpu("8", f" cpuset={MARK}'^16384,1'"),
        "Failed to parse bitmap '^16384,1'",
        code="VN006",
    ),
    Bound(
        "emulatorpin-past",
        domain(f"<cputune><emulatorpin cpuset={MARK}'16384'/></cputune>"),
        "Failed to parse bitmap '16384'",
        code="VN006",
    ),
    Bound(
        "cell-cpus-thousands",
        domain(f"<cpu><numa><cell id='0' cpus={MARK}'{BIG}' memory='1048576'/></numa></cpu>"),
        f"Failed to parse bitmap '{BIG}'",
        code="VN006",
    ),
]


def where(xml: str) -> tuple[str, tuple[int, int] | None]:
    """The XML without its mark, and the mark's line and column (1-based)."""
    offset = xml.find(MARK)
    if offset < 0:
        return xml, None
    before = xml[:offset]
    line = before.count("\n") + 1
    return xml.replace(MARK, "", 1), (line, offset - before.rfind("\n"))


def says(found: str, message: str) -> bool:
    """vnuma's message is libvirt's, or (bitmaps) libvirt's followed by why."""
    return found == message or found.startswith(message + ": ")


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_vnuma_refuses_what_libvirt_refuses(case: Bound, tmp_path: Path) -> None:
    xml, at = where(case.xml)
    started = time.perf_counter()
    report = run_xml(xml, tmp_path)
    assert time.perf_counter() - started < 5
    refusals = [d for d in report.diagnostics if d.code in ("VN005", "VN006", "VN016")]
    if case.message is None:
        assert refusals == []
        return
    assert at is not None
    found = [(d.code, d.line, d.column) for d in refusals]
    assert found == [(case.code, *at)], [d.message for d in refusals]
    assert says(refusals[0].message, case.message), refusals[0].message
    assert refusals[0].path.endswith("guest.xml")


@pytest.mark.libvirt
@pytest.mark.skipif(VIRSH is None, reason="virsh not installed (apt-get install libvirt-clients)")
@pytest.mark.parametrize("case", [c for c in CASES if c.virsh], ids=lambda case: case.id)
def test_libvirt_agrees(case: Bound, tmp_path: Path) -> None:
    """libvirt 9.0's parser, post-parse and validation (the test driver) say the same."""
    xml, _ = where(case.xml)
    path = tmp_path / "domain.xml"
    path.write_text(xml, encoding="utf-8")
    assert VIRSH is not None
    done = subprocess.run(
        [VIRSH, "-q", "-c", "test:///default", "define", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if case.message is None:
        assert "Failed to define" not in done.stderr or (
            # these define; other checks of libvirt's then refuse them, not these values
            "Exactly one 'cell' element" in done.stderr
            or "must correspond to existing guest's NUMA cell" in done.stderr
            or "Ignoring vcpupin" in done.stderr
        ), done.stderr
    else:
        assert done.returncode != 0
        assert case.message in done.stderr, done.stderr
