"""Memory sizes: parse "64GiB" / "1.5 TB" into KiB (libvirt's unit) and format them back."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

UNIT_BYTES: dict[str, int] = {
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
    "TiB": 1024**4,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "TB": 1000**4,
}
UNITS_TEXT = "KiB MiB GiB TiB (binary) or KB MB GB TB (decimal)"
# libvirt stores sizes as unsigned long long bytes internally and KiB in XML.
MAX_KIB = (2**64 - 1) // 1024

_SIZE_RE = re.compile(r"^\s*(?P<num>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[A-Za-z]+)\s*$")
_LOOSE_UNITS = {
    "k": "KiB", "ki": "KiB", "kib": "KiB", "kb": "KB",
    "m": "MiB", "mi": "MiB", "mib": "MiB", "mb": "MB",
    "g": "GiB", "gi": "GiB", "gib": "GiB", "gb": "GB",
    "t": "TiB", "ti": "TiB", "tib": "TiB", "tb": "TB",
}  # fmt: skip


class SizeError(ValueError):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def is_bare_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and re.fullmatch(r"\s*[0-9]+(\.[0-9]+)?\s*", value) is not None


def bare_number_hint(value: object) -> str:
    number = str(value).strip()
    return f"sizes need a unit: did you mean {number}MiB? (units: {UNITS_TEXT})"


def parse_size_kib(value: object) -> int:
    """Return the size in KiB; raise SizeError with a fix hint when it is not a valid size."""
    if is_bare_number(value):
        raise SizeError(f"size {value!r} has no unit", bare_number_hint(value))
    if not isinstance(value, str):
        raise SizeError(f"size must be a string like '64GiB', not {type(value).__name__}")
    match = _SIZE_RE.match(value)
    if not match:
        raise SizeError(
            f"invalid size {value!r}", f"write a number and a unit, e.g. '64GiB' ({UNITS_TEXT})"
        )
    unit = match["unit"]
    if unit not in UNIT_BYTES:
        suggestion = _LOOSE_UNITS.get(unit.lower())
        hint = f"did you mean {match['num']}{suggestion}?" if suggestion else None
        raise SizeError(
            f"unknown size unit {unit!r} in {value!r}", _join(hint, f"units: {UNITS_TEXT}")
        )
    try:
        total_bytes = Decimal(match["num"]) * UNIT_BYTES[unit]
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only decimals
        raise SizeError(f"invalid size {value!r}") from exc
    kib = total_bytes / 1024
    if kib != kib.to_integral_value():
        raise SizeError(
            f"size {value!r} is not a whole number of KiB ({total_bytes} bytes)",
            "libvirt sizes are whole KiB; use a binary unit (KiB, MiB, GiB) or a multiple of 1024 bytes",
        )
    result = int(kib)
    if result > MAX_KIB:
        raise SizeError(f"size {value!r} is larger than libvirt can represent")
    return result


def format_kib(kib: int) -> str:
    """Human-readable binary size: exact when it divides evenly, else 2 decimals."""
    for unit, factor in (("TiB", 1024**3), ("GiB", 1024**2), ("MiB", 1024), ("KiB", 1)):
        if kib >= factor:
            whole, rest = divmod(kib, factor)
            return f"{whole} {unit}" if rest == 0 else f"{kib / factor:.2f} {unit}"
    return f"{kib} KiB"


def _join(*parts: str | None) -> str | None:
    kept = [p for p in parts if p]
    return "; ".join(kept) if kept else None
