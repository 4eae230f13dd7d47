#!/usr/bin/env python3
"""Synthetic lint fleet: a repository of libvirt domain XMLs and vnuma intents on their hosts.

    python bench/fleet_gen.py OUT_DIR [--files N] [--hosts H] [--seed S]

Layout written under ``OUT_DIR``::

    vnuma.toml              one [[hosts]] table per host: snapshot + files = ["vms/hvNNN/**"]
    hosts/hvNNN.xml         capabilities snapshot of host NNN
    vms/hvNNN/*.xml         domain XMLs running on host NNN
    vms/hvNNN/*.yaml        vnuma intents running on host NNN (no `host:` key: the mapping applies)

Host snapshots cycle through copies of ``samples/hosts/2s-xeon.xml``,
``samples/hosts/epyc-nps4.xml``, ``samples/hosts/cxl-memory-node.xml`` and the 8- and
16-node hosts of ``topology.py``. Guests have 1-2 NUMA cells of 2-8 vCPUs and 2-8 GiB
each on host nodes that have CPUs, ``<numatune>`` with one ``<memnode>`` per cell; a
quarter of them pin their vCPUs to CPUs of their node (CPUs no other guest pinned) and
up to a third are backed by 2 MiB huge pages (where a cell takes at most 1/8 of its
node's 2 MiB pool). Guests fit their hosts (see :func:`generate`): at least 20 hosts,
more as the fleet grows, and one guest in 250 deliberately does not fit beside the
others, so the fleet is mostly clean like a real one. Half the files are intents
(``INTENT_SHARE``). Deterministic for a given seed.

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
HOSTS = 20  # host snapshots at least; more when the guests need them
INTENT_SHARE = 0.5  # fraction of files that are intents (the issue: 5,000 + 5,000)
FILL = 0.85  # guests take at most this share of a node's memory and 2 MiB pool
PROBLEM_EVERY = 250  # one guest in this many does not fit beside the others
GIB = 1024 * 1024


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


@dataclass
class HostState:
    """What is left of one host while guests are placed on it."""

    name: str
    cells: list[HostCell]
    capacity_kib: dict[int, int]  # node -> small-page memory (memory minus huge page pools)
    small_kib: dict[int, int]  # node -> small-page memory guests may still bind (FILL)
    pages_2m: dict[int, int]  # node -> 2 MiB pages still free in the pool (FILL)
    free_cpus: dict[int, list[int]]  # node -> host CPUs no guest has pinned yet
    pinned: dict[int, list[int]] = field(default_factory=dict)  # node -> pinned CPUs
    guests: int = 0

    @classmethod
    def fresh(cls, name: str, cells: list[HostCell]) -> HostState:
        capacity = {
            c.id: c.memory_kib - sum(size * count for size, count in c.pages.items() if size > 4)
            for c in cells
        }
        small = {node: int(kib * FILL) for node, kib in capacity.items()}
        pages = {c.id: int(c.pages.get(2048, 0) * FILL) for c in cells}
        return cls(name, cells, capacity, small, pages, {c.id: sorted(c.cpus) for c in cells})

    def left_kib(self, node: int) -> int:
        """Small-page memory really left on ``node`` (beyond the FILL headroom too)."""
        return self.small_kib[node] + self.capacity_kib[node] - int(self.capacity_kib[node] * FILL)


def make_guest(rng: random.Random, name: str, host: HostState, problem: str = "") -> Guest | None:
    """A guest that fits what is left of ``host`` (None when it does not), or with
    ``problem`` ("pins" / "memory") one that deliberately does not fit beside the others."""
    with_cpus = [c for c in host.cells if c.cpus]
    count = 2 if len(with_cpus) > 1 and rng.random() < 0.35 else 1
    vcpus = rng.choice((2, 2, 4, 4, 8))
    gib = rng.choice((2, 4, 4, 8))
    # 2 MiB pages only where a cell takes at most an eighth of the node's pool
    hugepages = rng.random() < 1 / 3 and all(
        c.pages.get(2048, 0) >= gib * 512 * 8 for c in with_cpus
    )
    pinned = rng.random() < 0.25
    if problem == "memory":
        hugepages, pinned = False, False
        # more than the fullest node really has left: fits alone, not beside the others
        gib = max(2, min(host.left_kib(c.id) for c in with_cpus) // GIB + 1)
    pages = gib * 512

    def room(c: HostCell) -> int:
        return host.pages_2m[c.id] // 512 if hugepages else host.small_kib[c.id] // GIB

    if problem == "memory":
        count = 1
        fullest = min(with_cpus, key=lambda c: (host.left_kib(c.id), c.id))
        chosen = [fullest]
    else:
        fitting = [c for c in with_cpus if room(c) >= gib]
        if len(fitting) < count:
            return None
        # the nodes with the most room left (ties: lowest id), so hosts fill evenly
        # ("pins": nodes where another guest pinned CPUs first)
        by_room = sorted(
            fitting, key=lambda c: (problem == "pins" and not host.pinned.get(c.id), -room(c), c.id)
        )
        chosen = sorted(by_room[:count], key=lambda c: c.id)
    pins: list[int] | None = None
    if pinned or problem == "pins":
        pins = []
        for c in chosen:
            if problem == "pins" and host.pinned.get(c.id):
                taken = host.pinned[c.id]  # CPUs another guest already owns
                pins.extend(taken[i % len(taken)] for i in range(vcpus))
            elif len(host.free_cpus[c.id]) >= vcpus:
                pins.extend(host.free_cpus[c.id][:vcpus])
        if len(pins) != vcpus * count:
            pins = None
    for c in chosen:
        if hugepages:
            host.pages_2m[c.id] -= pages
        else:
            host.small_kib[c.id] -= gib * GIB
    if pins is not None and problem != "pins":
        for c in chosen:
            mine = [cpu for cpu in pins if cpu in c.cpus]
            host.free_cpus[c.id] = [cpu for cpu in host.free_cpus[c.id] if cpu not in mine]
            host.pinned.setdefault(c.id, []).extend(mine)
    host.guests += 1
    return Guest(
        name, tuple((c.id, vcpus, gib) for c in chosen), hugepages, tuple(pins) if pins else None
    )


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
    problem_every: int = PROBLEM_EVERY,
) -> Fleet:
    """Write a fleet of ``files`` guest files (domains + intents) under ``root``.

    Guests go round-robin over the hosts that still have room, each host up to FILL of
    its nodes' memory and 2 MiB pools, pinned guests on CPUs of their own; a host that
    cannot take a guest is full, and when every host is full a new one is added:
    ``hosts`` snapshots at least, more when the guests need them. Every ``problem_every``-th guest is deliberately placed
    where it does not fit beside the others (alternately pinned to CPUs another guest
    owns and bound to more memory than its node has left): a real fleet is mostly clean.
    """
    rng = random.Random(seed)
    fleet = Fleet(root)
    (root / "hosts").mkdir(parents=True, exist_ok=True)
    config = [
        "# generated by bench/fleet_gen.py: which host snapshot each folder runs on",
    ]
    sources = host_sources(len(host_sources()))
    states: list[HostState] = []

    def add_host() -> HostState:
        i = len(states) + 1
        origin, xml = sources[(i - 1) % len(sources)]
        name = f"hv{i:03d}"
        path = root / "hosts" / f"{name}.xml"
        path.write_text(f"<!-- {name}: copy of {origin} -->\n{xml}", encoding="utf-8")
        (root / "vms" / name).mkdir(parents=True, exist_ok=True)
        fleet.hosts.append(path)
        config.extend(
            ["", "[[hosts]]", f'snapshot = "hosts/{name}.xml"', f'files = ["vms/{name}/**"]']
        )
        states.append(HostState.fresh(name, parse_cells(xml)))
        return states[-1]

    for _ in range(hosts):
        add_host()
    intents = round(files * intent_share)
    every = files / intents if intents else float("inf")
    next_intent = every / 2
    open_hosts = list(states)  # round-robin over the hosts that still have room
    turn = 0
    for n in range(files):
        name = f"vm{n:05d}"
        problem = ""
        if problem_every and n % problem_every == problem_every - 1:
            problem = "pins" if (n // problem_every) % 2 == 0 else "memory"
        draws = rng.random()  # the same guest shape whichever host takes it
        while True:
            if not open_hosts:
                open_hosts.append(add_host())
                turn = 0
            turn %= len(open_hosts)
            host = open_hosts[turn]
            guest = make_guest(random.Random(draws), name, host, problem)
            if guest is not None:
                turn += 1
                break
            open_hosts.pop(turn)  # full
        folder = root / "vms" / host.name
        if n >= next_intent:
            next_intent += every
            path = folder / f"{name}.yaml"
            path.write_text(intent_yaml(guest), encoding="utf-8")
            fleet.intents.append(path)
        else:
            path = folder / f"{name}.xml"
            path.write_text(domain_xml(guest), encoding="utf-8")
            fleet.domains.append(path)
    (root / "vnuma.toml").write_text("\n".join(config) + "\n", encoding="utf-8")
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
