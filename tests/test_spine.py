"""One verdict for one question, whichever command asks it (the runner: compile, lint,
show, fit, --occupied and pre-commit pass every guest through the same stages).

Each test is one of the contradictions the spine removed, run through the CLI."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import HOSTS, INTENTS, REPO, clean_environment, explain_process, run_process

XEON = HOSTS / "2s-xeon.xml"
PIN = re.compile(r'<vcpupin vcpu="(\d+)" cpuset="(\d+)"/>')


def _pins(xml: str) -> set[int]:
    return {int(cpu) for _, cpu in PIN.findall(xml)}


def _codes(text: str) -> list[str]:
    return re.findall(r": (VN\d{3}) ", text)


# --- 1. show draws what admission computed ----------------------------------------------


def test_show_draws_no_overcommit_that_lint_does_not_see(run_cli, write) -> None:
    a = write(
        "a.yaml", 'version: 1\nvcpus: 4\nmemory: 100GiB\nnumatune: {mode: strict, nodeset: "0"}\n'
    )
    b = write(
        "b.yaml", 'version: 1\nvcpus: 4\nmemory: 140GiB\nnumatune: {mode: strict, nodeset: "0-1"}\n'
    )
    lint = run_cli("lint", a, b, "--host", XEON)
    assert lint.code == 0 and _codes(lint.out) == [], lint.out
    show = run_cli("show", "--host", XEON, a, b)
    assert show.code == 0, show.err
    assert "OVER" not in show.out, show.out
    # node 0 holds all of a (100 GiB) and what of b its small-page memory still has room for
    node0 = next(line for line in show.out.splitlines() if line.startswith("    0 ["))
    assert "125.44GiB/125.44GiB bound" in node0, node0
    svg = write("view.svg", "")
    assert run_cli("show", "--host", XEON, a, b, "-o", svg).code == 0
    drawn = svg.read_text(encoding="utf-8")
    assert "VN502" not in drawn and 'data-overcommitted="true"' not in drawn


def test_show_marks_the_overcommit_lint_reports(run_cli, write) -> None:
    a = write(
        "a.yaml", 'version: 1\nvcpus: 4\nmemory: 100GiB\nnumatune: {mode: strict, nodeset: "0"}\n'
    )
    b = write(
        "b.yaml", 'version: 1\nvcpus: 4\nmemory: 60GiB\nnumatune: {mode: strict, nodeset: "0"}\n'
    )
    lint = run_cli("lint", a, b, "--host", XEON)
    assert _codes(lint.out) == ["VN502", "VN502"], lint.out
    show = run_cli("show", "--host", XEON, a, b)
    assert show.code == 1
    assert "OVER 160GiB/125.44GiB bound" in show.out, show.out


# --- 2. auto guests of one host are placed one after another, by every command ------------

AUTO = (
    "version: 1\nname: {name}\nvcpus: 16\nmemory: 32GiB\ncells: 2\n"
    "numatune: {{mode: strict, nodeset: auto}}\ncpu: {{pinning: dedicated}}\n"
)


def _fleet(write) -> tuple[Path, Path, Path]:
    config = write("repo/vnuma.toml", f'[[hosts]]\nsnapshot = "{XEON}"\nfiles = ["vms/hv01/**"]\n')
    a = write("repo/vms/hv01/a.yaml", AUTO.format(name="a"))
    b = write("repo/vms/hv01/b.yaml", AUTO.format(name="b"))
    return config.parent, a, b


def test_lint_places_auto_guests_of_a_host_beside_each_other(run_cli, write) -> None:
    root, a, _ = _fleet(write)
    for args in ((root / "vms",), (a.parent, "--host", XEON)):
        lint = run_cli("lint", *args)
        assert lint.code == 0, lint.out
        assert _codes(lint.out) == [], lint.out


def test_compile_places_a_mapped_intent_where_lint_admitted_it(run_cli, write) -> None:
    _, a, b = _fleet(write)
    first, second = run_cli("compile", a), run_cli("compile", b)
    assert first.code == 0 and second.code == 0, first.err + second.err
    assert len(_pins(first.out)) == len(_pins(second.out)) == 16
    assert not _pins(first.out) & _pins(second.out)
    # the same seating as `vnuma show` of the two, given in either order
    from vnuma.commands.show import load_view

    for given in ((a, b), (b, a)):
        view, _ = load_view(XEON, list(given))
        drawn = {
            view.guests[pin.guest].name: set()
            for node in view.nodes
            for cpu in node.cpus
            for pin in cpu.pins
        }
        for node in view.nodes:
            for cpu in node.cpus:
                for pin in cpu.pins:
                    drawn[view.guests[pin.guest].name].add(cpu.id)
        assert drawn == {"a": _pins(first.out), "b": _pins(second.out)}
    # without a mapping, compile places on an empty host, as before
    alone = write("alone/b.yaml", AUTO.format(name="b"))
    placed = run_cli("compile", alone, "--host", XEON)
    assert _pins(placed.out) == _pins(first.out)


def test_compile_occupied_and_lint_agree_on_the_seating(run_cli, write) -> None:
    _, a, b = _fleet(write)
    first = run_cli("compile", a, "--host", XEON)
    second = run_cli("compile", b, "--host", XEON, "--occupied", a)
    mapped = run_cli("compile", b)
    assert second.out == mapped.out and second.code == mapped.code == 0
    assert not _pins(first.out) & _pins(second.out)


# --- 3. one guest is counted once; two guests may not share a name ------------------------


def test_an_intent_and_its_compiled_domain_are_one_guest(run_cli, write) -> None:
    root, a, _ = _fleet(write)
    b = root / "vms" / "hv01" / "b.yaml"
    b.unlink()
    xml = root / "vms" / "hv01" / "a.xml"
    assert run_cli("compile", a, "-o", xml).code == 0
    lint = run_cli("lint", root / "vms")
    assert lint.code == 0, lint.out
    assert _codes(lint.out) == [], lint.out  # not "pinned exclusively by a ..., a ..."


def test_two_different_guests_with_one_name_are_a_finding(run_cli, write) -> None:
    root, _, b = _fleet(write)
    b.write_text(AUTO.format(name="a"), encoding="utf-8")
    lint = run_cli("lint", root / "vms")
    assert lint.code == 1
    assert "vms/hv01/b.yaml:2:7: VN505 another guest on this host is named 'a'" in lint.out
    assert "libvirt refuses the second define" in lint.out
    assert _codes(lint.out) == ["VN505"], lint.out


def test_same_uuid_under_two_names_is_a_finding(run_cli, write) -> None:
    domain = (
        "<domain type='kvm'>\n  <name>{name}</name>\n"
        "  <uuid>11111111-2222-3333-4444-555555555555</uuid>\n"
        "  <memory unit='GiB'>4</memory>\n  <vcpu>2</vcpu>\n"
        "  <os><type arch='x86_64'>hvm</type></os>\n</domain>\n"
    )
    one = write("hv/one.xml", domain.format(name="one"))
    write("hv/two.xml", domain.format(name="two"))
    lint = run_cli("lint", one.parent, "--host", XEON)
    assert "VN505 another guest on this host has uuid 11111111-2222-3333-4444-555555555555" in (
        lint.out
    )
    assert "is already defined with uuid" in lint.out


# --- 4. linting one file of a host admits the whole host -----------------------------------

ON_NODE_0 = (
    "version: 1\nname: {name}\nvcpus: 4\nmemory: 100GiB\n"
    'cells:\n  - {{cpus: "0-3", memory: 100GiB, host_nodes: "0"}}\n'
)


def test_lint_of_one_mapped_file_sees_every_guest_of_its_host(run_cli, write) -> None:
    root = write(
        "repo/vnuma.toml", f'[[hosts]]\nsnapshot = "{XEON}"\nfiles = ["vms/hv01/**"]\n'
    ).parent
    write("repo/vms/hv01/db.yaml", ON_NODE_0.format(name="db"))
    db2 = write("repo/vms/hv01/db2.yaml", ON_NODE_0.format(name="db2"))
    write("repo/vms/hv02/db3.yaml", ON_NODE_0.format(name="db3"))  # another host
    lint = run_cli("lint", db2)
    assert lint.code == 1
    # reported in the file that was asked for; db.yaml is only the other half
    assert _codes(lint.out) == ["VN502"], lint.out
    assert lint.out.startswith(
        f"{db2.relative_to(Path.cwd()) if db2.is_relative_to(Path.cwd()) else db2}:"
    )
    assert "(db: cell 0 100 GiB; db2: cell 0 100 GiB)" in lint.out
    whole = run_cli("lint", root)
    assert _codes(whole.out) == ["VN502", "VN502"], whole.out


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if subprocess.run(
        [sys.executable, "-m", "pre_commit", "--version"], capture_output=True
    ).returncode:
        pytest.skip("pre-commit is not installed")
    repo = tmp_path / "fleet"
    repo.mkdir()
    for args in (
        ["init", "-q"],
        ["config", "user.email", "ci@example.invalid"],
        ["config", "user.name", "CI"],
        ["config", "commit.gpgsign", "false"],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    return repo


@pytest.mark.slow  # git and the real pre-commit: about ten processes; the lint above is its fast twin
def test_pre_commit_refuses_the_second_guest_of_a_full_host(git_repo: Path) -> None:
    """The real `pre-commit` with vnuma as a local hook: it passes only the staged file,
    and the commit of the second guest must still fail on the whole host."""
    repo = git_repo
    vnuma = f"{sys.executable} -m vnuma lint --force-exclude"
    (repo / ".pre-commit-config.yaml").write_text(
        "repos:\n  - repo: local\n    hooks:\n      - id: vnuma\n        name: vnuma\n"
        f"        entry: {vnuma}\n        language: system\n"
        "        types_or: [yaml, toml, xml]\n        require_serial: true\n",
        encoding="utf-8",
    )
    (repo / "vnuma.toml").write_text(
        f'[[hosts]]\nsnapshot = "{XEON}"\nfiles = ["vms/hv01/**"]\n', encoding="utf-8"
    )
    (repo / "vms" / "hv01").mkdir(parents=True)
    (repo / "vms" / "hv01" / "db.yaml").write_text(ON_NODE_0.format(name="db"), encoding="utf-8")
    env = clean_environment()
    env["PRE_COMMIT_HOME"] = str(repo.parent / "pre-commit-home")
    env["PYTHONPATH"] = str(REPO)  # the system hook's `python -m vnuma` is this checkout

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return run_process(["git", *args], cwd=repo, env=env, timeout=300)

    installed = run_process(
        [sys.executable, "-m", "pre_commit", "install"], cwd=repo, env=env, timeout=300
    )
    assert installed.returncode == 0, explain_process(installed)
    assert git("add", "-A").returncode == 0
    first = git("commit", "-q", "-m", "db")
    assert first.returncode == 0, explain_process(first)
    (repo / "vms" / "hv01" / "db2.yaml").write_text(ON_NODE_0.format(name="db2"), encoding="utf-8")
    assert git("add", "vms/hv01/db2.yaml").returncode == 0
    second = git("commit", "-q", "-m", "db2")
    assert second.returncode != 0, explain_process(second)
    assert "vms/hv01/db2.yaml:6:47: VN502" in second.stdout + second.stderr, explain_process(second)
    assert "vms/hv01/db.yaml:" not in second.stdout, explain_process(second)


# --- 5. one XML loader, one policy ---------------------------------------------------------

LATIN1_DOMAIN = (
    "<?xml version='1.0' encoding='ISO-8859-1'?>\n"
    "<domain type='kvm'>\n  <name>caf\xe9</name>\n  <description>d\xe9j\xe0 vu</description>\n"
    "  <memory unit='GiB'>4</memory>\n  <vcpu>2</vcpu>\n"
    "  <os><type arch='x86_64'>hvm</type></os>\n</domain>\n"
).encode("latin-1")


def test_a_declared_latin1_domain_reads_the_same_everywhere(run_cli, tmp_path: Path) -> None:
    domain = tmp_path / "latin1.xml"
    domain.write_bytes(LATIN1_DOMAIN)
    intent = tmp_path / "db.yaml"
    intent.write_text(ON_NODE_0.format(name="db"), encoding="utf-8")
    lint = run_cli("lint", domain, "--host", XEON)
    assert lint.code == 0 and "skipped" not in lint.err, lint.out + lint.err
    assert "1 file checked" in lint.out
    merged = run_cli("compile", intent, "--host", XEON, "--domain", domain)
    assert merged.code == 0, merged.err
    assert "<name>caf\xe9</name>" in merged.out
    beside = run_cli("compile", intent, "--host", XEON, "--occupied", domain)
    assert beside.code == 0, beside.err
    assert "VN001" not in beside.err


def test_an_undeclared_latin1_domain_is_the_same_error_everywhere(run_cli, tmp_path: Path) -> None:
    domain = tmp_path / "latin1.xml"
    domain.write_bytes(LATIN1_DOMAIN.split(b"\n", 1)[1])  # no declaration: UTF-8 is assumed
    intent = tmp_path / "db.yaml"
    intent.write_text(ON_NODE_0.format(name="db"), encoding="utf-8")
    lint = run_cli("lint", domain, "--host", XEON)
    beside = run_cli("compile", intent, "--host", XEON, "--occupied", domain)
    merged = run_cli("compile", intent, "--host", XEON, "--domain", domain)
    message = "file is not valid UTF-8 (byte 0xe9)"
    assert lint.code == beside.code == merged.code == 1
    assert f"latin1.xml:2:12: VN001 {message}" in lint.out
    assert f"latin1.xml:2:12: VN001 {message}" in beside.err
    assert f"latin1.xml:2:12: VN010 base domain: {message}" in merged.err


# --- 6. configuration and suppressions apply to every command -----------------------------

ON_NODE_5 = (
    "version: 1\nvcpus: 4\nmemory: 8GiB\n"
    'cells:\n  - {cpus: "0-3", memory: 8GiB, host_nodes: "5"}  # vnuma: disable=VN201\n'
)


def test_a_suppression_silences_compile_as_it_silences_lint(run_cli, write) -> None:
    intent = write("db.yaml", ON_NODE_5)
    lint = run_cli("lint", intent, "--host", XEON)
    compiled = run_cli("compile", intent, "--host", XEON)
    assert lint.code == 0 and _codes(lint.out) == [], lint.out
    assert "VN201" not in compiled.err
    bare = write("bare/db.yaml", ON_NODE_5.replace("  # vnuma: disable=VN201", ""))
    assert (
        run_cli("lint", bare, "--host", XEON).code
        == run_cli("compile", bare, "--host", XEON).code
        == 1
    )


def test_a_severity_override_applies_to_compile_as_to_lint(run_cli, write) -> None:
    intent = write("repo/db.yaml", ON_NODE_5.replace("  # vnuma: disable=VN201", ""))
    write("repo/vnuma.toml", '[severity]\nVN201 = "warning"\n')
    lint = run_cli("lint", intent, "--host", XEON)
    compiled = run_cli("compile", intent, "--host", XEON)
    assert lint.code == 0, lint.out
    assert "VN201" in lint.out and "(warning)" in lint.out
    assert "VN201" in compiled.err and "(warning)" in compiled.err
    isolated = write("other/db.yaml", intent.read_text(encoding="utf-8"))
    assert run_cli("compile", isolated, "--host", XEON).code == 1


def test_fit_reports_what_compile_reports(run_cli, write) -> None:
    intent = write("db.yaml", ON_NODE_5)
    fit = run_cli("fit", intent, "--host", XEON, "--format", "json")
    assert '"fits": true' in fit.out  # VN201 is suppressed in the file, as for compile
    bare = write("bare/db.yaml", ON_NODE_5.replace("  # vnuma: disable=VN201", ""))
    assert '"fits": false' in run_cli("fit", bare, "--host", XEON, "--format", "json").out


def test_samples_compile_as_before(run_cli) -> None:
    result = run_cli("compile", INTENTS / "db-strict.yaml", "--host", XEON)
    assert result.code == 0


# --- 12. a batch of files loads as each file alone ---------------------------------------


def _loaded_as(file) -> tuple:
    return (file.kind, file.note, file.diagnostics, file.suppressions, file.written, file.guest)


def test_a_batch_of_files_loads_as_each_file_alone(tmp_path: Path) -> None:
    from vnuma.runner import _BATCH, load_guest_file, load_guest_files

    (tmp_path / "broken.yaml").write_text("vcpus: [\n", encoding="utf-8")
    (tmp_path / "other.yaml").write_text("apiVersion: v1\nkind: Pod\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("vcpus: 4\n", encoding="utf-8")
    (tmp_path / "bad.xml").write_text("<domain><vcpu>x</vcpu>", encoding="utf-8")
    samples = sorted((REPO / "samples").rglob("*.*"))
    mixed = [*samples, *sorted(tmp_path.iterdir())]
    requests = [(path, path.name, None) for path in mixed if path.suffix != ".py"] * 3
    assert len(requests) > 2 * _BATCH  # more than two batches
    batch = load_guest_files(requests, discovering=True)
    alone = [load_guest_file(path, shown, discovering=True) for path, shown, _ in requests]
    assert {file.kind for file in batch} == {"intent", "domain", "skipped"}
    assert any(file.diagnostics for file in batch)
    assert [_loaded_as(file) for file in batch] == [_loaded_as(file) for file in alone]


def test_a_batch_raises_for_its_first_unreadable_file(tmp_path: Path) -> None:
    from vnuma.runner import UnreadableInput, load_guest_files

    good = REPO / "samples" / "intents" / "db-strict.yaml"
    first, second = tmp_path / "gone.xml", tmp_path / "gone.yaml"
    requests = [
        (good, "db-strict.yaml", None),
        (first, "gone.xml", None),
        (second, "gone.yaml", None),
    ]
    with pytest.raises(UnreadableInput, match=r"gone\.xml: no such file"):
        load_guest_files(requests)


def test_checks_of_a_host_s_guests_together_find_what_each_alone_finds() -> None:
    from vnuma.rules.check import run_checks, run_checks_each
    from vnuma.runner import HostSnapshots, load_guest_file

    host = HostSnapshots().get(XEON)
    assert host is not None
    negative = sorted((REPO / "samples" / "negative").rglob("*.*"))
    files = [load_guest_file(path, path.name, discovering=True) for path in negative]
    guests = [file.guest for file in files if file.guest is not None]
    assert len(guests) > 3
    together = run_checks_each(guests, host)
    assert any(together)
    assert together == [run_checks(guest, host) for guest in guests]
