"""Whole-host admission (VN501-VN504) and the exact fit behind it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from vnuma.commands.lint import LintOptions, lint
from vnuma.diagnostics import Diagnostic
from vnuma.model.flow import Demand, find_shortfall
from vnuma.report.config import default_config

from tests.conftest import HOSTS

GIB = 1024 * 1024

# --- find_shortfall -------------------------------------------------------------------------


def test_everything_fits() -> None:
    demands = [Demand("a", 4, frozenset({0})), Demand("b", 4, frozenset({0, 1}))]
    assert find_shortfall(demands, {0: 5, 1: 5}) is None


def test_flexible_demand_moves_to_the_free_node() -> None:
    # A per-node sum that charges b to node 0 would report a false overcommit.
    demands = [Demand("a", 5, frozenset({0})), Demand("b", 5, frozenset({0, 1}))]
    assert find_shortfall(demands, {0: 5, 1: 5}) is None


def test_shortfall_names_only_the_demands_that_cannot_fit() -> None:
    demands = [
        Demand("a", 6, frozenset({0})),
        Demand("b", 6, frozenset({0})),
        Demand("c", 3, frozenset({1})),
    ]
    shortfall = find_shortfall(demands, {0: 10, 1: 10})
    assert shortfall is not None
    assert {d.owner for d in shortfall.demands} == {"a", "b"}
    assert shortfall.nodes == frozenset({0})
    assert (shortfall.needed, shortfall.available) == (12, 10)


def test_hall_violation_across_a_node_set() -> None:
    # Every single node has room for any one demand, but {0,1} cannot hold all three.
    demands = [Demand(x, 4, frozenset({0, 1})) for x in "abc"]
    shortfall = find_shortfall(demands, {0: 5, 1: 5, 2: 100})
    assert shortfall is not None
    assert shortfall.nodes == frozenset({0, 1})
    assert (shortfall.needed, shortfall.available) == (12, 10)


def test_zero_and_empty_demands_are_ignored() -> None:
    assert find_shortfall([Demand("a", 0, frozenset({0})), Demand("b", 9, frozenset())], {}) is None


# --- lint over three guests on one host -------------------------------------------------------


def domain(
    name: str, pins: dict[int, int], cells: list[tuple[str, int, int]], pages: str = ""
) -> str:
    """A domain with dedicated pins, cells (cpus, GiB, host node) bound strictly by memnodes."""
    vcpus = sum(len(range(int(c.split("-")[0]), int(c.split("-")[-1]) + 1)) for c, _, _ in cells)
    pin_xml = "".join(f"<vcpupin vcpu='{v}' cpuset='{c}'/>" for v, c in pins.items())
    memnodes = "".join(
        f"<memnode cellid='{i}' mode='strict' nodeset='{node}'/>"
        for i, (_, _, node) in enumerate(cells)
    )
    cell_xml = "".join(
        f"<cell id='{i}' cpus='{cpus}' memory='{gib}' unit='GiB'/>"
        for i, (cpus, gib, _) in enumerate(cells)
    )
    nodes = ",".join(str(node) for _, _, node in cells)
    backing = f"<memoryBacking><hugepages>{pages}</hugepages></memoryBacking>" if pages else ""
    return textwrap.dedent(f"""\
        <domain type='kvm'>
          <name>{name}</name>
          {backing}
          <vcpu>{vcpus}</vcpu>
          <cputune>{pin_xml}</cputune>
          <numatune><memory mode='strict' nodeset='{nodes}'/>{memnodes}</numatune>
          <os><type arch='x86_64' machine='q35'>hvm</type></os>
          <cpu><numa>{cell_xml}</numa></cpu>
        </domain>
        """)


def run(tmp_path: Path, files: dict[str, str], host: str = "2s-xeon.xml") -> list[Diagnostic]:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    options = LintOptions(
        paths=(tmp_path,), config=default_config(tmp_path), host_path=HOSTS / host
    )
    return lint(options).diagnostics


def codes(diagnostics: list[Diagnostic], code: str) -> dict[str, Diagnostic]:
    return {Path(d.path).name: d for d in diagnostics if d.code == code}


def test_three_guests_that_fit_alone_but_not_together(tmp_path: Path) -> None:
    # 2s-xeon node 0: 191.44 GiB - 64 GiB (1G pool) - 2 GiB (2M pool) = 125.44 GiB small pages
    diagnostics = run(
        tmp_path,
        {
            "a.xml": domain("a", {0: 2, 1: 3}, [("0-1", 60, 0)]),
            "b.xml": domain("b", {0: 3, 1: 4}, [("0-1", 40, 0)]),
            "c.xml": domain("c", {0: 10}, [("0", 30, 0)]),
        },
    )
    memory = codes(diagnostics, "VN502")
    assert set(memory) == {"a.xml", "b.xml", "c.xml"}
    message = memory["a.xml"].message
    assert "130 GiB needed, 125.44 GiB available" in message
    assert all(name in message for name in ("a:", "b:", "c:"))
    cpus = codes(diagnostics, "VN501")
    assert set(cpus) == {"a.xml", "b.xml"}
    assert cpus["a.xml"].message == "host CPU(s) 3 pinned exclusively by a (vCPU 1), b (vCPU 0)"
    assert (cpus["b.xml"].line, cpus["b.xml"].column) == (5, 37)
    assert all(d.code not in ("VN203", "VN204") for d in diagnostics), "each fits alone"


def test_messages_name_the_first_guests_and_count_the_others(tmp_path: Path) -> None:
    # eight guests of 20 GiB pinned to host CPU 3, all bound to node 0 (125.44 GiB)
    files = {f"g{i}.xml": domain(f"g{i}", {0: 3}, [("0", 20, 0)]) for i in range(8)}
    diagnostics = run(tmp_path, files)
    memory, cpus = codes(diagnostics, "VN502"), codes(diagnostics, "VN501")
    assert set(memory) == set(cpus) == set(files), "every guest's file gets the finding"
    assert len({d.message for d in memory.values()}) == 1, "the same message in every file"
    assert memory["g0.xml"].message == (
        "strictly bound guest memory on host node(s) 0: 160 GiB needed, 125.44 GiB available"
        " (g0: cell 0 20 GiB; g1: cell 0 20 GiB; g2: cell 0 20 GiB; g3: cell 0 20 GiB;"
        " g4: cell 0 20 GiB; and 3 other guests)"
    )
    assert cpus["g7.xml"].message == (
        "host CPU(s) 3 pinned exclusively by g0 (vCPU 0), g1 (vCPU 0), g2 (vCPU 0),"
        " g3 (vCPU 0), g4 (vCPU 0), and 3 other guests"
    )


def test_guests_on_different_nodes_are_admitted(tmp_path: Path) -> None:
    diagnostics = run(
        tmp_path,
        {
            "a.xml": domain("a", {0: 2}, [("0", 100, 0)]),
            "b.xml": domain("b", {0: 22}, [("0", 100, 1)]),
            "c.xml": domain("c", {0: 23}, [("0", 20, 1)]),
        },
    )
    assert [d for d in diagnostics if d.code.startswith("VN5")] == []


def test_hugepage_pools_are_admitted_per_size(tmp_path: Path) -> None:
    one_gib = "<page size='1' unit='GiB'/>"
    diagnostics = run(
        tmp_path,
        {
            "a.xml": domain("a", {}, [("0", 40, 1)], one_gib),
            "b.xml": domain("b", {}, [("0", 30, 1)], one_gib),
            "c.xml": domain("c", {}, [("0", 10, 1)], "<page size='2' unit='MiB'/>"),
        },
    )
    pages = codes(diagnostics, "VN503")
    assert set(pages) == {"a.xml", "b.xml"}, "c uses 2 MiB pages, whose pool has room"
    assert "1 GiB huge pages on host node(s) 1: 70 pages needed, 64 pages available" in (
        pages["a.xml"].message
    )


@pytest.mark.parametrize("total", [64, 65])
def test_hugepage_pool_boundary(tmp_path: Path, total: int) -> None:
    one_gib = "<page size='1' unit='GiB'/>"
    diagnostics = run(
        tmp_path,
        {
            "a.xml": domain("a", {}, [("0", 32, 1)], one_gib),
            "b.xml": domain("b", {}, [("0", total - 32, 1)], one_gib),
        },
    )
    assert bool(codes(diagnostics, "VN503")) is (total > 64)


def test_free_memory_from_the_snapshot(tmp_path: Path) -> None:
    host = (HOSTS / "2s-xeon.xml").read_text(encoding="utf-8")
    free = '<?vnuma-free-memory unit="GiB" value="{}"?>'
    host = host.replace("<cell id='0'>", "<cell id='0'>" + free.format(50), 1)
    host = host.replace("<cell id='1'>", "<cell id='1'>" + free.format(150), 1)
    (tmp_path / "host").mkdir()
    (tmp_path / "host" / "caps.xml").write_text(host, encoding="utf-8")
    guests = tmp_path / "vms"
    guests.mkdir()
    (guests / "a.xml").write_text(domain("a", {}, [("0", 30, 0)]), encoding="utf-8")
    (guests / "b.xml").write_text(domain("b", {}, [("0", 30, 0)]), encoding="utf-8")
    options = LintOptions(
        paths=(guests,), config=default_config(tmp_path), host_path=tmp_path / "host" / "caps.xml"
    )
    free = codes(lint(options).diagnostics, "VN504")
    assert set(free) == {"a.xml", "b.xml"}
    assert "60 GiB needed, 50 GiB available" in free["a.xml"].message


def test_intents_host_key_does_not_place_guests_together(tmp_path: Path) -> None:
    intent = "version: 1\nvcpus: 2\nmemory: 100GiB\nhost: {host}\nnumatune: {{mode: strict, nodeset: '0'}}\n"
    host = (HOSTS / "2s-xeon.xml").as_posix()
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text(intent.format(host=host), encoding="utf-8")
    report = lint(LintOptions(paths=(tmp_path,), config=default_config(tmp_path)))
    assert [d.code for d in report.diagnostics] == []


def test_one_guest_alone_is_never_an_admission_finding(tmp_path: Path) -> None:
    """run_admission skips a host with one guest: no admission rule may fire for one,
    even when it overcommits every resource (its per-guest rules report that)."""
    from vnuma.libvirt.capabilities import load_host
    from vnuma.libvirt.domain import lift_domain
    from vnuma.load.document import load_xml_document
    from vnuma.model.capacity import host_load
    from vnuma.rules import all_rules
    from vnuma.rules.base import AdmissionContext

    host_text = (HOSTS / "2s-xeon.xml").read_text(encoding="utf-8")
    free = '<?vnuma-free-memory unit="GiB" value="1"?>'
    host_text = host_text.replace("<cell id='0'>", "<cell id='0'>" + free, 1)
    host_text = host_text.replace("<cell id='1'>", "<cell id='1'>" + free, 1)
    (tmp_path / "caps.xml").write_text(host_text, encoding="utf-8")
    host, _ = load_host(tmp_path / "caps.xml", "caps.xml")
    assert host is not None
    greedy = {
        "small.xml": domain("g", {0: 2, 1: 2}, [("0", 500, 0), ("1", 500, 1)]),
        "pages.xml": domain("p", {0: 2}, [("0", 500, 0)], pages="<page size='1' unit='GiB'/>"),
    }
    admission_rules = [rule for rule in all_rules() if rule.admission is not None]
    assert {rule.code for rule in admission_rules} >= {"VN501", "VN502", "VN503", "VN504"}
    for name, text in greedy.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        document = load_xml_document(path, name)
        guest, _ = lift_domain(document)
        assert guest is not None
        alone = AdmissionContext(host, (guest,), host_load(host, (guest,)))
        for rule in admission_rules:
            assert rule.admission is not None
            assert list(rule.admission(alone)) == [], (rule.code, name)
        # ... while its own per-guest rules do report it
        alone_dir = tmp_path / f"alone-{path.stem}"
        alone_dir.mkdir()
        (alone_dir / name).write_text(text, encoding="utf-8")
        options = LintOptions(
            paths=(alone_dir,), config=default_config(alone_dir), host_path=tmp_path / "caps.xml"
        )
        own = {d.code for d in lint(options).diagnostics}
        assert own & {"VN203", "VN206", "VN209"}, (name, own)
