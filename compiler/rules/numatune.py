"""Consistency of the host memory policy: <numatune> memory, memnodes, placement."""

from __future__ import annotations

from collections.abc import Iterator

from vnuma.cpusets import format_cpuset
from vnuma.diagnostics import Severity
from vnuma.model.intent import MemMode
from vnuma.rules import Finding, rule
from vnuma.rules.check import CheckContext


@rule("VN113", "restrictive-mode-mismatch", Severity.ERROR)
def restrictive_mode_mismatch(ctx: CheckContext) -> Iterator[Finding]:
    """`restrictive` is used in the guest-wide mode or in a cell's mode, but not in both.

    ## What it checks
    If `numatune.mode` is restrictive, every bound cell's mode is restrictive, and
    a cell can be restrictive only when `numatune.mode` is.

    ## Why
    libvirt: "'restrictive' mode is required in memnode element when mode is
    'restrictive' in memory element" (and the reverse since 9.4.0). Restrictive binds
    through cgroups only, which cannot be mixed with mbind-based policies per cell.

    ## Example
    ```yaml
    numatune: {mode: restrictive, nodeset: "0-1"}
    cells:
      - {cpus: "0-7", memory: 8GiB, host_nodes: "0", mode: strict}
    ```

    ## Fix
    Use restrictive everywhere, or nowhere.
    """
    intent = ctx.intent
    guest_restrictive = intent.memory_mode is MemMode.RESTRICTIVE
    for cell in intent.cells:
        if cell.host_nodes is None:
            continue
        cell_restrictive = intent.cell_mode(cell) is MemMode.RESTRICTIVE
        if guest_restrictive and not cell_restrictive:
            yield Finding(
                "VN113",
                f"cell {cell.id} uses mode {intent.cell_mode(cell)} but numatune mode is "
                "restrictive",
                (*cell.path, "mode"),
                hint="libvirt: \"'restrictive' mode is required in memnode element when mode is "
                "'restrictive' in memory element\"; set the cell's mode to restrictive",
            )
        elif cell_restrictive and not guest_restrictive:
            yield Finding(
                "VN113",
                f"cell {cell.id} uses mode restrictive but numatune mode is {intent.memory_mode}",
                (*cell.path, "mode"),
                hint="libvirt: \"'restrictive' mode is required in memory element when mode is "
                "'restrictive' in memnode element\"; set numatune.mode: restrictive",
            )


@rule("VN114", "binding-with-auto-placement", Severity.ERROR)
def binding_with_auto_placement(ctx: CheckContext) -> Iterator[Finding]:
    """Cells are bound to host nodes while numatune placement is auto.

    ## What it checks
    No cell has `host_nodes` (a `<memnode>`) when `numatune.placement` is auto.

    ## Why
    libvirt: "Per-node binding is not compatible with automatic NUMA placement."
    numad chooses the nodes at start, so fixed per-cell nodes cannot be honoured.

    ## Example
    ```yaml
    numatune: {placement: auto}
    cells:
      - {cpus: "0-7", memory: 8GiB, host_nodes: "0"}
    ```

    ## Fix
    Drop the cells' host_nodes, or use a static nodeset instead of placement: auto.
    """
    if not ctx.intent.auto_placement:
        return
    for cell in ctx.intent.cells:
        if cell.host_nodes is not None:
            yield Finding(
                "VN114",
                f"cell {cell.id} binds host nodes but numatune placement is auto",
                (*cell.path, "host_nodes"),
                hint='libvirt: "Per-node binding is not compatible with automatic NUMA placement."; '
                "remove host_nodes or use a static nodeset",
            )


@rule("VN115", "preferred-multiple-nodes", Severity.WARNING)
def preferred_multiple_nodes(ctx: CheckContext) -> Iterator[Finding]:
    """`preferred` names several host nodes.

    ## What it checks
    A preferred binding (guest-wide or per cell) has exactly one host node.

    ## Why
    Several preferred nodes need MPOL_PREFERRED_MANY: Linux >= 5.15, a libnuma with
    numa_set_preferred_many, QEMU >= 8.0 and libvirt >= 9.0. Elsewhere only the first
    node is used (or libvirt fails: "NUMA memory tuning in 'preferred' mode only
    supports single node"). oVirt refuses it for the same reason.

    ## Example
    ```yaml
    numatune: {mode: preferred, nodeset: "0-1"}
    ```

    ## Fix
    Prefer one node, or use interleave to spread memory over several.
    """
    intent = ctx.intent
    for binding in intent.bindings():
        if binding.mode is MemMode.PREFERRED and len(binding.nodes) > 1:
            yield Finding(
                "VN115",
                f"{binding.label} prefers {len(binding.nodes)} host nodes "
                f"({format_cpuset(binding.nodes)})",
                binding.path,
                hint="multi-node preferred needs Linux >= 5.15, QEMU >= 8.0 and libvirt >= 9.0, else "
                "only the first node is used; prefer one node or use interleave",
            )


@rule("VN116", "nodeset-with-auto-placement", Severity.ERROR)
def nodeset_with_auto_placement(ctx: CheckContext) -> Iterator[Finding]:
    """`numatune` has both a nodeset and `placement: auto`.

    ## What it checks
    `nodeset` and `placement: auto` are not given together.

    ## Why
    libvirt's schema forbids it and its parser silently drops the nodeset: the guest
    would not be bound where the file says.

    ## Example
    ```yaml
    numatune: {placement: auto, nodeset: "0"}
    ```

    In a domain XML this is a warning: libvirt's parser accepts it (only the schema
    refuses it) and drops the nodeset.

    ## Fix
    Keep one: a static nodeset, or placement: auto.
    """
    numatune = ctx.intent.numatune
    if numatune is not None and ctx.intent.auto_placement and numatune.nodeset is not None:
        yield Finding(
            "VN116",
            "numatune has both a nodeset and placement: auto"
            + (": libvirt drops the nodeset" if ctx.intent.is_domain else ""),
            ("numatune", "nodeset"),
            hint="libvirt drops the nodeset when placement is auto; remove one of them",
            severity=Severity.WARNING if ctx.intent.is_domain else None,
        )


@rule("VN117", "cell-binding-outside-nodeset", Severity.WARNING)
def cell_binding_outside_nodeset(ctx: CheckContext) -> Iterator[Finding]:
    """A cell binds host nodes outside the explicit numatune nodeset.

    ## What it checks
    Each cell's `host_nodes` is within `numatune.nodeset` when a nodeset is given.

    ## Why
    libvirt does not refuse it: it widens the cgroup memory nodes of the emulator and
    vCPU threads to the union, so the guest uses nodes the nodeset was meant to exclude.

    ## Example
    ```yaml
    numatune: {mode: strict, nodeset: "0"}
    cells:
      - {cpus: "0-7", memory: 8GiB, host_nodes: "1"}
    ```

    ## Fix
    Add the cell's nodes to the nodeset, or omit the nodeset (vnuma then uses the union).
    """
    numatune = ctx.intent.numatune
    if numatune is None or numatune.nodeset is None or ctx.intent.auto_placement:
        return
    for cell in ctx.intent.cells:
        if cell.host_nodes and not cell.host_nodes <= numatune.nodeset:
            outside = cell.host_nodes - numatune.nodeset
            yield Finding(
                "VN117",
                f"cell {cell.id} binds host node(s) {format_cpuset(outside)} outside "
                f"numatune nodeset {format_cpuset(numatune.nodeset)}",
                (*cell.path, "host_nodes"),
                hint=f"add them to numatune.nodeset ({format_cpuset(numatune.nodeset | outside)}) or "
                "omit the nodeset",
            )


@rule("VN118", "numatune-without-nodeset", Severity.ERROR)
def numatune_without_nodeset(ctx: CheckContext) -> Iterator[Finding]:
    """`numatune` has static placement but no host nodes to bind to.

    ## What it checks
    A `numatune` block gives a nodeset, `placement: auto`, or cells with `host_nodes`.

    ## Why
    libvirt: "nodeset for NUMA memory tuning must be set if 'placement' is 'static'".

    ## Example
    ```yaml
    numatune: {mode: strict}
    ```

    ## Fix
    Add `nodeset`, bind the cells with `host_nodes`, or use `placement: auto`.
    """
    intent = ctx.intent
    if (
        intent.numatune is not None
        and intent.numatune.guest_wide
        and not intent.unresolved
        and not intent.auto_placement
        and intent.effective_nodeset is None
    ):
        yield Finding(
            "VN118",
            "<numatune><memory> has static placement but no nodeset"
            if intent.is_domain
            else "numatune has no nodeset and no cell binds host_nodes",
            ("numatune",),
            hint="libvirt: \"nodeset for NUMA memory tuning must be set if 'placement' is 'static'\"; "
            'add nodeset: "0" (for example) or placement: auto',
        )


@rule("VN119", "cell-mode-without-host-nodes", Severity.ERROR)
def cell_mode_without_host_nodes(ctx: CheckContext) -> Iterator[Finding]:
    """A cell sets a memory `mode` but no `host_nodes`.

    ## What it checks
    A cell's `mode` comes with `host_nodes`.

    ## Why
    A per-cell mode becomes `<memnode mode=... nodeset=...>`, which needs a nodeset:
    libvirt: "Missing required nodeset attribute in memnode element".

    ## Example
    ```yaml
    cells:
      - {cpus: "0-7", memory: 8GiB, mode: interleave}
    ```

    ## Fix
    Add `host_nodes` to the cell, or drop its `mode`.
    """
    for cell in ctx.intent.cells:
        if cell.mode is not None and cell.host_nodes is None and not cell.host_nodes_auto:
            yield Finding(
                "VN119",
                f"the memnode for cell {cell.id} has no nodeset"
                if ctx.intent.is_domain
                else f"cell {cell.id} sets mode {cell.mode} but no host_nodes",
                (*cell.path, "mode"),
                hint='libvirt: "Missing required nodeset attribute in memnode element"; '
                "add host_nodes or drop mode",
            )
