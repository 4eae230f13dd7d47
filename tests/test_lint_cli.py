"""`vnuma lint` end to end: discovery, host resolution, configuration, suppressions, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import HOSTS, REPO

CLEAN = "version: 1\nvcpus: 4\nmemory: 4GiB\n"
BAD_UNIT = "version: 1\nvcpus: 4\nmemory: 4096\n"  # VN004 at 3:9
OVERLAP = (
    "version: 1\nvcpus: 4\nmemory: 4GiB\ncells:\n"
    '  - {cpus: "0-2", memory: 2GiB}\n'
    '  - {cpus: "2-3", memory: 2GiB}\n'
)  # VN104 at 6:12
ON_NODE_5 = 'version: 1\nvcpus: 4\nmemory: 4GiB\nnumatune: {mode: strict, nodeset: "5"}\n'
OVERCOMMIT = "version: 1\nvcpus: 96\nmemory: 4GiB\n"  # VN207 warning against 2s-xeon (80 CPUs)
XEON = (HOSTS / "2s-xeon.xml").as_posix()


@pytest.fixture
def tree(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def put(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- exit status -----------------------------------------------------------------------------


def test_clean_tree_exits_0(run_cli, tree) -> None:
    put(tree, "vms/a.yaml", CLEAN)
    result = run_cli("lint", "vms")
    assert result.code == 0
    assert result.out == (
        "Found 0 errors, 0 warnings in 1 file checked; "
        "host checks skipped for 1 without a host snapshot.\n"
    )


def test_error_exits_1_with_ruff_style_line(run_cli, tree) -> None:
    put(tree, "vms/a.yaml", BAD_UNIT)
    result = run_cli("lint", "vms")
    assert result.code == 1
    assert result.out.startswith("vms/a.yaml:3:9: VN004 size 4096 has no unit\n    hint: ")


def test_no_path_means_current_directory(run_cli, tree) -> None:
    put(tree, "deep/er/a.yaml", OVERLAP)
    result = run_cli("lint")
    assert result.code == 1
    assert "deep/er/a.yaml:6:12: VN104 " in result.out


def test_warnings_pass_unless_strict(run_cli, tree) -> None:
    put(tree, "a.yaml", OVERCOMMIT)
    assert run_cli("lint", "a.yaml", "--host", XEON).code == 0
    strict = run_cli("lint", "a.yaml", "--host", XEON, "--strict")
    assert strict.code == 1
    assert "a.yaml:2:8: VN207 96 vCPUs on a host with 80 CPUs (warning)" in strict.out


def test_exit_zero(run_cli, tree) -> None:
    put(tree, "a.yaml", BAD_UNIT)
    result = run_cli("lint", "a.yaml", "--exit-zero")
    assert result.code == 0
    assert "VN004" in result.out


def test_missing_path_is_a_usage_error(run_cli, tree) -> None:
    result = run_cli("lint", "nope.yaml")
    assert result.code == 2
    assert "nope.yaml: no such file or directory" in result.err


def test_unreadable_explicit_host_is_a_usage_error(run_cli, tree) -> None:
    put(tree, "a.yaml", CLEAN)
    result = run_cli("lint", "a.yaml", "--host", "missing.xml")
    assert result.code == 2


# --- hosts ------------------------------------------------------------------------------------


def test_without_host_the_summary_says_host_checks_were_skipped(run_cli, tree) -> None:
    put(tree, "a.yaml", ON_NODE_5)
    result = run_cli("lint", "a.yaml")
    assert result.code == 0
    assert "host checks skipped for 1 file(s) without a host snapshot" in result.err


def test_host_from_option_and_from_the_intent(run_cli, tree) -> None:
    put(tree, "a.yaml", ON_NODE_5)
    assert "VN201" in run_cli("lint", "a.yaml", "--host", XEON).out
    put(tree, "b.yaml", ON_NODE_5 + f"host: {XEON}\n")
    assert "b.yaml:4:35: VN201" in run_cli("lint", "b.yaml").out


def test_host_from_config_mapping(run_cli, tree) -> None:
    put(
        tree,
        "vnuma.toml",
        f'[[hosts]]\nsnapshot = "{XEON}"\nfiles = ["vms/hv01/**"]\n',
    )
    put(tree, "vms/hv01/a.yaml", ON_NODE_5)
    put(tree, "vms/hv02/b.yaml", ON_NODE_5)
    result = run_cli("lint", "vms", "--format", "json")
    assert [(Path(d["path"]).name, d["code"]) for d in json.loads(result.out)] == [
        ("a.yaml", "VN201")
    ]
    assert "host checks skipped for 1 file(s)" in result.err


def test_host_snapshot_problem_reported_once(run_cli, tree) -> None:
    put(tree, "caps.xml", "<capabilities><host/></capabilities>\n")
    put(tree, "a.yaml", CLEAN)
    put(tree, "b.yaml", CLEAN)
    result = run_cli("lint", "a.yaml", "b.yaml", "--host", "caps.xml", "--format", "json")
    assert [d["code"] for d in json.loads(result.out)] == ["VN009"]


# --- discovery --------------------------------------------------------------------------------


def test_other_files_skipped_with_a_note(run_cli, tree) -> None:
    put(tree, "ci.yaml", "jobs: {build: {runs-on: ubuntu}}\n")
    put(tree, "list.yaml", "- a\n- b\n")
    put(tree, "caps.xml", (HOSTS / "laptop-1n.xml").read_text(encoding="utf-8"))
    put(tree, "pom.xml", "<project/>\n")
    put(tree, "notes.txt", "vcpus: 4\n")
    put(tree, ".hidden/a.yaml", BAD_UNIT)
    put(tree, "pyproject.toml", "[project]\nname = 'x'\n")
    result = run_cli("lint")
    assert result.code == 0
    assert "ci.yaml: skipped: not a vnuma intent" in result.err
    assert "list.yaml: skipped: not a vnuma intent" in result.err
    assert "caps.xml: skipped: a host capabilities snapshot, not a domain" in result.err
    assert "pom.xml: skipped: not a libvirt domain (root element <project>)" in result.err
    assert "notes.txt" not in result.err and ".hidden" not in result.out + result.err
    assert "pyproject.toml" not in result.err
    assert result.out == "Found 0 errors, 0 warnings in 0 files checked (4 skipped).\n"
    assert run_cli("lint", "--quiet").err == ""


def test_broken_yaml_is_a_syntax_error_not_skipped(run_cli, tree) -> None:
    put(tree, "a.yaml", "vcpus: [1, 2\n")
    result = run_cli("lint")
    assert result.code == 1
    assert "VN001" in result.out


# --- configuration ----------------------------------------------------------------------------


def test_closest_config_applies_to_each_file(run_cli, tree) -> None:
    put(tree, "team-a/pyproject.toml", '[tool.vnuma]\nignore = ["VN104"]\n')
    put(tree, "team-a/vm.yaml", OVERLAP)
    put(tree, "team-b/vm.yaml", OVERLAP)
    result = run_cli("lint", "--format", "json")
    assert [d["path"] for d in json.loads(result.out)] == ["team-b/vm.yaml"]


def test_symlinked_files_and_directories_take_the_configuration_of_their_target(
    run_cli, tree
) -> None:
    put(tree, "team-a/pyproject.toml", '[tool.vnuma]\nignore = ["VN104"]\n')
    put(tree, "team-a/vm.yaml", OVERLAP)
    put(tree, "team-b/vm.yaml", OVERLAP)
    (tree / "links").mkdir()
    (tree / "links" / "a.yaml").symlink_to(tree / "team-a" / "vm.yaml")
    (tree / "links" / "b.yaml").symlink_to(tree / "team-b" / "vm.yaml")
    (tree / "links" / "team-a").symlink_to(tree / "team-a", target_is_directory=True)
    result = run_cli("lint", "links", "--format", "json")
    assert result.code == 1
    assert [d["path"] for d in json.loads(result.out)] == ["links/b.yaml"]


def test_select_severity_and_per_file_ignores(run_cli, tree) -> None:
    put(
        tree,
        "vnuma.toml",
        'select = ["VN1", "VN2"]\n'
        '[severity]\nVN207 = "error"\n'
        '[per-file-ignores]\n"lab/**" = ["VN2"]\n',
    )
    put(tree, "prod/a.yaml", OVERCOMMIT)
    put(tree, "lab/a.yaml", OVERCOMMIT)
    put(tree, "prod/b.yaml", BAD_UNIT)  # VN004 is not selected
    result = run_cli("lint", "--host", XEON, "--format", "json")
    found = [(d["path"], d["code"], d["severity"]) for d in json.loads(result.out)]
    assert found == [("prod/a.yaml", "VN207", "error")]
    assert result.code == 1


def test_exclude_and_force_exclude(run_cli, tree) -> None:
    put(tree, "vnuma.toml", 'exclude = ["legacy/**"]\n')
    put(tree, "legacy/a.yaml", BAD_UNIT)
    assert run_cli("lint").code == 0
    assert run_cli("lint", "legacy/a.yaml").code == 1
    assert run_cli("lint", "legacy/a.yaml", "--force-exclude").code == 0


def test_explicit_config_and_isolated(run_cli, tree) -> None:
    put(tree, "vnuma.toml", 'ignore = ["VN004"]\n')
    put(tree, "strict.toml", 'select = ["ALL"]\n')
    put(tree, "a.yaml", BAD_UNIT)
    assert run_cli("lint").code == 0
    assert run_cli("lint", "--config", "strict.toml").code == 1
    assert run_cli("lint", "--isolated").code == 1


def test_bad_config_is_a_usage_error(run_cli, tree) -> None:
    put(tree, "vnuma.toml", 'selcet = ["VN1"]\n')
    put(tree, "a.yaml", CLEAN)
    result = run_cli("lint")
    assert result.code == 2
    assert "unknown key 'selcet'; did you mean 'select'?" in result.err


# --- suppressions -----------------------------------------------------------------------------


def test_yaml_suppression_and_unused_suppression(run_cli, tree) -> None:
    text = OVERLAP.replace(
        '"2-3", memory: 2GiB}\n', '"2-3", memory: 2GiB}  # vnuma: disable=VN104\n'
    )
    put(tree, "a.yaml", text.replace("vcpus: 4\n", "vcpus: 4  # vnuma: disable=VN101, VN999\n"))
    result = run_cli("lint", "--format", "json")
    found = [(d["line"], d["column"], d["code"], d["message"]) for d in json.loads(result.out)]
    assert found == [
        (2, 28, "VN015", "unused suppression of VN101: nothing on this line reports it"),
        (2, 35, "VN015", "unknown rule code VN999 in a vnuma: disable comment"),
    ]
    assert result.code == 0


def test_toml_suppression(run_cli, tree) -> None:
    put(tree, "a.toml", "version = 1\nvcpus = 4\nmemory = 4096  # vnuma: disable=VN004\n")
    result = run_cli("lint", "a.toml")
    assert result.code == 0, result.out


def test_host_rule_suppression_without_host_is_not_unused(run_cli, tree) -> None:
    put(tree, "a.yaml", OVERCOMMIT.replace("vcpus: 96\n", "vcpus: 96  # vnuma: disable=VN207\n"))
    assert run_cli("lint", "--format", "json").out == "[]\n"
    assert run_cli("lint", "--host", XEON, "--format", "json").out == "[]\n"


# --- formats ----------------------------------------------------------------------------------


def test_github_format_under_actions(run_cli, tree, monkeypatch) -> None:
    put(tree, "a.yaml", BAD_UNIT)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKFLOW", "ci")
    result = run_cli("lint")
    assert result.out.startswith("::error file=a.yaml,line=3,col=9,endLine=3,endColumn=13,")
    assert run_cli("lint", "--format", "text").out.startswith("a.yaml:3:9: VN004")


def test_sarif_output_is_a_document(run_cli, tree) -> None:
    put(tree, "a.yaml", BAD_UNIT)
    document = json.loads(run_cli("lint", "--format", "sarif").out)
    (result,) = document["runs"][0]["results"]
    assert result["ruleId"] == "VN004"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "a.yaml"
    assert location["region"]["startLine"] == 3


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_output_formats_on_the_negative_samples(run_cli, monkeypatch, snapshot, fmt) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    result = run_cli("lint", "samples/negative", "--format", fmt, "--color", "never")
    assert result.code == 1
    assert result.out == snapshot


def test_colour_only_when_asked_or_on_a_terminal(run_cli, tree) -> None:
    put(tree, "a.yaml", BAD_UNIT)
    assert "\033[" not in run_cli("lint").out
    assert "\033[" in run_cli("--color", "always", "lint").out


def test_unparsable_files_that_are_not_intents_are_skipped(run_cli, tree) -> None:
    put(tree, "k8s.yaml", "apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Service\n")
    put(tree, "chart.yaml", "metadata:\n  name: {{ .Release.Name }}\n  labels: [\n")
    put(tree, "broken.xml", "<project><a></project>\n")
    put(tree, "cargo.toml", "[package\nname = 1\n")
    result = run_cli("lint")
    assert result.code == 0, result.out
    assert "k8s.yaml: skipped: not a vnuma intent (and not a single valid YAML document)" in (
        result.err
    )
    assert "broken.xml: skipped: not a libvirt domain (and not well-formed XML)" in result.err
    assert "cargo.toml: skipped" in result.err


def test_unparsable_intents_and_domains_are_reported(run_cli, tree) -> None:
    put(tree, "a.yaml", "vcpus: 4\nmemory: [4GiB\n")
    put(tree, "b.toml", "vcpus = 4\nmemory = \n")
    put(tree, "c.xml", "<domain type='kvm'><name>x</domain>\n")
    result = run_cli("lint", "--format", "json")
    assert sorted((d["path"], d["code"]) for d in json.loads(result.out)) == [
        ("a.yaml", "VN001"),
        ("b.toml", "VN001"),
        ("c.xml", "VN001"),
    ]


def test_unknown_yaml_tag_on_a_key_is_a_finding_not_a_crash(run_cli, tree) -> None:
    put(tree, "a.yaml", "version: 1\nvcpus: 4\nmemory: 4GiB\n!oops key: 1\n")
    result = run_cli("lint", "a.yaml", "--format", "json")
    found = [(d["code"], d["line"], d["column"]) for d in json.loads(result.out)]
    assert ("VN001", 4, 1) in found
    assert result.code == 1
