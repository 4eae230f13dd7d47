"""`vnuma show -o view.svg`: the host and its guests as one self-contained SVG picture.

Each host node is a box of CPUs (a grid of cores, sibling threads side by side) with bars
for its memory and huge page pools; sockets box their nodes. Guests are drawn on top:
dedicated pins in the guest colour with the host CPU id above the guest's vCPU number
("v3"), floating vCPUs as a thin outline, emulator threads as a corner mark, cells as
coloured bands on the nodes they bind to. Reserved CPUs are hatched; overcommit, CPUs
pinned twice and every problem are red with their rule code.
A distance heat table and a legend close the picture.

No scripts, no external fonts or links: generic font families, one hatch pattern in
`<defs>`. Same view, same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple
from xml.sax.saxutils import escape, quoteattr

from vnuma.cpusets import format_cpuset
from vnuma.sizes import format_kib
from vnuma.view.model import CellPlacementView, CpuView, GuestView, HostView, NodeView, PoolView

MAX_WIDTH = 1600
MARGIN = 16
CPU = 22
"""Side of one CPU square."""
SIBLING_GAP = 2
CORE_GAP = 6
ROW_GAP = 5
NODE_PAD = 10
NODE_MIN_WIDTH = 290
NODE_GAP = 12
SOCKET_PAD = 10
SOCKET_LABEL = 20
SOCKET_GAP = 16
LABEL_HEIGHT = 22
BAR_ROW = 28
BAR_HEIGHT = 8
CELL_ROW = 20
ISSUE_ROW = 14
DIST_CELL_W = 28
DIST_CELL_H = 18
DIST_LABEL = 24
LEGEND_ROW = 18
EMULATOR_MARKS = 3
"""At most this many guests' emulator marks on one CPU (the tooltip names them all)."""

RED = "#D7191C"
INK = "#1F2937"
MUTED = "#6B7280"
LINE = "#9CA3AF"
TRACK = "#E5E7EB"
HUGE = "#CBD5E1"
BOUND = "#475569"
FREE = "#1A9850"
DIST_LOW = (0xFF, 0xF7, 0xBC)
DIST_HIGH = (0x99, 0x34, 0x04)

TITLE_ID = "vnuma-title"
DESC_ID = "vnuma-desc"


class Grid(NamedTuple):
    """Sizes shared by every node box of one picture."""

    columns: int
    threads: int
    rows: int
    node_width: int

    @property
    def core_width(self) -> int:
        return self.threads * CPU + (self.threads - 1) * SIBLING_GAP


class Box(NamedTuple):
    x: int
    y: int
    width: int
    height: int


# --- small XML helpers -------------------------------------------------------------------


def _num(value: float) -> str:
    """Coordinates with at most one decimal, no trailing zeros: stable text."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _attrs(attrs: Mapping[str, object]) -> str:
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        text = _num(value) if isinstance(value, float) else str(value)
        parts.append(f" {key}={quoteattr(text)}")
    return "".join(parts)


def _tag(name: str, attrs: Mapping[str, object], body: str | None = None) -> str:
    if body is None:
        return f"<{name}{_attrs(attrs)}/>"
    return f"<{name}{_attrs(attrs)}>{body}</{name}>"


def _text(x: float, y: float, content: str, **attrs: object) -> str:
    return _tag("text", {"x": float(x), "y": float(y), **_fix(attrs)}, escape(content))


def _rect(x: float, y: float, w: float, h: float, **attrs: object) -> str:
    base = {"x": float(x), "y": float(y), "width": float(max(w, 0)), "height": float(h)}
    return _tag("rect", {**base, **_fix(attrs)})


def _group(attrs: Mapping[str, object], children: Iterable[str]) -> str:
    return _tag("g", attrs, "".join(children))


def _title(content: str) -> str:
    return f"<title>{escape(content)}</title>"


def _fix(attrs: dict[str, object]) -> dict[str, object]:
    """Python keywords to SVG attribute names: class_ -> class, font_size -> font-size."""
    return {key.rstrip("_").replace("_", "-"): value for key, value in attrs.items()}


def _fit(content: str, width: float, size: float) -> str:
    """Cut text to about `width` pixels at font `size` (SVG text never wraps)."""
    limit = max(4, int(width / (size * 0.56)))
    return content if len(content) <= limit else content[: limit - 1] + "…"


def _text_width(content: str, size: float) -> int:
    return math.ceil(len(content) * size * 0.56)


def _ink_on(colour: str) -> str:
    """Black or white text, whichever reads better on `colour` (#RRGGBB)."""
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#111111" if luminance > 0.5 else "#FFFFFF"


def _size(kib: int) -> str:
    return format_kib(kib)


# --- layout ------------------------------------------------------------------------------


def _grid(view: HostView) -> Grid:
    cores = max((len(node.cores) for node in view.nodes), default=0)
    threads = max((len(core) for node in view.nodes for core in node.cores), default=1)
    slot = threads * CPU + (threads - 1) * SIBLING_GAP
    fit = max(1, (MAX_WIDTH - 2 * MARGIN - 2 * SOCKET_PAD - 2 * NODE_PAD) // (slot + CORE_GAP))
    columns = min(_columns(cores), fit)
    rows = math.ceil(cores / columns) if cores else 0
    grid_width = columns * slot + (columns - 1) * CORE_GAP
    node_width = max(NODE_MIN_WIDTH, grid_width + 2 * NODE_PAD)
    return Grid(columns, threads, rows, node_width)


def _columns(cores: int) -> int:
    """Cores per grid row: a square-ish block for small nodes, rows of up to ten for big."""
    if cores <= 4:
        return max(cores, 1)
    if cores <= 8:
        return math.ceil(cores / 2)
    return math.ceil(cores / math.ceil(cores / 10))


def _grid_height(rows: int) -> int:
    return rows * CPU + max(rows - 1, 0) * ROW_GAP if rows else CPU


def _node_height(node: NodeView, rows: int) -> int:
    return (
        NODE_PAD
        + LABEL_HEIGHT
        + _grid_height(rows)
        + 8
        + BAR_ROW * (1 + len(node.pools))
        + CELL_ROW * len(node.cells)
        + ISSUE_ROW * len(_node_issues(node, ()))
        + NODE_PAD
    )


def _socket_size(view: HostView, ids: Sequence[int], grid: Grid) -> tuple[int, int, int, int]:
    """(width, height, nodes per row, node height) of a socket box holding nodes `ids`."""
    count = len(ids)
    node_height = max(_node_height(view.node(node_id), grid.rows) for node_id in ids)
    room = MAX_WIDTH - 2 * MARGIN - 2 * SOCKET_PAD
    per_row = max(1, min(count, (room + NODE_GAP) // (grid.node_width + NODE_GAP)))
    rows = math.ceil(count / per_row)
    width = 2 * SOCKET_PAD + per_row * grid.node_width + (per_row - 1) * NODE_GAP
    height = SOCKET_LABEL + SOCKET_PAD + rows * node_height + (rows - 1) * NODE_GAP
    return width, height, per_row, node_height


def _flow(sizes: Sequence[tuple[int, int]], top: int) -> tuple[list[tuple[int, int]], int, int]:
    """Place boxes left to right, wrapping at MAX_WIDTH: positions, used width, bottom."""
    positions: list[tuple[int, int]] = []
    x, y, row_height, used = MARGIN, top, 0, 0
    for width, height in sizes:
        if x > MARGIN and x + width > MAX_WIDTH - MARGIN:
            x, y, row_height = MARGIN, y + row_height + SOCKET_GAP, 0
        positions.append((x, y))
        used = max(used, x + width)
        x += width + SOCKET_GAP
        row_height = max(row_height, height)
    return positions, used, y + row_height


# --- the picture -------------------------------------------------------------------------


def render_svg(view: HostView) -> str:
    """The whole picture as SVG text (no XML declaration, so it can be inlined in HTML)."""
    grid = _grid(view)
    header, header_bottom = _header(view)
    sockets, sockets_width, sockets_bottom = _sockets(view, grid, header_bottom + 10)
    bottom, bottom_width, bottom_end = _bottom(view, sockets_bottom + 24)
    width = min(MAX_WIDTH, max(sockets_width, bottom_width, _header_width(view)) + MARGIN)
    problems, height = _problems(view, bottom_end + 10, width)
    body = [
        _title(_title_text(view)).replace("<title>", f'<title id="{TITLE_ID}">'),
        f'<desc id="{DESC_ID}">{escape(_description(view))}</desc>',
        _defs(),
        _rect(0, 0, width, height + MARGIN, fill="#FFFFFF"),
        header,
        sockets,
        bottom,
        problems,
    ]
    root = {
        "xmlns": "http://www.w3.org/2000/svg",
        "width": width,
        "height": height + MARGIN,
        "viewBox": f"0 0 {width} {height + MARGIN}",
        "role": "img",
        "aria-labelledby": f"{TITLE_ID} {DESC_ID}",
        "font-family": "sans-serif",
        "font-size": 11,
        "fill": INK,
    }
    return _tag("svg", root, "\n" + "\n".join(body) + "\n") + "\n"


def _title_text(view: HostView) -> str:
    return f"NUMA layout of host {view.source}"


def _description(view: HostView) -> str:
    cpus = sum(len(node.cpus) for node in view.nodes)
    sockets = sum(1 for socket, _ in view.sockets if socket is not None)
    parts = [
        f"{len(view.nodes)} host nodes in {sockets} sockets, {cpus} CPUs, "
        f"{_size(sum(node.memory_kib for node in view.nodes))} memory."
    ]
    for guest in view.guests:
        nodes = sorted({n for _, host_nodes in guest.cells for n in host_nodes})
        where = "nodes " + ", ".join(map(str, nodes)) if nodes else "no bound node"
        emulator = f", emulator on {_cpus(guest.emulator)}" if guest.emulator else ""
        parts.append(
            f"Guest {guest.name}: {guest.vcpus} vCPUs ({guest.dedicated} pinned){emulator}, "
            f"{_size(guest.memory_kib)}, {len(guest.cells)} cells on {where}."
        )
    over = [str(node.id) for node in view.nodes if node.overcommitted]
    if over:
        parts.append("Overcommitted nodes: " + ", ".join(over) + ".")
    count = len(view.problems)
    parts.append(f"{count} problem{'' if count == 1 else 's'}." if count else "No problems.")
    return " ".join(parts)


def _defs() -> str:
    hatch = (
        '<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#F3F4F6"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{MUTED}" stroke-width="2"/>'
        "</pattern>"
    )
    return f"<defs>{hatch}</defs>"


def _header_line(view: HostView) -> str:
    cpus = sum(len(node.cpus) for node in view.nodes)
    guests = len(view.guests)
    count = len(view.problems)
    problems = f"{count} problem{'' if count == 1 else 's'}" if count else "no problems"
    return (
        f"{view.arch or 'unknown arch'} · {len(view.nodes)} nodes · {cpus} CPUs · "
        f"{guests} guest{'' if guests == 1 else 's'} · {problems}"
    )


def _header_width(view: HostView) -> int:
    title = _text_width(_title_text(view), 16)
    return MARGIN + max(title, _text_width(_header_line(view), 11))


def _header(view: HostView) -> tuple[str, int]:
    parts = [
        _text(MARGIN, MARGIN + 14, _title_text(view), font_size=16, font_weight="bold"),
        _text(MARGIN, MARGIN + 32, _header_line(view), fill=MUTED),
    ]
    return _group({"class": "header"}, parts), MARGIN + 40


def _sockets(view: HostView, grid: Grid, top: int) -> tuple[str, int, int]:
    sizes = [_socket_size(view, ids, grid) for _, ids in view.sockets]
    positions, used, bottom = _flow([(w, h) for w, h, _, _ in sizes], top)
    groups = [
        _socket(view, socket, ids, Box(x, y, w, h), (per_row, node_height), grid)
        for (socket, ids), (x, y), (w, h, per_row, node_height) in zip(
            view.sockets, positions, sizes, strict=True
        )
    ]
    return "\n".join(groups), used, bottom


def _socket(
    view: HostView,
    socket: int | None,
    ids: tuple[int, ...],
    box: Box,
    shape: tuple[int, int],
    grid: Grid,
) -> str:
    per_row, node_height = shape
    label = f"socket {socket}" if socket is not None else "no socket (memory only)"
    parts = [
        _rect(box.x, box.y, box.width, box.height, rx=8, fill="#F9FAFB", stroke=LINE),
        _text(box.x + SOCKET_PAD, box.y + 15, label, font_weight="bold", fill=MUTED),
    ]
    for index, node_id in enumerate(ids):
        row, column = divmod(index, per_row)
        x = box.x + SOCKET_PAD + column * (grid.node_width + NODE_GAP)
        y = box.y + SOCKET_LABEL + row * (node_height + NODE_GAP)
        node_box = Box(x, y, grid.node_width, node_height)
        parts.append(_node(view, view.node(node_id), node_box, grid))
    data = str(socket) if socket is not None else "none"
    return _group({"class": "socket", "data-socket": data}, parts)


# --- one node ----------------------------------------------------------------------------


def _node(view: HostView, node: NodeView, box: Box, grid: Grid) -> str:
    issues = _node_issues(node, view.guests)
    red = node.overcommitted or any(len(cpu.pins) > 1 for cpu in node.cpus)
    frame = {"rx": 5, "fill": "#FFFFFF", "stroke": RED if red else LINE}
    frame["stroke-width"] = 2.5 if red else 1
    inner = box.width - 2 * NODE_PAD
    x = box.x + NODE_PAD
    y = box.y + NODE_PAD
    parts = [_rect(box.x, box.y, box.width, box.height, class_="node-box", **frame)]
    parts.append(_node_label(node, x, y + 13, inner))
    y += LABEL_HEIGHT
    parts.append(_cpu_grid(view, node, x, y, grid))
    y += _grid_height(grid.rows) + 8
    parts.append(_memory_bar(node, x, y, inner))
    y += BAR_ROW
    for pool in node.pools:
        parts.append(_pool_bar(pool, x, y, inner))
        y += BAR_ROW
    for cell in node.cells:
        guest = view.guests[cell.guest]
        parts.append(_cell(guest, cell.cell_id, _cell_label(guest, cell), x, y, inner))
        y += CELL_ROW
    for code, message in issues:
        parts.append(_issue(code, message, x, y + 11, inner))
        y += ISSUE_ROW
    attrs = {"class": "node", "id": f"node-{node.id}", "data-node": node.id}
    if red:
        attrs["data-overcommitted"] = "true" if node.overcommitted else None
    return _group(attrs, parts)


def _node_label(node: NodeView, x: int, y: int, width: int) -> str:
    cpus = len(node.cpus)
    detail = f" · {cpus} CPUs / {len(node.cores)} cores" if cpus else " · no CPUs"
    detail = _fit(detail + f" · {_size(node.memory_kib)}", width - 50, 11)
    return (
        f'<text x="{x}" y="{y}"><tspan font-weight="bold" font-size="12">node {node.id}</tspan>'
        f'<tspan fill="{MUTED}">{escape(detail)}</tspan></text>'
    )


def _cpu_grid(view: HostView, node: NodeView, x: int, y: int, grid: Grid) -> str:
    parts: list[str] = []
    if not node.cores:
        parts.append(_text(x, y + 15, "no CPUs", fill=MUTED, font_style="italic"))
    for index, core in enumerate(node.cores):
        row, column = divmod(index, grid.columns)
        core_x = x + column * (grid.core_width + CORE_GAP)
        core_y = y + row * (CPU + ROW_GAP)
        for thread, cpu in enumerate(core):
            parts.append(_cpu(view, cpu, core_x + thread * (CPU + SIBLING_GAP), core_y))
    return _group({"class": "cpus"}, parts)


def _cpu(view: HostView, cpu: CpuView, x: int, y: int) -> str:
    names = [f"{view.guests[p.guest].name} vCPU {p.vcpu}" for p in cpu.pins]
    tip = f"CPU {cpu.id}" + (" (reserved for the host)" if cpu.reserved else "")
    tip += "".join(f"; pinned: {name}" for name in names)
    tip += "".join(f"; floating: {view.guests[g].name}" for g in cpu.floating)
    tip += "".join(f"; emulator threads: {view.guests[g].name}" for g in cpu.emulator)
    tip += "".join(f"; held idle: {view.guests[g].name} (threads: isolate)" for g in cpu.held)
    cls = "cpu reserved" if cpu.reserved else "cpu"
    fill = "url(#hatch)" if cpu.reserved else "#FFFFFF"
    rect = _tag(
        "rect",
        {
            "class": cls,
            "data-cpu": cpu.id,
            "x": x,
            "y": y,
            "width": CPU,
            "height": CPU,
            "rx": 2,
            "fill": fill,
            "stroke": LINE,
        },
        _title(tip),
    )
    parts = [rect]
    parts.extend(_floating(view, cpu, x, y))
    parts.extend(_pins(view, cpu, x, y))
    parts.append(_cpu_id(view, cpu, x, y))
    parts.extend(_emulator(view, cpu, x, y))
    if len(cpu.pins) > 1:
        parts.append(_conflict(cpu, x, y))
    return "".join(parts)


def _cpu_id(view: HostView, cpu: CpuView, x: int, y: int) -> str:
    """The host CPU id: centred on a free CPU, small at the top of a pinned one."""
    if not cpu.pins:
        baseline, size, fill = y + CPU / 2 + 3, 8, MUTED
    else:
        baseline, size, fill = y + 8.5, 7, _ink_on(view.guests[cpu.pins[0].guest].colour)
    return _text(
        x + CPU / 2,
        baseline,
        str(cpu.id),
        class_="cpu-id",
        font_size=size,
        fill=fill,
        text_anchor="middle",
    )


def _emulator(view: HostView, cpu: CpuView, x: int, y: int) -> list[str]:
    """A triangle in the bottom right corner per guest whose emulator threads run here."""
    marks = []
    for k, guest in enumerate(cpu.emulator[:EMULATOR_MARKS]):
        mark = _corner(x + CPU - k * 6, y + CPU, view.guests[guest].colour)
        attrs = {"class": "emulator", "data-guest": guest, "data-cpu": cpu.id}
        marks.append(_group(attrs, [mark]))
    return marks


def _corner(right: float, bottom: float, colour: str) -> str:
    """A small right triangle whose right angle is at (right, bottom)."""
    corners = ((right, bottom - 8), (right, bottom), (right - 8, bottom))
    points = " ".join(f"{_num(px)},{_num(py)}" for px, py in corners)
    return _tag("polygon", {"points": points, "fill": colour, "stroke": INK, "stroke-width": 0.75})


def _floating(view: HostView, cpu: CpuView, x: int, y: int) -> list[str]:
    out = []
    for k, guest in enumerate(cpu.floating):
        inset = 1.5 + 2 * k
        out.append(
            _rect(
                x + inset,
                y + inset,
                CPU - 2 * inset,
                CPU - 2 * inset,
                class_="float",
                data_guest=guest,
                fill="none",
                stroke=view.guests[guest].colour,
                stroke_width=1.5,
            )
        )
    return out


def _pins(view: HostView, cpu: CpuView, x: int, y: int) -> list[str]:
    if not cpu.pins:
        return []
    share = (CPU - 4) / len(cpu.pins)
    out = []
    for k, pin in enumerate(cpu.pins):
        colour = view.guests[pin.guest].colour
        left = x + 2 + k * share
        label = f"v{pin.vcpu}"
        size = min(9.0, (share - 1) / (len(label) * 0.56))
        body = [
            _rect(left, y + 2, share, CPU - 4, rx=2, fill=colour),
            _text(
                left + share / 2,
                y + CPU - 3.5,
                label,
                class_="vcpu",
                font_size=size,
                font_weight="bold",
                fill=_ink_on(colour),
                text_anchor="middle",
            ),
        ]
        attrs = {"class": "pin", "data-guest": pin.guest, "data-vcpu": pin.vcpu}
        out.append(_group({**attrs, "data-cpu": cpu.id}, body))
    return out


def _conflict(cpu: CpuView, x: int, y: int) -> str:
    body = [
        _rect(x - 1.5, y - 1.5, CPU + 3, CPU + 3, rx=3, fill="none", stroke=RED, stroke_width=2.5),
        _tag("circle", {"cx": x + CPU, "cy": y, "r": 5, "fill": RED}),
        _text(
            x + CPU,
            y + 3.5,
            "!",
            font_size=9,
            font_weight="bold",
            fill="#FFFFFF",
            text_anchor="middle",
        ),
    ]
    return _group({"class": "conflict", "data-cpu": cpu.id, "data-code": "VN501"}, body)


def _bar(
    cls: str, label: str, x: int, y: int, width: int, segments: Sequence[tuple[str, float, str]]
) -> list[str]:
    """Label line, then a track with segments (class, fraction from the left, fill)."""
    parts = [
        _text(x, y + 10, _fit(label, width, 10), font_size=10),
        _rect(x, y + 14, width, BAR_HEIGHT, rx=2, fill=TRACK, class_="track"),
    ]
    for name, fraction, fill in segments:
        share = width * min(max(fraction, 0.0), 1.0)
        if share > 0:
            parts.append(_rect(x, y + 14, share, BAR_HEIGHT, rx=2, fill=fill, class_=name))
    return parts


def _memory_bar(node: NodeView, x: int, y: int, width: int) -> str:
    total = max(node.memory_kib, 1)
    over = node.memory_short
    label = f"memory {_size(node.memory_kib)} · bound {_size(node.bound_small_kib)}"
    label += f" of {_size(node.small_page_kib)} small"
    label += f" · free {_size(node.free_kib)}" if node.free_kib is not None else ""
    parts = _bar("memory", label, x, y, width, ())
    huge = (node.memory_kib - node.small_page_kib) / total
    if huge > 0:
        left = x + width * (1 - min(huge, 1.0))
        parts.append(_rect(left, y + 14, x + width - left, BAR_HEIGHT, fill=HUGE, class_="huge"))
    bound = node.bound_small_kib / total
    if bound > 0:
        fill = RED if over else BOUND
        parts.append(
            _rect(x, y + 14, width * min(bound, 1.0), BAR_HEIGHT, fill=fill, class_="bound")
        )
    parts.extend(_free_line(node.free_kib, total, x, y, width))
    return _group({"class": "memory"}, parts)


def _free_line(free: int | None, total: int, x: int, y: int, width: int) -> list[str]:
    if free is None or free <= 0:
        return []
    share = width * min(free / total, 1.0)
    return [_rect(x + width - share, y + 14 + BAR_HEIGHT + 1, share, 3, fill=FREE, class_="free")]


def _pool_bar(pool: PoolView, x: int, y: int, width: int) -> str:
    over = pool.short
    size = _size(pool.size_kib)
    if pool.count:
        label = f"{size} pages: guests use {pool.used_by_guests} of {pool.count}"
    else:
        label = f"{size} pages: none allocated" + (
            f", guests need {pool.used_by_guests}" if pool.used_by_guests else ""
        )
    label += f" · free {pool.free}" if pool.free is not None else ""
    used = pool.used_by_guests / pool.count if pool.count else (1.0 if over else 0.0)
    parts = _bar("pool", label, x, y, width, [("used", used, RED if over else BOUND)])
    parts.extend(_free_line(pool.free, max(pool.count, 1), x, y, width))
    attrs = {"class": "pool", "data-size-kib": pool.size_kib}
    return _group({**attrs, "data-overcommitted": "true" if over else None}, parts)


def _cell_label(guest: GuestView, cell: CellPlacementView) -> str:
    if cell.cell_id is None:
        label = f"{guest.name} · {_size(cell.memory_kib)} · {_no_cells(guest)}"
    else:
        vcpus = f"vCPUs {cell.vcpus}" if cell.vcpus else "memory only"
        label = f"{guest.name} cell {cell.cell_id} · {_size(cell.memory_kib)} · {vcpus}"
    if cell.shared_with:
        label += " · also nodes " + ",".join(map(str, cell.shared_with))
    return label


def _no_cells(guest: GuestView) -> str:
    """A guest without NUMA cells: its memory is one binding, its vCPUs float or are pinned."""
    if guest.dedicated == 0:
        return "no cells, vCPUs float"
    if guest.dedicated >= guest.vcpus:
        return "no cells, vCPUs pinned"
    return f"no cells, {guest.dedicated} of {guest.vcpus} vCPUs pinned"


def _cell(guest: GuestView, cell_id: int | None, label: str, x: int, y: int, width: int) -> str:
    body = [
        _title(label),
        _rect(
            x,
            y + 2,
            width,
            CELL_ROW - 4,
            rx=3,
            fill=guest.colour,
            fill_opacity=0.18,
            stroke=guest.colour,
            stroke_width=1.5,
        ),
        _rect(x, y + 2, 5, CELL_ROW - 4, rx=1, fill=guest.colour),
        _text(x + 10, y + 14, _fit(label, width - 14, 10), font_size=10),
    ]
    return _group({"class": "cell", "data-guest": guest.index, "data-cell": cell_id}, body)


def _node_issues(node: NodeView, guests: Sequence[GuestView]) -> list[tuple[str, str]]:
    """Red lines under a node: CPUs pinned twice, memory and pool overcommit."""
    issues = []
    twice = [cpu for cpu in node.cpus if len(cpu.pins) > 1]
    if twice:
        owners = sorted({pin.guest for cpu in twice for pin in cpu.pins})
        names = ", ".join(guests[g].name if guests else str(g) for g in owners)
        cpus = format_cpuset({cpu.id for cpu in twice})
        issues.append(("VN501", f"CPUs {cpus} pinned twice: {names}"))
    if node.memory_short:
        bound, small = _size(node.bound_small_kib), _size(node.small_page_kib)
        issues.append(("VN502", f"guests bind {bound} of {small} small-page memory"))
    for pool in node.pools:
        if pool.short:
            used = f"{pool.used_by_guests} of {pool.count}"
            issues.append(("VN503", f"{_size(pool.size_kib)} pages: guests need {used}"))
    return issues


def _issue(code: str, message: str, x: int, y: int, width: int) -> str:
    body = _fit(f"{code} {message}", width, 10)
    return _group(
        {"class": "issue", "data-code": code},
        [_title(f"{code} {message}"), _text(x, y, body, font_size=10, fill=RED)],
    )


# --- distances, legend, problems ---------------------------------------------------------


def _bottom(view: HostView, top: int) -> tuple[str, int, int]:
    table, table_width, table_height = _distances(view, MARGIN, top)
    legend_x = MARGIN + table_width + 40
    legend, legend_width, legend_height = _legend(view, legend_x, top)
    bottom = top + max(table_height, legend_height)
    return table + "\n" + legend, legend_x + legend_width, bottom


def _distance_colour(value: int | None, low: int, high: int) -> tuple[str, str]:
    """(fill, text colour): local distance lightest, the farthest darkest."""
    if value is None:
        return "#F3F4F6", MUTED
    t = (value - low) / (high - low) if high > low else 0.0
    rgb = tuple(round(a + (b - a) * t) for a, b in zip(DIST_LOW, DIST_HIGH, strict=True))
    return "#{:02X}{:02X}{:02X}".format(*rgb), "#FFFFFF" if t > 0.55 else "#111111"


def _distances(view: HostView, x: int, y: int) -> tuple[str, int, int]:
    known = [value for row in view.distances for value in row if value is not None]
    low, high = (min(known), max(known)) if known else (0, 0)
    parts = [_text(x, y + 12, "node distances", font_weight="bold")]
    top = y + 20
    ids = [node.id for node in view.nodes]
    for j, node_id in enumerate(ids):
        cx = x + DIST_LABEL + j * DIST_CELL_W + DIST_CELL_W / 2
        parts.append(
            _text(cx, top + 12, str(node_id), font_size=10, fill=MUTED, text_anchor="middle")
        )
    for i, row in enumerate(view.distances):
        ry = top + DIST_CELL_H * (i + 1)
        parts.append(
            _text(
                x + DIST_LABEL - 6,
                ry + 12.5,
                str(ids[i]),
                font_size=10,
                fill=MUTED,
                text_anchor="end",
            )
        )
        for j, value in enumerate(row):
            parts.append(_distance_cell(value, ids[i], ids[j], x, ry, j, low, high))
    width = DIST_LABEL + DIST_CELL_W * len(ids)
    height = 20 + DIST_CELL_H * (len(ids) + 1)
    return _group({"class": "distances", "font-family": "monospace"}, parts), width, height


def _distance_cell(
    value: int | None, src: int, dst: int, x: int, y: int, column: int, low: int, high: int
) -> str:
    fill, ink = _distance_colour(value, low, high)
    cx = x + DIST_LABEL + column * DIST_CELL_W
    shown = "–" if value is None else str(value)
    rect = _tag(
        "rect",
        {
            "class": "distance",
            "data-from": src,
            "data-to": dst,
            "x": cx,
            "y": y,
            "width": DIST_CELL_W - 1,
            "height": DIST_CELL_H - 1,
            "fill": fill,
        },
        _title(f"node {src} to node {dst}: {shown}"),
    )
    label = _text(
        cx + DIST_CELL_W / 2, y + 12.5, shown, font_size=10, fill=ink, text_anchor="middle"
    )
    return rect + label


def _guest_line(guest: GuestView) -> str:
    cells = ", ".join(
        f"{cell}→" + (",".join(map(str, nodes)) if nodes else "any") for cell, nodes in guest.cells
    )
    text = f"{guest.name} · {guest.vcpus} vCPUs ({guest.dedicated} pinned) · "
    text += f"{_size(guest.memory_kib)} {guest.mode}"
    text += f" · emulator on {_cpus(guest.emulator)}" if guest.emulator else ""
    return text + (f" · cells→nodes {cells}" if cells else "")


def _cpus(ids: Sequence[int]) -> str:
    return ("CPU " if len(ids) == 1 else "CPUs ") + format_cpuset(frozenset(ids))


def _legend(view: HostView, x: int, y: int) -> tuple[str, int, int]:
    parts = [_text(x, y + 12, "legend", font_weight="bold")]
    rows: list[tuple[str, str]] = []
    for guest in view.guests:
        swatch = _rect(0, 0, 14, 14, rx=2, fill=guest.colour)
        rows.append((swatch, _guest_line(guest)))
    rows.extend(
        [
            (_rect(0, 0, 14, 14, rx=2, fill="url(#hatch)", stroke=LINE), "reserved for the host"),
            (_rect(0, 0, 14, 14, rx=2, fill="#FFFFFF", stroke=LINE), "free CPU (CPU id)"),
            (
                _rect(0, 0, 14, 14, rx=2, fill=MUTED),
                "dedicated pin in the guest colour: host CPU id on top, guest vCPU below (v0)",
            ),
            (
                _rect(1.5, 1.5, 11, 11, fill="none", stroke=MUTED, stroke_width=1.5),
                "floating vCPUs: outline in the guest colour",
            ),
            (
                _rect(0, 0, 14, 14, rx=2, fill="#FFFFFF", stroke=LINE) + _corner(14, 14, MUTED),
                "emulator threads: corner mark in the guest colour",
            ),
            (
                _rect(0, 0, 14, 14, rx=2, fill=RED),
                "red: overcommit, CPU pinned twice or a problem (rule code)",
            ),
            (_rect(0, 0, 14, 14, rx=2, fill=BOUND), "memory or pages the guests take"),
            (_rect(0, 0, 14, 14, rx=2, fill=HUGE), "memory held in huge page pools"),
            (
                _rect(0, 5.5, 14, 3, fill=FREE),
                "green line under a bar: memory or pages free when the host was captured",
            ),
        ]
    )
    width = 0
    for index, (swatch, label) in enumerate(rows):
        ry = y + 20 + index * LEGEND_ROW
        parts.append(f'<g transform="translate({x},{ry})">{swatch}</g>')
        parts.append(_text(x + 20, ry + 11, label))
        width = max(width, 20 + _text_width(label, 11))
    classes = {"class": "legend"}
    return _group(classes, parts), width, 20 + LEGEND_ROW * len(rows)


def _problems(view: HostView, top: int, width: int) -> tuple[str, int]:
    if not view.problems:
        return _group({"class": "problems"}, []), top
    parts = [_text(MARGIN, top + 12, "problems", font_weight="bold", fill=RED)]
    y = top + 20
    for problem in view.problems:
        line = f"{problem.code} {problem.severity} {problem.path}: {problem.message}"
        attrs = {"class": "problem", "data-code": problem.code, "data-severity": problem.severity}
        body = [_title(line), _text(MARGIN, y + 11, _fit(line, width - 2 * MARGIN, 11), fill=RED)]
        parts.append(_group(attrs, body))
        y += LEGEND_ROW
    return _group({"class": "problems"}, parts), y
