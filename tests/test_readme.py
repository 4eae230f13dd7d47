"""Every command README.md shows runs as written (issue 18).

Every `vnuma ...` command in the README's shell blocks (```sh and the untagged synopsis
block) and in inline code is found here and either run, exactly as written, through bash
from a temporary directory, or accounted for: a synopsis line with placeholders (INTENT,
CAPS.xml, `[...]`, `a|b`), or an entry of SKIPPED saying why and where it is tested
instead. The other commands of the shell blocks (pip, virsh, ...) are listed in OTHERS. A
new example is therefore run, or this test fails until it is listed.

Commands naming `samples/` or `docs/` run in a copy of those folders (so `-o`, `>` and
`--in-place` never touch the checkout); the others run in a small VM-definitions project
laid out as the README's lint and hypervisor sections describe (vms/, hosts/hv01.xml,
host.xml, vm.yaml, vm-base.xml), with a two-socket sysfs tree as "this machine".

The runs are marked slow (a process per command; CI runs them with `pytest -m slow`); the
check that every command is run or listed is not. The two fresh-machine commands under
"Quick start" are run whole by .ci/run, which takes them from the README; the tests at the
end check its extraction (`.ci/run --readme-command install|tests`).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import HOSTS, INTENTS, REPO, SAMPLES, clean_environment, explain_process
from tests.sysfs_trees import write_tree, xeon_2s

README = REPO / "README.md"
CI_RUN = REPO / ".ci" / "run"
BASH = shutil.which("bash")
needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not installed")

# The exit status the README gives where it is not 0 ("exactly those" seeded mistakes).
EXIT_CODES = {"vnuma lint samples/": 1}

# vnuma commands the README shows that this test does not run, and why.
SKIPPED = {
    "vnuma capture -o host.xml": "needs libvirt-python and a libvirtd at the default URI; "
    "tests/test_qemu_driver.py captures the CI machine from qemu:///system, "
    "tests/test_capture.py captures test:///default",
    "vnuma capture --connect qemu+ssh://hv01/system -o hv01.xml": "needs ssh to a hypervisor "
    "named hv01; --connect is tested with test:///default in tests/test_capture.py",
    "vnuma compile -": "reads an intent on stdin (waits for one); tests/test_first_contact_cli.py "
    "tests `compile -`",
    "vnuma compile": "a command's name in prose (no arguments: a usage error)",
    "vnuma fit": "a command's name in prose (no arguments: a usage error)",
    "vnuma show": "a command's name in prose (no arguments: a usage error)",
    "vnuma capture": "a command's name in prose (needs libvirt, as above)",
}

# The shell blocks' other commands.
FRESH_MACHINE = "a fresh-machine command: .ci/run runs the whole line (test_ci_run_* below)"
OTHERS = {
    "python3 -m venv .venv": FRESH_MACHINE,
    ". .venv/bin/activate": FRESH_MACHINE,
    "pip install .": FRESH_MACHINE,
    "pip install -e '.[test]'": FRESH_MACHINE,
    "pytest": FRESH_MACHINE,
    "pip install '.[libvirt]'": "builds libvirt-python against libvirt-dev; .ci/run installs "
    "'.[test,libvirt]' and runs pytest -m libvirt",
    "virsh define vm.xml": "needs libvirtd; tests/test_qemu_start.py defines and starts "
    "compiled guests (.ci/run, pytest -m qemu_start)",
    "virsh start vm": "needs libvirtd and QEMU; tests/test_qemu_start.py (pytest -m qemu_start)",
}


# --- reading the README ------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    command: str
    where: str  # "README.md:LINE (sh block)" or "(inline)"


def fenced_blocks(text: str) -> list[tuple[str, str, int]]:
    """(language, body, line of the first body line) of every ``` block."""
    blocks = []
    lines = text.splitlines(keepends=True)
    start: int | None = None
    language = ""
    for number, line in enumerate(lines, 1):
        if line.startswith("```"):
            if start is None:
                start, language = number + 1, line[3:].strip()
            else:
                blocks.append((language, "".join(lines[start - 1 : number - 1]), start))
                start = None
    assert start is None, f"README.md:{start}: unclosed ``` block"
    return blocks


def strip_comment(line: str) -> tuple[str, str]:
    """(command, comment): a shell comment starts at a `#` that begins a word."""
    match = re.search(r"(?:^|\s)#", line)
    if match is None:
        return line.strip(), ""
    return line[: match.start()].strip(), line[match.end() :].strip()


def block_commands(body: str, first_line: int) -> list[tuple[str, int]]:
    """Each command of a shell block: lines joined where the next one is indented, split at
    `&&`; plus `or: vnuma ...` alternatives written in a comment."""
    logical: list[tuple[str, int]] = []
    for number, line in enumerate(body.splitlines(), first_line):
        command, comment = strip_comment(line)
        if command and line[:1].isspace() and logical:
            logical[-1] = (f"{logical[-1][0]} {command}", logical[-1][1])
        elif command:
            logical.append((command, number))
        alternative = re.search(r"\bor: (vnuma .*)", comment)
        if alternative:
            logical.append((alternative.group(1).strip(), number))
    return [
        (part.strip(), number)
        for command, number in logical
        for part in re.split(r"\s&&\s", command)
        if part.strip()
    ]


def shown_commands(text: str) -> tuple[list[Shown], list[Shown]]:
    """(vnuma commands, other commands) of the shell blocks and inline code, in order."""
    vnuma: list[Shown] = []
    others: list[Shown] = []
    for language, body, first_line in fenced_blocks(text):
        if language not in ("sh", "bash", "console", "shell", ""):
            continue
        for command, number in block_commands(body, first_line):
            shown = Shown(command, f"README.md:{number} ({language or 'untagged'} block)")
            is_vnuma = re.match(r"(?:python3? -m )?vnuma ", command)
            (vnuma if is_vnuma else others).append(shown)
    prose = re.sub(r"^```.*?^```[ \t]*$", "", text, flags=re.M | re.S)
    for span in re.findall(r"`([^`]+)`", prose):
        command = " ".join(span.split())  # inline code may wrap across lines
        if re.match(r"(?:python3? -m )?vnuma \S", command):
            vnuma.append(Shown(command, "README.md (inline)"))
    return vnuma, others


PLACEHOLDER_WORD = re.compile(r"[A-Z][A-Z_]*(?:\.[a-z]+)?")  # INTENT CAPS.xml N, not VN104


def placeholder(command: str) -> str | None:
    """Why a synopsis line is not an example, or None for a command that can run."""
    if "[" in command or "..." in command:
        return "optional parts ([...]) or repetition (...)"
    if re.search(r"\S\|\S", command):
        return "alternatives (a|b)"
    words = [w for w in shlex.split(command) if PLACEHOLDER_WORD.fullmatch(w)]
    if words:
        return f"placeholders {words}"
    return None


def classify(commands: list[Shown]) -> tuple[list[Shown], dict[str, str]]:
    """(commands to run, {command: why it is not run}); each command once."""
    run: dict[str, Shown] = {}
    not_run: dict[str, str] = {}
    for shown in commands:
        reason = SKIPPED.get(shown.command) or placeholder(shown.command)
        if reason:
            not_run[shown.command] = reason
        else:
            run.setdefault(shown.command, shown)
    return list(run.values()), not_run


VNUMA_SHOWN, OTHERS_SHOWN = shown_commands(README.read_text(encoding="utf-8"))
TO_RUN, NOT_RUN = classify(VNUMA_SHOWN)


# --- the extraction ----------------------------------------------------------------------

SYNOPSIS = """\
```
vnuma compile INTENT [--host CAPS.xml | --local-host] [-o OUT.xml]
vnuma compile - [--format text|json] < vm.yaml    # stdin
vnuma lint [PATH...] [--host CAPS.xml]
           [--exit-zero] [-q]
vnuma schema                                # the schema
vnuma explain VN104                         # a rule
```
"""


def test_synopsis_lines_with_placeholders_are_not_run() -> None:
    vnuma, others = shown_commands(SYNOPSIS)
    run, not_run = classify(vnuma)
    assert [s.command for s in run] == ["vnuma schema", "vnuma explain VN104"]
    assert list(not_run) == [
        "vnuma compile INTENT [--host CAPS.xml | --local-host] [-o OUT.xml]",
        "vnuma compile - [--format text|json] < vm.yaml",
        "vnuma lint [PATH...] [--host CAPS.xml] [--exit-zero] [-q]",
    ]
    assert others == []


def test_shell_lines_are_split_into_commands_and_comments_are_dropped() -> None:
    text = (
        "Run `vnuma host samples/hosts/x.xml` or `vnuma explain CODE`.\n"
        "```sh\n"
        "python3 -m venv .venv && . .venv/bin/activate && vnuma lint a.yaml  # lint\n"
        "vnuma capture -o h.xml   # or: vnuma capture --connect qemu:///x -o y.xml\n"
        "                         # (a comment continues)\n"
        "```\n"
        "```yaml\nentry: vnuma lint\n```\n"
    )
    vnuma, others = shown_commands(text)
    assert [s.command for s in vnuma] == [
        "vnuma lint a.yaml",
        "vnuma capture -o h.xml",
        "vnuma capture --connect qemu:///x -o y.xml",
        "vnuma host samples/hosts/x.xml",
        "vnuma explain CODE",
    ]
    assert [s.command for s in others] == ["python3 -m venv .venv", ". .venv/bin/activate"]
    assert vnuma[0].where == "README.md:3 (sh block)"


def test_every_readme_command_is_run_or_listed() -> None:
    """The extraction finds the README's examples, and every entry above is still used."""
    run = {s.command for s in TO_RUN}
    assert {
        "vnuma compile samples/intents/db-strict.yaml --host samples/hosts/2s-xeon.xml",
        "vnuma lint samples/",
        "vnuma schema",
        "vnuma lint --format sarif > vnuma.sarif",
        "vnuma compile vm.yaml --host host.xml --domain vm-base.xml -o vm.xml",
    } <= run, sorted(run)
    assert len(TO_RUN) >= 15, sorted(run)
    shown = {s.command for s in VNUMA_SHOWN}
    assert set(SKIPPED) <= shown, (
        f"SKIPPED names commands the README no longer shows: {set(SKIPPED) - shown}"
    )
    assert set(EXIT_CODES) <= run, set(EXIT_CODES) - run
    other_commands = {s.command for s in OTHERS_SHOWN}
    unlisted = sorted(f"{s.where}: {s.command}" for s in OTHERS_SHOWN if s.command not in OTHERS)
    assert not unlisted, f"shell commands neither run nor listed in OTHERS: {unlisted}"
    assert set(OTHERS) <= other_commands, set(OTHERS) - other_commands


# --- running them ------------------------------------------------------------------------


def vm_intent(sample: Path) -> str:
    """A sample intent as a VM project keeps it: no `host:` (the project says where)."""
    text = sample.read_text(encoding="utf-8")
    without_host = re.sub(r"^host: .*\n", "", text, flags=re.M)
    assert without_host != text, sample
    return without_host


def make_project(root: Path) -> None:
    """The VM-definitions repository the README's lint and hypervisor examples work in."""
    (root / "vms").mkdir()
    (root / "hosts").mkdir()
    (root / "vms" / "db01.yaml").write_text(vm_intent(INTENTS / "db-strict.yaml"), "utf-8")
    (root / "vms" / "app01.yaml").write_text(vm_intent(INTENTS / "restrictive.yaml"), "utf-8")
    shutil.copy(HOSTS / "2s-xeon.xml", root / "hosts" / "hv01.xml")
    # What `vnuma capture -o host.xml` writes: a snapshot with free memory and pages.
    shutil.copy(HOSTS / "2s-xeon-live.xml", root / "host.xml")
    (root / "vm.yaml").write_text(vm_intent(INTENTS / "restrictive.yaml"), "utf-8")
    shutil.copy(SAMPLES / "domains" / "base-vm.xml", root / "vm-base.xml")


def make_checkout_copy(root: Path) -> None:
    shutil.copytree(SAMPLES, root / "samples", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "docs").mkdir()
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")


def vnuma_bin(tmp: Path) -> Path:
    """The directory of the `vnuma` to run: this venv's console script, else a shim."""
    here = Path(sys.executable).parent
    if (here / "vnuma").is_file():
        return here
    shim = tmp / "bin" / "vnuma"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m vnuma "$@"\n', "utf-8")
    shim.chmod(0o755)
    return shim.parent


def written_files(command: str) -> list[str]:
    """The files a command writes: `-o FILE` and `> FILE`."""
    words = shlex.split(command)
    return [words[i + 1] for i, word in enumerate(words[:-1]) if word in ("-o", "--output", ">")]


@pytest.mark.slow  # a bash and a vnuma process per command, about 20
@needs_bash
@pytest.mark.parametrize("shown", TO_RUN, ids=[s.command for s in TO_RUN])
def test_readme_command_runs_as_written(shown: Shown, tmp_path: Path) -> None:
    command = shown.command
    words = shlex.split(command)
    assert not any(w.startswith("/") or ".." in Path(w).parts for w in words), (
        f"{shown.where}: `{command}` reaches outside its directory: list it in SKIPPED"
    )
    work = tmp_path / "work"
    work.mkdir()
    if re.search(r"(?:^|[\s=])(?:samples|docs)/", command):
        make_checkout_copy(work)
    else:
        make_project(work)
    env = clean_environment()
    env["PATH"] = f"{vnuma_bin(tmp_path)}:{env.get('PATH', '/usr/bin:/bin')}"
    # "This machine" for `vnuma host`, `--local-host` and `capture --sysfs`.
    env["VNUMA_SYSFS_ROOT"] = str(write_tree(tmp_path / "sysfs", xeon_2s()))
    for name in written_files(command):  # host.xml stands in for a capture; make it anew
        (work / name).unlink(missing_ok=True)
    assert BASH is not None
    try:
        result = subprocess.run(
            [BASH, "-c", command],
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{shown.where}: `{command}` timed out\n{exc.stdout!r}\n{exc.stderr!r}")
    expected = EXIT_CODES.get(command, 0)
    assert result.returncode == expected, f"{shown.where}: expected {expected}\n" + explain_process(
        result
    )
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, (
        explain_process(result)
    )
    for name in written_files(command):
        assert (work / name).is_file() and (work / name).stat().st_size > 0, (
            f"{shown.where}: `{command}` did not write {name}\n{explain_process(result)}"
        )


# --- .ci/run takes the fresh-machine commands from the README ----------------------------


def fresh_machine_blocks(text: str) -> list[str]:
    """The ```sh blocks of the section whose heading says "fresh machine"."""
    section = re.search(r"^## [^\n]*fresh machine[^\n]*\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert section, "README.md has no '## ... fresh machine ...' section"
    return [body for language, body, _ in fenced_blocks(section.group(1)) if language == "sh"]


def ci_run(root: Path, which: str) -> subprocess.CompletedProcess[str]:
    assert BASH is not None
    return subprocess.run(
        [BASH, str(root / ".ci" / "run"), "--readme-command", which],
        cwd=root,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


needs_python3 = pytest.mark.skipif(shutil.which("python3") is None, reason="no python3 on PATH")


@needs_bash
def test_ci_run_is_valid_bash() -> None:
    assert BASH is not None
    result = subprocess.run([BASH, "-n", str(CI_RUN)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


@needs_bash
@needs_python3
def test_ci_run_takes_the_fresh_machine_commands_from_the_readme() -> None:
    install, tests = fresh_machine_blocks(README.read_text(encoding="utf-8"))[:2]
    assert "pip install ." in install and "vnuma compile samples/" in install
    assert "pytest" in tests
    for which, block in (("install", install), ("tests", tests)):
        result = ci_run(REPO, which)
        assert result.returncode == 0, explain_process(result)
        assert result.stdout == block, explain_process(result)


@needs_bash
@needs_python3
@pytest.mark.parametrize(
    "readme",
    [
        "# vnuma\n\n## Install\n\n```sh\npip install .\n```\n",
        "# vnuma\n\n## Quick start (fresh machine)\n\n```sh\npip install . && vnuma x\n```\n"
        "\n## Next\n\n```sh\npytest\n```\n",
        "# vnuma\n\n## Quick start (fresh machine)\n\n```sh\npytest\n```\n\n```sh\n"
        "pip install . && vnuma compile a.yaml\n```\n",
    ],
    ids=["no-heading", "one-block-in-the-section", "blocks-swapped"],
)
def test_ci_run_fails_loudly_when_the_readme_commands_are_not_found(
    readme: str, tmp_path: Path
) -> None:
    (tmp_path / ".ci").mkdir()
    shutil.copy(CI_RUN, tmp_path / ".ci" / "run")
    (tmp_path / "README.md").write_text(readme, encoding="utf-8")
    result = ci_run(tmp_path, "install")
    assert result.returncode != 0 and result.stdout == "", explain_process(result)
    assert "README.md" in result.stderr, explain_process(result)
