"""Bounded, decoded reading of an input file."""

from __future__ import annotations

import os

from vnuma.libvirt.values import parse_uint
from vnuma.records import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing when vnuma starts
if TYPE_CHECKING:
    from typing import TypeAlias

StrPath: TypeAlias = "str | os.PathLike[str]"
"""A file to open: a path, or its string (lint reads a fleet's files by string, making
no path object per file)."""

# A 1,024-CPU host's `virsh capabilities` is about 0.3 MiB; 16 MiB leaves ample room and
# still bounds what a hostile file can make vnuma read. VNUMA_MAX_INPUT_BYTES overrides it.
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
MAX_BYTES_VARIABLE = "VNUMA_MAX_INPUT_BYTES"
_CHUNK = 1 << 20


def max_input_bytes() -> int:
    limit = parse_uint(os.environ.get(MAX_BYTES_VARIABLE))
    return limit if limit else DEFAULT_MAX_BYTES


class UnreadableInput(Exception):
    """The file cannot be read at all (missing, a directory, permissions): a usage error."""


class DecodeProblem(Record):
    __slots__ = ("column", "line", "message")

    def __init__(self, message: str, line: int, column: int) -> None:
        self.message = message
        self.line = line
        self.column = column


def read_bytes(path: StrPath, max_bytes: int | None = None) -> bytes:
    """Raises UnreadableInput for missing, unreadable or too large files."""
    max_bytes = max_bytes if max_bytes is not None else max_input_bytes()
    try:
        # a descriptor, not a buffered file object: half the cost of a fleet's small files
        descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            data = _read_at_most(descriptor, max_bytes + 1)
        finally:
            os.close(descriptor)
    except FileNotFoundError as exc:
        raise UnreadableInput(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise UnreadableInput(f"{path}: is a directory") from exc
    except OSError as exc:
        raise UnreadableInput(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise UnreadableInput(
            f"{path}: larger than the {max_bytes} byte limit (set {MAX_BYTES_VARIABLE} to change it)"
        )
    return data


def _read_at_most(descriptor: int, limit: int) -> bytes:
    """Up to ``limit`` bytes. ``read(limit)`` would allocate ``limit`` bytes for every
    file; the first read asks for the file's size (+1 to see the end), later ones, for
    files that grow or report no size (pipes), for what is left in chunks."""
    size = os.fstat(descriptor).st_size
    request = min(size + 1, limit)
    parts: list[bytes] = []
    total = 0
    while total < limit:
        part = os.read(descriptor, min(request, limit - total))
        if not part:
            break
        parts.append(part)
        total += len(part)
        request = _CHUNK
    return parts[0] if len(parts) == 1 else b"".join(parts)


def decode_utf8(data: bytes) -> tuple[str, DecodeProblem | None]:
    """Decode UTF-8 (a BOM is dropped); report the line/column of the first bad byte."""
    return decode_text(data, "utf-8")


UTF8_BOM = b"\xef\xbb\xbf"


def decode_text(data: bytes, encoding: str) -> tuple[str, DecodeProblem | None]:
    """Decode ``data`` in ``encoding`` (a UTF-8 BOM is dropped); report the line/column of
    the first byte that is not valid in it."""
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    try:
        return data.decode(encoding), None
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode(encoding, "replace")) + 1
        name = "UTF-8" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        problem = DecodeProblem(
            f"file is not valid {name} (byte 0x{data[exc.start]:02x})", line, column
        )
        return "", problem
