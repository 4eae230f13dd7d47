#!/usr/bin/env python3
"""Generate synthetic-but-realistic libvirt host capabilities snapshots.

Each output file mimics ``virsh capabilities`` from libvirt 11.x (QEMU 9.2,
KVM) on a Linux x86_64 host: same element order, single-quoted attributes,
2-space indentation, libvirt's cpuset formatting (``0,40``; runs of two or
more consecutive ids collapse to ``a-b``).  No real machine was sampled; the
values are modelled on what Linux sysfs and libvirt report for such hardware.

Hosts
-----
laptop-1n.xml
    Laptop, Intel Core i7-8650U-like (Kaby Lake-R), 1 socket, 4 cores x 2
    threads = 8 CPUs, one NUMA node.  cpu i and i+4 are SMT siblings.
    16303028 KiB RAM, no hugepages reserved.
2s-xeon.xml
    2-socket Intel Xeon Gold 6248-like (Cascade Lake, 20 cores, SMT2), one
    NUMA node per socket, 80 CPUs.  node0 = cpus 0-19,40-59, node1 = 20-39,60-79;
    cpu i and i+40 are siblings.  core_id uses the gapped values Linux reports
    on these parts (0-4, 8-12, 16-20, 24-28).  ~192 GiB per node (node 0 a little
    less); 1024 x 2 MiB and 64 x 1 GiB hugepages per node.  Distances 10/21.
epyc-nps4.xml
    2-socket AMD EPYC 7543-like (Milan, 32 cores, SMT2) in NPS4: 8 NUMA nodes
    of 8 cores x 2 threads, 128 CPUs.  cpus 0-63 are first threads (socket 0:
    0-31, socket 1: 32-63), cpu i and i+64 are siblings, node n = first threads
    8n..8n+7 plus siblings.  64 GiB per node (node 0 a little less); 2048 x 2 MiB
    pages per node, 16 x 1 GiB pages on nodes 0-3 and none on nodes 4-7.
    Distances 10 local / 12 same socket / 32 other socket.
2s-xeon-live.xml
    The same machine as `vnuma capture` records it with guests running: free memory
    and free pages per node in ``<?vnuma-free-memory?>``/``<?vnuma-free-pages?>``
    processing instructions (node 0: 40 GiB and 16 x 1 GiB free; node 1: 150 GiB).
cxl-memory-node.xml
    1-socket Intel Xeon Gold 6430-like (Sapphire Rapids, 32 cores, SMT2) in
    SNC2: node 0 = cpus 0-15,32-47, node 1 = 16-31,48-63 (cpu i and i+32 are
    siblings), ~96 GiB each, plus CPU-less node 2 (128 GiB CXL memory expander,
    ``<cpus num='0'/>``).  Distances 10 / 11 between CPU nodes / 20 to node 2.
    2 MiB pool 512 and 1 GiB pool 8 on nodes 0 and 1, nothing on node 2.

Conventions worth knowing when parsing these files
--------------------------------------------------
* The ``4`` KiB page count of a cell is (cell memory - memory held by the
  hugepage pools) / 4, which is how libvirt's virNumaGetPages() reports it.
* ``<host><cpu><topology>`` is computed the way libvirt does it
  (virHostCPUGetInfoPopulateLinux + virCPUGetHost): ``sockets`` and ``cores``
  are the maximum *per NUMA node*, not host totals (libvirt's
  formatcaps documentation says so explicitly).  libvirt sanity-checks
  nodes*sockets*cores*threads against the CPU count, where nodes includes
  CPU-less nodes; when the product does not match (the CXL host: 3*1*16*2 != 64)
  it falls back to sockets=1 cores=<ncpus> threads=1.  Use
  ``--physical-topology`` to instead write whole-host socket/core counts (not
  what libvirt would print).
* ``cluster_id`` is always 0 and ``clusters='1'``.  Real x86 kernels may expose
  per-L2 cluster ids in sysfs; these samples keep them at 0.
* Guest features include ``<externalSnapshot/>`` (libvirt >= 9.9).  libvirt
  9.0's capability.rng does not know it, nor ``cluster_id``/``clusters``.

Regenerate (deterministic; stdlib only) from the repository root::

    python samples/hosts/generate.py

The XML files are written next to this script.
"""

from __future__ import annotations

import argparse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent
PAGE_SIZES_KIB = (4, 2048, 1048576)


# --------------------------------------------------------------------------
# data model
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Cpu:
    id: int
    socket_id: int
    core_id: int
    siblings: tuple[int, ...]
    die_id: int = 0
    cluster_id: int = 0


@dataclass
class Cell:
    id: int
    memory_kib: int
    hugepages: dict[int, int]  # page size KiB -> count (2048, 1048576)
    distances: list[int]  # indexed by sibling node id
    cpus: list[Cpu] = field(default_factory=list)
    free_kib: int | None = None  # what `vnuma capture` records (None: not captured)
    free_pages: dict[int, int] = field(default_factory=dict)  # page size KiB -> free count

    @property
    def small_pages(self) -> int:
        reserved = sum(size * count for size, count in self.hugepages.items())
        return (self.memory_kib - reserved) // 4


@dataclass
class Host:
    filename: str
    model: str
    vendor: str
    microcode: int
    signature: tuple[int, int, int]  # family, model, stepping
    tsc_hz: int
    phys_bits: int
    features: list[str]
    cells: list[Cell]
    l3_banks: list[tuple[int, int, str, list[int]]]  # id, size, unit, cpus
    secmodels: list[tuple[str, dict[str, str]]]
    power: list[str]
    physical_topology: tuple[int, int, int]  # sockets, cores/socket, threads
    captured: str | None = None  # a `vnuma capture` snapshot: its vnuma-host-state stamp


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def fmt_cpuset(ids: list[int] | tuple[int, ...]) -> str:
    """Format like libvirt's virBitmapFormat: '0,40', '0-19,40-59', '0-1'."""
    vals = sorted(set(ids))
    parts: list[str] = []
    i = 0
    while i < len(vals):
        j = i
        while j + 1 < len(vals) and vals[j + 1] == vals[j] + 1:
            j += 1
        parts.append(str(vals[i]) if i == j else f"{vals[i]}-{vals[j]}")
        i = j + 1
    return ",".join(parts)


def host_uuid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://vnuma.invalid/samples/hosts/{name}"))


def libvirt_topology(host: Host) -> tuple[int, int, int]:
    """sockets, cores, threads as libvirt computes them from sysfs."""
    nodes = len(host.cells)
    ncpus = sum(len(c.cpus) for c in host.cells)
    sockets = cores = threads = 0
    for cell in host.cells:
        per_socket: dict[int, set[int]] = {}
        for cpu in cell.cpus:
            per_socket.setdefault(cpu.socket_id, set()).add(cpu.core_id)
            threads = max(threads, len(cpu.siblings))
        sockets = max(sockets, len(per_socket))
        cores = max(cores, *(len(v) for v in per_socket.values()), 0)
    if nodes * sockets * cores * threads != ncpus:
        return 1, ncpus, 1
    return sockets, cores, threads


# --------------------------------------------------------------------------
# XML rendering
# --------------------------------------------------------------------------

SELINUX = (
    "selinux",
    {
        "kvm": "system_u:system_r:svirt_t:s0",
        "qemu": "system_u:system_r:svirt_tcg_t:s0",
    },
)
APPARMOR = ("apparmor", {})
DAC_RHEL = ("dac", {"kvm": "+107:+107", "qemu": "+107:+107"})
DAC_DEBIAN = ("dac", {"kvm": "+64055:+108", "qemu": "+64055:+108"})

# (name, maxCpus, canonical) as QEMU 9.2 reports them (trimmed list)
MACHINES = [
    ("pc-i440fx-9.2", 255, None),
    ("pc", 255, "pc-i440fx-9.2"),
    ("pc-q35-9.2", 4096, None),
    ("q35", 4096, "pc-q35-9.2"),
    ("pc-q35-9.1", 4096, None),
    ("pc-i440fx-9.1", 255, None),
    ("pc-q35-9.0", 4096, None),
    ("pc-i440fx-9.0", 255, None),
    ("pc-q35-8.2", 1024, None),
    ("pc-i440fx-8.2", 255, None),
    ("pc-q35-8.1", 1024, None),
    ("pc-i440fx-8.1", 255, None),
    ("pc-q35-7.2", 288, None),
    ("pc-i440fx-7.2", 255, None),
    ("isapc", 1, None),
    ("microvm", 288, None),
    ("x-remote", 1, None),
]


def render(host: Host, physical: bool = False) -> str:
    sockets, cores, threads = host.physical_topology if physical else libvirt_topology(host)
    fam, mod, step = host.signature
    o: list[str] = []
    a = o.append
    a("<capabilities>")
    if host.captured:
        a(f'  <?vnuma-host-state version="1" captured="{host.captured}" source="qemu:///system"?>')
    a("")
    a("  <host>")
    a(f"    <uuid>{host_uuid(host.filename)}</uuid>")
    a("    <cpu>")
    a("      <arch>x86_64</arch>")
    a(f"      <model>{host.model}</model>")
    a(f"      <vendor>{host.vendor}</vendor>")
    a(f"      <microcode version='{host.microcode}'/>")
    a(f"      <signature family='{fam}' model='{mod}' stepping='{step}'/>")
    a(f"      <counter name='tsc' frequency='{host.tsc_hz}' scaling='no'/>")
    a(
        f"      <topology sockets='{sockets}' dies='1' clusters='1'"
        f" cores='{cores}' threads='{threads}'/>"
    )
    a(f"      <maxphysaddr mode='emulate' bits='{host.phys_bits}'/>")
    for feat in host.features:
        a(f"      <feature name='{feat}'/>")
    for size in PAGE_SIZES_KIB:
        a(f"      <pages unit='KiB' size='{size}'/>")
    a("    </cpu>")
    if host.power:
        a("    <power_management>")
        for p in host.power:
            a(f"      <{p}/>")
        a("    </power_management>")
    else:
        a("    <power_management/>")
    a("    <iommu support='yes'/>")
    a("    <migration_features>")
    a("      <live/>")
    a("      <uri_transports>")
    a("        <uri_transport>tcp</uri_transport>")
    a("        <uri_transport>rdma</uri_transport>")
    a("      </uri_transports>")
    a("    </migration_features>")
    a("    <topology>")
    a(f"      <cells num='{len(host.cells)}'>")
    for cell in host.cells:
        a(f"        <cell id='{cell.id}'>")
        a(f"          <memory unit='KiB'>{cell.memory_kib}</memory>")
        a(f"          <pages unit='KiB' size='4'>{cell.small_pages}</pages>")
        for size in PAGE_SIZES_KIB[1:]:
            a(f"          <pages unit='KiB' size='{size}'>{cell.hugepages.get(size, 0)}</pages>")
        if cell.free_kib is not None:
            a(f'          <?vnuma-free-memory unit="KiB" value="{cell.free_kib}"?>')
        for size, count in sorted(cell.free_pages.items()):
            a(f'          <?vnuma-free-pages size="{size}" unit="KiB" count="{count}"?>')
        a("          <distances>")
        for sib, value in enumerate(cell.distances):
            a(f"            <sibling id='{sib}' value='{value}'/>")
        a("          </distances>")
        if cell.cpus:
            a(f"          <cpus num='{len(cell.cpus)}'>")
            for cpu in sorted(cell.cpus, key=lambda c: c.id):
                a(
                    f"            <cpu id='{cpu.id}' socket_id='{cpu.socket_id}'"
                    f" die_id='{cpu.die_id}' cluster_id='{cpu.cluster_id}'"
                    f" core_id='{cpu.core_id}' siblings='{fmt_cpuset(cpu.siblings)}'/>"
                )
            a("          </cpus>")
        else:
            a("          <cpus num='0'/>")
        a("        </cell>")
    a("      </cells>")
    a("    </topology>")
    a("    <cache>")
    for bank_id, size, unit, cpus in host.l3_banks:
        a(
            f"      <bank id='{bank_id}' level='3' type='both' size='{size}'"
            f" unit='{unit}' cpus='{fmt_cpuset(cpus)}'/>"
        )
    a("    </cache>")
    for model, labels in host.secmodels:
        a("    <secmodel>")
        a(f"      <model>{model}</model>")
        a("      <doi>0</doi>")
        for typ, label in labels.items():
            a(f"      <baselabel type='{typ}'>{label}</baselabel>")
        a("    </secmodel>")
    a("  </host>")
    a("")
    a("  <guest>")
    a("    <os_type>hvm</os_type>")
    a("    <arch name='x86_64'>")
    a("      <wordsize>64</wordsize>")
    a("      <emulator>/usr/bin/qemu-system-x86_64</emulator>")
    for name, max_cpus, canonical in MACHINES:
        canon = f" canonical='{canonical}'" if canonical else ""
        a(f"      <machine{canon} maxCpus='{max_cpus}'>{name}</machine>")
    a("      <domain type='qemu'/>")
    a("      <domain type='kvm'/>")
    a("    </arch>")
    a("    <features>")
    a("      <acpi default='on' toggle='yes'/>")
    a("      <apic default='on' toggle='no'/>")
    a("      <cpuselection/>")
    a("      <deviceboot/>")
    a("      <disksnapshot default='on' toggle='no'/>")
    a("      <externalSnapshot/>")
    a("    </features>")
    a("  </guest>")
    a("")
    a("</capabilities>")
    return "\n".join(o) + "\n"


# --------------------------------------------------------------------------
# host definitions
# --------------------------------------------------------------------------

INTEL_CLIENT_FEATURES = [
    "ds", "acpi", "ss", "ht", "tm", "pbe", "dtes64", "monitor", "ds_cpl", "vmx",
    "est", "tm2", "xtpr", "pdcm", "osxsave", "tsc_adjust", "clflushopt",
    "intel-pt", "md-clear", "stibp", "arch-capabilities", "ssbd", "xsaves",
    "pdpe1gb", "invtsc",
]  # fmt: skip
INTEL_SERVER_FEATURES = [
    "ds", "acpi", "ss", "ht", "tm", "pbe", "dtes64", "monitor", "ds_cpl", "vmx",
    "smx", "est", "tm2", "xtpr", "pdcm", "dca", "osxsave", "tsc_adjust", "cmt",
    "mbm_total", "mbm_local", "pdpe1gb", "invtsc",
]  # fmt: skip
AMD_MILAN_FEATURES = [
    "ht", "cmp_legacy", "extapic", "ibs", "skinit", "wdt", "tce", "topoext",
    "perfctr_core", "perfctr_nb", "invtsc", "ibrs", "amd-ssbd", "lbrv",
    "tsc-scale", "vmcb-clean", "flushbyasid", "pause-filter", "pfthreshold",
    "v-vmsave-vmload", "vgif",
]  # fmt: skip

HP2M, HP1G = 2048, 1048576


def smt_cpus(first_ids: list[int], sibling_offset: int, socket_of, core_of) -> list[Cpu]:
    """Both SMT threads for each first-thread id (thread 1 = id + offset)."""
    cpus = []
    for i in first_ids:
        sib = (i, i + sibling_offset)
        for cid in sib:
            cpus.append(Cpu(id=cid, socket_id=socket_of(i), core_id=core_of(i), siblings=sib))
    return cpus


def laptop() -> Host:
    cpus = smt_cpus(list(range(4)), 4, lambda i: 0, lambda i: i)
    cell = Cell(0, 16303028, {HP2M: 0, HP1G: 0}, [10], cpus)
    return Host(
        filename="laptop-1n.xml",
        model="Skylake-Client-noTSX-IBRS",
        vendor="Intel",
        microcode=0xF4,
        signature=(6, 142, 10),
        tsc_hz=2111998000,
        phys_bits=39,
        features=INTEL_CLIENT_FEATURES,
        cells=[cell],
        l3_banks=[(0, 8, "MiB", list(range(8)))],
        secmodels=[APPARMOR, DAC_DEBIAN],
        power=["suspend_mem", "suspend_disk", "suspend_hybrid"],
        physical_topology=(1, 4, 2),
    )


# Core ids Linux shows on a 20-core Skylake/Cascade Lake-SP die (mesh slots).
XEON_CORE_IDS = [0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 16, 17, 18, 19, 20, 24, 25, 26, 27, 28]


def xeon_2s() -> Host:
    mems = [200734516, 201250624]  # 192 GiB per node minus firmware/kernel
    dist = [[10, 21], [21, 10]]
    cells = []
    for n in range(2):
        firsts = list(range(20 * n, 20 * n + 20))
        cpus = smt_cpus(firsts, 40, lambda i: i // 20, lambda i: XEON_CORE_IDS[i % 20])
        cells.append(Cell(n, mems[n], {HP2M: 1024, HP1G: 64}, dist[n], cpus))
    banks = [
        (s, 28160, "KiB", list(range(20 * s, 20 * s + 20)) + list(range(40 + 20 * s, 60 + 20 * s)))
        for s in range(2)
    ]  # 27.5 MiB L3 per socket; libvirt prints the largest exact unit
    return Host(
        filename="2s-xeon.xml",
        model="Cascadelake-Server",
        vendor="Intel",
        microcode=0x5003901,
        signature=(6, 85, 7),
        tsc_hz=2499996000,
        phys_bits=46,
        features=INTEL_SERVER_FEATURES,
        cells=cells,
        l3_banks=banks,
        secmodels=[SELINUX, DAC_RHEL],
        power=["suspend_mem", "suspend_disk"],
        physical_topology=(2, 20, 2),
    )


def xeon_2s_live() -> Host:
    """The 2-socket Xeon as `vnuma capture` saw it with guests running: node 0 is busy
    (40 GiB and 16 of its 64 x 1 GiB pages free), node 1 mostly idle."""
    host = xeon_2s()
    host.filename = "2s-xeon-live.xml"
    host.captured = "2026-11-26T08:00:00Z"
    busy, idle = host.cells
    busy.free_kib, busy.free_pages = 40 * 1024 * 1024, {4: 10485760, HP2M: 512, HP1G: 16}
    idle.free_kib, idle.free_pages = 150 * 1024 * 1024, {4: 39321600, HP2M: 1024, HP1G: 64}
    return host


def epyc_nps4() -> Host:
    cells = []
    for n in range(8):
        firsts = list(range(8 * n, 8 * n + 8))
        cpus = smt_cpus(firsts, 64, lambda i: i // 32, lambda i: i % 32)
        dist = [10 if m == n else (12 if m // 4 == n // 4 else 32) for m in range(8)]
        mem = 66541432 if n == 0 else 67108864
        pools = {HP2M: 2048, HP1G: 16 if n < 4 else 0}
        cells.append(Cell(n, mem, pools, dist, cpus))
    # 7543: 8 CCDs x 4 cores, 32 MiB L3 per CCD
    banks = [
        (k, 32, "MiB", [*range(4 * k, 4 * k + 4), *range(64 + 4 * k, 68 + 4 * k)])
        for k in range(16)
    ]
    return Host(
        filename="epyc-nps4.xml",
        model="EPYC-Milan",
        vendor="AMD",
        microcode=0xA0011D5,
        signature=(25, 1, 1),
        tsc_hz=2794750000,
        phys_bits=48,
        features=AMD_MILAN_FEATURES,
        cells=cells,
        l3_banks=banks,
        secmodels=[SELINUX, DAC_RHEL],
        power=["suspend_mem", "suspend_disk"],
        physical_topology=(2, 32, 2),
    )


def cxl_host() -> Host:
    dist = [[10, 11, 20], [11, 10, 20], [20, 20, 10]]
    mems = [99964776, 100640812]
    cells = []
    for n in range(2):
        firsts = list(range(16 * n, 16 * n + 16))
        cpus = smt_cpus(firsts, 32, lambda i: 0, lambda i: i)
        cells.append(Cell(n, mems[n], {HP2M: 512, HP1G: 8}, dist[n], cpus))
    cells.append(Cell(2, 134217728, {HP2M: 0, HP1G: 0}, dist[2], []))
    return Host(
        filename="cxl-memory-node.xml",
        model="SapphireRapids",
        vendor="Intel",
        microcode=0x2B000603,
        signature=(6, 143, 8),
        tsc_hz=2100000000,
        phys_bits=46,
        features=INTEL_SERVER_FEATURES,
        cells=cells,
        l3_banks=[(0, 60, "MiB", list(range(64)))],
        secmodels=[SELINUX, DAC_RHEL],
        power=["suspend_mem", "suspend_disk"],
        physical_topology=(1, 32, 2),
    )


HOSTS = (laptop, xeon_2s, xeon_2s_live, epyc_nps4, cxl_host)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument(
        "--physical-topology",
        action="store_true",
        help="write whole-host sockets/cores in <host><cpu><topology> "
        "(libvirt itself reports per-NUMA-node values)",
    )
    ap.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = ap.parse_args(argv)
    for make in HOSTS:
        host = make()
        path = args.out_dir / host.filename
        path.write_text(render(host, physical=args.physical_topology), encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
