"""`vnuma lint`: check intents and libvirt domain XMLs in a tree, alone and per host.

The command discovers the files, works out which host each is on, and hands the runner
one task per host (every file on it, including files of that host that were not asked
for, so that a pre-commit run of one staged file still admits the whole host) plus
chunks of files on no host. The runner seats, checks and admits; the command applies
each file's configuration and suppressions and reports the files that were asked for.
With ``-j N`` the same tasks run in worker processes and come back as finished
diagnostics: the report is byte-identical for any N.

Where a file lands: ``--host`` puts every given file on that snapshot; else an intent's
own `host:` names the hardware it is checked against (alone: it says nothing of where
the guest runs); else a ``[[hosts]]`` mapping of the closest configuration.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from vnuma.diagnostics import Diagnostic, Severity
from vnuma.load.discover import ConfigResolver, discover, mapped_under
from vnuma.model.guest import Guest
from vnuma.report.config import ConfigError, LintConfig
from vnuma.runner import (
    GuestFile,
    HostSnapshots,
    configured,
    display_path,
    load_guest_file,
    place_and_check,
    run_host,
)


@dataclass(frozen=True)
class LintOptions:
    paths: tuple[Path, ...]
    config: LintConfig | None = None
    """An explicit configuration (--config, --isolated); None: the closest one to each file."""
    host_path: Path | None = None
    force_exclude: bool = False
    jobs: int = 1
    """Processes that lint files (`-j`); the report is the same for any number."""
    keep_models: bool = False
    """Keep each file's guest model in the report (for tests and tools); by default it is
    dropped once its host is done, so memory does not grow with the fleet."""
    use_cache: bool = True
    """Read host snapshots through the user's cache (False: --no-cache)."""


@dataclass
class FileResult:
    """One linted file as reported."""

    path: Path
    shown: str
    kind: str = "skipped"
    note: str | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    host_checked: bool = False
    had_guest: bool = False
    """A guest model was built (it is not kept unless LintOptions.keep_models)."""
    guest: Guest | None = None


@dataclass
class LintReport:
    files: list[FileResult]
    diagnostics: list[Diagnostic]

    @property
    def checked(self) -> list[FileResult]:
        return [f for f in self.files if f.kind != "skipped"]

    @property
    def skipped(self) -> list[FileResult]:
        return [f for f in self.files if f.kind == "skipped"]

    @property
    def without_host(self) -> list[FileResult]:
        return [f for f in self.checked if f.had_guest and not f.host_checked]

    def count(self, severity: Severity) -> int:
        return sum(1 for d in self.diagnostics if d.severity == severity)


@dataclass(frozen=True)
class _Entry:
    """A file of one task: where it is, what configures it, where --host/[[hosts]] put it."""

    index: int
    """Its place in the report; -1 for a file of the host that was not asked for."""
    path: Path
    shown: str
    real: Path
    config: LintConfig
    placed_on: Path | None


@dataclass(frozen=True)
class _Task:
    entries: tuple[_Entry, ...]
    host: Path | None
    """The snapshot all of ``entries`` are placed on (None: a chunk of files on no host)."""
    option_host: bool
    keep_models: bool
    use_cache: bool


@dataclass
class _TaskResult:
    files: list[tuple[int, FileResult]]
    hosts: dict[Path, list[Diagnostic]]


def lint(options: LintOptions) -> LintReport:
    """Raises UnreadableInput (missing path, unreadable --host) and ConfigError (exit 2)."""
    configs = ConfigResolver(options.config)
    found = discover(options.paths, configs, force_exclude=options.force_exclude)
    entries = [_entry(i, path, configs, options) for i, path in enumerate(found)]
    tasks = _tasks(entries, options, configs)
    if options.jobs > 1 and len(tasks) > 1:
        done: Iterable[_TaskResult] = _in_processes(tasks, options.jobs)
    else:
        done = map(_run_task, tasks)
    files: list[FileResult | None] = [None] * len(entries)
    host_diagnostics: dict[Path, list[Diagnostic]] = {}
    for result in done:
        for index, file in result.files:
            files[index] = file
        for path, reported in result.hosts.items():
            host_diagnostics.setdefault(path, reported)
    linted = [file for file in files if file is not None]
    diagnostics = [d for diags in host_diagnostics.values() for d in diags]
    diagnostics.extend(d for file in linted for d in file.diagnostics)
    return LintReport(linted, sorted(diagnostics, key=Diagnostic.sort_key))


def _entry(index: int, path: Path, configs: ConfigResolver, options: LintOptions) -> _Entry:
    config = configs.for_file(path)
    real = configs.paths.resolve(path)
    if options.host_path is not None:
        placed_on: Path | None = configs.paths.resolve(options.host_path)
    else:
        mapped = config.host_for(path)
        placed_on = configs.paths.resolve(mapped) if mapped is not None else None
    return _Entry(index, path, display_path(path), real, config, placed_on)


# --- tasks: one per host, chunks of files on no host ---------------------------------------

_CHUNK = 64  # files of no host per task at most


def _tasks(entries: list[_Entry], options: LintOptions, configs: ConfigResolver) -> list[_Task]:
    by_host: dict[Path, list[_Entry]] = {}
    loose: list[_Entry] = []
    for entry in entries:
        if entry.placed_on is None:
            loose.append(entry)
        else:
            by_host.setdefault(entry.placed_on, []).append(entry)
    option = options.host_path is not None
    if not option:
        _add_unasked(by_host, entries, options, configs)
    tasks = [
        _Task(tuple(group), host, option, options.keep_models, options.use_cache)
        for host, group in by_host.items()
    ]
    size = max(1, min(_CHUNK, len(loose) // max(options.jobs * 4, 1)))
    tasks.extend(
        _Task(tuple(loose[i : i + size]), None, option, options.keep_models, options.use_cache)
        for i in range(0, len(loose), size)
    )
    return tasks


def _add_unasked(
    by_host: dict[Path, list[_Entry]],
    entries: list[_Entry],
    options: LintOptions,
    configs: ConfigResolver,
) -> None:
    """Every other file a [[hosts]] mapping puts on a host that an asked file is on, so
    the host is admitted whole (pre-commit passes only the staged files)."""
    asked = {entry.real for entry in entries}
    roots = {entry.config.root: entry.config for entry in entries if entry.placed_on is not None}
    given = [configs.paths.resolve(path) for path in options.paths]
    for root, config in roots.items():
        if any(root == path or path in root.parents for path in given if path.is_dir()):
            continue  # the walk of a given directory found every file under this root
        for path, real, host in mapped_under(config, configs):
            if host in by_host and real not in asked:
                asked.add(real)
                by_host[host].append(
                    _Entry(-1, path, display_path(path), real, configs.for_file(path), host)
                )


# --- running a task (in this process or a worker: a pure function of the task) ------------


def _run_task(task: _Task) -> _TaskResult:
    snapshots = HostSnapshots(task.use_cache)
    files = [
        load_guest_file(entry.path, entry.shown, real=entry.real, discovering=True)
        for entry in task.entries
    ]
    together: list[GuestFile] = []
    for file in files:
        if file.written is None:
            continue
        own = file.host_ref
        if task.host is not None and (task.option_host or own is None):
            together.append(file)
        elif own is not None:
            place_and_check(file, snapshots.for_guest(file, own.resolve()), [])
        else:
            place_and_check(file, None, [])  # no host: the checks that need none
    if task.host is not None and together:
        host = snapshots.get(task.host)  # a --host or [[hosts]] snapshot: unreadable is exit 2
        if host is not None and host.cells:
            run_host(host, together)
        else:
            for file in together:
                place_and_check(file, host, [])
    results = [
        (entry.index, _result(file, entry, task.keep_models))
        for entry, file in zip(task.entries, files, strict=True)
        if entry.index >= 0
    ]
    return _TaskResult(results, snapshots.reported)


def _result(file: GuestFile, entry: _Entry, keep_model: bool) -> FileResult:
    return FileResult(
        path=file.path,
        shown=file.shown,
        kind=file.kind,
        note=file.note,
        diagnostics=configured(file, entry.config),
        host_checked=file.host_checked,
        had_guest=file.written is not None,
        guest=file.guest if keep_model else None,
    )


def _in_processes(tasks: list[_Task], jobs: int) -> Iterator[_TaskResult]:
    import gc
    import multiprocessing
    import sys

    # Largest tasks first, so that one big host does not start last.
    ordered = sorted(tasks, key=lambda task: -len(task.entries))
    method = "fork" if sys.platform == "linux" else "spawn"
    context = multiprocessing.get_context(method)
    with context.Pool(min(jobs, len(tasks))) as pool:
        # The results hold no garbage cycles; the cyclic collector would rescan the
        # growing heap again and again while thousands of them are unpickled.
        collecting = gc.isenabled()
        gc.disable()
        try:
            yield from pool.imap_unordered(_run_task, ordered)
        finally:
            if collecting:
                gc.enable()


# --- report text ---------------------------------------------------------------------------


def host_rules_note(report: LintReport) -> str | None:
    missing = report.without_host
    if not missing:
        return None
    return (
        f"host checks skipped for {len(missing)} file(s) without a host snapshot "
        "(pass --host, set `host:` in an intent, or map files in [[tool.vnuma.hosts]])"
    )


def summary_line(report: LintReport) -> str:
    errors, warnings = report.count(Severity.ERROR), report.count(Severity.WARNING)
    infos = report.count(Severity.INFO)
    parts = [_plural(errors, "error"), _plural(warnings, "warning")]
    if infos:
        parts.append(_plural(infos, "note"))
    checked, skipped = len(report.checked), len(report.skipped)
    text = f"Found {', '.join(parts)} in {_plural(checked, 'file')} checked"
    if skipped:
        text += f" ({skipped} skipped)"
    if report.without_host:
        text += f"; host checks skipped for {len(report.without_host)} without a host snapshot"
    return text + "."


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def skipped_notes(report: LintReport) -> Iterable[str]:
    for result in report.skipped:
        yield f"{result.shown}: skipped: {result.note}"


__all__ = ["ConfigError", "LintOptions", "LintReport", "discover", "lint", "summary_line"]
