"""Numbers and scaled sizes as libvirt writes them in XML attributes and text."""

from __future__ import annotations

import re

# str.isdigit() also accepts "²" and Arabic-Indic digits, which int() then rejects or misreads.
ASCII_UINT = re.compile(r"[0-9]+")

# libvirt's `unit` values (basictypes.rng): b/bytes, k/KiB (1024), KB (1000), ... default KiB.
_BYTES_PER_UNIT = {
    "b": 1, "bytes": 1,
    "k": 1024, "kib": 1024, "kb": 1000,
    "m": 1024**2, "mib": 1024**2, "mb": 1000**2,
    "g": 1024**3, "gib": 1024**3, "gb": 1000**3,
    "t": 1024**4, "tib": 1024**4, "tb": 1000**4,
    "p": 1024**5, "pib": 1024**5, "pb": 1000**5,
    "e": 1024**6, "eib": 1024**6, "eb": 1000**6,
}  # fmt: skip


def parse_uint(text: str | None) -> int | None:
    """An unsigned decimal integer, or None when the text is not one."""
    if text is None:
        return None
    text = text.strip()
    return int(text) if ASCII_UINT.fullmatch(text) else None


def scaled_kib(value: int, unit: str | None) -> int | None:
    """``value`` in ``unit`` (default KiB) as whole KiB, rounded down; None for an unknown unit."""
    factor = _BYTES_PER_UNIT.get((unit or "KiB").lower())
    return None if factor is None else value * factor // 1024
