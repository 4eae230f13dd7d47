"""Numbers and scaled sizes as libvirt writes them in XML attributes and text.

libvirt 9.0 reads its integers with C's ``strtoull`` (``virStrToLong_*``, virstring.c):
leading white space and a sign are skipped, the digits must end the string (no trailing
white space either), and the value must fit the C type. The readers here do the same
without building a Python int from more digits than the type can hold (``int()`` refuses
strings of more than 4300 digits, and a count of billions must not become a set).
"""

from __future__ import annotations

import re

# str.isdigit() also accepts "²" and Arabic-Indic digits, which int() then rejects or misreads.
ASCII_UINT = re.compile(r"[0-9]+")

UINT_MAX = 2**32 - 1
INT_MAX = 2**31 - 1
LLONG_MAX = 2**63 - 1
ULLONG_MAX = 2**64 - 1
# virMemoryMaxValue on a 64-bit host: sizes are at most LLONG_MAX bytes (off_t).
MEMORY_MAX_BYTES = LLONG_MAX
# virDomainParseMemory then refuses a size whose KiB, rounded up, reach LLONG_MAX / 1024
# rounded up (2**53 KiB).
MEMORY_KIB_BOUND = -(-MEMORY_MAX_BYTES // 1024)

# What strtoull reads: C isspace() white space, an optional sign, decimal digits. The
# digits are one run with nothing after them, so a failed match does not backtrack.
_C_NUMBER = re.compile(r"[ \t\n\v\f\r]*([+-]?)([0-9]+)")
_TOO_BIG = ULLONG_MAX + 1  # any value past every C type libvirt reads into

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


def _c_number(text: str | None) -> tuple[str, int] | None:
    """(sign, magnitude) when all of ``text`` is one strtoull number, else None; a
    magnitude past ULLONG_MAX (strtoull's ERANGE) is given as ULLONG_MAX + 1."""
    if text is None:
        return None
    if text.isdigit() and text.isascii() and len(text) <= 20:
        return "", int(text)  # the common case: plain digits
    match = _C_NUMBER.fullmatch(text)
    if match is None:
        return None
    digits = match[2].lstrip("0") or "0"
    return match[1], int(digits) if len(digits) <= 20 else _TOO_BIG


def parse_uint(text: str | None) -> int | None:
    """An unsigned decimal integer (white space around it ignored), or None when the text
    is not one or it is past ULLONG_MAX (no libvirt value is larger)."""
    if text is None:
        return None
    text = text.strip()
    if not ASCII_UINT.fullmatch(text):
        return None
    digits = text.lstrip("0") or "0"
    return int(digits) if len(digits) <= 20 and int(digits) <= ULLONG_MAX else None


def parse_prop_uint(text: str | None) -> int | None:
    """An unsigned int attribute as ``virXMLPropUInt`` reads it (``virStrToLong_uip``):
    leading white space and '+' allowed, any '-' refused, at most UINT_MAX; else None."""
    number = _c_number(text)
    if number is None or number[0] == "-" or number[1] > UINT_MAX:
        return None
    return number[1]


def parse_xpath_uint(text: str | None) -> int | None:
    """An unsigned int as ``virXPathUInt`` reads it (``virStrToLong_ui``): as
    `parse_prop_uint`, but '-N' (N at most UINT_MAX) wraps round to 2**32 - N."""
    number = _c_number(text)
    if number is None or number[1] > UINT_MAX:
        return None
    sign, value = number
    return (-value) & UINT_MAX if sign == "-" else value


def parse_node_int(text: str | None) -> int | None:
    """A non-negative int (a NUMA node id in a device's `<target><node>`): at most INT_MAX."""
    number = _c_number(text)
    if number is None or (number[0] == "-" and number[1] != 0) or number[1] > INT_MAX:
        return None
    return number[1]


def parse_ullp(text: str | None) -> int | None:
    """An unsigned long long as ``virStrToLong_ullp`` reads it: no '-', at most ULLONG_MAX."""
    number = _c_number(text)
    if number is None or number[0] == "-" or number[1] > ULLONG_MAX:
        return None
    return number[1]


def scaled_kib(value: int, unit: str | None) -> int | None:
    """``value`` in ``unit`` (default KiB) as whole KiB, rounded down; None for an unknown unit."""
    factor = _BYTES_PER_UNIT.get((unit or "KiB").lower())
    return None if factor is None else value * factor // 1024


class SizeRefused(ValueError):
    """A size libvirt refuses: ``message`` is libvirt's; ``unit`` when the unit is to blame."""

    def __init__(self, message: str, unit: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.unit = unit


def parse_memory_kib(raw: str, unit: str | None, xpath: str) -> int:
    """A size as ``virDomainParseMemory`` reads it (``virParseScaledValue``, then
    ``virScaleInteger`` with the limit `MEMORY_MAX_BYTES`): whole KiB, rounded down.

    ``raw`` is the value's XPath string (not empty: libvirt takes an empty one as absent),
    ``xpath`` the path libvirt's messages name (``./memory[1]``, ``./@memory``). Raises
    `SizeRefused` with libvirt's message."""
    number = parse_ullp(raw)
    if number is None:
        raise SizeRefused(f"Invalid value '{raw}' for element or attribute '{xpath}'")
    factor = _BYTES_PER_UNIT.get((unit or "KiB").lower())
    if factor is None:
        raise SizeRefused(f"unknown unit '{unit}'", unit=True)
    if number > MEMORY_MAX_BYTES // factor:
        raise SizeRefused(f"value too large: {number}{unit or ''}")
    size = number * factor
    if -(-size // 1024) >= MEMORY_KIB_BOUND:
        raise SizeRefused("size value too large")
    return size // 1024
