"""Read the host's NUMA topology from Linux sysfs (``/sys/devices/system``) into the host model.

The result mirrors what libvirt's ``virsh capabilities`` prints for the same machine
(virCapabilitiesHostNUMAInitReal / virNumaGetPages / virHostCPUGet* in libvirt), so
``load_sysfs()`` and ``load_host()`` of that machine's capabilities compare equal:

* nodes come from ``node/online`` (else the ``nodeN`` directories); a node's CPUs from
  ``nodeN/cpulist``; its distances from ``nodeN/distance``, whose values follow the order
  of the online nodes (zero values are dropped, as libvirt does);
* memory is ``MemTotal`` of ``nodeN/meminfo``; the huge page pools are
  ``nodeN/hugepages/hugepages-<size>kB/{nr,free}_hugepages``, and the base (system) page
  pool is ``(MemTotal - memory in huge page pools) / page size``, added only when
  ``meminfo`` exists;
* a CPU's ids come from ``cpu/cpuN/topology``; like libvirt, a missing or negative
  ``physical_package_id``/``die_id``/``cluster_id``/``core_id`` is 0 and a missing
  ``thread_siblings_list`` means the CPU is its own only sibling. A CPU that ``cpu/online``
  (or ``cpu/cpuN/online``) marks offline has no topology, as older libvirt prints it
  (``<cpu id='N'/>``);
* without a ``node/`` directory (a kernel without NUMA) there is one node 0 holding the
  online CPUs and no distances or page pools (libvirt's virCapabilitiesHostNUMAInitFake);
  its memory is read from ``/proc/meminfo`` only for the real ``/sys/devices/system``.

Garbled files never raise: they give ``(None, [VN008])`` naming the file.
"""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path
from typing import NamedTuple

from vnuma.codes import make_diagnostic
from vnuma.cpusets import CpusetError, parse_cpuset
from vnuma.diagnostics import Diagnostic
from vnuma.load.text import UnreadableInput
from vnuma.model.host import (
    HostCell,
    HostCPU,
    HostTopology,
    PagePool,
    distance_twins,
    group_cores,
)

SYSFS_ROOT = Path("/sys/devices/system")
PROC_MEMINFO = Path("/proc/meminfo")

# sysfs attribute files are at most a page; meminfo is ~1.5 KiB. Anything larger is not sysfs.
MAX_FILE_BYTES = 64 * 1024
# The page size assumed for a tree that is not this machine's own sysfs (x86's 4 KiB).
DEFAULT_PAGE_KIB = 4

_HINT = (
    "point --sysfs-root at a copy of /sys/devices/system "
    "(node/nodeN/{cpulist,distance,meminfo}, cpu/cpuN/topology/*)"
)
_UINT = re.compile(r"[0-9]+")
_INT = re.compile(r"-?[0-9]+")
_NODE_DIR = re.compile(r"node([0-9]+)")
_CPU_DIR = re.compile(r"cpu([0-9]+)")
_HUGEPAGES_DIR = re.compile(r"hugepages-([0-9]+)kB", re.IGNORECASE)
_MEMINFO_VALUE = re.compile(r"([0-9]+)\s*kB")


def _has_tree(path: Path) -> bool:
    return (path / "node").is_dir() or (path / "cpu").is_dir()


def resolve_sysfs_root(root: Path) -> Path:
    """The ``/sys/devices/system`` equivalent for ``root``.

    Accepts that directory itself (it has ``node/`` or ``cpu/``), ``/sys`` (it has
    ``devices/system``) or one of libvirt's test trees (it has ``system/``).
    Raises UnreadableInput when ``root`` is none of these.
    """
    root = Path(root)
    if not root.exists():
        raise UnreadableInput(f"{root}: no such directory")
    if not root.is_dir():
        raise UnreadableInput(f"{root}: not a directory (expected a sysfs tree)")
    for candidate in (root, root / "devices" / "system", root / "system"):
        if _has_tree(candidate):
            return candidate
    raise UnreadableInput(
        f"{root}: not a sysfs tree: expected node/ or cpu/ in it, in devices/system/ "
        "(a /sys copy) or in system/ (a libvirt test tree)"
    )


def load_sysfs(
    root: Path = SYSFS_ROOT, display: str | None = None
) -> tuple[HostTopology | None, list[Diagnostic]]:
    """Raises UnreadableInput when ``root`` is not a sysfs tree (see resolve_sysfs_root)."""
    root = Path(root)
    system = resolve_sysfs_root(root)
    shown = display or str(root)
    try:
        host = _Loader(system, shown).host()
    except _BadTree as exc:
        return None, [
            make_diagnostic(
                "VN008",
                f"host sysfs: {exc.file}: {exc.message}",
                shown,
                hint=_HINT,
            )
        ]
    return host, []


class _BadTree(Exception):
    def __init__(self, file: str, message: str) -> None:
        super().__init__(f"{file}: {message}")
        self.file = file
        self.message = message


def _is_real(system: Path) -> bool:
    try:
        return system.resolve() == SYSFS_ROOT.resolve()
    except OSError:
        return False


def _system_page_kib() -> int:
    try:
        size = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return DEFAULT_PAGE_KIB
    return size // 1024 if size >= 1024 else DEFAULT_PAGE_KIB


class _Meminfo(NamedTuple):
    total_kib: int
    free_kib: int | None


class _Loader:
    def __init__(self, system: Path, shown: str) -> None:
        self.system = system
        self.shown = shown
        self.real = _is_real(system)
        self.page_kib = _system_page_kib() if self.real else DEFAULT_PAGE_KIB
        self._online_cpus: frozenset[int] | None = None
        self._online_read = False

    # ---------------------------------------------------------------- reading files

    def _text(self, rel: str) -> str | None:
        """A file's text, or None when it does not exist; _BadTree when it cannot be read."""
        path = self.system / rel
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except IsADirectoryError as exc:
            raise _BadTree(rel, "is a directory, expected a file") from exc
        except OSError as exc:
            raise _BadTree(rel, f"cannot read: {exc.strerror or exc}") from exc
        if len(data) > MAX_FILE_BYTES:
            raise _BadTree(rel, f"larger than {MAX_FILE_BYTES} bytes; not a sysfs attribute")
        try:
            return data.decode("ascii")
        except UnicodeDecodeError as exc:
            raise _BadTree(rel, f"not ASCII text (byte 0x{data[exc.start]:02x})") from exc

    def _int(self, rel: str, *, signed: bool = False) -> int | None:
        text = self._text(rel)
        if text is None:
            return None
        value = text.strip()
        if not (_INT if signed else _UINT).fullmatch(value):
            kind = "an integer" if signed else "a non-negative integer"
            raise _BadTree(rel, f"expected {kind}, found {_shorten(value)!r}")
        return int(value)

    def _cpuset(self, rel: str, *, allow_empty: bool) -> frozenset[int] | None:
        text = self._text(rel)
        if text is None:
            return None
        value = text.strip()
        if not value:
            if allow_empty:
                return frozenset()
            raise _BadTree(rel, "empty, expected a CPU/node list like '0-3,8'")
        try:
            return parse_cpuset(value)
        except CpusetError as exc:
            raise _BadTree(rel, f"not a CPU/node list like '0-3,8': {exc.message}") from exc

    def _numbered_dirs(self, rel: str, pattern: re.Pattern[str]) -> list[int]:
        try:
            with os.scandir(self.system / rel) as entries:
                found = []
                for entry in entries:
                    match = pattern.fullmatch(entry.name)
                    if match and entry.is_dir():
                        found.append(int(match[1]))
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:
            raise _BadTree(rel, f"cannot list: {exc.strerror or exc}") from exc
        return sorted(found)

    # ---------------------------------------------------------------- CPUs

    def _online(self) -> frozenset[int] | None:
        """cpu/online, or None when the file is absent (then each cpu/cpuN/online decides)."""
        if not self._online_read:
            self._online_cpus = self._cpuset("cpu/online", allow_empty=True)
            self._online_read = True
        return self._online_cpus

    def _is_online(self, cpu_id: int) -> bool:
        online = self._online()
        if online is not None:
            return cpu_id in online
        flag = self._int(f"cpu/cpu{cpu_id}/online")
        return flag is None or flag != 0

    def _cpu(self, cpu_id: int) -> HostCPU:
        if not self._is_online(cpu_id):
            return HostCPU(id=cpu_id, siblings=frozenset({cpu_id}))
        topo = f"cpu/cpu{cpu_id}/topology"
        siblings = self._cpuset(f"{topo}/thread_siblings_list", allow_empty=False)
        return HostCPU(
            id=cpu_id,
            socket_id=self._topology_id(f"{topo}/physical_package_id"),
            die_id=self._topology_id(f"{topo}/die_id"),
            cluster_id=self._topology_id(f"{topo}/cluster_id"),
            core_id=self._topology_id(f"{topo}/core_id"),
            siblings=siblings if siblings is not None else frozenset({cpu_id}),
        )

    def _topology_id(self, rel: str) -> int:
        # libvirt: a missing file, or -1 (the architecture has no such level), is 0.
        value = self._int(rel, signed=True)
        return 0 if value is None or value < 0 else value

    # ---------------------------------------------------------------- nodes

    def _node_ids(self) -> list[int]:
        listed = self._cpuset("node/online", allow_empty=False)
        if listed is not None:
            for node in sorted(listed):
                if not (self.system / "node" / f"node{node}").is_dir():
                    raise _BadTree(
                        "node/online", f"lists node {node} but node/node{node}/ is missing"
                    )
            return sorted(listed)
        found = self._numbered_dirs("node", _NODE_DIR)
        if not found:
            raise _BadTree("node/", "has neither an 'online' file nor nodeN directories")
        return found

    def _distances(self, node: int, order: list[int]) -> dict[int, int]:
        rel = f"node/node{node}/distance"
        text = self._text(rel)
        if text is None:
            return {}
        values = text.split()
        bad = next((v for v in values if not _UINT.fullmatch(v)), None)
        if bad is not None:
            raise _BadTree(rel, f"expected space-separated integers, found {_shorten(bad)!r}")
        if len(values) != len(order):
            raise _BadTree(
                rel,
                f"has {len(values)} values for {len(order)} online nodes "
                f"({', '.join(map(str, order))})",
            )
        # The kernel prints one value per online node, in node order; libvirt skips zeros.
        return {other: int(v) for other, v in zip(order, values, strict=True) if int(v)}

    def _meminfo(self, node: int) -> _Meminfo | None:
        rel = f"node/node{node}/meminfo"
        text = self._text(rel)
        if text is None:
            return None
        fields: dict[str, int] = {}
        for line in text.splitlines():
            key, sep, value = line.partition(":")
            words = key.split()
            if not sep or len(words) != 3 or words[2] not in ("MemTotal", "MemFree"):
                continue
            if words[0] != "Node" or words[1] != str(node):
                raise _BadTree(rel, f"line {_shorten(line.strip())!r} is not about node {node}")
            match = _MEMINFO_VALUE.fullmatch(value.strip())
            if match is None:
                raise _BadTree(
                    rel, f"{words[2]} must be '<integer> kB', found {_shorten(value.strip())!r}"
                )
            fields[words[2]] = int(match[1])
        if "MemTotal" not in fields:
            raise _BadTree(rel, f"no 'Node {node} MemTotal: <N> kB' line")
        return _Meminfo(fields["MemTotal"], fields.get("MemFree"))

    def _huge_pools(self, node: int) -> list[PagePool]:
        rel = f"node/node{node}/hugepages"
        try:
            with os.scandir(self.system / rel) as entries:
                names = sorted(e.name for e in entries if e.name.startswith("hugepages-"))
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:
            raise _BadTree(rel, f"cannot list: {exc.strerror or exc}") from exc
        pools = []
        for name in names:
            match = _HUGEPAGES_DIR.fullmatch(name)
            if match is None:
                raise _BadTree(f"{rel}/{name}", "expected a name like hugepages-2048kB")
            count = self._int(f"{rel}/{name}/nr_hugepages")
            if count is None:
                raise _BadTree(f"{rel}/{name}/nr_hugepages", "missing")
            free = self._int(f"{rel}/{name}/free_hugepages")
            pools.append(PagePool(size_kib=int(match[1]), count=count, free=free))
        return pools

    def _cell(self, node: int, order: list[int]) -> HostCell:
        cpu_ids = self._cpuset(f"node/node{node}/cpulist", allow_empty=True) or frozenset()
        meminfo = self._meminfo(node)
        pools = self._huge_pools(node)
        if meminfo is not None:
            # virNumaGetPages: huge pages are counted as used memory, so take them off.
            reserved = sum(p.size_kib * p.count for p in pools)
            base = PagePool(
                size_kib=self.page_kib,
                count=max(meminfo.total_kib - reserved, 0) // self.page_kib,
                free=meminfo.free_kib // self.page_kib if meminfo.free_kib is not None else None,
            )
            pools = [base, *(p for p in pools if p.size_kib != self.page_kib)]
        return HostCell(
            id=node,
            memory_kib=meminfo.total_kib if meminfo is not None else None,
            free_memory_kib=meminfo.free_kib if meminfo is not None else None,
            pages=tuple(sorted(pools, key=lambda p: p.size_kib)),
            distances=self._distances(node, order),
            cpus=(cpus := tuple(self._cpu(cpu) for cpu in sorted(cpu_ids))),
            core_groups=group_cores(cpus),
        )

    def _fake_cell(self) -> HostCell:
        """No node/ directory: one node 0 with the online CPUs (virCapabilitiesHostNUMAInitFake)."""
        online = self._online()
        if online is not None:
            cpu_ids = sorted(online)
        else:
            cpu_ids = [c for c in self._numbered_dirs("cpu", _CPU_DIR) if self._is_online(c)]
        if not cpu_ids:
            raise _BadTree("cpu/", "no online CPUs found (no 'online' file, no cpuN directories)")
        total = free = None
        if self.real:
            total, free = _proc_meminfo()
        return HostCell(
            id=0,
            memory_kib=total,
            free_memory_kib=free,
            distances={},
            cpus=(cpus := tuple(self._cpu(cpu) for cpu in cpu_ids)),
            core_groups=group_cores(cpus),
        )

    # ---------------------------------------------------------------- the host

    def host(self) -> HostTopology:
        if (self.system / "node").is_dir():
            order = self._node_ids()
            cells = [self._cell(node, order) for node in order]
        else:
            cells = [self._fake_cell()]
        owner: dict[int, int] = {}
        for cell in cells:
            for cpu in cell.cpus:
                if cpu.id in owner:
                    raise _BadTree(
                        f"node/node{cell.id}/cpulist",
                        f"CPU {cpu.id} is also in node {owner[cpu.id]}",
                    )
                owner[cpu.id] = cell.id
        sockets, cores, threads = _libvirt_topology(cells)
        known = sockets is not None
        ordered = tuple(sorted(cells, key=lambda c: c.id))
        return HostTopology(
            source=self.shown,
            arch=(platform.machine() or None) if self.real else None,
            cells=ordered,
            page_sizes_kib=self._page_sizes(cells),
            sockets=sockets,
            dies=1 if known else None,
            clusters=1 if known else None,
            cores_per_socket=cores,
            threads_per_core=threads,
            twins=distance_twins(ordered),
        )

    def _page_sizes(self, cells: list[HostCell]) -> tuple[int, ...]:
        sizes = {pool.size_kib for cell in cells for pool in cell.pages}
        # The host-wide list (virCapabilitiesInitPages): the system page plus every size
        # /sys/kernel/mm/hugepages offers; only known for this machine's own sysfs.
        if self.real:
            sizes.add(self.page_kib)
            global_dir = self.system.parent.parent / "kernel" / "mm" / "hugepages"
            try:
                with os.scandir(global_dir) as entries:
                    for entry in entries:
                        match = _HUGEPAGES_DIR.fullmatch(entry.name)
                        if match:
                            sizes.add(int(match[1]))
            except OSError:
                pass
        return tuple(sorted(sizes))


def _libvirt_topology(cells: list[HostCell]) -> tuple[int | None, int | None, int | None]:
    """<host><cpu><topology> sockets/cores/threads as libvirt computes them.

    virHostCPUGetInfoPopulateLinux: the maximum per NUMA node of the sockets, of the cores
    in one socket and of the thread siblings, over online CPUs; when
    nodes * sockets * cores * threads is not the CPU count it reports 1, <cpus>, 1.
    """
    sockets = cores = threads = online = offline = 0
    for cell in cells:
        per_socket: dict[int, set[int]] = {}
        for cpu in cell.cpus:
            if cpu.socket_id is None or cpu.core_id is None:
                offline += 1
                continue
            online += 1
            per_socket.setdefault(cpu.socket_id, set()).add(cpu.core_id)
            threads = max(threads, len(cpu.siblings))
        sockets = max(sockets, len(per_socket))
        cores = max(cores, *(len(ids) for ids in per_socket.values()), 0)
    if not online or not sockets or not threads:
        return None, None, None
    if len(cells) * sockets * cores * threads != online + offline:
        return 1, online + offline, 1
    return sockets, cores, threads


def _proc_meminfo() -> tuple[int | None, int | None]:
    """MemTotal and MemFree (KiB) of /proc/meminfo; None for what cannot be read."""
    try:
        with PROC_MEMINFO.open("rb") as handle:
            text = handle.read(MAX_FILE_BYTES).decode("ascii", "replace")
    except OSError:
        return None, None
    fields: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        match = _MEMINFO_VALUE.fullmatch(value.strip())
        if key in ("MemTotal", "MemFree") and match:
            fields[key] = int(match[1])
    return fields.get("MemTotal"), fields.get("MemFree")


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
