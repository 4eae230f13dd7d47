"""Value syntax shared by every stage: sizes and libvirt id sets."""

from __future__ import annotations

import pytest

from compiler.cpusets import CpusetError, format_cpuset, parse_cpuset
from compiler.sizes import SizeError, format_kib, parse_size_kib


@pytest.mark.parametrize(
    ("text", "kib"),
    [
        ("64GiB", 64 * 1024**2),
        ("512 MiB", 524288),
        ("1.5TiB", 1536 * 1024**2),
        ("100GB", 97656250),
        ("4KiB", 4),
        ("1024KB", 1000),
        ("1024MB", 1000000),
        (" 8GiB ", 8 * 1024**2),
    ],
)
def test_sizes(text: str, kib: int) -> None:
    assert parse_size_kib(text) == kib


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        (4096, "did you mean 4096MiB?"),
        ("4096", "did you mean 4096MiB?"),
        ("64G", "did you mean 64GiB?"),
        ("64gb", "did you mean 64GB?"),
        ("1KB", "whole KiB"),
        ("lots", "e.g. '64GiB'"),
    ],
)
def test_bad_sizes_have_hints(value: object, hint: str) -> None:
    with pytest.raises(SizeError) as exc:
        parse_size_kib(value)
    assert hint in (exc.value.hint or "")


def test_format_kib() -> None:
    assert format_kib(64 * 1024**2) == "64 GiB"
    assert format_kib(1536) == "1.50 MiB"
    assert format_kib(3) == "3 KiB"


@pytest.mark.parametrize(
    ("text", "ids"),
    [("0-3,^2,5", {0, 1, 3, 5}), ("7", {7}), (3, {3}), ("0-1, 4", {0, 1, 4}), ("16383", {16383})],
)
def test_cpusets(text: object, ids: set[int]) -> None:
    assert parse_cpuset(text) == frozenset(ids)


@pytest.mark.parametrize(
    "text", ["5-2", "^", "", "0,^0", "a", "1-", "^1-3", "16384", "0-999999999", True, 1.5]
)
def test_bad_cpusets(text: object) -> None:
    with pytest.raises(CpusetError):
        parse_cpuset(text)


def test_format_cpuset_round_trips() -> None:
    assert format_cpuset(frozenset({0, 1, 2, 3, 8, 10, 11})) == "0-3,8,10-11"
    assert format_cpuset(frozenset({5})) == "5"
    for text in ("0-3,8,10-11", "1,3,5", "0-127"):
        assert format_cpuset(parse_cpuset(text)) == text
