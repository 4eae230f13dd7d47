"""vnuma.schema.jsonsubset against jsonschema (the reference): same errors, same diagnostics.

vnuma validates intents with its own validator for the keywords the intent schema uses
(importing jsonschema costs more than a whole pre-commit run). Random intent-like
documents, valid and broken, must give the same errors from both validators (keyword,
path, message, instance, branch of an anyOf) and the same VN002-VN006 diagnostics.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from vnuma.diagnostics import PositionMap
from vnuma.schema.jsonsubset import UnsupportedSchema, Validator
from vnuma.schema.validate import intent_schema, schema_errors, validate_intent

from tests.conftest import INTENTS

SCHEMA = intent_schema()
REFERENCE = Draft202012Validator(SCHEMA)
OURS = Validator(SCHEMA)

# --- documents -------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=70000),
    st.sampled_from([0.0, 1.0, 2.5, -1.0, 1e20, math.inf, math.nan]),
    st.sampled_from(
        [
            "",
            " ",
            "auto",
            "node",
            "strict",
            "Strict",
            "interleave",
            "prefer",
            "dedicated",
            "shared",
            "4GiB",
            "4 GiB",
            "1.5TiB",
            "4gb",
            "4096",
            "0-3",
            "0-3,^2,5",
            "3-1",
            "^",
            "a/b",
            " x",
            "x" * 256,
            "1",
            "-1",
        ]
    ),
    st.text(alphabet="0-3,^ aGiBMKT.x/", max_size=8),
)


def junk(depth: int = 2) -> st.SearchStrategy[Any]:
    if depth == 0:
        return scalars
    inner = junk(depth - 1)
    return st.one_of(
        scalars,
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["a", "id", "size", "1"]), inner, max_size=2),
    )


def keyed(
    keys: dict[str, st.SearchStrategy[Any]], extra: list[Any], required: tuple[str, ...] = ()
) -> st.SearchStrategy[Any]:
    """A mapping of some of ``keys`` (each with its strategy) and maybe unknown keys.

    Keys are strings, as the loaders make them (only `distances` keeps integer keys).
    """
    names = list(keys)

    @st.composite
    def build(draw: Any) -> dict[Any, Any]:
        chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
        if draw(st.integers(0, 3)):  # mostly: the required keys are there
            chosen = [*required, *(name for name in chosen if name not in required)]
        return {name: draw(keys[name]) if name in keys else draw(junk(1)) for name in chosen}

    return build()


def maybe(strategy: st.SearchStrategy[Any], *wrong: Any) -> st.SearchStrategy[Any]:
    """Mostly ``strategy``, else one of the ``wrong`` values or anything."""
    bad = st.one_of(st.sampled_from(wrong), junk(1)) if wrong else junk(1)
    return st.integers(0, 9).flatmap(lambda n: bad if n == 0 else strategy)


size = maybe(
    st.sampled_from(["4GiB", "512MiB", " 2 GiB ", "1.5TiB", "100GB"]), "4", "4gib", 4, "GiB"
)
idset = maybe(st.sampled_from(["0", "0-3", "0-3,^2,5", 3, " 1 , 2 "]), -1, "1-", "x", 2.0)
node_or_auto = st.one_of(idset, st.just("auto"))
mode = maybe(st.sampled_from(["strict", "preferred", "interleave", "restrictive"]), "strikt")
distances = st.dictionaries(
    st.one_of(st.integers(min_value=-1, max_value=3), st.sampled_from(["1", "x", "01"])),
    maybe(st.integers(min_value=10, max_value=255), 5, 300),
    max_size=3,
).filter(lambda d: len({str(k) for k in d}) == len(d))  # one str() per error path
cell = maybe(
    keyed(
        {
            "id": maybe(st.integers(min_value=0, max_value=3), -1, 70000),
            "cpus": idset,
            "memory": size,
            "host_nodes": node_or_auto,
            "mode": mode,
            "mem_access": maybe(st.sampled_from(["shared", "private"]), "Shared"),
            "distances": maybe(distances),
        },
        ["memroy", "7"],
        ("memory",),
    )
)
topology = st.one_of(
    st.just("auto"),
    maybe(
        keyed(
            {
                k: maybe(st.integers(min_value=1, max_value=8), 0, 70000)
                for k in ("sockets", "dies", "cores", "threads")
            },
            ["socket"],
            ("sockets", "cores", "threads"),
        )
    ),
)
intents = keyed(
    {
        "version": maybe(st.just(1), 2, 1.0, True, "1"),
        "name": maybe(st.just("db"), "a/b", " db", "x" * 256, ""),
        "host": maybe(st.just("h.xml"), ""),
        "vcpus": maybe(st.integers(min_value=1, max_value=64), 0, -1, 70000, 2.0),
        "memory": size,
        "numatune": maybe(
            keyed(
                {
                    "mode": mode,
                    "nodeset": node_or_auto,
                    "placement": maybe(st.sampled_from(["static", "auto"]), "Auto"),
                    "reserve": size,
                },
                ["nodes"],
            )
        ),
        "cells": st.one_of(
            maybe(st.integers(min_value=1, max_value=8), 0, 129),
            maybe(st.lists(cell, min_size=1, max_size=3), []),
        ),
        "hugepages": maybe(keyed({"size": size}, ["count"], ("size",))),
        "cpu": maybe(
            keyed(
                {
                    "pinning": maybe(st.sampled_from(["none", "node", "dedicated"]), "pinned"),
                    "threads": maybe(st.sampled_from(["prefer", "isolate", "require"])),
                    "reserved": idset,
                    "emulator": st.one_of(st.sampled_from(["auto", "node"]), idset),
                    "topology": topology,
                },
                ["emulatorpin"],
            )
        ),
    },
    ["vcpu", "memroy", "extra", "3"],
    ("version", "vcpus", "memory"),
)


# --- comparison ------------------------------------------------------------------------


def _shape(error: Any) -> tuple[Any, ...]:
    return (
        error.validator,
        repr(error.validator_value),
        repr(error.instance),
        tuple(error.absolute_path),
        error.message,
        json.dumps(error.schema, sort_keys=True),
        # jsonschema orders the errors of additionalProperties subschemas by a set (string
        # hashing varies per process); ours by the document. Top-level errors are sorted
        # by path before they are reported; an anyOf's context is compared as a multiset.
        tuple(sorted(((e.relative_schema_path[0], _shape(e)) for e in error.context), key=repr)),
    )


def _diagnostics(data: Any, validator: Any) -> list[tuple[Any, ...]]:
    found = validate_intent(data, "intent.yaml", PositionMap(), validator=validator)
    return sorted((d.code, d.message, d.json_path, d.hint or "") for d in found)


def assert_same(data: Any) -> None:
    ours = [_shape(e) for e in schema_errors(data, OURS)]
    reference = [_shape(e) for e in schema_errors(data, REFERENCE)]
    assert ours == reference
    assert OURS.is_valid(data) == REFERENCE.is_valid(data)
    assert _diagnostics(data, OURS) == _diagnostics(data, REFERENCE)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(intents)
def test_same_errors_as_jsonschema(data: Any) -> None:
    assert_same(data)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(intents)
def test_same_errors_as_jsonschema_many(data) -> None:
    test_same_errors_as_jsonschema.hypothesis.inner_test(data=data)


@settings(max_examples=100, deadline=None)
@given(junk(3))
def test_same_errors_on_anything(data: Any) -> None:
    assert_same(data)


@pytest.mark.parametrize("intent", sorted(INTENTS.glob("*.yaml")), ids=lambda p: p.name)
def test_samples(intent: Any) -> None:
    data = yaml.safe_load(intent.read_text())
    assert OURS.is_valid(data)
    assert_same(data)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"version": 1, "vcpus": 4, "memory": "4GiB", "cells": [{"memory": "4GiB", "bogus": 1}]},
        {"version": 1.0, "vcpus": 4.0, "memory": "4GiB"},
        {"version": True, "vcpus": True, "memory": 4},
        {
            "version": 1,
            "vcpus": 4,
            "memory": "4GiB",
            "cells": [{"memory": "4GiB", "distances": {"x": 9, 1: 300}}],
        },
        {
            "version": 1,
            "vcpus": 4,
            "memory": "4GiB",
            "numatune": {"nodeset": "0-", "mode": "strikt"},
        },
        {
            "version": 1,
            "vcpus": 4,
            "memory": "4GiB",
            "cpu": {"topology": {"sockets": 0}, "emulator": "x"},
        },
    ],
)
def test_known_cases(data: Any) -> None:
    assert_same(data)


def test_unsupported_keywords_are_refused() -> None:
    with pytest.raises(UnsupportedSchema, match="oneOf"):
        Validator({"oneOf": [{"type": "string"}]})
    with pytest.raises(UnsupportedSchema, match="reference"):
        Validator({"$ref": "https://example.com/x.json"})
    with pytest.raises(UnsupportedSchema, match="type"):
        Validator({"type": "strnig"})


# Every keyword, each way it can be written, in one schema (the intent schema does not use
# them all): is_valid's compiled predicates must agree with the reference on each.
EVERY_KEYWORD = {
    "$defs": {
        "node": {
            "type": "object",
            "properties": {"next": {"$ref": "#/$defs/node"}, "n": {"type": "integer"}},
            "additionalProperties": False,
        }
    },
    "type": ["object", "array", "string", "number", "null", "boolean"],
    "properties": {
        "c": {"const": [1, {"a": True}]},
        "e": {"enum": ["x", 1, None, False]},
        "p": {"pattern": "^[a-z]+$", "minLength": 2, "maxLength": 4},
        "m": {"minimum": 1, "maximum": 5.5},
        "l": {"items": {"type": "integer"}, "minItems": 1, "maxItems": 2},
        "o": {"additionalProperties": {"type": "string"}, "propertyNames": {"maxLength": 2}},
        "open": {"additionalProperties": True, "required": ["k"]},
        "any": {"anyOf": [{"type": "string"}, {"minimum": 3}]},
        "node": {"$ref": "#/$defs/node"},
        "never": False,
        "always": True,
    },
}
EVERY_OURS = Validator(EVERY_KEYWORD)
EVERY_REFERENCE = Draft202012Validator(EVERY_KEYWORD)
every_key = st.sampled_from([*sorted(EVERY_KEYWORD["properties"]), "k", "next", "n", "zz"])


@settings(max_examples=100, deadline=None)
@given(st.one_of(junk(3), st.dictionaries(every_key, junk(2), max_size=4)))
def test_is_valid_agrees_on_every_keyword(data: Any) -> None:
    assert EVERY_OURS.is_valid(data) == EVERY_REFERENCE.is_valid(data)
    assert EVERY_OURS.is_valid(data) == (not list(EVERY_OURS.iter_errors(data)))


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(st.one_of(junk(3), st.dictionaries(every_key, junk(2), max_size=4)))
def test_is_valid_agrees_on_every_keyword_many(data) -> None:
    test_is_valid_agrees_on_every_keyword.hypothesis.inner_test(data=data)


@pytest.mark.parametrize(
    ("data", "valid"),
    [
        ({"c": [1, {"a": True}], "e": None, "p": "abc", "m": 5.5, "l": [1]}, True),
        ({"c": [1.0, {"a": 1}]}, False),
        ({"p": "abcde"}, False),
        ({"l": [1, 2, 3]}, False),
        ({"o": {"ab": "x", "abc": "y"}}, False),
        ({"o": {"ab": 1}}, False),
        ({"open": {"k": 1, "other": 2}}, True),
        ({"open": {}}, False),
        ({"any": 2}, False),
        ({"node": {"next": {"next": {"n": 1}}}}, True),
        ({"node": {"next": {"next": {"x": 1}}}}, False),
        ({"never": 1}, False),
        ({"always": 1}, True),
    ],
)
def test_is_valid_known_cases(data: Any, valid: bool) -> None:
    assert EVERY_OURS.is_valid(data) is valid
    assert EVERY_REFERENCE.is_valid(data) is valid
