"""Memory sizes: parse "64GiB" / "1.5 TB" into KiB (libvirt's unit) and format them back."""

from __future__ import annotations

import re

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


def _decimal_text(numerator: int, scale: int) -> str:
    """``numerator / scale`` (a power of ten) written exactly, as the size was: 1500.5."""
    whole, rest = divmod(numerator, scale)
    if scale == 1:
        return str(whole)
    return f"{whole}.{rest:0{len(str(scale)) - 1}d}"


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
        raise SizeError(f"unknown size unit {unit!r} in {value!r}", unknown_unit_hint(value))
    number: str = match["num"]
    whole, _, fraction = number.partition(".")
    # No int of thousands of digits (int() refuses them): a whole part of more than 30
    # digits is past 2**64 KiB in any unit, and more than 100 decimals (trailing zeros
    # aside) end in a digit that no power of 1024 or 1000 bytes makes whole KiB.
    whole, fraction = whole.lstrip("0"), fraction.rstrip("0")
    if len(whole) > 30:
        raise SizeError(f"size {value!r} is larger than libvirt can represent")
    if len(fraction) > 100:
        raise SizeError(
            f"size {value!r} is not a whole number of KiB",
            "libvirt sizes are whole KiB; use a binary unit (KiB, MiB, GiB) or a multiple of 1024 bytes",
        )
    scale: int = 10 ** len(fraction)  # exact, in integers: bytes = scaled_bytes / scale
    scaled_bytes = int(whole + fraction or "0") * UNIT_BYTES[unit]
    if scaled_bytes % (scale * 1024):
        raise SizeError(
            f"size {value!r} is not a whole number of KiB ({_decimal_text(scaled_bytes, scale)} bytes)",
            "libvirt sizes are whole KiB; use a binary unit (KiB, MiB, GiB) or a multiple of 1024 bytes",
        )
    kib = scaled_bytes // (scale * 1024)
    if kib > MAX_KIB:
        raise SizeError(f"size {value!r} is larger than libvirt can represent")
    return kib


def format_kib(kib: int) -> str:
    """Human-readable binary size: exact when it divides evenly, else 2 decimals."""
    for unit, factor in (("TiB", 1024**3), ("GiB", 1024**2), ("MiB", 1024), ("KiB", 1)):
        if kib >= factor:
            whole, rest = divmod(kib, factor)
            return f"{whole} {unit}" if rest == 0 else f"{kib / factor:.2f} {unit}"
    return f"{kib} KiB"


# --- hints for sizes that are not sizes ------------------------------------------------
#
# Hints for sizes the schema refuses: which unit the user probably meant, and why.
#
# A bare number is KiB to libvirt (``<memory>16</memory>`` is 16 KiB), but nobody means a
# 16 KiB guest, so vnuma refuses bare numbers and suggests a unit by magnitude: GiB below
# 1024 (a 16 MiB guest or reserve is as implausible), MiB from 1024 up (4096 is 4 GiB
# written in MiB). A bare huge page size gets the unit that makes it a page size that
# exists (2048 is libvirt's and sysfs's 2048 KiB, 2 is 2 MiB, 1 is 1 GiB; any other
# number: KiB from 1024 up, MiB below).

GIB_BELOW = 1024
# Huge page sizes of x86-64 (2 MiB, 1 GiB), arm64 (64 KiB, 2 MiB, 32 MiB, 512 MiB, 1 GiB,
# 16 GiB) and ppc64 (16 MiB, 16 GiB), in KiB.
PAGE_SIZES_KIB = frozenset({64, 2048, 16384, 32768, 524288, 1048576, 16777216})
_PAGE_UNITS = (("KiB", 1), ("MiB", 1024), ("GiB", 1024**2))


def bare_number_hint(value: object, *, page_size: bool = False) -> str:
    """The hint for a size written without a unit (``memory: 16``)."""
    from decimal import Decimal  # only a file with this mistake pays for the import

    number = _plain_number(value)
    if number is None:  # nan, inf: nothing to suggest
        return f"sizes need a unit, e.g. 4GiB (units: {UNITS_TEXT})"
    if page_size:
        unit = _page_unit(number)
        rule = "it suggests the unit that makes a huge page size such as 2MiB or 1GiB"
    else:
        unit = "GiB" if Decimal(number) < GIB_BELOW else "MiB"
        rule = f"it suggests GiB below {GIB_BELOW}, MiB from {GIB_BELOW} up"
    return _sentences(
        f"sizes need a unit: did you mean {number}{unit}?",
        f"a bare {number} would be {number} KiB to libvirt, so vnuma refuses bare "
        f"numbers ({rule}).",
        f"units: {UNITS_TEXT}",
    )


def unknown_unit_hint(value: object) -> str | None:
    """The hint for ``16G``, ``64gb``...: the unit meant, if it is clear, and the units."""
    match = _SIZE_RE.match(value) if isinstance(value, str) else None
    if match is None or match["unit"] in UNIT_BYTES:
        return None
    meant = _LOOSE_UNITS.get(match["unit"].lower())
    question = f"did you mean {match['num']}{meant}?" if meant else None
    return _sentences(question, f"units: {UNITS_TEXT}")


def _plain_number(value: object) -> str | None:
    """``value`` as the user would write it before a unit (1e3 as 1000), or None when it
    is not a finite number."""
    from decimal import Decimal

    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        return None
    if not number.is_finite():
        return None
    text = str(value).strip()
    return text if "e" not in text.lower() else format(number, "f")


def _page_unit(number: str) -> str:
    from decimal import Decimal

    amount = Decimal(number)
    for unit, kib in _PAGE_UNITS:
        if amount * kib in PAGE_SIZES_KIB:
            return unit
    return "KiB" if amount >= GIB_BELOW else "MiB"


def _sentences(*parts: str | None) -> str:
    """Hint parts as sentences: after a part that ends one (``?``, ``!``, ``.``) a space and
    a capital, else ``; ``. Empty parts are dropped."""
    out = ""
    for part in filter(None, parts):
        if not out:
            out = part
        elif out.endswith(("?", "!", ".")):
            out += f" {part[0].upper()}{part[1:]}"
        else:
            out += f"; {part}"
    return out
