"""Synthetic benchmark hosts: N NUMA nodes of 16 CPUs, as libvirt capabilities XML and as Nova objects.

Every node has 8 cores x 2 SMT threads, 64 GiB of memory of which 32 GiB are held in
16,384 x 2 MiB huge pages (no 1 GiB pool).  Nodes are grouped four per socket; the
distance matrix is 10 local, 12 within a socket, 32 across sockets.

CPU numbering follows Linux on AMD EPYC (as in ``samples/hosts/epyc-nps4.xml``): first
threads are ``0 .. 8N-1`` and the sibling of CPU ``i`` is ``i + 8N``; node ``n`` holds
first threads ``8n .. 8n+7`` and their siblings; ``core_id`` counts cores within a socket.

This module is stdlib-only: it is imported both by vnuma's benchmark (main interpreter)
and by ``nova_fit.py`` inside the Nova virtualenv, where :func:`nova_host_topology`
builds the equivalent ``nova.objects.NUMATopology``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

CORES_PER_NODE = 8
THREADS_PER_CORE = 2
CPUS_PER_NODE = CORES_PER_NODE * THREADS_PER_CORE
NODES_PER_SOCKET = 4
NODE_MEMORY_KIB = 64 * 1024 * 1024  # 64 GiB
HUGEPAGE_KIB = 2048
HUGEPAGES_PER_NODE = 16384  # 32 GiB of 2 MiB pages
SMALL_PAGES_PER_NODE = (NODE_MEMORY_KIB - HUGEPAGE_KIB * HUGEPAGES_PER_NODE) // 4
LOCAL, SAME_SOCKET, OTHER_SOCKET = 10, 12, 32


@dataclass(frozen=True)
class BenchCpu:
    id: int
    socket_id: int
    core_id: int
    siblings: tuple[int, int]


def socket_of(node: int) -> int:
    return node // NODES_PER_SOCKET


def distance_matrix(nodes: int) -> list[list[int]]:
    """SLIT-like matrix: 10 local, 12 same socket, 32 other socket."""
    return [
        [
            LOCAL if a == b else SAME_SOCKET if socket_of(a) == socket_of(b) else OTHER_SOCKET
            for b in range(nodes)
        ]
        for a in range(nodes)
    ]


def node_cpus(nodes: int, node: int) -> list[BenchCpu]:
    """The 16 CPUs of ``node`` (sorted by id): 8 first threads and their siblings."""
    offset = nodes * CORES_PER_NODE  # sibling of cpu i is i + offset
    cores_per_socket = CORES_PER_NODE * NODES_PER_SOCKET
    cpus = []
    for first in range(CORES_PER_NODE * node, CORES_PER_NODE * (node + 1)):
        pair = (first, first + offset)
        for cpu_id in pair:
            cpus.append(BenchCpu(cpu_id, socket_of(node), first % cores_per_socket, pair))
    return sorted(cpus, key=lambda c: c.id)


def summed_distance(matrix: list[list[int]], chosen: list[int] | tuple[int, ...]) -> int:
    """Sum of host distances over all unordered pairs of guest cells (i < j)."""
    return sum(
        matrix[chosen[i]][chosen[j]] for i in range(len(chosen)) for j in range(i + 1, len(chosen))
    )


# --------------------------------------------------------------------------
# libvirt capabilities XML
# --------------------------------------------------------------------------


def capabilities_xml(nodes: int) -> str:
    """A ``virsh capabilities`` document (libvirt 11.x shape) for an ``nodes``-node host."""
    if nodes % NODES_PER_SOCKET:
        raise ValueError(f"node count must be a multiple of {NODES_PER_SOCKET}, got {nodes}")
    matrix = distance_matrix(nodes)
    o: list[str] = []
    a = o.append
    a("<capabilities>")
    a("")
    a("  <host>")
    a(f"    <uuid>00000000-0000-4000-8000-{nodes:012d}</uuid>")
    a("    <cpu>")
    a("      <arch>x86_64</arch>")
    a("      <model>EPYC-Milan</model>")
    a("      <vendor>AMD</vendor>")
    # libvirt reports sockets/cores per NUMA node (nodes*1*8*2 == ncpus)
    a(
        "      <topology sockets='1' dies='1' clusters='1'"
        f" cores='{CORES_PER_NODE}' threads='{THREADS_PER_CORE}'/>"
    )
    a("      <pages unit='KiB' size='4'/>")
    a(f"      <pages unit='KiB' size='{HUGEPAGE_KIB}'/>")
    a("    </cpu>")
    a("    <power_management/>")
    a("    <topology>")
    a(f"      <cells num='{nodes}'>")
    for node in range(nodes):
        a(f"        <cell id='{node}'>")
        a(f"          <memory unit='KiB'>{NODE_MEMORY_KIB}</memory>")
        a(f"          <pages unit='KiB' size='4'>{SMALL_PAGES_PER_NODE}</pages>")
        a(f"          <pages unit='KiB' size='{HUGEPAGE_KIB}'>{HUGEPAGES_PER_NODE}</pages>")
        a("          <distances>")
        for sibling, value in enumerate(matrix[node]):
            a(f"            <sibling id='{sibling}' value='{value}'/>")
        a("          </distances>")
        a(f"          <cpus num='{CPUS_PER_NODE}'>")
        for cpu in node_cpus(nodes, node):
            a(
                f"            <cpu id='{cpu.id}' socket_id='{cpu.socket_id}' die_id='0'"
                f" cluster_id='0' core_id='{cpu.core_id}'"
                f" siblings='{cpu.siblings[0]},{cpu.siblings[1]}'/>"
            )
        a("          </cpus>")
        a("        </cell>")
    a("      </cells>")
    a("    </topology>")
    a("  </host>")
    a("")
    a("</capabilities>")
    return "\n".join(o) + "\n"


def write_capabilities(nodes: int, directory: Path) -> Path:
    path = directory / f"host-{nodes}n.xml"
    path.write_text(capabilities_xml(nodes), encoding="utf-8")
    return path


# --------------------------------------------------------------------------
# Nova (only inside the Nova virtualenv)
# --------------------------------------------------------------------------


def nova_host_topology(nodes: int) -> Any:
    """The same host as ``nova.objects.NUMATopology``: all 16 CPUs of a cell dedicated (pcpuset).

    Built like the host cells in ``nova/tests/unit/virt/test_hardware.py``; needs
    ``nova.objects.register_all()`` to have run.
    """
    from nova import objects

    cells = []
    for node in range(nodes):
        cpus = node_cpus(nodes, node)
        pairs = sorted({cpu.siblings for cpu in cpus})
        cells.append(
            objects.NUMACell(
                id=node,
                cpuset=set(),
                pcpuset={cpu.id for cpu in cpus},
                memory=NODE_MEMORY_KIB // 1024,  # MiB
                cpu_usage=0,
                memory_usage=0,
                pinned_cpus=set(),
                siblings=[set(pair) for pair in pairs],
                mempages=[
                    objects.NUMAPagesTopology(size_kb=4, total=SMALL_PAGES_PER_NODE, used=0),
                    objects.NUMAPagesTopology(
                        size_kb=HUGEPAGE_KIB, total=HUGEPAGES_PER_NODE, used=0
                    ),
                ],
                network_metadata=objects.NetworkMetadata(physnets=set(), tunneled=False),
                socket=socket_of(node),
            )
        )
    return objects.NUMATopology(cells=cells)


if __name__ == "__main__":  # write the four benchmark hosts for inspection
    import sys

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
    for n in (8, 16, 32, 64):
        print(write_capabilities(n, out))
