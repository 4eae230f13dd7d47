#!/usr/bin/env python3
"""Synthetic lint fleet: a repository of libvirt domain XMLs and vnuma intents on 20 hosts.

    python bench/fleet_gen.py OUT_DIR [--files N] [--hosts H] [--seed S]

Layout written under ``OUT_DIR``::

    vnuma.toml              one [[hosts]] table per host: snapshot + files = ["vms/hvNN/**"]
    hosts/hvNN.xml          capabilities snapshot of host NN
    vms/hvNN/*.xml          domain XMLs running on host NN
    vms/hvNN/*.yaml         vnuma intents running on host NN (no `host:` key: the mapping applies)

Host snapshots cycle through copies of ``samples/hosts/2s-xeon.xml``,
``samples/hosts/epyc-nps4.xml``, ``samples/hosts/cxl-memory-node.xml`` and the 8- and
16-node hosts of ``topology.py``. Guests have 1-2 NUMA cells of 2-8 vCPUs and 2-8 GiB
each on host nodes that have CPUs, ``<numatune>`` with one ``<memnode>`` per cell; a
quarter of them pin their vCPUs to CPUs of their node and up to a third are backed by
2 MiB huge pages (where a cell takes at most 1/8 of its node's 2 MiB pool). Files are
spread round-robin over the hosts; about one file in five is an intent. Deterministic
for a given seed.

This module is stdlib-only.
"""

from __future__ import annotations

import argparse
import random
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import topology

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SAMPLE_HOSTS = ("2s-xeon.xml", "epyc-nps4.xml", "cxl-memory-node.xml")
SYNTHETIC_NODES = (8, 16)
HOSTS = 20
INTENT_SHARE = 0.2  # fraction of files that are intents


@dataclass(frozen=True)
class HostCell:
    id: int
    cpus: tuple[int, ...]
    memory_kib: int
    pages: dict[int, int]  # page size KiB -> count


@dataclass
class Fleet:
    root: Path
    hosts: list[Path] = field(default_factory=list)
    domains: list[Path] = field(default_factory=list)
    intents: list[Path] = field(default_factory=list)

    @property
    def files(self) -> int:
        return len(self.domains) + len(self.intents)


def host_sources(count: int = HOSTS) -> list[tuple[str, str]]:
    """(origin label, capabilities XML) for ``count`` hosts, cycling through the five kinds."""
    kinds: list[tuple[str, str]] = [
        (f"samples/hosts/{name}", (REPO / "samples" / "hosts" / name).read_text(encoding="utf-8"))
        for name in SAMPLE_HOSTS
    ]
    kinds += [(f"topology.py {n} nodes", topology.capabilities_xml(n)) for n in SYNTHETIC_NODES]
    return [kinds[i % len(kinds)] for i in range(count)]


def parse_cells(xml: str) -> list[HostCell]:
    root = ET.fromstring(xml)
    cells = []
    for cell in root.iterfind("./host/topology/cells/cell"):
        memory = cell.find("memory")
        pages = {
            int(p.get("size", "0")): int((p.text or "0").strip() or 0)
            for p in cell.iterfind("pages")
        }
        cpus = tuple(int(c.get("id", "0")) for c in cell.iterfind("./cpus/cpu"))
        cells.append(
            HostCell(
                int(cell.get("id", "0")),
                cpus,
                int((memory.text or "0").strip()) if memory is not None else 0,
                pages,
            )
        )
    return cells


@dataclass(frozen=True)
class Guest:
    name: str
    cells: tuple[tuple[int, int, int], ...]  # (host node, vcpus, GiB) per guest cell
    hugepages: bool
    pins: tuple[int, ...] | None  # host CPU per vCPU


def make_guest(rng: random.Random, name: str, cells: list[HostCell], index: int) -> Guest:
    with_cpus = [c for c in cells if c.cpus]
    count = 2 if len(with_cpus) > 1 and rng.random() < 0.35 else 1
    chosen = sorted(rng.sample(with_cpus, count), key=lambda c: c.id)
    vcpus = rng.choice((2, 2, 4, 4, 8))
    gib = rng.choice((2, 4, 4, 8))
    # 2 MiB pages only where a cell takes at most an eighth of the node's pool
    hugepages = rng.random() < 1 / 3 and all(c.pages.get(2048, 0) >= gib * 512 * 8 for c in chosen)
    pins = None
    if rng.random() < 0.25:
        pins_list: list[int] = []
        for c in chosen:
            start = (index * vcpus) % max(1, len(c.cpus) - vcpus + 1)
            pins_list.extend(sorted(c.cpus)[start : start + vcpus])
        if len(pins_list) == vcpus * count:
            pins = tuple(pins_list)
    return Guest(name, tuple((c.id, vcpus, gib) for c in chosen), hugepages, pins)


def domain_xml(guest: Guest) -> str:
    vcpus = sum(v for _, v, _ in guest.cells)
    gib = sum(g for _, _, g in guest.cells)
    nodeset = ",".join(str(n) for n, _, _ in guest.cells)
    o: list[str] = []
    a = o.append
    a("<domain type='kvm'>")
    a(f"  <name>{guest.name}</name>")
    a(f"  <memory unit='GiB'>{gib}</memory>")
    if guest.hugepages:
        a("  <memoryBacking>")
        a("    <hugepages>")
        a("      <page size='2048' unit='KiB'/>")
        a("    </hugepages>")
        a("  </memoryBacking>")
    a(f"  <vcpu placement='static'>{vcpus}</vcpu>")
    if guest.pins is not None:
        a("  <cputune>")
        for vcpu, cpu in enumerate(guest.pins):
            a(f"    <vcpupin vcpu='{vcpu}' cpuset='{cpu}'/>")
        a("  </cputune>")
    a("  <numatune>")
    a(f"    <memory mode='strict' nodeset='{nodeset}'/>")
    for cell, (node, _, _) in enumerate(guest.cells):
        a(f"    <memnode cellid='{cell}' mode='strict' nodeset='{node}'/>")
    a("  </numatune>")
    a("  <os>")
    a("    <type arch='x86_64' machine='q35'>hvm</type>")
    a("  </os>")
    a("  <cpu mode='host-passthrough'>")
    per_cell = guest.cells[0][1]
    a(f"    <topology sockets='{len(guest.cells)}' dies='1' cores='{per_cell}' threads='1'/>")
    a("    <numa>")
    first = 0
    for cell, (_, v, g) in enumerate(guest.cells):
        a(f"      <cell id='{cell}' cpus='{first}-{first + v - 1}' memory='{g}' unit='GiB'/>")
        first += v
    a("    </numa>")
    a("  </cpu>")
    a("  <devices>")
    a("    <emulator>/usr/bin/qemu-system-x86_64</emulator>")
    a("  </devices>")
    a("</domain>")
    return "\n".join(o) + "\n"


def intent_yaml(guest: Guest) -> str:
    vcpus = sum(v for _, v, _ in guest.cells)
    gib = sum(g for _, _, g in guest.cells)
    lines = [
        "version: 1",
        f"name: {guest.name}",
        f"vcpus: {vcpus}",
        f"memory: {gib}GiB",
        "numatune:",
        "  mode: strict",
        f'  nodeset: "{",".join(str(n) for n, _, _ in guest.cells)}"',
        "cells:",
    ]
    first = 0
    for node, v, g in guest.cells:
        lines += [
            f'  - cpus: "{first}-{first + v - 1}"',
            f"    memory: {g}GiB",
            f'    host_nodes: "{node}"',
        ]
        first += v
    if guest.hugepages:
        lines.append("hugepages: {size: 2MiB}")
    return "\n".join(lines) + "\n"


def generate(
    root: Path,
    files: int,
    *,
    hosts: int = HOSTS,
    seed: int = 0,
    intent_share: float = INTENT_SHARE,
) -> Fleet:
    """Write a fleet of ``files`` guest files (domains + intents) on ``hosts`` hosts under ``root``."""
    rng = random.Random(seed)
    fleet = Fleet(root)
    (root / "hosts").mkdir(parents=True, exist_ok=True)
    config = [
        "# generated by bench/fleet_gen.py: which host snapshot each folder runs on",
    ]
    host_cells: list[list[HostCell]] = []
    for i, (origin, xml) in enumerate(host_sources(hosts), start=1):
        name = f"hv{i:02d}"
        path = root / "hosts" / f"{name}.xml"
        path.write_text(f"<!-- {name}: copy of {origin} -->\n{xml}", encoding="utf-8")
        (root / "vms" / name).mkdir(parents=True, exist_ok=True)
        fleet.hosts.append(path)
        host_cells.append(parse_cells(xml))
        config += ["", "[[hosts]]", f'snapshot = "hosts/{name}.xml"', f'files = ["vms/{name}/**"]']
    (root / "vnuma.toml").write_text("\n".join(config) + "\n", encoding="utf-8")
    intents = round(files * intent_share)
    every = files / intents if intents else float("inf")
    next_intent = every / 2
    for n in range(files):
        h = n % hosts
        name = f"vm{n:05d}"
        guest = make_guest(rng, name, host_cells[h], n)
        folder = root / "vms" / f"hv{h + 1:02d}"
        if n >= next_intent:
            next_intent += every
            path = folder / f"{name}.yaml"
            path.write_text(intent_yaml(guest), encoding="utf-8")
            fleet.intents.append(path)
        else:
            path = folder / f"{name}.xml"
            path.write_text(domain_xml(guest), encoding="utf-8")
            fleet.domains.append(path)
    return fleet


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--hosts", type=int, default=HOSTS)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    fleet = generate(args.out, args.files, hosts=args.hosts, seed=args.seed)
    print(
        f"{args.out}: {len(fleet.domains)} domains + {len(fleet.intents)} intents"
        f" on {len(fleet.hosts)} hosts",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
