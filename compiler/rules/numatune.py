"""Consistency of the host memory policy: <numatune> memory, memnodes, placement."""

from __future__ import annotations

from collections.abc import Iterator

from vnuma import codes
from vnuma.cpusets import format_cpuset
from vnuma.model.guest import MemMode
from vnuma.rules.base import CheckContext, Finding, check


@check(codes.VN113, reads=("cells", "numatune"))
def restrictive_mode_mismatch(ctx: CheckContext) -> Iterator[Finding]:
    """`restrictive` is used in the guest-wide mode or in a cell's mode, but not in both."""
    guest = ctx.guest
    guest_restrictive = guest.memory_mode is MemMode.RESTRICTIVE
    for cell in guest.cells:
        if cell.host_nodes is None:
            continue
        cell_restrictive = guest.cell_mode(cell) is MemMode.RESTRICTIVE
        if guest_restrictive and not cell_restrictive:
            yield Finding(
                f"cell {cell.id} uses mode {guest.cell_mode(cell)} but numatune mode is "
                "restrictive",
                (*cell.path, "mode"),
                hint="libvirt: \"'restrictive' mode is required in memnode element when mode is "
                "'restrictive' in memory element\"; set the cell's mode to restrictive",
            )
        elif cell_restrictive and not guest_restrictive:
            yield Finding(
                f"cell {cell.id} uses mode restrictive but numatune mode is {guest.memory_mode}",
                (*cell.path, "mode"),
                hint="libvirt: \"'restrictive' mode is required in memory element when mode is "
                "'restrictive' in memnode element\"; set numatune.mode: restrictive",
            )


@check(codes.VN114, reads=("cells", "numatune"))
def binding_with_auto_placement(ctx: CheckContext) -> Iterator[Finding]:
    """Cells are bound to host nodes while numatune placement is auto."""
    if not ctx.guest.auto_placement:
        return
    for cell in ctx.guest.cells:
        if cell.host_nodes is not None:
            yield Finding(
                f"cell {cell.id} binds host nodes but numatune placement is auto",
                (*cell.path, "host_nodes"),
                hint='libvirt: "Per-node binding is not compatible with automatic NUMA placement."; '
                "remove host_nodes or use a static nodeset",
            )


@check(codes.VN115, reads=("cells", "numatune"))
def preferred_multiple_nodes(ctx: CheckContext) -> Iterator[Finding]:
    """`preferred` names several host nodes."""
    guest = ctx.guest
    hint = (
        "multi-node preferred needs Linux >= 5.15, QEMU >= 8.0 and libvirt >= 9.0, else "
        "only the first node is used; prefer one node or use interleave"
    )
    inherited = False  # a cell without its own memnode takes the guest-wide nodeset
    for binding in guest.bindings():
        inherited |= binding.cell is not None and binding.cell.host_nodes is None
        if binding.mode is MemMode.PREFERRED and len(binding.nodes) > 1:
            yield Finding(
                f"{binding.label} prefers {len(binding.nodes)} host nodes "
                f"({format_cpuset(binding.nodes)})",
                binding.path,
                hint=hint,
            )
    # The guest-wide <memory> next to a memnode for every cell is no binding of guest
    # memory, but libvirt still sets it as QEMU's own policy at start, and refuses it
    # there ("NUMA memory tuning in 'preferred' mode only supports single node").
    numatune, nodes = guest.numatune, guest.effective_nodeset
    if (
        guest.cells
        and not inherited
        and numatune is not None
        and numatune.guest_wide
        and not guest.auto_placement
        and guest.memory_mode is MemMode.PREFERRED
        and nodes is not None
        and len(nodes) > 1
    ):
        yield Finding(
            f"the guest-wide <memory> beside the cells' memnodes prefers {len(nodes)} host "
            f'nodes ({format_cpuset(nodes)}): libvirt < 9.0 refuses it at start ("NUMA '
            "memory tuning in 'preferred' mode only supports single node\")",
            ("numatune", "nodeset"),
            hint=hint + ", or drop the guest-wide <memory> (the memnodes suffice)",
        )


@check(codes.VN116, reads=("numatune",))
def nodeset_with_auto_placement(ctx: CheckContext) -> Iterator[Finding]:
    """`numatune` has both a nodeset and `placement: auto`."""
    numatune = ctx.guest.numatune
    if numatune is not None and ctx.guest.auto_placement and numatune.nodeset is not None:
        yield Finding(
            "numatune has both a nodeset and placement auto: libvirt drops the nodeset",
            ("numatune", "nodeset"),
            hint="keep one of them: a static nodeset, or placement auto",
            severity=ctx.guest.language.rewrite_severity,
        )


@check(codes.VN117, reads=("cells", "numatune"))
def cell_binding_outside_nodeset(ctx: CheckContext) -> Iterator[Finding]:
    """A cell binds host nodes outside the explicit numatune nodeset."""
    numatune = ctx.guest.numatune
    if numatune is None or numatune.nodeset is None or ctx.guest.auto_placement:
        return
    for cell in ctx.guest.cells:
        if cell.host_nodes and not cell.host_nodes <= numatune.nodeset:
            outside = cell.host_nodes - numatune.nodeset
            yield Finding(
                f"cell {cell.id} binds host node(s) {format_cpuset(outside)} outside "
                f"numatune nodeset {format_cpuset(numatune.nodeset)}",
                (*cell.path, "host_nodes"),
                hint=f"add them to numatune.nodeset ({format_cpuset(numatune.nodeset | outside)}) or "
                "omit the nodeset",
            )


@check(codes.VN118, reads=("numatune",))
def numatune_without_nodeset(ctx: CheckContext) -> Iterator[Finding]:
    """`numatune` has static placement but no host nodes to bind to."""
    guest = ctx.guest
    if (
        guest.numatune is not None
        and guest.numatune.guest_wide
        and not guest.auto_placement
        and guest.effective_nodeset is None
    ):
        yield Finding(
            "numatune has static placement but no nodeset",
            ("numatune",),
            hint="libvirt: \"nodeset for NUMA memory tuning must be set if 'placement' is 'static'\"; "
            "give it a nodeset (an intent may bind its cells to host nodes instead), or use "
            "placement auto",
        )


@check(codes.VN119, reads=("cells", "numatune"))
def cell_mode_without_host_nodes(ctx: CheckContext) -> Iterator[Finding]:
    """A cell sets a memory `mode` but no `host_nodes`."""
    for cell in ctx.guest.cells:
        if cell.mode is not None and cell.host_nodes is None:
            yield Finding(
                f"cell {cell.id} sets memory mode {cell.mode} but no host nodes",
                (*cell.path, "mode"),
                hint='libvirt: "Missing required nodeset attribute in memnode element"; '
                "add host_nodes or drop mode",
            )


@check(codes.VN122, reads=("numatune",))
def auto_placement_needs_numad(ctx: CheckContext) -> Iterator[Finding]:
    """Automatic NUMA placement asks numad for the host nodes when the guest starts."""
    if ctx.guest.auto_placement:
        yield Finding(
            "placement auto: libvirt asks numad for the host nodes at start",
            ("numatune", "placement"),  # else <numatune> or <vcpu placement>, as located
            hint='install and run numad on the host, or libvirt fails at start with "Failed to '
            'query numad for the advisory nodeset"; or bind a static nodeset',
        )


CHECKS = (
    restrictive_mode_mismatch,
    binding_with_auto_placement,
    preferred_multiple_nodes,
    nodeset_with_auto_placement,
    cell_binding_outside_nodeset,
    numatune_without_nodeset,
    cell_mode_without_host_nodes,
    auto_placement_needs_numad,
)
