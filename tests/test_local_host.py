"""This machine as the host: `vnuma compile --local-host` (or --sysfs-root), `vnuma host`
and `vnuma capture --sysfs` read Linux sysfs (fake trees here, the real /sys once)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from vnuma.libvirt.capabilities import load_host
from vnuma.load.sysfs import load_sysfs
from vnuma.model.host import HostTopology

from tests.conftest import HOSTS
from tests.sysfs_trees import epyc_nps4, xeon_2s

RNG = Path("/usr/share/libvirt/schemas/capability.rng")
TWO_CELLS_ON_NODES_0_AND_3 = """\
version: 1
vcpus: 8
memory: 16GiB
numatune: {mode: strict, nodeset: "0,3"}
cells:
  - {cpus: "0-3", memory: 8GiB, host_nodes: "0"}
  - {cpus: "4-7", memory: 8GiB, host_nodes: "3"}
"""
AUTO = """\
version: 1
vcpus: 8
memory: 16GiB
cells: 2
numatune: {mode: strict, nodeset: auto}
cpu: {pinning: dedicated, threads: prefer}
"""


@pytest.fixture
def xeon_sysfs(machine_tree, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The 2-socket Xeon (nodes 0 and 1) as this machine's sysfs."""
    system = machine_tree(xeon_2s)
    monkeypatch.setenv("VNUMA_SYSFS_ROOT", str(system))
    return system


def comparable(host: HostTopology) -> HostTopology:
    cells = tuple(c._replace(span=None) for c in host.cells)
    return host._replace(source="", arch=None, cells=cells, captured_at=None, captured_from=None)


def without_free(host: HostTopology) -> HostTopology:
    cells = tuple(
        c._replace(
            free_memory_kib=None,
            pages=tuple(p._replace(free=None) for p in c.pages),
        )
        for c in comparable(host).cells
    )
    return comparable(host)._replace(cells=cells)


def test_compile_local_host_checks_against_this_machine(run_cli, write, xeon_sysfs) -> None:
    intent = write("vm.yaml", TWO_CELLS_ON_NODES_0_AND_3)
    result = run_cli("compile", intent, "--local-host")
    assert result.code == 1
    assert "VN201 NUMA node 3 is unavailable: the host has node(s) 0-1" in result.err
    assert (
        f"checked against this machine (2 NUMA node(s), 80 CPUs, from {xeon_sysfs}, as "
        "--local-host asks)" in result.err
    )


@pytest.mark.parametrize("flags", [[], ["--no-host"]], ids=["default", "no-host"])
def test_compile_without_local_host_skips_host_checks(run_cli, write, xeon_sysfs, flags) -> None:
    """Without --local-host, even with VNUMA_SYSFS_ROOT set, as `vnuma lint` does;
    --no-host, the old way to ask for this, still works."""
    intent = write("vm.yaml", TWO_CELLS_ON_NODES_0_AND_3)
    result = run_cli("compile", intent, *flags)
    assert result.code == 0, result.err
    assert "VN201" not in result.err and "<numatune>" in result.out
    assert "note: no host snapshot: host checks skipped" in result.err
    assert "this machine" not in result.err


def test_a_snapshot_wins_over_this_machine(run_cli, write, xeon_sysfs) -> None:
    intent = write("vm.yaml", TWO_CELLS_ON_NODES_0_AND_3)
    result = run_cli("compile", intent, "--host", HOSTS / "epyc-nps4.xml")
    assert result.code == 0, result.err
    assert "this machine" not in result.err


def test_placement_on_this_machine(run_cli, write, xeon_sysfs) -> None:
    result = run_cli("compile", write("vm.yaml", AUTO), "--local-host")
    assert result.code == 0, result.err
    with_snapshot = run_cli("compile", write("vm.yaml", AUTO), "--host", HOSTS / "2s-xeon.xml")
    assert result.out == with_snapshot.out  # the tree is the sample machine


def test_sysfs_root_option_and_its_errors(run_cli, write, tmp_path, machine_tree) -> None:
    system = machine_tree(epyc_nps4)
    intent = write("vm.yaml", TWO_CELLS_ON_NODES_0_AND_3)
    assert run_cli("compile", intent, "--sysfs-root", system).code == 0
    missing = run_cli("compile", intent, "--sysfs-root", tmp_path / "nope")
    assert missing.code == 2 and "nope" in missing.err
    for conflicting in (["--sysfs-root", system, "--no-host"], ["--local-host", "--no-host"]):
        with pytest.raises(SystemExit) as usage:  # argparse: mutually exclusive options
            run_cli("compile", intent, *conflicting)
        assert usage.value.code == 2


def test_host_without_a_file_shows_this_machine(run_cli, xeon_sysfs, machine_tree) -> None:
    result = run_cli("host")
    assert result.code == 0, result.err
    # the header names the tree's path, so where it wraps depends on how long that is
    assert "2 socket(s), 2 NUMA node(s), 80 CPUs, 40 cores" in " ".join(result.out.split())
    epyc = machine_tree(epyc_nps4)
    epyc_out = run_cli("host", "--sysfs-root", epyc).out
    assert "8 NUMA node(s), 128 CPUs" in " ".join(epyc_out.split())
    both = run_cli("host", HOSTS / "2s-xeon.xml", "--sysfs-root", epyc)
    assert both.code == 2


def test_capture_sysfs_writes_the_same_machine(run_cli, tmp_path, xeon_sysfs) -> None:
    out = tmp_path / "host.xml"
    result = run_cli("capture", "--sysfs", "-o", out)
    assert result.code == 0, result.err
    assert "captured 2 NUMA node(s), 80 CPUs from sysfs" in result.err
    written, diagnostics = load_host(out)
    from_tree, _ = load_sysfs(xeon_sysfs)
    sample, _ = load_host(HOSTS / "2s-xeon.xml")
    assert diagnostics == [] and written is not None and from_tree is not None
    assert comparable(written) == comparable(from_tree)
    # and the machine is the sample it was modelled on (which records no free figures)
    assert without_free(written).cells == without_free(sample).cells
    if RNG.exists():
        schema = etree.RelaxNG(etree.parse(str(RNG)))
        root = etree.parse(str(out)).getroot()
        for element in root.iter("cpu", "topology"):  # libvirt >= 10.1 attributes
            element.attrib.pop("cluster_id", None)
            element.attrib.pop("clusters", None)
        assert schema.validate(root), schema.error_log


def test_capture_sysfs_root_implies_sysfs(run_cli, tmp_path, machine_tree) -> None:
    system = machine_tree(epyc_nps4)
    result = run_cli("capture", "--sysfs-root", system)
    assert result.code == 0, result.err
    assert result.out.startswith('<capabilities>\n  <?vnuma-host-state version="1"')
    assert result.out.count("<cell id=") == 8
    bad = run_cli("capture", "--sysfs-root", tmp_path / "nope")
    assert bad.code == 2


@pytest.mark.skipif(
    not Path("/sys/devices/system/cpu").is_dir(), reason="no Linux sysfs on this machine"
)
def test_capture_and_show_the_real_machine(run_cli, monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("VNUMA_SYSFS_ROOT")
    out = tmp_path / "me.xml"
    result = run_cli("capture", "--sysfs", "-o", out)
    assert result.code == 0, result.err
    host, diagnostics = load_host(out)
    assert host is not None and diagnostics == []
    assert host.cells and host.cpu_count >= 1
    assert all(cell.memory_kib for cell in host.cells if cell.cpus)
    assert run_cli("host").code == 0
