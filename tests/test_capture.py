"""`vnuma capture`: the host-state addition, libvirt capture, and snapshots written from a model."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree
from vnuma.commands.capture import FreeState, annotate, capabilities_xml
from vnuma.libvirt.capabilities import load_host, load_host_bytes
from vnuma.libvirt.hoststate import FREE_MEMORY_PI, FREE_PAGES_PI, STATE_PI
from vnuma.load.xmlsafe import parse_xml
from vnuma.model.host import HostTopology

from tests.conftest import HOSTS, SHARED_CORPUS

try:
    import libvirt
except ImportError:  # the optional extra vnuma[libvirt]
    libvirt = None

RNG = Path("/usr/share/libvirt/schemas/capability.rng")
TEST_DRIVER_CAPS = (
    SHARED_CORPUS / "capabilities" / "generated" / "virsh-test-default-libvirt-9.0.0.xml"
)
_skip_without_libvirt_python = pytest.mark.skipif(
    libvirt is None and not os.environ.get("VNUMA_REQUIRE_LIBVIRT_PYTHON"),
    reason="libvirt-python not installed (pip install 'vnuma[libvirt]')",
)


def needs_libvirt_python(test):
    """libvirt-python against the test:///default driver (CI: `pytest -m libvirt`)."""
    return pytest.mark.libvirt(_skip_without_libvirt_python(test))


def comparable(host: HostTopology) -> HostTopology:
    """The model without where it was read from."""
    cells = tuple(cell._replace(span=None) for cell in host.cells)
    return host._replace(source="", cells=cells, captured_at=None, captured_from=None)


def xeon_root():
    root, problem = parse_xml((HOSTS / "2s-xeon.xml").read_bytes())
    assert problem is None
    return root


def test_annotate_puts_free_memory_and_pages_inside_each_cell() -> None:
    state = FreeState(memory_kib={0: 1000, 1: 2000}, pages={0: {2048: 7, 1048576: 3}, 1: {2048: 9}})
    data = annotate(xeon_root(), state, "qemu:///system", "2026-11-26T08:00:00Z")
    host, diagnostics = load_host_bytes(data, "caps.xml")
    assert diagnostics == [] and host is not None
    assert [c.free_memory_kib for c in host.cells] == [1000, 2000]
    assert {p.size_kib: p.free for p in host.cells[0].pages} == {4: None, 2048: 7, 1048576: 3}
    assert {p.size_kib: p.free for p in host.cells[1].pages} == {4: None, 2048: 9, 1048576: None}
    assert (host.captured_at, host.captured_from) == ("2026-11-26T08:00:00Z", "qemu:///system")
    # Apart from the instructions, the topology is exactly the snapshot's.
    original, _ = load_host(HOSTS / "2s-xeon.xml")
    assert original is not None
    assert comparable(host).cells[0].cpus == comparable(original).cells[0].cpus
    text = data.decode()
    assert text.startswith(f'<capabilities>\n  <?{STATE_PI} version="1"')
    # each instruction on its own line, indented like the <pages> before it
    assert f"</pages>\n          <?{FREE_MEMORY_PI} " in text
    assert f'?>\n          <?{FREE_PAGES_PI} size="2048"' in text


def test_a_node_libvirt_gives_no_free_figure_for_stays_unknown() -> None:
    data = annotate(xeon_root(), FreeState({1: 5}, {}), "test:///default", "now")
    host, _ = load_host_bytes(data, "caps.xml")
    assert host is not None
    assert [c.free_memory_kib for c in host.cells] == [None, 5]


def test_a_hostile_source_cannot_end_the_instruction() -> None:
    data = annotate(xeon_root(), FreeState({}, {}), 'x"?><evil/>', "now")
    host, diagnostics = load_host_bytes(data, "caps.xml")
    assert diagnostics == [] and host is not None
    assert host.captured_from == 'x"?><evil/>'
    root, _ = parse_xml(data)
    assert root is not None and root.find(".//evil") is None


@pytest.mark.parametrize(
    "name",
    ["laptop-1n.xml", "2s-xeon.xml", "2s-xeon-live.xml", "epyc-nps4.xml", "cxl-memory-node.xml"],
)
def test_a_snapshot_written_from_the_model_reads_back_the_same(name: str) -> None:
    original, _ = load_host(HOSTS / name)
    assert original is not None
    data = capabilities_xml(original, "sysfs /sys/devices/system", "2026-11-26T08:00:00Z")
    again, diagnostics = load_host_bytes(data, "again.xml")
    assert diagnostics == [] and again is not None
    assert comparable(again) == comparable(original)
    assert again.captured_from == "sysfs /sys/devices/system"


@pytest.mark.libvirt_rng
@pytest.mark.skipif(not RNG.exists(), reason="libvirt's capability.rng is not installed")
def test_written_and_annotated_snapshots_validate_against_libvirts_schema() -> None:
    schema = etree.RelaxNG(etree.parse(str(RNG)))
    original, _ = load_host(HOSTS / "2s-xeon-live.xml")
    assert original is not None
    written = etree.fromstring(capabilities_xml(original, "sysfs x", "now"))
    # cluster_id is printed by libvirt >= 10.1; the installed 9.0 schema predates it.
    for cpu in written.iter("cpu"):
        cpu.attrib.pop("cluster_id", None)
    for topology in written.iter("topology"):
        topology.attrib.pop("clusters", None)
    assert schema.validate(written), schema.error_log
    if TEST_DRIVER_CAPS.exists():
        root, _ = parse_xml(TEST_DRIVER_CAPS.read_bytes())
        annotated = annotate(
            root, FreeState({0: 1, 1: 2}, {0: {2048: 1}}), "test:///default", "now"
        )
        assert schema.validate(etree.fromstring(annotated)), schema.error_log


def test_a_newer_host_state_version_is_refused_with_a_hint() -> None:
    text = (HOSTS / "2s-xeon-live.xml").read_text().replace('version="1"', 'version="2"', 1)
    host, diagnostics = load_host_bytes(text.encode(), "caps.xml")
    assert host is None
    assert (
        diagnostics[0].code == "VN008" and "newer than this vnuma reads" in diagnostics[0].message
    )
    assert diagnostics[0].span is not None and diagnostics[0].span.line == 2


def test_a_garbled_free_figure_is_a_precise_error() -> None:
    text = (HOSTS / "2s-xeon-live.xml").read_text().replace('value="41943040"', 'value="lots"')
    host, diagnostics = load_host_bytes(text.encode(), "caps.xml")
    assert host is None
    assert "<?vnuma-free-memory?> attribute value='lots'" in diagnostics[0].message


def test_capture_without_libvirt_python_says_how_to_install_it(run_cli, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "libvirt", None)  # import libvirt -> ImportError
    result = run_cli("capture", "--connect", "test:///default")
    assert result.code == 2
    assert "pip install 'vnuma[libvirt]'" in result.err and "--sysfs" in result.err


def test_capture_options_are_checked(run_cli) -> None:
    result = run_cli("capture", "--connect", "test:///default", "--sysfs-root", "/x")
    assert result.code == 2 and "cannot be combined" in result.err


@needs_libvirt_python
def test_capture_from_the_test_driver_round_trips(run_cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    out = tmp_path / "host.xml"
    result = run_cli("capture", "--connect", "test:///default", "-o", out)
    assert result.code == 0, result.err
    assert "captured 2 NUMA node(s), 16 CPUs from test:///default with free memory" in result.err
    shown = run_cli("host", out)
    assert shown.code == 0, shown.err
    assert "2 NUMA node(s), 16 CPUs" in shown.out
    assert "captured from test:///default at 2026-09-21T" in shown.out
    host, _ = load_host(out)
    assert host is not None
    # The test driver's cells: 2 GiB and 4 GiB, of which `virsh freecell` says 2048 and
    # 4096 KiB are free.
    assert [c.memory_kib for c in host.cells] == [2097152, 4194304]
    assert [c.free_memory_kib for c in host.cells] == [2048, 4096]
    # Same inputs, same bytes.
    again = tmp_path / "again.xml"
    assert run_cli("capture", "-c", "test:///default", "-o", again).code == 0
    assert again.read_bytes() == out.read_bytes()


@needs_libvirt_python
def test_capture_from_an_unreachable_uri_is_a_usage_error(run_cli) -> None:
    result = run_cli("capture", "--connect", "qemu+unix:///system?socket=/nonexistent/sock")
    assert result.code == 2
    assert "cannot connect to qemu+unix:///system" in result.err


@pytest.mark.libvirt
@pytest.mark.skipif(shutil.which("virsh") is None, reason="virsh not installed")
def test_the_annotated_snapshot_still_reads_as_capabilities_for_libvirt_tools(
    tmp_path: Path,
) -> None:
    """virt-xml-validate (libvirt's own schema check) accepts the live sample apart from the
    guest feature libvirt 9.0's schema predates; a copy without it validates."""
    validate = shutil.which("virt-xml-validate")
    if validate is None:
        pytest.skip("virt-xml-validate not installed")
    if shutil.which("xmllint") is None:  # virt-xml-validate is a shell script around it
        if os.environ.get("VNUMA_REQUIRE_LIBVIRT") == "1":
            pytest.fail("VNUMA_REQUIRE_LIBVIRT=1 but xmllint not installed (libxml2-utils)")
        pytest.skip("xmllint not installed (apt-get install libxml2-utils)")
    text = (HOSTS / "2s-xeon-live.xml").read_text().replace("<externalSnapshot/>", "")
    text = text.replace(" cluster_id='0'", "").replace(" clusters='1'", "")
    path = tmp_path / "caps.xml"
    path.write_text(text)
    done = subprocess.run(
        [validate, str(path), "capability"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
