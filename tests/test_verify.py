"""The verify stage: re-parse and RelaxNG-validate emitted XML."""

from __future__ import annotations

from pathlib import Path

import pytest
from vnuma.emit.verify import find_schema_dir, verify_domain_xml

SCHEMAS = find_schema_dir(None)
needs_rng = pytest.mark.skipif(SCHEMAS is None, reason="libvirt RelaxNG schemas not installed")


@needs_rng
@pytest.mark.libvirt_rng
def test_output_rejected_by_rng_is_reported() -> None:
    broken = '<domain type="kvm">\n  <memory unit="KiB">1024</memory>\n  <numatune>\n    <memory mode="sticky" nodeset="0"/>\n  </numatune>\n</domain>\n'
    result = verify_domain_xml(broken, "out.xml", SCHEMAS, fragment=True)
    assert result.rng_checked
    assert [d.code for d in result.diagnostics] and {d.code for d in result.diagnostics} == {
        "VN301"
    }
    assert all(d.path == "out.xml" for d in result.diagnostics)


@needs_rng
@pytest.mark.libvirt_rng
def test_valid_fragment_passes() -> None:
    good = '<domain type="kvm">\n  <memory unit="KiB">1048576</memory>\n  <vcpu placement="static">2</vcpu>\n</domain>\n'
    result = verify_domain_xml(good, "out.xml", SCHEMAS, fragment=True)
    assert result.rng_checked and result.diagnostics == []


def test_missing_schemas_are_noted_not_fatal(tmp_path: Path) -> None:
    good = '<domain type="kvm">\n  <memory unit="KiB">1048576</memory>\n</domain>\n'
    assert find_schema_dir(tmp_path) is None
    result = verify_domain_xml(good, "out.xml", None, fragment=True, explicit_schema_dir=True)
    assert not result.rng_checked
    assert result.diagnostics == []
    assert any("not validated" in note for note in result.notes)
