"""The intent JSON Schema: valid Draft 2020-12, closed, documented, and it accepts every sample."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from tests.conftest import INTENTS, REPO

SCHEMA = json.loads((REPO / "schemas" / "intent-v1.schema.json").read_text())


def _objects(node: Any, where: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            yield where, node
        for key, value in node.items():
            yield from _objects(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _objects(value, f"{where}[{i}]")


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_property_is_documented_and_every_object_closed() -> None:
    for where, obj in _objects(SCHEMA):
        for name, prop in obj.get("properties", {}).items():
            assert prop.get("description"), f"{where}.properties.{name} has no description"
        if "properties" in obj:
            assert obj.get("additionalProperties") is False, f"{where} is not closed"


@pytest.mark.parametrize("intent", sorted(INTENTS.iterdir()), ids=lambda p: p.name)
def test_samples_validate(intent) -> None:
    text = intent.read_text()
    data = tomllib.loads(text) if intent.suffix == ".toml" else yaml.safe_load(text)
    errors = list(Draft202012Validator(SCHEMA).iter_errors(data))
    assert errors == []
