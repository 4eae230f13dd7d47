"""libvirt's set syntax for CPU and node sets: "0-3,^2,5" (basictypes.rng `cpuset`)."""

from __future__ import annotations

import re

# VIR_DOMAIN_CPUMASK_LEN: libvirt's bitmaps for cpusets and nodesets hold this many bits.
MAX_SET_ID = 16383
_TERM_RE = re.compile(r"^(?P<neg>\^)?(?P<lo>[0-9]+)(?:-(?P<hi>[0-9]+))?$")
_ONE_TERM_RE = re.compile(r"([0-9]+)(?:-([0-9]+))?")  # "3", "0-7": most sets a fleet has
# Ids of more digits than this are past every limit: they are not made into ints (int()
# refuses more than 4300 digits, and a range to one must never be built).
_MAX_DIGITS = 18
_PAST_EVERY_LIMIT = 10**_MAX_DIGITS


def _set_id(digits: str) -> int:
    """A term's id; `_PAST_EVERY_LIMIT` for one of more than `_MAX_DIGITS` digits."""
    significant = digits.lstrip("0") or "0"
    return int(significant) if len(significant) <= _MAX_DIGITS else _PAST_EVERY_LIMIT


def _beyond(value: object, term: str, limit: int) -> CpusetError:
    """An id past ``limit``: libvirt's own message when the limit is its bitmap size."""
    if limit >= MAX_SET_ID:
        return CpusetError(
            f"Failed to parse bitmap '{value}': id {term} is beyond libvirt's limit of {limit}",
            f"libvirt's cpusets and nodesets hold ids 0-{MAX_SET_ID}",
        )
    return CpusetError(f"id {term} in '{value}' is beyond libvirt's limit of {limit}")


class CpusetError(ValueError):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def parse_cpuset(value: object, *, limit: int = MAX_SET_ID) -> frozenset[int]:
    """Parse an int or a libvirt set string; raise CpusetError naming the bad term."""
    if isinstance(value, bool):
        raise CpusetError(f"expected a set like '0-3,5', not {value!r}")
    if isinstance(value, int):
        return _checked({value}, str(value), limit)
    if not isinstance(value, str):
        raise CpusetError(f"expected a set like '0-3,5', not {type(value).__name__}")
    one = _ONE_TERM_RE.fullmatch(value)
    if one is not None:
        lo = _set_id(one[1])
        hi = _set_id(one[2]) if one[2] is not None else lo
        if lo <= hi <= limit:
            return frozenset(range(lo, hi + 1))
    text = value.strip()
    if not text:
        raise CpusetError("empty set", "list ids and ranges, e.g. '0-3,5'")
    included: set[int] = set()
    excluded: set[int] = set()
    for raw in text.split(","):
        term = raw.strip()
        match = _TERM_RE.match(term)
        if not match:
            raise CpusetError(
                f"Failed to parse bitmap '{value}': bad term {term!r}",
                "use ids and ranges separated by commas, '^N' excludes: e.g. '0-7,^3'",
            )
        lo = _set_id(match["lo"])
        hi = _set_id(match["hi"]) if match["hi"] is not None else lo
        if match["neg"] and match["hi"] is not None:
            raise CpusetError(
                f"Failed to parse bitmap '{value}': '^' excludes a single id, not {term!r}"
            )
        if max(lo, hi) > limit:
            raise _beyond(value, match["lo"] if lo > hi else match["hi"] or match["lo"], limit)
        if hi < lo:
            raise CpusetError(
                f"Failed to parse bitmap '{value}': range {term!r} is reversed",
                f"write it as '{hi}-{lo}'",
            )
        (excluded if match["neg"] else included).update(range(lo, hi + 1))
    return _checked(included - excluded, value, limit)


def _checked(ids: set[int], original: str, limit: int) -> frozenset[int]:
    if not ids:
        raise CpusetError(f"Invalid value of 'nodeset': {original} (the set is empty)")
    if max(ids) > limit:
        raise _beyond(original, str(max(ids)), limit)
    return frozenset(ids)


def format_cpuset(ids: frozenset[int] | set[int]) -> str:
    """Compact, deterministic libvirt form: '0-3,8,10-11'."""
    ordered = sorted(ids)
    if not ordered:
        return ""
    parts: list[str] = []
    start = prev = ordered[0]
    for cur in ordered[1:]:
        if cur == prev + 1:
            prev = cur
        else:
            parts.append(format_run(start, prev))
            start = prev = cur
    parts.append(format_run(start, prev))
    return ",".join(parts)


def format_run(start: int, end: int) -> str:
    """One run of consecutive ids as a set term: '5' or '2-7'."""
    return str(start) if start == end else f"{start}-{end}"
