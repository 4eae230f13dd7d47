"""Reading `virsh capabilities` snapshots: the samples, libvirt's own test data, and `vnuma host`.

Expected values come from XPath over the same files (lxml), never from vnuma's own parsing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from lxml import etree
from vnuma.cli import main
from vnuma.libvirt.capabilities import load_host

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "hosts"
CORPUS = (
    Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "libvirt" / "capabilities"
)
SAMPLE_NAMES = ["laptop-1n", "2s-xeon", "epyc-nps4", "cxl-memory-node"]

# ------------------------------------------------------------- independent reading


_UNIT_BYTES = {
    "b": 1, "bytes": 1,
    "k": 1024, "kib": 1024, "kb": 1000,
    "m": 1024**2, "mib": 1024**2, "mb": 1000**2,
    "g": 1024**3, "gib": 1024**3, "gb": 1000**3,
    "t": 1024**4, "tib": 1024**4, "tb": 1000**4,
}  # fmt: skip


def _kib(value: str, unit: str | None) -> int:
    return int(value.strip()) * _UNIT_BYTES[(unit or "KiB").lower()] // 1024


def _id_set(text: str) -> set[int]:
    """libvirt's '0-3,^2,8' set syntax."""
    keep: set[int] = set()
    drop: set[int] = set()
    for term in text.split(","):
        term = term.strip()
        target = drop if term.startswith("^") else keep
        lo, _, hi = term.lstrip("^").partition("-")
        target.update(range(int(lo), int(hi or lo) + 1))
    return keep - drop


def _opt(element: etree._Element, attr: str) -> int | None:
    raw = element.get(attr)
    return None if raw is None else int(raw)


@dataclass
class XCpu:
    id: int
    socket_id: int | None
    die_id: int | None
    cluster_id: int | None
    core_id: int | None
    siblings: set[int]


@dataclass
class XCell:
    id: int
    memory_kib: int | None
    pools: dict[int, int] = field(default_factory=dict)  # size KiB -> count
    distances: dict[int, int] = field(default_factory=dict)
    cpus: dict[int, XCpu] = field(default_factory=dict)

    @property
    def cores(self) -> int:
        return len(
            {
                (c.socket_id, c.die_id, c.cluster_id, c.core_id)
                if c.core_id is not None
                else (min(c.siblings),)
                for c in self.cpus.values()
            }
        )

    @property
    def small_page_kib(self) -> int | None:
        if self.memory_kib is None:
            return None
        base = min(self.pools, default=4)
        huge = sum(size * count for size, count in self.pools.items() if size != base)
        return max(self.memory_kib - huge, 0)


def _xpath_cells(path: Path) -> dict[int, XCell]:
    tree = etree.parse(str(path))
    cells: dict[int, XCell] = {}
    for cell in tree.xpath("/capabilities/host/topology/cells/cell"):
        memory = cell.xpath("memory")
        xcell = XCell(
            id=int(cell.get("id")),
            memory_kib=_kib(memory[0].text, memory[0].get("unit")) if memory else None,
        )
        for pages in cell.xpath("pages"):
            xcell.pools[_kib(pages.get("size"), pages.get("unit"))] = int(pages.text)
        for sibling in cell.xpath("distances/sibling"):
            xcell.distances[int(sibling.get("id"))] = int(sibling.get("value"))
        for cpu in cell.xpath("cpus/cpu"):
            cpu_id = int(cpu.get("id"))
            siblings = cpu.get("siblings")
            xcell.cpus[cpu_id] = XCpu(
                id=cpu_id,
                socket_id=_opt(cpu, "socket_id"),
                die_id=_opt(cpu, "die_id"),
                cluster_id=_opt(cpu, "cluster_id"),
                core_id=_opt(cpu, "core_id"),
                siblings=_id_set(siblings) if siblings else {cpu_id},
            )
        cells[xcell.id] = xcell
    return cells


def _xpath_count(path: Path, expr: str) -> int:
    return int(etree.parse(str(path)).xpath(f"count({expr})"))


def _assert_host_matches(path: Path) -> None:
    """Every fact vnuma read about the cells equals the XPath reading of the file."""
    host, _ = load_host(path)
    assert host is not None
    expected = _xpath_cells(path)
    assert sorted(host.node_ids) == sorted(expected)
    assert [cell.id for cell in host.cells] == sorted(expected), "cells are sorted by id"
    assert host.cpu_count == _xpath_count(path, "/capabilities/host/topology/cells/cell/cpus/cpu")
    for want in expected.values():
        cell = host.cell(want.id)
        assert cell is not None
        assert cell.cpu_ids == set(want.cpus), f"cell {want.id} CPUs"
        assert cell.memory_kib == want.memory_kib, f"cell {want.id} memory"
        assert {p.size_kib: p.count for p in cell.pages} == want.pools, f"cell {want.id} pools"
        assert cell.distances == want.distances, f"cell {want.id} distances"
        for cpu in cell.cpus:
            xcpu = want.cpus[cpu.id]
            got = (cpu.socket_id, cpu.die_id, cpu.cluster_id, cpu.core_id, set(cpu.siblings))
            assert got == (
                xcpu.socket_id,
                xcpu.die_id,
                xcpu.cluster_id,
                xcpu.core_id,
                xcpu.siblings,
            ), f"cell {want.id} cpu {cpu.id}"
        assert cell.cores == want.cores, f"cell {want.id} cores"
    assert host.memory_kib == sum(c.memory_kib or 0 for c in expected.values())


# ------------------------------------------------------------------- samples


def _sample(name: str) -> Path:
    return SAMPLES / f"{name}.xml"


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_sample_loads_without_diagnostics_and_matches_xpath(name: str) -> None:
    path = _sample(name)
    host, diagnostics = load_host(path)
    assert diagnostics == []
    assert host is not None
    assert host.arch == etree.parse(str(path)).xpath("string(/capabilities/host/cpu/arch)")
    _assert_host_matches(path)


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_sample_small_pages_are_memory_minus_hugepage_pools(name: str) -> None:
    host, _ = load_host(_sample(name))
    assert host is not None
    for want in _xpath_cells(_sample(name)).values():
        cell = host.cell(want.id)
        assert cell is not None
        assert cell.base_page_kib == 4
        assert cell.small_page_kib == want.small_page_kib


# Literal facts, read off the files by eye and cross-checked against XPath below.
SAMPLE_FACTS = {
    "laptop-1n": {
        "nodes": [0],
        "cpus": 8,
        "cpus_per_node": {0: 8},
        "cores": {0: 4},
        "memory": {0: 16303028},
        "pools": {0: {4: 4075757, 2048: 0, 1048576: 0}},
        "distances": {(0, 0): 10},
        "siblings": {0: {0, 4}, 5: {1, 5}},
    },
    "2s-xeon": {
        "nodes": [0, 1],
        "cpus": 80,
        "cpus_per_node": {0: 40, 1: 40},
        "cores": {0: 20, 1: 20},
        "memory": {0: 200734516, 1: 201250624},
        "pools": {
            0: {4: 32882125, 2048: 1024, 1048576: 64},
            1: {4: 33011152, 2048: 1024, 1048576: 64},
        },
        "distances": {(0, 0): 10, (0, 1): 21, (1, 0): 21, (1, 1): 10},
        "siblings": {0: {0, 40}, 41: {1, 41}, 79: {39, 79}},
    },
    "epyc-nps4": {
        "nodes": list(range(8)),
        "cpus": 128,
        "cpus_per_node": dict.fromkeys(range(8), 16),
        "cores": dict.fromkeys(range(8), 8),
        "memory": {0: 66541432, **dict.fromkeys(range(1, 8), 67108864)},
        "pools": {
            0: {4: 11392478, 2048: 2048, 1048576: 16},
            3: {4: 11534336, 2048: 2048, 1048576: 16},
            4: {4: 15728640, 2048: 2048, 1048576: 0},
        },
        "distances": {(0, 1): 12, (1, 0): 12, (0, 4): 32, (4, 0): 32, (5, 6): 12, (7, 7): 10},
        "siblings": {0: {0, 64}, 41: {41, 105}, 127: {63, 127}},
    },
    "cxl-memory-node": {
        "nodes": [0, 1, 2],
        "cpus": 64,
        "cpus_per_node": {0: 32, 1: 32, 2: 0},
        "cores": {0: 16, 1: 16, 2: 0},
        "memory": {0: 99964776, 1: 100640812, 2: 134217728},
        "pools": {
            0: {4: 22631898, 2048: 512, 1048576: 8},
            2: {4: 33554432, 2048: 0, 1048576: 0},
        },
        "distances": {(0, 1): 11, (1, 0): 11, (0, 2): 20, (2, 0): 20, (2, 1): 20, (2, 2): 10},
        "siblings": {0: {0, 32}, 41: {9, 41}},
    },
}


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_sample_literal_facts(name: str) -> None:
    facts = SAMPLE_FACTS[name]
    path = _sample(name)
    host, diagnostics = load_host(path)
    assert diagnostics == []
    assert host is not None

    # The literals themselves agree with XPath over the file.
    assert _xpath_count(path, "//cells/cell") == len(facts["nodes"])
    assert _xpath_count(path, "//cells/cell/cpus/cpu") == facts["cpus"]
    for node, count in facts["cpus_per_node"].items():
        assert _xpath_count(path, f"//cells/cell[@id='{node}']/cpus/cpu") == count
    for node, kib in facts["memory"].items():
        assert _xpath_count(path, f"//cells/cell[@id='{node}']/memory[@unit='KiB']") == 1
        tree = etree.parse(str(path))
        assert int(tree.xpath(f"string(//cells/cell[@id='{node}']/memory)")) == kib

    assert sorted(host.node_ids) == facts["nodes"]
    assert host.cpu_count == facts["cpus"]
    assert host.memory_kib == sum(
        int(v) for v in etree.parse(str(path)).xpath("//cells/cell/memory/text()")
    )
    for node, count in facts["cpus_per_node"].items():
        assert len(host.cell(node).cpus) == count
    for node, cores in facts["cores"].items():
        assert host.cell(node).cores == cores
    for node, kib in facts["memory"].items():
        assert host.cell(node).memory_kib == kib
    for node, pools in facts["pools"].items():
        assert {p.size_kib: p.count for p in host.cell(node).pages} == pools
        huge = sum(size * count for size, count in pools.items() if size != 4)
        assert host.cell(node).small_page_kib == facts["memory"][node] - huge
    for (a, b), value in facts["distances"].items():
        assert host.distance(a, b) == value
        assert host.distance(b, a) == value, "distances are symmetric"
    by_id = {cpu.id: cpu for cell in host.cells for cpu in cell.cpus}
    for cpu_id, siblings in facts["siblings"].items():
        assert by_id[cpu_id].siblings == siblings


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_sample_distance_matrix_is_symmetric(name: str) -> None:
    host, _ = load_host(_sample(name))
    assert host is not None
    ids = sorted(host.node_ids)
    for a in ids:
        assert host.distance(a, a) == 10
        for b in ids:
            assert host.distance(a, b) == host.distance(b, a)


def test_cxl_memory_node_has_no_cpus() -> None:
    path = _sample("cxl-memory-node")
    host, _ = load_host(path)
    assert host is not None
    assert _xpath_count(path, "//cells/cell[@id='2']/cpus/cpu") == 0
    node2 = host.cell(2)
    assert node2 is not None
    assert node2.cpus == ()
    assert node2.cpu_ids == frozenset()
    assert node2.cores == 0
    assert node2.sockets == frozenset()
    assert node2.memory_kib == 134217728


# ------------------------------------------------------- libvirt's test data


def _corpus_params() -> list[object]:
    if not CORPUS.is_dir():
        return [pytest.param(None, id="corpus-absent")]
    files = sorted(CORPUS.rglob("*.xml"))
    if not files:
        return [pytest.param(None, id="corpus-empty")]
    return [pytest.param(path, id=path.relative_to(CORPUS).as_posix()) for path in files]


def _need(path: Path | None) -> Path:
    if path is None:
        pytest.skip(f"libvirt capabilities corpus not found at {CORPUS}")
    return path


@pytest.mark.parametrize("path", _corpus_params())
def test_corpus_loads_and_matches_xpath(path: Path | None) -> None:
    path = _need(path)
    host, diagnostics = load_host(path)
    codes = [d.code for d in diagnostics]
    assert "VN008" not in codes, [d.message for d in diagnostics]
    assert host is not None
    cells = _xpath_count(path, "/capabilities/host/topology/cells/cell")
    assert len(host.cells) == cells
    if cells == 0:
        assert codes == ["VN009"]
        assert host.cpu_count == 0
    else:
        assert codes == []
    _assert_host_matches(path)


def test_corpus_has_a_cell_less_file() -> None:
    path = _need(CORPUS / "caps-test2.xml" if CORPUS.is_dir() else None)
    assert _xpath_count(path, "//cells/cell") == 0
    host, diagnostics = load_host(path)
    assert host is not None
    assert host.cells == ()
    assert [(d.code, d.severity.label) for d in diagnostics] == [("VN009", "warning")]


@pytest.mark.parametrize("path", _corpus_params())
def test_corpus_host_command(
    path: Path | None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _need(path)
    monkeypatch.setenv("COLUMNS", "400")  # the summary on one line, however long the path
    assert main(["host", str(path)]) == 0
    out, err = capsys.readouterr()
    nodes = _xpath_count(path, "/capabilities/host/topology/cells/cell")
    cpus = _xpath_count(path, "/capabilities/host/topology/cells/cell/cpus/cpu")
    summary = out.splitlines()[0]
    assert re.search(rf"(^|\D){nodes} NUMA node\(s\)", summary), summary
    assert re.search(rf"(^|\D){cpus} CPUs", summary), summary
    assert "Traceback" not in err
    if nodes == 0:
        assert "VN009" in err


# ------------------------------------------------------------------------ CLI


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_host_json(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = _sample(name)
    assert main(["host", str(path), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    document = json.loads(out)
    expected = _xpath_cells(path)
    assert [node["id"] for node in document["nodes"]] == sorted(expected)
    assert document["cpu_count"] == sum(len(c.cpus) for c in expected.values())
    assert document["memory_kib"] == sum(c.memory_kib or 0 for c in expected.values())
    for node in document["nodes"]:
        want = expected[node["id"]]
        assert node["memory_kib"] == want.memory_kib
        assert node["cpu_count"] == len(want.cpus)
        assert (_id_set(node["cpus"]) if node["cpus"] else set()) == set(want.cpus)
        assert node["cores"] == want.cores
        assert {p["size_kib"]: p["count"] for p in node["pages"]} == want.pools
        assert {int(k): v for k, v in node["distances"].items()} == want.distances


def _run_host(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(["host", str(path)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert "internal error" not in err
    return status, out, err


def test_host_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _run_host(tmp_path / "missing.xml", capsys)
    assert status == 2
    assert "no such file" in err
    assert out == ""


def test_host_malformed_xml_reports_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.xml"
    path.write_text("<capabilities>\n  <host>\n</capabilities>\n", encoding="utf-8")
    status, out, err = _run_host(path, capsys)
    assert status == 1
    assert out == ""
    assert "VN008" in err
    assert re.search(r"broken\.xml:3:\d+: VN008", err), err


def test_host_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.xml"
    path.write_bytes(b"")
    status, _, err = _run_host(path, capsys)
    assert status == 1
    assert "VN008" in err


def test_host_domain_root_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "domain.xml"
    path.write_text("<domain type='kvm'><name>x</name></domain>\n", encoding="utf-8")
    status, out, err = _run_host(path, capsys)
    assert status == 1
    assert out == ""
    assert "VN008" in err
    assert "<domain>" in err


BILLION_LAUGHS = """\
<?xml version="1.0"?>
<!DOCTYPE capabilities [
  <!ENTITY lol "LOLMARKER">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<capabilities><host><cpu><arch>&lol3;</arch></cpu></host></capabilities>
"""

EXTERNAL_ENTITY = """\
<?xml version="1.0"?>
<!DOCTYPE capabilities [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<capabilities><host><cpu><arch>&xxe;</arch></cpu></host></capabilities>
"""


@pytest.mark.parametrize(
    ("document", "secret"),
    [(BILLION_LAUGHS, "LOLMARKER"), (EXTERNAL_ENTITY, "root:")],
    ids=["billion-laughs", "external-entity"],
)
def test_host_doctype_entities_rejected(
    document: str, secret: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "entities.xml"
    path.write_text(document, encoding="utf-8")
    status, out, err = _run_host(path, capsys)
    assert status == 1
    assert "VN008" in err
    assert secret not in out
    assert secret not in err


def _caps_with(cpu_id: str = "0", memory: str = "1048576") -> str:
    return (
        "<capabilities><host><topology><cells num='1'><cell id='0'>"
        f"<memory unit='KiB'>{memory}</memory>"
        f"<cpus num='1'><cpu id='{cpu_id}'/></cpus>"
        "</cell></cells></topology></host></capabilities>\n"
    )


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(_caps_with(cpu_id="x"), id="cpu-id-x"),
        pytest.param(_caps_with(cpu_id="-1"), id="cpu-id-negative"),
        pytest.param(_caps_with(memory="lots"), id="memory-text"),
        # str.isdigit() accepts these; they must be VN008, not a crash or a CPU id.
        pytest.param(
            _caps_with(cpu_id="\u00b2"),
            id="cpu-id-superscript",
        ),
        pytest.param(
            _caps_with(memory="\u00b2"),
            id="memory-superscript",
        ),
        pytest.param(
            _caps_with(cpu_id="\u0661"),
            id="cpu-id-arabic-indic",
        ),
    ],
)
def test_host_bad_numbers_rejected(
    document: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "caps.xml"
    path.write_text(document, encoding="utf-8")
    status = main(["host", str(path)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert status == 1, err
    assert "VN008" in err
    assert out == ""


def test_host_good_numbers_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "caps.xml"
    path.write_text(_caps_with(cpu_id="3"), encoding="utf-8")
    assert main(["host", str(path)]) == 0
    out, _ = capsys.readouterr()
    assert "1 NUMA node(s)" in out
    assert "1 CPUs" in out


def test_host_text_view_of_2s_xeon(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["host", str(_sample("2s-xeon"))]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "2 NUMA node(s)" in out
    assert "80 CPUs" in out
    assert "0-19,40-59" in out
    assert "20-39,60-79" in out
    assert "2MiB x 1024" in out
    assert "1GiB x 64" in out
    lines = out.splitlines()
    matrix = lines[lines.index("distances:") + 1 :]
    rows = [line.split() for line in matrix]
    assert rows == [["0", "1"], ["0", "10", "21"], ["1", "21", "10"]]


def test_host_text_view_of_cpu_less_node(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["host", str(_sample("cxl-memory-node"))]) == 0
    out, _ = capsys.readouterr()
    node2 = next(line for line in out.splitlines() if line.startswith("2 "))
    assert "(none)" in node2


@pytest.mark.parametrize(
    ("unit", "value", "kib"),
    [("KiB", "1024", 1024), ("MiB", "3", 3072), ("GiB", "2", 2097152), ("bytes", "4096", 4)],
)
def test_memory_unit_attribute_honoured(unit: str, value: str, kib: int, tmp_path: Path) -> None:
    path = tmp_path / "caps.xml"
    path.write_text(
        _caps_with().replace(
            "<memory unit='KiB'>1048576</memory>", f"<memory unit='{unit}'>{value}</memory>"
        ),
        encoding="utf-8",
    )
    assert _kib(value, unit) == kib
    host, diagnostics = load_host(path)
    assert diagnostics == []
    assert host is not None
    assert host.cell(0).memory_kib == kib
