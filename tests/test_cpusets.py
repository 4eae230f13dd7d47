"""vnuma.cpusets: the one-term fast path of parse_cpuset agrees with the general parse."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from vnuma.cpusets import CpusetError, parse_cpuset


def outcome(text: str, limit: int) -> object:
    try:
        return parse_cpuset(text, limit=limit)
    except CpusetError as exc:
        # the set as written, and its one term (the same text, stripped)
        return (
            "error",
            exc.message.replace(f"'{text}'", "'SET'").replace(f"{text.strip()!r}", "'SET'"),
        )


ids = st.integers(0, 20_000).map(str) | st.from_regex(r"0[0-9]{1,3}", fullmatch=True)
terms = ids | st.tuples(ids, ids).map("-".join)


@settings(max_examples=150, deadline=None)
@given(terms, st.sampled_from([16383, 100, 0]))
def test_one_term_is_what_the_general_parse_says(term: str, limit: int) -> None:
    """A leading space sends the same set through the general parse (it strips)."""
    assert outcome(term, limit) == outcome(f" {term}", limit)


def test_one_term_values() -> None:
    assert parse_cpuset("3") == frozenset({3})
    assert parse_cpuset("0-7") == frozenset(range(8))
    assert parse_cpuset("007") == frozenset({7})
    for bad in ("7-3", "16384", "0-16384", "²", "3-", "-3"):
        try:
            parse_cpuset(bad)
        except CpusetError:
            continue
        raise AssertionError(f"{bad!r} parsed")
