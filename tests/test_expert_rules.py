"""Rules matched to what libvirt and QEMU do on real XML (issue 15): when a failure
happens (define, start, later), which memory devices take slots, and checks that keep
running past a value libvirt refuses.

The tables of test_rules.py and test_domain_rules.py give every rule its negative case
and near miss; these tests pin the details those tables cannot express (a message that
depends on `<allocation>`, severities on libvirt's own inputs, the partial guest)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from vnuma.codes import VN104
from vnuma.diagnostics import Diagnostic, Severity
from vnuma.rules.base import READS, CheckContext, Finding, check
from vnuma.rules.check import run_admission, run_checks

from tests.conftest import HOSTS, SHARED_CORPUS
from tests.test_domain_rules import (
    CELL0,
    CELL1,
    MAX_MEMORY,
    ONE_CELL,
    TWO_CELLS,
    XEON,
    cputune,
    dom,
    memnode,
    memory_device,
    numa,
    numatune,
    run_xml,
    vcpupin,
)

# node 0 of the Xeon: 191 GiB, 66 GiB of it in huge page pools (see the VN203 case)
TOO_BIG_FOR_NODE_0 = (
    numa(CELL0.replace("memory='8'", "memory='160'"), CELL1),
    numatune(memnode(0, "0"), memnode(1, "1")),
)


def _only(report: Any, code: str) -> Diagnostic:
    hits: list[Diagnostic] = [d for d in report.diagnostics if d.code == code]
    assert len(hits) == 1, [(d.code, d.message) for d in report.diagnostics]
    return hits[0]


# --- VN203/VN204: when a strict binding that does not fit fails --------------------------


def test_vn203_without_preallocation_says_the_guest_starts_and_is_killed_later(
    tmp_path: Path,
) -> None:
    hit = _only(run_xml(dom(*TOO_BIG_FOR_NODE_0, memory="168"), tmp_path, XEON), "VN203")
    assert hit.message.endswith(
        ": QEMU allocates lazily, so the guest starts and is OOM-killed once it touches "
        "more than the nodes have"
    )


def test_vn203_with_immediate_allocation_says_it_fails_at_start(tmp_path: Path) -> None:
    backing = "<memoryBacking>\n  <allocation mode='immediate'/>\n</memoryBacking>\n"
    hit = _only(run_xml(dom(backing, *TOO_BIG_FOR_NODE_0, memory="168"), tmp_path, XEON), "VN203")
    assert "with <allocation mode='immediate'/> QEMU preallocates it" in hit.message
    assert "fails to start" in hit.message and "OOM" not in hit.message


def test_vn204_with_ondemand_allocation_is_lazy(tmp_path: Path) -> None:
    backing = "<memoryBacking>\n  <allocation mode='ondemand'/>\n</memoryBacking>\n"
    xml = dom(backing, numatune("<memory mode='strict' nodeset='0-1'/>"), memory="300")
    hit = _only(run_xml(xml, tmp_path, XEON), "VN204")
    assert "allocates lazily" in hit.message


def test_bad_allocation_mode_is_libvirts_parse_error(tmp_path: Path) -> None:
    backing = "<memoryBacking>\n  <allocation mode='eager'/>\n</memoryBacking>\n"
    hit = _only(run_xml(dom(backing), tmp_path), "VN016")
    assert hit.message == "Invalid value for attribute 'mode' in element 'allocation': 'eager'."


# --- memory devices and slots ------------------------------------------------------------


@pytest.mark.parametrize(
    ("models", "slots", "fires"),
    [
        (("dimm", "nvdimm"), 2, False),
        (("dimm", "nvdimm", "dimm"), 2, True),
        (("virtio-mem", "virtio-mem", "virtio-pmem"), 0, False),  # none of them takes a slot
        (("dimm",), 0, True),  # slots left out (libvirt >= 9.5): a DIMM has none to take
    ],
)
def test_only_dimm_and_nvdimm_take_memory_slots(
    models: tuple[str, ...], slots: int, fires: bool, tmp_path: Path
) -> None:
    limit = (
        MAX_MEMORY.replace("slots='4'", f"slots='{slots}'")
        if slots
        else MAX_MEMORY.replace(" slots='4'", "")
    )
    devices = "".join(memory_device(m, 1, 0 if m != "virtio-pmem" else None) for m in models)
    xml = dom(limit, ONE_CELL, f"<devices>\n{devices}\n</devices>\n", memory=str(16 + len(models)))
    codes = [d.code for d in run_xml(xml, tmp_path).diagnostics]
    assert ("VN417" in codes) is fires, codes
    if fires:
        hit = _only(run_xml(xml, tmp_path), "VN417")
        slotted = sum(m in ("dimm", "nvdimm") for m in models)
        assert hit.message == (
            f"count of memory devices requiring memory slots '{slotted}' exceeds slots count "
            f"'{slots}'"
        )


def test_vn414_without_cells_counts_the_devices_once(tmp_path: Path) -> None:
    """Without cells <memory> already includes the devices (libvirt's initial memory is
    <memory> minus them): 6 GiB total, 4 of them DIMM, fits maxMemory 6 GiB."""
    limit = "<maxMemory slots='4' unit='GiB'>6</maxMemory>\n"
    ppc = "<type arch='ppc64' machine='pseries'>hvm</type>"
    xml = dom(
        limit, "<devices>\n" + memory_device("dimm", 4) + "\n</devices>\n", memory="6", os=ppc
    )
    assert [d.code for d in run_xml(xml, tmp_path).diagnostics] == []


# --- a value libvirt refuses stops only the checks that read it --------------------------


def test_checks_that_do_not_read_the_bad_value_still_run(tmp_path: Path) -> None:
    # vCPU count unreadable: VN104 (cells only) still runs; VN103 (reads vcpus) does not
    xml = dom(TWO_CELLS.replace("'4-7'", "'3-7'"), vcpu="eight")
    report = run_xml(xml, tmp_path)
    assert sorted(d.code for d in report.diagnostics) == ["VN016", "VN104"]
    guest = report.files[0].guest
    assert guest is not None and guest.domain.unreadable == frozenset({"vcpus"})


def test_each_bad_part_is_named(tmp_path: Path) -> None:
    xml = dom(
        numa(CELL0.replace("'0-3'", "'aaa'"), CELL1),
        cputune("<vcpupin vcpu='0'/>"),
        memory="lots",
    )
    report = run_xml(xml, tmp_path)
    guest = report.files[0].guest
    assert guest is not None
    assert guest.domain.unreadable == frozenset({"cells", "memory", "pins"})


def test_a_clean_domain_has_nothing_unreadable(tmp_path: Path) -> None:
    report = run_xml(dom(TWO_CELLS, cputune(vcpupin(0, "2"))), tmp_path)
    guest = report.files[0].guest
    assert guest is not None and guest.domain.unreadable == frozenset()
    assert run_checks(guest, None) == []


def test_a_partial_guest_is_not_admitted_beside_others(tmp_path: Path) -> None:
    from vnuma.libvirt.capabilities import load_host

    host, _ = load_host(HOSTS / XEON, XEON)
    assert host is not None
    whole = run_xml(dom(ONE_CELL, numatune(memnode(0, "0"))), tmp_path, name="a.xml")
    partial = run_xml(dom(ONE_CELL, numatune(memnode(0, "0")), vcpu="x"), tmp_path, name="b.xml")
    guests = [whole.files[0].guest, partial.files[0].guest]
    assert all(g is not None for g in guests)
    assert run_admission(host, [g for g in guests if g is not None]) == []


def test_check_rejects_an_unknown_part() -> None:
    with pytest.raises(ValueError, match="unknown parts"):
        check(VN104, reads=("cpus",))(lambda ctx: iter(()))


def test_a_check_without_reads_reads_everything() -> None:
    @check(VN104)
    def anything(ctx: CheckContext) -> Iterator[Finding]:
        return iter(())

    assert anything.reads == READS


# --- libvirt's own plain inputs ----------------------------------------------------------

corpus = pytest.mark.skipif(
    not (SHARED_CORPUS / "MANIFEST.tsv").is_file(), reason="libvirt corpus not present"
)


@corpus
def test_vn403_on_libvirts_cputune_input_is_advice(tmp_path: Path) -> None:
    from vnuma.commands.lint import LintOptions, lint
    from vnuma.report.config import default_config

    report = lint(
        LintOptions(
            paths=(SHARED_CORPUS / "domains" / "cputune.xml",),
            config=default_config(tmp_path),
            host_path=SHARED_CORPUS / "capabilities" / "vircaps-x86_64-basic.xml",
        )
    )
    assert [(d.code, d.severity) for d in report.diagnostics] == [("VN403", Severity.INFO)]


@corpus
def test_memnode_without_cells_is_reported_next_to_a_missing_memory(tmp_path: Path) -> None:
    """libvirt's numatune-memnode-nocpu input, with its <memory> taken out: libvirt would
    report the memory first, then the memnode; vnuma reports both at once."""
    text = (SHARED_CORPUS / "domains" / "numatune-memnode-nocpu.xml").read_text(encoding="utf-8")
    start = text.index("  <memory unit=")
    text = text[:start] + text[text.index("\n", start) + 1 :]
    report = run_xml(text, tmp_path)
    assert sorted(d.code for d in report.diagnostics) == ["VN016", "VN412"]
    memnode_hit = _only(report, "VN412")
    assert memnode_hit.message == "Element 'memnode' is invalid without any guest NUMA cells"
