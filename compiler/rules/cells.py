"""Internal consistency of the guest's virtual NUMA cells: ids, vCPUs, memory, distances."""

from __future__ import annotations

from collections.abc import Iterator

from vnuma.cpusets import format_cpuset
from vnuma.diagnostics import Severity
from vnuma.model.intent import Intent
from vnuma.rules import Finding, rule
from vnuma.rules.check import CheckContext
from vnuma.sizes import format_kib

LOCAL_DISTANCE = 10
LIBVIRT_DEFAULT_REMOTE_DISTANCE = 20


@rule("VN101", "cell-ids-not-contiguous", Severity.ERROR)
def cell_ids_contiguous(ctx: CheckContext) -> Iterator[Finding]:
    """Guest cell ids must be exactly 0..n-1.

    ## What it checks
    With n cells, every explicit `id` must be below n (ids default to the cell's position).

    ## Why
    libvirt refuses the domain at define time: "Exactly one 'cell' element per guest
    NUMA cell allowed, non-contiguous ranges or ranges not starting from 0 are not
    allowed". QEMU likewise fails with "numa: Node ID missing".

    ## Example
    ```yaml
    cells:
      - {id: 1, cpus: "0-3", memory: 8GiB}
      - {id: 2, cpus: "4-7", memory: 8GiB}
    ```

    ## Fix
    Number the cells 0..n-1, or drop `id` and let the position decide.
    """
    count = len(ctx.intent.cells)
    for cell in ctx.intent.cells:
        if cell.id >= count:
            yield Finding(
                "VN101",
                f"cell id {cell.id} is out of range for {count} cells (ids must be 0..{count - 1})",
                (*cell.path, "id"),
                hint="libvirt: \"Exactly one 'cell' element per guest NUMA cell allowed, non-contiguous "
                'ranges or ranges not starting from 0 are not allowed"; number cells 0..n-1',
            )


@rule("VN102", "cell-id-duplicate", Severity.ERROR)
def cell_id_duplicate(ctx: CheckContext) -> Iterator[Finding]:
    """Two guest cells have the same id.

    ## What it checks
    Each cell id (explicit or defaulted to the position) appears once.

    ## Why
    libvirt: "Duplicate NUMA cell info for cell id 'N'" at define time.

    ## Example
    ```yaml
    cells:
      - {cpus: "0-3", memory: 8GiB}          # id 0 by position
      - {id: 0, cpus: "4-7", memory: 8GiB}
    ```

    ## Fix
    Give each cell its own id, or drop the ids.
    """
    seen: dict[int, int] = {}
    for cell in ctx.intent.cells:
        if cell.id in seen:
            yield Finding(
                "VN102",
                f"Duplicate NUMA cell info for cell id '{cell.id}' (also cells[{seen[cell.id]}])",
                (*cell.path, "id") if cell.id != cell.index else cell.path,
                hint="give every cell a distinct id 0..n-1, or omit id to use the position",
            )
        else:
            seen[cell.id] = cell.index


@rule("VN103", "cell-vcpu-out-of-range", Severity.ERROR)
def cell_vcpu_out_of_range(ctx: CheckContext) -> Iterator[Finding]:
    """A cell names a vCPU id that the guest does not have.

    ## What it checks
    Every id in a cell's `cpus` is below `vcpus`.

    ## Why
    libvirt: "CPU IDs in <numa> exceed the <vcpu> count" at define time.

    ## Example
    ```yaml
    vcpus: 8
    cells:
      - {cpus: "0-7", memory: 8GiB}
      - {cpus: "8-15", memory: 8GiB}
    ```

    ## Fix
    Raise `vcpus`, or keep cell CPUs within 0..vcpus-1.
    """
    vcpus = ctx.intent.vcpus
    for cell in ctx.intent.cells:
        extra = {cpu for cpu in cell.cpus if cpu >= vcpus}
        if extra:
            yield Finding(
                "VN103",
                f"cell {cell.id} names vCPU(s) {format_cpuset(extra)} but the guest has "
                f"{vcpus} vCPUs (ids 0-{vcpus - 1})",
                (*cell.path, "cpus"),
                hint=f'libvirt: "CPU IDs in <numa> exceed the <vcpu> count"; raise vcpus to '
                f"{max(extra) + 1} or fix the cell's cpus",
            )


@rule("VN104", "cell-vcpu-overlap", Severity.ERROR)
def cell_vcpu_overlap(ctx: CheckContext) -> Iterator[Finding]:
    """A vCPU is in two guest cells.

    ## What it checks
    The cells' `cpus` sets are disjoint.

    ## Why
    libvirt: "NUMA cells 0 and 1 have overlapping vCPU ids" at define time.

    ## Example
    ```yaml
    cells:
      - {cpus: "0-4", memory: 8GiB}
      - {cpus: "4-7", memory: 8GiB}
    ```

    ## Fix
    Put each vCPU in exactly one cell.
    """
    cells = ctx.intent.cells
    for later in cells:
        for earlier in cells[: later.index]:
            shared = earlier.cpus & later.cpus
            if shared:
                yield Finding(
                    "VN104",
                    f"NUMA cells {earlier.id} and {later.id} have overlapping vCPU ids "
                    f"({format_cpuset(shared)})",
                    (*later.path, "cpus"),
                    hint="put every vCPU in exactly one cell",
                )


@rule("VN105", "vcpu-not-in-any-cell", Severity.ERROR)
def vcpu_not_in_any_cell(ctx: CheckContext) -> Iterator[Finding]:
    """Some vCPUs are in no guest cell.

    ## What it checks
    With cells, every vCPU id 0..vcpus-1 is in some cell.

    ## Why
    libvirt silently moves the missing vCPUs to cell 0, and QEMU warns "CPU(s) not
    present in any NUMA nodes" and says partial NUMA mappings are obsolete and will
    be removed: the guest topology ends up different from what was written.

    ## Example
    ```yaml
    vcpus: 16
    cells:
      - {cpus: "0-7", memory: 8GiB}
    ```

    In a domain XML this is a warning: libvirt accepts it and rewrites the cells.

    ## Fix
    Assign the missing vCPUs to cells, or lower `vcpus`.
    """
    if not ctx.intent.cells:
        return
    assigned = frozenset().union(*(cell.cpus for cell in ctx.intent.cells))
    missing = set(range(ctx.intent.vcpus)) - assigned
    if missing and ctx.intent.is_domain:
        yield Finding(
            "VN105",
            f"vCPU(s) {format_cpuset(missing)} are in no cell: libvirt moves them to cell 0",
            ("cells",),
            hint="add them to a cell's cpus so the definition says what the guest gets",
            severity=Severity.WARNING,
        )
    elif missing:
        yield Finding(
            "VN105",
            f"vCPU(s) {format_cpuset(missing)} are in no cell",
            ("cells",),
            hint="libvirt would move them to cell 0 silently; add them to a cell's cpus",
        )


@rule("VN106", "cell-memory-sum-mismatch", Severity.ERROR)
def cell_memory_sum(ctx: CheckContext) -> Iterator[Finding]:
    """The cells' memory does not add up to the guest's memory.

    ## What it checks
    The sum of the cells' `memory` equals `memory` exactly.

    ## Why
    libvirt recomputes `<memory>` from the cells on define, silently changing the
    guest's size; QEMU requires "total memory for NUMA nodes ... should equal RAM size".
    oVirt accepts less, which is how guests end up smaller than planned.

    ## Example
    ```yaml
    memory: 64GiB
    cells:
      - {cpus: "0-7", memory: 32GiB}
      - {cpus: "8-15", memory: 16GiB}
    ```

    In a domain XML, `<memory>` is compared with the cells plus the memory devices
    (libvirt's formula), and a mismatch is a warning: libvirt overwrites `<memory>`.

    ## Fix
    Make the cells add up to `memory`, or change `memory` to their sum.
    """
    intent = ctx.intent
    if not intent.cells:
        return
    total = sum(cell.memory_kib for cell in intent.cells)
    if intent.is_domain:
        yield from _domain_memory_sum(intent, total)
    elif total != intent.memory_kib:
        yield Finding(
            "VN106",
            f"cells hold {format_kib(total)} but memory is {format_kib(intent.memory_kib)}",
            ("memory",),
            hint=f"set memory to {format_kib(total).replace(' ', '')} or resize the cells "
            "(libvirt would silently recompute <memory> from the cells)",
        )


def _exact_kib(kib: int) -> str:
    return f"{kib} KiB"


def _domain_memory_sum(intent: Intent, cells_kib: int) -> Iterator[Finding]:
    devices = sum(d.size_kib or 0 for d in intent.domain.memory_devices)
    expected = cells_kib + devices
    if not intent.domain.memory_given or expected == intent.memory_kib:
        return
    size = format_kib if format_kib(expected) != format_kib(intent.memory_kib) else _exact_kib
    with_devices = f" plus {size(devices)} of memory devices" if devices else ""
    yield Finding(
        "VN106",
        f"<memory> is {size(intent.memory_kib)} but the cells hold {size(cells_kib)}"
        f"{with_devices}: libvirt replaces <memory> with {size(expected)}",
        ("memory",),
        hint=f"set <memory unit='KiB'>{expected}</memory>, or resize the cells",
        severity=Severity.WARNING,
    )


@rule("VN107", "cell-memory-zero", Severity.ERROR)
def cell_memory_zero(ctx: CheckContext) -> Iterator[Finding]:
    """A guest cell has no memory.

    ## What it checks
    Every cell's memory is above zero.

    ## Why
    QEMU refuses a zero-sized memory backend: "can't create backend with size 0".

    ## Example
    ```yaml
    cells:
      - {cpus: "0-3", memory: 0GiB}
    ```

    ## Fix
    Give the cell memory, or merge its vCPUs into another cell.
    """
    for cell in ctx.intent.cells:
        if cell.memory_kib == 0:
            yield Finding(
                "VN107",
                f"cell {cell.id} has no memory",
                (*cell.path, "memory"),
                hint='QEMU: "can\'t create backend with size 0"; give the cell memory',
            )


@rule("VN108", "more-cells-than-vcpus", Severity.WARNING)
def more_cells_than_vcpus(ctx: CheckContext) -> Iterator[Finding]:
    """The guest has more NUMA cells than vCPUs.

    ## What it checks
    The number of cells does not exceed `vcpus`.

    ## Why
    Some cells must then be CPU-less (memory-only). That is legitimate (libvirt >= 6.6,
    e.g. to model CXL memory), but more often a sizing slip; oVirt refuses it outright.

    ## Example
    ```yaml
    vcpus: 2
    cells:
      - {cpus: "0", memory: 4GiB}
      - {cpus: "1", memory: 4GiB}
      - {memory: 4GiB}
    ```

    ## Fix
    Use fewer cells, or keep the memory-only cell on purpose and ignore this warning.
    """
    count = len(ctx.intent.cells)
    if count > ctx.intent.vcpus:
        yield Finding(
            "VN108",
            f"{count} NUMA cells but only {ctx.intent.vcpus} vCPUs: "
            f"{count - ctx.intent.vcpus} cell(s) cannot have CPUs",
            ("cells",),
            hint="memory-only cells need libvirt >= 6.6.0; otherwise use fewer cells",
        )


@rule("VN109", "distance-invalid", Severity.ERROR)
def distance_invalid(ctx: CheckContext) -> Iterator[Finding]:
    """A guest distance value is out of range, local distance is not 10, or a remote one is 10.

    ## What it checks
    Distances are 10..255; a cell's distance to itself is 10; to another cell it is above 10.

    ## Why
    libvirt: "'value N' is invalid for 'sibling id M' under NUMA 'cell id K'" at define time.

    ## Example
    ```yaml
    cells:
      - {cpus: "0-3", memory: 8GiB, distances: {0: 10, 1: 10}}
    ```

    ## Fix
    Use 10 for the cell itself and 11..255 for others (21 is typical for another socket).
    """
    for cell in ctx.intent.cells:
        for target, value in sorted(cell.distances.items()):
            local = target == cell.id
            bad = (
                not 10 <= value <= 255
                or (local and value != LOCAL_DISTANCE)
                or (not local and value == LOCAL_DISTANCE)
            )
            if bad:
                want = "10 (the local distance)" if local else "11..255"
                yield Finding(
                    "VN109",
                    f"'value {value}' is invalid for 'sibling id {target}' under NUMA "
                    f"'cell id {cell.id}'",
                    (*cell.path, "distances", str(target)),
                    hint=f"use {want}",
                )


@rule("VN110", "distance-asymmetric", Severity.WARNING)
def distance_asymmetric(ctx: CheckContext) -> Iterator[Finding]:
    """Two cells give different distances to each other.

    ## What it checks
    If cell A says its distance to B is x and B says its distance to A is y, x == y.

    ## Why
    Real SLIT tables are symmetric; guest kernels and schedulers assume it. QEMU accepts
    asymmetric pairs only when every pair is given in both directions.

    ## Example
    ```yaml
    cells:
      - {cpus: "0-3", memory: 8GiB, distances: {1: 21}}
      - {cpus: "4-7", memory: 8GiB, distances: {0: 31}}
    ```

    ## Fix
    Give the same value in both directions (or only one; vnuma mirrors it).
    """
    by_id = {cell.id: cell for cell in ctx.intent.cells}
    for cell in ctx.intent.cells:
        for target, value in sorted(cell.distances.items()):
            other = by_id.get(target)
            if other is None or target <= cell.id or cell.id not in other.distances:
                continue
            back = other.distances[cell.id]
            if back != value:
                yield Finding(
                    "VN110",
                    f"distance from cell {cell.id} to {target} is {value} but from {target} "
                    f"to {cell.id} is {back}",
                    (*cell.path, "distances", str(target)),
                    hint="use one value for both directions",
                )


@rule("VN111", "distance-incomplete", Severity.WARNING)
def distance_incomplete(ctx: CheckContext) -> Iterator[Finding]:
    """Distances are given for some pairs of cells but not all.

    ## What it checks
    Once any distance is given, every pair of cells has one (in either direction).

    ## Why
    libvirt fills a missing pair with 20 without saying so; the guest then sees a
    topology nobody wrote down.

    ## Example
    ```yaml
    cells:
      - {cpus: "0-3", memory: 8GiB, distances: {1: 12}}
      - {cpus: "4-7", memory: 8GiB}
      - {cpus: "8-11", memory: 8GiB}
    ```

    ## Fix
    Give a distance for every pair (here 0-2 and 1-2).
    """
    cells = ctx.intent.cells
    if not any(cell.distances for cell in cells):
        return
    by_id = {cell.id: cell for cell in cells}
    for cell in cells:
        for other_id in sorted(by_id):
            other = by_id[other_id]
            if other_id <= cell.id or other_id in cell.distances or cell.id in other.distances:
                continue
            yield Finding(
                "VN111",
                f"no distance between cells {cell.id} and {other_id}; libvirt uses "
                f"{LIBVIRT_DEFAULT_REMOTE_DISTANCE}",
                (*cell.path, "distances") if cell.distances else cell.path,
                hint=f"add `{other_id}: <value>` to cell {cell.id}'s distances",
            )


@rule("VN112", "distance-unknown-cell", Severity.ERROR)
def distance_unknown_cell(ctx: CheckContext) -> Iterator[Finding]:
    """A distance names a guest cell that does not exist.

    ## What it checks
    Every key of a cell's `distances` is an existing cell id.

    ## Why
    libvirt: "'sibling_id N' does not refer to a valid cell within NUMA 'cell id M'".

    ## Example
    ```yaml
    cells:
      - {cpus: "0-3", memory: 8GiB, distances: {2: 21}}
      - {cpus: "4-7", memory: 8GiB}
    ```

    ## Fix
    Use ids of existing cells (0..n-1).
    """
    ids = {cell.id for cell in ctx.intent.cells}
    for cell in ctx.intent.cells:
        for target in sorted(cell.distances):
            if target not in ids:
                yield Finding(
                    "VN112",
                    f"'sibling_id {target}' does not refer to a valid cell within NUMA "
                    f"'cell id {cell.id}'",
                    (*cell.path, "distances", str(target)),
                    hint=f"guest cells are {format_cpuset(ids)}",
                )


@rule("VN120", "memory-not-hugepage-multiple", Severity.ERROR)
def memory_not_hugepage_multiple(ctx: CheckContext) -> Iterator[Finding]:
    """Guest memory (each cell's, or the total without cells) is not a multiple of the huge page size.

    ## What it checks
    With `hugepages`, every cell's memory (or `memory` when there are no cells) is a
    whole number of pages.

    ## Why
    Each cell becomes a hugetlbfs-backed memory backend. QEMU refuses a backend
    smaller than one page at start ("memory size 0x30000000 must be equal to or larger
    than page size 0x40000000"), recent QEMU refuses any size that is not a multiple of
    the page ("memory size must be multiple of 1 GiB"), and older QEMU rounds it up,
    taking more huge pages than planned. libvirt does not check it.

    ## Example
    ```yaml
    hugepages: {size: 1GiB}
    cells:
      - {cpus: "0-3", memory: 1536MiB}
    ```

    ## Fix
    Round the cell's memory to a multiple of the page size (here 1GiB or 2GiB).
    """
    intent = ctx.intent
    parts = [(c.memory_kib, (*c.path, "memory"), f"cell {c.id}", c) for c in intent.cells] or [
        (intent.memory_kib, ("memory",), "guest memory", None)
    ]
    for memory, path, label, cell in parts:
        pages = intent.page_size_of(cell)
        if pages is None or pages.size_kib == 0 or memory % pages.size_kib == 0:
            continue
        size = pages.size_kib
        down, up = memory // size * size, -(-memory // size) * size
        options = " or ".join(format_kib(v).replace(" ", "") for v in (down, up) if v)
        yield Finding(
            "VN120",
            f"{label} ({format_kib(memory)}) is not a multiple of the "
            f"{format_kib(size)} huge page size",
            path,
            hint=f'QEMU: "memory size must be multiple of {format_kib(size)}"; use {options}',
        )


# virMemoryMaxValue(): the largest size libvirt accepts, in KiB (LLONG_MAX bytes).
LIBVIRT_MAX_MEMORY_KIB = (2**63 - 1) // 1024
CELL_ALIGNMENT_KIB = 1024


@rule("VN121", "cell-memory-overflow", Severity.ERROR)
def cell_memory_overflow(ctx: CheckContext) -> Iterator[Finding]:
    """A guest cell is so large that libvirt's 1 MiB alignment overflows its size limit.

    ## What it checks
    Each cell's memory, rounded up to a whole MiB, is at most 8 EiB - 1 KiB
    (libvirt's limit for any memory size, LLONG_MAX bytes).

    ## Why
    libvirt aligns every cell to 1 MiB when the guest starts and fails with
    "memory size of NUMA node 'N' overflowed after alignment"; a size that large is
    a typo or a unit mistake.

    ## Example
    ```xml
    <cell id='0' cpus='0-1' memory='9007199254740991' unit='KiB'/>
    ```

    ## Fix
    Check the size and unit of the cell.
    """
    for cell in ctx.intent.cells:
        aligned = -(-cell.memory_kib // CELL_ALIGNMENT_KIB) * CELL_ALIGNMENT_KIB
        if aligned > LIBVIRT_MAX_MEMORY_KIB:
            yield Finding(
                "VN121",
                f"cell {cell.id} memory {format_kib(cell.memory_kib)} exceeds libvirt's limit "
                "once aligned to 1 MiB",
                (*cell.path, "memory"),
                hint=f"libvirt: \"memory size of NUMA node '{cell.id}' overflowed after alignment\"; "
                "check the size and unit",
            )
