"""`vnuma compile --domain BASE.xml` rewrites only what vnuma owns (issue 18).

Every byte outside vnuma's elements — quotes, attribute order, whitespace, comments, the
XML declaration, line endings — is the base's own, so a one-line change of the intent is
a one-line change of the domain in Git. The owned parts are found here by a scanner of
this file's own, not by vnuma's.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

from tests.conftest import INTENTS, SAMPLES, SHARED_CORPUS

OWNED = {
    "domain/memory",
    "domain/currentMemory",
    "domain/vcpu",
    "domain/numatune",
    "domain/memoryBacking/hugepages",
    "domain/cpu/numa",
    "domain/cpu/topology",
    "domain/cputune/vcpupin",
    "domain/cputune/emulatorpin",
}
"""vnuma's elements, by path: everything inside them may change."""
CONTAINERS = "memoryBacking|cpu|cputune"
"""<domain> children that hold some of vnuma's elements: made, opened or dropped for them."""

_QUOTED = r"""(?:"[^"]*"|'[^']*')"""
_TOKEN = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|</(?P<close>[^\s>]+)\s*>"
    rf"|<(?P<open>[^\s/>!?]+)(?:\s+[^\s=/>]+\s*=\s*{_QUOTED})*\s*(?P<empty>/?)>",
    re.DOTALL,
)
_LINE_END = re.compile(r"[ \t]*\r?\n")


def element_spans(text: str) -> list[tuple[str, int, int]]:
    """(path, start, end) of every element of an XML text."""
    stack: list[tuple[str, int]] = []
    spans = []
    for token in _TOKEN.finditer(text):
        if token["open"]:
            if token["empty"]:
                path = "/".join([*(name for name, _ in stack), token["open"]])
                spans.append((path, token.start(), token.end()))
            else:
                stack.append((token["open"], token.start()))
        elif token["close"]:
            name, start = stack.pop()
            spans.append(("/".join([*(n for n, _ in stack), name]), start, token.end()))
    assert not stack, "unbalanced XML"
    return spans


def outside_owned(text: str) -> str:
    """The text without vnuma's elements (each with its line when it has one to itself),
    an emptied container written `<cpu .../>`, and one without attributes dropped."""
    parts = []
    position = 0
    for path, start, end in sorted(element_spans(text), key=lambda span: span[1]):
        if path not in OWNED or start < position:
            continue
        line_start = text.rfind("\n", 0, start) + 1
        line_end = _LINE_END.match(text, end)
        if not text[line_start:start].strip(" \t") and line_end:
            start, end = line_start, line_end.end()
        parts.append(text[position:start])
        position = end
    parts.append(text[position:])
    rest = "".join(parts)
    rest = re.sub(rf"<({CONTAINERS})\b([^>]*?)\s*(?:/>|>\s*</\1>)", r"<\1\2/>", rest)
    empty = rf"<(?:{CONTAINERS})/>"
    return re.sub(rf"^[ \t]*{empty}[ \t]*\r?\n|{empty}", "", rest, flags=re.MULTILINE)


def assert_rest_is_kept(before: str, after: str, name: str) -> None:
    kept, written = outside_owned(before), outside_owned(after)
    if kept != written:
        diff = difflib.unified_diff(
            kept.splitlines(keepends=True),
            written.splitlines(keepends=True),
            f"{name} (base, outside vnuma's elements)",
            f"{name} (merged)",
        )
        pytest.fail("".join(diff))


def compile_into(run_cli, intent: Path, base: Path, out: Path, *extra: str):
    result = run_cli("compile", intent, "--domain", base, "-o", out, *extra)
    assert result.code == 0, result.err
    return out.read_bytes()


def intent_for(directory: Path, vcpus: int) -> Path:
    """An intent of ``vcpus`` (a domain's <topology> must multiply out to it): two cells
    with distances and huge pages where it has two vCPUs, a nodeset otherwise."""
    if vcpus >= 2:
        half = vcpus // 2
        text = (
            f"version: 1\nvcpus: {vcpus}\nmemory: 4GiB\nnumatune: {{mode: strict}}\n"
            f"cells:\n  - {{cpus: '0-{half - 1}', memory: 2GiB, host_nodes: 0, "
            f"distances: {{1: 21}}}}\n  - {{cpus: '{half}-{vcpus - 1}', memory: 2GiB, "
            "host_nodes: 1}\nhugepages: {size: 2MiB}\n"
        )
    else:
        text = "version: 1\nvcpus: 1\nmemory: 2GiB\nnumatune: {mode: strict, nodeset: '0'}\n"
    path = directory / "guest.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- every domain libvirt accepts, and the sample domains --------------------------------


def corpus_domains() -> list[Path]:
    """The corpus' input domains that libvirt defines (`ok`, and `failure`: refused only at
    `virsh start`)."""
    manifest = SHARED_CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    rows = [line.split("\t") for line in manifest.read_text(encoding="utf-8").splitlines()[1:]]
    return [
        SHARED_CORPUS / row[0]
        for row in rows
        if row[0].startswith("domains/") and row[3] in ("ok", "failure")
    ]


CORPUS = corpus_domains()


@pytest.mark.skipif(not CORPUS, reason=f"the libvirt corpus is not at {SHARED_CORPUS}")
def test_libvirt_corpus_merges_keep_every_byte_outside_vnumas_elements(
    run_cli, tmp_path: Path
) -> None:
    from lxml import etree

    merged = 0
    for source in CORPUS:
        before = source.read_bytes()
        count = etree.fromstring(before).findtext("vcpu") or ""
        intent = intent_for(tmp_path, int(count) if count.strip().isdigit() else 1)
        out = tmp_path / "out.xml"
        out.unlink(missing_ok=True)
        result = run_cli("compile", intent, "--domain", source, "-o", out)
        if result.code == 1:  # the base keeps something the intent contradicts
            assert re.search(r": VN01[14] ", result.err), (source.name, result.err)
            assert not out.exists()
            continue
        assert result.code == 0, (source.name, result.err)
        assert "written out anew" not in result.err, (source.name, result.err)
        after = out.read_text(encoding="utf-8")
        assert_rest_is_kept(before.decode("utf-8"), after, source.name)
        assert merge_again(intent, out) == after, f"{source.name}: a second merge changed it"
        merged += 1
    assert merged >= 85, merged


def merge_again(intent: Path, domain: Path) -> str:
    """The merge of ``intent`` into an already merged ``domain`` (what a second
    `--in-place` writes), without the CLI's schema checks."""
    from vnuma.emit.render import merge_into_document
    from vnuma.load.document import load_xml_document

    merged = merge_into_document(load_xml_document(domain, domain.name), plan_of(intent))
    assert merged.notes == ()
    return merged.xml


LAYOUTS = {
    "crlf": lambda text: text.replace("\n", "\r\n"),
    "one-line": lambda text: re.sub(r">\s+<", "><", text),
    "comments": lambda text: re.sub(r">(\s*\n)", r"><!-- note -->\1", text),
    "tabs": lambda text: re.sub(r"^( +)", lambda m: "\t" * (len(m[1]) // 2), text, flags=re.M),
    "double-quotes": lambda text: re.sub(r"='([^']*)'", r'="\1"', text),
}


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS, reason=f"the libvirt corpus is not at {SHARED_CORPUS}")
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_libvirt_corpus_in_other_layouts_merges_as_the_tree_merge_does(
    tmp_path: Path, layout: str
) -> None:
    """The text merge gives what the tree merge gives (less the spelling it keeps), keeps
    the rest, and a second merge changes nothing, however the base is written."""
    import copy

    from lxml import etree
    from vnuma.emit.render import MergeConflict, merge_into_document, merge_into_domain
    from vnuma.load.document import load_xml_document

    merged = 0
    for source in CORPUS:
        base = tmp_path / "base.xml"
        base.write_text(LAYOUTS[layout](source.read_text(encoding="utf-8")), encoding="utf-8")
        doc = load_xml_document(base, source.name)
        assert doc.root is not None
        count = doc.root.findtext("vcpu") or ""
        plan = plan_of(intent_for(tmp_path, int(count) if count.strip().isdigit() else 1))
        try:
            text = merge_into_document(doc, plan)
        except MergeConflict:
            continue
        tree = copy.deepcopy(doc.root.getroottree()).getroot()
        assert text.notes == (), source.name
        assert same_domain(text.xml, merge_into_domain(tree, plan), etree), source.name
        assert_rest_is_kept(doc.text, text.xml, source.name)
        out = tmp_path / "out.xml"
        out.write_text(text.xml, encoding="utf-8")
        assert merge_into_document(load_xml_document(out, "out.xml"), plan).xml == text.xml
        merged += 1
    assert merged >= 85, merged


def plan_of(intent: Path):
    from vnuma.emit.plan import make_plan
    from vnuma.runner import load_guest_file, place_and_check

    file = load_guest_file(intent)
    place_and_check(file, None, [])
    assert file.guest is not None, file.diagnostics
    return make_plan(file.guest)


def same_domain(a: str, b: str, etree) -> bool:
    """The same elements, attributes and text, whatever the spacing, comments and quotes;
    sizes in KiB (the text merge keeps a size that did not change in its own unit)."""
    from vnuma.libvirt.values import parse_uint, scaled_kib

    def canonical(text: str) -> bytes:
        root = etree.fromstring(text.encode())
        etree.strip_tags(root, etree.Comment)
        for element in root.iter():
            element.text = None if not (element.text or "").strip() else element.text
            element.tail = None
        for size in (root.find("memory"), root.find("currentMemory")):
            value = parse_uint(size.text) if size is not None else None
            if value is not None:
                size.text = str(scaled_kib(value, size.attrib.pop("unit", None)))
        return etree.tostring(root, method="c14n")

    return canonical(a) == canonical(b)


SAMPLE_MERGES = [
    *((intent.name, "base-vm.xml") for intent in sorted(INTENTS.iterdir())),
    *(
        (name, "numa-vm.xml")
        for name in (
            "auto-dedicated.yaml",
            "auto-epyc-isolate.yaml",
            "auto-tiered-node.yaml",
            "cache-interleave.yaml",
            "restrictive.yaml",
        )
    ),
]


@pytest.mark.parametrize(("intent", "domain"), SAMPLE_MERGES)
def test_sample_merges_keep_every_byte_outside_vnumas_elements(
    run_cli, tmp_path: Path, intent: str, domain: str
) -> None:
    base = SAMPLES / "domains" / domain
    after = compile_into(run_cli, INTENTS / intent, base, tmp_path / "out.xml")
    assert_rest_is_kept(base.read_text(encoding="utf-8"), after.decode("utf-8"), domain)


def test_the_check_sees_a_changed_byte_outside_vnumas_elements() -> None:
    base = (SAMPLES / "domains" / "base-vm.xml").read_text(encoding="utf-8")
    assert outside_owned(base) == outside_owned(
        base.replace("<vcpu placement='static'>4", "<vcpu>8")
    )
    for changed in (
        base.replace("<domain type='kvm' xmlns", '<domain type="kvm" xmlns'),
        base.replace("<disk type='file' device='disk'>", "<disk device='disk' type='file'>"),
        base.replace("  <clock", "    <clock"),
        base.replace("<!-- system disk -->\n", ""),
    ):
        assert outside_owned(changed) != outside_owned(base)


# --- what the base says stays as it says it ----------------------------------------------


def test_quotes_and_attribute_order_of_the_domain_are_kept(run_cli, tmp_path: Path) -> None:
    base = SAMPLES / "domains" / "base-vm.xml"
    after = compile_into(run_cli, INTENTS / "db-strict.yaml", base, tmp_path / "out.xml")
    lines = after.decode("utf-8").splitlines()
    assert lines[1] == "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
    assert lines[5] == '    <app:owner xmlns:app="https://example.org/app">dba-team</app:owner>'
    # only what changed changed: the sizes, and vnuma's new elements in the base's quotes
    assert lines[7:21] == [
        "  <memory unit='KiB'>67108864</memory>",
        "  <currentMemory unit='KiB'>67108864</currentMemory>",
        "  <memoryBacking>",
        "    <hugepages>",
        "      <page size='1048576' unit='KiB'/>",
        "    </hugepages>",
        "    <locked/>",
        "  </memoryBacking>",
        "  <vcpu placement='static'>16</vcpu>",
        "  <numatune>",
        "    <memory mode='strict' nodeset='0-1'/>",
        "    <memnode cellid='0' mode='strict' nodeset='0'/>",
        "    <memnode cellid='1' mode='strict' nodeset='1'/>",
        "  </numatune>",
    ]
    assert lines[29] == "  <cpu mode='host-passthrough' check='none' migratable='on'>"


INTENT = """\
version: 1
vcpus: 4
memory: 4GiB
numatune: {mode: strict, nodeset: "0-1"}
cells:
  - {cpus: "0-1", memory: 2GiB, host_nodes: 0}
  - {cpus: "2-3", memory: 2GiB, host_nodes: 1}
"""


def test_comments_inside_and_next_to_vnumas_elements_are_kept(run_cli, write, tmp_path) -> None:
    base = write(
        "vm.xml",
        """\
<domain type='kvm'>
  <name>commented</name>
  <memory unit='GiB'>4</memory> <!-- sized for the db -->
  <vcpu placement='static'>2</vcpu><!-- grows with the db -->
  <!-- memory policy: ops ticket 42 -->
  <numatune>
    <!-- keep strict -->
    <memory mode='strict' nodeset='0'/>
  </numatune>
  <os>
    <type arch='x86_64'>hvm</type>
  </os>
  <cpu mode='host-model'>
    <numa>
      <!-- socket 0 -->
      <cell id='0' cpus='0' memory='2' unit='GiB'/>
      <!-- socket 1 -->
      <cell id='1' cpus='1' memory='2' unit='GiB'/>
    </numa>
    <!-- after numa -->
  </cpu>
</domain>
""",
    )
    after = compile_into(run_cli, write("guest.yaml", INTENT), base, tmp_path / "out.xml")
    assert after.decode("utf-8") == (
        """\
<domain type='kvm'>
  <name>commented</name>
  <memory unit='GiB'>4</memory> <!-- sized for the db -->
  <vcpu placement='static'>4</vcpu><!-- grows with the db -->
  <!-- memory policy: ops ticket 42 -->
  <numatune>
    <!-- keep strict -->
    <memory mode='strict' nodeset='0-1'/>
    <memnode cellid='0' mode='strict' nodeset='0'/>
    <memnode cellid='1' mode='strict' nodeset='1'/>
  </numatune>
  <os>
    <type arch='x86_64'>hvm</type>
  </os>
  <cpu mode='host-model'>
    <numa>
      <!-- socket 0 -->
      <cell id='0' cpus='0-1' memory='2097152' unit='KiB'/>
      <!-- socket 1 -->
      <cell id='1' cpus='2-3' memory='2097152' unit='KiB'/>
    </numa>
    <!-- after numa -->
  </cpu>
</domain>
"""
    )


def test_new_elements_follow_the_documents_quotes_and_indentation(run_cli, write, tmp_path) -> None:
    base = write(
        "vm.xml",
        '<?xml version="1.0"?>\n<domain type="kvm">\n\t<name>tabs</name>\n'
        '\t<memory unit="MiB">1024</memory>\n\t<vcpu>2</vcpu>\n'
        "\t<os>\n\t\t<type>hvm</type>\n\t</os>\n</domain>\n",
    )
    after = compile_into(run_cli, write("guest.yaml", INTENT), base, tmp_path / "out.xml")
    assert after.decode("utf-8") == (
        '<?xml version="1.0"?>\n<domain type="kvm">\n\t<name>tabs</name>\n'
        '\t<memory unit="KiB">4194304</memory>\n\t<vcpu placement="static">4</vcpu>\n'
        '\t<numatune>\n\t\t<memory mode="strict" nodeset="0-1"/>\n'
        '\t\t<memnode cellid="0" mode="strict" nodeset="0"/>\n'
        '\t\t<memnode cellid="1" mode="strict" nodeset="1"/>\n\t</numatune>\n'
        "\t<os>\n\t\t<type>hvm</type>\n\t</os>\n"
        '\t<cpu>\n\t\t<numa>\n\t\t\t<cell id="0" cpus="0-1" memory="2097152" unit="KiB"/>\n'
        '\t\t\t<cell id="1" cpus="2-3" memory="2097152" unit="KiB"/>\n\t\t</numa>\n\t</cpu>\n'
        "</domain>\n"
    )


def test_a_domain_on_one_line_stays_on_one_line(run_cli, write, tmp_path) -> None:
    base = write(
        "vm.xml",
        "<domain type='kvm'><name>tiny</name><memory>1048576</memory><vcpu>2</vcpu>"
        "<os><type>hvm</type></os><cpu mode='host-model'/></domain>",
    )
    after = compile_into(run_cli, write("guest.yaml", INTENT), base, tmp_path / "out.xml")
    assert after.decode("utf-8") == (
        "<domain type='kvm'><name>tiny</name><memory>4194304</memory>"
        "<vcpu placement='static'>4</vcpu><numatune><memory mode='strict' nodeset='0-1'/>"
        "<memnode cellid='0' mode='strict' nodeset='0'/>"
        "<memnode cellid='1' mode='strict' nodeset='1'/></numatune>"
        "<os><type>hvm</type></os><cpu mode='host-model'><numa>"
        "<cell id='0' cpus='0-1' memory='2097152' unit='KiB'/>"
        "<cell id='1' cpus='2-3' memory='2097152' unit='KiB'/></numa></cpu></domain>"
    )


@pytest.mark.parametrize(
    ("base", "merged"),
    [
        (
            "<domain type='kvm'><name>x</name><numatune><memory mode='strict' nodeset='0'/>"
            "</numatune><os><type>hvm</type></os></domain>\n",
            "<domain type='kvm'><name>x</name><memory unit='KiB'>2097152</memory>"
            "<vcpu placement='static'>2</vcpu><os><type>hvm</type></os></domain>\n",
        ),
        (
            "<domain type='kvm'>\n  <name>x</name>\n  <numatune>\n"
            "    <memory mode='strict' nodeset='0'/>\n  </numatune>\n"
            "  <os>\n    <type>hvm</type>\n  </os>\n</domain>\n",
            "<domain type='kvm'>\n  <name>x</name>\n  <memory unit='KiB'>2097152</memory>\n"
            "  <vcpu placement='static'>2</vcpu>\n  <os>\n    <type>hvm</type>\n  </os>\n"
            "</domain>\n",
        ),
    ],
    ids=["one-line", "indented"],
)
def test_an_element_vnuma_drops_is_no_place_for_one_it_adds(
    run_cli, write, tmp_path, base: str, merged: str
) -> None:
    intent = write("guest.yaml", "version: 1\nvcpus: 2\nmemory: 2GiB\n")  # no <numatune>
    after = compile_into(run_cli, intent, write("vm.xml", base), tmp_path / "out.xml")
    assert after.decode("utf-8") == merged


def test_crlf_line_endings_are_kept(run_cli, tmp_path: Path) -> None:
    lf = SAMPLES / "domains" / "base-vm.xml"
    crlf = tmp_path / "crlf.xml"
    crlf.write_bytes(lf.read_bytes().replace(b"\n", b"\r\n"))
    intent = INTENTS / "db-strict.yaml"
    from_lf = compile_into(run_cli, intent, lf, tmp_path / "lf.out")
    from_crlf = compile_into(run_cli, intent, crlf, tmp_path / "crlf.out")
    assert b"\r\n" not in from_lf
    assert from_crlf == from_lf.replace(b"\n", b"\r\n")
    assert from_crlf.count(b"\n") == from_crlf.count(b"\r\n") == 63


def test_a_size_that_did_not_change_keeps_its_unit(run_cli, tmp_path: Path) -> None:
    base = SAMPLES / "domains" / "numa-vm.xml"  # <memory unit='GiB'>16</memory>
    after = compile_into(run_cli, INTENTS / "cache-interleave.yaml", base, tmp_path / "out.xml")
    assert (
        b"  <memory unit='GiB'>16</memory>\n  <currentMemory unit='GiB'>12</currentMemory>\n"
        in after
    )


# --- idempotent --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intent", "domain"),
    [("db-strict.yaml", "base-vm.xml"), ("auto-dedicated.yaml", "numa-vm.xml")],
)
def test_in_place_twice_changes_nothing_the_second_time(
    run_cli, tmp_path: Path, intent: str, domain: str
) -> None:
    original = (SAMPLES / "domains" / domain).read_bytes()
    vm = tmp_path / "vm.xml"
    vm.write_bytes(original)
    args = ("compile", INTENTS / intent, "--domain", vm, "--in-place")
    assert run_cli(*args).code == 0
    once = vm.read_bytes()
    assert once != original
    second = run_cli(*args)
    assert second.code == 0, second.err
    assert vm.read_bytes() == once


# --- what a resized <vcpu> keeps ---------------------------------------------------------

VCPU_BASE = """\
<domain type='kvm'>
  <name>legacy01</name>
  <memory unit='GiB'>4</memory>
  <vcpu placement='static' current='2' cpuset='0-7'>2</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
  </os>
</domain>
"""


def test_a_resized_vcpu_says_what_it_kept(run_cli, write, tmp_path) -> None:
    base = write("vm.xml", VCPU_BASE)
    result = run_cli("compile", write("guest.yaml", INTENT), "--domain", base)
    assert result.code == 0, result.err
    assert "  <vcpu placement='static' current='2' cpuset='0-7'>4</vcpu>\n" in result.out
    notes = [line for line in result.err.splitlines() if "<vcpu>" in line]
    assert notes == [
        f"note: {base}:4: <vcpu> resized from 2 to 4; kept cpuset='0-7' (the host CPUs of "
        "vCPUs without a <vcpupin>) and current='2' (the vCPUs online at boot) from the base "
        "domain, since the intent does not set them: check that they still fit, or remove them"
    ]


def test_a_vcpu_of_the_same_size_or_without_stale_attributes_says_nothing(run_cli, write) -> None:
    two = INTENT.replace("vcpus: 4", "vcpus: 2").replace('"0-1"', '"0"').replace('"2-3"', '"1"')
    base = write("vm.xml", VCPU_BASE)
    same = run_cli("compile", write("two.yaml", two), "--domain", base)
    assert same.code == 0, same.err
    plain = write("plain.xml", VCPU_BASE.replace(" current='2' cpuset='0-7'", ""))
    grown = run_cli("compile", write("guest.yaml", INTENT), "--domain", plain)
    assert grown.code == 0, grown.err
    assert "<vcpu>" not in same.err + grown.err
    # current == the new maximum says nothing and is dropped; so is it above the maximum
    full = write("full.xml", VCPU_BASE.replace("current='2'", "current='4'"))
    dropped = run_cli("compile", write("guest.yaml", INTENT), "--domain", full)
    assert "  <vcpu placement='static' cpuset='0-7'>4</vcpu>\n" in dropped.out
    assert "kept cpuset='0-7' (the host CPUs of vCPUs without a <vcpupin>) from" in dropped.err


# --- when the text cannot be located ---------------------------------------------------------


def test_a_base_whose_elements_cannot_be_located_is_written_out_anew(tmp_path: Path) -> None:
    from vnuma.emit.plan import make_plan
    from vnuma.emit.render import merge_into_document
    from vnuma.load.document import load_xml_document
    from vnuma.runner import load_guest_file, place_and_check

    file = load_guest_file(INTENTS / "web-preferred.yaml")
    place_and_check(file, None, [])
    assert file.guest is not None
    doc = load_xml_document(SAMPLES / "domains" / "base-vm.xml", "base-vm.xml")
    merged = merge_into_document(doc._replace(locator=None), make_plan(file.guest))
    assert merged.notes == (
        "base-vm.xml: vnuma could not locate its elements in the base domain, so the merged "
        "domain was written out anew: quotes, attribute order and spacing outside vnuma's "
        "elements may differ from the base",
    )
    assert merged.xml.startswith(
        "<!-- A guest as virsh dumpxml prints it; vnuma compile with this as the base domain "
        "replaces its NUMA parts. -->\n"
        '<domain xmlns:qemu="http://libvirt.org/schemas/domain/qemu/1.0" type="kvm">\n'
    )
    assert doc.root is not None and doc.root.find("numatune") is None  # the base is left alone
    assert merge_into_document(doc, make_plan(file.guest)).notes == ()


def test_a_byte_order_mark_is_kept(run_cli, tmp_path: Path) -> None:
    plain = SAMPLES / "domains" / "base-vm.xml"
    marked = tmp_path / "bom.xml"
    marked.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    intent = INTENTS / "db-strict.yaml"
    from_plain = compile_into(run_cli, intent, plain, tmp_path / "plain.out")
    from_marked = compile_into(run_cli, intent, marked, tmp_path / "marked.out")
    assert from_marked == b"\xef\xbb\xbf" + from_plain
    assert not from_plain.startswith(b"\xef\xbb\xbf")
