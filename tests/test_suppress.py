"""Suppression comments are found in one pass, with the codes and places they had."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from vnuma.report.suppress import find_suppressions

# The patterns before the possessive rewrite, the reference on inputs short enough for them.
REFERENCE = {
    "hash": re.compile(r"#\s*vnuma:\s*disable\s*=\s*(?P<codes>[A-Za-z0-9_, ]+)"),
    "xml": re.compile(r"<!--\s*vnuma:\s*disable\s*=\s*(?P<codes>[A-Za-z0-9_, ]+?)\s*-->"),
}


def reference_codes(text: str, kind: str) -> list[tuple[int, str]]:
    """(offset of the code, code) of every code the reference pattern finds."""
    found = []
    for match in REFERENCE[kind].finditer(text):
        offset = match.start("codes")
        for raw in match.group("codes").split(","):
            if raw.strip():
                found.append((offset + len(raw) - len(raw.lstrip()), raw.strip().upper()))
            offset += len(raw) + 1
    return found


def found_codes(text: str, kind: str) -> list[tuple[int, str]]:
    starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
    return [
        (starts[s.span.line - 1] + s.span.column - 1, s.code) for s in find_suppressions(text, kind)
    ]


pieces = st.sampled_from(
    [
        "#",
        "<!--",
        "-->",
        " ",
        "  ",
        "\t",
        "\n",
        "vnuma:",
        "disable",
        "=",
        "VN101",
        "vn2",
        ",",
        "x",
        "-",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(pieces, max_size=14), st.sampled_from(["hash", "xml"]))
def test_the_same_codes_as_the_old_patterns(parts: list[str], kind: str) -> None:
    text = "".join(parts)
    assert found_codes(text, kind) == reference_codes(text, kind)
