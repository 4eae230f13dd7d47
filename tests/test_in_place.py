"""`vnuma compile --domain vm.xml --in-place`: atomic, untouched on error, nothing else lost."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import INTENTS, SAMPLES, SHARED_CORPUS

OWNED = {"memory", "currentMemory", "vcpu", "numatune"}
OWNED_INSIDE = {"cpu": {"numa", "topology"}, "memoryBacking": {"hugepages"}}


def intent_for(tmp_path: Path, vcpus: int, memory: str = "2GiB", extra: str = "") -> Path:
    path = tmp_path / "guest.yaml"
    path.write_text(
        f"version: 1\nvcpus: {vcpus}\nmemory: {memory}\n"
        f"numatune: {{mode: strict, nodeset: '0'}}\n{extra}",
        encoding="utf-8",
    )
    return path


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def parse(data: bytes):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(data, parser)


def c14n(node) -> bytes:
    if not isinstance(node.tag, str):  # comments and processing instructions
        return etree.tostring(node, with_tail=False)
    return etree.tostring(node, method="c14n")


def kept_parts(root) -> list[bytes]:
    """Canonical form of everything vnuma does not own, in document order."""
    parts = []
    for child in root:
        tag = child.tag if isinstance(child.tag, str) else None
        if tag is not None and tag in OWNED:
            continue
        if tag is not None and tag in OWNED_INSIDE:
            kept = [
                c14n(inner)
                for inner in child
                if not (isinstance(inner.tag, str) and inner.tag in OWNED_INSIDE[tag])
            ]
            if kept or child.attrib:  # an element left empty by vnuma may go away
                parts.append(f"<{tag}>".encode() + repr(sorted(child.attrib.items())).encode())
                parts.extend(kept)
            continue
        parts.append(c14n(child))
    return parts


def test_rewrites_the_domain_and_prints_nothing(run_cli, tmp_path: Path) -> None:
    domain = tmp_path / "vm.xml"
    domain.write_bytes((SAMPLES / "domains" / "base-vm.xml").read_bytes())
    result = run_cli("compile", INTENTS / "db-strict.yaml", "--domain", domain, "--in-place")
    assert result.code == 0, result.err
    assert result.out == ""
    assert "<numatune>" in domain.read_text()
    assert leftovers(tmp_path) == []


def test_usage_needs_domain_and_no_output(run_cli, tmp_path: Path) -> None:
    assert run_cli("compile", INTENTS / "db-strict.yaml", "--in-place").code == 2
    domain = tmp_path / "vm.xml"
    domain.write_bytes((SAMPLES / "domains" / "base-vm.xml").read_bytes())
    args = ("--domain", domain, "--in-place", "-o", tmp_path / "x.xml")
    assert run_cli("compile", INTENTS / "db-strict.yaml", *args).code == 2


def test_untouched_when_any_error(run_cli, tmp_path: Path) -> None:
    domain = tmp_path / "vm.xml"
    original = (SAMPLES / "domains" / "numa-vm.xml").read_bytes()
    domain.write_bytes(original)
    before = os.stat(domain)
    intent = intent_for(tmp_path, vcpus=16)  # numa-vm's <topology> gives 8 vCPUs: VN014
    result = run_cli("compile", intent, "--domain", domain, "--in-place")
    assert result.code == 1 and "VN014" in result.err
    assert domain.read_bytes() == original
    assert os.stat(domain).st_mtime_ns == before.st_mtime_ns
    assert leftovers(tmp_path) == []


def test_permissions_and_ownership_are_kept(run_cli, tmp_path: Path) -> None:
    domain = tmp_path / "vm.xml"
    domain.write_bytes((SAMPLES / "domains" / "base-vm.xml").read_bytes())
    os.chmod(domain, 0o640)
    owner = None
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        owner = (4242, 4343)
        os.chown(domain, *owner)
    assert (
        run_cli("compile", INTENTS / "db-strict.yaml", "--domain", domain, "--in-place").code == 0
    )
    after = os.stat(domain)
    assert stat.S_IMODE(after.st_mode) == 0o640
    if owner is not None:
        assert (after.st_uid, after.st_gid) == owner


def test_declaration_comments_namespaces_and_unknown_elements_survive(
    run_cli, tmp_path: Path
) -> None:
    base = (SAMPLES / "domains" / "base-vm.xml").read_text(encoding="utf-8")
    text = (
        "<?xml version='1.0' encoding='UTF-8'?>\n<!-- managed by hand, do not remove -->\n"
        + base.replace(
            "</domain>",
            "  <metadata>\n    <app:owner xmlns:app='https://example.org/app' a='2' b='1'>"
            "db team</app:owner>\n  </metadata>\n  <!-- trailing note -->\n"
            "  <unknownThing zeta='1' alpha='2'/>\n</domain>",
        )
    )
    domain = tmp_path / "vm.xml"
    domain.write_text(text, encoding="utf-8")
    original = parse(domain.read_bytes())
    assert (
        run_cli("compile", INTENTS / "db-strict.yaml", "--domain", domain, "--in-place").code == 0
    )
    written = domain.read_bytes()
    assert written.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n")
    assert b"<!-- managed by hand, do not remove -->" in written
    assert re.search(rb"<unknownThing zeta=.1. alpha=.2./>", written)  # attribute order kept
    assert kept_parts(parse(written)) == kept_parts(original)


def test_a_failed_rename_or_fsync_leaves_the_original(run_cli, tmp_path: Path, monkeypatch) -> None:
    domain = tmp_path / "vm.xml"
    original = (SAMPLES / "domains" / "base-vm.xml").read_bytes()
    domain.write_bytes(original)
    for name in ("replace", "fsync"):
        with monkeypatch.context() as patch:

            def broken(*args, _name=name, **kwargs):
                raise OSError(28, f"simulated failure in os.{_name}")

            patch.setattr(os, name, broken)
            result = run_cli(
                "compile", INTENTS / "db-strict.yaml", "--domain", domain, "--in-place"
            )
        assert result.code == 2 and "cannot write" in result.err
        assert domain.read_bytes() == original
        assert leftovers(tmp_path) == []


def test_output_file_is_untouched_on_error_and_stdout_has_only_xml(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "out.xml"
    out.write_text("previous\n")
    bad = intent_for(tmp_path, vcpus=4, memory="4096")
    assert run_cli("compile", bad, "-o", out).code == 1
    assert out.read_text() == "previous\n"
    warned = run_cli("compile", INTENTS / "web-preferred.yaml")
    assert warned.code == 0
    parse(warned.out.encode())  # only XML on stdout; diagnostics went to stderr
    assert "VN" not in warned.out


CORPUS_DOMAINS = sorted((SHARED_CORPUS / "domains").glob("*.xml")) if SHARED_CORPUS.exists() else []


@pytest.mark.skipif(not CORPUS_DOMAINS, reason="../shared/corpus/libvirt is not present")
def test_libvirt_corpus_domains_keep_everything_outside_vnumas_elements(
    run_cli, tmp_path: Path
) -> None:
    rewritten = 0
    for source in CORPUS_DOMAINS:
        domain = tmp_path / source.name
        original = source.read_bytes()
        domain.write_bytes(original)
        root = parse(original)
        vcpu = root.findtext("vcpu")
        vcpus = int(vcpu) if vcpu and vcpu.strip().isdigit() else 1
        intent = intent_for(tmp_path, vcpus=vcpus)
        result = run_cli("compile", intent, "--domain", domain, "--in-place")
        assert result.code in (0, 1), (source.name, result.err)
        if result.code == 1:
            assert domain.read_bytes() == original, source.name
            continue
        rewritten += 1
        assert kept_parts(parse(domain.read_bytes())) == kept_parts(root), source.name
    assert leftovers(tmp_path) == []
    assert rewritten >= 60, rewritten
