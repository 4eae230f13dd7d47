"""Internal consistency of the guest's virtual NUMA cells: ids, vCPUs, memory, distances."""

from __future__ import annotations

from collections.abc import Iterator

from vnuma import codes
from vnuma.cpusets import format_cpuset, format_run
from vnuma.diagnostics import JsonPath
from vnuma.model.guest import GuestCell
from vnuma.rules.base import CheckContext, Finding, check
from vnuma.sizes import format_kib

LOCAL_DISTANCE = 10
LIBVIRT_DEFAULT_REMOTE_DISTANCE = 20


@check(codes.VN101, reads=("cells",))
def cell_ids_contiguous(ctx: CheckContext) -> Iterator[Finding]:
    """Guest cell ids must be exactly 0..n-1."""
    count = len(ctx.guest.cells)
    for cell in ctx.guest.cells:
        if cell.id >= count:
            yield Finding(
                f"cell id {cell.id} is out of range for {count} cells (ids must be 0..{count - 1})",
                (*cell.path, "id"),
                hint="libvirt: \"Exactly one 'cell' element per guest NUMA cell allowed, non-contiguous "
                'ranges or ranges not starting from 0 are not allowed"; number cells 0..n-1',
            )


@check(codes.VN102, reads=("cells",))
def cell_id_duplicate(ctx: CheckContext) -> Iterator[Finding]:
    """Two guest cells have the same id."""
    seen: dict[int, int] = {}
    for cell in ctx.guest.cells:
        if cell.id in seen:
            yield Finding(
                f"Duplicate NUMA cell info for cell id '{cell.id}' (also cells[{seen[cell.id]}])",
                (*cell.path, "id") if cell.id != cell.index else cell.path,
                hint="give every cell a distinct id 0..n-1, or omit id to use the position",
            )
        else:
            seen[cell.id] = cell.index


@check(codes.VN103, reads=("cells", "vcpus"))
def cell_vcpu_out_of_range(ctx: CheckContext) -> Iterator[Finding]:
    """A cell names a vCPU id that the guest does not have."""
    vcpus = ctx.guest.vcpus
    for cell in ctx.guest.cells:
        extra = {cpu for cpu in cell.cpus if cpu >= vcpus}
        if extra:
            yield Finding(
                f"cell {cell.id} names vCPU(s) {format_cpuset(extra)} but the guest has "
                f"{vcpus} vCPUs (ids 0-{vcpus - 1})",
                (*cell.path, "cpus"),
                hint=f'libvirt: "CPU IDs in <numa> exceed the <vcpu> count"; raise vcpus to '
                f"{max(extra) + 1} or fix the cell's cpus",
            )


@check(codes.VN104, reads=("cells",))
def cell_vcpu_overlap(ctx: CheckContext) -> Iterator[Finding]:
    """A vCPU is in two guest cells."""
    cells = ctx.guest.cells
    for later in cells:
        for earlier in cells[: later.index]:
            shared = earlier.cpus & later.cpus
            if shared:
                yield Finding(
                    f"NUMA cells {earlier.id} and {later.id} have overlapping vCPU ids "
                    f"({format_cpuset(shared)})",
                    (*later.path, "cpus"),
                    hint="put every vCPU in exactly one cell",
                )


@check(codes.VN105, reads=("cells", "vcpus"))
def vcpu_not_in_any_cell(ctx: CheckContext) -> Iterator[Finding]:
    """Some vCPUs are in no guest cell."""
    if not ctx.guest.cells:
        return
    assigned = frozenset().union(*(cell.cpus for cell in ctx.guest.cells))
    missing = _unassigned(ctx.guest.vcpus, assigned)
    if missing:
        yield Finding(
            f"vCPU(s) {missing} are in no cell: libvirt moves them to cell 0",
            ("cells",),
            hint="add them to a cell's cpus so the definition says what the guest gets",
            severity=ctx.guest.language.rewrite_severity,
        )


def _unassigned(vcpus: int, assigned: frozenset[int]) -> str:
    """The vCPU ids below ``vcpus`` that no cell has, as a set string ("" for none).
    Cells name ids up to 16383, but a domain's `<vcpu>` can say 4294967295: the ids
    past the cells' are one range, never a set of billions."""
    below = frozenset(i for i in assigned if i < vcpus)
    last = max(below, default=-1)
    gaps = format_cpuset(frozenset(range(last + 1)) - below)
    tail = format_run(last + 1, vcpus - 1) if last + 1 < vcpus else ""
    return ",".join(part for part in (gaps, tail) if part)


@check(codes.VN106, reads=("cells", "memory", "memory_devices"))
def cell_memory_sum(ctx: CheckContext) -> Iterator[Finding]:
    """The cells' memory (and memory devices) do not add up to the guest's memory."""
    guest = ctx.guest
    if not guest.cells or not guest.domain.memory_given:
        return
    cells_kib = sum(cell.memory_kib for cell in guest.cells)
    devices = sum(d.size_kib or 0 for d in guest.domain.memory_devices)
    expected = cells_kib + devices
    if expected == guest.memory_kib:
        return
    size = format_kib if format_kib(expected) != format_kib(guest.memory_kib) else _exact_kib
    with_devices = f" plus {size(devices)} of memory devices" if devices else ""
    yield Finding(
        f"the guest's memory is {size(guest.memory_kib)} but the cells hold {size(cells_kib)}"
        f"{with_devices}: libvirt replaces <memory> with {size(expected)}",
        ("memory",),
        hint=f"set {guest.language.set_memory(expected, format_kib(expected).replace(' ', ''))}"
        ", or resize the cells",
        severity=guest.language.rewrite_severity,
    )


def _exact_kib(kib: int) -> str:
    return f"{kib} KiB"


@check(codes.VN107, reads=("cells",))
def cell_memory_zero(ctx: CheckContext) -> Iterator[Finding]:
    """A guest cell has no memory."""
    for cell in ctx.guest.cells:
        if cell.memory_kib == 0:
            yield Finding(
                f"cell {cell.id} has no memory",
                (*cell.path, "memory"),
                hint='QEMU: "can\'t create backend with size 0"; give the cell memory',
            )


@check(codes.VN108, reads=("cells", "vcpus"))
def more_cells_than_vcpus(ctx: CheckContext) -> Iterator[Finding]:
    """More guest cells are given vCPUs than the guest has vCPUs.

    Memory-only cells (no cpus) are legal and do not count, so this fires only beside
    VN103 or VN104, and adds what they cannot say: no renumbering of the cells' vCPUs
    fixes it."""
    vcpus = ctx.guest.vcpus
    with_cpus = [cell for cell in ctx.guest.cells if cell.cpus]
    if len(with_cpus) > vcpus:
        extra = len(with_cpus) - vcpus
        yield Finding(
            f"{len(with_cpus)} NUMA cells have vCPUs but the guest has only {vcpus}: "
            "no numbering gives each of them a vCPU of its own",
            ("cells",),
            hint=f"raise vcpus to {len(with_cpus)}, or drop cpus from {extra} cell(s) to make "
            "them memory-only (libvirt >= 6.6.0)",
        )


@check(codes.VN109, reads=("cells",))
def distance_invalid(ctx: CheckContext) -> Iterator[Finding]:
    """A guest distance value is out of range, local distance is not 10, or a remote one is 10."""
    for cell in ctx.guest.cells:
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
                    f"'value {value}' is invalid for 'sibling id {target}' under NUMA "
                    f"'cell id {cell.id}'",
                    (*cell.path, "distances", str(target)),
                    hint=f"use {want}",
                )


@check(codes.VN110, reads=("cells",))
def distance_asymmetric(ctx: CheckContext) -> Iterator[Finding]:
    """Two cells give different distances to each other."""
    by_id = {cell.id: cell for cell in ctx.guest.cells}
    for cell in ctx.guest.cells:
        for target, value in sorted(cell.distances.items()):
            other = by_id.get(target)
            if other is None or target <= cell.id or cell.id not in other.distances:
                continue
            back = other.distances[cell.id]
            if back != value:
                yield Finding(
                    f"distance from cell {cell.id} to {target} is {value} but from {target} "
                    f"to {cell.id} is {back}",
                    (*cell.path, "distances", str(target)),
                    hint="use one value for both directions",
                )


@check(codes.VN111, reads=("cells",))
def distance_incomplete(ctx: CheckContext) -> Iterator[Finding]:
    """Distances are given for some pairs of cells but not all."""
    cells = ctx.guest.cells
    if not any(cell.distances for cell in cells):
        return
    by_id = {cell.id: cell for cell in cells}
    for cell in cells:
        for other_id in sorted(by_id):
            other = by_id[other_id]
            if other_id <= cell.id or other_id in cell.distances or cell.id in other.distances:
                continue
            yield Finding(
                f"no distance between cells {cell.id} and {other_id}; libvirt uses "
                f"{LIBVIRT_DEFAULT_REMOTE_DISTANCE}",
                (*cell.path, "distances") if cell.distances else cell.path,
                hint=f"add `{other_id}: <value>` to cell {cell.id}'s distances",
            )


@check(codes.VN112, reads=("cells",))
def distance_unknown_cell(ctx: CheckContext) -> Iterator[Finding]:
    """A distance names a guest cell that does not exist."""
    ids = {cell.id for cell in ctx.guest.cells}
    for cell in ctx.guest.cells:
        for target in sorted(cell.distances):
            if target not in ids:
                yield Finding(
                    f"'sibling_id {target}' does not refer to a valid cell within NUMA "
                    f"'cell id {cell.id}'",
                    (*cell.path, "distances", str(target)),
                    hint=f"guest cells are {format_cpuset(ids)}",
                )


@check(codes.VN120, reads=("cells", "memory", "hugepages"))
def memory_not_hugepage_multiple(ctx: CheckContext) -> Iterator[Finding]:
    """Guest memory (each cell's, or the total without cells) is not a multiple of the huge page size."""
    guest = ctx.guest
    parts: list[tuple[int, JsonPath, str, GuestCell | None]] = [
        (c.memory_kib, (*c.path, "memory"), f"cell {c.id}", c) for c in guest.cells
    ] or [(guest.memory_kib, ("memory",), "guest memory", None)]
    for memory, path, label, cell in parts:
        pages = guest.page_size_of(cell)
        if pages is None or pages.size_kib == 0 or memory % pages.size_kib == 0:
            continue
        size = pages.size_kib
        down, up = memory // size * size, -(-memory // size) * size
        options = " or ".join(format_kib(v).replace(" ", "") for v in (down, up) if v)
        yield Finding(
            f"{label} ({format_kib(memory)}) is not a multiple of the "
            f"{format_kib(size)} huge page size",
            path,
            hint=f'QEMU: "memory size must be multiple of {format_kib(size)}"; use {options}',
        )


# virMemoryMaxValue(): the largest size libvirt accepts, in KiB (LLONG_MAX bytes).
LIBVIRT_MAX_MEMORY_KIB = (2**63 - 1) // 1024
CELL_ALIGNMENT_KIB = 1024


@check(codes.VN121, reads=("cells",))
def cell_memory_overflow(ctx: CheckContext) -> Iterator[Finding]:
    """A guest cell is so large that libvirt's 1 MiB alignment overflows its size limit."""
    for cell in ctx.guest.cells:
        aligned = -(-cell.memory_kib // CELL_ALIGNMENT_KIB) * CELL_ALIGNMENT_KIB
        if aligned > LIBVIRT_MAX_MEMORY_KIB:
            yield Finding(
                f"cell {cell.id} memory {format_kib(cell.memory_kib)} exceeds libvirt's limit "
                "once aligned to 1 MiB",
                (*cell.path, "memory"),
                hint=f"libvirt: \"memory size of NUMA node '{cell.id}' overflowed after alignment\"; "
                "check the size and unit",
            )


CHECKS = (
    cell_ids_contiguous,
    cell_id_duplicate,
    cell_vcpu_out_of_range,
    cell_vcpu_overlap,
    vcpu_not_in_any_cell,
    cell_memory_sum,
    cell_memory_zero,
    more_cells_than_vcpus,
    distance_invalid,
    distance_asymmetric,
    distance_incomplete,
    distance_unknown_cell,
    memory_not_hugepage_multiple,
    cell_memory_overflow,
)
