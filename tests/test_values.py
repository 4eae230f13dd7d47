"""Value syntax shared by every stage: sizes and libvirt id sets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vnuma.cpusets import CpusetError, format_cpuset, parse_cpuset
from vnuma.sizes import SizeError, format_kib, parse_size_kib


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


# --- display_path: how a file is named in diagnostics ------------------------------------

_SEGMENTS = st.lists(st.sampled_from(["a", "b", "..", ".", "", "main", "x.yaml"]), max_size=5)


def _by_pathlib(path: str) -> str:
    """The definition display_path implements with strings."""
    parsed = Path(os.path.normpath(path))
    if not parsed.is_absolute():
        return str(parsed)
    try:
        return str(parsed.relative_to(Path.cwd()))
    except ValueError:
        return str(parsed)


@settings(max_examples=60, deadline=None)
@given(cwd=_SEGMENTS, path=_SEGMENTS, absolute=st.booleans(), slashes=st.sampled_from(["/", "//"]))
def test_display_path_matches_its_pathlib_definition(
    tmp_path_factory: pytest.TempPathFactory,
    cwd: list[str],
    path: list[str],
    absolute: bool,
    slashes: str,
) -> None:
    from vnuma.runner import display_path

    base = tmp_path_factory.getbasetemp()
    work = base.joinpath(*[s for s in cwd if s not in ("", ".", "..")])
    work.mkdir(parents=True, exist_ok=True)
    text = "/".join(path)
    if absolute:
        text = slashes + str(base).lstrip("/") + "/" + text
    old = os.getcwd()
    os.chdir(work)
    try:
        assert display_path(Path(text)) == _by_pathlib(text)
        assert display_path(text) == _by_pathlib(text)
        _assert_child_shown_as_its_path(Path(text))
    finally:
        os.chdir(old)


def _assert_child_shown_as_its_path(directory: Path) -> None:
    """display_child (lint's file names, from their directory's) is display_path."""
    from vnuma.runner import display_child, display_path

    for name in ("x.yaml", "vm 1.xml", "..a.toml"):
        if os.path.normpath(os.path.abspath(directory / name)) == os.getcwd():
            continue  # a file is never the working directory (a directory named x.yaml is)
        assert display_child(display_path(directory), name) == display_path(directory / name)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(cwd=_SEGMENTS, path=_SEGMENTS, absolute=st.booleans(), slashes=st.sampled_from(["/", "//"]))
def test_display_path_matches_its_pathlib_definition_many(
    tmp_path_factory, cwd, path, absolute, slashes
) -> None:
    test_display_path_matches_its_pathlib_definition.hypothesis.inner_test(
        tmp_path_factory=tmp_path_factory, cwd=cwd, path=path, absolute=absolute, slashes=slashes
    )


@pytest.mark.parametrize("cwd", ["/", "/tmp"])
def test_display_path_at_the_root_and_outside(cwd: str) -> None:
    from vnuma.runner import display_path

    old = os.getcwd()
    os.chdir(cwd)
    try:
        for text in ["/", "//", "/tmp", "/tmp/x/../y", "//x/y", "///x/y", "rel/../a", ".", ".."]:
            assert display_path(Path(text)) == _by_pathlib(text)
            _assert_child_shown_as_its_path(Path(text))
    finally:
        os.chdir(old)


# --- libvirt's C integer readers (virStrToLong_*): limits, signs, white space -------------


def test_libvirt_unsigned_int_readers() -> None:
    from vnuma.libvirt.values import parse_prop_uint, parse_xpath_uint

    for read in (parse_prop_uint, parse_xpath_uint):
        assert read("4294967295") == 4294967295
        assert read(" \t\n+7") == 7
        assert read("0" * 5000 + "7") == 7
        assert read("0" * 19 + "7") == read("007") == 7  # the plain-digits path
        refusals = ("4294967296", "7 ", "", " ", "0x7", "+-7", "7a", "9" * 5000, "9" * 20)
        for refused in (*refusals, "\u00b2", "\u0663", "7\u00b2", None):  # ², Arabic-Indic 3
            assert read(refused) is None, refused
    assert parse_prop_uint("-1") is None
    assert parse_prop_uint("-0") is None
    assert parse_xpath_uint("-1") == 4294967295  # virStrToLong_ui wraps a '-'
    assert parse_xpath_uint("-4294967295") == 1
    assert parse_xpath_uint("-4294967296") is None


def test_libvirt_size_reader() -> None:
    from vnuma.libvirt.values import SizeRefused, parse_memory_kib

    assert parse_memory_kib("9007199254740991", None, "./memory[1]") == 2**53 - 1
    assert parse_memory_kib("9223372036854774784", "b", "./memory[1]") == 2**53 - 1
    refused = {
        ("9007199254740992", None): "value too large: 9007199254740992",
        ("9007199254740992", "KiB"): "value too large: 9007199254740992KiB",
        ("9223372036854774785", "b"): "size value too large",
        ("18446744073709551616", None): "Invalid value '18446744073709551616' for element"
        " or attribute './memory[1]'",
        ("-1", None): "Invalid value '-1' for element or attribute './memory[1]'",
        ("9" * 5000, "b"): f"Invalid value '{'9' * 5000}' for element or attribute './memory[1]'",
    }
    for (raw, unit), message in refused.items():
        with pytest.raises(SizeRefused) as exc:
            parse_memory_kib(raw, unit, "./memory[1]")
        assert exc.value.message == message
    with pytest.raises(SizeRefused) as exc:
        parse_memory_kib("1", "zz", "./memory[1]")
    assert exc.value.unit


def test_set_ids_of_thousands_of_digits_are_refused_without_an_int() -> None:
    for text in ("9" * 5000, "0-" + "9" * 5000, "^" + "9" * 5000 + ",1", "9" * 5000 + "-1"):
        with pytest.raises(CpusetError, match=r"^Failed to parse bitmap"):
            parse_cpuset(text)
    assert parse_cpuset("0" * 5000 + "5") == frozenset({5})
