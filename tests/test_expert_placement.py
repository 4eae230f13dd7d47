"""Placement and emitted XML an expert would write (issue 15, first part): interleave
spread over a socket, no guest-wide multi-node `preferred`, no-fit messages that name
resource, node and amount, dedicated guests kept on one node, other guests' emulator
pins avoided, "most memory left" of the cell's kind, hints checked by a trial placement.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st
from vnuma.commands.lint import LintOptions, lint
from vnuma.diagnostics import Severity
from vnuma.model.guest import MemMode
from vnuma.model.intent import NumaTuneIntent
from vnuma.place import place
from vnuma.report.config import default_config

from tests.conftest import HOSTS, INTENTS
from tests.strategies import hosts, intents
from tests.test_placement_properties import (
    COMMON,
    FAST,
    PLACEMENT_CODES,
    QUICK,
    compile_case,
    crowded,
    describe,
    load_case,
    workdir,
    write_case,
)

XEON = HOSTS / "2s-xeon.xml"
EPYC = HOSTS / "epyc-nps4.xml"


def write(tmp_path: Path, text: str, name: str = "guest.yaml") -> Path:
    path = tmp_path / name
    path.write_text("version: 1\n" + text, encoding="utf-8")
    return path


# --- 1. interleave spreads over a socket -------------------------------------------------


@pytest.mark.parametrize(
    ("host", "memory", "nodeset", "why"),
    [
        # one node per socket: the socket that holds 64 GiB is one node (node 1: the most
        # small-page memory left)
        (XEON, "64GiB", "1", "every node of the fewest, closest sockets that hold it"),
        # 300 GiB is more than both sockets' small-page memory (pools excluded): every node
        (XEON, "300GiB", "0-1", "no set of whole sockets holds it: every node with CPUs"),
        # NPS4: one socket is 4 nodes; socket 1 has no 1 GiB pools, so more memory left
        (EPYC, "64GiB", "4-7", "every node of the fewest, closest sockets that hold it"),
        (EPYC, "300GiB", "0-7", "every node of the fewest, closest sockets that hold it"),
    ],
)
def test_interleave_auto_spreads_over_a_socket(
    run_cli, tmp_path: Path, host: Path, memory: str, nodeset: str, why: str
) -> None:
    intent = write(
        tmp_path, f"vcpus: 8\nmemory: {memory}\nnumatune: {{mode: interleave, nodeset: auto}}\n"
    )
    result = run_cli("compile", intent, "--host", host, "--explain")
    assert result.code == 0, result.err
    assert f'<memory mode="interleave" nodeset="{nodeset}"/>' in result.out
    assert f"explain: interleave without cells -> host node(s) {nodeset} ({why})" in result.err


# --- 2. no guest-wide preferred over several nodes -----------------------------------------


def test_preferred_cells_get_memnodes_without_a_multi_node_memory(run_cli, tmp_path: Path) -> None:
    result = run_cli("compile", INTENTS / "auto-tiered-node.yaml")
    assert result.code == 0, result.err
    assert "<memory mode=" not in result.out
    assert (
        "  <numatune>\n"
        '    <memnode cellid="0" mode="preferred" nodeset="1"/>\n'
        '    <memnode cellid="1" mode="preferred" nodeset="2"/>\n'
        "  </numatune>\n"
    ) in result.out
    out = tmp_path / "tiered.xml"
    out.write_text(result.out, encoding="utf-8")
    linted = run_cli("lint", out, "--host", HOSTS / "cxl-memory-node.xml")
    assert linted.code == 0 and "VN115" not in linted.out + linted.err


def test_strict_cells_keep_the_guest_wide_memory(run_cli, tmp_path: Path) -> None:
    intent = write(
        tmp_path, "vcpus: 4\nmemory: 8GiB\ncells: 2\nnumatune: {mode: strict, nodeset: auto}\n"
    )
    result = run_cli("compile", intent, "--host", XEON)
    assert result.code == 0, result.err
    assert '<memory mode="strict" nodeset="0-1"/>' in result.out


MODES = ("strict", "preferred", "interleave", "restrictive")


@st.composite
def any_mode(draw: st.DrawFn):
    host = draw(hosts(max_nodes=4))
    spec = draw(intents(host, max_cell_gib=8))
    return host, replace(spec, mode=draw(st.sampled_from(MODES)))


def codes_of(diagnostics) -> set[str]:
    return {d.code for d in diagnostics}


@FAST
@given(any_mode())
def test_compiled_output_lints_with_no_new_finding(scenario) -> None:
    """Every mode and cell shape: what `vnuma compile` writes, `vnuma lint` of the same
    host finds nothing in that the intent's compile did not already report."""
    host, spec = scenario
    with workdir() as directory:
        caps, intent = write_case(directory, host, spec)
        outcome = compile_case(directory, caps, intent)
        if outcome.xml is None:
            event("does not compile")
            return
        note(outcome.xml)
        out = directory / "out" / f"{spec.name}.xml"
        out.parent.mkdir()
        out.write_text(outcome.xml, encoding="utf-8")
        report = lint(LintOptions(paths=(out,), config=default_config(directory), host_path=caps))
        new = codes_of(report.diagnostics) - codes_of(outcome.diagnostics)
        event(f"mode {spec.mode}")
        assert not new, describe(report.diagnostics)


@pytest.mark.slow
@settings(max_examples=300, **COMMON)
@given(any_mode())
def test_compiled_output_lints_with_no_new_finding_many(scenario) -> None:
    test_compiled_output_lints_with_no_new_finding.hypothesis.inner_test(scenario=scenario)


# --- 3. every no-fit names resource, node and amount --------------------------------------


def test_vn603_says_what_the_other_nodes_lack(run_cli, tmp_path: Path) -> None:
    intent = write(
        tmp_path,
        "vcpus: 6\nmemory: 30GiB\ncells: 6\nnumatune: {mode: strict, nodeset: auto}\n"
        "hugepages: {size: 1GiB}\n",
    )
    result = run_cli("compile", intent, "--host", EPYC)
    assert result.code == 1
    assert (
        "VN603 6 guest cells need distinct host nodes, only 4 of the host's 8 node(s) can take "
        "any of them (0-3): needs 5 x 1 GiB pages, nodes 4-7 have 0 (short by 5)\n"
        "    hint: fits with cells: 4"
    ) in result.err


def test_vn604_names_the_crowded_cells_and_why_elsewhere_fails(run_cli, tmp_path: Path) -> None:
    intent = write(
        tmp_path,
        "vcpus: 8\nmemory: 4GiB\ncells:\n"
        '  - {cpus: "0-3", memory: 1GiB, host_nodes: auto}\n'
        '  - {cpus: "4-7", memory: 1GiB, host_nodes: auto}\n'
        "  - {memory: 2GiB, host_nodes: auto}\n"
        "numatune: {mode: strict}\nhugepages: {size: 1GiB}\n"
        'cpu: {pinning: dedicated, reserved: "1-7,16-31,65-71,80-95"}\n',
    )
    result = run_cli("compile", intent, "--host", EPYC)
    assert result.code == 1
    assert (
        "VN604 no set of 3 distinct host nodes fits all 3 cells together (each fits somewhere "
        "alone): cells 0-1 fit only on node(s) 1 (1 node(s) for 2 cells); elsewhere: needs 4 "
        "dedicated CPUs, node 0 has 2 free; needs 4 dedicated CPUs, nodes 2-3 have 0 free; "
        "needs 1 x 1 GiB pages, nodes 4-7 have 0 (short by 1)"
    ) in result.err


def test_guest_without_cells_that_fits_nowhere_names_the_resource(run_cli, tmp_path: Path) -> None:
    intent = write(tmp_path, "vcpus: 4\nmemory: 300GiB\nnumatune: {mode: strict, nodeset: auto}\n")
    result = run_cli("compile", intent, "--host", XEON)
    assert result.code == 1
    assert (
        "VN602 the guest (4 vCPUs, 300 GiB) does not fit the host even on all its nodes: needs "
        "300 GiB, node(s) 0-1 have 251.36 GiB (short by 48.64 GiB)\n"
        "    hint: fits with mode: preferred"
    ) in result.err


# --- 4. dedicated without cells: one node, memory bound ------------------------------------


def test_dedicated_guest_without_cells_stays_on_one_node(run_cli, tmp_path: Path) -> None:
    intent = write(tmp_path, "vcpus: 8\nmemory: 16GiB\ncpu: {pinning: dedicated}\n")
    result = run_cli("compile", intent, "--host", XEON, "--explain")
    assert result.code == 0, result.err
    assert '<memory mode="strict" nodeset="1"/>' in result.out
    assert '<vcpupin vcpu="0" cpuset="20"/>' in result.out
    assert '<vcpupin vcpu="7" cpuset="63"/>' in result.out
    assert '<topology sockets="1" dies="1" cores="4" threads="2"/>' in result.out
    assert (
        "explain: dedicated vCPUs without cells: vCPUs pinned and memory bound (strict) to host "
        "node(s) 1 (the guest fits one node); guest topology follows the pins"
    ) in result.err


def test_dedicated_guest_too_big_for_a_node_binds_the_nodes_of_its_cpus(
    run_cli, tmp_path: Path
) -> None:
    intent = write(tmp_path, "vcpus: 48\nmemory: 16GiB\ncpu: {pinning: dedicated}\n")
    result = run_cli("compile", intent, "--host", XEON)
    assert result.code == 0, result.err
    assert '<memory mode="strict" nodeset="0-1"/>' in result.out


# --- 5. other guests' emulator pins ---------------------------------------------------------


def test_dedicated_vcpus_avoid_another_guests_emulator_pin(run_cli, tmp_path: Path) -> None:
    other = tmp_path / "other.xml"
    other.write_text(
        '<domain type="kvm"><name>other</name><memory unit="KiB">1048576</memory>'
        '<vcpu placement="static">1</vcpu><cputune><emulatorpin cpuset="6"/></cputune>'
        "</domain>",
        encoding="utf-8",
    )
    intent = write(
        tmp_path,
        "name: new\nvcpus: 2\nmemory: 2GiB\ncells:\n"
        '  - {cpus: "0-1", memory: 2GiB, host_nodes: "0"}\n'
        'cpu: {pinning: dedicated, reserved: "0-5,40-45"}\n',
    )
    alone = run_cli("compile", intent, "--host", XEON)
    assert '<vcpupin vcpu="0" cpuset="6"/>' in alone.out  # the first free core
    beside = run_cli("compile", intent, "--host", XEON, "--occupied", other)
    assert beside.code == 0, beside.err
    assert '<vcpupin vcpu="0" cpuset="7"/>' in beside.out
    assert '<vcpupin vcpu="1" cpuset="47"/>' in beside.out
    assert 'cpuset="6"' not in beside.out.replace('<emulatorpin cpuset="6"', "")


# --- 6. most memory left, of the cell's kind -----------------------------------------------


def test_small_page_cells_prefer_nodes_without_pools(run_cli, tmp_path: Path) -> None:
    """EPYC socket 0's nodes hold 16 x 1 GiB pools, socket 1's none: small-page cells
    leave more memory on socket 1."""
    intent = write(
        tmp_path, "vcpus: 4\nmemory: 8GiB\ncells: 2\nnumatune: {mode: strict, nodeset: auto}\n"
    )
    result = run_cli("compile", intent, "--host", EPYC)
    assert '<memory mode="strict" nodeset="4-5"/>' in result.out


def test_huge_page_cells_prefer_nodes_with_the_pool(run_cli, tmp_path: Path) -> None:
    intent = write(
        tmp_path,
        "vcpus: 4\nmemory: 8GiB\ncells: 2\nnumatune: {mode: strict, nodeset: auto}\n"
        "hugepages: {size: 2MiB}\n",
    )
    result = run_cli("compile", intent, "--host", EPYC)
    # every node has 2048 x 2 MiB: equal, so the lowest ids of the closest pair
    assert '<memory mode="strict" nodeset="0-1"/>' in result.out


# --- 7. every hint is checked by a trial placement -----------------------------------------


def applied(intent, hint: str):
    if hint.startswith("fits with mode: preferred"):
        numatune = (intent.numatune or NumaTuneIntent())._replace(mode=MemMode.PREFERRED)
        return intent._replace(numatune=numatune)
    if hint.startswith("fits with cells: "):
        return intent._replace(cell_count=int(hint.removeprefix("fits with cells: ")))
    return None


@QUICK
@given(crowded())
def test_every_fits_with_hint_places_when_applied(scenario) -> None:
    host_spec, spec = scenario
    with workdir() as directory:
        host, intent = load_case(*write_case(directory, host_spec, spec))
        result = place(intent, host)
        for d in result.diagnostics:
            if d.severity < Severity.ERROR or d.code not in PLACEMENT_CODES or not d.hint:
                continue
            trial = applied(intent, d.hint)
            if trial is None:
                continue
            event(f"hint {d.hint.split(' (')[0]}")
            again = place(trial, host)
            assert again.ok, (d.hint, describe(again.diagnostics))
