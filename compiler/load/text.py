"""Bounded, decoded reading of an input file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_BYTES = 16 * 1024 * 1024


class UnreadableInput(Exception):
    """The file cannot be read at all (missing, a directory, permissions): a usage error."""


@dataclass(frozen=True)
class DecodeProblem:
    message: str
    line: int
    column: int


def read_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError as exc:
        raise UnreadableInput(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise UnreadableInput(f"{path}: is a directory") from exc
    except OSError as exc:
        raise UnreadableInput(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise UnreadableInput(f"{path}: larger than the {max_bytes} byte limit")
    return data


def decode_utf8(data: bytes) -> tuple[str, DecodeProblem | None]:
    """Decode UTF-8 (a BOM is dropped); report the line/column of the first bad byte."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        problem = DecodeProblem(
            f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})", line, column
        )
        return "", problem
