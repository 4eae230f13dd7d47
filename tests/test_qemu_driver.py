"""End to end on libvirt's real QEMU driver: capture, compile, `domxml-to-native qemu-argv`.

This machine's own capabilities are captured with `vnuma capture`, a 2-cell intent is
compiled against them for each memory mode, and libvirt's QEMU driver turns the result into
the QEMU command line it would run (without starting a guest). Each guest cell must become
one `-numa node` with the intent's vCPUs and a memory backend whose `host-nodes` and
`policy` carry the mode (strict -> bind; restrictive is enforced by cgroups, so no policy).
A compiled domain is also defined and undefined on qemu:///system.

Needs a running libvirtd with the QEMU driver (`.ci/libvirtd-up` starts one as root).
Skipped when `virsh -c qemu:///system version` fails, unless VNUMA_REQUIRE_QEMU=1.
"""

from __future__ import annotations

import itertools
import json
import os
import shlex
import shutil
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import REPO, explain_process, run_process

URI = "qemu:///system"
VIRSH = shutil.which("virsh")
REQUIRED = os.environ.get("VNUMA_REQUIRE_QEMU") == "1"
pytestmark = [pytest.mark.libvirt, pytest.mark.slow, pytest.mark.qemu]

# libvirt memory mode -> the QEMU memory-backend policy it must turn into (None: no policy
# and no host-nodes on the backend; restrictive binds through the cpuset cgroup only).
POLICY = {"strict": "bind", "preferred": "preferred", "interleave": "interleave"}
MODES = [*POLICY, "restrictive"]
CELL_CPUS = ["0-1", "2-3"]
CELL_MIB = 256


def virsh(*args: str | Path, timeout: int = 60) -> subprocess.CompletedProcess[str]:
    assert VIRSH is not None
    return run_process([VIRSH, "-c", URI, *map(str, args)], cwd=REPO, timeout=timeout)


def vnuma(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """`python -m vnuma ARGS` from this checkout, as a user would run it."""
    return run_process([sys.executable, "-m", "vnuma", *map(str, args)], cwd=REPO)


@pytest.fixture(scope="module")
def qemu_driver() -> None:
    """Skip (or fail under VNUMA_REQUIRE_QEMU=1) unless qemu:///system answers."""
    if VIRSH is None:
        problem, details = "virsh not installed (apt-get install libvirt-clients)", ""
    else:
        done = virsh("version", timeout=30)
        if done.returncode == 0 and "Running hypervisor: QEMU" in done.stdout:
            return
        problem = f"{URI} does not answer (as root: .ci/libvirtd-up starts libvirtd)"
        details = explain_process(done)
    if REQUIRED:
        pytest.fail(f"VNUMA_REQUIRE_QEMU=1 but {problem}\n{details}")
    pytest.skip(problem)


def test_qemu_driver_present_when_required(qemu_driver: None) -> None:
    """Under VNUMA_REQUIRE_QEMU=1 the fixture fails instead of skipping; this makes it run."""


@dataclass(frozen=True)
class Host:
    caps: Path  # what `vnuma capture` wrote
    nodes: list[int]  # host NUMA nodes with memory
    pages_2m: dict[int, int]  # free (else total) 2 MiB pages per node
    domain_type: str  # kvm when libvirt can use /dev/kvm, else qemu (TCG)
    arch: str
    emulator: str
    machine: str


@pytest.fixture(scope="module")
def host(qemu_driver: None, tmp_path_factory: pytest.TempPathFactory) -> Host:
    caps = tmp_path_factory.mktemp("qemu-host") / "host.xml"
    done = vnuma("capture", "--connect", URI, "-o", caps)
    assert done.returncode == 0, explain_process(done)
    root = etree.parse(str(caps)).getroot()  # lxml: keeps capture's processing instructions

    nodes: list[int] = []
    pages_2m: dict[int, int] = {}
    for cell in root.iterfind("host/topology/cells/cell"):
        node = int(cell.get("id", "-1"))
        memory = cell.find("memory")
        if memory is not None and int(memory.text or 0) > 0:
            nodes.append(node)
        for pages in cell.iterfind("pages"):
            if pages.get("size") == "2048" and pages.get("unit", "KiB") == "KiB":
                pages_2m[node] = int(pages.text or 0)
        # Free pages as captured (<?vnuma-free-pages size="2048" unit="KiB" count="N"?>).
        for pi in cell.xpath(".//processing-instruction('vnuma-free-pages')"):
            if pi.get("size") == "2048" and pi.get("unit", "KiB") == "KiB":
                pages_2m[node] = int(pi.get("count", "0"))
    assert nodes, f"{caps}: no host NUMA node with memory"

    arch = root.findtext("host/cpu/arch")
    for guest in root.iterfind("guest"):
        arch_el = guest.find("arch")
        if guest.findtext("os_type") != "hvm" or arch_el is None or arch_el.get("name") != arch:
            continue
        emulator = arch_el.findtext("emulator")
        machines = {m.text for m in arch_el.iterfind("machine")}
        domain_types = {d.get("type") for d in arch_el.iterfind("domain")}
        machine = next((m for m in ("q35", "pc", "virt") if m in machines), None)
        if emulator and machine:
            return Host(
                caps=caps,
                nodes=sorted(nodes),
                pages_2m=pages_2m,
                domain_type="kvm" if "kvm" in domain_types else "qemu",
                arch=arch,
                emulator=emulator,
                machine=machine,
            )
    pytest.fail(f"{caps}: no hvm guest for {arch} with a q35, pc or virt machine")


def base_domain(host: Host, name: str) -> str:
    """A minimal guest the QEMU driver accepts; vnuma fills in memory, vCPUs and NUMA."""
    return f"""<domain type='{host.domain_type}'>
  <name>{name}</name>
  <memory unit='KiB'>1048576</memory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='{host.arch}' machine='{host.machine}'>hvm</type>
  </os>
  <clock offset='utc'/>
  <devices>
    <emulator>{host.emulator}</emulator>
    <memballoon model='none'/>
  </devices>
</domain>
"""


def cell_nodes(host: Host) -> list[int]:
    """One host node per guest cell: distinct nodes when the host has two, else node 0 twice."""
    return [host.nodes[0], host.nodes[1 if len(host.nodes) > 1 else 0]]


def intent(mode: str, nodes: list[int], hugepages: bool = False) -> str:
    lines = ["version: 1", f"vcpus: {2 * len(CELL_CPUS)}", f"memory: {2 * CELL_MIB}MiB"]
    lines += ["numatune:", f"  mode: {mode}", "cells:"]
    for cpus, node in zip(CELL_CPUS, nodes, strict=True):
        lines += [f'  - cpus: "{cpus}"', f"    memory: {CELL_MIB}MiB", f'    host_nodes: "{node}"']
    if hugepages:
        lines.append("hugepages: {size: 2MiB}")
    return "\n".join(lines) + "\n"


def compile_for(host: Host, tmp_path: Path, mode: str, *, hugepages: bool = False) -> Path:
    name = f"vnuma-e2e-{mode}-{uuid.uuid4().hex[:8]}"
    (tmp_path / "intent.yaml").write_text(
        intent(mode, cell_nodes(host), hugepages), encoding="utf-8"
    )
    (tmp_path / "base.xml").write_text(base_domain(host, name), encoding="utf-8")
    out = tmp_path / f"{name}.xml"
    done = vnuma(
        "compile", tmp_path / "intent.yaml", "--host", host.caps,
        "--domain", tmp_path / "base.xml", "-o", out,
    )  # fmt: skip
    assert done.returncode == 0, explain_process(done)
    return out


# -- the QEMU command line ---------------------------------------------------------------


def qemu_argv(domain: Path) -> list[str]:
    done = virsh("domxml-to-native", "qemu-argv", domain)
    assert done.returncode == 0, (
        f"the QEMU driver refuses vnuma's output\n{explain_process(done)}\n"
        f"{domain.read_text(encoding='utf-8')}"
    )
    return shlex.split(done.stdout)


def option_values(argv: list[str], option: str) -> list[str]:
    return [value for flag, value in itertools.pairwise(argv) if flag == option]


def keyvals(text: str) -> tuple[str, dict[str, list[str]]]:
    """QEMU's `first,key=value,key=value` (a key may repeat, `,,` escapes a comma)."""
    parts = text.replace(",,", "\0").split(",")
    head, props = parts[0].replace("\0", ","), {}
    for part in parts[1:]:
        key, _, value = part.partition("=")
        props.setdefault(key, []).append(value.replace("\0", ","))
    return head, props


def ids(text: str) -> set[int]:
    """A QEMU id list, "0-1" or "3" (its own parser, not the compiler's)."""
    first, _, last = text.partition("-")
    return set(range(int(first), int(last or first) + 1))


def ints(values: list[str]) -> set[int]:
    """`host-nodes` / `cpus` values ("0-1", a key repeated per range) as a set of ids."""
    return set().union(*(ids(v) for v in values))


@dataclass
class Backend:
    qom_type: str
    size: int
    host_nodes: set[int] | None
    policy: str | None


def memory_backends(argv: list[str]) -> dict[str, Backend]:
    """Every `-object memory-backend-*`, JSON (libvirt >= 7.x with QEMU >= 6.0) or key=value."""
    backends = {}
    for value in option_values(argv, "-object"):
        if value.startswith("{"):
            props = json.loads(value)
            qom_type, ident = props.pop("qom-type"), props.pop("id")
            nodes = props.get("host-nodes")
            backend = Backend(
                qom_type,
                int(props["size"]) if "size" in props else -1,
                None if nodes is None else set(nodes),
                props.get("policy"),
            )
        else:
            qom_type, kv = keyvals(value)
            ident = kv.get("id", [""])[0]
            backend = Backend(
                qom_type,
                int(kv["size"][0]) if "size" in kv else -1,
                ints(kv["host-nodes"]) if "host-nodes" in kv else None,
                kv.get("policy", [None])[0],
            )
        if qom_type.startswith("memory-backend-"):
            backends[ident] = backend
    return backends


def numa_nodes(argv: list[str]) -> list[dict[str, list[str]]]:
    nodes = []
    for value in option_values(argv, "-numa"):
        kind, kv = keyvals(value)
        if kind == "node":
            nodes.append(kv)
    return nodes


def check_cells(argv: list[str], mode: str, nodes: list[int], qom_type: str) -> None:
    backends = memory_backends(argv)
    numa = numa_nodes(argv)
    assert [n["nodeid"] for n in numa] == [[str(i)] for i in range(len(CELL_CPUS))], argv
    for cell, (cpus, host_node) in enumerate(zip(CELL_CPUS, nodes, strict=True)):
        node = numa[cell]
        assert ints(node["cpus"]) == ids(cpus), (cell, node)
        (memdev,) = node["memdev"]
        backend = backends[memdev]
        assert backend.qom_type == qom_type, (cell, backend)
        assert backend.size == CELL_MIB * 2**20, (cell, backend)
        if mode in POLICY:
            assert backend.host_nodes == {host_node}, (cell, backend)
            assert backend.policy == POLICY[mode], (cell, backend)
        else:
            assert backend.host_nodes is None, (cell, backend)
            assert backend.policy is None, (cell, backend)


@pytest.mark.parametrize("mode", MODES)
def test_qemu_argv_has_a_numa_node_and_bound_backend_per_cell(
    host: Host, tmp_path: Path, mode: str
) -> None:
    domain = compile_for(host, tmp_path, mode)
    check_cells(qemu_argv(domain), mode, cell_nodes(host), "memory-backend-ram")


def test_qemu_argv_hugepages_2mib(host: Host, tmp_path: Path) -> None:
    """Only where the host already has a 2 MiB pool large enough; never allocates one
    (CI does: .ci/libvirtd-up with VNUMA_HUGEPAGES_2M, and VNUMA_REQUIRE_QEMU_HUGEPAGES=1)."""
    nodes = cell_nodes(host)
    needed = {n: nodes.count(n) * CELL_MIB // 2 for n in nodes}
    if any(host.pages_2m.get(n, 0) < count for n, count in needed.items()):
        problem = f"no 2 MiB huge page pool with {needed} pages per node (have {host.pages_2m})"
        if os.environ.get("VNUMA_REQUIRE_QEMU_HUGEPAGES") == "1":
            pytest.fail(f"VNUMA_REQUIRE_QEMU_HUGEPAGES=1 but {problem}")
        pytest.skip(problem)
    domain = compile_for(host, tmp_path, "strict", hugepages=True)
    check_cells(qemu_argv(domain), "strict", nodes, "memory-backend-file")


def test_qemu_driver_defines_compiled_domain(host: Host, tmp_path: Path) -> None:
    domain = compile_for(host, tmp_path, "strict")
    name = ET.parse(domain).getroot().findtext("name")
    done = virsh("define", "--validate", domain)
    assert done.returncode == 0, f"{explain_process(done)}\n{domain.read_text(encoding='utf-8')}"
    undone = None
    try:
        dumped = virsh("dumpxml", "--inactive", name)
        assert dumped.returncode == 0, explain_process(dumped)
        root = ET.fromstring(dumped.stdout)
        memnodes = {
            m.get("cellid"): (m.get("mode"), m.get("nodeset"))
            for m in root.iterfind("numatune/memnode")
        }
        nodes = cell_nodes(host)
        assert memnodes == {str(c): ("strict", str(nodes[c])) for c in range(2)}, dumped.stdout
        cells = [(c.get("id"), c.get("cpus")) for c in root.iterfind("cpu/numa/cell")]
        assert cells == [("0", "0-1"), ("1", "2-3")], dumped.stdout
    finally:
        undone = virsh("undefine", name)
    assert undone.returncode == 0, explain_process(undone)


def test_argv_parser_reads_json_and_keyval_backends() -> None:
    """The parser itself, on both forms libvirt has used for `-object` (no daemon needed)."""
    keyval = shlex.split(
        "qemu -object memory-backend-ram,id=ram-node0,size=268435456,host-nodes=0-1,"
        "host-nodes=3,policy=interleave -numa node,nodeid=0,cpus=0-1,cpus=4,memdev=ram-node0 "
        "-numa dist,src=0,dst=0,val=10"
    )
    as_json = shlex.split(
        """qemu -object '{"qom-type":"memory-backend-file","id":"ram-node0","""
        """"mem-path":"/dev/hugepages/x","size":268435456,"host-nodes":[0,1,3],"""
        """"policy":"interleave"}' -numa node,nodeid=0,cpus=0-1,cpus=4,memdev=ram-node0"""
    )
    for argv, qom_type in ((keyval, "memory-backend-ram"), (as_json, "memory-backend-file")):
        assert memory_backends(argv) == {
            "ram-node0": Backend(qom_type, 268435456, {0, 1, 3}, "interleave")
        }
        (node,) = numa_nodes(argv)
        assert ints(node["cpus"]) == {0, 1, 4}
        assert node["memdev"] == ["ram-node0"]


def test_sysfs_and_libvirt_describe_this_machine_alike(host: Host, tmp_path: Path) -> None:
    """`vnuma capture --sysfs` (no libvirt) and the QEMU driver's capabilities of the same
    machine give the same nodes, CPUs, core ids, siblings, distances, memory and pools."""
    from vnuma.libvirt.capabilities import load_host

    if not Path("/sys/devices/system/cpu").is_dir():
        pytest.skip("no Linux sysfs here")
    own = tmp_path / "sysfs.xml"
    done = vnuma("capture", "--sysfs-root", "/sys/devices/system", "-o", own)
    assert done.returncode == 0, explain_process(done)
    ours, _ = load_host(own)
    theirs, _ = load_host(host.caps)
    assert ours is not None and theirs is not None

    def shape(topology):  # free figures change between the two captures; topology does not
        return [
            (
                cell.id,
                cell.memory_kib,
                [(p.size_kib, p.count) for p in cell.pages if p.size_kib != cell.base_page_kib],
                cell.distances,
                [(c.id, c.socket_id, c.die_id, c.core_id, c.siblings) for c in cell.cpus],
            )
            for cell in topology.cells
        ]

    assert shape(ours) == shape(theirs)
