"""Compiled XML: one syrupy .xml snapshot per case, covering every mode and feature."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from vnuma.runner import CompileOptions, compile_intent

from tests.conftest import HOSTS, INTENTS, SAMPLES, marked_findings

SAMPLE_INTENTS = sorted(INTENTS.glob("*.y*ml")) + sorted(INTENTS.glob("*.toml"))


def compile_ok(intent: Path, host: Path | None = None, domain: Path | None = None) -> str:
    outcome = compile_intent(CompileOptions(intent, host_path=host, domain_path=domain))
    errors = [d for d in outcome.diagnostics if d.severity.label == "error"]
    assert outcome.xml is not None, errors
    return outcome.xml


@pytest.mark.parametrize("intent", SAMPLE_INTENTS, ids=lambda p: p.name)
def test_sample(intent: Path, snapshot_xml) -> None:
    outcome = compile_intent(CompileOptions(intent))
    found = {(d.line, d.column, d.code) for d in outcome.diagnostics}
    assert found == marked_findings(intent), outcome.diagnostics  # its marked info notes only
    assert all(d.severity.label == "info" for d in outcome.diagnostics), outcome.diagnostics
    assert outcome.xml == snapshot_xml


# Cases beyond the samples: (intent text, host sample). Together with the samples they
# cover each numatune mode with and without cells, per-cell modes, CPU-less cells,
# distances, memAccess and huge pages.
CASES = {
    "strict-no-cells": (
        "vcpus: 4\nmemory: 8GiB\nnumatune: {mode: strict, nodeset: '1'}\n",
        "2s-xeon.xml",
    ),
    "strict-default-mode": ("vcpus: 4\nmemory: 8GiB\nnumatune: {nodeset: '0'}\n", "2s-xeon.xml"),
    "strict-nodeset-from-cells": (
        "vcpus: 4\nmemory: 8GiB\ncells:\n  - {cpus: '0-1', memory: 4GiB, host_nodes: 1}\n"
        "  - {cpus: '2-3', memory: 4GiB, host_nodes: 0}\n",
        "2s-xeon.xml",
    ),
    "preferred-with-cells": (
        "vcpus: 4\nmemory: 8GiB\nnumatune: {mode: preferred}\ncells:\n"
        "  - {cpus: '0-1', memory: 4GiB, host_nodes: 0}\n  - {cpus: '2-3', memory: 4GiB, host_nodes: 1}\n",
        "2s-xeon.xml",
    ),
    "interleave-with-cells": (
        "vcpus: 4\nmemory: 8GiB\nnumatune: {mode: interleave, nodeset: '0-3'}\ncells:\n"
        "  - {cpus: '0-1', memory: 4GiB, host_nodes: '0-1'}\n  - {cpus: '2-3', memory: 4GiB, host_nodes: '2-3'}\n",
        "epyc-nps4.xml",
    ),
    "restrictive-no-cells": (
        "vcpus: 4\nmemory: 8GiB\nnumatune: {mode: restrictive, nodeset: '0-1'}\n",
        "2s-xeon.xml",
    ),
    "auto-no-cells": ("vcpus: 4\nmemory: 8GiB\nnumatune: {placement: auto}\n", "2s-xeon.xml"),
    "auto-interleave": (
        "vcpus: 4\nmemory: 8GiB\nnumatune: {mode: interleave, placement: auto}\n",
        "epyc-nps4.xml",
    ),
    "cells-without-binding": (
        "vcpus: 4\nmemory: 6GiB\ncells:\n  - {cpus: '0-2', memory: 4GiB, mem_access: private}\n"
        "  - {cpus: '3', memory: 2GiB, mem_access: shared}\n",
        "laptop-1n.xml",
    ),
    "cells-distances-completed": (
        "vcpus: 3\nmemory: 3GiB\ncells:\n  - {cpus: '0', memory: 1GiB, distances: {1: 12, 2: 32}}\n"
        "  - {cpus: '1', memory: 1GiB, distances: {2: 32}}\n  - {cpus: '2', memory: 1GiB}\n",
        "epyc-nps4.xml",
    ),
    "cells-explicit-ids-out-of-order": (
        "vcpus: 4\nmemory: 8GiB\ncells:\n  - {id: 1, cpus: '2-3', memory: 4GiB, host_nodes: 1}\n"
        "  - {id: 0, cpus: '0-1', memory: 4GiB, host_nodes: 0}\n",
        "2s-xeon.xml",
    ),
    "explicit-topology-and-emulator": (
        'vcpus: 8\nmemory: 8GiB\nnumatune: {nodeset: "0"}\n'
        'cpu: {topology: {sockets: 1, cores: 4, threads: 2}, emulator: "0-1"}\n',
        "2s-xeon.xml",
    ),
    "auto-cells-no-split-of-nodeset": (
        'vcpus: 6\nmemory: 6GiB\ncells: 3\nnumatune: {mode: interleave, nodeset: "0-1"}\n',
        "2s-xeon.xml",
    ),
    "hugepages-2m-no-numatune": (
        "vcpus: 2\nmemory: 2GiB\nhugepages: {size: 2MiB}\n",
        "2s-xeon.xml",
    ),
    "no-host": ("vcpus: 2\nmemory: 2GiB\ncells:\n  - {cpus: '0-1', memory: 2GiB}\n", None),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_case(name: str, write, snapshot_xml) -> None:
    text, host = CASES[name]
    intent = write(f"{name}.yaml", "version: 1\n" + text)
    assert compile_ok(intent, HOSTS / host if host else None) == snapshot_xml


MERGES = {
    "db-strict-into-plain-vm": ("db-strict.yaml", "base-vm.xml"),
    "web-preferred-into-plain-vm": ("web-preferred.yaml", "base-vm.xml"),
    "restrictive-replaces-numa-vm": ("restrictive.yaml", "numa-vm.xml"),
    "cache-interleave-drops-cells": ("cache-interleave.yaml", "numa-vm.xml"),
}


@pytest.mark.parametrize("name", sorted(MERGES))
def test_merge(name: str, tmp_path: Path, snapshot_xml) -> None:
    intent, base = MERGES[name]
    assert compile_ok(INTENTS / intent, domain=SAMPLES / "domains" / base) == snapshot_xml


def test_merge_leaves_everything_else_untouched() -> None:
    from lxml import etree

    owned = {"memory", "currentMemory", "memoryBacking", "vcpu", "numatune", "cpu"}
    base_path = SAMPLES / "domains" / "numa-vm.xml"
    merged = etree.fromstring(compile_ok(INTENTS / "restrictive.yaml", domain=base_path).encode())
    base = etree.parse(str(base_path)).getroot()
    for element in base:
        if isinstance(element.tag, str) and element.tag not in owned:
            assert etree.tostring(merged.find(element.tag), method="c14n") == etree.tostring(
                element, method="c14n"
            )
    # parts of owned elements that vnuma does not generate survive too
    assert merged.find("memoryBacking/nosharepages") is not None
    assert merged.find("cpu").get("mode") == "host-model"
    assert merged.find("cpu/topology") is not None
    assert merged.find("cputune/vcpupin") is not None
    assert merged.find("vcpu").get("cpuset") == "0-7" and merged.find("vcpu").get("current") == "2"


def test_merge_follows_an_unballooned_current_memory_and_keeps_a_balloon() -> None:
    from lxml import etree

    plain = etree.fromstring(
        compile_ok(INTENTS / "db-strict.yaml", domain=SAMPLES / "domains" / "base-vm.xml").encode()
    )
    assert plain.findtext("currentMemory") == plain.findtext("memory") == str(64 * 1024 * 1024)
    ballooned = etree.fromstring(
        compile_ok(
            INTENTS / "restrictive.yaml", domain=SAMPLES / "domains" / "numa-vm.xml"
        ).encode()
    )
    assert (ballooned.findtext("currentMemory"), ballooned.find("currentMemory").get("unit")) == (
        "12",
        "GiB",
    )


def test_yaml_and_toml_give_identical_bytes() -> None:
    assert compile_ok(INTENTS / "db-strict.yaml") == compile_ok(INTENTS / "db-strict.toml")


def test_output_is_deterministic() -> None:
    for intent in SAMPLE_INTENTS:
        assert compile_ok(intent) == compile_ok(intent)


def test_yaml_keys_in_any_order_give_the_same_xml(write) -> None:
    a = write(
        "a.yaml",
        textwrap.dedent("""\
        version: 1
        vcpus: 4
        memory: 8GiB
        numatune: {mode: strict, nodeset: "0-1"}
        cells:
          - {cpus: "0-1", memory: 4GiB, host_nodes: 0}
          - {cpus: "2-3", memory: 4GiB, host_nodes: 1}
        """),
    )
    b = write(
        "b.yaml",
        textwrap.dedent("""\
        cells:
          - {host_nodes: 0, memory: 4GiB, cpus: "0-1"}
          - {memory: 4GiB, cpus: "2-3", host_nodes: 1}
        numatune: {nodeset: "0-1", mode: strict}
        memory: 8GiB
        vcpus: 4
        version: 1
        """),
    )
    assert compile_ok(a) == compile_ok(b)


# Placement: every CPU policy on each host sample (2-socket SMT Intel, 8-node EPYC NPS4,
# a host with a CPU-less memory node).
POLICIES = {
    "none": "{pinning: none}",
    "node": "{pinning: node, reserved: '0'}",
    "dedicated-prefer": "{pinning: dedicated, threads: prefer, topology: auto}",
    "dedicated-isolate": "{pinning: dedicated, threads: isolate, topology: auto}",
    "dedicated-require": "{pinning: dedicated, threads: require, topology: auto, emulator: node}",
}
PLACEMENT_HOSTS = ("2s-xeon.xml", "epyc-nps4.xml", "cxl-memory-node.xml")


@pytest.mark.parametrize("host", PLACEMENT_HOSTS)
@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_placement(policy: str, host: str, tmp_path: Path, snapshot_xml) -> None:
    intent = tmp_path / "guest.yaml"
    intent.write_text(
        "version: 1\nname: placed\nvcpus: 8\nmemory: 16GiB\ncells: 2\n"
        "numatune: {mode: strict, nodeset: auto}\n"
        f"cpu: {POLICIES[policy]}\n",
        encoding="utf-8",
    )
    assert compile_ok(intent, host=HOSTS / host) == snapshot_xml
