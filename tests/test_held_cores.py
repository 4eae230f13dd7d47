"""Isolated cores are held whole (issue 15, item 5): placement, admission (VN506, VN507)
and the views see the idle siblings of a `threads: isolate` guest's cores as taken; a
preferred intent with a memnode per cell resolves to the guest its XML reads back as."""

from __future__ import annotations

import textwrap
from pathlib import Path

from vnuma.commands.lint import LintOptions, lint
from vnuma.diagnostics import Diagnostic, Severity
from vnuma.libvirt.capabilities import load_host
from vnuma.libvirt.domain import lift_domain
from vnuma.load.document import load_xml_document
from vnuma.load.intent import load_intent
from vnuma.model.guest import Guest
from vnuma.model.host import HostTopology
from vnuma.model.resolve import resolve
from vnuma.place import place
from vnuma.report.config import default_config
from vnuma.rules.check import run_admission
from vnuma.runner import CompileOptions, compile_intent, intent_from_raw
from vnuma.view.model import build_view
from vnuma.view.svg import render_svg
from vnuma.view.text import render_text

from tests.conftest import HOSTS
from tests.test_roundtrip import numa_picture

XEON = HOSTS / "2s-xeon.xml"
# 2s-xeon: CPU n and n+40 are one core's threads (node 0: 0-19,40-59)

ISOLATED = """\
version: 1
name: rt01
vcpus: 2
memory: 4GiB
numatune: {mode: strict, nodeset: "0"}
cpu: {pinning: dedicated, threads: isolate}
"""


def host() -> HostTopology:
    topology, problems = load_host(XEON, "host")
    assert topology is not None, problems
    return topology


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def placed(path: Path, beside: tuple[Guest, ...] = ()) -> Guest:
    intent, problems = intent_from_raw(load_intent(path, path.name))
    assert intent is not None, problems
    result = place(intent, host(), beside)
    assert result.ok and result.guest is not None, result.diagnostics
    return result.guest


def lifted(path: Path) -> Guest:
    guest, problems = lift_domain(load_xml_document(path, path.name))
    assert guest is not None and problems == []
    return guest


def domain(name: str, cputune: str) -> str:
    return (
        f"<domain type='kvm'><name>{name}</name><memory unit='KiB'>1048576</memory>"
        f"<vcpu placement='static'>1</vcpu><cputune>{cputune}</cputune>"
        "<os><type arch='x86_64' machine='q35'>hvm</type></os></domain>"
    )


def lint_dir(tmp_path: Path) -> list[Diagnostic]:
    options = LintOptions(paths=(tmp_path,), config=default_config(tmp_path), host_path=XEON)
    return lint(options).diagnostics


def of(diagnostics: list[Diagnostic], code: str) -> dict[str, Diagnostic]:
    return {Path(d.path).name: d for d in diagnostics if d.code == code}


# --- placement records and avoids what an isolated guest holds -------------------------------


def test_isolated_guest_holds_the_idle_siblings(tmp_path: Path) -> None:
    guest = placed(write(tmp_path, "rt01.yaml", ISOLATED))
    assert [min(pin.cpuset) for pin in guest.domain.pins] == [0, 1]
    assert guest.domain.emulator_pin == frozenset({2})
    assert guest.held_cpus == frozenset({40, 41})
    assert guest.kept_cpus == frozenset({0, 1, 40, 41})


def test_near_miss_prefer_holds_nothing(tmp_path: Path) -> None:
    guest = placed(write(tmp_path, "rt01.yaml", ISOLATED.replace("isolate", "prefer")))
    assert [min(pin.cpuset) for pin in guest.domain.pins] == [0, 40]
    assert guest.held_cpus == frozenset()


def test_a_domain_holds_only_its_dedicated_pins(tmp_path: Path) -> None:
    guest = lifted(write(tmp_path, "a.xml", domain("a", "<vcpupin vcpu='0' cpuset='3'/>")))
    assert guest.held_cpus == frozenset()
    assert guest.kept_cpus == frozenset({3})


def test_placement_beside_an_isolated_guest_avoids_its_held_cpus(tmp_path: Path) -> None:
    rt01 = placed(write(tmp_path, "rt01.yaml", ISOLATED))
    web = write(
        tmp_path,
        "web01.yaml",
        """\
        version: 1
        name: web01
        vcpus: 1
        memory: 2GiB
        numatune: {mode: strict, nodeset: "0"}
        cpu: {pinning: dedicated}
        """,
    )
    alone = placed(web)
    assert [min(pin.cpuset) for pin in alone.domain.pins] == [0]
    beside = placed(web, (rt01,))
    # 0-2 pinned by rt01 (vCPUs, emulator), 40-41 held: the first free CPU is 3, not 40
    assert [min(pin.cpuset) for pin in beside.domain.pins] == [3]
    assert beside.domain.emulator_pin == frozenset({4})
    assert not (beside.domain.emulator_pin | beside.dedicated_cpus) & rt01.kept_cpus


# --- admission: VN507 (held CPU), VN506 (emulator on a dedicated CPU) ------------------------


def test_vn507_dedicated_pin_and_emulator_on_held_cpus(tmp_path: Path) -> None:
    rt01 = placed(write(tmp_path, "rt01.yaml", ISOLATED))
    web = lifted(
        write(
            tmp_path,
            "web01.xml",
            domain("web01", "<vcpupin vcpu='0' cpuset='40'/><emulatorpin cpuset='41'/>"),
        )
    )
    found = [d for d in run_admission(host(), [rt01, web]) if d.code == "VN507"]
    assert {Path(d.path).name for d in found} == {"rt01.yaml", "web01.xml"}
    assert {d.message for d in found} == {
        "vCPU 0 of web01 on host CPU(s) 40 and the emulator threads of web01 on host CPU(s) 41: "
        "held idle by rt01 (siblings of its isolated cores, threads: isolate)"
    }
    assert {d.hint for d in found} == {
        "pin web01 to cores no isolated guest holds (`vnuma compile --occupied` chooses them)"
    }
    assert all(d.severity is Severity.WARNING for d in found)
    rt01_finding = next(d for d in found if d.path.endswith("rt01.yaml"))
    assert rt01_finding.json_path == "$.cpu.threads"


def test_vn507_near_miss_the_other_cores_are_free(tmp_path: Path) -> None:
    rt01 = placed(write(tmp_path, "rt01.yaml", ISOLATED))
    web = lifted(
        write(
            tmp_path,
            "web01.xml",
            domain("web01", "<vcpupin vcpu='0' cpuset='42'/><emulatorpin cpuset='43'/>"),
        )
    )
    codes = {d.code for d in run_admission(host(), [rt01, web])}
    assert "VN507" not in codes and "VN506" not in codes


def test_vn507_an_intents_written_emulator_on_a_held_cpu(tmp_path: Path) -> None:
    write(tmp_path, "rt01.yaml", ISOLATED)
    write(
        tmp_path,
        "web02.yaml",
        """\
        version: 1
        name: web02
        vcpus: 1
        memory: 2GiB
        numatune: {mode: strict, nodeset: "1"}
        cpu: {pinning: node, emulator: "41"}
        """,
    )
    found = of(lint_dir(tmp_path), "VN507")
    assert set(found) == {"rt01.yaml", "web02.yaml"}
    assert found["web02.yaml"].message == (
        "the emulator threads of web02 on host CPU(s) 41: held idle by rt01 "
        "(siblings of its isolated cores, threads: isolate)"
    )
    assert found["web02.yaml"].json_path == "$.cpu.emulator"


def test_vn506_emulator_on_another_guests_dedicated_cpu(tmp_path: Path) -> None:
    write(tmp_path, "db01.xml", domain("db01", "<vcpupin vcpu='0' cpuset='4'/>"))
    write(tmp_path, "web01.xml", domain("web01", "<emulatorpin cpuset='4-5'/>"))
    diagnostics = lint_dir(tmp_path)
    found = of(diagnostics, "VN506")
    assert set(found) == {"db01.xml", "web01.xml"}
    for finding in found.values():
        assert finding.message == (
            "emulator threads of web01 pinned onto host CPU(s) 4, dedicated to db01 (vCPU 0)"
        )
        assert finding.hint == (
            "pin the emulator threads of web01 to CPUs no guest's vCPU is dedicated to "
            "(`vnuma host` lists them)"
        )
        assert finding.severity is Severity.WARNING
    assert "VN501" not in {d.code for d in diagnostics}


def test_vn506_near_miss_emulator_beside_the_dedicated_cpu(tmp_path: Path) -> None:
    write(tmp_path, "db01.xml", domain("db01", "<vcpupin vcpu='0' cpuset='4'/>"))
    write(tmp_path, "web01.xml", domain("web01", "<emulatorpin cpuset='5-6'/>"))
    assert of(lint_dir(tmp_path), "VN506") == {}


def test_vn506_near_miss_own_emulator_is_not_another_guests(tmp_path: Path) -> None:
    write(
        tmp_path,
        "db01.xml",
        domain("db01", "<vcpupin vcpu='0' cpuset='4'/><emulatorpin cpuset='4'/>"),
    )
    write(tmp_path, "web01.xml", domain("web01", "<emulatorpin cpuset='6'/>"))
    assert of(lint_dir(tmp_path), "VN506") == {}


# --- views draw held CPUs --------------------------------------------------------------------


def test_view_draws_held_cpus(tmp_path: Path) -> None:
    rt01 = placed(write(tmp_path, "rt01.yaml", ISOLATED))
    view = build_view(host(), [rt01])
    cpus = {cpu.id: cpu for node in view.nodes for cpu in node.cpus}
    assert cpus[40].held == (0,) and cpus[41].held == (0,)
    assert cpus[42].held == () and cpus[0].held == ()
    text = render_text(view, width=200)
    assert "- held idle (threads: isolate)" in text
    assert "CPU 40; held idle: rt01 (threads: isolate)" in render_svg(view)


def test_near_miss_view_without_isolated_guests_has_no_held_legend(tmp_path: Path) -> None:
    guest = placed(write(tmp_path, "rt01.yaml", ISOLATED.replace("isolate", "prefer")))
    view = build_view(host(), [guest])
    assert not any(cpu.held for node in view.nodes for cpu in node.cpus)
    assert "held idle" not in render_text(view, width=200)


# --- a preferred intent with a memnode per cell resolves as placement does -------------------


def test_preferred_memnodes_resolve_like_the_xml_reads_back(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "tiered.yaml",
        """\
        version: 1
        name: tiered
        vcpus: 4
        memory: 8GiB
        numatune: {mode: preferred}
        cells:
          - {cpus: "0-1", memory: 4GiB, host_nodes: "0"}
          - {cpus: "2-3", memory: 4GiB, host_nodes: "1"}
        """,
    )
    intent, problems = intent_from_raw(load_intent(path, path.name))
    assert intent is not None and not intent.needs_placement, problems
    guest = resolve(intent)
    assert guest.numatune is not None and not guest.numatune.guest_wide
    outcome = compile_intent(CompileOptions(intent_path=path))
    assert outcome.xml is not None, outcome.diagnostics
    assert "<memory mode=" not in outcome.xml
    out = write(tmp_path, "out.xml", outcome.xml)
    assert numa_picture(lifted(out)) == numa_picture(guest)


def test_near_miss_a_written_nodeset_keeps_the_guest_wide_memory(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "tiered.yaml",
        """\
        version: 1
        name: tiered
        vcpus: 4
        memory: 8GiB
        numatune: {mode: preferred, nodeset: "0"}
        cells:
          - {cpus: "0-1", memory: 4GiB, host_nodes: "0"}
          - {cpus: "2-3", memory: 4GiB, host_nodes: "1"}
        """,
    )
    intent, problems = intent_from_raw(load_intent(path, path.name))
    assert intent is not None, problems
    guest = resolve(intent)
    assert guest.numatune is not None and guest.numatune.guest_wide
    outcome = compile_intent(CompileOptions(intent_path=path))
    assert outcome.xml is not None, outcome.diagnostics
    assert numa_picture(lifted(write(tmp_path, "out.xml", outcome.xml))) == numa_picture(guest)
