"""Everything vnuma emits is accepted by libvirt's own RelaxNG schema (domain.rng)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from vnuma.emit.verify import find_schema_dir, verify_domain_xml
from vnuma.runner import CompileOptions, compile_intent

from tests.conftest import INTENTS, REPO, SAMPLES

SCHEMAS = find_schema_dir(None)
pytestmark = [
    pytest.mark.libvirt_rng,
    pytest.mark.skipif(
        SCHEMAS is None and not os.environ.get("VNUMA_REQUIRE_RNG"),
        reason="libvirt RelaxNG schemas not installed (apt-get install libvirt0)",
    ),
]
SNAPSHOTS = sorted((REPO / "tests" / "__snapshots__").rglob("*.xml"))


def test_schemas_present_when_required() -> None:
    assert SCHEMAS is not None, (
        "VNUMA_REQUIRE_RNG is set but /usr/share/libvirt/schemas/domain.rng is missing"
    )


@pytest.mark.parametrize("intent", sorted(INTENTS.iterdir()), ids=lambda p: p.name)
@pytest.mark.parametrize("base", [None, "base-vm.xml"])
def test_every_sample_output_validates(intent: Path, base: str | None) -> None:
    domain = SAMPLES / "domains" / base if base else None
    outcome = compile_intent(CompileOptions(intent, domain_path=domain))
    assert outcome.xml is not None, outcome.diagnostics
    assert not any("not validated" in note for note in outcome.notes), outcome.notes
    result = verify_domain_xml(outcome.xml, intent.name, SCHEMAS, fragment=base is None)
    assert result.rng_checked and result.diagnostics == []


@pytest.mark.parametrize("snapshot", SNAPSHOTS, ids=lambda p: p.name)
def test_every_snapshot_validates(snapshot: Path) -> None:
    fragment = not snapshot.name.startswith("test_merge")
    result = verify_domain_xml(snapshot.read_text(), snapshot.name, SCHEMAS, fragment=fragment)
    assert result.rng_checked and result.diagnostics == [], [d.message for d in result.diagnostics]
