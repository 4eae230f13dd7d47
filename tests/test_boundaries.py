"""Near misses on both sides of every limit: one case exactly at the limit, one just past.

Each case runs through the CLI (`vnuma compile ... --host`, `vnuma lint DIR --host`) on a
small made-up host whose numbers are round, and asserts the exact multiset of codes, so a
comparison moved by one (`>` for `>=`), a spurious extra finding or a missing one fails.

BOX: two nodes of 16 GiB, each with a pool of 4 x 1 GiB pages (12 GiB left for small
pages) and 4 CPUs as two cores of two threads: node 0 CPUs 0-3 (cores 0,2 and 1,3),
node 1 CPUs 4-7 (cores 4,6 and 5,7). 32 GiB, 8 CPUs, 8 x 1 GiB pages in all.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vnuma.cpusets import CpusetError, format_cpuset, parse_cpuset
from vnuma.sizes import MAX_KIB, UNIT_BYTES, SizeError, format_kib, parse_size_kib

GIB = 1024 * 1024
MIB = 1024
CODE = re.compile(r":\d+:\d+: (VN\d{3}) ")


def host_xml(
    nodes: int = 2,
    memory_gib: int = 16,
    pool_1g: int = 4,
    free_kib: dict[int, int] | None = None,
    free_1g: dict[int, int] | None = None,
    threads: int = 2,
) -> str:
    cells = []
    for node in range(nodes):
        first = node * 4
        cpus = "".join(
            f"<cpu id='{first + i}' socket_id='{node}' die_id='0' core_id='{i % (4 // threads)}' "
            f"siblings='{format_cpuset(_siblings(first, i, threads))}'/>"
            for i in range(4)
        )
        base_pages = (memory_gib * GIB - pool_1g * GIB) // 4
        free = ""
        if free_kib is not None:
            free += f'<?vnuma-free-memory unit="KiB" value="{free_kib[node]}"?>'
        if free_1g is not None:
            free += f'<?vnuma-free-pages size="1048576" unit="KiB" count="{free_1g[node]}"?>'
        distances = "".join(
            f"<sibling id='{other}' value='{10 if other == node else 21}'/>"
            for other in range(nodes)
        )
        cells.append(
            f"<cell id='{node}'><memory unit='KiB'>{memory_gib * GIB}</memory>{free}"
            f"<pages unit='KiB' size='4'>{base_pages}</pages>"
            f"<pages unit='KiB' size='2048'>0</pages>"
            f"<pages unit='KiB' size='1048576'>{pool_1g}</pages>"
            f"<distances>{distances}</distances>"
            f"<cpus num='4'>{cpus}</cpus></cell>"
        )
    return (
        "<capabilities><host><cpu><arch>x86_64</arch>"
        f"<topology sockets='{nodes}' dies='1' cores='{4 // threads}' threads='{threads}'/>"
        "<pages unit='KiB' size='4'/><pages unit='KiB' size='2048'/>"
        "<pages unit='KiB' size='1048576'/></cpu>"
        f"<topology><cells num='{nodes}'>{''.join(cells)}</cells></topology>"
        "</host></capabilities>\n"
    )


def _siblings(first: int, i: int, threads: int) -> frozenset[int]:
    if threads == 1:
        return frozenset({first + i})
    core = i % 2
    return frozenset({first + core, first + core + 2})


def codes(result) -> list[str]:
    """The codes reported (compile prints them on stderr, lint on stdout)."""
    return sorted(CODE.findall(result.err) + CODE.findall(result.out))


@pytest.fixture
def box(write):
    def make(name: str = "box.xml", **kwargs) -> Path:
        return write(f"hosts/{name}", host_xml(**kwargs))

    return make


@pytest.fixture
def compile_codes(run_cli, write, box):
    """Compile an intent against BOX (or the given host); the sorted codes it reports."""

    def run(text: str, host: Path | None = None, *extra: str) -> list[str]:
        intent = write("guest.yaml", textwrap.dedent(text).lstrip("\n"))
        result = run_cli("compile", intent, "--host", host or box(), *extra)
        found = codes(result)
        assert result.code == (1 if _has_error(result.err) else 0), result.err
        return found

    return run


def _has_error(err: str) -> bool:
    return any(
        CODE.search(line) and not line.endswith(("(warning)", "(info)"))
        for line in err.splitlines()
    )


def one_cell(memory: str, nodes: str = "0", extra: str = "", vcpus: int = 2) -> str:
    """One cell bound strictly to ``nodes``; the guest-wide nodeset is both nodes (so VN204,
    the guest against its nodeset, stays out of the cell's boundary)."""
    last = vcpus - 1
    return (
        f"version: 1\nvcpus: {vcpus}\nmemory: {memory}\n"
        f'numatune: {{mode: strict, nodeset: "0-1"}}\n'
        f'cells:\n  - {{cpus: "0-{last}", memory: {memory}, host_nodes: "{nodes}"}}\n{extra}'
    )


# --- VN203 / VN204: strict small-page memory against the nodes (need > have) ------------------


@pytest.mark.parametrize(
    ("memory", "expected"),
    [("12GiB", []), ("12582913KiB", ["VN203"]), ("12289MiB", ["VN203"])],
    ids=["exactly-full", "one-KiB-over", "one-MiB-over"],
)
def test_cell_memory_boundary(compile_codes, memory, expected) -> None:
    assert compile_codes(one_cell(memory)) == expected


@pytest.mark.parametrize(
    ("second", "expected"),
    [("18GiB", []), ("18433MiB", ["VN203"])],
    ids=["exactly-full", "one-MiB-over"],
)
def test_cells_sharing_nodes_are_summed_per_node_set(compile_codes, box, second, expected) -> None:
    """Cell 0 on node 0 (6 GiB) and cell 1 on nodes 0-1: together on 0-1's 24 GiB (a third
    node in the nodeset keeps the guest-wide VN204 out of it)."""
    text = f"""
        version: 1
        vcpus: 4
        memory: {6 * 1024 + int(second.removesuffix("GiB")) * 1024 if second.endswith("GiB") else 6 * 1024 + int(second.removesuffix("MiB"))}MiB
        numatune: {{mode: strict, nodeset: "0-2"}}
        cells:
          - {{cpus: "0-1", memory: 6GiB, host_nodes: "0"}}
          - {{cpus: "2-3", memory: {second}, host_nodes: "0-1"}}
        """
    assert compile_codes(text, box("three.xml", nodes=3)) == expected


@pytest.mark.parametrize(
    ("memory", "expected"),
    [("24GiB", []), ("24577MiB", ["VN204"])],
    ids=["exactly-full", "one-MiB-over"],
)
def test_guest_wide_memory_boundary(compile_codes, memory, expected) -> None:
    text = f'version: 1\nvcpus: 2\nmemory: {memory}\nnumatune: {{mode: strict, nodeset: "0-1"}}\n'
    assert compile_codes(text) == expected


def test_preferred_binding_is_not_capacity_checked(compile_codes) -> None:
    # no written nodeset: a written multi-node preferred one is VN115 beside the memnode
    text = one_cell("12289MiB").replace('mode: strict, nodeset: "0-1"', "mode: preferred")
    assert compile_codes(text) == []


# --- VN206: huge page pools (pages rounded up; need > have) ------------------------------------

PAGES = "hugepages: {size: 1GiB}\n"


@pytest.mark.parametrize(
    ("memory", "expected"),
    [("4GiB", []), ("5GiB", ["VN206"])],
    ids=["four-pages", "five-pages"],
)
def test_bound_pool_boundary(compile_codes, memory, expected) -> None:
    assert compile_codes(one_cell(memory, extra=PAGES)) == expected


@pytest.mark.parametrize(
    ("memory", "expected"),
    [("8GiB", []), ("9GiB", ["VN206"])],
    ids=["all-pools-full", "one-page-over"],
)
def test_whole_host_pool_boundary(compile_codes, memory, expected) -> None:
    assert compile_codes(f"version: 1\nvcpus: 2\nmemory: {memory}\n{PAGES}") == expected


def test_a_short_bound_cell_is_reported_once(compile_codes) -> None:
    """9 pages bound to node 0 (pool 4) also exceed all pools (8): one finding, not two."""
    assert compile_codes(one_cell("9GiB", extra=PAGES)) == ["VN206"]


# --- VN209 / VN210: against what the snapshot says is free ------------------------------------


@pytest.mark.parametrize(
    ("memory", "expected"),
    [
        ("8GiB", []),  # exactly what is free
        ("8193MiB", ["VN209"]),  # one MiB more than free
        ("12GiB", ["VN209"]),  # exactly the node's small-page memory: still only VN209
        ("12289MiB", ["VN203"]),  # beyond the node: VN203's, not VN209's
    ],
    ids=["free", "over-free", "at-total", "over-total"],
)
def test_free_memory_boundary(compile_codes, box, memory, expected) -> None:
    host = box("live.xml", free_kib={0: 8 * GIB, 1: 8 * GIB})
    assert compile_codes(one_cell(memory), host) == expected


def test_free_memory_unknown_on_a_node_is_not_checked(compile_codes, write) -> None:
    text = host_xml(free_kib={0: 1 * GIB, 1: 1 * GIB})
    partial = write(
        "hosts/partial.xml", text.replace('<?vnuma-free-memory unit="KiB" value="1048576"?>', "", 1)
    )
    assert compile_codes(one_cell("4GiB", nodes="0"), partial) == []


@pytest.mark.parametrize(
    ("memory", "expected"),
    [("2GiB", []), ("3GiB", ["VN210"]), ("4GiB", ["VN210"]), ("5GiB", ["VN206"])],
    ids=["free", "over-free", "at-pool", "over-pool"],
)
def test_free_pages_boundary(compile_codes, box, memory, expected) -> None:
    host = box("live.xml", free_1g={0: 2, 1: 4})
    assert compile_codes(one_cell(memory, extra=PAGES), host) == expected


@pytest.mark.parametrize(
    ("memory", "expected"),
    [("6GiB", []), ("7GiB", ["VN210"]), ("8GiB", ["VN210"]), ("9GiB", ["VN206"])],
    ids=["free", "over-free", "at-pools", "over-pools"],
)
def test_free_pages_whole_host_boundary(compile_codes, box, memory, expected) -> None:
    host = box("live.xml", free_1g={0: 2, 1: 4})
    assert compile_codes(f"version: 1\nvcpus: 2\nmemory: {memory}\n{PAGES}", host) == expected


def test_a_short_bound_cell_is_reported_once_against_free_pages(compile_codes, box) -> None:
    """4 pages bound to node 0 (2 free), 3 to node 1 (4 free); 7 > 6 free in all: one VN210."""
    host = box("live.xml", free_1g={0: 2, 1: 4})
    text = f"""
        version: 1
        vcpus: 4
        memory: 7GiB
        cells:
          - {{cpus: "0-1", memory: 4GiB, host_nodes: "0", mode: strict}}
          - {{cpus: "2-3", memory: 3GiB, host_nodes: "1", mode: strict}}
        {PAGES}"""
    assert compile_codes(text, host) == ["VN210"]


# --- VN207 / VN208: vCPUs and memory against the whole host -----------------------------------


@pytest.mark.parametrize(("vcpus", "expected"), [(8, []), (9, ["VN207"])])
def test_vcpus_against_host_cpus(compile_codes, vcpus, expected) -> None:
    assert compile_codes(f"version: 1\nvcpus: {vcpus}\nmemory: 4GiB\n") == expected


@pytest.mark.parametrize(("vcpus", "expected"), [(4, []), (5, ["VN207"])])
def test_cell_vcpus_against_its_nodes(compile_codes, vcpus, expected) -> None:
    assert compile_codes(one_cell("4GiB", vcpus=vcpus)) == expected


@pytest.mark.parametrize(
    ("memory", "expected"), [("32GiB", []), ("32769MiB", ["VN208"])], ids=["equal", "over"]
)
def test_guest_memory_against_the_host(compile_codes, memory, expected) -> None:
    assert compile_codes(f"version: 1\nvcpus: 2\nmemory: {memory}\n") == expected


# --- placement: numatune.reserve and the node's memory (need > node memory - reserve) ---------

AUTO = """
    version: 1
    vcpus: 2
    memory: {memory}
    cells:
      - {{cpus: "0-1", memory: {memory}, host_nodes: auto}}
    numatune: {{mode: strict{reserve}}}
    """


@pytest.mark.parametrize(
    ("memory", "reserve", "expected"),
    [
        ("12GiB", "", []),  # the node's small pages exactly
        ("12289MiB", "", ["VN602"]),
        ("11GiB", ", reserve: 1GiB", []),  # exactly what the reserve leaves
        ("11GiB", ", reserve: 1025MiB", ["VN602"]),  # the reserve shrinks the node
        ("11265MiB", ", reserve: 1GiB", ["VN602"]),
    ],
    ids=["full", "over", "full-with-reserve", "reserve-one-MiB-more", "over-with-reserve"],
)
def test_reserve_shrinks_every_node(compile_codes, memory, reserve, expected) -> None:
    assert compile_codes(AUTO.format(memory=memory, reserve=reserve)) == expected


def test_free_memory_is_what_placement_counts(compile_codes, box) -> None:
    host = box("live.xml", free_kib={0: 5 * GIB, 1: 6 * GIB})
    text = AUTO.format(memory="6GiB", reserve="")
    assert compile_codes(text, host) == []
    assert compile_codes(AUTO.format(memory="6145MiB", reserve=""), host) == ["VN602"]


def test_placement_picks_the_node_that_fits(run_cli, write, box) -> None:
    host = box("live.xml", free_kib={0: 5 * GIB, 1: 6 * GIB})
    intent = write("guest.yaml", textwrap.dedent(AUTO.format(memory="6GiB", reserve="")))
    result = run_cli("compile", intent, "--host", host)
    assert result.code == 0, result.err
    assert 'nodeset="1"' in result.out and 'nodeset="0"' not in result.out


# --- placement: CPUs for each pinning policy ---------------------------------------------------

PINNED = """
    version: 1
    vcpus: {vcpus}
    memory: 2GiB
    cells:
      - {{cpus: "0-{last}", memory: 2GiB, host_nodes: auto}}
    numatune: {{mode: strict}}
    cpu: {{pinning: dedicated, threads: {threads}, emulator: "7"{reserved}}}
    """


def pinned(vcpus: int, threads: str, reserved: str = "") -> str:
    extra = f', reserved: "{reserved}"' if reserved else ""
    return PINNED.format(vcpus=vcpus, last=vcpus - 1, threads=threads, reserved=extra)


@pytest.mark.parametrize(
    ("vcpus", "threads", "reserved", "expected"),
    [
        (4, "prefer", "", []),  # a node's 4 CPUs
        (5, "prefer", "", ["VN602"]),
        (3, "prefer", "3", []),  # 3 left after reserving one
        (4, "prefer", "3,7", ["VN602"]),
        (2, "isolate", "", []),  # two whole cores per node
        (3, "isolate", "", ["VN602"]),
        (2, "isolate", "3", []),  # core 1,3 is no longer whole on node 0: node 1 instead
        (2, "isolate", "3,7", ["VN602"]),  # no node has two whole cores left
        (4, "require", "", []),  # two sibling pairs
        (6, "require", "", ["VN607"]),  # 3 pairs needed, 2 per node
        (3, "require", "", ["VN607"]),  # odd: cannot sit on pairs
        (2, "require", "3,7", []),  # one pair left per node
        (4, "require", "3,7", ["VN607"]),
    ],
)
def test_dedicated_cpus_boundary(compile_codes, vcpus, threads, reserved, expected) -> None:
    assert compile_codes(pinned(vcpus, threads, reserved)) == expected


def test_node_pinning_needs_a_cpu_left(compile_codes) -> None:
    base = AUTO.format(memory="2GiB", reserve="") + 'cpu: {pinning: node, reserved: "%s"}\n'
    assert compile_codes(base % "0-6") == []  # CPU 7 is left, on node 1
    assert compile_codes(base % "0-7") == ["VN602"]


def test_cells_on_distinct_nodes(compile_codes) -> None:
    """Two cells that each fit only node 1 when node 0 is nearly full of small pages."""
    text = """
        version: 1
        vcpus: 2
        memory: 24GiB
        cells:
          - {cpus: "0", memory: 12GiB, host_nodes: auto}
          - {cpus: "1", memory: 12GiB, host_nodes: auto}
        numatune: {mode: strict}
        """
    assert compile_codes(text) == []
    over = text.replace("memory: 24GiB", "memory: 25GiB").replace(
        '"1", memory: 12GiB', '"1", memory: 13GiB'
    )
    assert compile_codes(over) == ["VN602"]


# --- sizes and sets: the largest accepted value and one past it --------------------------------


def test_largest_size_libvirt_can_represent() -> None:
    assert parse_size_kib(f"{MAX_KIB}KiB") == MAX_KIB
    with pytest.raises(SizeError, match="larger than libvirt can represent"):
        parse_size_kib(f"{MAX_KIB + 1}KiB")


@pytest.mark.parametrize(
    ("kib", "text"),
    [
        (1023, "1023 KiB"),
        (1024, "1 MiB"),
        (1025, "1.00 MiB"),
        (1536, "1.50 MiB"),
        (GIB - 1, "1024.00 MiB"),
        (GIB, "1 GiB"),
        (1024 * GIB, "1 TiB"),
        (0, "0 KiB"),
    ],
)
def test_format_kib_unit_boundaries(kib, text) -> None:
    assert format_kib(kib) == text


def test_whole_kib_boundary() -> None:
    assert parse_size_kib("1024B".replace("B", "KB")) == 1000
    assert parse_size_kib("1.024KB") == 1
    with pytest.raises(SizeError, match="whole number of KiB"):
        parse_size_kib("1.025KB")


def test_largest_set_id() -> None:
    assert parse_cpuset("16383") == frozenset({16383})
    assert parse_cpuset(16383) == frozenset({16383})
    assert parse_cpuset("16380-16383") == frozenset(range(16380, 16384))
    for bad in ("16384", "16383-16384", 16384):
        with pytest.raises(CpusetError, match="beyond libvirt's limit"):
            parse_cpuset(bad)
    assert parse_cpuset("3", limit=3) == frozenset({3})
    with pytest.raises(CpusetError):
        parse_cpuset("4", limit=3)


def test_set_ranges_and_exclusions_at_their_ends() -> None:
    assert parse_cpuset("3-3") == frozenset({3})
    assert parse_cpuset("0-3,^3") == frozenset({0, 1, 2})
    assert parse_cpuset("0-3,^0") == frozenset({1, 2, 3})
    with pytest.raises(CpusetError, match="reversed"):
        parse_cpuset("4-3")
    with pytest.raises(CpusetError, match="empty"):
        parse_cpuset("3,^3")


@pytest.mark.parametrize(
    ("ids", "text"),
    [
        ({0}, "0"),
        ({0, 1}, "0-1"),
        ({0, 2}, "0,2"),
        ({0, 1, 2, 4, 5, 7}, "0-2,4-5,7"),
        ({5, 6, 7, 9}, "5-7,9"),
        (set(), ""),
    ],
)
def test_format_cpuset_runs(ids, text) -> None:
    assert format_cpuset(frozenset(ids)) == text
    if ids:
        assert parse_cpuset(text) == frozenset(ids)


# --- whole-host admission: several guests on BOX (`vnuma lint DIR --host`) --------------------


def guest_xml(
    name: str, mib: int, nodeset: str | None = None, pins: dict[int, int] | None = None
) -> str:
    tune = f"<numatune><memory mode='strict' nodeset='{nodeset}'/></numatune>" if nodeset else ""
    pin = "".join(f"<vcpupin vcpu='{v}' cpuset='{c}'/>" for v, c in (pins or {}).items())
    return (
        f"<domain type='kvm'>\n  <name>{name}</name>\n  <memory unit='MiB'>{mib}</memory>\n"
        "  <vcpu>2</vcpu>\n  <os><type arch='x86_64' machine='q35'>hvm</type></os>\n"
        + (f"  <cputune>{pin}</cputune>\n" if pin else "")
        + (f"  {tune}\n" if tune else "")
        + "</domain>\n"
    )


@pytest.fixture
def lint_codes(run_cli, write, box):
    def run(guests: dict[str, str], host: Path | None = None) -> list[str]:
        for name, xml in guests.items():
            write(f"vms/{name}.xml", xml)
        result = run_cli("lint", Path(write("vms/.keep", "")).parent, "--host", host or box())
        assert result.code in (0, 1), result.err
        return codes(result)

    return run


@pytest.mark.parametrize(("second", "expected"), [(12288, []), (12289, ["VN502", "VN502"])])
def test_guests_bound_to_every_node_are_admitted_together(lint_codes, second, expected) -> None:
    """Two guests bound to all of BOX's nodes: 12 GiB + 12 GiB fill the 24 GiB exactly."""
    guests = {"a": guest_xml("a", 12288, "0-1"), "b": guest_xml("b", second, "0-1")}
    assert lint_codes(guests) == expected


@pytest.mark.parametrize(("second", "expected"), [(6144, []), (6145, ["VN502", "VN502"])])
def test_guests_bound_to_one_node_are_admitted_together(lint_codes, second, expected) -> None:
    guests = {"a": guest_xml("a", 6144, "0"), "b": guest_xml("b", second, "0")}
    assert lint_codes(guests) == expected


@pytest.mark.parametrize(("unbound", "expected"), [(10240, []), (10241, ["VN504", "VN504"])])
def test_free_memory_counts_each_guest_once(lint_codes, box, unbound, expected) -> None:
    """8 GiB free per node: a bound 6 GiB guest on node 0 and an unbound 10 GiB one fill the
    16 GiB free exactly (a bound guest counted again as unbound would overflow it)."""
    host = box("live.xml", free_kib={0: 8 * GIB, 1: 8 * GIB})
    guests = {"a": guest_xml("a", 6144, "0"), "b": guest_xml("b", unbound)}
    assert lint_codes(guests, host) == expected


@pytest.mark.parametrize(("cpu", "expected"), [(3, []), (2, ["VN501", "VN501"])])
def test_host_cpu_pinned_by_two_guests(lint_codes, cpu, expected) -> None:
    guests = {"a": guest_xml("a", 1024, pins={0: 2}), "b": guest_xml("b", 1024, pins={0: cpu})}
    assert lint_codes(guests) == expected


def test_one_guest_alone_is_not_admission(lint_codes) -> None:
    assert lint_codes({"a": guest_xml("a", 24577, "0-1")}) == ["VN204"]


# --- near-misses the full mutation sweep found untested (docs/mutation.md) -----------------


def test_free_memory_is_checked_for_every_binding_group(compile_codes, box) -> None:
    """VN209: the first group fits the memory free now; the second does not (a check that
    stopped at the first group that fits would miss it). Node 1 has 2 GiB free."""
    host = box("live.xml", free_kib={0: 8 * GIB, 1: 2 * GIB})
    intent = (
        "version: 1\nvcpus: 2\nmemory: {total}\n"
        'numatune: {{mode: strict, nodeset: "0-1"}}\ncells:\n'
        '  - {{cpus: "0", memory: 4GiB, host_nodes: "0"}}\n'
        '  - {{cpus: "1", memory: {second}, host_nodes: "1"}}\n'
    )
    assert compile_codes(intent.format(total="8GiB", second="4GiB"), host) == ["VN209"]
    assert compile_codes(intent.format(total="6GiB", second="2GiB"), host) == []


def test_the_free_memory_finding_names_the_cell_and_the_amounts(run_cli, write, box) -> None:
    host = box("live.xml", free_kib={0: 8 * GIB, 1: 2 * GIB})
    intent = write("guest.yaml", one_cell("4GiB", nodes="1"))
    result = run_cli("compile", intent, "--host", host)
    assert (
        "VN209 guest cell 0 needs 4 GiB bound to host node(s) 1, which have 2 GiB free "
        "(of 12 GiB)" in result.err
    ), result.err


def test_vcpus_of_every_bound_cell_are_counted_against_its_nodes(compile_codes) -> None:
    """VN207 per cell: an unbound cell before it does not end the check."""
    intent = (
        "version: 1\nvcpus: 7\nmemory: 4GiB\n"
        'numatune: {mode: strict, nodeset: "0-1"}\ncells:\n'
        '  - {cpus: "0", memory: 2GiB}\n'
        '  - {cpus: "1-{last}", memory: 2GiB, host_nodes: "0"}\n'
    )
    assert compile_codes(intent.replace("{last}", "6")) == ["VN207"]  # 6 vCPUs, 4 CPUs
    assert compile_codes(intent.replace("{last}", "4").replace("vcpus: 7", "vcpus: 5")) == []


def test_dedicated_pins_cover_the_vcpus_outside_every_cell(write) -> None:
    """vCPUs in no cell (VN105's finding) are still pinned, once each."""
    from vnuma.libvirt.capabilities import load_host
    from vnuma.load.intent import load_intent
    from vnuma.place import place
    from vnuma.runner import intent_from_raw

    host_path = write("hosts/box.xml", host_xml())
    path = write(
        "pins.yaml",
        "version: 1\nvcpus: 4\nmemory: 4GiB\ncpu: {pinning: dedicated}\ncells:\n"
        '  - {cpus: "0-1", memory: 4GiB, host_nodes: "0"}\n',
    )
    intent, problems = intent_from_raw(load_intent(path, "pins.yaml"))
    assert intent is not None, problems
    host, _ = load_host(host_path, "box.xml")
    assert host is not None
    placed = place(intent, host)
    assert placed.guest is not None, placed.diagnostics
    assert sorted(pin.vcpu for pin in placed.guest.domain.pins) == [0, 1, 2, 3]


def test_free_pages_are_checked_for_every_binding_group(compile_codes, box) -> None:
    """VN210 per group: the first group's pages are free; the second's are not."""
    host = box("live.xml", free_1g={0: 4, 1: 1})
    intent = (
        "version: 1\nvcpus: 2\nmemory: {total}\nhugepages: {{size: 1GiB}}\n"
        'numatune: {{mode: strict, nodeset: "0-1"}}\ncells:\n'
        '  - {{cpus: "0", memory: 2GiB, host_nodes: "0"}}\n'
        '  - {{cpus: "1", memory: {second}, host_nodes: "1"}}\n'
    )
    assert compile_codes(intent.format(total="4GiB", second="2GiB"), host) == ["VN210"]
    assert compile_codes(intent.format(total="3GiB", second="1GiB"), host) == []


def test_the_guest_wide_free_pages_hint_says_how_many_are_short(run_cli, write, box) -> None:
    host = box("live.xml", free_1g={0: 1, 1: 1})
    intent = write("guest.yaml", "version: 1\nvcpus: 2\nmemory: 4GiB\nhugepages: {size: 1GiB}\n")
    result = run_cli("compile", intent, "--host", host)
    assert "VN210 the guest needs 4 x 1 GiB pages, the host's pools have 2 free" in result.err
    assert "hint: 2 more free 1 GiB page(s) needed on node(s) 0-1" in result.err, result.err


def test_require_without_cells_needs_a_sibling_pair_per_two_vcpus(compile_codes) -> None:
    """cpu.reserved leaves one whole pair and a single CPU on each node (free CPUs 6, free
    pairs 2): 4 vCPUs sit on the two pairs, 6 cannot all sit on pairs (VN607)."""
    intent = (
        "version: 1\nvcpus: {vcpus}\nmemory: 4GiB\n"
        'numatune: {{mode: strict, nodeset: "0-1"}}\n'
        'cpu: {{pinning: dedicated, threads: require, reserved: "2,6"}}\n'
    )
    assert compile_codes(intent.format(vcpus=4)) == []
    assert compile_codes(intent.format(vcpus=6)) == ["VN607"]


# --- a CPU-less node, and a node with no pool of the guest's page size ---------------------

CXL = Path(__file__).parent.parent / "samples" / "hosts" / "cxl-memory-node.xml"


@pytest.fixture
def cxl_without_node2_pool(write) -> Path:
    """samples/hosts/cxl-memory-node.xml (nodes 0-1 with CPUs and 8 x 1 GiB pages each,
    node 2 CPU-less) with node 2's 1 GiB pool left out of the snapshot entirely."""
    text = CXL.read_text(encoding="utf-8")
    cell2 = text.index("<cell id='2'>")
    pool = "<pages unit='KiB' size='1048576'>0</pages>"
    at = text.index(pool, cell2)
    return write("hosts/cxl.xml", text[:at] + text[at + len(pool) :])


def test_cpu_less_binding_is_found_after_a_memory_only_cell(compile_codes) -> None:
    """VN202: a memory-only cell on the CPU-less node is fine and does not end the check."""
    intent = (
        "version: 1\nvcpus: 4\nmemory: 8GiB\n"
        'numatune: {{mode: strict, nodeset: "0-2"}}\ncells:\n'
        '  - {{memory: 4GiB, host_nodes: "2"}}\n'
        '  - {{cpus: "0-3", memory: 4GiB, host_nodes: "{second}"}}\n'
    )
    assert compile_codes(intent.format(second="2"), CXL) == ["VN202"]
    assert compile_codes(intent.format(second="0"), CXL) == []


def test_a_node_without_the_pool_adds_no_pages(compile_codes, cxl_without_node2_pool) -> None:
    """VN206 against nodes 1-2: node 1's 8 pages, node 2 has no 1 GiB pool at all."""
    intent = (
        "version: 1\nvcpus: 2\nmemory: {memory}\nhugepages: {{size: 1GiB}}\n"
        'numatune: {{mode: strict, nodeset: "1-2"}}\n'
    )
    assert compile_codes(intent.format(memory="8GiB"), cxl_without_node2_pool) == []
    assert compile_codes(intent.format(memory="9GiB"), cxl_without_node2_pool) == ["VN206"]


def test_guests_together_get_no_pages_from_a_node_without_the_pool(
    run_cli, write, cxl_without_node2_pool
) -> None:
    """VN503: 5 + 4 pages bound to nodes 1-2, where only node 1 has a pool (8 pages)."""
    text = (
        "version: 1\nname: {name}\nvcpus: 2\nmemory: {memory}\nhugepages: {{size: 1GiB}}\n"
        'numatune: {{mode: strict, nodeset: "1-2"}}\n'
    )
    write("vms/a.yaml", text.format(name="a", memory="5GiB"))
    write("vms/b.yaml", text.format(name="b", memory="4GiB"))
    result = run_cli("lint", write("vms/.keep", "").parent, "--host", cxl_without_node2_pool)
    assert codes(result) == ["VN503", "VN503"], result.out
    write("vms/b.yaml", text.format(name="b", memory="3GiB"))
    result = run_cli("lint", write("vms/.keep", "").parent, "--host", cxl_without_node2_pool)
    assert codes(result) == [], result.out


SMT4_HOST = (
    "<capabilities><host><cpu><arch>ppc64le</arch>"
    "<topology sockets='1' dies='1' cores='2' threads='4'/>"
    "<pages unit='KiB' size='64'/></cpu><topology><cells num='1'>"
    "<cell id='0'><memory unit='KiB'>16777216</memory>"
    "<pages unit='KiB' size='64'>262144</pages>"
    "<distances><sibling id='0' value='10'/></distances><cpus num='8'>"
    + "".join(
        f"<cpu id='{c}' socket_id='0' die_id='0' core_id='{c // 4}' "
        f"siblings='{c // 4 * 4}-{c // 4 * 4 + 3}'/>"
        for c in range(8)
    )
    + "</cpus></cell></cells></topology></host></capabilities>\n"
)


def test_guest_thread_pairs_sit_on_two_threads_of_an_smt4_core(run_cli, write) -> None:
    """POWER-style SMT4: a sibling pair is two threads of one core, not the whole core."""
    host = write("hosts/smt4.xml", SMT4_HOST)
    intent = write(
        "guest.yaml",
        'version: 1\nvcpus: 4\nmemory: 4GiB\nnumatune: {mode: strict, nodeset: "0"}\n'
        "cpu: {pinning: dedicated}\n",
    )
    result = run_cli("compile", intent, "--host", host)
    assert result.code == 0, result.err
    pins = re.findall(r"<vcpupin vcpu=\"(\d)\" cpuset=\"(\d)\"/>", result.out)
    assert pins == [("0", "0"), ("1", "1"), ("2", "4"), ("3", "5")], result.out


def test_no_pin_group_is_made_when_the_cells_hold_every_vcpu(run_cli, write, box) -> None:
    intent = write(
        "guest.yaml",
        "version: 1\nvcpus: 2\nmemory: 4GiB\ncpu: {pinning: node}\ncells:\n"
        '  - {cpus: "0-1", memory: 4GiB, host_nodes: "0"}\n',
    )
    result = run_cli("compile", intent, "--host", box(), "--explain")
    assert result.code == 0, result.err
    assert "cell 0: vCPUs 0-1 float over host CPUs 0-3" in result.err, result.err
    assert "the guest:" not in result.err, result.err


def test_preferred_guests_pages_may_come_from_other_nodes_together(run_cli, write, box) -> None:
    """Two guests preferring node 0 with 3 x 1 GiB pages each: 6 > node 0's pool of 4, but
    preferred memory may come from node 1's pool, so the host admits them; bound
    strictly, the same two overcommit node 0 (VN503)."""
    host = box()
    text = (
        "version: 1\nname: {name}\nvcpus: 1\nmemory: 3GiB\nhugepages: {{size: 1GiB}}\n"
        'numatune: {{mode: {mode}, nodeset: "0"}}\n'
    )
    for mode, expected in (("preferred", []), ("strict", ["VN503", "VN503"])):
        write("vms/a.yaml", text.format(name="a", mode=mode))
        write("vms/b.yaml", text.format(name="b", mode=mode))
        result = run_cli("lint", write("vms/.keep", "").parent, "--host", host)
        assert codes(result) == expected, result.out


@settings(max_examples=80, deadline=None)
@given(
    whole=st.integers(0, 10**22),
    fraction=st.text("0123456789", max_size=8),
    unit=st.sampled_from(sorted(UNIT_BYTES)),
)
def test_sizes_are_parsed_as_exactly_as_rational_arithmetic(
    whole: int, fraction: str, unit: str
) -> None:
    """The integer parse agrees with exact rational arithmetic on every number and unit."""
    from fractions import Fraction

    text = f"{whole}.{fraction}{unit}" if fraction else f"{whole}{unit}"
    kib = Fraction(text.removesuffix(unit)) * UNIT_BYTES[unit] / 1024
    if kib.denominator != 1:
        with pytest.raises(SizeError, match="whole number of KiB"):
            parse_size_kib(text)
    elif kib > MAX_KIB:
        with pytest.raises(SizeError, match="larger than libvirt"):
            parse_size_kib(text)
    else:
        assert parse_size_kib(text) == int(kib)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(
    whole=st.integers(0, 10**22),
    fraction=st.text("0123456789", max_size=8),
    unit=st.sampled_from(sorted(UNIT_BYTES)),
)
def test_sizes_are_parsed_as_exactly_as_rational_arithmetic_many(whole, fraction, unit) -> None:
    test_sizes_are_parsed_as_exactly_as_rational_arithmetic.hypothesis.inner_test(
        whole=whole, fraction=fraction, unit=unit
    )
