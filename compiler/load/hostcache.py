"""An on-disk cache of parsed host snapshots, so that a pre-commit run does not parse XML.

A snapshot rarely changes between runs, and reading it costs lxml's import and a parse; a
cache hit costs reading the file, hashing it and loading a small JSON document. Each
entry is the parsed HostTopology and the diagnostics the snapshot loader reported, and a
hit gives exactly what a miss gives (the display path is the current run's, not the one
the entry was written with).

Trust: the directory is ``$XDG_CACHE_HOME/vnuma`` (default ``~/.cache/vnuma``), created
0700; an entry is named by the sha256 of the snapshot's bytes, vnuma's version and this
format's version, is JSON (nothing runs on load), is written to a temporary file in the
same directory then renamed (concurrent writers each rename a whole entry), and is used
only when it is a regular file the user owns, in a directory the user owns, and every
field checks out. Anything else is a miss, rewritten; a cache that cannot be written is
no cache. ``VNUMA_NO_CACHE`` set (non-empty) or ``--no-cache`` turns it off.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path

from vnuma import __version__
from vnuma.diagnostics import Diagnostic, Severity, Span
from vnuma.load.text import read_bytes
from vnuma.model.host import (
    HostCell,
    HostCPU,
    HostTopology,
    PagePool,
    distance_twins,
    group_cores,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing when vnuma starts
if TYPE_CHECKING:
    from hashlib import sha256
    from typing import Any, TypeVar

    _T = TypeVar("_T")
else:
    # CPython's built-in sha256 imports in ~0.5 ms; hashlib loads OpenSSL first, ~5 ms
    # (a pre-commit run's budget is tens of ms). Same digest either way.
    try:
        from _sha256 import sha256  # CPython 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # CPython 3.12+
        except ImportError:  # other interpreters
            from hashlib import sha256

FORMAT_VERSION = 1
"""Bumped whenever an entry's layout or the meaning of a field changes."""
NO_CACHE_VARIABLE = "VNUMA_NO_CACHE"
MAX_ENTRY_BYTES = 64 * 1024 * 1024
"""Larger entries are neither written nor read (a snapshot is at most 16 MiB by default)."""

Loaded = tuple[HostTopology | None, list[Diagnostic]]


def cache_directory(environ: Mapping[str, str]) -> Path | None:
    """Where entries live, or None when the cache is off (VNUMA_NO_CACHE) or there is no
    home to put it in. A relative XDG_CACHE_HOME is ignored, as the XDG spec asks."""
    if environ.get(NO_CACHE_VARIABLE):
        return None
    base = environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        home = environ.get("HOME", "")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "vnuma"


def entry_key(data: bytes, version: str = __version__) -> str:
    """The entry's name: what the parse depends on, the bytes and the code that parses."""
    digest = sha256(f"vnuma-host-cache {FORMAT_VERSION} {version}\n".encode())
    digest.update(data)
    key: str = digest.hexdigest()
    return key


def load_snapshot(path: Path, shown: str, use_cache: bool = True) -> Loaded:
    """`load_host(path, shown)`, through the cache unless ``use_cache`` is False or the
    environment turns it off. Raises UnreadableInput when the file cannot be read."""
    data = read_bytes(path)
    directory = cache_directory(os.environ) if use_cache else None
    if directory is None:
        return _parse(data, shown)
    key = entry_key(data)
    found = read_entry(directory / f"{key}.json", key, shown)
    if found is not None:
        return found
    loaded = _parse(data, shown)
    write_entry(directory, key, loaded, shown)
    return loaded


def _parse(data: bytes, shown: str) -> Loaded:
    from vnuma.libvirt.capabilities import load_host_bytes

    return load_host_bytes(data, shown)


# --- reading ---------------------------------------------------------------------------


class _Invalid(Exception):
    """The entry is not one this version wrote: a miss."""


def read_entry(entry: Path, key: str, shown: str) -> Loaded | None:
    """The entry's host and diagnostics, shown as ``shown``; None for a miss (absent,
    unreadable, not ours, not a regular file, too large, or not a valid entry)."""
    raw = _read_owned(entry)
    if raw is None:
        return None
    try:
        document = json.loads(raw)
        return _decode_entry(document, key, shown)
    except (ValueError, _Invalid, RecursionError):  # JSON errors are ValueErrors
        return None


def _read_owned(entry: Path) -> bytes | None:
    try:
        if not _owned_directory(entry.parent):
            return None
        fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            status = os.fstat(handle.fileno())
            if not stat.S_ISREG(status.st_mode) or status.st_uid != os.getuid():
                return None
            if status.st_size > MAX_ENTRY_BYTES:
                return None
            # its size (+1 to see it end), not the limit: read(n) allocates n bytes
            data = handle.read(status.st_size + 1)
            return data if len(data) <= status.st_size else None
    except OSError:
        return None


def _owned_directory(directory: Path) -> bool:
    status = os.lstat(directory)
    return stat.S_ISDIR(status.st_mode) and status.st_uid == os.getuid()


def _decode_entry(document: Any, key: str, shown: str) -> Loaded:
    entry = _mapping(document, ("format", "vnuma", "key", "host", "diagnostics"))
    if entry["format"] != FORMAT_VERSION or entry["vnuma"] != __version__:
        raise _Invalid("another version's entry")
    if entry["key"] != key:
        raise _Invalid("an entry under another name")
    host = _optional(entry["host"], lambda raw: _decode_host(raw, shown))
    diagnostics = [_decode_diagnostic(raw, shown) for raw in _list(entry["diagnostics"])]
    return host, diagnostics


def _decode_host(raw: Any, shown: str) -> HostTopology:
    fields = _mapping(raw, _HOST_FIELDS)
    cells = tuple(_decode_cell(cell) for cell in _list(fields["cells"]))
    return HostTopology(
        source=shown,
        arch=_optional(fields["arch"], _str),
        cells=cells,
        page_sizes_kib=tuple(_uint(size) for size in _list(fields["page_sizes_kib"])),
        sockets=_optional(fields["sockets"], _uint),
        dies=_optional(fields["dies"], _uint),
        clusters=_optional(fields["clusters"], _uint),
        cores_per_socket=_optional(fields["cores_per_socket"], _uint),
        threads_per_core=_optional(fields["threads_per_core"], _uint),
        captured_at=_optional(fields["captured_at"], _str),
        captured_from=_optional(fields["captured_from"], _str),
        twins=distance_twins(cells),
    )


_HOST_FIELDS = tuple(name for name in HostTopology._public if name not in ("source", "twins"))
"""`twins` is derived from the cells' distances: recomputed on load, as the loaders do."""


_CELL_FIELDS = tuple(name for name in HostCell._public if name != "core_groups")
"""`core_groups` is derived from the CPUs: recomputed on load, as the loaders compute it."""


def _decode_cell(raw: Any) -> HostCell:
    fields = _mapping(raw, _CELL_FIELDS)
    siblings_of: dict[tuple[int, ...], frozenset[int]] = {}
    cpus = tuple(_decode_cpu(cpu, siblings_of) for cpu in _list(fields["cpus"]))
    return HostCell(
        id=_uint(fields["id"]),
        memory_kib=_optional(fields["memory_kib"], _uint),
        distances={_uint(node): _uint(value) for node, value in _pairs(fields["distances"])},
        pages=tuple(_decode_pool(pool) for pool in _list(fields["pages"])),
        cpus=cpus,
        free_memory_kib=_optional(fields["free_memory_kib"], _uint),
        span=_optional(fields["span"], _span),
        core_groups=group_cores(cpus),
    )


def _decode_pool(raw: Any) -> PagePool:
    size, count, free = _row(raw, 3)
    return PagePool(size_kib=_uint(size), count=_uint(count), free=_optional(free, _uint))


def _decode_cpu(raw: Any, siblings_of: dict[tuple[int, ...], frozenset[int]]) -> HostCPU:
    # a row, not an object: CPUs are most of an entry, so it is checked in one pass
    cpu_id, socket_id, die_id, cluster_id, core_id, siblings = _row(raw, 6)
    for value in (socket_id, die_id, cluster_id, core_id):
        if value is not None and (type(value) is not int or value < 0):
            _uint(value)  # raises
    key = tuple(_list(siblings))
    shared = siblings_of.get(key)
    if shared is None:  # the threads of one core share one set
        shared = siblings_of[key] = frozenset([_uint(sibling) for sibling in key])
    return HostCPU(_uint(cpu_id), socket_id, die_id, cluster_id, core_id, shared)


def _decode_diagnostic(raw: Any, shown: str) -> Diagnostic:
    code, name, severity, message, span, hint, json_path = _row(raw, 7)
    if type(severity) is not int or severity not in {level.value for level in Severity}:
        raise _Invalid(f"severity {severity!r}")
    return Diagnostic(
        code=_str(code),
        name=_str(name),
        severity=Severity(severity),
        message=_str(message),
        path=shown,
        span=_optional(span, _span),
        hint=_optional(hint, _str),
        json_path=_optional(json_path, _str),
    )


def _span(raw: Any) -> Span:
    line, column, end_line, end_column = _row(raw, 4)
    return Span(_uint(line), _uint(column), _uint(end_line), _uint(end_column))


def _mapping(raw: Any, names: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(raw, dict) or raw.keys() != set(names):
        raise _Invalid("not the expected object")
    return raw


def _row(raw: Any, length: int) -> list[Any]:
    if not isinstance(raw, list) or len(raw) != length:
        raise _Invalid(f"not a list of {length}")
    return raw


def _list(raw: Any) -> list[Any]:
    if not isinstance(raw, list):
        raise _Invalid("not a list")
    return raw


def _pairs(raw: Any) -> list[list[Any]]:
    return [_row(pair, 2) for pair in _list(raw)]


def _uint(raw: Any) -> int:
    if type(raw) is not int or raw < 0:  # not isinstance: JSON true would pass for 1
        raise _Invalid(f"not a non-negative integer: {raw!r}")
    return raw


def _str(raw: Any) -> str:
    if not isinstance(raw, str):
        raise _Invalid(f"not a string: {raw!r}")
    return raw


def _optional(raw: Any, decode: Callable[[Any], _T]) -> _T | None:
    return None if raw is None else decode(raw)


# --- writing ---------------------------------------------------------------------------


def write_entry(directory: Path, key: str, loaded: Loaded, shown: str) -> None:
    """Store ``loaded`` as the entry ``key``, atomically; silently nothing when it cannot
    be stored faithfully (a message that names the path) or written (read-only, full)."""
    document = _encode_entry(key, loaded, shown)
    if document is None:
        return
    text = json.dumps(document, separators=(",", ":")).encode()
    if len(text) > MAX_ENTRY_BYTES:
        return
    try:
        _make_directory(directory)
        _replace_atomically(directory, f"{key}.json", text)
    except OSError:
        pass  # the run works without a cache


def _make_directory(directory: Path) -> None:
    """The cache directory, 0700, with a CACHEDIR.TAG so that backups skip it. Raises
    OSError, also when it exists but is not the user's own directory."""
    if not directory.is_dir():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        tag = b"Signature: 8a477f597d28d172789f06886806bc55\n# vnuma's host snapshot cache\n"
        _replace_atomically(directory, "CACHEDIR.TAG", tag)
    if not _owned_directory(directory):
        raise PermissionError(f"{directory} is not the user's own directory")


def _replace_atomically(directory: Path, name: str, data: bytes) -> None:
    # a new file of a random name, as tempfile.mkstemp makes one (O_EXCL, 0600), without
    # importing tempfile: it loads shutil and random, a tenth of a cold run
    temporary = directory / f".{name}.{os.urandom(8).hex()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, directory / name)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _encode_entry(key: str, loaded: Loaded, shown: str) -> dict[str, Any] | None:
    host, diagnostics = loaded
    if host is not None and host.source != shown:
        return None
    if any(d.path != shown or shown in d.message or shown in (d.hint or "") for d in diagnostics):
        return None  # rebuilt with another display path, it would not read the same
    return {
        "format": FORMAT_VERSION,
        "vnuma": __version__,
        "key": key,
        "host": _encode_host(host) if host is not None else None,
        "diagnostics": [_encode_diagnostic(d) for d in diagnostics],
    }


def _encode_host(host: HostTopology) -> dict[str, Any]:
    fields = {name: getattr(host, name) for name in _HOST_FIELDS}
    fields["cells"] = [_encode_cell(cell) for cell in host.cells]
    fields["page_sizes_kib"] = list(host.page_sizes_kib)
    return fields


def _encode_cell(cell: HostCell) -> dict[str, Any]:
    return {
        "id": cell.id,
        "memory_kib": cell.memory_kib,
        "distances": [[node, value] for node, value in cell.distances.items()],
        "pages": [[pool.size_kib, pool.count, pool.free] for pool in cell.pages],
        "cpus": [_encode_cpu(cpu) for cpu in cell.cpus],
        "free_memory_kib": cell.free_memory_kib,
        "span": list(cell.span.as_tuple()) if cell.span is not None else None,
    }


def _encode_cpu(cpu: HostCPU) -> list[Any]:
    return [cpu.id, cpu.socket_id, cpu.die_id, cpu.cluster_id, cpu.core_id, sorted(cpu.siblings)]


def _encode_diagnostic(diagnostic: Diagnostic) -> list[Any]:
    span = diagnostic.span
    return [
        diagnostic.code,
        diagnostic.name,
        int(diagnostic.severity),
        diagnostic.message,
        list(span.as_tuple()) if span is not None else None,
        diagnostic.hint,
        diagnostic.json_path,
    ]
