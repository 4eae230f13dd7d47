"""What libvirt says at `virsh start` about guests vnuma rejects or passes; writes
docs/start-conformance.md.

vnuma's start-time rules (VN201 host nodes, VN205 page sizes, VN206/VN210 pools, VN405 host
CPUs, VN120 page multiples, ...) claim that libvirt accepts a guest at `virsh define` and
refuses it at `virsh start`. This script checks each claim on this machine's real libvirtd
and QEMU: for every case it builds a guest that breaks only that rule (compiled by vnuma with
`--no-host` so the host checks do not stop it, or edited by hand), asks `vnuma lint` about it
against this machine's snapshot, defines it, starts it, and records libvirt's exact answer.
Guests vnuma passes must all start. A case where vnuma and libvirt disagree must be
explained in EXPLAINED (or fixed), else `--check` and the test fail.

Usage: ``python docs/start-conformance.py [--check] [--keep DIR]``, as root with a running
libvirtd (``.ci/libvirtd-up``; huge page cases want ``VNUMA_HUGEPAGES_2M=256``). Without
``--check`` it (re)writes docs/start-conformance.md; with it, it exits 1 when the table it
measures differs from the committed one. tests/test_qemu_start.py imports this file by path
(``docs/`` is not a package) for the harness and runs the check.

vnuma runs only as a subprocess, ``python -m VNUMA_MODULE``, from this checkout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "start-conformance.md"
VNUMA_MODULE = "vnuma"  # `python -m VNUMA_MODULE`: the one place that names the module
URI = "qemu:///system"
PREFIX = "vnuma-start-"  # every guest this harness defines is named PREFIX...


# -- running things -----------------------------------------------------------------------


def clean_environment() -> dict[str, str]:
    """The caller's environment, less what would point vnuma away from this machine and its
    venv: the test suite's VNUMA_SYSFS_ROOT hides the real sysfs, which `capture --sysfs`
    needs when libvirt-python is missing."""
    hidden = ("PYTHONPATH", "VIRTUAL_ENV", "VNUMA_SYSFS_ROOT")
    return {k: v for k, v in os.environ.items() if k not in hidden}


def run(cmd: list[str | Path], timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd],
        cwd=REPO,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def vnuma(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """`python -m compiler ARGS` from this checkout, as a user would run it."""
    return run([sys.executable, "-m", VNUMA_MODULE, *args])


def virsh(*args: str | Path, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return run(["virsh", "-c", URI, *args], timeout=timeout)


def explain(done: subprocess.CompletedProcess[str]) -> str:
    return (
        f"{' '.join(map(str, done.args))} exited {done.returncode}\n"
        f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    )


class HarnessError(RuntimeError):
    """Something the harness needs failed (not a verdict about a guest)."""


def must(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    if done.returncode != 0:
        raise HarnessError(explain(done))
    return done


def problem() -> str | None:
    """Why start tests cannot run here, or None when they can."""
    for tool in ("virsh",):
        if shutil.which(tool) is None:
            return f"{tool} not installed (apt-get install libvirt-clients)"
    try:
        done = virsh("version", timeout=30)
    except subprocess.TimeoutExpired:
        return f"{URI} does not answer within 30 s"
    if done.returncode != 0 or "Running hypervisor: QEMU" not in done.stdout:
        return f"{URI} does not answer (as root: .ci/libvirtd-up starts libvirtd)"
    return None


# -- this machine ---------------------------------------------------------------------------


@dataclass
class Machine:
    caps: Path  # vnuma's snapshot of this machine (capture --connect, else --sysfs)
    domain_type: str  # kvm when a probe guest really starts with it, else qemu (TCG)
    arch: str
    emulator: str
    machine: str
    libvirt: str
    qemu: str
    nodes: list[int]  # host NUMA nodes with memory
    cpus: list[int]  # host CPU ids
    node_kib: dict[int, int]  # total memory per node
    free_kib: dict[int, int]  # free memory per node, as captured
    pool_2m: dict[int, int]  # 2 MiB pages per node (pool size)
    free_2m: dict[int, int]  # free 2 MiB pages per node, as captured
    hugetlbfs: bool  # a 2 MiB hugetlbfs mount exists
    numad: bool
    workdir: Path = field(repr=False, default=Path("."))


def capture(out: Path) -> str:
    """Snapshot this machine with vnuma: through libvirt when libvirt-python is there."""
    done = vnuma("capture", "--connect", URI, "-o", out)
    if done.returncode == 0:
        return "libvirt"
    must(vnuma("capture", "--sysfs", "-o", out))
    return "sysfs"


def read_snapshot(path: Path) -> dict[str, dict[int, int]]:
    root = etree.parse(str(path)).getroot()
    facts: dict[str, dict[int, int]] = {"node": {}, "free": {}, "pool": {}, "free2m": {}}
    for cell in root.iterfind("host/topology/cells/cell"):
        node = int(cell.get("id", "-1"))
        memory = int(cell.findtext("memory") or 0)
        if memory > 0:
            facts["node"][node] = memory
        for pages in cell.iterfind("pages"):
            if pages.get("size") == "2048":
                facts["pool"][node] = int(pages.text or 0)
        for pi in cell.xpath("processing-instruction('vnuma-free-memory')"):
            facts["free"][node] = int(pi.get("value", "0"))
        for pi in cell.xpath("processing-instruction('vnuma-free-pages')"):
            if pi.get("size") == "2048":
                facts["free2m"][node] = int(pi.get("count", "0"))
    return facts


def describe(workdir: Path, caps: Path | None = None) -> Machine:
    """This machine as the start tests need it: snapshot, emulator, machine type, kvm or qemu."""
    if caps is None:
        caps = workdir / "host.xml"
        capture(caps)
    facts = read_snapshot(caps)
    root = etree.fromstring(must(virsh("capabilities")).stdout.encode())
    arch = root.findtext("host/cpu/arch") or ""
    cpus = sorted(int(c.get("id")) for c in root.iterfind("host/topology/cells/cell/cpus/cpu"))
    emulator = machine_type = None
    for guest in root.iterfind("guest"):
        arch_el = guest.find("arch")
        if guest.findtext("os_type") != "hvm" or arch_el is None or arch_el.get("name") != arch:
            continue
        machines = {m.text for m in arch_el.iterfind("machine")}
        emulator = arch_el.findtext("emulator")
        machine_type = next((m for m in ("pc", "q35", "virt") if m in machines), None)
        break
    if not emulator or not machine_type:
        raise HarnessError(f"virsh capabilities: no hvm guest for {arch}")
    version = must(virsh("version")).stdout
    libvirt_v = re.search(r"Using library: libvirt (\S+)", version)
    qemu_v = re.search(r"Running hypervisor: QEMU (\S+)", version)
    mounts = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    m = Machine(
        caps=caps,
        domain_type="qemu",
        arch=arch,
        emulator=emulator,
        machine=machine_type,
        libvirt=libvirt_v.group(1) if libvirt_v else "?",
        qemu=qemu_v.group(1) if qemu_v else "?",
        nodes=sorted(facts["node"]),
        cpus=cpus,
        node_kib=facts["node"],
        free_kib=facts["free"],
        pool_2m=facts["pool"],
        free_2m=facts["free2m"],
        hugetlbfs=any(line.split()[2:3] == ["hugetlbfs"] for line in mounts),
        numad=shutil.which("numad") is not None,
        workdir=workdir,
    )
    m.domain_type = "kvm" if kvm_starts(m) else "qemu"
    return m


def kvm_starts(m: Machine) -> bool:
    """Does a probe guest really start with type='kvm'? (/dev/kvm may exist and still fail,
    e.g. when the libvirt-qemu user may not open it.)"""
    m = Machine(**{**m.__dict__, "domain_type": "kvm"})
    path = m.workdir / "probe.xml"
    name = unique("kvm-probe")
    path.write_text(base_domain(m, name), encoding="utf-8")
    with guest(path, name) as result:
        return result.started


def unique(case: str) -> str:
    return f"{PREFIX}{case}-{uuid.uuid4().hex[:8]}"


def base_domain(m: Machine, name: str) -> str:
    """A guest with no disk the QEMU driver starts; vnuma fills in memory, vCPUs and NUMA."""
    return f"""<domain type='{m.domain_type}'>
  <name>{name}</name>
  <memory unit='KiB'>131072</memory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='{m.arch}' machine='{m.machine}'>hvm</type>
  </os>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>{m.emulator}</emulator>
    <memballoon model='none'/>
  </devices>
</domain>
"""


# -- one guest's life ---------------------------------------------------------------------


@dataclass
class Started:
    name: str
    defined: bool
    started: bool
    message: str  # libvirt's error at define or start, normalised; "" when it started
    seconds: float  # define + start


def normalise(text: str, name: str) -> str:
    """libvirt's answer without what changes from run to run (names, pids, times, paths)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("error: Failed to start domain")]
    lines = [line for line in lines if not line.startswith("error: Failed to define domain")]
    out = " ".join(line.removeprefix("error: ") for line in lines)
    out = out.replace(name, "GUEST")
    out = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z ", "", out)
    out = re.sub(r"process \d+", "process N", out)
    out = re.sub(r"'\{\"qom-type\"[^']*\}'|\{\"qom-type\".*?\}(?=:)", "{…}", out)
    out = re.sub(r"/machine/qemu-\d+-GUEST", "/machine/qemu-N-GUEST", out)
    # QEMU exited early: libvirt says "qemu unexpectedly closed the monitor" or "process
    # exited while connecting to monitor" depending on timing, then QEMU's stderr (with
    # host-dependent noise before QEMU's own error). Keep QEMU's last message only.
    exited = re.match(
        r"internal error: (?:qemu unexpectedly closed the monitor|process exited while "
        r"connecting to monitor): .*?((?:qemu-system-\S+|qemu-kvm): (?:(?!qemu-system-).)*)$",
        out,
    )
    if exited:
        out = f"QEMU exits: {exited.group(1).strip()}"
    return out


@contextlib.contextmanager
def guest(path: Path, name: str) -> Iterator[Started]:
    """Define and start the domain in PATH; always destroy, then undefine, afterwards."""
    began = time.monotonic()
    defined = virsh("define", path)
    try:
        if defined.returncode != 0:
            yield Started(name, False, False, normalise(defined.stderr, name), 0.0)
            return
        started = virsh("start", name)
        yield Started(
            name,
            True,
            started.returncode == 0,
            "" if started.returncode == 0 else normalise(started.stderr, name),
            time.monotonic() - began,
        )
    finally:
        if defined.returncode == 0:
            virsh("destroy", name)  # fails harmlessly when it did not start
            undone = virsh("undefine", name)
            if undone.returncode != 0:
                raise HarnessError(f"cannot undefine {name}\n{explain(undone)}")


def qemu_pid(name: str) -> int:
    return int(Path(f"/run/libvirt/qemu/{name}.pid").read_text(encoding="utf-8").strip())


# -- guests: intents and hand edits ---------------------------------------------------------


def intent(
    cells: list[dict[str, str]],
    *,
    mode: str | None = "strict",
    nodeset: str | None = None,
    placement: str | None = None,
    hugepages: str | None = None,
    cpu: dict[str, str] | None = None,
) -> str:
    """A version-1 intent: CELLS are dicts of cpus/memory/host_nodes/mode/distances (YAML)."""
    vcpus = 0
    for cell in cells:
        if "cpus" in cell:
            first, _, last = cell["cpus"].partition("-")
            vcpus = max(vcpus, int(last or first) + 1)
    total = sum(int(c["memory"].removesuffix("MiB")) for c in cells)
    lines = ["version: 1", f"vcpus: {vcpus}", f"memory: {total}MiB", "numatune:"]
    tune = {"mode": mode, "nodeset": nodeset, "placement": placement}
    lines += [f'  {k}: "{v}"' for k, v in tune.items() if v is not None]
    lines.append("cells:")
    for cell in cells:
        items = [f'"{k}": {v}' if k == "distances" else f'"{k}": "{v}"' for k, v in cell.items()]
        lines.append("  - {" + ", ".join(items) + "}")
    if hugepages:
        lines.append(f"hugepages: {{size: {hugepages}}}")
    if cpu:
        lines.append("cpu: {" + ", ".join(f'{k}: "{v}"' for k, v in cpu.items()) + "}")
    return "\n".join(lines) + "\n"


def cells2(mib: int, node: int | str = 0, **extra: str) -> list[dict[str, str]]:
    """Two cells of MIB MiB with one vCPU each, bound to NODE."""
    return [
        {"cpus": str(i), "memory": f"{mib}MiB", "host_nodes": str(node), **extra} for i in (0, 1)
    ]


def compile_guest(
    m: Machine, text: str, name: str, *, host: bool = True
) -> subprocess.CompletedProcess[str]:
    """Compile intent TEXT into the domain file workdir/NAME.xml (host checks unless not HOST)."""
    src = m.workdir / f"{name}.yaml"
    src.write_text(text, encoding="utf-8")
    base = m.workdir / f"{name}-base.xml"
    base.write_text(base_domain(m, name), encoding="utf-8")
    where = ["--host", m.caps] if host else ["--no-host"]
    return vnuma("compile", src, *where, "--domain", base, "-o", m.workdir / f"{name}.xml")


def edit(path: Path, change: Callable[[etree._Element], None]) -> None:
    tree = etree.parse(str(path))
    change(tree.getroot())
    tree.write(str(path), encoding="utf-8", xml_declaration=False)


def set_cells_kib(*kib: int) -> Callable[[etree._Element], None]:
    """Hand edit: give the cells these sizes and <memory> their sum (no vnuma would write it)."""

    def change(root: etree._Element) -> None:
        for cell, size in zip(root.iterfind("cpu/numa/cell"), kib, strict=True):
            cell.set("memory", str(size))
            cell.set("unit", "KiB")
        memory = root.find("memory")
        memory.text = str(sum(kib))
        memory.set("unit", "KiB")

    return change


def add_pins(vcpupin: str | None = None, emulatorpin: str | None = None, vcpu_cpuset=None):
    def change(root: etree._Element) -> None:
        cputune = root.find("cputune")
        if cputune is None:
            cputune = etree.Element("cputune")
            root.find("vcpu").addnext(cputune)
        if vcpupin is not None:
            etree.SubElement(cputune, "vcpupin", vcpu="0", cpuset=vcpupin)
        if emulatorpin is not None:
            etree.SubElement(cputune, "emulatorpin", cpuset=emulatorpin)
        if vcpu_cpuset is not None:
            root.find("vcpu").set("cpuset", vcpu_cpuset)
        if len(cputune) == 0:
            root.remove(cputune)

    return change


# -- the cases ----------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    rule: str  # the rule whose start-time claim this checks; "-" for a guest vnuma passes
    breaks: str  # what the guest does wrong (or "nothing")
    intent: Callable[[Machine], str]
    host_checks: bool = False  # compile with --host (pass cases) instead of --no-host
    hand_edit: Callable[[Machine], Callable[[etree._Element], None]] | None = None
    first: Callable[[Machine], str] | None = None  # an intent started before, kept running
    lint_together: bool = False  # lint FIRST and this guest together on the snapshot (VN5xx)
    snapshot_after_first: bool = False  # re-capture the host while FIRST runs (VN209/VN210)
    needs: Callable[[Machine], str | None] = lambda m: None  # why not here, or None


def node0(m: Machine) -> int:
    return m.nodes[0]


def missing_node(m: Machine) -> int:
    return max(m.nodes) + 1


def needs_pool(pages: int) -> Callable[[Machine], str | None]:
    def why(m: Machine) -> str | None:
        if not m.hugetlbfs:
            return "no hugetlbfs mount"
        if m.pool_2m.get(node0(m), 0) < pages:
            return f"fewer than {pages} 2 MiB pages on node {node0(m)}"
        return None

    return why


def pool_mib(m: Machine) -> int:
    return 2 * m.pool_2m.get(node0(m), 0)


def free_between(m: Machine) -> int | None:
    """MiB per cell (2 cells on node 0) between the free memory and total minus pools."""
    node = node0(m)
    usable = m.node_kib[node] // 1024 - pool_mib(m)
    free = m.free_kib.get(node, usable * 1024) // 1024
    per_cell = (free + usable) // 4
    return per_cell if 2 * per_cell > free + 64 and 2 * per_cell < usable - 64 else None


def above_node(m: Machine) -> int:
    """MiB per cell so two cells exceed node 0's memory by 1 GiB."""
    return (m.node_kib[node0(m)] // 1024 + 1024) // 2


PASSING: list[Case] = [
    *(
        Case(
            f"mode-{mode}",
            "-",
            f"nothing: 2 cells, `{mode}`",
            lambda m, mode=mode: intent(cells2(128, node0(m), mode=mode), mode=mode),
            host_checks=True,
        )
        for mode in ("strict", "preferred", "interleave", "restrictive")
    ),
    Case(
        "hugepages-2m",
        "-",
        "nothing: 2 cells backed by 2 MiB pages",
        lambda m: intent(cells2(64, node0(m)), hugepages="2MiB"),
        host_checks=True,
        needs=needs_pool(64),
    ),
    Case(
        "dedicated-emulator",
        "-",
        "nothing: a dedicated vCPU pin and an emulator pin (and a memory-only cell)",
        lambda m: intent(
            [
                {"cpus": "0", "memory": "128MiB", "host_nodes": str(node0(m))},
                {"memory": "128MiB", "host_nodes": str(node0(m))},
            ],
            cpu={"pinning": "dedicated", "emulator": "auto"},
        ),
        host_checks=True,
        needs=lambda m: None if len(m.cpus) >= 2 else "fewer than 2 host CPUs",
    ),
    Case(
        "distances",
        "-",
        "nothing: 2 cells at distance 21",
        lambda m: intent(
            [
                {"cpus": "0", "memory": "128MiB", "host_nodes": "0", "distances": "{1: 21}"},
                {"cpus": "1", "memory": "128MiB", "host_nodes": "0"},
            ]
        ),
        host_checks=True,
    ),
    Case(
        "memory-only-cell",
        "-",
        "nothing: a cell with vCPUs and a memory-only cell",
        lambda m: intent(
            [
                {"cpus": "0-1", "memory": "128MiB", "host_nodes": str(node0(m))},
                {"memory": "128MiB", "host_nodes": str(node0(m))},
            ]
        ),
        host_checks=True,
    ),
    Case(
        "placement-auto",
        "-",
        "nothing: `placement: auto` (numad chooses the nodes)",
        lambda m: intent(
            [{"cpus": "0", "memory": "128MiB"}, {"cpus": "1", "memory": "128MiB"}],
            mode="strict",
            placement="auto",
        ),
        host_checks=True,
        needs=lambda m: None if m.numad else "numad not installed",
    ),
]

FAILING: list[Case] = [
    Case(
        "node-missing-strict",
        "VN201",
        "a cell strictly bound to a host node that does not exist",
        lambda m: intent(
            [
                {"cpus": "0", "memory": "128MiB", "host_nodes": str(missing_node(m))},
                {"cpus": "1", "memory": "128MiB", "host_nodes": str(node0(m))},
            ]
        ),
    ),
    Case(
        "node-missing-restrictive",
        "VN201",
        "`restrictive` on a host node that does not exist (cgroup only, no QEMU policy)",
        lambda m: intent(cells2(128, missing_node(m), mode="restrictive"), mode="restrictive"),
    ),
    Case(
        "node-missing-nodeset",
        "VN201",
        "a guest-wide `<numatune><memory>` nodeset naming a missing node, no memnodes",
        lambda m: intent(
            [{"cpus": "0", "memory": "128MiB"}, {"cpus": "1", "memory": "128MiB"}],
            nodeset=str(missing_node(m)),
        ),
    ),
    Case(
        "page-size-missing",
        "VN205",
        "5 MiB huge pages, a size this host has no pool or hugetlbfs mount for",
        lambda m: intent(cells2(160, node0(m)), hugepages="5MiB"),
    ),
    Case(
        "pool-too-small",
        "VN206",
        "2 MiB pages for more memory than the whole pool",
        lambda m: intent(cells2(pool_mib(m) // 2 + 64, node0(m)), hugepages="2MiB"),
        needs=needs_pool(64),
    ),
    Case(
        "pool-free-too-small",
        "VN210",
        "2 MiB pages: fits the pool, but another guest holds most of it (snapshot taken then)",
        lambda m: intent(cells2(pool_mib(m) * 3 // 8, node0(m)), hugepages="2MiB"),
        first=lambda m: intent(cells2(pool_mib(m) * 3 // 8, node0(m)), hugepages="2MiB"),
        snapshot_after_first=True,
        needs=needs_pool(64),
    ),
    Case(
        "pools-overcommitted",
        "VN503",
        "two guests whose 2 MiB pages each fit the pool, but not together",
        lambda m: intent(cells2(pool_mib(m) * 3 // 8, node0(m)), hugepages="2MiB"),
        first=lambda m: intent(cells2(pool_mib(m) * 3 // 8, node0(m)), hugepages="2MiB"),
        lint_together=True,
        needs=needs_pool(64),
    ),
    Case(
        "page-multiple",
        "VN120",
        "2 MiB pages, cells of 129 MiB (hand edit: not a multiple of the page size)",
        lambda m: intent(cells2(128, node0(m)), hugepages="2MiB"),
        hand_edit=lambda m: set_cells_kib(129 * 1024, 129 * 1024),
        needs=needs_pool(130),
    ),
    Case(
        "align-overflow",
        "VN121",
        "one cell of 9007199254740991 KiB, libvirt's own `memory-align-fail` (hand edit: "
        "it defines, and its 1 MiB alignment overflows at start)",
        lambda m: intent([{"cpus": "0-1", "memory": "256MiB", "host_nodes": str(node0(m))}]),
        hand_edit=lambda m: set_cells_kib(9007199254740991),
    ),
    Case(
        "vcpupin-missing-cpu",
        "VN405",
        "a `<vcpupin>` to a host CPU the host does not have (hand edit)",
        lambda m: intent(cells2(128, node0(m))),
        hand_edit=lambda m: add_pins(vcpupin=str(max(m.cpus) + 8)),
    ),
    Case(
        "emulatorpin-missing-cpu",
        "VN405",
        "an `<emulatorpin>` to a host CPU the host does not have (hand edit)",
        lambda m: intent(cells2(128, node0(m))),
        hand_edit=lambda m: add_pins(emulatorpin=str(max(m.cpus) + 8)),
    ),
    Case(
        "vcpu-cpuset-missing-cpu",
        "VN405",
        "`<vcpu cpuset>` naming a host CPU the host does not have (hand edit)",
        lambda m: intent(cells2(128, node0(m))),
        hand_edit=lambda m: add_pins(vcpu_cpuset=str(max(m.cpus) + 8)),
    ),
    Case(
        "cells-exceed-node",
        "VN203",
        "two cells strictly bound to one node, 1 GiB more than the node has",
        lambda m: intent(cells2(above_node(m), node0(m))),
    ),
    Case(
        "guest-exceeds-nodeset",
        "VN204",
        "the whole guest strictly bound (nodeset only) to a node 1 GiB too small",
        lambda m: intent(
            [
                {"cpus": "0", "memory": f"{above_node(m)}MiB"},
                {"cpus": "1", "memory": f"{above_node(m)}MiB"},
            ],
            nodeset=str(node0(m)),
        ),
    ),
    Case(
        "beyond-free-memory",
        "VN209",
        "strict cells within the node's memory but beyond what is free (a warning)",
        lambda m: intent(cells2(free_between(m) or 128, node0(m))),
        needs=lambda m: None if free_between(m) else "no room between free and total memory",
    ),
    Case(
        "cpu-pinned-twice",
        "VN501",
        "two guests with dedicated vCPUs on the same host CPU",
        lambda m: intent(
            [{"cpus": "0", "memory": "128MiB", "host_nodes": str(node0(m))}],
            cpu={"pinning": "dedicated"},
        ),
        host_checks=True,
        first=lambda m: intent(
            [{"cpus": "0", "memory": "128MiB", "host_nodes": str(node0(m))}],
            cpu={"pinning": "dedicated"},
        ),
        lint_together=True,
    ),
    Case(
        "node-memory-overcommitted",
        "VN502",
        "two strictly bound guests that each fit the node, but not together",
        lambda m: intent(cells2(above_node(m) * 3 // 5, node0(m))),
        first=lambda m: intent(cells2(above_node(m) * 3 // 5, node0(m))),
        lint_together=True,
    ),
]

CASES = PASSING + FAILING

# Cases where vnuma's verdict and libvirt's differ, and why. Keys are case ids.
LAZY = (
    "without huge pages QEMU maps guest RAM without allocating it (no prealloc), so an "
    "over-large strict binding starts; it fails only when the guest touches more memory "
    "than the node has (the guest is OOM-killed, or QEMU dies on a failed page fault). vnuma "
    "reports it because the failure will come, only later"
)
EXPLAINED: dict[str, str] = {
    "cells-exceed-node": LAZY,
    "guest-exceeds-nodeset": LAZY,
    "node-memory-overcommitted": (
        LAZY + "; libvirt keeps no account of memory bound by other guests either"
    ),
    "cpu-pinned-twice": (
        "libvirt does not enforce exclusive pins: two guests pinned to the same host CPU both "
        "start and share it. VN501 is a policy check (dedicated vCPUs must not be shared), "
        "not a start failure; the README's 'the last guest to start fails' does not hold for "
        "CPUs pinned twice"
    ),
}

# Rules that claim a start-time failure but need what a one-node host lacks.
NOT_HERE: dict[str, str] = {
    "VN202": "needs a CPU-less host node (a CXL or memory-only node)",
    "VN115": "needs two host nodes for a multi-node `preferred` (a warning)",
    "VN117": "needs two host nodes: a cell bound outside an explicit nodeset (a warning)",
    "VN404": "needs two host nodes: a vCPU pinned to another node's CPUs than its memory's",
    "VN602-VN604": (
        "placement errors write no domain (binding a cell anyway is a VN203 or VN206 case "
        "above); one distinct host node per cell needs a multi-node host"
    ),
    "modes across nodes": (
        "`interleave` and `preferred` over several nodes, and cells on distinct nodes, run "
        "here with every cell on node 0 only (no fake multi-node host: a nested QEMU guest "
        "with `-numa` running libvirtd was not built)"
    ),
}


# -- running the cases --------------------------------------------------------------------


@dataclass
class Row:
    case: Case
    vnuma_errors: list[str]  # error-level codes from `vnuma lint` (sorted, unique)
    vnuma_other: list[str]  # warning/info codes
    result: Started | None  # None: not run here (see skipped)
    skipped: str = ""

    @property
    def vnuma_rejects(self) -> bool:
        return bool(self.vnuma_errors)

    @property
    def claimed(self) -> bool:
        """vnuma reports the rule this case is about (at any severity)."""
        return self.case.rule in self.vnuma_errors + self.vnuma_other

    @property
    def agrees(self) -> bool:
        if self.result is None:
            return True
        if self.case.rule == "-":
            return not self.vnuma_rejects and self.result.started
        if not self.claimed:
            return False
        refused = not self.result.started
        return refused == (self.case.rule in self.vnuma_errors)


def lint_codes(*domains: Path, caps: Path) -> tuple[list[str], list[str]]:
    args = ["lint", *domains, "--host", caps, "--format", "json", "--isolated", "--exit-zero"]
    done = must(vnuma(*args))
    errors, other = set(), set()
    for finding in json.loads(done.stdout):
        if Path(finding["path"]).name != domains[-1].name:
            continue  # findings of the first guest alone
        (errors if finding["severity"] == "error" else other).add(finding["code"])
    return sorted(errors), sorted(other)


def build(m: Machine, text: str, case_id: str, *, host: bool) -> tuple[str, Path]:
    name = unique(case_id)
    done = compile_guest(m, text, name, host=host)
    if done.returncode != 0:
        raise HarnessError(f"{case_id}: vnuma does not compile it\n{explain(done)}\n{text}")
    return name, m.workdir / f"{name}.xml"


def run_case(m: Machine, case: Case) -> Row:
    why = case.needs(m)
    if why:
        return Row(case, [], [], None, skipped=why)
    with contextlib.ExitStack() as stack:
        caps = m.caps
        first_path = None
        if case.first is not None:
            first_name, first_path = build(m, case.first(m), case.id + "-first", host=True)
            first = stack.enter_context(guest(first_path, first_name))
            if not first.started:
                raise HarnessError(f"{case.id}: the first guest does not start: {first.message}")
            if case.snapshot_after_first:
                caps = m.workdir / f"{first_name}-host.xml"
                capture(caps)
        name, path = build(m, case.intent(m), case.id, host=case.host_checks)
        if case.hand_edit is not None:
            edit(path, case.hand_edit(m))
        domains = (first_path, path) if case.lint_together and first_path else (path,)
        errors, other = lint_codes(*domains, caps=caps)
        result = stack.enter_context(guest(path, name))
        return Row(case, errors, other, result)


def run_all(m: Machine, cases: list[Case] = CASES) -> list[Row]:
    return [run_case(m, case) for case in cases]


# -- the document -------------------------------------------------------------------------


def libvirt_answer(row: Row) -> str:
    if row.result is None:
        return f"not run here: {row.skipped}"
    r = row.result
    if r.started:
        return "starts"
    where = "refused at define" if not r.defined else "refused at start"
    return f"{where}: `{r.message}`"


def verdict(row: Row) -> str:
    if row.result is None:
        return "—"
    if row.agrees:
        return "agree"
    return "explained" if row.case.id in EXPLAINED else "**DISAGREE**"


def codes(row: Row) -> str:
    if row.result is None:
        return "—"
    parts = [f"**{c}**" if c == row.case.rule else c for c in row.vnuma_errors]
    parts += [f"{c} (warning)" for c in row.vnuma_other if c == row.case.rule]
    return ", ".join(parts) if parts else "passes"


def render(m: Machine, rows: list[Row]) -> str:
    out = [
        "# Start-time conformance",
        "",
        "<!-- generated by `python docs/start-conformance.py`; do not edit -->",
        "",
        "What libvirt's QEMU driver says at `virsh start` about guests that break one of",
        "vnuma's start-time rules, and about guests vnuma passes. Each guest is compiled by",
        "vnuma (with `--no-host` when vnuma would refuse it) or then edited by hand, linted",
        "with `vnuma lint --host` against a snapshot of the machine, defined, started,",
        "destroyed and undefined (`tests/test_qemu_start.py` runs this in CI and fails",
        "when the table changes).",
        "",
        f"Measured with libvirt {m.libvirt} and QEMU {m.qemu}, {m.arch}.",
        f"The host has {len(m.nodes)} NUMA node(s), {len(m.cpus)} CPUs and a 2 MiB huge page",
        "pool; guests have no disk and use `type='kvm'` when a probe guest starts with it,",
        "else `type='qemu'` (TCG): the answers are the same. Messages are libvirt's, with the",
        "guest's name as GUEST and pids as N; when QEMU itself exits, `QEMU exits:` and its",
        "own last message (libvirt words the exit two ways, depending on timing).",
        "",
        "vnuma column: the error codes `vnuma lint` reports (the case's rule in bold; a",
        "warning only when it is the case's rule); `passes` = no error.",
        "",
        "| case | rule | the guest | vnuma | libvirt at start | |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        c = row.case
        out.append(
            f"| `{c.id}` | {c.rule} | {c.breaks} | {codes(row)} | "
            f"{libvirt_answer(row).replace('|', '&#124;')} | {verdict(row)} |"
        )
    explained = [row for row in rows if row.result is not None and not row.agrees]
    out += ["", "## Disagreements", ""]
    if not explained:
        out.append("None: every case agrees.")
    for row in explained:
        note = EXPLAINED.get(row.case.id, "**not explained: fix vnuma or explain it**")
        out.append(f"- `{row.case.id}` ({row.case.rule}): {note}")
    out += [
        "",
        "## What this host cannot exercise",
        "",
        f"The host has {len(m.nodes)} NUMA node(s), so every cell is bound to node "
        f"{m.nodes[0]} and these rules are not tried at start here:",
        "",
    ]
    out += [f"- {code}: {why}." for code, why in NOT_HERE.items()]
    out.append("")
    return "\n".join(out)


def comparable(text: str) -> str:
    """The document without the versions line (a Debian point release must not fail CI)."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("Measured with"))


def cleanup_stale() -> None:
    """Destroy and undefine guests of an earlier, interrupted run (named PREFIX...)."""
    done = virsh("list", "--all", "--name")
    for name in done.stdout.split():
        if name.startswith(PREFIX):
            virsh("destroy", name)
            virsh("undefine", name)


def generate(workdir: Path | None = None) -> tuple[str, list[Row], Machine]:
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=PREFIX)))
        cleanup_stale()
        m = describe(workdir)
        rows = run_all(m)
        return render(m, rows), rows, m


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the doc is stale")
    parser.add_argument("--keep", type=Path, help="keep the guests' files in this directory")
    args = parser.parse_args(argv)
    why = problem()
    if why:
        print(f"start-conformance: {why}", file=sys.stderr)
        return 2
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    text, rows, _ = generate(args.keep)
    for row in rows:
        took = f"{row.result.seconds:.1f}s" if row.result else "-"
        print(f"{row.case.id:28} {verdict(row):12} {took:>6}  {libvirt_answer(row)}")
    print(f"start-conformance: {len(rows)} cases in {time.monotonic() - began:.0f}s")
    if args.check:
        committed = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        if comparable(committed) != comparable(text):
            print(f"{DOC} is stale: run `python docs/start-conformance.py`", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
