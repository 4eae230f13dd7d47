"""`vnuma show` in a terminal: one line per host node with a CPU bar, wrapped to fit.

CPU bar, one character per CPU with core siblings side by side (one per core on big
nodes): `.` free, `/` reserved, `A`-`Z` a guest's dedicated vCPU, `a`-`z` a guest's
vCPUs floating over it, `+` a guest's emulator threads, `!` two guests pinned on it.
Lines longer than the terminal wrap between words (never inside a number), continuation
lines indented.
"""

from __future__ import annotations

from vnuma.cpusets import format_cpuset
from vnuma.sizes import format_kib
from vnuma.view.model import CellPlacementView, CpuView, GuestView, HostView, NodeView
from vnuma.view.terminal import terminal_width, visible_len, wrap, wrap_items

BAR_WIDTH = 40
_ANSI = ("34", "33", "32", "35", "36", "31", "93")
_RED = "\033[1;31m"
_RESET = "\033[0m"


def render_text(view: HostView, *, colour: bool = False, width: int | None = None) -> str:
    """Lines of at most ``width`` columns (default: the terminal's)."""
    width = width or terminal_width()
    title = (
        f"host {view.source} ({view.arch or 'unknown arch'}): {len(view.nodes)} nodes, "
        f"{sum(len(n.cpus) for n in view.nodes)} CPUs"
    )
    lines = wrap(title, width)
    for socket, node_ids in view.sockets:
        lines.append(f"socket {socket}" if socket is not None else "no CPUs (memory only)")
        for node_id in node_ids:
            lines.extend(_node_lines(view.node(node_id), colour, width))
    lines.extend(_legend(view, colour, width))
    for problem in view.problems:
        marker = f"{_RED}!{_RESET}" if colour else "!"
        lead = f"{marker} {problem.code} "
        text = f"{problem.path}: {problem.message}"
        lines.extend(wrap(text, width, indent=visible_len(lead), lead=lead))
    return "\n".join(lines) + "\n"


def _node_lines(node: NodeView, colour: bool, width: int) -> list[str]:
    flag = "OVER " if node.overcommitted else ""
    if flag and colour:
        flag = f"{_RED}OVER{_RESET} "
    memory = format_kib(node.memory_kib).replace(" ", "")
    if node.bound_small_kib:
        # bound against what binding may take: the node's memory less its huge page pools
        small = format_kib(node.small_page_kib).replace(" ", "")
        memory = f"{format_kib(node.bound_small_kib).replace(' ', '')}/{small} bound"
    pools = [
        f"{_short(p.size_kib)}:{p.used_by_guests}/{p.count}"
        for p in node.pools
        if p.count or p.used_by_guests
    ]
    cells = ",".join(_cell_mark(c) for c in node.cells)
    lead = f"  {node.id:>3} [{_bar(node, colour)}] "
    # continuation lines start under the memory figure, where the room allows
    indent = visible_len(lead) if width - visible_len(lead) >= 24 else 8
    items = [flag + memory, *pools, *([cells] if cells else [])]
    return wrap_items(items, width, indent=indent, lead=lead)


def _cell_mark(cell: CellPlacementView) -> str:
    """`A0`: guest A's cell 0 (`A` alone for a guest without cells)."""
    return _letter(cell.guest) + ("" if cell.cell_id is None else str(cell.cell_id))


def _short(size_kib: int) -> str:
    """2048 -> 2M, 1048576 -> 1G: page sizes in the node line."""
    return format_kib(size_kib).replace(" KiB", "K").replace(" MiB", "M").replace(" GiB", "G")


def _bar(node: NodeView, colour: bool) -> str:
    if not node.cores:
        return "-" * 8
    if len(node.cpus) <= BAR_WIDTH:
        symbols = [_symbol(cpu, colour) for cpu in node.cpus]
    else:
        symbols = [_symbol(_busiest(core), colour) for core in node.cores][:BAR_WIDTH]
    return "".join(symbols)


def _busiest(core: tuple[CpuView, ...]) -> CpuView:
    return max(
        core,
        key=lambda cpu: (
            len(cpu.pins),
            bool(cpu.floating),
            bool(cpu.emulator),
            bool(cpu.held),
            cpu.reserved,
        ),
    )


def _letter(guest: int) -> str:
    return chr(ord("A") + guest % 26)


def _symbol(cpu: CpuView, colour: bool) -> str:
    if len({pin.guest for pin in cpu.pins}) > 1:
        return f"{_RED}!{_RESET}" if colour else "!"
    if cpu.pins:
        return _paint(_letter(cpu.pins[0].guest), cpu.pins[0].guest, colour)
    if cpu.floating:
        return _paint(_letter(cpu.floating[0]).lower(), cpu.floating[0], colour)
    if cpu.emulator:
        return _paint("+", cpu.emulator[0], colour)
    if cpu.held:
        return _paint("-", cpu.held[0], colour)
    return "/" if cpu.reserved else "."


def _paint(char: str, guest: int, colour: bool) -> str:
    return f"\033[{_ANSI[guest % len(_ANSI)]}m{char}{_RESET}" if colour else char


_LEGEND = (
    ". free",
    "/ reserved",
    "! two guests on one CPU",
    "UPPER dedicated",
    "lower floating",
    "+ emulator threads",
)


def _legend(view: HostView, colour: bool, width: int) -> list[str]:
    held = any(cpu.held for node in view.nodes for cpu in node.cpus)
    items = (*_LEGEND, "- held idle (threads: isolate)") if held else _LEGEND
    lines = wrap_items(items, width, indent=len("legend: "), lead="legend: ", sep="  ")
    for g in view.guests:
        lead = f"  {_paint(_letter(g.index), g.index, colour)} "
        lines.extend(wrap_items(_guest_items(g), width, indent=4, lead=lead))
    return lines


def _guest_items(g: GuestView) -> list[str]:
    """The guest's legend line in the pieces it may wrap between."""
    items = [f"{g.name}:", f"{g.vcpus} vCPUs,", f"{format_kib(g.memory_kib)} {g.mode},"]
    items.append(f"{g.dedicated} pinned")
    if g.emulator:
        cpus = "CPU" if len(g.emulator) == 1 else "CPUs"
        items[-1] += ","
        items.append(f"emulator on {cpus} {format_cpuset(frozenset(g.emulator))}")
    cells = [f"cell {cell}->node {','.join(map(str, nodes)) or '-'}," for cell, nodes in g.cells]
    if cells:
        items[-1] += ";"
        items += [*cells[:-1], cells[-1].rstrip(",")]
    return items
