"""`vnuma show -o view.html`: the SVG picture in a standalone page, with the same facts as text.

The page inlines the SVG (its `<title>` and `<desc>` label it for screen readers), then a
legend and tables for the nodes, the distance matrix, the guests and the problems, so no
reader depends on the picture. Inline style only: no scripts, no external URLs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

from vnuma.cpusets import format_cpuset
from vnuma.sizes import format_kib
from vnuma.view.model import CellPlacementView, GuestView, HostView, NodeView, PoolView
from vnuma.view.svg import RED, render_svg

_STYLE = """
body { font-family: sans-serif; margin: 1.5rem; color: #1F2937; background: #FFFFFF; }
figure { margin: 0 0 1.5rem 0; }
svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 0 0 1.5rem 0; }
th, td { border: 1px solid #D1D5DB; padding: 0.25rem 0.6rem; text-align: left; }
th { background: #F3F4F6; }
td.num { text-align: right; font-family: monospace; }
.swatch { display: inline-block; width: 1em; height: 1em; vertical-align: middle;
  border: 1px solid #9CA3AF; margin-right: 0.4em; }
.hatch { background: repeating-linear-gradient(45deg, #F3F4F6 0 3px, #6B7280 3px 5px); }
.problem, .red { color: %(red)s; }
.red-swatch { background: %(red)s; }
""".replace("%(red)s", RED)


def render_html(view: HostView) -> str:
    title = f"vnuma show: {view.source}"
    body = [
        f"<h1>{escape(title)}</h1>",
        _figure(view),
        _legend(view),
        _nodes_table(view),
        _distance_table(view),
        _guests_table(view),
        _problems_table(view),
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def _figure(view: HostView) -> str:
    svg = render_svg(view).strip()
    # render_svg sets role="img" and aria-labelledby to its <title> and <desc> ids.
    return f"<figure>\n{svg}\n</figure>"


def _table(caption: str, head: Sequence[str], rows: Iterable[Sequence[str]], cls: str) -> str:
    """`rows` cells are HTML already; the first cell of each row is its header."""
    lines = [f'<table class="{cls}">', f"<caption>{escape(caption)}</caption>", "<thead><tr>"]
    lines.append("".join(f'<th scope="col">{escape(h)}</th>' for h in head) + "</tr></thead>")
    lines.append("<tbody>")
    for row in rows:
        first, *rest = row
        cells = "".join(f"<td>{cell}</td>" for cell in rest)
        lines.append(f'<tr><th scope="row">{first}</th>{cells}</tr>')
    lines.append("</tbody>\n</table>")
    return "\n".join(lines)


def _legend(view: HostView) -> str:
    items = [
        f'<li><span class="swatch" style="background: {g.colour}"></span>'
        f"{escape(g.name)}: guest colour (its pins, outlines and cells)</li>"
        for g in view.guests
    ]
    items += [
        '<li><span class="swatch hatch"></span>hatched: CPU reserved for the host</li>',
        '<li><span class="swatch"></span>white: free CPU, labelled with its id</li>',
        "<li>filled square: a dedicated pin, the host CPU id on top and the guest's vCPU "
        "below (v0)</li>",
        "<li>thin outline in a guest colour: that guest's vCPUs float over the CPU</li>",
        "<li>triangle in a CPU's corner, in a guest colour: that guest's emulator threads "
        "are pinned to the CPU</li>",
        "<li>green line under a memory or pool bar: memory or pages free when the host was "
        "captured</li>",
        '<li><span class="swatch red-swatch"></span>red: overcommitted node or pool, a host '
        "CPU pinned twice, or a problem, with its rule code</li>",
    ]
    return "<h2>Legend</h2>\n<ul>\n" + "\n".join(items) + "\n</ul>"


def _pools(pools: Sequence[PoolView]) -> str:
    if not pools:
        return "none"
    parts = []
    for pool in pools:
        text = f"{format_kib(pool.size_kib)}: {pool.count} pages, guests use {pool.used_by_guests}"
        text += f", {pool.free} free" if pool.free is not None else ""
        parts.append(escape(text))
    return "<br>".join(parts)


def _node_row(view: HostView, node: NodeView) -> list[str]:
    cpus = ", ".join(
        "+".join(str(cpu.id) + (" (reserved)" if cpu.reserved else "") for cpu in core)
        for core in node.cores
    )
    free = format_kib(node.free_kib) if node.free_kib is not None else "unknown"
    status = '<span class="red">overcommitted</span>' if node.overcommitted else "ok"
    cells = "<br>".join(
        escape(f"{view.guests[c.guest].name} {_cell_name(c)}: {format_kib(c.memory_kib)}")
        for c in node.cells
    )
    return [
        f"node {node.id}",
        str(node.socket) if node.socket is not None else "none",
        str(len(node.cpus)),
        escape(cpus) or "none",
        escape(format_kib(node.memory_kib)),
        escape(free),
        escape(format_kib(node.bound_small_kib)),
        _pools(node.pools),
        cells or "none",
        status,
    ]


def _cell_name(cell: CellPlacementView) -> str:
    return "(no cells)" if cell.cell_id is None else f"cell {cell.cell_id}"


def _nodes_table(view: HostView) -> str:
    head = (
        "Node",
        "Socket",
        "CPUs",
        "Cores (sibling threads joined by +)",
        "Memory",
        "Free",
        "Bound by guests",
        "Huge page pools",
        "Guest cells",
        "Status",
    )
    rows = [_node_row(view, node) for node in view.nodes]
    return "<h2>Host nodes</h2>\n" + _table("Host NUMA nodes", head, rows, "nodes")


def _distance_table(view: HostView) -> str:
    head = ("From \\ to", *(f"node {node.id}" for node in view.nodes))
    rows = [
        [f"node {node.id}", *("–" if value is None else str(value) for value in row)]
        for node, row in zip(view.nodes, view.distances, strict=True)
    ]
    table = _table("NUMA distances (10 is local)", head, rows, "distances")
    return "<h2>Distances</h2>\n" + table


def _pins(view: HostView, guest: GuestView) -> str:
    pins = sorted(
        (pin.vcpu, cpu.id)
        for node in view.nodes
        for cpu in node.cpus
        for pin in cpu.pins
        if pin.guest == guest.index
    )
    return ", ".join(f"vCPU {vcpu} → CPU {cpu}" for vcpu, cpu in pins) or "none"


def _guest_row(view: HostView, guest: GuestView) -> list[str]:
    cells = "<br>".join(
        f"cell {cell} → " + (f"node {', '.join(map(str, nodes))}" if nodes else "unbound")
        for cell, nodes in guest.cells
    )
    floating = sorted(
        {cpu.id for node in view.nodes for cpu in node.cpus if guest.index in cpu.floating}
    )
    float_text = ", ".join(map(str, floating)) if floating else "none"
    emulator = format_cpuset(frozenset(guest.emulator)) if guest.emulator else "not pinned"
    return [
        escape(guest.name),
        f'<span class="swatch" style="background: {guest.colour}"></span>{guest.colour}',
        str(guest.vcpus),
        escape(format_kib(guest.memory_kib)),
        escape(guest.mode),
        cells or "none",
        _pins(view, guest),
        escape(float_text),
        escape(emulator),
    ]


def _guests_table(view: HostView) -> str:
    if not view.guests:
        return "<h2>Guests</h2>\n<p>No guests given.</p>"
    head = (
        "Guest",
        "Colour",
        "vCPUs",
        "Memory",
        "Memory mode",
        "Cells → host nodes",
        "Dedicated pins",
        "Floating over CPUs",
        "Emulator threads on CPUs",
    )
    rows = [_guest_row(view, guest) for guest in view.guests]
    return "<h2>Guests</h2>\n" + _table("Guests placed on this host", head, rows, "guests")


def _problems_table(view: HostView) -> str:
    if not view.problems:
        return "<h2>Problems</h2>\n<p>No problems.</p>"
    head = ("Code", "Severity", "Message", "File")
    rows = [
        [
            f'<span class="problem">{escape(p.code)}</span>',
            escape(p.severity),
            escape(p.message),
            escape(p.path),
        ]
        for p in view.problems
    ]
    return "<h2>Problems</h2>\n" + _table("Problems found", head, rows, "problems")
