"""`vnuma lint`: check intents and libvirt domain XMLs in a tree, alone and per host.

Stages per file: discover -> load -> (validate, model | lift domain) -> check; then
whole-host admission over all guests mapped to the same host snapshot; then the
configuration (select/ignore/severity/per-file-ignores) and in-file suppressions.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vnuma.diagnostics import Diagnostic, Severity
from vnuma.load.text import UnreadableInput
from vnuma.model.host import HostTopology
from vnuma.model.intent import Intent
from vnuma.report.config import (
    ConfigError,
    LintConfig,
    forget_resolved,
    remember_resolved,
    resolved,
)
from vnuma.report.suppress import Suppression, apply_suppressions, find_suppressions
from vnuma.runner import display_path

INTENT_SUFFIXES = (".yaml", ".yml", ".toml")
DOMAIN_SUFFIXES = (".xml",)
SKIPPED_DIRECTORIES = frozenset({"node_modules", "__pycache__", "venv"})
# Configuration files are never intents; hidden files and directories are not walked into.
CONFIG_FILES = frozenset({"pyproject.toml", "vnuma.toml"})
# A YAML/TOML mapping is taken for an intent when it has one of these keys.
INTENT_MARKERS = frozenset({"vcpus", "numatune", "cells", "hugepages"})
# For a file that does not parse: does its text look like an intent or a domain at all?
# (Kubernetes multi-document YAML or Helm templates must be skipped, not reported.)
_INTENT_TEXT = re.compile(r"^\s*[\"']?(vcpus|numatune|cells|hugepages)[\"']?\s*[:=]", re.MULTILINE)
_DOMAIN_TEXT = re.compile(r"<domain[\s>]")


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
    dropped once its host's admission is done, so memory does not grow with the fleet."""


class ConfigResolver:
    """The configuration that applies to a file: explicit, else the closest (ruff semantics)."""

    def __init__(self, explicit: LintConfig | None) -> None:
        self.explicit = explicit
        self._by_file: dict[Path, LintConfig] = {}
        self._by_dir: dict[Path, LintConfig] = {}

    def for_path(self, path: Path) -> LintConfig:
        if self.explicit is not None:
            return self.explicit
        return self.for_directory(resolved(path).parent if not path.is_dir() else resolved(path))

    def for_file(self, path: Path) -> LintConfig:
        """`for_path` of a path known to be a file (no stat)."""
        if self.explicit is not None:
            return self.explicit
        return self.for_directory(resolved(path).parent)

    def for_directory(self, directory: Path) -> LintConfig:
        """The configuration of a resolved directory (and of the files in it)."""
        if self.explicit is not None:
            return self.explicit
        if directory not in self._by_dir:
            self._by_dir[directory] = self._load(directory)
        return self._by_dir[directory]

    def _load(self, directory: Path) -> LintConfig:
        from vnuma.report.config import default_config, discover_config, load_config
        from vnuma.rules import all_rules

        source = discover_config(directory)
        if source is None:
            return default_config(Path.cwd())
        if source not in self._by_file:
            known = [rule.code for rule in all_rules()]
            self._by_file[source] = load_config(source, cwd=Path.cwd(), known_codes=known)
        return self._by_file[source]


@dataclass
class FileResult:
    path: Path
    shown: str
    kind: str = "skipped"
    config: LintConfig | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    guest: Intent | None = None
    host_key: Path | None = None
    host_source: str | None = None
    """"option" (--host), "intent" (its `host:` key) or "config" ([[hosts]] mapping)."""
    placed_on: Path | None = None
    """The resolved snapshot --host or a [[hosts]] mapping puts the file on (worked out
    once: admission groups files by it, the host checks read it)."""
    host_checked: bool = False
    had_guest: bool = False
    """A guest model was built (it is dropped once whole-host admission is done)."""
    note: str | None = None
    suppressions: list[Suppression] = field(default_factory=list)


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


def lint(options: LintOptions) -> LintReport:
    """Raises UnreadableInput (missing path, unreadable --host) and ConfigError (exit 2)."""
    forget_resolved()
    try:
        return _lint(options)
    finally:
        forget_resolved()


def _lint(options: LintOptions) -> LintReport:
    configs = ConfigResolver(options.config)
    files = []
    for path in discover(options, configs):
        config = configs.for_file(path)
        placed_on = _placed_on(path, config, options)
        files.append(FileResult(path, display_path(path), config=config, placed_on=placed_on))
    hosts = _HostCache()
    admission = _StreamingAdmission(files, options, hosts)
    if options.jobs > 1 and len(files) > 1:
        _lint_in_processes(files, options, hosts, admission)
    else:
        for index, result in enumerate(files):
            _lint_file(result, options, hosts)
            admission.done(index)
    diagnostics = list(hosts.diagnostics)
    for result in files:
        assert result.config is not None
        result.diagnostics = _configured(result, result.config)
        diagnostics.extend(result.diagnostics)
    return LintReport(files, sorted(diagnostics, key=Diagnostic.sort_key))


# --- -j N: files linted in worker processes ----------------------------------------------
#
# Workers lint tasks of files (load, validate, model, per-file checks against the host).
# A task is, where it can be, all the files of one host: the worker then runs that host's
# admission too and sends back findings without the guests' models. Files of no host,
# and hosts too large for one task, come back in chunks with their models and are
# admitted here. Configuration and suppressions run here; the report is the same as
# with one process. Each worker reads a host snapshot at most once and sends it (with
# its own diagnostics) back once.

_CHUNK = 64  # files per chunk at most; smaller when there are few files per worker

_worker_state: tuple[LintOptions, _HostCache, set[Path]] | None = None

_Task = tuple[list[tuple[int, Path, str, "LintConfig | None", Path | None]], bool]
_Loaded = list[tuple[Path, HostTopology | None, list[Diagnostic]]]


def _lint_in_processes(
    files: list[FileResult],
    options: LintOptions,
    hosts: _HostCache,
    admission: _StreamingAdmission,
) -> None:
    import gc
    import multiprocessing
    import sys

    jobs = min(options.jobs, len(files))
    size = max(1, min(_CHUNK, len(files) // (jobs * 4)))
    tasks: list[_Task] = [
        ([_task_item(i, files[i]) for i in indexes], admit)
        for indexes, admit in admission.tasks(size, largest=max(4 * size, -(-len(files) // jobs)))
    ]
    method = "fork" if sys.platform == "linux" else "spawn"
    context = multiprocessing.get_context(method)
    with context.Pool(jobs, initializer=_worker_start, initargs=(options,)) as pool:
        # Unpickling thousands of results grows the heap fast, and the cyclic collector
        # would rescan all of it again and again (a 10k-file run spent a third of its
        # time there); the results hold no garbage cycles. The workers, forked already,
        # keep their collector.
        collecting = gc.isenabled()
        gc.disable()
        try:
            _merge(pool.imap(_worker_lint, tasks), files, hosts, admission)
        finally:
            if collecting:
                gc.enable()


def _merge(
    done: Iterable[tuple[list[tuple[int, FileResult]], _Loaded, bool]],
    files: list[FileResult],
    hosts: _HostCache,
    admission: _StreamingAdmission,
) -> None:
    for results, loaded, admitted in done:
        for path, host, diagnostics in loaded:
            if path not in hosts.hosts:
                hosts.hosts[path] = host
                hosts.diagnostics.extend(diagnostics)
        for index, result in results:
            result.config = files[index].config
            files[index] = result
            if admitted:
                admission.admitted_elsewhere(index)
            else:
                admission.done(index)


def _task_item(
    index: int, result: FileResult
) -> tuple[int, Path, str, LintConfig | None, Path | None]:
    return index, result.path, result.shown, result.config, result.placed_on


def _worker_start(options: LintOptions) -> None:
    global _worker_state
    _worker_state = (options, _HostCache(), set())


def _worker_lint(task: _Task) -> tuple[list[tuple[int, FileResult]], _Loaded, bool]:
    assert _worker_state is not None
    options, hosts, sent = _worker_state
    items, admit = task
    results = []
    for index, path, shown, config, placed_on in items:
        result = FileResult(path, shown, config=config, placed_on=placed_on)
        _lint_file(result, options, hosts)
        results.append((index, result))
    if admit:  # all the files of one host: admit them here, send no models back
        _admission([result for _, result in results], hosts)
        for _, result in results:
            _release(result, options.keep_models)
    for _, result in results:
        result.config = None  # the parent has it
    loaded = [
        (path, host, hosts.reported.get(path, []))
        for path, host in hosts.hosts.items()
        if path not in sent
    ]
    sent.update(path for path, _, _ in loaded)
    return results, loaded, admit


# --- discovery ------------------------------------------------------------------------


def discover(options: LintOptions, configs: ConfigResolver | None = None) -> list[Path]:
    configs = configs or ConfigResolver(options.config)
    found: dict[Path, None] = {}
    for given in options.paths:
        if given.is_dir():
            for path in _walk(given, configs):
                found.setdefault(path)
        elif given.exists():
            if not (options.force_exclude and configs.for_path(given).is_excluded(given)):
                found.setdefault(given)
        else:
            raise UnreadableInput(f"{given}: no such file or directory")
    return list(found)


def _walk(directory: Path, configs: ConfigResolver) -> Iterator[Path]:
    # os.scandir: the entry types come with the listing, and a file that is not a symlink
    # resolves to its resolved directory plus its name, so large trees cost no stat or
    # realpath per file (a 10k-file fleet spent a third of a second here).
    try:
        with os.scandir(directory) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError as exc:
        raise UnreadableInput(f"{directory}: {exc.strerror or exc}") from exc
    real_directory = resolved(directory)
    here = configs.for_directory(real_directory)
    for entry in entries:
        path = directory / entry.name
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir()
        except OSError:
            continue  # vanished or unreadable while walking: as if it were not there
        if not is_link:
            remember_resolved(path, real_directory / entry.name)
        if is_dir:
            config = configs.for_directory(resolved(path))
        else:
            config = here if not is_link else configs.for_file(path)
        if config.is_excluded(path):
            continue
        if is_dir:
            if not entry.name.startswith(".") and entry.name not in SKIPPED_DIRECTORIES:
                yield from _walk(path, configs)
        elif _is_candidate(path):
            yield path


def _is_candidate(path: Path) -> bool:
    if path.name.startswith(".") or path.name in CONFIG_FILES:
        return False
    return path.suffix.lower() in INTENT_SUFFIXES + DOMAIN_SUFFIXES


# --- one file ---------------------------------------------------------------------------


def _lint_file(result: FileResult, options: LintOptions, hosts: _HostCache) -> None:
    suffix = result.path.suffix.lower()
    if suffix in DOMAIN_SUFFIXES:
        _lint_domain(result)
    elif suffix in INTENT_SUFFIXES:
        _lint_intent(result)
    else:
        result.note = "not a .yaml, .yml, .toml or .xml file"
        return
    if result.guest is not None:
        _check_guest(result, options, hosts)


def _lint_intent(result: FileResult) -> None:
    from vnuma.load.intent import load_intent
    from vnuma.runner import intent_from_raw

    raw = load_intent(result.path, result.shown, real_path=resolved(result.path))
    if raw.data is not None and not _looks_like_intent(raw.data):
        result.note = "not a vnuma intent (no vcpus, numatune, cells or hugepages key)"
        return
    if raw.data is None and not _INTENT_TEXT.search(raw.text):
        result.note = f"not a vnuma intent (and not a single valid {raw.format.upper()} document)"
        return
    result.kind = "intent"
    result.suppressions = find_suppressions(raw.text, "hash")
    result.guest, diagnostics = intent_from_raw(raw)
    result.diagnostics.extend(diagnostics)


def _looks_like_intent(data: Any) -> bool:
    return isinstance(data, dict) and bool(INTENT_MARKERS & set(map(str, data)))


def _lint_domain(result: FileResult) -> None:
    from vnuma.libvirt.domain import lift_domain
    from vnuma.load.document import load_xml_document

    doc = load_xml_document(result.path, result.shown)
    if doc.root is None and not _DOMAIN_TEXT.search(doc.text):
        result.note = "not a libvirt domain (and not well-formed XML)"
        return
    if doc.root is not None and doc.root_tag != "domain":
        result.note = (
            "a host capabilities snapshot, not a domain"
            if doc.root_tag == "capabilities"
            else f"not a libvirt domain (root element <{doc.root_tag}>)"
        )
        return
    result.kind = "domain"
    result.suppressions = find_suppressions(doc.text, "xml")
    result.diagnostics.extend(doc.diagnostics)
    if doc.root is None:
        return
    result.guest, diagnostics = lift_domain(doc)
    result.diagnostics.extend(diagnostics)


def _check_guest(result: FileResult, options: LintOptions, hosts: _HostCache) -> None:
    from vnuma.rules.check import run_checks

    guest = result.guest
    assert guest is not None
    host_key, result.host_source = _host_for(result, options)
    host = hosts.get(host_key, result) if host_key is not None else None
    result.host_key = host_key if host is not None else None
    result.host_checked = host is not None and bool(host.cells)
    if guest.needs_placement:
        if not result.host_checked:
            return  # auto nodes, cells: N and pinning are decided against a host
        from vnuma.place import place

        assert host is not None
        placed = place(guest, host)
        result.diagnostics.extend(placed.diagnostics)
        if not placed.ok or placed.intent is None:
            result.guest = None
            return
        guest = result.guest = placed.intent
    result.diagnostics.extend(run_checks(guest, host))


def _host_for(result: FileResult, options: LintOptions) -> tuple[Path | None, str | None]:
    if options.host_path is not None:
        return result.placed_on, "option"
    assert result.guest is not None
    if result.guest.host_ref is not None:
        return resolved(result.guest.host_ref), "intent"
    return (result.placed_on, "config") if result.placed_on is not None else (None, None)


def _placed_on(path: Path, config: LintConfig, options: LintOptions) -> Path | None:
    """The snapshot --host, else the file's [[hosts]] mapping, puts it on (resolved)."""
    if options.host_path is not None:
        return resolved(options.host_path)
    mapped = config.host_for(path)
    return resolved(mapped) if mapped is not None else None


class _HostCache:
    """Each host snapshot is read once; its own problems are reported once."""

    def __init__(self) -> None:
        self.hosts: dict[Path, HostTopology | None] = {}
        self.diagnostics: list[Diagnostic] = []
        self.reported: dict[Path, list[Diagnostic]] = {}
        """The diagnostics of each host snapshot (in `diagnostics` too)."""

    def get(self, path: Path, result: FileResult) -> HostTopology | None:
        if path not in self.hosts:
            self.hosts[path] = self._load(path, result)
        return self.hosts[path]

    def _load(self, path: Path, result: FileResult) -> HostTopology | None:
        from vnuma.libvirt.capabilities import load_host
        from vnuma.runner import unreadable_host_diagnostic

        try:
            host, diagnostics = load_host(path, display_path(path))
        except UnreadableInput as exc:
            guest = result.guest
            if (
                guest is not None
                and guest.host_ref is not None
                and guest.host_ref.resolve() == path
            ):
                result.diagnostics.append(unreadable_host_diagnostic(guest, exc))
                return None
            raise
        self.diagnostics.extend(diagnostics)
        self.reported[path] = diagnostics
        return host


# --- whole-host admission ------------------------------------------------------------------


class _StreamingAdmission:
    """Runs admission for a host as soon as the last file mapped to it is linted, then
    lets go of those guests' models, so memory follows the largest host, not the fleet.

    The group of a file is where --host or its [[hosts]] mapping would put it; an intent
    whose own `host:` wins is simply not admitted (see _admission)."""

    def __init__(self, files: list[FileResult], options: LintOptions, hosts: _HostCache) -> None:
        self.files, self.hosts, self.keep = files, hosts, options.keep_models
        self.group_of = [result.placed_on for result in files]
        self.members: dict[Path, list[int]] = {}
        for index, key in enumerate(self.group_of):
            if key is not None:
                self.members.setdefault(key, []).append(index)
        self.left = {key: len(indexes) for key, indexes in self.members.items()}

    def done(self, index: int) -> None:
        key = self.group_of[index]
        if key is None:
            self._release(self.files[index])
            return
        self.left[key] -= 1
        if self.left[key] == 0:
            group = [self.files[i] for i in self.members.pop(key)]
            _admission(group, self.hosts)
            for result in group:
                self._release(result)

    def admitted_elsewhere(self, index: int) -> None:
        """A worker linted this file with all of its host's files and admitted them."""
        key = self.group_of[index]
        assert key is not None
        self.left[key] -= 1
        if self.left[key] == 0:
            del self.members[key]

    def tasks(self, size: int, largest: int) -> list[tuple[list[int], bool]]:
        """Work for -j: each host's files as one task that a worker admits, unless the
        host has more than ``largest`` files (then chunks, admitted here, as are files
        of no host)."""
        tasks: list[tuple[list[int], bool]] = []
        for indexes in self.members.values():
            if len(indexes) <= largest:
                tasks.append((indexes, True))
            else:
                tasks.extend((indexes[i : i + size], False) for i in range(0, len(indexes), size))
        loose = [i for i, key in enumerate(self.group_of) if key is None]
        tasks.extend((loose[i : i + size], False) for i in range(0, len(loose), size))
        return tasks

    def _release(self, result: FileResult) -> None:
        _release(result, self.keep)


def _release(result: FileResult, keep_model: bool) -> None:
    result.had_guest = result.guest is not None
    if not keep_model:
        result.guest = None


def _admission(files: list[FileResult], hosts: _HostCache) -> None:
    """Check together every guest placed on the same host by --host or a [[hosts]] mapping."""
    from vnuma.rules.check import run_admission

    by_host: dict[Path, list[FileResult]] = {}
    for result in files:
        if result.guest is None or not result.host_checked or result.host_key is None:
            continue
        # An intent's own `host:` names the hardware to check against, not where the
        # guest runs: only --host and [[hosts]] mappings place guests on one host.
        if result.host_source in ("option", "config"):
            by_host.setdefault(result.host_key, []).append(result)
    for host_key, results in by_host.items():
        host = hosts.hosts.get(host_key)
        if host is None or len(results) < 1:
            continue
        by_shown = {r.shown: r for r in results}
        guests = [r.guest for r in results if r.guest is not None]
        for diag in run_admission(host, guests):
            by_shown[diag.path].diagnostics.append(diag)


# --- configuration and suppressions ----------------------------------------------------------


def _configured(result: FileResult, config: LintConfig) -> list[Diagnostic]:
    from vnuma.rules import get_rule

    def may_fire(code: str) -> bool:
        rule = get_rule(code)
        needs_host = rule is not None and rule.needs_host
        return config.is_enabled(code, result.path) and (result.host_checked or not needs_host)

    enabled = [d for d in result.diagnostics if config.is_enabled(d.code, result.path)]
    kept = apply_suppressions(enabled, result.suppressions, result.shown, may_fire=may_fire)
    return [_with_severity(d, config) for d in kept if config.is_enabled(d.code, result.path)]


def _with_severity(diag: Diagnostic, config: LintConfig) -> Diagnostic:
    from dataclasses import replace

    severity = config.severity_for(diag.code, diag.severity)
    return diag if severity == diag.severity else replace(diag, severity=severity)


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
