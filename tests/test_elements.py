"""`vnuma.libvirt.elements`: every libvirt element and attribute vnuma reads or writes is
declared there once, the reader and the writer go through the declarations, and what vnuma
writes follows the declared order."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree
from vnuma.emit.plan import (
    CellPlan,
    DomainPlan,
    MemNode,
    MemoryPolicy,
    PagePlan,
    PinPlan,
    TopologyPlan,
)
from vnuma.emit.render import render_fragment
from vnuma.libvirt import elements as e

from tests.conftest import HOSTS, INTENTS, REPO

SNAPSHOTS = REPO / "tests" / "__snapshots__" / "test_compile"
# A compiled fragment holds only what vnuma writes; a merge also holds the base domain.
FRAGMENTS = sorted(p for p in SNAPSHOTS.glob("*.xml") if not p.name.startswith("test_merge["))
MERGES = sorted(SNAPSHOTS.glob("test_merge[[]*.xml"))
COMPILER = REPO / "compiler"

# Every field of the plan set, once with a nodeset and once with placement='auto'.
EVERYTHING = DomainPlan(
    name="guest&<1>",
    memory_kib=4194304,
    vcpus=4,
    vcpu_placement="static",
    memory_policy=MemoryPolicy("strict", "0-1", None),
    memnodes=(MemNode(0, "strict", "0"), MemNode(1, "preferred", "1")),
    cells=(
        CellPlan(0, "0-1", 2097152, "shared", ((0, 10), (1, 21))),
        CellPlan(1, "2-3", 2097152, None, ((0, 21), (1, 10))),
    ),
    hugepages=(PagePlan(2048), PagePlan(1048576)),
    pins=(PinPlan(0, "0"), PinPlan(1, "1"), PinPlan(2, "2"), PinPlan(3, "3")),
    emulator_pin="4",
    topology=TopologyPlan(sockets=2, dies=1, cores=1, threads=2),
)
AUTO = EVERYTHING._replace(
    vcpu_placement="auto", memory_policy=MemoryPolicy("interleave", None, "auto")
)


def declarations() -> list[tuple[str, e.Element | e.Attribute]]:
    return [(n, v) for n, v in vars(e).items() if isinstance(v, (e.Element, e.Attribute))]


def written() -> list[tuple[str, etree._Element]]:
    """Every document vnuma wrote alone: the fragment snapshots and the all-fields plans."""
    docs = [(p.name, etree.fromstring(p.read_bytes())) for p in FRAGMENTS]
    docs += [(name, etree.fromstring(render_fragment(plan).encode())) for name, plan in PLANS]
    return docs


PLANS = [("everything", EVERYTHING), ("auto", AUTO)]


def walk(node: etree._Element, path: str = "."):
    """(declared-style path, element) for ``node`` and every element below it."""
    yield path, node
    for child in node:
        if isinstance(child.tag, str):
            yield from walk(child, f"{path}/{child.tag}")


def expected_attributes(path: str, node: etree._Element) -> list[str]:
    """The declared order of the attributes ``node`` has: a size's unit after the size."""
    declared = e.ELEMENTS[path]
    names = []
    if declared.text is not None and declared.text.unit and node.text is not None:
        names.append(declared.text.unit)
    for attribute in e.ATTRIBUTES[path]:
        if attribute.name in node.attrib:
            names.append(attribute.name)
            if attribute.value.unit:
                names.append(attribute.value.unit)
    return names


def test_there_are_snapshots_to_read() -> None:
    assert len(FRAGMENTS) >= 30 and len(MERGES) >= 3


def test_each_path_is_declared_exactly_once() -> None:
    paths = [value.path for _, value in declarations()]
    assert sorted(p for p in paths if paths.count(p) > 1) == []
    objects = [id(value) for _, value in declarations()]
    assert len(set(objects)) == len(objects), "one declaration under two names"
    assert len(e.ELEMENTS) + sum(map(len, e.ATTRIBUTES.values())) == len(paths)


def test_declarations_form_one_tree_in_libvirts_order() -> None:
    for path, element in e.ELEMENTS.items():
        if path == ".":
            continue
        parent = element.parent  # declared (a KeyError otherwise)
        assert element.tag in parent.children, f"{path}: not in {parent.path}'s order"
        assert list(e.ELEMENTS).index(parent.path) < list(e.ELEMENTS).index(path)
    for path, attributes in e.ATTRIBUTES.items():
        units = {a.value.unit for a in attributes if a.value.unit}
        text = e.ELEMENTS[path].text
        units |= {text.unit} if text is not None and text.unit else set()
        assert not units & {a.name for a in attributes}, f"{path}: a unit declared twice"


@pytest.mark.parametrize(("name", "root"), written(), ids=lambda x: x if isinstance(x, str) else "")
def test_every_written_element_and_attribute_is_declared(name: str, root) -> None:
    for path, node in walk(root):
        assert path in e.ELEMENTS, f"{name}: <{node.tag}> at {path} is not declared"
        declared = set(expected_attributes(path, node))
        assert set(node.attrib) <= declared, f"{name}: {path} undeclared {set(node.attrib)}"
        if node.text is not None and node.text.strip():
            assert e.ELEMENTS[path].text is not None, f"{name}: {path} has undeclared text"


@pytest.mark.parametrize(("name", "root"), written(), ids=lambda x: x if isinstance(x, str) else "")
def test_written_order_is_the_declared_order(name: str, root) -> None:
    for path, node in walk(root):
        declared = e.ELEMENTS[path]
        ranks = [declared.rank(child.tag) for child in node if isinstance(child.tag, str)]
        assert ranks == sorted(ranks), f"{name}: children of {path} out of libvirt's order"
        assert all(rank < len(declared.children) for rank in ranks), name
        assert list(node.attrib) == expected_attributes(path, node), f"{name}: {path}"


@pytest.mark.parametrize("path", MERGES, ids=lambda p: p.name)
def test_merged_domains_keep_libvirts_order(path: Path) -> None:
    root = etree.fromstring(path.read_bytes())
    for where, node in walk(root):
        declared = e.ELEMENTS.get(where)
        if declared is None or not declared.children:
            continue
        ranks = [declared.rank(c.tag) for c in node if isinstance(c.tag, str)]
        assert ranks == sorted(ranks), f"{path.name}: children of {where}"


def test_template_writes_no_element_of_its_own() -> None:
    """The template renders the declared tree; an element written by hand would bypass it."""
    text = (REPO / "templates" / "domain.xml.j2").read_text(encoding="utf-8")
    body = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    assert re.findall(r"<\s*/?\s*[A-Za-z]", body) == []


# Calls whose string argument would name an XML element or attribute: (argument index or
# None for every positional argument).
XML_NAME_ARGUMENTS = {
    "find": None,
    "findall": None,
    "findtext": None,
    "iterfind": None,
    "xpath": None,
    "attribute": None,
    "uint_attr": None,
    "enum_attr": None,
    "cpuset_attr": None,
    "Element": None,
    "SubElement": None,
    "get": 0,
    "set": 0,
    "at": 2,
}


def literal_xml_names(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr not in XML_NAME_ARGUMENTS:
            continue
        index = XML_NAME_ARGUMENTS[node.func.attr]
        arguments = node.args if index is None else node.args[index : index + 1]
        for argument in arguments:
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                found.append(f"{path.name}:{node.lineno}: {node.func.attr}({argument.value!r})")
    return found


@pytest.mark.parametrize(
    "module",
    ["libvirt/domain.py", "emit/render.py", "emit/plan.py", "emit/tree.py"],
)
def test_reader_and_writer_name_no_xml_of_their_own(module: str) -> None:
    """Every element and attribute they read or write is one of the declarations."""
    assert literal_xml_names(COMPILER / module) == []


def test_every_declaration_is_used() -> None:
    """No dead paths: each is read, written, merged, or holds one that is."""
    sources = "\n".join(
        (COMPILER / m).read_text(encoding="utf-8")
        for m in ("libvirt/domain.py", "emit/render.py", "emit/plan.py")
    )
    own = (COMPILER / "libvirt" / "elements.py").read_text(encoding="utf-8")
    used = {
        value.path
        for name, value in declarations()
        if re.search(rf"\be\.{name}\b", sources) or len(re.findall(rf"\b{name}\b", own)) > 1
    }
    for path in list(used):
        while path not in (".", ""):
            path = path.rsplit("/@", 1)[0] if "/@" in path else path.rsplit("/", 1)[0]
            used.add(path)
    unused = [value.path for _, value in declarations() if value.path not in used]
    assert unused == []


def test_linting_an_intent_does_not_import_the_declarations() -> None:
    code = (
        "import sys\n"
        "from vnuma.cli import main\n"
        "try:\n"
        f"    main(['lint', {str(INTENTS / 'db-strict.yaml')!r}, '--host',"
        f" {str(HOSTS / '2s-xeon.xml')!r}, '-q'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('vnuma.libvirt.elements' in sys.modules, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=REPO
    )
    assert result.stderr.strip().splitlines()[-1] == "False", result.stderr
