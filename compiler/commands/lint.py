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

import gc
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

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

if TYPE_CHECKING:
    from multiprocessing.connection import Connection


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


@dataclass(slots=True)
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


@dataclass(frozen=True, slots=True)
class _Entry:
    """A file of one task: where it is, what configures it, where --host/[[hosts]] put it."""

    index: int
    """Its place in the report; -1 for a file of the host that was not asked for."""
    path: Path
    shown: str
    real: Path
    config: LintConfig
    placed_on: Path | None


@dataclass(frozen=True, slots=True)
class _Task:
    entries: tuple[_Entry, ...]
    host: Path | None
    """The snapshot all of ``entries`` are placed on (None: a chunk of files on no host)."""
    option_host: bool
    keep_models: bool


_Linted = tuple[int, str, "str | None", bool, bool, "list[Diagnostic] | None", "Guest | None"]
"""One asked file as a task returns it: (index, kind, note, host_checked, had_guest,
configured diagnostics or None, guest model or None). Plain tuples, built while the
models come and go: a worker's results unpickle cheaply in the parent (which knows each
file's path and shown name), and the few small objects kept per file do not hold a
host's freed memory pages."""


class _TaskResult(NamedTuple):
    files: list[_Linted]
    hosts: dict[Path, list[Diagnostic]]


def lint(options: LintOptions) -> LintReport:
    """Raises UnreadableInput (missing path, unreadable --host) and ConfigError (exit 2)."""
    with _few_collections():
        configs = ConfigResolver(options.config)
        found = discover(options.paths, configs, force_exclude=options.force_exclude)
        entries = [_entry(i, path, configs, options) for i, path in enumerate(found)]
        tasks = _tasks(entries, options, configs)
        if options.jobs > 1 and len(tasks) > 1 and _can_fork():
            done = _in_processes(tasks, options.jobs)
        else:
            done = [_run_task(task) for task in tasks]
        return _merged(entries, done)


def _merged(entries: list[_Entry], done: list[_TaskResult]) -> LintReport:
    """The report from the task results, in task order (the same for any -j)."""
    files: list[FileResult | None] = [None] * len(entries)
    host_diagnostics: dict[Path, list[Diagnostic]] = {}
    for result in done:
        for index, kind, note, host_checked, had_guest, diagnostics, guest in result.files:
            entry = entries[index]
            files[index] = FileResult(
                entry.path,
                entry.shown,
                kind,
                note,
                diagnostics or [],
                host_checked,
                had_guest,
                guest,
            )
        for path, reported in result.hosts.items():
            host_diagnostics.setdefault(path, reported)
    linted = [file for file in files if file is not None]
    diagnostics = [d for diags in host_diagnostics.values() for d in diags]
    diagnostics.extend(d for file in linted for d in file.diagnostics)
    return LintReport(linted, sorted(diagnostics, key=Diagnostic.sort_key))


@contextmanager
def _few_collections() -> Iterator[None]:
    """The objects alive before the run are frozen out of the cyclic collector and full
    passes are rarer while it runs: a fleet's models hold few cycles, and each full pass
    rescans every result kept so far (+8% of a 5k-file run)."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 10_000), threshold[1], max(threshold[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


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
        _Task(tuple(group), host, option, options.keep_models) for host, group in by_host.items()
    ]
    size = max(1, min(_CHUNK, len(loose) // max(options.jobs * 4, 1)))
    tasks.extend(
        _Task(tuple(loose[i : i + size]), None, option, options.keep_models)
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
    snapshots = HostSnapshots()
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
        _linted(file, entry, task.keep_models)
        for entry, file in zip(task.entries, files, strict=True)
        if entry.index >= 0
    ]
    return _TaskResult(results, snapshots.reported)


def _linted(file: GuestFile, entry: _Entry, keep_model: bool) -> _Linted:
    return (
        entry.index,
        file.kind,
        file.note,
        file.host_checked,
        file.written is not None,
        configured(file, entry.config) or None,
        file.guest if keep_model else None,
    )


# --- -j N: the parent and N-1 forked children take the tasks from one shared counter -------


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _in_processes(tasks: list[_Task], jobs: int) -> list[_TaskResult]:
    """The results of every task, in task order. The parent is one of the ``jobs``
    workers (a third process would compete for the CPUs); children are forked after
    everything is imported and the tasks are built, so nothing is pickled to them, and
    each sends its finished results once, when the tasks run out."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    # Largest tasks first, so that one big host does not start last.
    order = sorted(range(len(tasks)), key=lambda i: -len(tasks[i].entries))
    counter = context.Value("i", 0)
    sys.stdout.flush()  # a child must not write out what the parent buffered before the fork
    sys.stderr.flush()
    gc.freeze()  # the children do not touch (so do not copy) the parent's objects
    children = []
    for _ in range(min(jobs, len(tasks)) - 1):
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=(tasks, order, counter, sender), daemon=True)
        child.start()
        sender.close()
        children.append((child, receiver))
    ran = [_run_share(tasks, order, counter)]
    for child, receiver in children:
        try:
            ran.append(receiver.recv())
        except EOFError:
            ran.append(_Share({}, (len(tasks), RuntimeError("a lint worker process died"))))
        child.join()
    return _ordered(ran, len(tasks))


class _Share(NamedTuple):
    """What one process ran: results by task number, and the first error (by task number)."""

    results: dict[int, _TaskResult]
    error: tuple[int, BaseException] | None


def _child(tasks: list[_Task], order: list[int], counter: Any, sender: Connection) -> None:
    gc.disable()  # a short-lived process: it exits before garbage would matter
    share = _run_share(tasks, order, counter)
    try:
        sender.send(share)
    except Exception as exc:  # an exception that does not pickle
        error = RuntimeError(f"{type(exc).__name__}: {exc}")
        sender.send(_Share({}, (share.error[0] if share.error else len(tasks), error)))
    sender.close()


def _run_share(tasks: list[_Task], order: list[int], counter: Any) -> _Share:
    results: dict[int, _TaskResult] = {}
    errors: list[tuple[int, BaseException]] = []
    while True:
        with counter.get_lock():
            taken = counter.value
            counter.value = taken + 1
        if taken >= len(order):
            break
        number = order[taken]
        try:
            results[number] = _run_task(tasks[number])
        except Exception as exc:  # raised in task order below, as one process would
            errors.append((number, exc))
    return _Share(results, min(errors, key=lambda item: item[0]) if errors else None)


def _ordered(shares: list[_Share], count: int) -> list[_TaskResult]:
    """The task results in task order; the error of the first failing task is raised."""
    errors = [share.error for share in shares if share.error is not None]
    if errors:
        raise min(errors, key=lambda item: item[0])[1]
    merged: dict[int, _TaskResult] = {}
    for share in shares:
        merged.update(share.results)
    return [merged[number] for number in range(count)]


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
