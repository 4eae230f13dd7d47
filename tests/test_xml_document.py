"""The one XML loader's cheap look at a document's first element (vnuma.load.document)."""

from __future__ import annotations

from pathlib import Path

import pytest
from vnuma.load.document import first_element, parse_xml_document


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"<capabilities>", "capabilities"),
        (b"  <capabilities\n  >", "capabilities"),
        (b"<domain/>", "domain"),
        (b"<domain type='kvm'>", "domain"),
        (
            b"\xef\xbb\xbf<?xml version='1.0' encoding='UTF-8'?>\n<!-- a - b -->\n"
            b"<?pi x?>\n  <domain type='kvm'>",
            "domain",
        ),
        (b"<!-- <capabilities> --><domain>", "domain"),
        # only a parse can tell: a DOCTYPE, a namespace prefix, another encoding, junk
        (b"<!DOCTYPE x><capabilities>", None),
        (b"<a:b>", None),
        (b"\xff\xfe<\x00c\x00a\x00p\x00", None),
        (b"<!-- never closed <capabilities>", None),
        (b"capabilities", None),
        (b"", None),
    ],
)
def test_first_element(data: bytes, expected: str | None) -> None:
    assert first_element(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"<domain type='kvm'><name>a</name></domain>",
        b"<capabilities><host/></capabilities>",
        b"<?xml version='1.0'?>\n<!-- x -->\n<domain><name>b</name></domain>",
    ],
)
def test_first_element_is_the_parsed_root(data: bytes) -> None:
    """Where the peek answers, it gives the root a parse finds."""
    document = parse_xml_document(data, "x.xml")
    assert document.root is not None
    assert first_element(data) == document.root_tag


def test_a_capabilities_file_in_a_walk_is_skipped_unparsed_and_others_as_before(
    run_cli, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    tree = tmp_path
    hosts = Path(__file__).resolve().parents[1] / "samples" / "hosts"
    (tree / "caps.xml").write_text((hosts / "2s-xeon.xml").read_text(encoding="utf-8"))
    (tree / "broken-caps.xml").write_text("<capabilities><host>\n", encoding="utf-8")
    (tree / "pom.xml").write_text("<project/>\n", encoding="utf-8")
    (tree / "junk.xml").write_text("<<<\n", encoding="utf-8")
    result = run_cli("lint")
    assert result.code == 0, result.err
    assert "caps.xml: skipped: a host capabilities snapshot, not a domain" in result.err
    assert "broken-caps.xml: skipped: a host capabilities snapshot, not a domain" in result.err
    assert "pom.xml: skipped: not a libvirt domain (root element <project>)" in result.err
    assert "junk.xml: skipped: not a libvirt domain (and not well-formed XML)" in result.err
