"""`vnuma show` pictures: the SVG's structure, its safety, snapshots, the HTML page, a browser."""

from __future__ import annotations

import os
import shutil
import struct
import time
import zlib
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode
from vnuma.codes import make_diagnostic
from vnuma.libvirt.capabilities import load_host
from vnuma.load.intent import load_intent
from vnuma.model.host import HostTopology
from vnuma.model.intent import Intent
from vnuma.place import place
from vnuma.runner import intent_from_raw
from vnuma.view.html import render_html
from vnuma.view.model import HostView, build_view
from vnuma.view.svg import render_svg

from tests.conftest import HOSTS, INTENTS, REPO, run_process

SVG_NS = "http://www.w3.org/2000/svg"
NS = {"s": SVG_NS}


class SvgSnapshotExtension(SingleFileSnapshotExtension):
    file_extension = "svg"
    _write_mode = WriteMode.TEXT


@pytest.fixture
def snapshot_svg(snapshot):
    return snapshot.with_defaults(extension_class=SvgSnapshotExtension)


# --- building views ----------------------------------------------------------------------


def _host(name: str) -> HostTopology:
    shown = f"samples/hosts/{name}"
    host, _ = load_host(HOSTS / name, shown)
    assert host is not None
    return host


def _intent(path: Path) -> Intent:
    intent, diagnostics = intent_from_raw(load_intent(path, path.name))
    assert intent is not None, diagnostics
    return intent


def _small_epyc_guest(tmp_path: Path) -> Intent:
    """auto-epyc-isolate, renamed and made smaller: 2 cells, 32 GiB on small pages.

    The sample's 1 GiB pages exist only on socket 0's nodes and the first guest takes them
    all, so an exact copy fits nowhere beside it (VN602).
    """
    text = (INTENTS / "auto-epyc-isolate.yaml").read_text(encoding="utf-8")
    for old, new in (
        ("name: hpc-auto", "name: hpc-small"),
        ("vcpus: 16", "vcpus: 8"),
        ("memory: 64GiB", "memory: 32GiB"),
        ("cells: 4", "cells: 2"),
        ("hugepages: {size: 1GiB}\n", ""),
    ):
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "hpc-small.yaml"
    path.write_text(text, encoding="utf-8")
    return _intent(path)


def xeon_view() -> HostView:
    host = _host("2s-xeon.xml")
    guest = place(_intent(INTENTS / "auto-dedicated.yaml"), host).guest
    assert guest is not None
    return build_view(host, [guest], diagnostics=[])


def epyc_view(tmp_path: Path) -> HostView:
    host = _host("epyc-nps4.xml")
    first = place(_intent(INTENTS / "auto-epyc-isolate.yaml"), host).guest
    assert first is not None
    second = place(_small_epyc_guest(tmp_path), host, occupied=[first])
    assert second.ok and second.guest is not None, second.diagnostics
    return build_view(host, [first, second.guest], diagnostics=[])


def conflict_view(tmp_path: Path) -> HostView:
    """Both guests placed as if alone: the second one's pins land on the first one's CPUs."""
    host = _host("epyc-nps4.xml")
    first = place(_intent(INTENTS / "auto-epyc-isolate.yaml"), host).guest
    # alone, small-page cells go to socket 1 (the most small-page memory left): pin them
    # among the first guest's nodes 0-3 so that they collide
    small = _small_epyc_guest(tmp_path)
    second = place(
        small._replace(
            cpu=small.cpu._replace(reserved=frozenset([*range(32, 64), *range(96, 128)]))
        ),
        host,
    ).guest
    assert first is not None and second is not None
    problem = make_diagnostic("VN501", "host CPUs 8-11 pinned by hpc-auto and hpc-small", "a.xml")
    return build_view(host, [first, second], diagnostics=[problem])


@pytest.fixture(params=["xeon", "epyc"])
def sample_view(request, tmp_path) -> HostView:
    return xeon_view() if request.param == "xeon" else epyc_view(tmp_path)


# --- parsing -----------------------------------------------------------------------------


def parse_svg(text: str) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(text.encode("utf-8"), parser)
    assert root.tag == f"{{{SVG_NS}}}svg"
    return root


def by_class(root: etree._Element, tag: str, cls: str) -> list[etree._Element]:
    """Elements whose class list contains `cls`."""
    return [el for el in root.iter(f"{{{SVG_NS}}}{tag}") if cls in (el.get("class") or "").split()]


def assert_nothing_external(root: etree._Element) -> None:
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        assert etree.QName(el).localname.lower() not in ("script", "foreignobject", "iframe")
        for name, value in el.attrib.items():
            lowered = value.strip().lower()
            assert not lowered.startswith(("http", "//", "file:", "data:")), (name, value)
            assert not name.lower().startswith("on"), name
            if etree.QName(name).localname == "href":
                assert lowered.startswith("#"), value
            if "url(" in lowered:
                assert "url(#" in lowered, value


# --- structure ---------------------------------------------------------------------------


def test_svg_has_one_element_per_node_socket_cpu_pin_and_distance(sample_view: HostView):
    root = parse_svg(render_svg(sample_view))
    view = sample_view
    all_cpus = [cpu for node in view.nodes for cpu in node.cpus]
    pins = sum(len(cpu.pins) for cpu in all_cpus)

    assert len(by_class(root, "g", "socket")) == len(view.sockets)
    nodes = by_class(root, "g", "node")
    assert [n.get("data-node") for n in nodes] == [
        str(node_id) for _, ids in view.sockets for node_id in ids
    ]
    for socket in by_class(root, "g", "socket"):
        socket_id = socket.get("data-socket")
        expected = next(ids for s, ids in view.sockets if str(s) == socket_id)
        assert [n.get("data-node") for n in by_class(socket, "g", "node")] == list(
            map(str, expected)
        )
    cpu_rects = by_class(root, "rect", "cpu")
    assert sorted(int(r.get("data-cpu")) for r in cpu_rects) == sorted(c.id for c in all_cpus)
    reserved = by_class(root, "rect", "reserved")
    assert len(reserved) == sum(cpu.reserved for cpu in all_cpus)
    assert all(r.get("fill") == "url(#hatch)" for r in reserved)
    assert len(by_class(root, "g", "pin")) == pins == sum(g.dedicated for g in view.guests)
    assert len(by_class(root, "rect", "distance")) == len(view.nodes) ** 2
    assert len(by_class(root, "g", "pool")) == sum(len(node.pools) for node in view.nodes)
    assert len(by_class(root, "g", "memory")) == len(view.nodes)
    assert len(by_class(root, "g", "cell")) == sum(len(node.cells) for node in view.nodes)
    assert not by_class(root, "g", "conflict")
    assert not by_class(root, "g", "problem")


def test_xeon_counts_and_labels():
    view = xeon_view()
    root = parse_svg(render_svg(view))
    assert len(by_class(root, "g", "node")) == 2
    assert len(by_class(root, "g", "socket")) == 2
    assert len(by_class(root, "rect", "cpu")) == 80
    assert len(by_class(root, "rect", "reserved")) == 4  # host CPUs 0-1 and siblings 40-41
    assert len(by_class(root, "g", "pin")) == 16
    assert len(by_class(root, "rect", "distance")) == 4
    pin = next(p for p in by_class(root, "g", "pin") if p.get("data-vcpu") == "0")
    assert pin.get("data-guest") == "0"
    assert pin.findtext("s:text", namespaces=NS) == "v0"  # the guest's vCPU; the host id beside
    labels = [c.findtext("s:text", namespaces=NS) for c in by_class(root, "g", "cell")]
    assert labels == ["db-auto cell 0 · 32 GiB · vCPUs 0-7", "db-auto cell 1 · 32 GiB · vCPUs 8-15"]


def test_epyc_counts(tmp_path):
    # 8 nodes of 16 CPUs in 2 sockets; 16 + 8 dedicated pins; an 8x8 distance table.
    view = epyc_view(tmp_path)
    root = parse_svg(render_svg(view))
    assert len(by_class(root, "g", "node")) == 8
    assert len(by_class(root, "g", "socket")) == 2
    assert len(by_class(root, "rect", "cpu")) == 128
    assert len(by_class(root, "rect", "reserved")) == 0
    assert len(by_class(root, "g", "pin")) == 24
    assert len(by_class(root, "rect", "distance")) == 64


def test_svg_is_self_contained_accessible_and_sized(sample_view: HostView):
    text = render_svg(sample_view)
    root = parse_svg(text)
    assert_nothing_external(root)
    assert "<script" not in text.lower()
    width, height = int(root.get("width")), int(root.get("height"))
    assert 0 < width <= 1600 and height > 0
    assert root.get("viewBox") == f"0 0 {width} {height}"
    title = root.find("s:title", NS)
    desc = root.find("s:desc", NS)
    assert title is not None and sample_view.source in title.text
    assert desc is not None and "host nodes" in desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    fonts = {el.get("font-family") for el in root.iter() if el.get("font-family")}
    assert fonts <= {"sans-serif", "monospace"}
    assert root.find("s:defs/s:pattern[@id='hatch']", NS) is not None


def test_svg_is_deterministic(tmp_path):
    assert render_svg(epyc_view(tmp_path)) == render_svg(epyc_view(tmp_path))
    assert render_html(xeon_view()) == render_html(xeon_view())


def test_snapshot_xeon(snapshot_svg):
    assert render_svg(xeon_view()) == snapshot_svg


def test_snapshot_epyc_two_guests(snapshot_svg, tmp_path):
    assert render_svg(epyc_view(tmp_path)) == snapshot_svg


def test_text_is_escaped():
    view = xeon_view()
    odd = view.guests[0]._replace(name='db<&>"x')
    odd_view = view._replace(guests=(odd,), source="a&b<c>.xml")
    text = render_svg(odd_view)
    root = parse_svg(text)
    assert 'db<&>"x' in "".join(root.itertext())
    page = render_html(odd_view)
    assert "a&amp;b&lt;c&gt;.xml" in page and "a&b<c>" not in page


def test_floating_guest_and_memory_only_node():
    host = _host("cxl-memory-node.xml")
    guest = place(_intent(INTENTS / "auto-tiered-node.yaml"), host).guest
    assert guest is not None
    view = build_view(host, [guest], diagnostics=[])
    root = parse_svg(render_svg(view))
    floating = sum(len(cpu.floating) for node in view.nodes for cpu in node.cpus)
    assert floating == 32
    outlines = by_class(root, "rect", "float")
    assert len(outlines) == floating
    assert {r.get("stroke") for r in outlines} == {view.guests[0].colour}
    assert not by_class(root, "g", "pin")
    sockets = [s.get("data-socket") for s in by_class(root, "g", "socket")]
    assert sockets == ["0", "none"]
    assert len(by_class(root, "g", "node")) == 3


# --- conflicts and problems --------------------------------------------------------------


def test_cpu_pinned_twice_is_red_with_rule_code(tmp_path):
    view = conflict_view(tmp_path)
    twice = sorted(cpu.id for node in view.nodes for cpu in node.cpus if len(cpu.pins) > 1)
    assert twice, "the two guests were expected to collide"
    root = parse_svg(render_svg(view))
    conflicts = by_class(root, "g", "conflict")
    assert sorted(int(c.get("data-cpu")) for c in conflicts) == twice
    for conflict in conflicts:
        assert conflict.get("data-code") == "VN501"
        assert any(el.get("stroke") == "#D7191C" for el in conflict)
    pins = by_class(root, "g", "pin")
    assert len(pins) == sum(len(cpu.pins) for node in view.nodes for cpu in node.cpus) == 24
    issues = by_class(root, "g", "issue")
    assert issues and all(i.get("data-code") == "VN501" for i in issues)
    assert all(i.find("s:text", NS).get("fill") == "#D7191C" for i in issues)
    problems = by_class(root, "g", "problem")
    assert len(problems) == 1 and problems[0].get("data-code") == "VN501"
    text = problems[0].find("s:text", NS)
    assert text.get("fill") == "#D7191C" and text.text.startswith("VN501 error a.xml")
    red_nodes = [
        n.get("data-node")
        for n in by_class(root, "g", "node")
        if n.find("s:rect", NS).get("stroke") == "#D7191C"
    ]
    assert red_nodes == sorted({str(n.id) for n in view.nodes for c in n.cpus if len(c.pins) > 1})


def test_overcommitted_node_and_pool_are_red():
    host = _host("2s-xeon.xml")
    intent = _intent(INTENTS / "auto-dedicated.yaml")
    guests = [place(intent, host).guest for _ in range(3)]  # 3 x 32 pages of 64 per node
    view = build_view(host, guests, diagnostics=[])
    assert all(node.overcommitted for node in view.nodes)
    root = parse_svg(render_svg(view))
    pools = [p for p in by_class(root, "g", "pool") if p.get("data-overcommitted") == "true"]
    assert [p.get("data-size-kib") for p in pools] == ["1048576", "1048576"]
    codes = [i.get("data-code") for i in by_class(root, "g", "issue")]
    assert codes.count("VN503") == 2 and codes.count("VN501") == 2


# --- HTML --------------------------------------------------------------------------------


def test_html_page_is_standalone_with_tables(sample_view: HostView):
    page = render_html(sample_view)
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page
    assert "<script" not in page.lower()
    doc = lxml_html.document_fromstring(page)
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        for name, value in el.attrib.items():
            if name == "xmlns" and value == SVG_NS:
                continue  # the SVG namespace name: an identifier, never fetched
            assert not value.strip().lower().startswith(("http", "//", "file:")), (name, value)
    assert doc.find(".//title").text.endswith(sample_view.source)
    svg = doc.find(".//svg")
    assert svg is not None and svg.get("role") == "img"
    ids = svg.get("aria-labelledby").split()
    assert [doc.get_element_by_id(i).tag for i in ids] == ["title", "desc"]
    nodes = doc.find_class("nodes")[0]
    rows = nodes.findall("tbody/tr")
    assert [r.find("th").text for r in rows] == [f"node {n.id}" for n in sample_view.nodes]
    distances = doc.find_class("distances")
    table = next(t for t in distances if t.tag == "table")
    assert len(table.findall("tbody/tr")) == len(sample_view.nodes)
    assert {th.get("scope") for th in table.iter("th")} == {"col", "row"}
    guests = next(t for t in doc.find_class("guests") if t.tag == "table")
    assert len(guests.findall("tbody/tr")) == len(sample_view.guests)
    assert "vCPU 0 → CPU " in guests.text_content()


def test_html_lists_problems(tmp_path):
    doc = lxml_html.document_fromstring(render_html(conflict_view(tmp_path)))
    table = next(t for t in doc.find_class("problems") if t.tag == "table")
    (row,) = table.findall("tbody/tr")
    assert [c.text_content() for c in row] == [
        "VN501",
        "error",
        "host CPUs 8-11 pinned by hpc-auto and hpc-small",
        "a.xml",
    ]


# --- a real browser ----------------------------------------------------------------------


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("VNUMA_REQUIRE_BROWSER") == "1":
        pytest.fail("VNUMA_REQUIRE_BROWSER=1 but no chromium, chromium-browser or google-chrome")
    return None


def screenshot(browser: str, page: Path, out: Path, size: tuple[int, int]) -> None:
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--window-size={size[0]},{size[1]}",
        f"--screenshot={out}",
        page.resolve().as_uri(),
    ]
    run_process(cmd, cwd=out.parent, env=dict(os.environ), timeout=90)


def png_facts(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, inflated image data) of a PNG, stdlib only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, width, height, idat = 8, 0, 0, b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        chunk = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        offset += 12 + length
    return width, height, zlib.decompress(idat)


@pytest.mark.slow
@pytest.mark.browser
def test_chromium_renders_the_html(tmp_path):
    browser = find_chromium()
    if browser is None:
        pytest.skip("no chromium, chromium-browser or google-chrome on PATH")
    for name, view in (("xeon", xeon_view()), ("epyc", epyc_view(tmp_path))):
        page = tmp_path / f"{name}.html"
        page.write_text(render_html(view), encoding="utf-8")
        out = tmp_path / f"{name}.png"
        started = time.monotonic()
        screenshot(browser, page, out, (1400, 1000))
        assert out.is_file(), f"no screenshot after {time.monotonic() - started:.1f}s"
        width, height, pixels = png_facts(out.read_bytes())
        assert (width, height) == (1400, 1000)
        assert len(set(pixels)) > 64, "screenshot looks blank"
        rows = {pixels[i : i + 512] for i in range(0, len(pixels), len(pixels) // 200)}
        assert len(rows) > 20, "screenshot looks like one colour"


def test_docs_picture_is_current():
    """docs/images holds what `python docs/generate_picture.py` writes today."""
    source = (REPO / "docs" / "generate_picture.py").read_text(encoding="utf-8")
    assert "python docs/generate_picture.py" in source
    picture = REPO / "docs" / "images" / "host-2s-xeon-db-auto.svg"
    assert picture.read_text(encoding="utf-8") == render_svg(xeon_view()), (
        "run: python docs/generate_picture.py"
    )
