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
