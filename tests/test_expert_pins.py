"""Pins and guest topology an expert would write (issue 15, remaining items): one
`<vcpu cpuset>` for `pinning: node` when every vCPU gets the same set, a topology and
an `--explain` trace that say what was emitted, dies for several cells on one host
socket."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import HOSTS, SAMPLES

XEON = HOSTS / "2s-xeon.xml"
EPYC = HOSTS / "epyc-nps4.xml"


def write(tmp_path: Path, text: str, name: str = "guest.yaml") -> Path:
    path = tmp_path / name
    path.write_text("version: 1\nname: g\n" + text, encoding="utf-8")
    return path


# --- 1. pinning: node ------------------------------------------------------------------

NODE_ONE_SET = (
    "vcpus: 8\nmemory: 8GiB\nnumatune: {mode: strict, nodeset: auto}\ncpu: {pinning: node}\n"
)


def test_node_pinning_with_one_set_writes_vcpu_cpuset(run_cli, tmp_path: Path) -> None:
    intent = write(tmp_path, NODE_ONE_SET)
    result = run_cli("compile", intent, "--host", XEON, "--explain")
    assert result.code == 0, result.err
    assert '  <vcpu placement="static" cpuset="20-39,60-79">8</vcpu>\n' in result.out
    assert "<vcpupin" not in result.out
    assert "<cputune>" not in result.out
    assert (
        "explain: every vCPU floats over host CPUs 20-39,60-79: written as <vcpu cpuset>, "
        "which confines the emulator threads too (no <emulatorpin>)\n"
    ) in result.err
    # lint of the compiled output against the same host is clean, and the view draws the
    # floating vCPUs over the node's 40 CPUs
    compiled = tmp_path / "g.xml"
    compiled.write_text(result.out, encoding="utf-8")
    lint = run_cli("lint", compiled, "--host", XEON)
    assert lint.code == 0, lint.out + lint.err
    assert "Found 0 errors, 0 warnings" in lint.out
    shown = run_cli("show", compiled, "--host", XEON, "--color", "never")
    assert shown.code == 0, shown.err
    node1 = next(line for line in shown.out.splitlines() if line.strip().startswith("1 ["))
    assert node1.count("a") == 40, shown.out


def test_node_pinning_sets_per_cell_keep_one_vcpupin_per_vcpu(run_cli, tmp_path: Path) -> None:
    # near miss: two cells on two nodes, two sets: libvirt has no per-cell pin element
    intent = write(
        tmp_path,
        "vcpus: 8\nmemory: 16GiB\ncells: 2\nnumatune: {mode: strict, nodeset: auto}\n"
        "cpu: {pinning: node, reserved: '0'}\n",
    )
    result = run_cli("compile", intent, "--host", EPYC, "--explain")
    assert result.code == 0, result.err
    assert '<vcpu placement="static">8</vcpu>' in result.out
    assert result.out.count("<vcpupin ") == 8
    assert '<vcpupin vcpu="0" cpuset="32-39,96-103"/>' in result.out
    assert '<vcpupin vcpu="7" cpuset="40-47,104-111"/>' in result.out
    assert (
        "explain: vCPU sets differ per cell: one <vcpupin> per vCPU (libvirt has no per-cell pin)\n"
        in result.err
    )


def test_node_pinning_with_an_emulator_pin_says_nothing_of_the_emulator(
    run_cli, tmp_path: Path
) -> None:
    intent = write(
        tmp_path, NODE_ONE_SET.replace("{pinning: node}", "{pinning: node, emulator: '0'}")
    )
    result = run_cli("compile", intent, "--host", XEON, "--explain")
    assert result.code == 0, result.err
    assert 'cpuset="20-39,60-79">8</vcpu>' in result.out
    assert '<emulatorpin cpuset="0"/>' in result.out
    assert "explain: every vCPU floats over host CPUs 20-39,60-79: written as <vcpu cpuset>\n" in (
        result.err
    )


def test_merge_replaces_the_base_cpuset_and_drops_its_vcpupins(run_cli, tmp_path: Path) -> None:
    intent = write(tmp_path, NODE_ONE_SET)
    base = tmp_path / "numa-vm.xml"
    shutil.copy(SAMPLES / "domains" / "numa-vm.xml", base)
    for args in ((), ("--in-place",)):
        result = run_cli("compile", intent, "--host", XEON, "--domain", base, *args)
        assert result.code == 0, result.err
        text = base.read_text(encoding="utf-8") if args else result.out
        assert "<vcpu placement='static' current='2' cpuset='20-39,60-79'>8</vcpu>" in text
        assert "vcpupin" not in text
        assert "cputune" not in text


# --- 2. the guest topology says what was emitted -----------------------------------------

DEDICATED = (
    "numatune: {mode: strict, nodeset: auto}\n"
    "cpu: {pinning: dedicated, threads: prefer, topology: auto}\n"
)


def with_die_per_node(tmp_path: Path) -> Path:
    """epyc-nps4.xml with each of a socket's four nodes on its own die (die_id = node % 4)."""
    lines, node = [], None
    for line in EPYC.read_text(encoding="utf-8").splitlines(keepends=True):
        if "<cell id='" in line:
            node = int(line.split("<cell id='")[1].split("'")[0])
        if "die_id='0'" in line and node is not None:
            line = line.replace("die_id='0'", f"die_id='{node % 4}'")
        lines.append(line)
    path = tmp_path / "epyc-dies.xml"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_odd_vcpus_on_sibling_pairs_say_why_threads_is_one(run_cli, tmp_path: Path) -> None:
    intent = write(tmp_path, "vcpus: 7\nmemory: 8GiB\ncells: 2\n" + DEDICATED)
    result = run_cli("compile", intent, "--host", EPYC, "--explain")
    assert result.code == 0, result.err
    assert '<topology sockets="1" dies="1" cores="7" threads="1"/>' in result.out
    assert (
        "explain: guest topology 1 sockets x 1 dies x 7 cores x 1 threads (1 socket: the 2 "
        "cells have different vCPU counts; threads=1: 7 vCPUs is odd, so not every vCPU is "
        "one of a pair (3 pair(s) sit on host sibling pairs))\n"
    ) in result.err


def test_even_vcpus_on_sibling_pairs_are_threads_two(run_cli, tmp_path: Path) -> None:
    # near miss: 8 vCPUs, all four pairs on sibling pairs
    intent = write(tmp_path, "vcpus: 8\nmemory: 8GiB\ncells: 2\n" + DEDICATED)
    result = run_cli("compile", intent, "--host", XEON, "--explain")
    assert result.code == 0, result.err
    assert '<topology sockets="2" dies="1" cores="2" threads="2"/>' in result.out
    assert (
        "explain: guest topology 2 sockets x 1 dies x 2 cores x 2 threads (2 sockets: one "
        "per host socket the cells sit on; threads=2: every vCPU pair sits on a host sibling "
        "pair)\n"
    ) in result.err


def test_four_cells_on_one_socket_without_dies_stay_a_socket_each(run_cli, tmp_path: Path) -> None:
    # epyc-nps4.xml reports die 0 for all of a socket's four nodes: no guest dies to mirror
    intent = write(tmp_path, "vcpus: 16\nmemory: 16GiB\ncells: 4\n" + DEDICATED)
    result = run_cli("compile", intent, "--host", EPYC, "--explain")
    assert result.code == 0, result.err
    assert '<topology sockets="4" dies="1" cores="2" threads="2"/>' in result.out
    assert (
        "(4 sockets, one per cell: 4 cells share a host socket whose die ids do not tell them "
        "apart, and a guest socket (its cache) should not span guest nodes; threads=2: every "
        "vCPU pair sits on a host sibling pair)\n"
    ) in result.err


def test_four_cells_on_one_socket_of_four_dies_are_one_socket_of_four_dies(
    run_cli, tmp_path: Path
) -> None:
    host = with_die_per_node(tmp_path)
    intent = write(tmp_path, "vcpus: 16\nmemory: 16GiB\ncells: 4\n" + DEDICATED)
    result = run_cli("compile", intent, "--host", host, "--explain")
    assert result.code == 0, result.err
    assert '<topology sockets="1" dies="4" cores="2" threads="2"/>' in result.out
    assert (
        "explain: guest topology 1 sockets x 4 dies x 2 cores x 2 threads (1 socket(s), one "
        "per host socket the cells sit on; 4 dies per socket, one per cell, as the host's "
        "cells sit on distinct dies; threads=2: every vCPU pair sits on a host sibling pair)\n"
    ) in result.err
    compiled = tmp_path / "g.xml"
    compiled.write_text(result.out, encoding="utf-8")
    lint = run_cli("lint", compiled, "--host", host)
    assert lint.code == 0, lint.out + lint.err
    # eight cells over both sockets: two sockets of four dies
    intent = write(tmp_path, "vcpus: 32\nmemory: 32GiB\ncells: 8\n" + DEDICATED)
    result = run_cli("compile", intent, "--host", host)
    assert result.code == 0, result.err
    assert '<topology sockets="2" dies="4" cores="2" threads="2"/>' in result.out


# --- 3. VN115 on a guest-wide preferred <memory> beside memnodes --------------------------


def test_vn115_on_a_guest_wide_preferred_memory_beside_memnodes(run_cli, tmp_path: Path) -> None:
    domain = tmp_path / "guest.xml"
    memnodes = (
        "    <memnode cellid='0' mode='preferred' nodeset='0'/>\n"
        "    <memnode cellid='1' mode='preferred' nodeset='1'/>\n"
    )
    text = (
        "<domain type='kvm'>\n  <name>g</name>\n  <memory unit='GiB'>16</memory>\n"
        "  <vcpu>8</vcpu>\n  <numatune>\n    <memory mode='preferred' nodeset='0-1'/>\n"
        f"{memnodes}  </numatune>\n  <cpu>\n    <numa>\n"
        "      <cell id='0' cpus='0-3' memory='8' unit='GiB'/>\n"
        "      <cell id='1' cpus='4-7' memory='8' unit='GiB'/>\n    </numa>\n  </cpu>\n</domain>\n"
    )
    domain.write_text(text, encoding="utf-8")
    result = run_cli("lint", domain, "--host", XEON)
    assert result.code == 0  # a warning
    assert "Found 0 errors, 1 warning" in result.out
    assert (
        "guest.xml:6:38: VN115 the guest-wide <memory> beside the cells' memnodes prefers 2 "
        'host nodes (0-1): libvirt < 9.0 refuses it at start ("NUMA memory tuning in '
        "'preferred' mode only supports single node\")"
    ) in result.out
    # near miss: the memnodes alone, as vnuma writes them
    domain.write_text(text.replace("    <memory mode='preferred' nodeset='0-1'/>\n", ""), "utf-8")
    result = run_cli("lint", domain, "--host", XEON)
    assert "VN115" not in result.out, result.out


# --- 4. VN419: a DIMM's slot beyond <maxMemory slots> -------------------------------------


def test_vn419_names_the_slot_and_the_count(run_cli, tmp_path: Path) -> None:
    domain = tmp_path / "guest.xml"
    text = (
        "<domain type='kvm'>\n  <name>g</name>\n"
        "  <maxMemory slots='2' unit='GiB'>32</maxMemory>\n  <memory unit='GiB'>9</memory>\n"
        "  <vcpu>8</vcpu>\n  <cpu>\n    <numa>\n"
        "      <cell id='0' cpus='0-7' memory='8' unit='GiB'/>\n    </numa>\n  </cpu>\n"
        "  <devices>\n    <memory model='dimm'>\n      <target>\n"
        "        <size unit='GiB'>1</size>\n        <node>0</node>\n      </target>\n"
        "      <address type='dimm' slot='2'/>\n    </memory>\n  </devices>\n</domain>\n"
    )
    domain.write_text(text, encoding="utf-8")
    result = run_cli("lint", domain)
    assert "guest.xml:17:33: VN419 memory device slot '2' exceeds slots count '2'" in result.out
    assert "hint: slots are numbered 0-1: use a free one, or set <maxMemory slots='3'> or more" in (
        result.out
    )
    domain.write_text(text.replace("slot='2'", "slot='1'"), encoding="utf-8")
    assert "VN419" not in run_cli("lint", domain).out
