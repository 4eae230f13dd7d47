"""The pre-commit hook: its manifest, its file filter, and a real `pre-commit try-repo` run.

The fast tests check `.pre-commit-hooks.yaml` itself. The slow tests do what a user's
`pre-commit` does: they copy the project into a throwaway git repository, let pre-commit
build the hook's virtualenv (`pip install .`) and run the hook on a consumer repository.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, explain_process, run_process

MANIFEST = REPO / ".pre-commit-hooks.yaml"
TYPES_OR = ["yaml", "toml", "xml"]

# What `pip install .` needs (see [tool.hatch.build] in pyproject.toml), plus the manifest.
HOOK_REPO_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml")
HOOK_REPO_DIRS = ("compiler", "schemas", "templates")

INSTALL_TIMEOUT = 600
GOOD_INTENT = "version: 1\nvcpus: 4\nmemory: 4GiB\n"
BAD_INTENT = "version: 1\nvcpus: 4\nmemory: 4096\n"  # VN004 at 3:9: size without unit
BAD_DOMAIN = """\
<domain type='kvm'>
  <name>bad</name>
  <memory unit='GiB'>4</memory>
  <vcpu>4</vcpu>
  <cpu><topology sockets='1' cores='2' threads='1'/></cpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
</domain>
"""  # VN408 at 5:8: topology gives 2 vCPUs, <vcpu> is 4


def _guest(name: str) -> str:
    """A guest that fits the 1-node laptop host alone, but not beside a second one."""
    return (
        f"version: 1\nname: {name}\nvcpus: 2\nmemory: 10GiB\n"
        'numatune:\n  mode: strict\n  nodeset: "0"\n'
    )


# The consumer's vnuma.toml: an exclude for --force-exclude, and a [[hosts]] mapping that
# places both hv/ guests on one host (whole-host admission).
CONSUMER_CONFIG = """\
exclude = ["generated/"]

[[hosts]]
snapshot = "hosts/hv.xml"
files = ["hv/**"]
"""


def _hook() -> dict:
    hooks = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(hooks, list), hooks
    assert [hook["id"] for hook in hooks] == ["vnuma"]
    return hooks[0]


def _pre_commit_cmd() -> list[str] | None:
    if importlib.util.find_spec("pre_commit") is not None:
        return [sys.executable, "-m", "pre_commit"]
    exe = shutil.which("pre-commit")
    return [exe] if exe else None


def _env(**extra: str) -> dict[str, str]:
    """The environment without anything that would leak into the hook or the git calls.

    GITHUB_ACTIONS/GITHUB_WORKFLOW would switch `--format auto` to annotations; GIT_DIR and
    friends are set when the test suite itself runs from a git hook.
    """
    dropped = {"PYTHONPATH", "VIRTUAL_ENV", "GITHUB_ACTIONS", "GITHUB_WORKFLOW", "NO_COLOR"}
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in dropped and not key.startswith(("GIT_", "PRE_COMMIT"))
    }
    env.update(
        GIT_AUTHOR_NAME="vnuma tests",
        GIT_AUTHOR_EMAIL="vnuma-tests@example.invalid",
        GIT_COMMITTER_NAME="vnuma tests",
        GIT_COMMITTER_EMAIL="vnuma-tests@example.invalid",
        GIT_CONFIG_NOSYSTEM="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        **extra,
    )
    return env


# --- the manifest ----------------------------------------------------------------------------


def test_manifest_fields() -> None:
    hook = _hook()
    assert hook["name"] == "vnuma (libvirt NUMA lint)"
    assert hook["entry"] == "vnuma lint --force-exclude"
    assert hook["language"] == "python"
    # Whole-host admission sums every guest of a host: all files must reach one process.
    assert hook["require_serial"] is True
    assert hook["types_or"] == TYPES_OR
    assert "types" not in hook  # default [file]; `types` would AND with types_or
    assert hook["minimum_pre_commit_version"] == "2.9.2"  # a string, as pre-commit requires
    assert hook["description"].strip()
    assert hook.get("pass_filenames", True) is True


def test_entry_is_the_console_script_without_libvirt() -> None:
    """`language: python` runs `pip install .`; the entry must come from it, libvirt must not."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    executable = shlex.split(_hook()["entry"])[0]
    assert project["scripts"][executable] == "vnuma.cli:run"
    assert not [dep for dep in project["dependencies"] if "libvirt" in dep.lower()]


def test_entry_arguments_are_accepted(run_cli, write) -> None:
    """The flags baked into `entry` are real `vnuma` options (in-process)."""
    args = shlex.split(_hook()["entry"])[1:]
    good = write("good.yaml", GOOD_INTENT)
    bad = write("bad.yaml", BAD_INTENT)
    assert run_cli(*args, good).code == 0
    result = run_cli(*args, "--format", "text", bad)
    assert result.code == 1, result
    assert f"{bad}:3:9: VN004" in result.out


def test_manifest_validates(tmp_path: Path) -> None:
    cmd = _pre_commit_cmd()
    if cmd is None:
        pytest.skip("pre-commit is not installed")
    env = _env(PRE_COMMIT_HOME=str(tmp_path))  # every pre-commit command opens its store
    result = run_process([*cmd, "validate-manifest", str(MANIFEST)], cwd=REPO, env=env)
    assert result.returncode == 0, explain_process(result)


@pytest.mark.parametrize(
    ("filename", "matches"),
    [
        ("vm.yaml", True),
        ("vm.yml", True),
        ("vm.toml", True),
        ("vm.xml", True),
        ("nested/dir/db01.yaml", True),
        ("vm.json", False),
        ("vm.yaml.j2", False),
        ("README.md", False),
    ],
)
def test_types_or_selects_intents_and_domains(filename: str, matches: bool) -> None:
    identify = pytest.importorskip("identify.identify")
    tags = identify.tags_from_filename(filename)
    hook_types = set(_hook()["types_or"])
    assert bool(tags & hook_types) is matches, (filename, sorted(tags))


# --- a real pre-commit run ---------------------------------------------------------------------


def _git(args: list[str], cwd: Path) -> None:
    result = run_process(["git", *args], cwd=cwd, env=_env())
    assert result.returncode == 0, explain_process(result)


def _commit_all(repo: Path) -> None:
    _git(["init", "-q"], repo)
    _git(["add", "-A"], repo)
    _git(["-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", "test fixture"], repo)


@pytest.fixture(scope="module")
def pre_commit() -> list[str]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    cmd = _pre_commit_cmd()
    if cmd is None:
        pytest.skip("pre-commit is not installed")
    return cmd


@pytest.fixture(scope="module")
def hook_repo(pre_commit: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed copy of the project, as `pre-commit` would clone it."""
    repo = tmp_path_factory.mktemp("hookrepo") / "vnuma"
    repo.mkdir()
    for name in HOOK_REPO_FILES:
        shutil.copy2(REPO / name, repo / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in HOOK_REPO_DIRS:
        shutil.copytree(REPO / name, repo / name, ignore=ignore)
    _commit_all(repo)
    return repo


@pytest.fixture(scope="module")
def consumer(pre_commit: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository that uses the hook: good and bad files, no .pre-commit-config.yaml."""
    repo = tmp_path_factory.mktemp("consumer")
    files = {
        "good.yaml": GOOD_INTENT,
        "bad.yaml": BAD_INTENT,
        "bad.xml": BAD_DOMAIN,
        "notes.json": '{"memory": 4096}\n',
        "vnuma.toml": CONSUMER_CONFIG,
        "generated/bad.yaml": BAD_INTENT,
        "hosts/hv.xml": (REPO / "samples" / "hosts" / "laptop-1n.xml").read_text("utf-8"),
        "hv/vm-a.yaml": _guest("vm-a"),
        "hv/vm-b.yaml": _guest("vm-b"),
    }
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    _commit_all(repo)
    return repo


@pytest.fixture(scope="module")
def try_repo(pre_commit: list[str], hook_repo: Path, consumer: Path, tmp_path_factory):
    """Run `pre-commit try-repo HOOKREPO vnuma ARGS...` in the consumer repository."""
    env = _env(PRE_COMMIT_HOME=str(tmp_path_factory.mktemp("pre-commit-home")))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [*pre_commit, "try-repo", "--color", "never", str(hook_repo), "vnuma", *args]
        result = run_process(cmd, cwd=consumer, env=env, timeout=INSTALL_TIMEOUT)
        print(explain_process(result))  # shown by pytest when an assertion below fails
        return result

    return run


def _hook_status(result: subprocess.CompletedProcess[str]) -> str:
    """Passed, Failed or Skipped, from pre-commit's `name.....Status` line."""
    match = re.search(
        r"^vnuma \(libvirt NUMA lint\)\.+(?:\(no files to check\))?(\w+)$",
        result.stdout,
        re.MULTILINE,
    )
    assert match, explain_process(result)
    return match.group(1)


# try-repo builds the hook's virtualenv (`pip install .` of the copy) afresh on every call,
# in its own temporary store, whatever PRE_COMMIT_HOME says: keep the number of calls small.


@pytest.mark.slow
def test_try_repo_good_intent_passes(try_repo) -> None:
    result = try_repo("--files", "good.yaml")
    assert result.returncode == 0, explain_process(result)
    assert _hook_status(result) == "Passed", explain_process(result)


@pytest.mark.slow
def test_try_repo_bad_intent_fails(try_repo) -> None:
    result = try_repo("--files", "bad.yaml")
    assert result.returncode == 1, explain_process(result)
    assert _hook_status(result) == "Failed", explain_process(result)
    assert "bad.yaml:3:9: VN004" in result.stdout, explain_process(result)


@pytest.mark.slow
def test_try_repo_all_files(try_repo) -> None:
    result = try_repo("--all-files")
    assert result.returncode == 1, explain_process(result)
    assert _hook_status(result) == "Failed", explain_process(result)
    out = result.stdout
    assert re.search(r"^bad\.yaml:3:9: VN004", out, re.MULTILINE), explain_process(result)
    assert re.search(r"^bad\.xml:5:8: VN408", out, re.MULTILINE), explain_process(result)
    # Whole-host admission through pre-commit: each guest fits the host alone, only together
    # do they overcommit it. (Without require_serial pre-commit shuffles the files and splits
    # them across CPUs, so whether the pair is split depends on the machine; the manifest
    # test above pins require_serial itself.)
    for guest in ("vm-a", "vm-b"):
        assert re.search(rf"^hv/{guest}\.yaml:\d+:\d+: VN502", out, re.MULTILINE), explain_process(
            result
        )
    # --force-exclude: pre-commit names generated/bad.yaml explicitly, vnuma.toml excludes it.
    assert "generated/bad.yaml" not in out, explain_process(result)
    # types_or: pre-commit never hands notes.json to the hook (vnuma would note the skip).
    assert "notes.json" not in out, explain_process(result)
    assert not re.search(r"^good\.yaml:", out, re.MULTILINE), explain_process(result)
