"""vnuma's Python API: the functions the command line calls, for scripts and Ansible modules.

    from vnuma import api

    host = api.read_host("hosts/hv01.xml")
    result = api.compile_intent("vms/db01.yaml", host="hosts/hv01.xml")
    if result.ok:
        Path("db01.xml").write_text(result.xml)
    for problem in api.lint(["vms/"]).diagnostics:
        print(problem.path, problem.line, problem.code, problem.message)

Each function runs the same runner as `vnuma compile`, `vnuma lint` and `vnuma host`, so
its answer is the one the command prints. A file that cannot be read at all, or a
configuration that cannot be used, raises :class:`UsageError` (the CLI's exit status 2);
anything wrong inside a file is a diagnostic. Results are plain records; ``as_dict()``
gives the same fields as ``vnuma lint --format json``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from vnuma.diagnostics import Diagnostic, Severity
from vnuma.model.host import HostTopology

StrPath = str | PathLike[str]


class UsageError(Exception):
    """A file cannot be read, or the configuration cannot be used (exit status 2)."""


@dataclass(frozen=True)
class Problem:
    """One diagnostic, as `vnuma lint --format json` reports it."""

    code: str
    name: str
    severity: str
    message: str
    path: str
    line: int
    column: int
    hint: str | None

    @classmethod
    def of(cls, diag: Diagnostic) -> Problem:
        return cls(
            diag.code,
            diag.name,
            diag.severity.label,
            diag.message,
            diag.path,
            diag.line,
            diag.column,
            diag.hint,
        )

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class CompileResult:
    xml: str | None
    """The domain XML (None when there were errors)."""
    diagnostics: tuple[Problem, ...]
    notes: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.xml is not None


@dataclass(frozen=True)
class LintResult:
    diagnostics: tuple[Problem, ...]
    checked: tuple[str, ...]
    """The files linted (as shown in diagnostics)."""
    skipped: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not any(d.severity == Severity.ERROR.label for d in self.diagnostics)


def compile_intent(
    intent: StrPath,
    *,
    host: StrPath | None = None,
    domain: StrPath | None = None,
    occupied: Iterable[StrPath] = (),
    libvirt_schemas: StrPath | None = None,
    local_host: bool = False,
) -> CompileResult:
    """`vnuma compile INTENT [--host H] [--domain BASE] [--occupied VM ...]`; without a host
    (and without ``local_host``) host checks are skipped, as with `--no-host`."""
    from vnuma.load.text import UnreadableInput
    from vnuma.report.config import ConfigError
    from vnuma.runner import CompileOptions
    from vnuma.runner import compile_intent as run

    options = CompileOptions(
        intent_path=Path(intent),
        host_path=_path(host),
        domain_path=_path(domain),
        schema_dir=_path(libvirt_schemas),
        local_host=local_host,
        occupied=tuple(Path(p) for p in occupied),
    )
    try:
        outcome = run(options)
    except (UnreadableInput, ConfigError) as exc:
        raise UsageError(str(exc)) from exc
    return CompileResult(
        outcome.xml, tuple(Problem.of(d) for d in outcome.diagnostics), tuple(outcome.notes)
    )


def lint(
    paths: Sequence[StrPath],
    *,
    host: StrPath | None = None,
    config: StrPath | None = None,
    jobs: int = 1,
) -> LintResult:
    """`vnuma lint PATH... [--host H] [--config FILE] [-j N]`."""
    from vnuma import codes
    from vnuma.commands.lint import LintOptions
    from vnuma.commands.lint import lint as run
    from vnuma.load.text import UnreadableInput
    from vnuma.report.config import ConfigError, load_config

    try:
        explicit = (
            load_config(Path(config), cwd=Path.cwd(), known_codes=[c.code for c in codes.ALL])
            if config is not None
            else None
        )
        report = run(
            LintOptions(
                paths=tuple(Path(p) for p in paths) or (Path("."),),
                config=explicit,
                host_path=_path(host),
                jobs=jobs,
            )
        )
    except (UnreadableInput, ConfigError) as exc:
        raise UsageError(str(exc)) from exc
    return LintResult(
        tuple(Problem.of(d) for d in report.diagnostics),
        tuple(f.shown for f in report.checked),
        tuple(f.shown for f in report.skipped),
    )


def read_host(snapshot: StrPath) -> HostTopology:
    """A host snapshot (`virsh capabilities` or `vnuma capture` XML) as vnuma models it.
    Raises UsageError when it cannot be read or has no usable topology."""
    from vnuma.libvirt.capabilities import load_host
    from vnuma.load.text import UnreadableInput
    from vnuma.runner import display_path

    path = Path(snapshot)
    try:
        host, problems = load_host(path, display_path(path))
    except UnreadableInput as exc:
        raise UsageError(str(exc)) from exc
    if host is None:
        details = "; ".join(f"{d.line}:{d.column}: {d.code} {d.message}" for d in problems)
        raise UsageError(f"{display_path(path)}: not a usable host snapshot: {details}")
    return host


def _path(value: StrPath | None) -> Path | None:
    return Path(value) if value is not None else None


__all__ = [
    "CompileResult",
    "LintResult",
    "Problem",
    "UsageError",
    "compile_intent",
    "lint",
    "read_host",
]
