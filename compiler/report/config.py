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

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from vnuma.diagnostics import Severity

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


class ConfigError(Exception):
    """An unreadable, malformed or invalid configuration file."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path is not None else self.message


@dataclass(frozen=True)
class HostMapping:
    snapshot: Path
    files: tuple[str, ...]


class PathCache:
    """``Path.resolve()`` and config-relative paths, remembered for one run.

    Path.resolve() walks the file system (an lstat per component); a lint run asks for
    the same files many times (exclusion, host mapping, every diagnostic's per-file-
    ignores). One cache belongs to one run (the lint command's ConfigResolver hands its
    own to every configuration it loads); it is not pickled to worker processes."""

    def __init__(self) -> None:
        self._resolved: dict[Path, Path] = {}
        self._relative: dict[tuple[Path, Path], str | None] = {}

    def resolve(self, path: Path) -> Path:
        found = self._resolved.get(path)
        if found is None:
            found = self._resolved[path] = path.resolve()
        return found

    def remember(self, path: Path, real: Path) -> None:
        """What ``path.resolve()`` is, when the caller knows it without asking the system."""
        self._resolved.setdefault(path, real)

    def relative(self, root: Path, path: Path) -> str | None:
        key = (root, path)
        if key not in self._relative:
            try:
                found: str | None = self.resolve(path).relative_to(self.resolve(root)).as_posix()
            except ValueError:
                found = None
            self._relative[key] = found
        return self._relative[key]

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]


@dataclass(frozen=True)
class LintConfig:
    source: Path | None
    root: Path
    select: tuple[str, ...] = (ALL_CODES,)
    ignore: tuple[str, ...] = ()
    severity: tuple[tuple[str, Severity], ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    hosts: tuple[HostMapping, ...] = ()
    exclude: tuple[str, ...] = ()
    paths: PathCache = field(default_factory=PathCache, compare=False, repr=False)

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
        relpath = self.relative(path)
        if relpath is None or relpath in ("", "."):
            return None
        for_file, _ = self._host_patterns
        first = _first_mapping(for_file, relpath)
        for parent in _parent_directories(relpath):
            found = self._directory_mapping(parent)
            if found is not None and (first is None or found < first):
                first = found
        return self.hosts[first].snapshot if first is not None else None

    @cached_property
    def _host_patterns(self) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
        return _host_patterns(self.hosts)  # compiled once per configuration

    @cached_property
    def _directory_mappings(self) -> dict[str, int | None]:
        return {}

    def _directory_mapping(self, directory: str) -> int | None:
        """The first mapping whose glob matches the directory: a fleet's files share a few
        directories, so each is matched against the alternation of every glob once."""
        found = self._directory_mappings.get(directory, -1)
        if found == -1:
            found = _first_mapping(self._host_patterns[1], directory)
            self._directory_mappings[directory] = found
        return found

    def is_excluded(self, path: Path) -> bool:
        if not self.exclude:
            return False
        matches = _path_matcher(self.relative(path))
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
    if path is None:
        return default_config(cwd, paths)
    path = path.resolve()
    document = _read_toml(path)
    if path.name == PYPROJECT:
        table, prefix = _tool_table(document, path), "tool.vnuma"
    else:
        table, prefix = document, ""
    try:
        config = _build(table, _Context(path.parent, prefix, _normalised(known_codes)), path)
    except _Invalid as exc:
        raise ConfigError(str(exc), path) from None
    return config if paths is None else replace(config, paths=paths)


def glob_match(pattern: str, relpath: str) -> bool:
    """Whether `relpath` (posix, relative to the config root) matches `pattern`."""
    regex, _ = _compile(pattern)
    return regex.fullmatch(relpath) is not None


class _Invalid(Exception):
    pass


@dataclass(frozen=True)
class _Context:
    root: Path
    prefix: str
    known_codes: tuple[str, ...]

    def key(self, *parts: str | int) -> str:
        out = self.prefix
        for part in parts:
            if isinstance(part, int):
                out += f"[{part}]"
            else:
                name = part if _BARE_KEY.fullmatch(part) else f'"{part}"'
                out = f"{out}.{name}" if out else name
        return out


def _build(table: Mapping[str, Any], ctx: _Context, source: Path) -> LintConfig:
    _reject_unknown(table, KEYS, ctx.key)
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


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror or exc}", path) from None
    import tomllib

    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file is not UTF-8: {exc}", path) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path) from None


def _tool_table(document: Mapping[str, Any], path: Path) -> Mapping[str, Any]:
    tool = document.get("tool", {})
    if not isinstance(tool, dict) or "vnuma" not in tool:
        raise ConfigError("no [tool.vnuma] table", path)
    if not isinstance(tool["vnuma"], dict):
        raise ConfigError("tool.vnuma must be a table", path)
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
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
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
    table: Mapping[str, Any], valid: tuple[str, ...], key: Callable[..., str]
) -> None:
    for name in table:
        if name in valid:
            continue
        import difflib

        close = difflib.get_close_matches(name, valid, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise _Invalid(f"unknown key '{key(name)}'{hint} (valid keys: {', '.join(valid)})")


def _strings(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Invalid(f"{key} must be a list of strings")
    return tuple(value)


def _globs(value: Any, ctx: _Context, *parts: str | int) -> tuple[str, ...]:
    key = ctx.key(*parts)
    return tuple(_glob(glob, key) for glob in _strings(value, key))


def _glob(glob: str, key: str) -> str:
    if not glob.strip("/"):
        raise _Invalid(f"{key} must not contain empty patterns")
    try:
        _compile(glob)
    except re.error as exc:
        raise _Invalid(f"{key}: invalid glob {glob!r}: {exc}") from None
    return glob


def _codes(value: Any, ctx: _Context, *parts: str) -> tuple[str, ...]:
    return tuple(_code(item, ctx, *parts) for item in _strings(value, ctx.key(*parts)))


def _code(value: str, ctx: _Context, *parts: str) -> str:
    code = value.upper()
    code = ALL_CODES if code == "ALL" else code
    if code != ALL_CODES and not any(known.startswith(code) for known in ctx.known_codes):
        raise _Invalid(f"unknown rule code or prefix '{value}' in {ctx.key(*parts)}")
    return code


def _severity(value: Any, ctx: _Context) -> tuple[tuple[str, Severity], ...]:
    if not isinstance(value, dict):
        raise _Invalid(f"{ctx.key('severity')} must be a table of rule code = severity")
    levels: dict[str, Severity] = {}
    for name, level in value.items():
        if not isinstance(level, str) or level not in SEVERITIES:
            choices = ", ".join(f"'{label}'" for label in SEVERITIES)
            raise _Invalid(f"{ctx.key('severity', name)} must be one of {choices}, not {level!r}")
        levels[_code(name, ctx, "severity")] = SEVERITIES[level]
    return tuple(levels.items())


def _per_file_ignores(value: Any, ctx: _Context) -> tuple[tuple[str, tuple[str, ...]], ...]:
    key = "per-file-ignores"
    if not isinstance(value, dict):
        raise _Invalid(f"{ctx.key(key)} must be a table of glob = list of rule codes")
    return tuple(
        (_glob(glob, ctx.key(key)), _codes(codes, ctx, key, glob)) for glob, codes in value.items()
    )


def _hosts(value: Any, ctx: _Context) -> tuple[HostMapping, ...]:
    if not isinstance(value, list):
        raise _Invalid(f"{ctx.key('hosts')} must be an array of tables")
    return tuple(_host(entry, ctx, index) for index, entry in enumerate(value))


def _host(entry: Any, ctx: _Context, index: int) -> HostMapping:
    if not isinstance(entry, dict):
        raise _Invalid(f"{ctx.key('hosts', index)} must be a table")
    _reject_unknown(entry, HOST_KEYS, lambda name: ctx.key("hosts", index, name))
    for name in HOST_KEYS:
        if name not in entry:
            raise _Invalid(f"{ctx.key('hosts', index, name)} is required")
    snapshot = entry["snapshot"]
    if not isinstance(snapshot, str) or not snapshot:
        raise _Invalid(f"{ctx.key('hosts', index, 'snapshot')} must be a non-empty string")
    files = _globs(entry["files"], ctx, "hosts", index, "files")
    if not files:
        raise _Invalid(f"{ctx.key('hosts', index, 'files')} must be a non-empty list of strings")
    return HostMapping(snapshot=(ctx.root / snapshot).resolve(), files=files)


def _normalised(codes: Iterable[str]) -> tuple[str, ...]:
    return tuple(code.upper() for code in codes)


def _has_prefix(code: str, prefixes: Iterable[str]) -> bool:
    return any(code.startswith(prefix) for prefix in prefixes)


def _selected(code: str, select: tuple[str, ...], ignore: tuple[str, ...]) -> bool:
    """Ruff's rule: the longest matching prefix decides, `ignore` winning a tie."""
    best_select = max((len(p) for p in select if code.startswith(p)), default=-1)
    best_ignore = max((len(p) for p in ignore if code.startswith(p)), default=-1)
    return best_select > best_ignore


def _host_patterns(
    hosts: tuple[HostMapping, ...],
) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """All mappings' globs as one alternation each for files and for directories, so a
    fleet with hundreds of hosts costs one regex match per path, not hundreds. Python's
    alternation tries branches in order, so the first branch that matches names the
    first mapping; `h<mapping>_<n>` groups say which (the globs have no groups)."""
    for_file: list[str] = []
    for_directory: list[str] = []
    for index, mapping in enumerate(hosts):
        for glob in mapping.files:
            regex, dir_only = _compile(glob)
            if not dir_only:
                for_file.append(f"(?P<h{index}_{len(for_file)}>{regex.pattern})")
            for_directory.append(f"(?P<h{index}_{len(for_directory)}>{regex.pattern})")
    return (
        re.compile("|".join(for_file)) if for_file else None,
        re.compile("|".join(for_directory)) if for_directory else None,
    )


def _parent_directories(relpath: str) -> Iterable[str]:
    """``PurePosixPath(relpath).parents`` without ".", for a normalised relative posix path."""
    end = relpath.rfind("/")
    while end > 0:
        yield relpath[:end]
        end = relpath.rfind("/", 0, end)


def _first_mapping(pattern: re.Pattern[str] | None, text: str) -> int | None:
    found = pattern.fullmatch(text) if pattern is not None else None
    if found is None or found.lastgroup is None:
        return None
    return int(found.lastgroup[1:].split("_", 1)[0])


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
