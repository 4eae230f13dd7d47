"""Configuration for `vnuma lint`: discovery, loading, validation and rule selection.

Settings live in the ``[tool.vnuma]`` table of a ``pyproject.toml`` or at the top level
of a ``vnuma.toml``; the closest such file to the linted directory wins (ruff semantics,
no merging). Rule selection follows ruff: among the ``select`` and ``ignore`` entries
that are prefixes of a code the longest wins, ``ignore`` on a tie.

Globs are matched against posix paths relative to the config file's directory:
``**`` spans whole path segments, ``*``, ``?`` and ``[...]`` never match ``/``, a
pattern without ``/`` matches a basename at any depth, a trailing ``/`` restricts a
pattern to directories, and a pattern that matches a directory covers everything below.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from vnuma.diagnostics import JsonPath, Severity, Span
from vnuma.records import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing when vnuma starts
if TYPE_CHECKING:
    from typing import Any

CONFIG_FILE = "vnuma.toml"
PYPROJECT = "pyproject.toml"
ALL_CODES = "VN"

KEYS = ("exclude", "hosts", "ignore", "per-file-ignores", "select", "severity")
HOST_KEYS = ("files", "snapshot")
SEVERITIES = {severity.label: severity for severity in Severity}

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
# Every TOML spelling of a tool.vnuma table matches one of these (a superset: a match in
# a comment or a string only costs a real parse): a backslash-u escape, which can spell
# either key; a dotted path or header, quoted or not (`[tool.vnuma]`, `[["tool".'vnuma'.x]]`,
# `tool.vnuma.select = ...`); an inline `tool = {...}`; or, when a bare `[tool]` header
# exists, a key `vnuma` on any line. Compiled on first use, by the re module's cache.
_ESCAPE = rb"\\[uU]"
_DOTTED_TOOL_VNUMA = rb"""tool["']?\s*\.\s*["']?vnuma\b"""
_INLINE_TOOL = rb"""tool["']?\s*=\s*\{"""
_BARE_TOOL_HEADER = rb"""(?m)^\s*\[\s*["']?tool["']?\s*\]"""
_VNUMA_KEY = rb"""(?m)^\s*["']?vnuma["']?\s*[.=]"""
_ANY_DIRS = "(?:[^/]+/)*"


class ConfigProblem(Record):
    """One problem of a configuration file; ``span`` is None when it has no place."""

    __slots__ = ("hint", "message", "span")

    def __init__(self, message: str, span: Span | None = None, hint: str | None = None) -> None:
        self.message = message
        self.span = span
        self.hint = hint


class ConfigError(Exception):
    """An unreadable, malformed or invalid configuration file, with every problem found.

    ``str()`` prints them all (``path:line:col: message`` and a hint line each), so a
    caller that prints the exception shows every problem."""

    def __init__(
        self, message: str, path: Path | None = None, *, problems: Iterable[ConfigProblem] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.problems = tuple(problems) or (ConfigProblem(message),)

    @classmethod
    def of(cls, path: Path, problems: list[ConfigProblem]) -> ConfigError:
        return cls(problems[0].message, path, problems=problems)

    def __str__(self) -> str:
        lines = [self._line(problem) for problem in self.problems]
        if len(lines) > 1:
            lines.insert(0, f"{self.path}: {len(lines)} errors in the configuration")
        return "\n".join(lines)

    def _line(self, problem: ConfigProblem) -> str:
        where = "" if self.path is None else f"{self.path}: "
        if self.path is not None and problem.span is not None:
            where = f"{self.path}:{problem.span.line}:{problem.span.column}: "
        hint = f"\n    hint: {problem.hint}" if problem.hint else ""
        return f"{where}{problem.message}{hint}"


class HostMapping(Record):
    """A [[hosts]] table: its snapshot (under the configuration's directory, as written:
    `host_for` resolves it) and its file globs."""

    __slots__ = ("files", "snapshot")

    def __init__(self, snapshot: Path, files: tuple[str, ...]) -> None:
        self.snapshot = snapshot
        self.files = files


class PathCache:
    """``Path.resolve()`` and config-relative paths, remembered for one run.

    Path.resolve() walks the file system (an lstat per component); a lint run asks for
    the same files many times (exclusion, host mapping, every diagnostic's per-file-
    ignores). What is kept is per directory, not per file: the walk tells the cache each
    directory's resolved path and which of its entries are symlinks, and a file that is
    not one resolves to its resolved directory plus its name (a 10k-file fleet would
    otherwise keep a resolved path and a relative one for every file). One cache belongs
    to one run (the lint command's ConfigResolver hands its own to every configuration
    it loads); it is not pickled to worker processes."""

    def __init__(self) -> None:
        self._resolved: dict[Path, Path] = {}
        self._listed: dict[str, tuple[Path, frozenset[str]]] = {}
        """A walked directory, as its path string -> (its resolved path, the names of its
        symlinks). Keyed by string: a file's directory is found by splitting the file's
        own path string, not by making (and hashing) a Path of its parent."""
        self._relative: dict[tuple[Path, Path], str | None] = {}
        """(root, resolved directory) -> the directory relative to the root."""

    def resolve(self, path: Path) -> Path:
        found = self._resolved.get(path)
        if found is not None:
            return found
        directory, name = self.resolve_parts(path)
        return directory / name if name else directory

    def resolve_kept(self, path: Path) -> Path:
        """``resolve``, remembered: for a path many files share (a host snapshot), so
        they all hold one resolved path, not one each (10k files: 2.8 MB)."""
        found = self._resolved.get(path)
        if found is None:
            found = self._resolved[path] = self.resolve(path)
        return found

    def resolve_parts(self, path: Path) -> tuple[Path, str]:
        """``path.resolve()`` as (its directory, its name); a walked file's directory is
        the one object the walk remembered for all its files. ("", for the root.)"""
        text = os.fspath(path)
        head, _, name = text.rpartition("/")  # a Path's string has no trailing "/"
        listed = self._listed.get(head or ("/" if text[:1] == "/" else "."))
        if listed is not None and name and name not in listed[1]:
            return listed[0], sys.intern(name)  # the name the path itself holds
        found = self._resolved.get(path)
        if found is None:
            found = self._resolved[path] = path.resolve()
        parent = found.parent
        return (found, "") if parent == found else (parent, found.name)

    def resolve_child(self, directory: Path, name: str) -> tuple[Path, str]:
        """``resolve_parts(directory / name)`` of an entry a walk listed: no path is made
        for a file that is not a symlink, and its name is the listing's own string."""
        listed = self._listed.get(os.fspath(directory))
        if listed is not None and name not in listed[1]:
            return listed[0], name
        return self.resolve_parts(directory / name)

    def remember_listing(self, directory: Path, real: Path, links: frozenset[str]) -> None:
        """What a walk learnt of one directory: its resolved path, and which of its
        entries are symlinks (every other entry resolves to ``real`` / its name)."""
        self._resolved.setdefault(directory, real)
        self._listed.setdefault(os.fspath(directory), (real, links))

    def relative(self, root: Path, path: Path) -> str | None:
        """``path`` (resolved) relative to ``root`` (resolved), as a POSIX path; None
        outside it."""
        return self.relative_child(root, *self.resolve_parts(path))

    def relative_child(self, root: Path, directory: Path, name: str) -> str | None:
        """``relative`` of the path that resolves to (``directory``, ``name``), as
        ``resolve_parts`` gives them."""
        real_root = self.resolve(root)
        if not name:  # the file system's root
            return "." if directory == real_root else None
        key = (root, directory)
        if key in self._relative:
            base = self._relative[key]
        else:
            try:
                base = directory.relative_to(real_root).as_posix()
            except ValueError:
                base = None
            self._relative[key] = base
        if base is None:  # outside the root, or the root itself (its directory is outside)
            return "." if directory / name == real_root else None
        return name if base == "." else f"{base}/{name}"

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]


class LintConfig(Record):
    """One configuration file's settings (or the defaults): it compares by its settings,
    not by its path cache, and keeps its compiled host globs once built."""

    __slots__ = (
        "_directory_mappings",
        "_patterns",
        "exclude",
        "hosts",
        "ignore",
        "paths",
        "per_file_ignores",
        "root",
        "select",
        "severity",
        "source",
    )
    _uncompared = ("paths",)

    def __init__(
        self,
        source: Path | None,
        root: Path,
        select: tuple[str, ...] = (ALL_CODES,),
        ignore: tuple[str, ...] = (),
        severity: tuple[tuple[str, Severity], ...] = (),
        per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = (),
        hosts: tuple[HostMapping, ...] = (),
        exclude: tuple[str, ...] = (),
        paths: PathCache | None = None,
    ) -> None:
        self.source = source
        self.root = root
        self.select = select
        self.ignore = ignore
        self.severity = severity
        self.per_file_ignores = per_file_ignores
        self.hosts = hosts
        self.exclude = exclude
        self.paths = PathCache() if paths is None else paths
        self._patterns: _HostGlobs | None = None
        self._directory_mappings: dict[str, int | None] = {}

    def is_enabled(self, code: str, path: Path) -> bool:
        code = code.upper()
        if not _selected(code, self.select, self.ignore):
            return False
        if not self.per_file_ignores:
            return True
        matches = _path_matcher(self.relative(path))
        return not any(
            _has_prefix(code, prefixes) and matches(glob)
            for glob, prefixes in self.per_file_ignores
        )

    def severity_for(self, code: str, default: Severity) -> Severity:
        code = code.upper()
        matching = [(prefix, level) for prefix, level in self.severity if code.startswith(prefix)]
        return max(matching, key=lambda item: len(item[0]))[1] if matching else default

    def host_for(self, path: Path) -> Path | None:
        """The first mapping with a glob matching the file (or, for directory patterns and
        `**`, one of its directories)."""
        if not self.hosts:
            return None
        return self.host_for_child(*self.paths.resolve_parts(path))

    def host_for_child(self, directory: Path, name: str) -> Path | None:
        """``host_for`` of the file that resolves to (``directory``, ``name``): the
        mapping's snapshot, resolved, the same path object for every file on it."""
        if not self.hosts:
            return None
        relpath = self.paths.relative_child(self.root, directory, name)
        if relpath is None or relpath in ("", "."):
            return None
        first = self._host_globs.first(relpath, directory=False)
        for parent in _parent_directories(relpath):
            found = self._directory_mapping(parent)
            if found is not None and (first is None or found < first):
                first = found
        # resolved on first use, by the run's path cache (a fleet's snapshots share the
        # directory the walk listed): not all of them when the configuration is read
        return self.paths.resolve_kept(self.hosts[first].snapshot) if first is not None else None

    @property
    def _host_globs(self) -> _HostGlobs:
        if self._patterns is None:  # indexed once per configuration
            self._patterns = _HostGlobs(self.hosts)
        return self._patterns

    def _directory_mapping(self, directory: str) -> int | None:
        """The first mapping whose glob matches the directory: a fleet's files share a few
        directories, so each is matched once."""
        found = self._directory_mappings.get(directory, -1)
        if found == -1:
            found = self._host_globs.first(directory, directory=True)
            self._directory_mappings[directory] = found
        return found

    def is_excluded(self, path: Path) -> bool:
        if not self.exclude:
            return False
        return self.is_excluded_child(*self.paths.resolve_parts(path))

    def is_excluded_child(self, directory: Path, name: str) -> bool:
        """``is_excluded`` of the path that resolves to (``directory``, ``name``)."""
        if not self.exclude:
            return False
        matches = _path_matcher(self.paths.relative_child(self.root, directory, name))
        return any(matches(glob) for glob in self.exclude)

    def relative(self, path: Path) -> str | None:
        return self.paths.relative(self.root, path)


def default_config(cwd: Path, paths: PathCache | None = None) -> LintConfig:
    return LintConfig(source=None, root=cwd.resolve(), paths=paths or PathCache())


def discover_config(start: Path) -> Path | None:
    """The closest `vnuma.toml`, or `pyproject.toml` with `[tool.vnuma]`, at or above `start`."""
    start = start.resolve()
    if start.is_file():
        start = start.parent
    for directory in (start, *start.parents):
        found = config_in(directory)
        if found is not None:
            return found
    return None


def config_in(directory: Path) -> Path | None:
    """The configuration file of ``directory`` itself: its `vnuma.toml`, else its
    `pyproject.toml` when that has `[tool.vnuma]`."""
    candidate = directory / CONFIG_FILE
    if candidate.is_file():
        return candidate
    pyproject = directory / PYPROJECT
    if pyproject.is_file() and _has_vnuma_table(pyproject):
        return pyproject
    return None


def load_config(
    path: Path | None, *, cwd: Path, known_codes: Iterable[str], paths: PathCache | None = None
) -> LintConfig:
    """Raises ConfigError with every problem of the file, each at its line and column."""
    if path is None:
        return default_config(cwd, paths)
    path = path.resolve()
    text = _read_text(path)
    document = _parse_toml(text, path)
    in_pyproject = path.name == PYPROJECT
    ctx = _Context(
        path.parent,
        "tool.vnuma" if in_pyproject else "",
        ("tool", "vnuma") if in_pyproject else (),
        _normalised(known_codes),
        [],
    )
    table = _tool_table(document, ctx) if in_pyproject else document
    config = _build(table, ctx, path)
    if ctx.problems:
        raise ConfigError.of(path, ctx.located(text))
    return config if paths is None else config._replace(paths=paths)


def glob_match(pattern: str, relpath: str) -> bool:
    """Whether `relpath` (posix, relative to the config root) matches `pattern`."""
    regex, _ = _compile(pattern)
    return regex.fullmatch(relpath) is not None


class _Problem(Record):
    __slots__ = ("hint", "message", "on_key", "where")

    def __init__(self, message: str, where: JsonPath, hint: str | None, on_key: bool) -> None:
        self.message = message
        self.where = where
        self.hint = hint
        self.on_key = on_key


class _Context(Record):
    """What validation needs to name and place a key, and the problems found so far:
    validation goes on after a problem, so one run reports them all."""

    __slots__ = ("base", "known_codes", "prefix", "problems", "root")

    def __init__(
        self,
        root: Path,
        prefix: str,
        base: JsonPath,
        known_codes: tuple[str, ...],
        problems: list[_Problem],
    ) -> None:
        self.root = root
        self.prefix = prefix
        self.base = base
        self.known_codes = known_codes
        self.problems = problems

    def key(self, *parts: str | int) -> str:
        out = self.prefix
        for part in parts:
            if isinstance(part, int):
                out += f"[{part}]"
            else:
                name = part if _BARE_KEY.fullmatch(part) else f'"{part}"'
                out = f"{out}.{name}" if out else name
        return out

    def report(
        self, message: str, *at: str | int, hint: str | None = None, on_key: bool = False
    ) -> None:
        """A problem at the value (or, ``on_key``, the key) of the path ``at``."""
        self.problems.append(_Problem(message, (*self.base, *at), hint, on_key))

    def located(self, text: str) -> list[ConfigProblem]:
        from vnuma.load.toml_positions import toml_positions

        positions = toml_positions(text)
        found = [
            ConfigProblem(p.message, positions.locate(p.where, prefer_key=p.on_key), p.hint)
            for p in self.problems
        ]
        return sorted(found, key=lambda p: p.span.as_tuple() if p.span else (0, 0, 0, 0))


def _build(table: Mapping[str, Any], ctx: _Context, source: Path) -> LintConfig:
    _reject_unknown(table, KEYS, ctx)
    return LintConfig(
        source=source,
        root=ctx.root,
        select=_codes(table.get("select", [ALL_CODES]), ctx, "select"),
        ignore=_codes(table.get("ignore", []), ctx, "ignore"),
        severity=_severity(table.get("severity", {}), ctx),
        per_file_ignores=_per_file_ignores(table.get("per-file-ignores", {}), ctx),
        hosts=_hosts(table.get("hosts", []), ctx),
        exclude=_globs(table.get("exclude", []), ctx, "exclude"),
    )


def _read_text(path: Path) -> str:
    from vnuma.load.text import decode_utf8

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror or exc}", path) from None
    text, problem = decode_utf8(raw)
    if problem is not None:
        span = Span(problem.line, problem.column, problem.line, problem.column + 1)
        raise ConfigError.of(
            path, [ConfigProblem("config file is not UTF-8", span, "save it as UTF-8")]
        )
    return text


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    import tomllib

    from vnuma.load.intent import toml_error

    try:
        return tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError, or int() of thousands of digits
        message, span = toml_error(exc, text)
        raise ConfigError.of(path, [ConfigProblem(f"invalid TOML: {message}", span)]) from None


def _tool_table(document: Mapping[str, Any], ctx: _Context) -> Mapping[str, Any]:
    """The [tool.vnuma] table of a pyproject.toml; {} (and a problem) when it has none."""
    tool = document.get("tool", {})
    if not isinstance(tool, dict) or "vnuma" not in tool:
        if isinstance(document.get("vnuma"), dict):
            hint = "in pyproject.toml, write vnuma's settings under [tool.vnuma]"
            ctx.problems.append(_Problem("no [tool.vnuma] table", ("vnuma",), hint, True))
        else:
            ctx.problems.append(_Problem("no [tool.vnuma] table", (), None, False))
        return {}
    if not isinstance(tool["vnuma"], dict):
        ctx.report("tool.vnuma must be a table")
        return {}
    return tool["vnuma"]


def _has_vnuma_table(pyproject: Path) -> bool:
    """A broken file that mentions `tool.vnuma` counts, so loading reports the real error."""
    try:
        raw = pyproject.read_bytes()
    except OSError:
        return False
    if not _may_define_tool_vnuma(raw):
        # most projects' pyproject.toml, and one that names vnuma only as a project,
        # dependency or script: no need to parse it (tomllib costs ~5 ms of startup)
        return False
    import tomllib

    try:
        tool = tomllib.loads(raw.decode("utf-8")).get("tool")
    except ValueError:  # not UTF-8, not TOML, or int() of thousands of digits
        return re.search(_DOTTED_TOOL_VNUMA, raw) is not None
    return isinstance(tool, dict) and "vnuma" in tool


def _may_define_tool_vnuma(raw: bytes) -> bool:
    """False only when no TOML document with these bytes can have a tool.vnuma table."""
    if re.search(_ESCAPE, raw):
        return True
    if b"vnuma" not in raw:
        return False
    if re.search(_DOTTED_TOOL_VNUMA, raw) or re.search(_INLINE_TOOL, raw):
        return True
    return bool(re.search(_BARE_TOOL_HEADER, raw) and re.search(_VNUMA_KEY, raw))


def _reject_unknown(
    table: Mapping[str, Any], valid: tuple[str, ...], ctx: _Context, *at: str | int
) -> None:
    for name in table:
        if name in valid:
            continue
        if not at and not ctx.base and name == "tool" and _has_vnuma(table[name]):
            # ruff refuses [tool.ruff] in ruff.toml too; the fix is always the same
            hint = (
                f"in {CONFIG_FILE}, drop the [tool.vnuma] prefix: write the keys at the top level"
            )
            ctx.report("unknown key 'tool'", name, hint=hint, on_key=True)
            continue
        import difflib

        close = difflib.get_close_matches(name, valid, n=1)
        suggestion = f"; did you mean '{close[0]}'?" if close else ""
        message = f"unknown key '{ctx.key(*at, name)}'{suggestion} (valid keys: {', '.join(valid)})"
        ctx.report(message, *at, name, on_key=True)


def _has_vnuma(value: Any) -> bool:
    return isinstance(value, dict) and "vnuma" in value


def _strings(value: Any, ctx: _Context, *at: str | int) -> tuple[str, ...]:
    """``value`` if it is a list of strings; else () and a problem at the first wrong item."""
    if not isinstance(value, list):
        ctx.report(f"{ctx.key(*at)} must be a list of strings", *at)
        return ()
    wrong = [index for index, item in enumerate(value) if not isinstance(item, str)]
    if wrong:
        ctx.report(f"{ctx.key(*at)} must be a list of strings", *at, wrong[0])
        return ()
    return tuple(value)


def _globs(value: Any, ctx: _Context, *at: str | int) -> tuple[str, ...]:
    globs = (_glob(glob, ctx, at, (*at, i)) for i, glob in enumerate(_strings(value, ctx, *at)))
    return tuple(glob for glob in globs if glob is not None)


def _glob(
    glob: str, ctx: _Context, key: tuple[str | int, ...], at: JsonPath, on_key: bool = False
) -> str | None:
    """``glob`` if it compiles; ``key`` names the setting, ``at`` is where the glob is."""
    if not glob.strip("/"):
        ctx.report(f"{ctx.key(*key)} must not contain empty patterns", *at, on_key=on_key)
        return None
    try:
        _compile(glob)
    except re.error as exc:
        message = f"{ctx.key(*key)}: invalid glob {glob!r}: {exc}"
        ctx.report(message, *at, on_key=on_key)
        return None
    return glob


def _codes(value: Any, ctx: _Context, *at: str) -> tuple[str, ...]:
    codes = (_code(item, ctx, at, (*at, i)) for i, item in enumerate(_strings(value, ctx, *at)))
    return tuple(code for code in codes if code is not None)


def _code(
    value: str, ctx: _Context, key: tuple[str, ...], at: JsonPath, on_key: bool = False
) -> str | None:
    code = value.upper()
    code = ALL_CODES if code == "ALL" else code
    if code != ALL_CODES and not any(known.startswith(code) for known in ctx.known_codes):
        message = f"unknown rule code or prefix '{value}' in {ctx.key(*key)}"
        ctx.report(message, *at, hint="`vnuma rules` lists the codes", on_key=on_key)
        return None
    return code


def _severity(value: Any, ctx: _Context) -> tuple[tuple[str, Severity], ...]:
    if not isinstance(value, dict):
        ctx.report(f"{ctx.key('severity')} must be a table of rule code = severity", "severity")
        return ()
    levels: dict[str, Severity] = {}
    for name, level in value.items():
        code = _code(name, ctx, ("severity",), ("severity", name), on_key=True)
        if not isinstance(level, str) or level not in SEVERITIES:
            choices = ", ".join(f"'{label}'" for label in SEVERITIES)
            message = f"{ctx.key('severity', name)} must be one of {choices}, not {level!r}"
            ctx.report(message, "severity", name)
        elif code is not None:
            levels[code] = SEVERITIES[level]
    return tuple(levels.items())


def _per_file_ignores(value: Any, ctx: _Context) -> tuple[tuple[str, tuple[str, ...]], ...]:
    key = "per-file-ignores"
    if not isinstance(value, dict):
        ctx.report(f"{ctx.key(key)} must be a table of glob = list of rule codes", key)
        return ()
    found = []
    for glob, codes in value.items():
        checked = _glob(glob, ctx, (key,), (key, glob), on_key=True)
        selected = _codes(codes, ctx, key, glob)
        if checked is not None:
            found.append((checked, selected))
    return tuple(found)


def _hosts(value: Any, ctx: _Context) -> tuple[HostMapping, ...]:
    if not isinstance(value, list):
        ctx.report(f"{ctx.key('hosts')} must be an array of tables", "hosts")
        return ()
    hosts = (_host(entry, ctx, index) for index, entry in enumerate(value))
    return tuple(host for host in hosts if host is not None)


def _host(entry: Any, ctx: _Context, index: int) -> HostMapping | None:
    at = ("hosts", index)
    if not isinstance(entry, dict):
        ctx.report(f"{ctx.key(*at)} must be a table", *at)
        return None
    _reject_unknown(entry, HOST_KEYS, ctx, *at)
    for name in HOST_KEYS:
        if name not in entry:
            ctx.report(f"{ctx.key(*at, name)} is required", *at)
    snapshot = entry.get("snapshot")
    if "snapshot" in entry and (not isinstance(snapshot, str) or not snapshot):
        ctx.report(f"{ctx.key(*at, 'snapshot')} must be a non-empty string", *at, "snapshot")
        snapshot = None
    files = _globs(entry["files"], ctx, *at, "files") if "files" in entry else ()
    if "files" in entry and not files and entry["files"] == []:
        message = f"{ctx.key(*at, 'files')} must be a non-empty list of strings"
        ctx.report(message, *at, "files")
    if not isinstance(snapshot, str) or not files:
        return None
    return HostMapping(snapshot=ctx.root / snapshot, files=files)


def _normalised(codes: Iterable[str]) -> tuple[str, ...]:
    return tuple(code.upper() for code in codes)


def _has_prefix(code: str, prefixes: Iterable[str]) -> bool:
    return any(code.startswith(prefix) for prefix in prefixes)


def _selected(code: str, select: tuple[str, ...], ignore: tuple[str, ...]) -> bool:
    """Ruff's rule: the longest matching prefix decides, `ignore` winning a tie."""
    best_select = max((len(p) for p in select if code.startswith(p)), default=-1)
    best_ignore = max((len(p) for p in ignore if code.startswith(p)), default=-1)
    return best_select > best_ignore


class _HostGlobs:
    """Every [[hosts]] glob in order, indexed by the literal directories it starts with:
    a path is tried only against the globs that can match it (a fleet's file against its
    own host's glob). One alternation of every glob cost 21 µs a file at 238 hosts,
    since Python's regex engine tries the branches one by one."""

    __slots__ = ("_by_prefix", "_rules")

    def __init__(self, hosts: tuple[HostMapping, ...]) -> None:
        self._rules: list[tuple[int, re.Pattern[str], bool]] = []
        """(mapping index, regex, directory only) of each glob, in order."""
        self._by_prefix: dict[tuple[str, ...], list[int]] = {}
        for index, mapping in enumerate(hosts):
            for glob in mapping.files:
                regex, dir_only = _compile(glob)
                self._by_prefix.setdefault(_literal_prefix(glob), []).append(len(self._rules))
                self._rules.append((index, regex, dir_only))

    def first(self, relpath: str, *, directory: bool) -> int | None:
        """The first mapping with a glob that matches ``relpath`` (a normalised relative
        posix path), a directory when ``directory`` (then directory patterns count)."""
        parts = tuple(relpath.split("/"))
        numbers: list[int] = []
        for depth in range(len(parts) + 1):
            numbers.extend(self._by_prefix.get(parts[:depth], ()))
        numbers.sort()
        for number in numbers:
            index, regex, dir_only = self._rules[number]
            if (directory or not dir_only) and regex.fullmatch(relpath):
                return index
        return None


def _literal_prefix(glob: str) -> tuple[str, ...]:
    """The segments a path must start with for ``glob`` to match it: its leading
    segments without wildcards or escapes; none for a glob that matches at any depth."""
    if "/" not in glob.rstrip("/"):
        return ()
    prefix: list[str] = []
    for segment in glob.split("/"):
        if not segment:
            continue
        if any(char in segment for char in "*?[\\"):
            break
        prefix.append(segment)
    return tuple(prefix)


def _parent_directories(relpath: str) -> Iterable[str]:
    """``PurePosixPath(relpath).parents`` without ".", for a normalised relative posix path."""
    end = relpath.rfind("/")
    while end > 0:
        yield relpath[:end]
        end = relpath.rfind("/", 0, end)


def _path_matcher(relpath: str | None) -> Callable[[str], bool]:
    """Match a glob against a file and, for directory patterns, its parent directories."""
    if relpath is None or relpath in ("", "."):
        return lambda _glob: False
    parents = list(_parent_directories(relpath))

    def matches(glob: str) -> bool:
        regex, dir_only = _compile(glob)
        if not dir_only and regex.fullmatch(relpath):
            return True
        return any(regex.fullmatch(parent) for parent in parents)

    return matches


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> tuple[re.Pattern[str], bool]:
    """Translate a glob to a regex for `fullmatch`; the flag marks a directory-only pattern."""
    segments = [segment for segment in pattern.split("/") if segment]
    regex = "" if "/" in pattern.rstrip("/") else _ANY_DIRS
    separator = ""
    for index, segment in enumerate(segments):
        if segment != "**":
            regex += separator + _translate_segment(segment)
            separator = "/"
        elif index == len(segments) - 1:
            regex += separator + ".+"
        else:
            regex += separator + _ANY_DIRS
            separator = ""
    return re.compile(regex), pattern.endswith("/")


def _translate_segment(segment: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(segment):
        char = segment[index]
        index += 1
        if char == "*":
            while index < len(segment) and segment[index] == "*":
                index += 1
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            translated, index = _translate_class(segment, index)
            out.append(translated)
        elif char == "\\" and index < len(segment):
            out.append(re.escape(segment[index]))
            index += 1
        else:
            out.append(re.escape(char))
    return "".join(out)


def _translate_class(segment: str, start: int) -> tuple[str, int]:
    """A `[...]` class starting after `[`; an unterminated one is a literal `[`."""
    index = start
    negated = index < len(segment) and segment[index] in "!^"
    if negated:
        index += 1
    end = segment.find("]", index + 1 if index < len(segment) and segment[index] == "]" else index)
    if end < 0:
        return re.escape("["), start
    body = _class_body(segment[start + negated : end])
    return (f"[^/{body}]" if negated else f"(?!/)[{body}]"), end + 1


def _class_body(members: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(members):
        if index + 2 < len(members) and members[index + 1] == "-":
            out.append(f"{re.escape(members[index])}-{re.escape(members[index + 2])}")
            index += 3
        else:
            out.append(re.escape(members[index]))
            index += 1
    return "".join(out)
