"""Codes the placement stage reports (`nodeset: auto`, `cells: N`, `cpu:`)."""

from __future__ import annotations

from vnuma.diagnostics import Severity
from vnuma.rules import declare

declare(
    "VN601",
    "placement-needs-host",
    Severity.ERROR,
    """
    The intent leaves decisions to vnuma (auto nodes, `cells: N`, pinning) but has no host.

    A host snapshot with NUMA cells is needed to decide them.

    ## What it checks
    `nodeset: auto`, `host_nodes: auto`, `cells: N`, `cpu.pinning`, `cpu.emulator` and
    `cpu.topology: auto` are decided against a host snapshot: `--host` or `host:`.

    ## Why
    Host nodes, CPUs and sibling threads differ between machines; vnuma never guesses
    them.

    ## Example
    ```yaml
    numatune: {mode: strict, nodeset: auto}     # and no host: key
    ```

    ## Fix
    Add `host: ../hosts/hv01.xml` to the intent or pass `--host`.
""",
)

declare(
    "VN602",
    "no-host-node-fits",
    Severity.ERROR,
    """
    A guest cell fits on no host node.

    ## What it checks
    For each cell to place: some host node has its memory (small pages net of huge page
    pools, free memory when the snapshot records it, minus `numatune.reserve` and the
    memory of `--occupied` guests), its huge pages, and CPUs for the pinning policy
    after `cpu.reserved`. The message says which resource is short on each node, by
    how much.

    ## Why
    A strictly bound cell that does not fit its node fails at start or is OOM-killed;
    a pinned vCPU needs a free host CPU.

    ## Example
    ```yaml
    cells:
      - {cpus: "0-7", memory: 256GiB, host_nodes: auto}   # every node has 192 GiB
    ```

    ## Fix
    Split the guest into more cells, shrink it, use `mode: preferred` (suggested when it
    would fit), or choose another host (`vnuma fit`).
""",
)

declare(
    "VN603",
    "more-cells-than-nodes",
    Severity.ERROR,
    """
    More guest cells to place than host nodes that can take one.

    ## What it checks
    Automatically placed cells go to distinct host nodes (the guest's NUMA picture
    mirrors real hardware), so there must be at least as many usable nodes as cells.

    ## Why
    Two guest cells on one host node give the guest a fake NUMA boundary: its kernel
    and applications optimise for a distance that does not exist.

    ## Example
    ```yaml
    cells: 4                      # on a 2-node host
    numatune: {nodeset: auto}
    ```

    ## Fix
    Use as many cells as the host has nodes (the hint says which count fits).
""",
)

declare(
    "VN604",
    "no-feasible-placement",
    Severity.ERROR,
    """
    Every cell fits some host node alone, but no assignment fits them all together.

    ## What it checks
    An exact search (a matching of cells onto distinct nodes) finds no assignment.

    ## Why
    Nova's placement answers such cases wrongly about 7% of the time (its fit cache);
    vnuma's answer is exact.

    ## Example
    Two 100 GiB cells with `host_nodes: auto` on a host with one 192 GiB node and one
    64 GiB node.

    ## Fix
    Follow the hint (fewer cells, preferred mode), or choose another host.
""",
)

declare(
    "VN605",
    "uneven-split",
    Severity.INFO,
    """
    `cells: N` could not split vCPUs or memory evenly.

    ## What it checks
    Reported when the automatic split gives cells different vCPU counts or memory.

    ## Why
    Uneven cells are allowed but worth knowing: the guest's NUMA nodes differ in size.

    ## Example
    ```yaml
    vcpus: 10
    cells: 4          # 3, 3, 2, 2 vCPUs
    ```

    ## Fix
    Nothing to fix if intended; otherwise pick counts that divide evenly.
""",
)

declare(
    "VN606",
    "cells-split-impossible",
    Severity.ERROR,
    """
    `cells: N` cannot be split: too few guest cores or memory units for N cells.

    ## What it checks
    Each cell gets at least one whole guest core (threads are never split across
    cells) and one memory unit (a huge page, else 1 MiB); memory is a whole number of
    units.

    ## Why
    A guest core whose threads sit in two NUMA nodes does not exist on real hardware,
    and QEMU needs each cell's memory in whole pages.

    ## Example
    ```yaml
    vcpus: 2
    cells: 4
    ```

    ## Fix
    Use fewer cells or more vCPUs/memory.
""",
)

declare(
    "VN607",
    "thread-policy-impossible",
    Severity.ERROR,
    """
    `cpu.threads: require` cannot put the guest's vCPU pairs on host sibling pairs.

    ## What it checks
    Each cell has an even number of vCPUs and its host node has that many free sibling
    threads in pairs.

    ## Why
    `require` promises the guest real SMT siblings (as Nova's `hw:cpu_thread_policy`);
    without them there is nothing honest to generate.

    ## Example
    ```yaml
    cpu: {pinning: dedicated, threads: require}    # on a host without SMT
    ```

    ## Fix
    Use `threads: prefer`, an even vCPU count per cell, or a host with SMT.
""",
)

declare(
    "VN608",
    "emulator-overlaps-vcpus",
    Severity.ERROR,
    """
    An explicit `cpu.emulator` set overlaps host CPUs given to dedicated vCPUs.

    ## What it checks
    The emulator CPU set and the dedicated vCPU pins are disjoint.

    ## Why
    QEMU's emulator and I/O threads would steal time from vCPUs that were promised a
    CPU of their own (see VN403 for the same mistake in a domain XML).

    ## Example
    ```yaml
    cpu: {pinning: dedicated, emulator: "2"}   # CPU 2 holds vCPU 0
    ```

    ## Fix
    Use `emulator: auto`, or housekeeping CPUs listed in `cpu.reserved`.
""",
)

declare(
    "VN609",
    "emulator-not-pinned",
    Severity.INFO,
    """
    No free host CPU was left for the emulator threads, so they are not pinned.

    ## What it checks
    With `emulator: auto`, a CPU of the guest's first node that no vCPU uses (a whole
    core under `threads: isolate`), else the `cpu.reserved` CPUs.

    ## Why
    Unpinned emulator threads may run on the dedicated vCPUs' CPUs.

    ## Example
    ```yaml
    cpu: {pinning: dedicated}    # the guest uses every CPU of its node
    ```

    ## Fix
    List housekeeping CPUs in `cpu.reserved`, or leave a CPU free.
""",
)
