"""`vnuma lint`: check intents and libvirt domain XMLs in a tree, alone and per host.

The command discovers the files, works out which host each is on, and hands the runner
one task per host (every file on it, including files of that host that were not asked
for, so that a pre-commit run of one staged file still admits the whole host) plus
chunks of files on no host. The runner seats, checks and admits; the command applies
each file's configuration and suppressions and reports the files that were asked for.
With ``-j N`` the parent reads only the top of the tree and forks; the N processes walk
its parts and map their files, build the same tasks from all of them, take whole hosts
from a shared counter, and send back finished diagnostics: the report is byte-identical
for any N.

Where a file lands: ``--host`` puts every given file on that snapshot; else an intent's
own `host:` names the hardware it is checked against (alone: it says nothing of where
the guest runs); else a ``[[hosts]]`` mapping of the closest configuration.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from vnuma.diagnostics import Diagnostic, Severity
from vnuma.load.discover import (
    ConfigResolver,
    Found,
    Unit,
    child_path,
    discover,
    mapped_under,
    split_walk,
    walk_unit,
)
from vnuma.model.guest import Guest
from vnuma.records import Record
from vnuma.report.config import ConfigError, LintConfig
from vnuma.runner import (
    GuestFile,
    HostSnapshots,
    configured,
    display_child,
    display_path,
    load_guest_files,
    place_and_check,
    run_host,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing when vnuma starts
if TYPE_CHECKING:
    from typing import Any

    from vnuma.commands.forked import Channel, SharedCounter, Worker


class LintOptions(Record):
    __slots__ = (
        "config",
        "force_exclude",
        "host_path",
        "jobs",
        "keep_models",
        "paths",
        "use_cache",
    )

    def __init__(
        self,
        paths: tuple[Path, ...],
        config: LintConfig | None = None,
        host_path: Path | None = None,
        force_exclude: bool = False,
        jobs: int = 1,
        keep_models: bool = False,
        use_cache: bool = True,
    ) -> None:
        self.paths = paths
        self.config = config
        """An explicit configuration (--config, --isolated); None: the closest one to each file."""
        self.host_path = host_path
        self.force_exclude = force_exclude
        self.jobs = jobs
        """Processes that lint files (`-j`); the report is the same for any number."""
        self.keep_models = keep_models
        """Keep each file's guest model in the report (for tests and tools); by default it is
        dropped once its host is done, so memory does not grow with the fleet."""
        self.use_cache = use_cache
        """Read host snapshots through the user's cache (False: --no-cache)."""


class Folder(Record):
    """A directory of linted files, as walked or given and as diagnostics show it: one
    object for all the files in it."""

    __slots__ = ("path", "shown")

    def __init__(self, path: Path, shown: str) -> None:
        self.path = path
        self.shown = shown
        """``display_path(path)``."""

    def child(self, name: str) -> Path:
        return child_path(self.path, name)

    def shown_child(self, name: str) -> str:
        return display_child(self.shown, name)


class FileResult(Record):
    """One linted file as reported: its folder and its name (a fleet's report keeps one
    small record and one string per file)."""

    __slots__ = (
        "diagnostics",
        "folder",
        "guest",
        "had_guest",
        "host_checked",
        "kind",
        "name",
        "note",
    )

    def __init__(
        self,
        folder: Folder,
        name: str,
        kind: str = "skipped",
        note: str | None = None,
        diagnostics: Sequence[Diagnostic] | None = None,
        host_checked: bool = False,
        had_guest: bool = False,
        guest: Guest | None = None,
    ) -> None:
        self.folder = folder
        self.name = name
        self.kind = kind
        self.note = note
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics) if diagnostics else ()
        """Its configured diagnostics (a tuple: most files of a fleet have none, and they
        share the empty one)."""
        self.host_checked = host_checked
        self.had_guest = had_guest
        """A guest model was built (it is not kept unless LintOptions.keep_models)."""
        self.guest = guest

    @property
    def path(self) -> Path:
        return self.folder.child(self.name)

    @property
    def shown(self) -> str:
        """The path as diagnostics show it (``display_path(path)``)."""
        return self.folder.shown_child(self.name)


class LintReport(Record):
    __slots__ = ("diagnostics", "files")

    def __init__(self, files: list[FileResult], diagnostics: list[Diagnostic]) -> None:
        self.files = files
        self.diagnostics = diagnostics

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


class _Entry(Record):
    """A file of one task: where it is, what configures it, where --host/[[hosts]] put it.

    Its paths are its folder's and its name; its own path is made while its task runs,
    as a string. (Its fields are as many as a FileResult's, so that the memory of the
    entries dropped as their results come in holds the results.)"""

    __slots__ = (
        "config",
        "folder",
        "index",
        "name",
        "placed_on",
        "real_directory",
        "real_name",
    )

    def __init__(
        self,
        index: int,
        folder: Folder,
        name: str,
        real_directory: Path,
        real_name: str,
        config: LintConfig,
        placed_on: Path | None,
    ) -> None:
        self.index = index
        """Its place in the report; -1 for a file of the host that was not asked for."""
        self.folder = folder
        self.name = name
        self.real_directory = real_directory
        """Where it resolves to, as its directory and its name (the same string as
        ``name`` unless the file is a symlink)."""
        self.real_name = real_name
        self.config = config
        self.placed_on = placed_on


class _Task(Record):
    __slots__ = ("entries", "host", "keep_models", "option_host", "use_cache")

    def __init__(
        self,
        entries: tuple[_Entry, ...],
        host: Path | None,
        option_host: bool,
        keep_models: bool,
        use_cache: bool,
    ) -> None:
        self.entries = entries
        self.host = host
        """The snapshot all of ``entries`` are placed on (None: a chunk of files on no host)."""
        self.option_host = option_host
        self.keep_models = keep_models
        self.use_cache = use_cache


_Linted = tuple[int, str, "str | None", bool, bool, "list[Diagnostic] | None", "Guest | None"]
"""One asked file as a task returns it: (index, kind, note, host_checked, had_guest,
configured diagnostics or None, guest model or None). Plain tuples, built while the
models come and go: a worker's results unpickle cheaply in the parent (which knows each
file's path and shown name), and the few small objects kept per file do not hold a
host's freed memory pages."""


class _TaskResult(Record):
    __slots__ = ("files", "hosts")

    def __init__(self, files: list[_Linted], hosts: dict[Path, list[Diagnostic]]) -> None:
        self.files = files
        self.hosts = hosts


def lint(options: LintOptions) -> LintReport:
    """Raises UnreadableInput (missing path, unreadable --host) and ConfigError (exit 2)."""
    with _few_collections():
        configs = ConfigResolver(options.config)
        if options.jobs > 1 and _can_fork():
            units = split_walk(options.paths, configs, wanted=_PARTS_PER_JOB * options.jobs)
            if len(units) > 1:
                return _in_processes(options, configs, units)
        make = _EntryMaker(configs, options)
        found = discover(options.paths, configs, force_exclude=options.force_exclude)
        entries = [make(i, directory, name) for i, (directory, name) in enumerate(found)]
        tasks = _tasks(entries, options, configs, make)
        done = (_run_task(task) for task in _drained(tasks))
        return _merged(_handed_over(entries), done)


def _drained(tasks: list[_Task]) -> Iterator[_Task]:
    """The tasks in order, each dropped from the list as it is taken: with ``_merged``
    dropping each entry once its result is in, a file's entry and its result are not
    both kept."""
    tasks.reverse()
    while tasks:
        yield tasks.pop()


def _handed_over(entries: list[_Entry]) -> list[_Entry | None]:
    """The list itself, for `_merged` to drop its entries from (a copy would keep them):
    what `typing.cast` says, without importing typing when vnuma starts."""
    return entries  # type: ignore[return-value]  # list is invariant; no one else holds it


def _merged(entries: list[_Entry | None], done: Iterable[_TaskResult]) -> LintReport:
    """The report from the task results, in task order (the same for any -j); each
    entry is dropped from ``entries`` once its file's result is made."""
    files: list[FileResult | None] = [None] * len(entries)
    host_diagnostics: dict[Path, list[Diagnostic]] = {}
    for result in done:
        for index, kind, note, host_checked, had_guest, diagnostics, guest in result.files:
            entry = entries[index]
            assert entry is not None, "a file reported twice"
            entries[index] = None
            files[index] = FileResult(
                entry.folder,
                entry.name,
                kind,
                note,
                diagnostics,
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


class _EntryMaker:
    """Entries of one run: each file's configuration, resolved path and host, and its
    folder (made once per directory)."""

    def __init__(self, configs: ConfigResolver, options: LintOptions) -> None:
        self._configs = configs
        self._options = options
        self._folders: dict[Path, Folder] = {}

    def __call__(self, index: int, directory: Path, name: str) -> _Entry:
        """The entry of the file ``name`` in ``directory``."""
        real = self._configs.paths.resolve_child(directory, name)
        config = self._configs.for_directory(real[0])
        return self.made(index, directory, name, real, _placed_on(*real, config, self._options))

    def made(
        self, index: int, directory: Path, name: str, real: tuple[Path, str], host: Path | None
    ) -> _Entry:
        """The entry of a file whose resolved (directory, name) and host are known."""
        real_directory, real_name = real
        config = self._configs.for_directory(real_directory)
        folder = self._folders.get(directory)
        if folder is None:
            folder = self._folders[directory] = Folder(directory, display_path(directory))
        if real_name == name:
            real_name = name  # one string for both
        return _Entry(index, folder, name, real_directory, real_name, config, host)


def _placed_on(
    real_directory: Path, real_name: str, config: LintConfig, options: LintOptions
) -> Path | None:
    if options.host_path is not None:
        return config.paths.resolve_kept(options.host_path)
    return config.host_for_child(real_directory, real_name)  # resolved, one path per host


# --- tasks: one per host, chunks of files on no host ---------------------------------------

_CHUNK = 64  # files of no host per task at most


def _tasks(
    entries: list[_Entry], options: LintOptions, configs: ConfigResolver, make: _EntryMaker
) -> list[_Task]:
    by_host: dict[Path, list[_Entry]] = {}
    loose: list[_Entry] = []
    for entry in entries:
        if entry.placed_on is None:
            loose.append(entry)
        else:
            by_host.setdefault(entry.placed_on, []).append(entry)
    option = options.host_path is not None
    if not option:
        _add_unasked(by_host, entries, options, configs, make)
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
    make: _EntryMaker,
) -> None:
    """Every other file a [[hosts]] mapping puts on a host that an asked file is on, so
    the host is admitted whole (pre-commit passes only the staged files)."""
    roots = {entry.config.root: entry.config for entry in entries if entry.placed_on is not None}
    given = [configs.paths.resolve(path) for path in options.paths]
    walked = [path for path in given if path.is_dir()]
    # the walk of a given directory found every file under a root it contains
    unwalked = [
        config
        for root, config in roots.items()
        if not any(root == path or path in root.parents for path in walked)
    ]
    if not unwalked:
        return
    asked = {(entry.real_directory, entry.real_name) for entry in entries}
    for config in unwalked:
        for (directory, name), real, host in mapped_under(config, configs):
            if host in by_host and real not in asked:
                asked.add(real)
                by_host[host].append(make.made(-1, directory, name, real, host))


# --- running a task (in this process or a worker: a pure function of the task) ------------


def _run_task(task: _Task) -> _TaskResult:
    snapshots = HostSnapshots(task.use_cache)
    files = load_guest_files(
        [
            (
                os.path.join(entry.folder.path, entry.name),
                entry.folder.shown_child(entry.name),
                entry.real_directory,
            )
            for entry in task.entries
        ],
        discovering=True,
    )
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
    from vnuma.commands.forked import can_fork  # pickle and mmap: only for -j N

    return can_fork()


_PARTS_PER_JOB = 8  # parts of the walk per process, so that walking them balances


def _in_processes(options: LintOptions, configs: ConfigResolver, units: list[Unit]) -> LintReport:
    """-j N: the parent and N-1 forked children walk the parts of the tree and map their
    files to hosts, then each builds the same tasks from all the files and they take
    the tasks (whole hosts, largest first) from a shared counter; each child sends its
    finished results once. The parent is one of the N (a third process would compete
    for the CPUs), and children are forked once the configuration code is imported and
    the top of the tree is read, so nothing is pickled to them."""
    from vnuma.commands.forked import SharedCounter, fork_worker

    walked, taken = SharedCounter(), SharedCounter()
    sys.stdout.flush()  # a child must not write out what the parent buffered before the fork
    sys.stderr.flush()
    gc.freeze()  # the children do not touch (so do not copy) the parent's objects
    children: list[Worker] = []
    try:
        for _ in range(min(options.jobs, len(units)) - 1):

            def work(channel: Channel) -> None:
                _child(options, configs, units, walked, taken, channel)

            children.append(fork_worker(work, children))
        walks = [_walk_share(units, walked, configs, options)]
        walks += [_received(child.channel, len(units)) for child in children]
        # the rows are not kept: each file's paths are made again from them, once
        entries, tasks = _planned(_shared_rows(walks, len(units), children), options, configs)
        shares = [_task_share(tasks, taken)]
        shares += [_received(child.channel, len(tasks)) for child in children]
    except BaseException:
        for child in children:
            child.stop()
        raise
    finally:
        for child in children:
            child.join()
        walked.close()
        taken.close()
    return _merged(_handed_over(entries), _ordered(shares, len(tasks)))


def _shared_rows(walks: list[_Share], count: int, children: Sequence[Worker]) -> list[_Row]:
    """Every file found, sent to each child; on an error the children are told to stop."""
    try:
        rows = _rows(walks, count)
    except BaseException:
        for child in children:
            _tell_child(child, None)
        raise
    for child in children:
        _tell_child(child, rows)
    return rows


def _tell_child(child: Worker, message: Any) -> None:
    from vnuma.commands.forked import WorkerDied

    with suppress(WorkerDied):  # a child that is gone is reported when its results are awaited
        child.channel.send(message)


_Row = tuple[str, str, str, "str | None", "str | None"]
"""A file found by a worker: (its directory, its name, its resolved directory, its
resolved name when not its name, the resolved snapshot it is on)."""


class _Share(Record):
    """What one process did: results by part or task number, and its first error (by
    number; a file that could not be mapped after its part was walked counts after
    every part)."""

    __slots__ = ("error", "results")

    def __init__(self, results: dict[int, Any], error: tuple[int, BaseException] | None) -> None:
        self.results = results
        self.error = error


def _child(
    options: LintOptions,
    configs: ConfigResolver,
    units: list[Unit],
    walked: SharedCounter,
    taken: SharedCounter,
    channel: Channel,
) -> None:
    gc.disable()  # a short-lived process: it exits before garbage would matter
    _send(channel, _walk_share(units, walked, configs, options), len(units))
    planned = _planned_from(channel, options, configs)
    if planned is None:
        return  # discovery failed: the parent reports it
    _entries, tasks = planned
    _send(channel, _task_share(tasks, taken), len(tasks))


def _planned_from(
    channel: Channel, options: LintOptions, configs: ConfigResolver
) -> tuple[list[_Entry], list[_Task]] | None:
    rows = channel.receive()
    return None if rows is None else _planned(rows, options, configs)


def _walk_share(
    units: list[Unit], counter: SharedCounter, configs: ConfigResolver, options: LintOptions
) -> _Share:
    def walk(number: int) -> list[_Row]:
        found = list(walk_unit(units[number], configs, force_exclude=options.force_exclude))
        try:
            return [_row(file, configs, options) for file in found]
        except Exception as exc:
            raise _Unmapped(exc) from exc

    return _share(len(units), list(range(len(units))), counter, walk)


class _Unmapped(Exception):
    """A found file's configuration could not be read: raised after every walk error."""


def _row(found: Found, configs: ConfigResolver, options: LintOptions) -> _Row:
    directory, name = found
    real_directory, real_name = configs.paths.resolve_child(directory, name)
    config = configs.for_directory(real_directory)
    placed_on = _placed_on(real_directory, real_name, config, options)
    return (
        os.fspath(directory),
        name,
        os.fspath(real_directory),
        None if real_name == name else real_name,
        None if placed_on is None else os.fspath(placed_on),
    )


def _rows(walks: list[_Share], count: int) -> list[_Row]:
    """Every file found, in walk order, each once; the first error is raised."""
    parts: list[list[_Row]] = _ordered(walks, count)
    found: dict[tuple[str, str], _Row] = {}
    for part in parts:
        for row in part:
            found.setdefault((row[0], row[1]), row)
    return list(found.values())


def _planned(
    rows: list[_Row], options: LintOptions, configs: ConfigResolver
) -> tuple[list[_Entry], list[_Task]]:
    """The entries and tasks of ``lint``'s one process, from the rows (the same in
    every process)."""
    # A fleet's files share a few directories: each directory's path is made once.
    directories: dict[str, Path] = {}
    snapshots: dict[str, Path] = {}

    def path_of(text: str, made: dict[str, Path]) -> Path:
        path = made.get(text)
        if path is None:
            path = made[text] = Path(text)
        return path

    make = _EntryMaker(configs, options)
    entries = []
    for index, (directory, name, real_directory, real_name, placed) in enumerate(rows):
        real = (path_of(real_directory, directories), real_name or name)
        host = None if placed is None else path_of(placed, snapshots)
        entries.append(make.made(index, path_of(directory, directories), name, real, host))
    return entries, _tasks(entries, options, configs, make)


def _task_share(tasks: list[_Task], counter: SharedCounter) -> _Share:
    # Largest tasks first, so that one big host does not start last.
    order = sorted(range(len(tasks)), key=lambda i: -len(tasks[i].entries))
    return _share(len(tasks), order, counter, lambda number: _run_task(tasks[number]))


def _share(
    count: int, order: list[int], counter: SharedCounter, work: Callable[[int], Any]
) -> _Share:
    """Run ``work`` on the numbers this process takes from the shared counter."""
    results: dict[int, Any] = {}
    errors: list[tuple[int, BaseException]] = []
    while True:
        taken = counter.take()
        if taken >= count:
            break
        number = order[taken]
        try:
            results[number] = work(number)
        except _Unmapped as exc:
            errors.append((count + number, exc.__cause__ or exc))
        except Exception as exc:  # raised in order below, as one process would
            errors.append((number, exc))
    return _Share(results, min(errors, key=lambda item: item[0]) if errors else None)


def _send(channel: Channel, share: _Share, count: int) -> None:
    error = share.error
    if error is not None and isinstance(error[1], ConfigError):
        failed = error[1]  # its pickle would keep only the first message
        error = (error[0], _PortableConfigError(failed.message, failed.path, failed.problems))
    try:
        channel.send(_Share(share.results, error))
    except Exception as exc:  # an exception that does not pickle
        number = error[0] if error is not None else count
        channel.send(_Share({}, (number, RuntimeError(f"{type(exc).__name__}: {exc}"))))


class _PortableConfigError(Exception):
    """A ConfigError on its way to the parent (pickled, an exception keeps only its args)."""

    def __init__(self, message: str, path: Path | None, problems: tuple[Any, ...]) -> None:
        super().__init__(message, path, problems)
        self.message, self.path, self.problems = message, path, problems


def _received(channel: Channel, count: int) -> _Share:
    from vnuma.commands.forked import WorkerDied

    try:
        share: _Share = channel.receive()
    except WorkerDied:
        return _Share({}, (2 * count, RuntimeError("a lint worker process died")))
    if share.error is not None and isinstance(share.error[1], _PortableConfigError):
        failed = share.error[1]
        error = ConfigError(failed.message, failed.path, problems=failed.problems)
        return _Share(share.results, (share.error[0], error))
    return share


def _ordered(shares: list[_Share], count: int) -> list[Any]:
    """The results in number order; the error with the lowest number is raised."""
    errors = [share.error for share in shares if share.error is not None]
    if errors:
        raise min(errors, key=lambda item: item[0])[1]
    merged: dict[int, Any] = {}
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
