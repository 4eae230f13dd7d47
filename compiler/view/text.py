"""`vnuma show` in a terminal: one line per host node with a CPU bar, under 100 columns.

CPU bar, one character per CPU with core siblings side by side (one per core on big
nodes): `.` free, `/` reserved, `A`-`Z` a guest's dedicated vCPU, `a`-`z` a guest's
vCPUs floating over it, `!` two guests pinned on it.
"""

from __future__ import annotations

from vnuma.sizes import format_kib
from vnuma.view.model import CpuView, HostView, NodeView

BAR_WIDTH = 40
_ANSI = ("34", "33", "32", "35", "36", "31", "93")
_RED = "\033[1;31m"
_RESET = "\033[0m"


def render_text(view: HostView, *, colour: bool = False) -> str:
    lines = [
        f"host {view.source} ({view.arch or 'unknown arch'}): {len(view.nodes)} nodes, "
        f"{sum(len(n.cpus) for n in view.nodes)} CPUs"
    ]
    for socket, node_ids in view.sockets:
        lines.append(f"socket {socket}" if socket is not None else "no CPUs (memory only)")
        lines.extend(_node_line(view.node(n), view, colour) for n in node_ids)
    lines.append(_legend(view, colour))
    for problem in view.problems:
        marker = f"{_RED}!{_RESET}" if colour else "!"
        lines.append(_fit(f"{marker} {problem.code} {problem.path}: {problem.message}"))
    return "\n".join(lines) + "\n"


def _fit(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _node_line(node: NodeView, view: HostView, colour: bool) -> str:
    flag = "OVER " if node.overcommitted else ""
    if flag and colour:
        flag = f"{_RED}OVER{_RESET} "
    memory = format_kib(node.memory_kib).replace(" ", "")
    if node.bound_small_kib:
        # bound against what binding may take: the node's memory less its huge page pools
        small = format_kib(node.small_page_kib).replace(" ", "")
        memory = f"{format_kib(node.bound_small_kib).replace(' ', '')}/{small} bound"
    pools = " ".join(
        f"{_short(p.size_kib)}:{p.used_by_guests}/{p.count}"
        for p in node.pools
        if p.count or p.used_by_guests
    )
    cells = ",".join(f"{_letter(c.guest)}{c.cell_id}" for c in node.cells)
    text = f"  {node.id:>3} [{_bar(node, colour)}] {flag}{memory}"
    text += f" {pools}" if pools else ""
    text += f" {cells}" if cells else ""
    return text if colour else _fit(text)


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
    return max(core, key=lambda cpu: (len(cpu.pins), bool(cpu.floating), cpu.reserved))


def _letter(guest: int) -> str:
    return chr(ord("A") + guest % 26)


def _symbol(cpu: CpuView, colour: bool) -> str:
    if len({pin.guest for pin in cpu.pins}) > 1:
        return f"{_RED}!{_RESET}" if colour else "!"
    if cpu.pins:
        return _paint(_letter(cpu.pins[0].guest), cpu.pins[0].guest, colour)
    if cpu.floating:
        return _paint(_letter(cpu.floating[0]).lower(), cpu.floating[0], colour)
    return "/" if cpu.reserved else "."


def _paint(char: str, guest: int, colour: bool) -> str:
    return f"\033[{_ANSI[guest % len(_ANSI)]}m{char}{_RESET}" if colour else char


def _legend(view: HostView, colour: bool) -> str:
    lines = ["legend: . free  / reserved  ! two guests on one CPU  UPPER dedicated  lower floating"]
    for g in view.guests:
        cells = ", ".join(
            f"cell {cell}->node {','.join(map(str, nodes)) or '-'}" for cell, nodes in g.cells
        )
        lines.append(
            _fit(
                f"  {_paint(_letter(g.index), g.index, colour)} {g.name}: {g.vcpus} vCPUs, "
                f"{format_kib(g.memory_kib)} {g.mode}, {g.dedicated} pinned"
                + (f"; {cells}" if cells else "")
            )
        )
    return "\n".join(lines)
