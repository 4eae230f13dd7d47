"""Discovery: the guest files under the paths given, the configuration of each, and the
files a configuration's [[hosts]] mappings put on one host.

Hidden files and directories, SKIPPED_DIRECTORIES and the configuration's `exclude` are
not walked into; only .yaml/.yml/.toml/.xml files are candidates (whether one is a guest
at all is the loader's question).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from vnuma.load.text import UnreadableInput
from vnuma.report.config import ConfigError, LintConfig, PathCache

INTENT_SUFFIXES = (".yaml", ".yml", ".toml")
DOMAIN_SUFFIXES = (".xml",)
SKIPPED_DIRECTORIES = frozenset({"node_modules", "__pycache__", "venv"})
# Configuration files are never intents; hidden files and directories are not walked into.
CONFIG_FILES = frozenset({"pyproject.toml", "vnuma.toml"})


class ConfigResolver:
    """The configuration that applies to a file: explicit, else the closest (ruff semantics)."""

    def __init__(self, explicit: LintConfig | None, paths: PathCache | None = None) -> None:
        self.paths = paths or (explicit.paths if explicit is not None else PathCache())
        self.explicit = explicit
        self._by_file: dict[Path, LintConfig] = {}
        self._by_dir: dict[Path, LintConfig] = {}

    def for_path(self, path: Path) -> LintConfig:
        if self.explicit is not None:
            return self.explicit
        real = self.paths.resolve(path)
        return self.for_directory(real if path.is_dir() else real.parent)

    def for_file(self, path: Path) -> LintConfig:
        """`for_path` of a path known to be a file (no stat)."""
        if self.explicit is not None:
            return self.explicit
        return self.for_directory(self.paths.resolve_parts(path)[0])

    def for_directory(self, directory: Path) -> LintConfig:
        """The configuration of a resolved directory (and of the files in it): that of
        the closest directory at or above it with a configuration file."""
        if self.explicit is not None:
            return self.explicit
        known = self._by_dir.get(directory)
        if known is not None:
            return known
        from vnuma.report.config import config_in, default_config

        # Up to the first directory already known or holding a file: a fleet's folders
        # share their parents, so each directory is looked at once (two stats, no resolve).
        unknown = []
        config = None
        while config is None:
            unknown.append(directory)
            source = config_in(directory)
            if source is not None:
                config = self._loaded(source)
            elif directory.parent == directory:
                config = default_config(Path.cwd(), self.paths)
            else:
                directory = directory.parent
                config = self._by_dir.get(directory)
        for seen in unknown:
            self._by_dir[seen] = config
        return config

    def _loaded(self, source: Path) -> LintConfig:
        from vnuma import codes
        from vnuma.report.config import load_config

        if source not in self._by_file:
            known = [entry.code for entry in codes.ALL]
            self._by_file[source] = load_config(
                source, cwd=Path.cwd(), known_codes=known, paths=self.paths
            )
        return self._by_file[source]


GIVEN, DIRECTORY, FILE = "given", "directory", "file"
Unit = tuple[Path, str]
"""A part of the walk: a path given on the command line (GIVEN), a directory to walk
whole, or a candidate file."""
Found = tuple[Path, str]
"""A candidate file as (its directory, as walked or given; its name): a fleet's files
share their directory's path object and make no path of their own."""

_SPLIT_LEVELS = 3  # directory levels split_walk opens at most


def child_path(directory: Path, name: str) -> Path:
    """``directory / name``, made from their joined string: pathlib interns the parts it
    is given, and the names a fleet's report keeps must not all stay in the
    interpreter's table of interned strings (10k files: a 1 MB table)."""
    return Path(os.path.join(directory, name))


def discover(
    paths: tuple[Path, ...], configs: ConfigResolver, *, force_exclude: bool = False
) -> Iterator[Found]:
    """The candidate files, as the walk finds them: given files as they are, given
    directories walked (sorted), each file once. Raises UnreadableInput for a path that
    does not exist, when the walk reaches it."""
    if len(paths) == 1:  # one walk finds a path once: nothing to remember
        yield from walk_unit((paths[0], GIVEN), configs, force_exclude=force_exclude)
        return
    seen: set[Found] = set()
    for given in paths:
        for file in walk_unit((given, GIVEN), configs, force_exclude=force_exclude):
            if file not in seen:
                seen.add(file)
                yield file


def walk_unit(
    unit: Unit, configs: ConfigResolver, *, force_exclude: bool = False
) -> Iterator[Found]:
    """The candidate files of one part of the walk, in walk order."""
    path, kind = unit
    if kind == DIRECTORY or (kind == GIVEN and path.is_dir()):
        yield from _walk(path, configs)
    elif kind == FILE:
        yield path.parent, path.name
    elif path.exists():
        if not (force_exclude and configs.for_path(path).is_excluded(path)):
            yield path.parent, path.name
    else:
        raise UnreadableInput(f"{path}: no such file or directory")


def split_walk(paths: tuple[Path, ...], configs: ConfigResolver, *, wanted: int) -> list[Unit]:
    """The walk of ``discover`` cut into parts (for -j workers), in walk order: directories
    are opened level by level, as the walk opens them, until ``wanted`` of the parts are
    directories. Walking the parts in order finds what ``discover`` finds (before it
    drops a file found twice)."""
    units = [(path, GIVEN) for path in paths]
    for _ in range(_SPLIT_LEVELS):
        if sum(kind != FILE for _, kind in units) >= wanted:
            break
        opened = [part for unit in units for part in _opened(unit, configs)]
        if opened == units:
            break
        units = opened
    return units


def _opened(unit: Unit, configs: ConfigResolver) -> list[Unit]:
    path, kind = unit
    if kind == FILE or (kind == GIVEN and not path.is_dir()):
        return [unit]
    try:
        return [
            (path / name, DIRECTORY if is_dir else FILE) for name, is_dir in _listing(path, configs)
        ]
    except (UnreadableInput, ConfigError):
        return [unit]  # walked whole, so that the error comes where the walk meets it


def _walk(directory: Path, configs: ConfigResolver) -> Iterator[Found]:
    for name, is_dir in _listing(directory, configs):
        if is_dir:
            yield from _walk(directory / name, configs)
        else:
            yield directory, name


def _listing(directory: Path, configs: ConfigResolver) -> Iterator[tuple[str, bool]]:
    """(name, is a directory) of each entry of one directory that the walk takes."""
    # os.scandir: the entry types come with the listing, and a file that is not a symlink
    # resolves to its resolved directory plus its name, so large trees cost no stat or
    # realpath per file (a 10k-file fleet spent a third of a second here), and no path.
    try:
        with os.scandir(directory) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError as exc:
        raise UnreadableInput(f"{directory}: {exc.strerror or exc}") from exc
    real_directory = configs.paths.resolve(directory)
    here = configs.for_directory(real_directory)
    kinds = []
    for entry in entries:
        try:
            kinds.append((entry.name, entry.is_symlink(), entry.is_dir()))
        except OSError:
            continue  # vanished or unreadable while walking: as if it were not there
    links = frozenset(name for name, is_link, _ in kinds if is_link)
    configs.paths.remember_listing(directory, real_directory, links)
    for name, is_link, is_dir in kinds:
        if is_dir:
            path = directory / name
            if configs.for_directory(configs.paths.resolve(path)).is_excluded(path):
                continue
            if not name.startswith(".") and name not in SKIPPED_DIRECTORIES:
                yield name, True
            continue
        if is_link:
            path = directory / name
            if configs.for_file(path).is_excluded(path):
                continue
        elif here.is_excluded_child(real_directory, name):
            continue
        if _is_candidate(name):
            yield name, False


def _is_candidate(name: str) -> bool:
    if name.startswith(".") or name in CONFIG_FILES:
        return False
    return os.path.splitext(name)[1].lower() in INTENT_SUFFIXES + DOMAIN_SUFFIXES


def mapped_under(
    config: LintConfig, configs: ConfigResolver
) -> Iterator[tuple[Found, tuple[Path, str], Path]]:
    """(file, its resolved directory and name, resolved snapshot) of every guest file
    under the configuration's root that its closest configuration maps to a host."""
    for directory, name in _walk(config.root, configs):
        real = configs.paths.resolve_child(directory, name)
        mapped = configs.for_directory(real[0]).host_for_child(*real)
        if mapped is not None:
            yield (directory, name), real, mapped


def mapped_files(config: LintConfig, snapshot: Path) -> list[tuple[Path, Path]]:
    """Every guest file under ``config``'s root that is mapped to the (resolved) snapshot:
    the guests `vnuma compile` seats an intent beside, as `vnuma lint` does."""
    configs = ConfigResolver(None, config.paths)
    return [
        (child_path(*found), real_directory / real_name)
        for found, (real_directory, real_name), host in mapped_under(config, configs)
        if host == snapshot
    ]
