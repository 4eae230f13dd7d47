"""The readers' shortcuts return what the library calls they stand in for."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from lxml import etree
from vnuma.libvirt.domain import _children_by_tag, _select
from vnuma.load.intent import load_intent

TRICKY_XML = b"""<domain xmlns:q='urn:q'>
  <!-- a comment --><?pi x?>
  <cpu><numa><cell id='0'/><!-- c --><cell id='1'/></numa></cpu>
  <q:cpu><numa><cell id='ns'/></numa></q:cpu>
  <cpu><topology/><numa><cell id='2'/></numa><numa><cell id='3'/></numa></cpu>
  <vcpu>2</vcpu><vcpu>3</vcpu>
</domain>"""


@pytest.mark.parametrize(
    "path",
    ["./cpu", "./cpu/numa", "./cpu/numa/cell", "./vcpu", "./cpu/topology", "./missing/x", "./q"],
)
def test_select_is_findall(path: str) -> None:
    root = etree.fromstring(TRICKY_XML)
    first, *rest = path.split("/")[1:]
    expected = root.findall(path)
    assert _select([root], path.split("/")[1:]) == expected
    assert _select(_children_by_tag(root).get(first, []), rest) == expected


SCALARS = """\
s: text
q: "12"
i: 12
z: 0
o: 012
x: 0x1f
u: 1_000
p: +5
n: -3
sx: 1:30
f: 1.5
b: yes
t: true
nul: ~
e:
d: 2024-01-02
l: [1, "2", three, 04]
12: int key
"13": str key
true: bool key
"""


def test_yaml_scalars_load_as_safe_load(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(SCALARS, encoding="utf-8")
    data = load_intent(path).data
    expected = {str(k): v for k, v in yaml.safe_load(SCALARS).items()}
    assert data == expected
    assert [type(v) for v in data.values()] == [type(v) for v in expected.values()]
    assert [type(v) for v in data["l"]] == [int, str, str, int]


SIZED_DOMAIN = """<domain type='kvm'>
  <name>sized</name>
  <memory unit='KiB'>{memory}</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <cpu>
    <numa>
      <cell id='0' cpus='0-1'
            memory='{cell}' unit='KiB'/>
    </numa>
  </cpu>
  <devices>
    <memory model='dimm'><target><size unit='MiB'>{dimm}</size><node>0</node></target></memory>
  </devices>
</domain>"""


def _lift_sized(memory: str, cell: str, dimm: str):
    from vnuma.libvirt.domain import lift_domain
    from vnuma.load.document import parse_xml_document

    text = SIZED_DOMAIN.format(memory=memory, cell=cell, dimm=dimm)
    doc = parse_xml_document(text.encode(), "sized.xml")
    _, diagnostics = lift_domain(doc)
    return doc, diagnostics


def test_sizes_read_without_locating_them() -> None:
    """A domain whose sizes libvirt accepts is lifted without the locator's source scan
    (a span is made only for a refused size: most files of a fleet have no finding)."""
    doc, diagnostics = _lift_sized("1048576", "1048576", "128")
    assert diagnostics == []
    assert doc.locator is not None and not doc.locator._paired


def test_a_refused_size_is_located_at_its_value() -> None:
    _, diagnostics = _lift_sized("12x", "abc", "-1")
    found = {(d.message, d.line, d.column) for d in diagnostics if d.code == "VN016"}
    assert found == {
        ("Invalid value '12x' for element or attribute './memory[1]'", 3, 22),
        ("Invalid value 'abc' for element or attribute './@memory'", 9, 20),
        ("Invalid value '-1' for element or attribute './size'", 13, 51),
    }
