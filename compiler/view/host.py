"""`vnuma host`: the host's NUMA topology as a readable table, or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from vnuma.cpusets import format_cpuset
from vnuma.model.host import HostCell, HostTopology
from vnuma.sizes import format_kib
from vnuma.view.terminal import table, terminal_width, wrap, wrap_items


def _pools(cell: HostCell) -> str:
    base = cell.base_page_kib
    pools = [p for p in cell.pages if p.size_kib != base]
    if not pools:
        return "-"
    return ", ".join(
        f"{format_kib(p.size_kib).replace(' ', '')} x {p.count}"
        + (f" ({p.free} free)" if p.free is not None else "")
        for p in pools
    )


def _threads(cell: HostCell) -> str:
    if not cell.cpus:
        return "-"
    per_core = {len(cpu.siblings) for cpu in cell.cpus}
    return "/".join(str(n) for n in sorted(per_core))


def _summary(host: HostTopology) -> list[str]:
    """The first line in the pieces it may wrap between."""
    sockets = {
        cpu.socket_id for cell in host.cells for cpu in cell.cpus if cpu.socket_id is not None
    }
    cores = sum(cell.cores for cell in host.cells)
    parts = [f"{len(host.cells)} NUMA node(s)", f"{host.cpu_count} CPUs"]
    if sockets:
        parts.insert(0, f"{len(sockets)} socket(s)")
    if cores and host.cpu_count:
        parts.append(f"{cores} cores")
    parts.append(f"{format_kib(host.memory_kib)} memory")
    arch = f" ({host.arch})" if host.arch else ""
    return [f"host {host.source}{arch}:", *(part + "," for part in parts[:-1]), parts[-1]]


def _captured(host: HostTopology) -> list[str]:
    if host.captured_at is None and host.captured_from is None:
        return []
    when = f" at {host.captured_at}" if host.captured_at else ""
    where = f" from {host.captured_from}" if host.captured_from else ""
    return [f"captured{where}{when}; free memory and pages are as of then"]


def render_text(host: HostTopology, width: int | None = None) -> str:
    """Lines of at most ``width`` columns (default: the terminal's)."""
    width = width or terminal_width()
    lines = wrap_items(_summary(host), width)
    lines += [line for text in _captured(host) for line in wrap(text, width)]
    if not host.cells:
        lines.append("no NUMA topology in this snapshot")
        return "\n".join(lines) + "\n"
    header = ("node", "socket", "cpus", "cores", "thr/core", "memory", "hugepage pools", "free")
    rows: list[tuple[str, ...]] = [header]
    for cell in host.cells:
        sockets = format_cpuset(cell.sockets) if cell.sockets else "-"
        free = format_kib(cell.free_memory_kib) if cell.free_memory_kib is not None else "-"
        memory = format_kib(cell.memory_kib) if cell.memory_kib is not None else "?"
        rows.append(
            (
                str(cell.id),
                sockets,
                format_cpuset(cell.cpu_ids) if cell.cpus else "(none)",
                str(cell.cores) if cell.cpus else "0",
                _threads(cell),
                memory,
                _pools(cell),
                free,
            )
        )
    if all(row[-1] == "-" for row in rows[1:]):
        rows = [row[:-1] for row in rows]
    lines.append("")
    lines.extend(table(rows, width, wrappable=(2, 6)))  # cpus and pools wrap when too wide
    lines.append("")
    lines.extend(_distance_lines(host, width))
    return "\n".join(lines) + "\n"


def _distance_lines(host: HostTopology, width: int) -> list[str]:
    """The matrix; on a terminal too narrow for every column, in blocks of columns."""
    ids = [cell.id for cell in host.cells]
    if not any(cell.distances for cell in host.cells):
        return ["distances: not reported by this snapshot"]
    rows = [("", *map(str, ids))]
    for a in ids:
        rows.append(
            (str(a), *(str(d) if (d := host.distance(a, b)) is not None else "-" for b in ids))
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = ["distances:"]
    for block in _column_blocks(widths, width):
        out.extend("  " + " ".join(row[i].rjust(widths[i]) for i in block) for row in rows)
    return out


def _column_blocks(widths: Sequence[int], width: int) -> list[list[int]]:
    """Column indexes per block: the row labels (column 0), then as many as fit."""
    blocks: list[list[int]] = []
    for column in range(1, len(widths)):
        if blocks and 2 + sum(widths[i] + 1 for i in blocks[-1]) + widths[column] <= width:
            blocks[-1].append(column)
        else:
            blocks.append([0, column])
    return blocks


def render_json(host: HostTopology) -> str:
    def cell_json(cell: HostCell) -> dict[str, Any]:
        return {
            "id": cell.id,
            "memory_kib": cell.memory_kib,
            "free_memory_kib": cell.free_memory_kib,
            "cpus": format_cpuset(cell.cpu_ids) if cell.cpus else "",
            "cpu_count": len(cell.cpus),
            "cores": cell.cores,
            "sockets": sorted(cell.sockets),
            "pages": [
                {"size_kib": p.size_kib, "count": p.count, "free": p.free} for p in cell.pages
            ],
            "distances": {str(k): v for k, v in sorted(cell.distances.items())},
        }

    document = {
        "source": host.source,
        "arch": host.arch,
        "captured_at": host.captured_at,
        "captured_from": host.captured_from,
        "cpu_count": host.cpu_count,
        "memory_kib": host.memory_kib,
        "page_sizes_kib": list(host.page_sizes_kib),
        "nodes": [cell_json(cell) for cell in host.cells],
    }
    return json.dumps(document, indent=2) + "\n"
