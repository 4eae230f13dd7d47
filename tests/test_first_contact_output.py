"""Issue 18, output: text that fits the terminal, the emulator pin drawn, pinned CPUs that
read without hovering, labels and legend, and the mode of new output files."""

from __future__ import annotations

import os
import re
import stat
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from tests.conftest import HOSTS, INTENTS, REPO, SAMPLES
from tests.sysfs_trees import laptop_1n

XEON = HOSTS / "2s-xeon.xml"
NEGATIVE = [SAMPLES / "negative" / "hv01" / name for name in ("db01.xml", "db02.xml")]
SVG = {"s": "http://www.w3.org/2000/svg"}

# --- text fits the terminal --------------------------------------------------------------


def _numbers(text: str) -> Counter[str]:
    """Every number in the text, as often as it occurs: a number cut by a line break
    would turn into two others."""
    return Counter(re.findall(r"\d+(?:\.\d+)?", text))


def _narrow_and_wide(run_cli, monkeypatch, *args: object) -> tuple[str, str]:
    outputs = []
    for columns in ("80", "400"):
        monkeypatch.setenv("COLUMNS", columns)
        result = run_cli(*args)
        assert result.code in (0, 1), result.err
        outputs.append(result.out)
    return outputs[0], outputs[1]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("fit", INTENTS / "auto-epyc-isolate.yaml", "--host", HOSTS), id="fit"),
        pytest.param(("host", HOSTS / "2s-xeon-live.xml"), id="host"),
        pytest.param(("host", HOSTS / "epyc-nps4.xml"), id="host-8-nodes"),
        pytest.param(("show", "--host", XEON, *NEGATIVE), id="show-problems"),
        pytest.param(("show", "--host", XEON, INTENTS / "auto-dedicated.yaml"), id="show"),
    ],
)
def test_80_columns_wrap_and_keep_every_number(run_cli, monkeypatch, args) -> None:
    narrow, wide = _narrow_and_wide(run_cli, monkeypatch, *args)
    assert max(len(line) for line in narrow.splitlines()) <= 80
    assert max(len(line) for line in wide.splitlines()) > 80  # there was something to wrap
    assert _numbers(narrow) == _numbers(wide)
    assert "…" not in narrow + wide
    assert Counter(narrow.split()) == Counter(wide.split())  # the same words


def test_fit_reasons_go_under_their_row_when_the_columns_leave_no_room(
    run_cli, monkeypatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    hosts = ("--host", HOSTS / "cxl-memory-node.xml", "--host", HOSTS / "epyc-nps4.xml")
    result = run_cli("fit", INTENTS / "auto-epyc-isolate.yaml", *hosts)
    assert result.out.splitlines() == [
        "host                               fits  nodes    distance  dedicated  why not",
        "samples/hosts/cxl-memory-node.xml  no    -        -         -",
        "    VN602 guest cell 0 fits on no host node: needs 16 x 1 GiB pages, nodes",
        "    0-1 have 8 (short by 8); needs 16 x 1 GiB pages, node 2 has 0 (short by 16)",
        "samples/hosts/epyc-nps4.xml        yes   0,1,2,3  72        16",
        "1 of 2 host(s) can take the guest.",
    ]


def test_fit_reasons_wrap_in_their_column_when_there_is_room(run_cli, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.chdir(HOSTS)  # short host names leave the reason 31 columns
    result = run_cli("fit", INTENTS / "auto-dedicated.yaml", "--host", "laptop-1n.xml")
    assert result.out.splitlines() == [
        "host           fits  nodes  distance  dedicated  why not",
        "laptop-1n.xml  no    -      -         -          VN602 guest cell 0 fits on no",
        "                                                 host node: needs 32 x 1 GiB",
        "                                                 pages, node 0 has 0",
        "                                                 (short by 32)",
        "0 of 1 host(s) can take the guest.",
    ]


def test_host_table_wraps_its_pools_column(run_cli, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    lines = run_cli("host", HOSTS / "2s-xeon-live.xml").out.splitlines()
    assert lines[:2] == [
        "host samples/hosts/2s-xeon-live.xml (x86_64): 2 socket(s), 2 NUMA node(s),",
        "  80 CPUs, 40 cores, 383.36 GiB memory",
    ]
    start = lines.index(
        "node  socket  cpus         cores  thr/core  memory      hugepage pools   free"
    )
    assert lines[start + 1 : start + 5] == [
        "0     0       0-19,40-59   20     2         191.44 GiB  2MiB x 1024      40 GiB",
        "                                                        (512 free),",
        "                                                        1GiB x 64",
        "                                                        (16 free)",
    ]


def test_a_path_longer_than_the_terminal_breaks_at_a_slash(run_cli, monkeypatch, tmp_path) -> None:
    deep = tmp_path / ("d" * 40) / ("e" * 40)
    deep.mkdir(parents=True)
    (deep / "host.xml").write_bytes((HOSTS / "laptop-1n.xml").read_bytes())
    monkeypatch.setenv("COLUMNS", "80")
    out = run_cli("host", deep / "host.xml").out
    assert max(len(line) for line in out.splitlines()) <= 80
    summary = out.split("\n\n")[0].splitlines()
    assert summary[0].endswith("/") and summary[1].startswith("  ")
    assert "".join(line.strip() for line in summary).startswith(f"host {deep}/host.xml (x86_64):")


def test_distance_matrix_of_many_nodes_comes_in_blocks_of_columns() -> None:
    from vnuma.libvirt.capabilities import load_host
    from vnuma.view.host import render_text

    host, _ = load_host(HOSTS / "epyc-nps4.xml")
    assert host is not None
    lines = render_text(host, width=22).splitlines()
    matrix = lines[lines.index("distances:") + 1 :]
    assert matrix[:2] == ["     0  1  2  3  4  5", "  0 10 12 12 12 32 32"]
    assert matrix[9:11] == ["     6  7", "  0 32 32"]
    assert len(matrix) == 18 and max(len(line) for line in matrix) <= 22


def test_show_problem_lines_wrap_under_their_code(run_cli, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    lines = run_cli("show", "--host", XEON, *NEGATIVE).out.splitlines()
    first = lines.index(
        "! VN502 samples/negative/hv01/db01.xml: strictly bound guest memory on host"
    )
    assert lines[first + 1 : first + 3] == [
        "        node(s) 0: 140 GiB needed, 125.44 GiB available",
        "        (db01: cell 0 80 GiB; db02: cell 0 60 GiB)",
    ]
    assert lines[2:4] == [
        "    0 [....A.A.!.!.............................] OVER 140GiB/125.44GiB bound",
        "                                                 2M:0/1024 1G:0/64 A0,B0",
    ]


def test_coloured_show_measures_what_is_visible(run_cli, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    out = run_cli("show", "--host", XEON, *NEGATIVE, "--color", "always").out
    plain = re.sub(r"\033\[[0-9;]*m", "", out)
    assert "\033[" in out
    assert max(len(line) for line in plain.splitlines()) <= 80
    assert (
        plain.splitlines()[3]
        == "                                                 2M:0/1024 1G:0/64 A0,B0"
    )


# --- the emulator pin, pinned CPUs, labels and legend -------------------------------------

FLOATING = """<domain type='kvm'>
  <name>float01</name>
  <memory unit='GiB'>8</memory>
  <vcpu placement='static'>2</vcpu>
  <cputune>
    <vcpupin vcpu='0' cpuset='20-23'/>
    <vcpupin vcpu='1' cpuset='20-23'/>
    <emulatorpin cpuset='6'/>
  </cputune>
  <numatune><memory mode='strict' nodeset='1'/></numatune>
  <os><type arch='x86_64' machine='pc-q35-8.2'>hvm</type></os>
</domain>
"""

PINNED = """<domain type='kvm'>
  <name>pin01</name>
  <memory unit='GiB'>4</memory>
  <vcpu placement='static'>2</vcpu>
  <cputune>
    <vcpupin vcpu='0' cpuset='2'/>
    <vcpupin vcpu='1' cpuset='42'/>
    <emulatorpin cpuset='0-1'/>
  </cputune>
  <numatune><memory mode='strict' nodeset='0'/></numatune>
  <os><type arch='x86_64' machine='pc-q35-8.2'>hvm</type></os>
</domain>
"""


@pytest.fixture
def guests(write) -> list[Path]:
    return [write("float01.xml", FLOATING), write("pin01.xml", PINNED)]


def test_text_view_draws_and_lists_the_emulator_pin(run_cli, monkeypatch, guests) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = run_cli("show", "--host", XEON, *guests)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    # node 0's CPUs by core: 0,40 1,41 2,42 ...: pin01's emulator on 0 and 1, its vCPUs on
    # 2 and 42, float01's emulator on 6
    assert lines[2].startswith("    0 [+.+.BB......+...........................] ")
    assert "legend: . free  / reserved  ! two guests on one CPU  UPPER dedicated" in lines
    assert "        lower floating  + emulator threads" in lines
    assert "  A float01: 2 vCPUs, 8 GiB strict, 0 pinned, emulator on CPU 6" in lines
    assert "  B pin01: 2 vCPUs, 4 GiB strict, 2 pinned, emulator on CPUs 0-1" in lines


def _svg(run_cli, tmp_path: Path, guests: list[Path]) -> etree._Element:
    out = tmp_path / "view.svg"
    result = run_cli("show", "--host", XEON, *guests, "-o", out)
    assert result.code == 0, result.err
    return etree.fromstring(out.read_bytes())


def _by_class(root: etree._Element, tag: str, cls: str) -> list[etree._Element]:
    return [
        el for el in root.iter(f"{{{SVG['s']}}}{tag}") if cls in (el.get("class") or "").split()
    ]


def _legend(root: etree._Element) -> list[str]:
    (legend,) = _by_class(root, "g", "legend")
    return [text.text for text in legend.iter(f"{{{SVG['s']}}}text")]


def test_svg_marks_the_emulator_pin_in_its_guests_colour(run_cli, tmp_path, guests) -> None:
    root = _svg(run_cli, tmp_path, guests)
    marks = _by_class(root, "g", "emulator")
    assert sorted((m.get("data-cpu"), m.get("data-guest")) for m in marks) == [
        ("0", "1"),
        ("1", "1"),
        ("6", "0"),
    ]
    six = next(m for m in marks if m.get("data-cpu") == "6")
    assert six.find("s:polygon", SVG).get("fill") == "#0072B2"  # float01's colour
    (rect,) = [r for r in _by_class(root, "rect", "cpu") if r.get("data-cpu") == "6"]
    assert rect.findtext("s:title", namespaces=SVG) == "CPU 6; emulator threads: float01"
    legend = _legend(root)
    assert "emulator threads: corner mark in the guest colour" in legend
    assert "float01 · 2 vCPUs (0 pinned) · 8 GiB strict · emulator on CPU 6" in legend


def test_html_guests_table_lists_the_emulator_cpus(run_cli, tmp_path, guests) -> None:
    out = tmp_path / "view.html"
    assert run_cli("show", "--host", XEON, *guests, "-o", out).code == 0
    doc = lxml_html.document_fromstring(out.read_text(encoding="utf-8"))
    table = next(t for t in doc.find_class("guests") if t.tag == "table")
    head = [th.text_content() for th in table.findall("thead/tr/th")]
    assert head[-1] == "Emulator threads on CPUs"
    rows = {
        r.find("th").text_content(): r.findall("td")[-1].text_content()
        for r in table.findall("tbody/tr")
    }
    assert rows == {"float01": "6", "pin01": "0-1"}


def test_a_pinned_cpu_shows_its_host_id_and_the_vcpu(run_cli, tmp_path, guests) -> None:
    root = _svg(run_cli, tmp_path, guests)
    boxes = {int(r.get("data-cpu")): r for r in _by_class(root, "rect", "cpu")}
    ids = _by_class(root, "text", "cpu-id")
    assert sorted(int(t.text) for t in ids) == sorted(boxes)  # every CPU shows its id
    for pin in _by_class(root, "g", "pin"):
        cpu = int(pin.get("data-cpu"))
        assert pin.find("s:text", SVG).text == f"v{pin.get('data-vcpu')}"
        (label,) = [t for t in ids if t.text == str(cpu)]
        box = boxes[cpu]
        x, y = float(box.get("x")), float(box.get("y"))
        assert x < float(label.get("x")) < x + 22 and y < float(label.get("y")) < y + 11
    assert sorted(int(p.get("data-cpu")) for p in _by_class(root, "g", "pin")) == [2, 42]
    assert "dedicated pin in the guest colour: host CPU id on top, guest vCPU below (v0)" in (
        _legend(root)
    )


def test_guests_without_cells_are_not_called_memory_only(run_cli, tmp_path, guests) -> None:
    root = _svg(run_cli, tmp_path, guests)
    labels = {
        cell.get("data-guest"): cell.findtext("s:title", namespaces=SVG)
        for cell in _by_class(root, "g", "cell")
    }
    assert labels == {
        "0": "float01 · 8 GiB · no cells, vCPUs float",
        "1": "pin01 · 4 GiB · no cells, vCPUs pinned",
    }
    assert all(cell.get("data-cell") is None for cell in _by_class(root, "g", "cell"))
    assert len(_by_class(root, "rect", "float")) == 4  # float01's vCPUs over CPUs 20-23


def test_the_free_memory_line_is_in_the_legend(run_cli, tmp_path) -> None:
    root = _svg(run_cli, tmp_path, [INTENTS / "db-strict.yaml"])
    (legend,) = _by_class(root, "g", "legend")
    swatches = [g for g in legend.iter(f"{{{SVG['s']}}}g")]
    texts = _legend(root)
    row = texts.index("green line under a bar: memory or pages free when the host was captured")
    # the legend group and its title come first, then a swatch group and a text per row
    (line,) = swatches[row]
    assert (line.get("fill"), line.get("height")) == ("#1A9850", "3")
    free = _by_class(root, "rect", "free")
    assert not free  # 2s-xeon.xml records no free figures; the legend says what it would be


# --- the mode of new output files ---------------------------------------------------------


def _vnuma(run_cli, args: list[str | Path], umask: int) -> None:
    """`vnuma ARGS` in this process under ``umask`` (the mode of a new file is the kernel's
    doing: the same in a fresh process, without its half-second start)."""
    previous = os.umask(umask)
    try:
        result = run_cli(*args)
    finally:
        os.umask(previous)
    assert result.code == 0, result.err


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o077], ids=["umask-022", "umask-077"])
def test_new_output_files_get_the_umask_mode_and_old_ones_keep_theirs(
    run_cli, monkeypatch, tmp_path, machine_tree, umask
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")  # capture: same bytes twice
    system = machine_tree(laptop_1n)
    outputs = {
        "compile": ["compile", INTENTS / "db-strict.yaml", "--host", XEON, "-o"],
        "capture": ["capture", "--sysfs-root", system, "-o"],
        "show": ["show", "--host", XEON, INTENTS / "db-strict.yaml", "-o"],
    }
    suffix = {"compile": ".xml", "capture": ".xml", "show": ".svg"}
    for name, args in outputs.items():
        new = tmp_path / f"new-{name}{suffix[name]}"
        old = tmp_path / f"old-{name}{suffix[name]}"
        old.write_text("previous\n", encoding="utf-8")
        old.chmod(0o640)
        _vnuma(run_cli, [*args, new], umask)
        _vnuma(run_cli, [*args, old], umask)
        assert (name, _mode(new)) == (name, 0o666 & ~umask)
        assert (name, _mode(old)) == (name, 0o640)
        assert old.read_text(encoding="utf-8") == new.read_text(encoding="utf-8") != "previous\n"
    assert not list(tmp_path.glob(".*.tmp"))
