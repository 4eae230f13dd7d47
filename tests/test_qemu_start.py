"""The guest really starts: compiled guests booted under libvirtd and QEMU, topology read back.

For each memory mode, 2 MiB huge pages, a dedicated vCPU pin with an emulator pin, guest
distances, a memory-only cell and `placement: auto`, an intent is compiled against this
machine's snapshot (`vnuma capture`), defined under a unique name, started (no disk: well
under a second with TCG), and the running guest is asked what it got:

* HMP `info numa` (nodes, CPUs and size per node) and `info memdev` (policy, host nodes);
* the QEMU process: `Mems_allowed_list`, and numa_maps of the guest RAM (`bind:`,
  `interleave:`, `prefer`, `huge ... kernelpagesize_kB=2048`), its command line for
  `-numa dist`;
* the cpuset cgroup (restrictive binds through it only), `virsh vcpupin` / `emulatorpin`.

The guest is always destroyed, then undefined. `type='kvm'` only when a probe guest really
starts with it, else `type='qemu'`. The start-time table (docs/start-conformance.md) is
measured again and must not change.

Needs a running libvirtd with the QEMU driver as root (`VNUMA_HUGEPAGES_2M=256
.ci/libvirtd-up`). Skipped without it, unless VNUMA_REQUIRE_QEMU_START=1.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import REPO, explain_process, run_process

SCRIPT = REPO / "docs" / "start-conformance.py"
REQUIRED = os.environ.get("VNUMA_REQUIRE_QEMU_START") == "1"
pytestmark = [pytest.mark.slow, pytest.mark.qemu, pytest.mark.qemu_start]


def _load_script():
    spec = importlib.util.spec_from_file_location("vnuma_docs_start_conformance", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


start = _load_script()
VNUMA_MODULE: str = start.VNUMA_MODULE  # `python -m <this>`; named once, in the script


def vnuma(*args: str | Path) -> object:
    """`python -m compiler ARGS` from this checkout, as a user would run it."""
    return run_process([sys.executable, "-m", VNUMA_MODULE, *map(str, args)], cwd=REPO)


def unavailable(what: str) -> None:
    if REQUIRED:
        pytest.fail(f"VNUMA_REQUIRE_QEMU_START=1 but {what}")
    pytest.skip(what)


@pytest.fixture(scope="module")
def machine(tmp_path_factory: pytest.TempPathFactory) -> start.Machine:
    why = start.problem()
    if why:
        unavailable(why)
    workdir = tmp_path_factory.mktemp("qemu-start")
    start.cleanup_stale()
    caps = workdir / "host.xml"
    done = vnuma("capture", "--connect", start.URI, "-o", caps)
    if done.returncode != 0:  # without libvirt-python: the same topology from sysfs
        done = vnuma("capture", "--sysfs", "-o", caps)
    assert done.returncode == 0, explain_process(done)
    return start.describe(workdir, caps)


# -- reading a running guest ----------------------------------------------------------------


def hmp(name: str, command: str) -> str:
    done = start.virsh("qemu-monitor-command", "--hmp", name, command)
    assert done.returncode == 0, start.explain(done)
    return done.stdout


@dataclass
class GuestNode:
    cpus: set[int]
    size_mib: int


def info_numa(name: str) -> list[GuestNode]:
    """HMP `info numa`: "N nodes", then "node I cpus: 0 1" and "node I size: 128 MB"."""
    text = hmp(name, "info numa")
    count = int(re.search(r"^(\d+) nodes", text, re.M).group(1))
    nodes = []
    for i in range(count):
        cpus = re.search(rf"^node {i} cpus:(.*)$", text, re.M).group(1).split()
        size = int(re.search(rf"^node {i} size: (\d+) MB", text, re.M).group(1))
        nodes.append(GuestNode({int(c) for c in cpus}, size))
    return nodes


def info_memdev(name: str) -> dict[str, dict[str, str]]:
    """HMP `info memdev`: "memory backend: ID" blocks of "  key: value" lines."""
    backends: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in hmp(name, "info memdev").splitlines():
        if line.startswith("memory backend:"):
            current = backends.setdefault(line.split(":", 1)[1].strip(), {})
        elif ":" in line and line.startswith(" "):
            key, _, value = line.strip().partition(":")
            current[key] = value.strip()
    return backends


def id_set(text: str) -> set[int]:
    """A kernel/libvirt list "0-2,5" (or "" / "0 1") as a set."""
    out: set[int] = set()
    for part in re.split(r"[,\s]+", text.strip()):
        if part:
            first, _, last = part.partition("-")
            out |= set(range(int(first), int(last or first) + 1))
    return out


def status_field(pid: int, field: str) -> str:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"/proc/{pid}/status has no {field}")


def ram_maps(pid: int, size_mib: int) -> list[str]:
    """numa_maps lines of the guest RAM blocks of SIZE_MIB (by their size in pages)."""
    lines = Path(f"/proc/{pid}/numa_maps").read_text(encoding="utf-8").splitlines()
    smaps = Path(f"/proc/{pid}/smaps").read_text(encoding="utf-8")
    sizes = {  # start address -> mapping size in KiB
        m.group(1).lstrip("0"): int(m.group(2))
        for m in re.finditer(r"^([0-9a-f]+)-[0-9a-f]+ .*\nSize:\s+(\d+) kB", smaps, re.M)
    }
    return [line for line in lines if sizes.get(line.split()[0].lstrip("0")) == size_mib * 1024]


def cgroup_mems(pid: int) -> list[tuple[str, set[int]]]:
    """cpuset.mems of the guest's cpuset cgroup and its children (emulator, vcpuN)."""
    for line in Path(f"/proc/{pid}/cgroup").read_text(encoding="utf-8").splitlines():
        _, controllers, path = line.split(":", 2)
        if "cpuset" in controllers.split(","):
            base = Path("/sys/fs/cgroup/cpuset") / path.lstrip("/")
            break
        if controllers == "" and Path("/sys/fs/cgroup/cgroup.controllers").exists():
            base = Path("/sys/fs/cgroup") / path.lstrip("/")  # cgroup v2
    else:
        pytest.fail(f"QEMU pid {pid}: no cpuset cgroup in /proc/{pid}/cgroup")
    guest_dir = base.parent if base.name == "emulator" else base
    out = []
    for mems in sorted(guest_dir.rglob("cpuset.mems")):
        out.append((str(mems.parent.relative_to(guest_dir)), id_set(mems.read_text())))
    assert out, f"no cpuset.mems under {guest_dir}"
    return out


def pins(name: str, command: str) -> dict[str, set[int]]:
    """`virsh vcpupin NAME` / `virsh emulatorpin NAME`: "  0   2-3" rows -> {"0": {2, 3}}."""
    done = start.virsh(command, name)
    assert done.returncode == 0, start.explain(done)
    rows = re.findall(r"^\s*(\d+|\*):\s*(\S+)\s*$|^\s*(\d+)\s+(\S+)\s*$", done.stdout, re.M)
    return {(a or c): id_set(b or d) for a, b, c, d in rows}


# -- compiling and starting -----------------------------------------------------------------


@dataclass
class Running:
    name: str
    pid: int
    domain: etree._Element  # what vnuma compiled


@pytest.fixture
def boot(machine: start.Machine) -> Iterator:
    """boot(case) compiles the case's intent against the snapshot and starts it."""
    guests = []

    def run(case_id: str) -> Running:
        case = next(c for c in start.PASSING if c.id == case_id)
        why = case.needs(machine)
        if why:
            if case_id == "hugepages-2m" and os.environ.get("VNUMA_REQUIRE_QEMU_HUGEPAGES") != "1":
                pytest.skip(why)
            unavailable(why)
        name = start.unique(case_id)
        src = machine.workdir / f"{name}.yaml"
        src.write_text(case.intent(machine), encoding="utf-8")
        base = machine.workdir / f"{name}-base.xml"
        base.write_text(start.base_domain(machine, name), encoding="utf-8")
        out = machine.workdir / f"{name}.xml"
        done = vnuma("compile", src, "--host", machine.caps, "--domain", base, "-o", out)
        assert done.returncode == 0, explain_process(done)
        cm = start.guest(out, name)
        result = cm.__enter__()
        guests.append(cm)
        assert result.started, f"{case_id} does not start: {result.message}\n{out.read_text()}"
        return Running(name, start.qemu_pid(name), etree.parse(str(out)).getroot())

    yield run
    for cm in reversed(guests):  # destroy, then undefine, whatever the test did
        cm.__exit__(None, None, None)


def compiled_cells(domain: etree._Element) -> list[tuple[set[int], int]]:
    return [
        (id_set(c.get("cpus", "")), int(c.get("memory")) // 1024)
        for c in domain.iterfind("cpu/numa/cell")
    ]


def compiled_memnodes(domain: etree._Element) -> dict[int, tuple[str, set[int]]]:
    return {
        int(m.get("cellid")): (m.get("mode"), id_set(m.get("nodeset")))
        for m in domain.iterfind("numatune/memnode")
    }


def assert_guest_nodes(guest: Running) -> None:
    """QEMU's `info numa` has the compiled cells: CPUs and size per node."""
    got = [(n.cpus, n.size_mib) for n in info_numa(guest.name)]
    assert got == compiled_cells(guest.domain)


POLICY = {"strict": "bind", "preferred": "preferred", "interleave": "interleave"}
NUMA_MAPS = {"strict": "bind:", "preferred": "prefer", "interleave": "interleave:"}


@pytest.mark.parametrize("mode", ["strict", "preferred", "interleave", "restrictive"])
def test_memory_mode_reaches_qemu_and_the_kernel(boot, machine: start.Machine, mode: str) -> None:
    guest = boot(f"mode-{mode}")
    assert_guest_nodes(guest)
    memnodes = compiled_memnodes(guest.domain)
    assert {m for m, _ in memnodes.values()} == {mode}
    bound = set().union(*(nodes for _, nodes in memnodes.values()))
    memdev = info_memdev(guest.name)
    assert sorted(memdev) == [f"ram-node{i}" for i in range(len(memnodes))]
    maps = ram_maps(guest.pid, 128)
    assert len(maps) == len(memnodes), maps
    allowed = id_set(status_field(guest.pid, "Mems_allowed_list"))
    for cell, (_, nodes) in memnodes.items():
        backend = memdev[f"ram-node{cell}"]
        if mode in POLICY:
            assert backend["policy"] == POLICY[mode], backend
            assert id_set(backend["host nodes"]) == nodes, backend
        else:  # restrictive: no QEMU policy, the cpuset cgroup binds
            assert backend["policy"] == "default", backend
            assert "host nodes" not in backend or backend["host nodes"] == "", backend
    if mode in NUMA_MAPS:
        for line in maps:
            policy = line.split()[1]
            assert policy.startswith(NUMA_MAPS[mode]), line
            assert id_set(policy.partition(":")[2].split()[0]) <= bound, line
    else:
        assert all(line.split()[1] == "default" for line in maps), maps
    if mode in ("strict", "restrictive"):  # libvirt also sets cpuset.mems for these
        assert allowed == bound
        for where, mems in cgroup_mems(guest.pid):
            assert mems == bound, (where, mems)
    else:
        assert bound <= allowed


def test_hugepages_2mib_back_each_cell(boot) -> None:
    guest = boot("hugepages-2m")
    assert_guest_nodes(guest)
    maps = ram_maps(guest.pid, 64)
    assert len(maps) == 2, maps
    for line in maps:
        assert " huge " in f" {line} " and "kernelpagesize_kB=2048" in line, line
        assert line.split()[1].startswith("bind:"), line
    for backend in info_memdev(guest.name).values():
        assert backend["policy"] == "bind", backend


def test_dedicated_vcpu_pin_and_emulator_pin_are_applied(boot) -> None:
    guest = boot("dedicated-emulator")
    assert_guest_nodes(guest)
    want_vcpus = {
        p.get("vcpu"): id_set(p.get("cpuset")) for p in guest.domain.iterfind("cputune/vcpupin")
    }
    emulator = guest.domain.find("cputune/emulatorpin")
    assert want_vcpus and emulator is not None, etree.tostring(guest.domain).decode()
    assert pins(guest.name, "vcpupin") == want_vcpus
    assert pins(guest.name, "emulatorpin") == {"*": id_set(emulator.get("cpuset"))}
    assert not set().union(*want_vcpus.values()) & id_set(emulator.get("cpuset"))


def test_distances_reach_qemu(boot) -> None:
    guest = boot("distances")
    assert_guest_nodes(guest)
    argv = Path(f"/proc/{guest.pid}/cmdline").read_bytes().split(b"\0")
    dist = {
        tuple(int(v) for v in re.findall(rb"=(\d+)", arg))
        for flag, arg in itertools.pairwise(argv)
        if flag == b"-numa" and arg.startswith(b"dist,")
    }
    assert dist == {(0, 0, 10), (0, 1, 21), (1, 0, 21), (1, 1, 10)}


def test_memory_only_cell_is_a_cpuless_guest_node(boot) -> None:
    guest = boot("memory-only-cell")
    nodes = info_numa(guest.name)
    assert [(n.cpus, n.size_mib) for n in nodes] == [({0, 1}, 128), (set(), 128)]


def test_placement_auto_takes_numads_nodes(boot, machine: start.Machine) -> None:
    guest = boot("placement-auto")
    assert_guest_nodes(guest)
    done = start.virsh("numatune", guest.name)
    assert done.returncode == 0, start.explain(done)
    nodeset = id_set(re.search(r"numa_nodeset\s*:\s*(\S*)", done.stdout).group(1))
    assert nodeset and nodeset <= set(machine.nodes), done.stdout
    assert id_set(status_field(guest.pid, "Mems_allowed_list")) == nodeset


# -- the start-time table ------------------------------------------------------------------


def test_start_conformance_table_is_current(machine: start.Machine) -> None:
    """Every case of docs/start-conformance.md measured again: same answers, every
    disagreement explained, every guest vnuma passes started."""
    rows = start.run_all(machine)
    for row in rows:
        if row.case.rule == "-" and row.result is not None:
            assert row.result.started, f"{row.case.id}: {row.result.message}"
    unexplained = [r.case.id for r in rows if not r.agrees and r.case.id not in start.EXPLAINED]
    assert not unexplained, f"vnuma and libvirt disagree, unexplained: {unexplained}"
    stale = sorted(set(start.EXPLAINED) - {r.case.id for r in rows if not r.agrees})
    assert not stale, f"EXPLAINED names cases that agree now: {stale}"
    committed = start.DOC.read_text(encoding="utf-8")
    assert start.comparable(start.render(machine, rows)) == start.comparable(committed), (
        "docs/start-conformance.md is stale: run `python docs/start-conformance.py` and "
        "review the diff"
    )
