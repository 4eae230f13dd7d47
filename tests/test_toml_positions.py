"""Tests for the TOML position scanner (vnuma.load.toml_positions)."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest
from vnuma.diagnostics import Span
from vnuma.load.toml_positions import toml_positions

EXAMPLE = """\
version = 1
memory = "64GiB"   # comment
numatune = { mode = "strict", nodeset = "0-1" }
hugepages.size = "1GiB"

[[cells]]
cpus = "0-7"
memory = "32GiB"
distances = { 1 = 21 }

[[cells]]
cpus = "8-15"
extra = [1, 2,
  3]
[cells.sub]
x = 1
"""


# ------------------------------------------------------------------- helpers


def _offset(text: str, line: int, column: int) -> int:
    starts = [0]
    starts += [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    return starts[line - 1] + column - 1


def _slice(text: str, span: Span) -> str:
    """The source text a span covers (``text`` without BOM)."""
    start = _offset(text, span.line, span.column)
    end = _offset(text, span.end_line, span.end_column)
    return text[start:end]


def _walk(data: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple, Any]]:
    """Every (path, value) below the root of a decoded document."""
    children: Iterator[tuple[str | int, Any]]
    if isinstance(data, dict):
        children = iter(data.items())
    elif isinstance(data, list):
        children = enumerate(data)
    else:
        return
    for step, child in children:
        yield (*path, step), child
        yield from _walk(child, (*path, step))


def _at(text: str, span: Span | None) -> str:
    assert span is not None
    return _slice(text, span)


# ------------------------------------------------------------ the example


def test_example_scalars_and_keys() -> None:
    pm = toml_positions(EXAMPLE)
    assert pm.values[("version",)] == Span(1, 11, 1, 12)
    assert pm.keys[("version",)] == Span(1, 1, 1, 8)
    assert pm.keys[("memory",)] == Span(2, 1, 2, 7)
    assert pm.values[("memory",)] == Span(2, 10, 2, 17)
    assert pm.values[("numatune", "mode")] == Span(3, 21, 3, 29)
    assert pm.keys[("numatune", "mode")] == Span(3, 14, 3, 18)
    assert pm.values[("numatune", "nodeset")] == Span(3, 41, 3, 46)
    assert pm.values[("numatune",)] == Span(3, 12, 3, 48)


def test_example_dotted_key() -> None:
    pm = toml_positions(EXAMPLE)
    assert pm.keys[("hugepages",)] == Span(4, 1, 4, 10)
    assert pm.keys[("hugepages", "size")] == Span(4, 11, 4, 15)
    assert pm.values[("hugepages", "size")] == Span(4, 18, 4, 24)
    assert ("hugepages",) in pm.values


def test_example_array_of_tables() -> None:
    pm = toml_positions(EXAMPLE)
    assert pm.values[("cells", 0)] == Span(6, 1, 6, 10)
    assert pm.keys[("cells", 0)] == Span(6, 3, 6, 8)
    assert pm.values[("cells",)] == Span(6, 1, 6, 10)
    assert pm.values[("cells", 0, "cpus")] == Span(7, 8, 7, 13)
    assert pm.values[("cells", 0, "memory")] == Span(8, 10, 8, 17)
    assert pm.values[("cells", 0, "distances", "1")] == Span(9, 19, 9, 21)
    assert pm.keys[("cells", 0, "distances", "1")] == Span(9, 15, 9, 16)
    assert pm.values[("cells", 1)] == Span(11, 1, 11, 10)
    assert pm.values[("cells", 1, "cpus")] == Span(12, 8, 12, 14)


def test_example_multiline_array_and_subtable_of_last_element() -> None:
    pm = toml_positions(EXAMPLE)
    assert pm.values[("cells", 1, "extra")] == Span(13, 9, 14, 5)
    assert pm.values[("cells", 1, "extra", 0)] == Span(13, 10, 13, 11)
    assert pm.values[("cells", 1, "extra", 2)] == Span(14, 3, 14, 4)
    assert pm.values[("cells", 1, "sub")] == Span(15, 1, 15, 12)
    assert pm.keys[("cells", 1, "sub")] == Span(15, 8, 15, 11)
    assert pm.values[("cells", 1, "sub", "x")] == Span(16, 5, 16, 6)
    assert ("cells", 0, "sub") not in pm.values


def test_example_locate_falls_back_to_ancestor() -> None:
    pm = toml_positions(EXAMPLE)
    assert pm.locate(("cells", 1, "sub", "missing")) == Span(15, 1, 15, 12)
    assert pm.locate(("cells", 0, "cpus"), prefer_key=True) == Span(7, 1, 7, 5)


# ---------------------------------------------------------------- comments


def test_hash_inside_strings_is_not_a_comment() -> None:
    text = 'a = "x # y"  # real comment\nb = \'p # q\' # c\nc = """m\n# not a comment\n"""\n'
    pm = toml_positions(text)
    assert _at(text, pm.values[("a",)]) == '"x # y"'
    assert _at(text, pm.values[("b",)]) == "'p # q'"
    assert pm.values[("c",)] == Span(3, 5, 5, 4)


def test_comment_only_lines_and_trailing_comments() -> None:
    text = "# head\n  # indented\na = 1 # one\n\n[t] # table\nb = 2#tight\n# tail"
    pm = toml_positions(text)
    assert pm.values[("a",)] == Span(3, 5, 3, 6)
    assert pm.values[("t",)] == Span(5, 1, 5, 4)
    assert pm.values[("t", "b")] == Span(6, 5, 6, 6)


# ----------------------------------------------------------------- strings


@pytest.mark.parametrize(
    "source",
    [
        r'"plain"',
        r'"esc \" quote"',
        r'"back\\"',
        r'"tab\tnl\n\u00e9\U0001F600"',
        r'""',
        r"'C:\path\'",
        r"''",
        r"'say \"hi\"'",
    ],
)
def test_single_line_string_extent(source: str) -> None:
    text = f"v = {source} # trailing\nw = [{source},{source}]\n"
    pm = toml_positions(text)
    assert _at(text, pm.values[("v",)]) == source
    assert _at(text, pm.values[("w", 1)]) == source
    assert tomllib.loads(text)["v"] == tomllib.loads("x = " + source)["x"]


def test_multiline_basic_string() -> None:
    text = 'a = """\nline one\nline "two" \\"""\n  end"""\nb = 1\n'
    pm = toml_positions(text)
    assert pm.values[("a",)] == Span(1, 5, 4, 9)
    assert pm.values[("b",)] == Span(5, 5, 5, 6)


def test_multiline_basic_string_line_ending_backslash_and_extra_quotes() -> None:
    text = 'a = """x \\\n    y""""\nb = """"two""""" # c\n'
    pm = toml_positions(text)
    assert _at(text, pm.values[("a",)]) == '"""x \\\n    y""""'
    assert _at(text, pm.values[("b",)]) == '""""two"""""'
    data = tomllib.loads(text)
    assert tomllib.loads("x = " + _at(text, pm.values[("b",)]))["x"] == data["b"]


def test_multiline_literal_string() -> None:
    text = "re = '''\n\\d+ \"no escapes\" \\'''\nq = '''a''''' \n"
    pm = toml_positions(text)
    assert pm.values[("re",)] == Span(1, 6, 2, 22)
    assert _at(text, pm.values[("q",)]) == "'''a'''''"


# -------------------------------------------------------------------- keys


def test_quoted_keys_are_single_keys() -> None:
    text = '"a.b" = 1\n\'x y\' = 2\n"\\u00e9t\\u00e9" = 3\n"" = 4\nsite."g.com" = 5\n'
    pm = toml_positions(text)
    assert pm.keys[("a.b",)] == Span(1, 1, 1, 6)
    assert pm.values[("a.b",)] == Span(1, 9, 1, 10)
    assert pm.keys[("x y",)] == Span(2, 1, 2, 6)
    assert pm.values[("été",)] == Span(3, 19, 3, 20)
    assert pm.keys[("",)] == Span(4, 1, 4, 3)
    assert pm.keys[("site", "g.com")] == Span(5, 6, 5, 13)
    assert ("a",) not in pm.values


def test_dotted_keys_with_whitespace() -> None:
    text = "a . b\t.  c = 1\n"
    pm = toml_positions(text)
    assert pm.keys[("a",)] == Span(1, 1, 1, 2)
    assert pm.keys[("a", "b")] == Span(1, 5, 1, 6)
    assert pm.keys[("a", "b", "c")] == Span(1, 10, 1, 11)
    assert pm.values[("a", "b", "c")] == Span(1, 14, 1, 15)
    assert pm.values[("a",)] == Span(1, 1, 1, 2)


def test_dotted_prefix_keeps_first_mention() -> None:
    text = "p.x = 1\np.y = 2\n"
    pm = toml_positions(text)
    assert pm.keys[("p",)] == Span(1, 1, 1, 2)
    assert pm.values[("p", "y")] == Span(2, 7, 2, 8)


def test_bare_keys_with_digits_dashes_underscores() -> None:
    text = "1-a_B = 1\n-- = 2\n3.14 = 3\n1234 = 4\n"
    pm = toml_positions(text)
    assert pm.keys[("1-a_B",)] == Span(1, 1, 1, 6)
    assert pm.values[("--",)] == Span(2, 6, 2, 7)
    assert pm.keys[("3",)] == Span(3, 1, 3, 2)
    assert pm.keys[("3", "14")] == Span(3, 3, 3, 5)
    assert pm.values[("1234",)] == Span(4, 8, 4, 9)


# ------------------------------------------------------------------ tables


def test_table_headers() -> None:
    text = '[a.b]\nx = 1\n[ a . "c" ]\ny = 2\n[a]\nz = 3\n'
    pm = toml_positions(text)
    assert pm.values[("a", "b")] == Span(1, 1, 1, 6)
    assert pm.keys[("a", "b")] == Span(1, 4, 1, 5)
    assert pm.values[("a", "b", "x")] == Span(2, 5, 2, 6)
    assert pm.values[("a", "c")] == Span(3, 1, 3, 12)
    assert pm.keys[("a", "c")] == Span(3, 7, 3, 10)
    assert pm.values[("a", "c", "y")] == Span(4, 5, 4, 6)
    # the explicit [a] (allowed after its sub-tables) replaces the implicit position
    assert pm.values[("a",)] == Span(5, 1, 5, 4)
    assert pm.values[("a", "z")] == Span(6, 5, 6, 6)


def test_dotted_keys_inside_table() -> None:
    text = "[t]\nu.v = 1\n"
    pm = toml_positions(text)
    assert pm.keys[("t", "u")] == Span(2, 1, 2, 2)
    assert pm.values[("t", "u", "v")] == Span(2, 7, 2, 8)


def test_array_of_tables_nested_counting() -> None:
    text = (
        "[[a.b]]\nn = 0\n[[a.b]]\nn = 1\n"
        "[[f]]\n[[f.v]]\nk = 0\n[[f.v]]\nk = 1\n[f.p]\nq = 0\n"
        "[[f]]\n[[f.v]]\nk = 2\n"
    )
    pm = toml_positions(text)
    assert pm.values[("a", "b", 0, "n")] == Span(2, 5, 2, 6)
    assert pm.values[("a", "b", 1)] == Span(3, 1, 3, 8)
    assert pm.values[("a", "b", 1, "n")] == Span(4, 5, 4, 6)
    assert pm.values[("f", 0, "v", 1, "k")] == Span(9, 5, 9, 6)
    assert pm.values[("f", 0, "p", "q")] == Span(11, 5, 11, 6)
    assert pm.values[("f", 1, "v", 0)] == Span(13, 1, 13, 8)
    assert pm.values[("f", 1, "v", 0, "k")] == Span(14, 5, 14, 6)


def test_array_of_tables_count_continues_after_subtable() -> None:
    text = "[[cells]]\n[cells.sub]\nx = 1\n[[cells]]\ny = 2\n[cells.sub]\nx = 3\n"
    pm = toml_positions(text)
    assert pm.values[("cells", 0, "sub", "x")] == Span(3, 5, 3, 6)
    assert pm.values[("cells", 1)] == Span(4, 1, 4, 10)
    assert pm.values[("cells", 1, "y")] == Span(5, 5, 5, 6)
    assert pm.values[("cells", 1, "sub", "x")] == Span(7, 5, 7, 6)


# --------------------------------------------------- inline tables, arrays


def test_nested_inline_tables() -> None:
    text = "a = { b = { c = [1, { d = 2 }] }, e.f = 'g' }\n"
    pm = toml_positions(text)
    assert pm.values[("a",)] == Span(1, 5, 1, 46)
    assert pm.values[("a", "b")] == Span(1, 11, 1, 33)
    assert pm.values[("a", "b", "c")] == Span(1, 17, 1, 31)
    assert pm.values[("a", "b", "c", 1, "d")] == Span(1, 27, 1, 28)
    assert pm.keys[("a", "e")] == Span(1, 35, 1, 36)
    assert pm.values[("a", "e", "f")] == Span(1, 41, 1, 44)
    assert pm.values[("a", "b", "c", 1)] == Span(1, 21, 1, 30)


def test_empty_containers() -> None:
    text = "a = []\nb = {}\nc = [ [ ], { } ]\n"
    pm = toml_positions(text)
    assert pm.values[("a",)] == Span(1, 5, 1, 7)
    assert pm.values[("b",)] == Span(2, 5, 2, 7)
    assert pm.values[("c", 0)] == Span(3, 7, 3, 10)
    assert pm.values[("c", 1)] == Span(3, 12, 3, 15)


def test_nested_multiline_arrays_with_comments_and_trailing_commas() -> None:
    text = (
        "m = [  # open\n"
        "  [1, 2],   # first\n"
        '  # a comment line, with [brackets] and "quotes"\n'
        "  [\n"
        "    'x',\n"
        '    "y]",\n'
        "  ],\n"
        "]\n"
        "after = true\n"
    )
    pm = toml_positions(text)
    assert pm.values[("m",)] == Span(1, 5, 8, 2)
    assert pm.values[("m", 0, 1)] == Span(2, 7, 2, 8)
    assert pm.values[("m", 1)] == Span(4, 3, 7, 4)
    assert pm.values[("m", 1, 1)] == Span(6, 5, 6, 9)
    assert pm.values[("after",)] == Span(9, 9, 9, 13)


# ------------------------------------------------------- numbers and dates


@pytest.mark.parametrize(
    "token",
    [
        "42",
        "+17",
        "-0",
        "1_000_000",
        "0xDEAD_beef",
        "0o755",
        "0b1101",
        "3.1415",
        "-1.5E-3",
        "6.626e+34",
        "inf",
        "-inf",
        "+nan",
        "true",
        "false",
        "1979-05-27T07:32:00Z",
        "1979-05-27 07:32:00.999-07:00",
        "1979-05-27t07:32:00",
        "1979-05-27",
        "07:32:00.5",
    ],
)
def test_opaque_scalar_tokens(token: str) -> None:
    for text in (f"v = {token}\n", f"v = {token} # c\n", f"v = [{token}, {token} ]\n"):
        pm = toml_positions(text)
        span = pm.values.get(("v",)) if "[" not in text else pm.values[("v", 0)]
        assert _at(text, span) == token, text
    pm = toml_positions(f"v = [{token} , {token}]")
    assert _at(f"v = [{token} , {token}]", pm.values[("v", 1)]) == token


def test_date_followed_by_comment_is_not_a_datetime() -> None:
    text = "d = 1979-05-27 # 07:32\n"
    pm = toml_positions(text)
    assert pm.values[("d",)] == Span(1, 5, 1, 15)


# --------------------------------------------- line endings, BOM, unicode


def test_crlf_gives_same_positions_as_lf() -> None:
    lf = toml_positions(EXAMPLE)
    crlf = toml_positions(EXAMPLE.replace("\n", "\r\n"))
    assert crlf.values == lf.values
    assert crlf.keys == lf.keys


def test_crlf_multiline_string_ends_before_cr() -> None:
    text = 'a = """x\r\ny"""\r\nb = 2\r\n'
    pm = toml_positions(text)
    assert pm.values[("a",)] == Span(1, 5, 2, 5)
    assert pm.values[("b",)] == Span(3, 5, 3, 6)


def test_bom_takes_no_column() -> None:
    text = "\ufeffname = 'x'\n[t]\nk = 1\n"
    pm = toml_positions(text)
    assert pm.keys[("name",)] == Span(1, 1, 1, 5)
    assert pm.values[("name",)] == Span(1, 8, 1, 11)
    assert pm.values[("t", "k")] == Span(3, 5, 3, 6)


def test_columns_count_characters_not_bytes() -> None:
    text = '"naïve" = "日本語"\nx = 1\n"ключ" = "é" # ü\n'
    pm = toml_positions(text)
    assert pm.keys[("naïve",)] == Span(1, 1, 1, 8)
    assert pm.values[("naïve",)] == Span(1, 11, 1, 16)
    assert pm.values[("x",)] == Span(2, 5, 2, 6)
    assert pm.keys[("ключ",)] == Span(3, 1, 3, 7)
    assert pm.values[("ключ",)] == Span(3, 10, 3, 13)


# ------------------------------------------------------------ robustness


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n# only comments\n",
        "a = ",
        "a = @@@",
        'a = "unterminated',
        "a = '''never closed",
        "a = [1, 2",
        "a = { b = 1",
        "[unclosed",
        "[[x]",
        "= 1",
        "a 1",
        "a = 1 b = 2",
        "a = [1 2]",
        "\ufeff",
        "[" * 5000,
        "a = " + "[" * 5000 + "]" * 5000,
    ],
)
def test_never_raises(text: str) -> None:
    pm = toml_positions(text)
    assert isinstance(pm.values, dict)
    assert isinstance(pm.keys, dict)


def test_returns_partial_map_on_garbage() -> None:
    text = "a = 1\n[t]\nb = 'x'\nc = ???\nd = 2\n"
    pm = toml_positions(text)
    assert pm.values[("a",)] == Span(1, 5, 1, 6)
    assert pm.values[("t", "b")] == Span(3, 5, 3, 8)
    assert ("t", "c") in pm.keys
    assert ("t", "d") not in pm.values


# ---------------------------------------------------- property-like check

DOCUMENTS: dict[str, str] = {
    "example": EXAMPLE,
    "strings": (
        'basic = "tab\\there \\"q\\" \\\\ \\u00e9 # not comment"  # comment\n'
        "literal = 'C:\\Users\\nodejs\\templates'\n"
        'ml = """\nRoses are red\n  Violets are "blue" \\\n    too"""\n'
        "mll = '''\nThe first newline is\ntrimmed in raw strings.\n   \\n stays'''\n"
        'quotes = """Here are two quotation marks: "". Simple enough."""\n'
        "q5 = '''''five'''''\n"
        'empty = ""\n'
        'uni = "Ünïcödé 日本 🎉"\n'
    ),
    "keys": (
        "bare_key = 1\nbare-key = 2\n1234 = 3\n"
        '"127.0.0.1" = "ip"\n"character encoding" = "v"\n\'key2\' = "v"\n'
        '\'quoted "value"\' = "v"\n"\\u0041\\t" = 4\n'
        'physical.color = "orange"\nphysical . shape = "round"\n'
        'site."google.com" = true\n3.14159 = "pi"\n'
    ),
    "tables": (
        '[table-1]\nkey1 = "some string"\nkey2 = 123\n\n'
        '[ dog . "tater.man" ]\ntype.name = "pug"\n\n'
        "[x.y.z.w] # sub\n[x]\nzz = 1\n"
        "[fruit]\napple.color = 'red'\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true\n"
    ),
    "array_of_tables": (
        '[[products]]\nname = "Hammer"\nsku = 738594937\n\n[[products]]  # empty\n\n'
        '[[products]]\nname = "Nail"\ncolor = "gray"\n\n'
        '[[fruits]]\nname = "apple"\n[fruits.physical]\ncolor = "red"\n'
        '[[fruits.varieties]]\nname = "red delicious"\n[[fruits.varieties]]\nname = "granny"\n'
        '[[fruits]]\nname = "banana"\n[[fruits.varieties]]\nname = "plantain"\n'
        "[fruits.physical]\nshape = 'long'\n"
    ),
    "arrays": (
        'integers = [ 1, 2, 3 ]\ncolors = [ "red", "yellow", "green" ]\n'
        "nested_arrays_of_ints = [ [ 1, 2 ], [3, 4, 5] ]\n"
        'nested_mixed_array = [ [ 1, 2 ], ["a", "b", "c"] ]\n'
        "string_array = [ \"all\", 'strings', \"\"\"are the same\"\"\", '''type''' ]\n"
        "numbers = [ 0.1, 0.2, 0.5, 1, 2, 5 ]\n"
        'contributors = [\n  "Foo Bar <foo@example.com>",\n'
        '  { name = "Baz Qux", email = "bazqux@example.com", url = "https://example.com/bazqux" }\n]\n'
        "integers2 = [\n  1, 2, 3\n]\nintegers3 = [\n  1,\n  2, # this is ok\n]\n"
        "deep = [[[[]]], [[{a = [1]}]]]\n"
    ),
    "scalars": (
        "int1 = +99\nint2 = 42\nint3 = 0\nint4 = -17\nint5 = 1_000\n"
        "hex = 0xdead_BEEF\noct = 0o01234567\nbin = 0b11010110\n"
        "flt1 = +1.0\nflt2 = 3.1415\nflt3 = -0.01\nflt4 = 5e+22\nflt5 = 1e06\nflt6 = -2E-2\n"
        "flt7 = 6.626e-34\nflt8 = 224_617.445_991_228\nsf1 = inf\nsf2 = +inf\nsf3 = -inf\n"
        "sf4 = nan\nsf5 = +nan\nsf6 = -nan\nbool1 = true\nbool2 = false\n"
        "odt1 = 1979-05-27T07:32:00Z\nodt2 = 1979-05-27T00:32:00-07:00\n"
        "odt3 = 1979-05-27T00:32:00.999999-07:00\nodt4 = 1979-05-27 07:32:00Z\n"
        "ldt1 = 1979-05-27T07:32:00\nldt2 = 1979-05-27T00:32:00.999999\n"
        "ld1 = 1979-05-27\nlt1 = 07:32:00\nlt2 = 00:32:00.999999\n"
        "dates = [1979-05-27, 1979-05-27 07:32:00 , 07:32:00]\n"
    ),
    "inline_tables": (
        'name = { first = "Tom", last = "Preston-Werner" }\n'
        "point = { x = 1, y = 2 }\n"
        'animal = { type.name = "pug" }\n'
        "nest = { a = { b = { c = { d = [ { e = 'f' }, {}, { g.h = 1 } ] } } } }\n"
        "empty = {}\n"
    ),
    "crlf_vnuma": (
        '# vnuma intent\r\nname = "guest-1"\r\nvcpus = 16\r\n'
        "memory = '64GiB' # total\r\n\r\n[numatune]\r\nmode = \"strict\"\r\n"
        'nodeset = "0-1"\r\n\r\n[[cells]]\r\ncpus = "0-7"\r\nmemory = "32GiB"\r\n'
        'distances = { 0 = 10, 1 = 21 }\r\n\r\n[[cells]]\r\ncpus = "8-15"\r\n'
        'memory = "32GiB"\r\ndistances = {0 = 21, 1 = 10}\r\n'
        'notes = """\r\nmulti\r\nline"""\r\n[cells.hugepages]\r\nsize = "1GiB"\r\n'
        "count = 16\r\n"
    ),
    "bom_unicode": (
        '\ufeff# BOM first\ntitle = "Ünïcödé ☃"\n"ключ" = \'значение\'\n'
        '["日本"."東京"]\n"人口" = 1\n'
    ),
    "awkward_layout": (
        "   indented   =   'x'   \n\t[  spaced . table  ]   \n"
        "a=1\nb=[1,2,3,]\nc={x=1,y=[{z=2}]}\n"
        "d = \"\"\"\"\"\"\ne = ''''''\n"
        "[[  arr  ]]\n[[ arr ]]\nf.g.h = [ # c\n  # c\n  1 , # c\n]\n"
    ),
}


def _document_ids() -> list[str]:
    return list(DOCUMENTS)


@pytest.mark.parametrize("name", _document_ids())
def test_every_decoded_path_has_a_value_span(name: str) -> None:
    text = DOCUMENTS[name]
    data = tomllib.loads(text.removeprefix("\ufeff"))
    pm = toml_positions(text)
    missing = [path for path, _ in _walk(data) if path not in pm.values]
    assert not missing, missing
    extra = [path for path in pm.values if not _has_path(data, path)]
    assert not extra, extra


def _has_path(data: Any, path: tuple) -> bool:
    for step in path:
        in_dict = isinstance(data, dict) and isinstance(step, str) and step in data
        in_list = isinstance(data, list) and isinstance(step, int) and step < len(data)
        if not (in_dict or in_list):
            return False
        data = data[step]
    return True


@pytest.mark.parametrize("name", _document_ids())
def test_scalar_spans_round_trip(name: str) -> None:
    text = DOCUMENTS[name]
    body = text.removeprefix("\ufeff")
    data = tomllib.loads(body)
    pm = toml_positions(text)
    checked = 0
    for path, value in _walk(data):
        if isinstance(value, dict | list):
            continue
        snippet = _slice(body, pm.values[path])
        decoded = tomllib.loads("x = " + snippet)["x"]
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(decoded), (path, snippet)
        else:
            assert decoded == value and type(decoded) is type(value), (path, snippet)
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("name", _document_ids())
def test_container_spans_round_trip(name: str) -> None:
    """Arrays and inline tables written as values decode back to themselves.

    Tables opened by a header (or implicitly by a dotted key) are skipped: their
    key span lies inside their value span.
    """
    body = DOCUMENTS[name].removeprefix("\ufeff")
    data = tomllib.loads(body)
    pm = toml_positions(body)
    checked = 0
    for path, value in _walk(data):
        if not isinstance(value, dict | list):
            continue
        span = pm.values[path]
        key = pm.keys.get(path)
        if key is not None and (key.line, key.column) >= (span.line, span.column):
            continue
        snippet = _slice(body, span)
        assert tomllib.loads("x = " + snippet)["x"] == value, (path, snippet)
        checked += 1
    if name in {"arrays", "inline_tables", "example"}:
        assert checked > 0


@pytest.mark.parametrize("name", _document_ids())
def test_key_spans_name_their_key(name: str) -> None:
    body = DOCUMENTS[name].removeprefix("\ufeff")
    pm = toml_positions(body)
    assert pm.keys
    for path, span in pm.keys.items():
        assert span.line == span.end_line
        assert span.column < span.end_column or path[-1] == ""
        if isinstance(path[-1], str):
            snippet = _slice(body, span)
            assert next(iter(tomllib.loads(snippet + " = 0"))) == path[-1], (path, snippet)


@pytest.mark.parametrize("name", _document_ids())
def test_spans_are_ordered(name: str) -> None:
    pm = toml_positions(DOCUMENTS[name])
    for span in [*pm.values.values(), *pm.keys.values()]:
        assert (span.line, span.column) <= (span.end_line, span.end_column)
        assert span.line >= 1 and span.column >= 1
