"""What `vnuma compile` emits, `vnuma lint` reads back to the same guest and accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
from vnuma.commands.lint import LintOptions, lint
from vnuma.libvirt.capabilities import load_host
from vnuma.libvirt.domain import lift_domain
from vnuma.load.document import load_xml_document
from vnuma.load.intent import load_intent
from vnuma.model.guest import Guest
from vnuma.model.resolve import resolve
from vnuma.place import place
from vnuma.report.config import default_config
from vnuma.runner import CompileOptions, compile_intent, intent_from_raw

from tests.conftest import INTENTS, SAMPLES

SAMPLE_INTENTS = sorted(INTENTS.glob("*.y*ml")) + sorted(INTENTS.glob("*.toml"))


def compiled(intent_path: Path, tmp_path: Path, domain: Path | None = None) -> Path:
    outcome = compile_intent(CompileOptions(intent_path=intent_path, domain_path=domain))
    assert outcome.xml is not None, outcome.diagnostics
    out = tmp_path / "out.xml"
    out.write_text(outcome.xml, encoding="utf-8")
    return out


def numa_picture(intent: Guest) -> tuple:
    """What both forms must agree on; `<memory>` and vCPUs included."""
    cells = tuple(
        (c.id, c.cpus, c.memory_kib, c.host_nodes, intent.cell_mode(c) if c.host_nodes else None)
        for c in sorted(intent.cells, key=lambda c: c.id)
    )
    numatune = intent.numatune
    policy = None
    if numatune is not None and numatune.guest_wide:
        policy = (intent.memory_mode, intent.effective_nodeset, intent.auto_placement)
    pages = tuple(sorted((p.size_kib, p.cells) for p in intent.hugepages))
    extras = intent.domain
    pins = tuple((p.vcpu, p.cpuset) for p in extras.pins)
    return (
        intent.vcpus,
        intent.memory_kib,
        policy,
        cells,
        pages,
        pins,
        extras.emulator_pin,
        extras.topology,
    )


@pytest.mark.parametrize("intent_path", SAMPLE_INTENTS, ids=lambda p: p.name)
def test_lifted_output_is_the_intent(intent_path: Path, tmp_path: Path) -> None:
    source, diagnostics = intent_from_raw(load_intent(intent_path, intent_path.name))
    assert source is not None, diagnostics
    if source.needs_placement:
        assert source.host_ref is not None
        host, _ = load_host(source.host_ref, "host")
        assert host is not None
        placed = place(source, host)
        assert placed.ok and placed.guest is not None, placed.diagnostics
        guest = placed.guest
    else:
        guest = resolve(source)
    doc = load_xml_document(compiled(intent_path, tmp_path), "out.xml")
    lifted, problems = lift_domain(doc)
    assert lifted is not None and problems == []
    assert numa_picture(lifted) == numa_picture(guest)


@pytest.mark.parametrize("intent_path", SAMPLE_INTENTS, ids=lambda p: p.name)
def test_lint_accepts_compiled_output_against_the_same_host(
    intent_path: Path, tmp_path: Path
) -> None:
    source, _ = intent_from_raw(load_intent(intent_path, intent_path.name))
    assert source is not None and source.host_ref is not None
    out = compiled(intent_path, tmp_path, SAMPLES / "domains" / "base-vm.xml")
    options = LintOptions(paths=(out,), config=default_config(tmp_path), host_path=source.host_ref)
    compile_warnings = {
        d.code for d in compile_intent(CompileOptions(intent_path=intent_path)).diagnostics
    }
    found = {d.code for d in lint(options).diagnostics}
    assert found <= compile_warnings, f"lint found {found - compile_warnings} in compiled output"
