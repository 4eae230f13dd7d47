"""`vnuma fit`, `vnuma compile --explain` and `--occupied`: placement from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import HOSTS, INTENTS

AUTO = INTENTS / "auto-dedicated.yaml"


def test_fit_table_names_the_hosts_that_can_take_the_guest(run_cli, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # one line per host (wrapping: test_first_contact_output)
    result = run_cli("fit", AUTO, "--host", HOSTS)
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split() == ["host", "fits", "nodes", "distance", "dedicated", "why", "not"]
    xeon = next(line for line in lines if "2s-xeon.xml" in line)
    assert xeon.split()[1:5] == ["yes", "0,1", "21", "16"]
    epyc = next(line for line in lines if "epyc-nps4.xml" in line)
    assert " no " in epyc and "VN602" in epyc and "nodes 0-3 have 16 (short by 16)" in epyc
    live = next(line for line in lines if "2s-xeon-live.xml" in line)  # 16 of 64 1G pages free
    assert " no " in live and "VN603" in live
    assert lines[-1] == "1 of 5 host(s) can take the guest."


def test_fit_json_and_exit_status_when_no_host_fits(run_cli) -> None:
    result = run_cli("fit", AUTO, "--host", HOSTS / "laptop-1n.xml", "--format", "json")
    assert result.code == 1
    (entry,) = json.loads(result.out)
    assert entry["fits"] is False
    assert entry["problems"][0]["code"] == "VN602"


def test_fit_defaults_to_the_intents_host(run_cli) -> None:
    result = run_cli("fit", AUTO, "--format", "json")
    assert [e["host"] for e in json.loads(result.out)] == ["samples/hosts/2s-xeon.xml"]


def test_fit_missing_snapshot_is_a_usage_error(run_cli) -> None:
    assert run_cli("fit", AUTO, "--host", "nowhere.xml").code == 2


def test_explain_traces_every_decision(run_cli) -> None:
    result = run_cli("compile", AUTO, "--explain")
    assert result.code == 0
    explained = [line for line in result.err.splitlines() if line.startswith("explain: ")]
    assert any("split into 2 cells" in line for line in explained)
    assert any("host nodes 0-1: summed distance 21" in line for line in explained)
    assert any("cell 0 (8 vCPUs, 32 GiB) -> node 0" in line for line in explained)
    assert any("vCPU 0->CPU 2, vCPU 1->CPU 42" in line for line in explained)
    assert any("emulator threads on CPU 6" in line for line in explained)
    assert "<emulatorpin" in result.out


def test_explain_without_anything_to_place(run_cli) -> None:
    result = run_cli("compile", INTENTS / "db-strict.yaml", "--explain")
    assert "explain: nothing to place" in result.err


def test_without_a_host_placement_is_an_error(run_cli, tmp_path: Path) -> None:
    intent = tmp_path / "a.yaml"
    intent.write_text(AUTO.read_text().replace("host: ../hosts/2s-xeon.xml\n", ""))
    result = run_cli("compile", intent)
    assert result.code == 1
    assert "VN601" in result.err


def test_second_guest_avoids_the_first(run_cli, tmp_path: Path) -> None:
    first = tmp_path / "first.xml"
    assert run_cli("compile", AUTO, "-o", first).code == 0
    second_intent = tmp_path / "second.yaml"
    second_intent.write_text(
        AUTO.read_text()
        .replace("name: db-auto", "name: db-auto-2")
        .replace("host: ../hosts/2s-xeon.xml", f"host: {HOSTS / '2s-xeon.xml'}")
    )
    second = tmp_path / "second.xml"
    result = run_cli("compile", second_intent, "--occupied", first, "-o", second)
    assert result.code == 0, result.err
    first_cpus = _pinned(first.read_text())
    second_cpus = _pinned(second.read_text())
    assert first_cpus and second_cpus and not first_cpus & second_cpus
    lint = run_cli("lint", first, second, "--host", HOSTS / "2s-xeon.xml", "--format", "json")
    assert [d["code"] for d in json.loads(lint.out)] == []


def test_third_guest_no_longer_fits(run_cli, tmp_path: Path) -> None:
    # Each guest takes 32 of the 64 1 GiB pages on each node: two fit, a third does not.
    outputs = []
    for index in range(3):
        intent = tmp_path / f"g{index}.yaml"
        intent.write_text(
            AUTO.read_text()
            .replace("name: db-auto", f"name: g{index}")
            .replace("host: ../hosts/2s-xeon.xml", f"host: {HOSTS / '2s-xeon.xml'}")
        )
        out = tmp_path / f"g{index}.xml"
        occupied = [arg for previous in outputs for arg in ("--occupied", previous)]
        result = run_cli("compile", intent, *occupied, "-o", out)
        outputs.append(out)
        if index < 2:
            assert result.code == 0, result.err
        else:
            assert result.code == 1
            assert "needs 32 x 1 GiB pages, nodes 0-1 have 0 (short by 32)" in result.err


def _pinned(xml: str) -> set[int]:
    import re

    return {int(cpu) for cpu in re.findall(r'<vcpupin vcpu="\d+" cpuset="(\d+)"/>', xml)}


def test_cells_bound_by_hand_are_checked_beside_occupied_guests(run_cli, tmp_path: Path) -> None:
    text = (
        "version: 1\nname: {name}\nvcpus: 4\nmemory: 100GiB\n"
        'cells:\n  - {{cpus: "0-3", memory: 100GiB, host_nodes: "0"}}\n'
    )
    other, intent = tmp_path / "other.yaml", tmp_path / "fixed.yaml"
    other.write_text(text.format(name="other"))
    intent.write_text(text.format(name="fixed"))
    host = HOSTS / "2s-xeon.xml"
    first = tmp_path / "first.xml"
    assert run_cli("compile", other, "--host", host, "-o", first).code == 0
    result = run_cli("compile", intent, "--host", host, "--occupied", first)
    assert result.code == 1
    # A guest bound by hand is not moved: the host admits the two together, as lint does.
    assert "fixed.yaml:6:47: VN502 strictly bound guest memory on host node(s) 0: 200 GiB " in (
        result.err
    )
    assert "needed, 125.44 GiB available (other: cell 0 100 GiB; fixed: cell 0 100 GiB)" in (
        result.err
    )
    lint = run_cli("lint", intent, first, "--host", host)
    assert lint.code == 1 and lint.err == ""
    assert [line.split(" ")[1] for line in lint.out.splitlines()[:-1] if "VN" in line] == [
        "VN502",
        "VN502",
    ]


def test_a_guest_beside_its_own_definition_is_one_guest(run_cli, tmp_path: Path) -> None:
    intent = tmp_path / "fixed.yaml"
    intent.write_text(
        "version: 1\nname: fixed\nvcpus: 4\nmemory: 100GiB\n"
        'cells:\n  - {cpus: "0-3", memory: 100GiB, host_nodes: "0"}\n'
    )
    host = HOSTS / "2s-xeon.xml"
    compiled = tmp_path / "fixed.xml"
    assert run_cli("compile", intent, "--host", host, "-o", compiled).code == 0
    for beside in (compiled, intent):
        result = run_cli("compile", intent, "--host", host, "--occupied", beside)
        assert result.code == 0, result.err
        assert result.err == "" or "VN5" not in result.err


def test_guest_without_cells_takes_the_fewest_closest_nodes(run_cli, tmp_path: Path) -> None:
    intent = tmp_path / "wide.yaml"
    intent.write_text(
        "version: 1\nvcpus: 40\nmemory: 96GiB\nnumatune: {mode: strict, nodeset: auto}\n"
        "cpu: {pinning: dedicated}\n"
    )
    result = run_cli("compile", intent, "--host", HOSTS / "epyc-nps4.xml", "--explain")
    assert result.code == 0, result.err
    # 16 CPUs per node: 40 dedicated vCPUs need 3 nodes, all on one socket (distance 12);
    # socket 1's nodes win the tie: they have the most small-page memory (no 1 GiB pools).
    assert "guest without cells -> host node(s) 4-6 (fewest nodes that hold it, then least " in (
        result.err
    )
    assert '<memory mode="strict" nodeset="4-6"/>' in result.out


def test_require_on_a_node_bound_by_hand_is_vn607_not_a_crash(run_cli, tmp_path: Path) -> None:
    intent = tmp_path / "req.yaml"
    intent.write_text(
        'version: 1\nvcpus: 3\nmemory: 4GiB\ncells:\n  - {cpus: "0-2", memory: 4GiB, host_nodes: "0"}\n'
        "cpu: {pinning: dedicated, threads: require}\n"
    )
    result = run_cli("compile", intent, "--host", HOSTS / "2s-xeon.xml")
    assert result.code == 1
    assert (
        "req.yaml:6:36: VN607 cell 0: 3 vCPUs cannot all sit on host sibling pairs "
        "(20 free pairs on node(s) 0)"
    ) in result.err


def test_isolate_on_a_node_bound_by_hand_names_the_cores_it_lacks(run_cli, tmp_path: Path) -> None:
    intent = tmp_path / "iso.yaml"
    intent.write_text(
        'version: 1\nvcpus: 24\nmemory: 8GiB\ncells:\n  - {cpus: "0-23", memory: 8GiB, host_nodes: "0"}\n'
        "cpu: {pinning: dedicated, threads: isolate}\n"
    )
    result = run_cli("compile", intent, "--host", HOSTS / "2s-xeon.xml")
    assert result.code == 1
    assert (
        "VN602 cell 0 needs 24 whole free cores (threads: isolate) on node(s) 0, there are 20"
    ) in result.err, result.err


def test_more_dedicated_vcpus_than_a_hand_bound_node_has_is_vn602(run_cli, tmp_path: Path) -> None:
    intent = tmp_path / "many.yaml"
    intent.write_text(
        'version: 1\nvcpus: 41\nmemory: 8GiB\ncells:\n  - {cpus: "0-40", memory: 8GiB, host_nodes: "0"}\n'
        "cpu: {pinning: dedicated}\n"
    )
    result = run_cli("compile", intent, "--host", HOSTS / "2s-xeon.xml")
    assert result.code == 1
    assert "many.yaml:6:16: VN602 cell 0 needs 41 dedicated CPUs on node(s) 0" in result.err


def test_require_names_the_sibling_pairs_each_node_lacks(run_cli, tmp_path: Path) -> None:
    """Node 1 keeps 36 CPUs but only 16 whole cores: enough CPUs, too few pairs."""
    intent = tmp_path / "rq.yaml"
    intent.write_text(
        "version: 1\nvcpus: 34\nmemory: 8GiB\ncells: 1\nnumatune: {mode: strict, nodeset: auto}\n"
        'cpu: {pinning: dedicated, threads: require, reserved: "0-23"}\n'
    )
    result = run_cli("compile", intent, "--host", HOSTS / "2s-xeon.xml")
    assert result.code == 1
    assert (
        "VN607 guest cell 0 fits on no host node: needs 17 free sibling pairs (threads: "
        "require), node 0 has 0; needs 17 free sibling pairs (threads: require), node 1 has 16"
    ) in result.err, result.err
