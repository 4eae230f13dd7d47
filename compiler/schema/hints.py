"""How to fix a value the intent schema refuses, derived from the schema's keywords.

A hint names what the value may be (the type, the range, the allowed values) and gives
an example in the file's own syntax (``memory: 1GiB`` in YAML, ``memory = "1GiB"`` in
TOML). It never repeats a ``description``: that says what a key means, not how to fix it.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from typing import Any

from vnuma.libvirt.values import parse_uint

Schema = dict[str, Any]

SIZE_EXAMPLE = "1GiB"  # a valid guest memory, reserve and huge page size alike
IDSET_EXAMPLE = "0-1"
STARTER: tuple[tuple[str, Any], ...] = (("version", 1), ("vcpus", 4), ("memory", "4GiB"))
# Patterns the schema uses besides sizes and id sets (which have their own checks).
PATTERN_HINTS = {r"^[^/\s][^/]*$": "use a name without '/' that does not start with a space"}
# A word, or digits-first text with a letter or '-' after them. Possessive, and the
# lookahead skips only what cannot be the letter: a long value is read in one pass (the
# backtracking form took 0.8 s on 16,000 characters).
_PLAIN_YAML = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*+|[0-9](?=[0-9_.]*+[A-Za-z-])[0-9A-Za-z_.-]*+")
_YAML_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n"})


class SchemaHints:
    """Hints for one file: ``syntax`` is "yaml" or "toml"."""

    def __init__(self, root: Schema, syntax: str) -> None:
        self.root = root
        self.toml = syntax == "toml"
        self.size_schema = root["$defs"]["size"]
        self.idset_schema = root["$defs"]["idset"]

    # --- per kind of error ------------------------------------------------------------

    def for_error(self, error: Any) -> str | None:
        """The hint for one schema error (not anyOf, sizes, id sets or unknown keys)."""
        kind = error.validator
        if kind == "type":
            return self._type(error)
        if kind == "required":
            return self._required(error)
        if kind == "enum":
            return self._enum(error)
        if kind in ("minimum", "maximum"):
            return f"use {self.expected(error.schema)}"
        if kind in ("minItems", "maxItems"):
            return f"give {self._count(error.schema, 'minItems', 'maxItems', 'item')}"
        if kind in ("minLength", "maxLength"):
            if error.instance == "":
                return "give a value, or remove the key"
            return f"use {self._count(error.schema, 'minLength', 'maxLength', 'character')}"
        if kind == "pattern":
            pattern = error.validator_value
            return PATTERN_HINTS.get(
                pattern, f"change it to match the regular expression {pattern}"
            )
        return None

    def for_alternatives(self, error: Any, key: str | int | None) -> str:
        """For a value that fits none of an ``anyOf``'s branches."""
        branches = [self.resolve(branch) for branch in error.schema.get("anyOf", ())]
        words = [w for b in branches for w in self._words(b) if isinstance(w, str)]
        close = _close_match(error.instance, words)
        if close is not None:
            return f"did you mean '{close}'?"
        unquoted = self._unquoted(error.instance, branches, key)
        if unquoted is not None:
            return unquoted
        return f"write {_or_list(self._phrases(branches))}"

    def size(self, key: str | int | None) -> str:
        return f"write a size with a unit, e.g. `{self.snippet(key, SIZE_EXAMPLE)}`"

    def idset(self, key: str | int | None) -> str:
        return f"write a set of ids, e.g. `{self.snippet(key, IDSET_EXAMPLE)}`"

    def cell_id_keys(self, key: str | int | None) -> str:
        return f"key it by the other cell's id, e.g. `{self.snippet(key, {1: 21})}`"

    def version(self) -> str:
        return f"set `{self.snippet('version', 1)}`"

    def empty(self) -> str:
        first = (self.snippet(key, value) for key, value in STARTER)
        return "start with " + _and_list(f"`{line}`" for line in first)

    def not_a_mapping(self) -> str:
        return f"write the intent as keys and values, starting with `{self.snippet('version', 1)}`"

    # --- what a schema allows -----------------------------------------------------------

    def resolve(self, schema: Any) -> Schema:
        while isinstance(schema, dict) and "$ref" in schema:
            target: Any = self.root
            for step in schema["$ref"].removeprefix("#/").split("/"):
                target = target[step]
            schema = target
        return schema if isinstance(schema, dict) else {}

    def expected(self, schema: Any) -> str:
        """What a value of ``schema`` is, as a noun phrase ("an integer from 1 to 128")."""
        return _or_list(self._phrases([self.resolve(schema)]))

    def example(self, schema: Any) -> Any:
        """A valid value of ``schema`` to show, or None when no example would be honest."""
        schema = self.resolve(schema)
        if schema is self.size_schema:
            return SIZE_EXAMPLE
        if schema is self.idset_schema:
            return IDSET_EXAMPLE
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        if "anyOf" in schema:
            found = (self.example(branch) for branch in schema["anyOf"])
            return next((value for value in found if value is not None), None)
        if schema.get("type") == "object":
            return self._object_example(schema)
        return None

    def snippet(self, key: str | int | None, value: Any) -> str:
        if key is None or isinstance(key, int):
            return self.render(value)
        return f"{key} = {self.render(value)}" if self.toml else f"{key}: {self.render(value)}"

    def render(self, value: Any) -> str:
        """``value`` as the file's syntax writes it inline."""
        if isinstance(value, dict):
            sep = " = " if self.toml else ": "
            items = ", ".join(f"{k}{sep}{self.render(v)}" for k, v in value.items())
            return f"{{{items}}}"
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, str):
            return value if not self.toml and _yaml_plain(value) else json.dumps(value)
        return str(value)

    # --- helpers ------------------------------------------------------------------------

    def _type(self, error: Any) -> str:
        schema = self.resolve(error.schema)
        key = _last(error.absolute_path)
        unquoted = self._unquoted(error.instance, [schema], key)
        if unquoted is not None:
            return unquoted
        if _types(schema) == ["string"] and _is_number(error.instance):
            return f"quote it: `{self.snippet(key, str(error.instance))}`"
        hint = f"write {self.expected(schema)}"
        example = self.example(schema)
        return hint if example is None else f"{hint}, e.g. `{self.snippet(key, example)}`"

    def _required(self, error: Any) -> str:
        missing = missing_key(error)
        schema = self.resolve(error.schema.get("properties", {}).get(missing, {}))
        example = self.example(schema)
        if "const" in schema:
            return f"add `{self.snippet(missing, example)}`"
        what = self.expected(schema)
        if example is None:
            return f"add {missing}, {what}"
        return f"add {missing}, {what}, e.g. `{self.snippet(missing, example)}`"

    def _enum(self, error: Any) -> str:
        values = error.validator_value
        close = _close_match(error.instance, [str(v) for v in values])
        if close is not None:
            return f"did you mean '{close}'?"
        example = self.snippet(_last(error.absolute_path), values[0])
        return f"write one of them, e.g. `{example}`"

    def _unquoted(self, value: Any, branches: list[Schema], key: str | int | None) -> str | None:
        """A number written as a string where an integer belongs: say to drop the quotes."""
        wants_integer = any(_types(branch) == ["integer"] for branch in branches)
        number = parse_uint(value) if wants_integer and isinstance(value, str) else None
        if number is None:
            return None
        return f"write the number without quotes: `{self.snippet(key, number)}`"

    def _phrases(self, branches: Iterable[Schema]) -> list[str]:
        """Alternatives as noun phrases; a branch of literal values gives one per value."""
        phrases: list[str] = []
        for branch in map(self.resolve, branches):
            words = self._words(branch)
            if words:
                phrases.extend(self.render(word) for word in words)
            else:
                phrases.append(self._phrase(branch))
        return phrases

    def _words(self, schema: Schema) -> list[Any]:
        """The literal values a schema allows (const, enum), or [] for a kind of value."""
        if "const" in schema:
            return [schema["const"]]
        return list(schema.get("enum", ()))

    def _phrase(self, schema: Schema) -> str:
        if schema is self.size_schema:
            return "a size with a unit"
        if schema is self.idset_schema:
            return f'a set of ids such as "{IDSET_EXAMPLE},4"'
        if "anyOf" in schema:
            return self.expected(schema)
        names = _types(schema)
        return " or ".join(self._type_phrase(name, schema) for name in names) or "a valid value"

    def _type_phrase(self, name: str, schema: Schema) -> str:
        if name == "integer":
            return "an integer" + _range(schema.get("minimum"), schema.get("maximum"))
        if name == "object":
            required = schema.get("required", [])
            if not required:
                return "a mapping"
            return f"a mapping with key{'s' if len(required) > 1 else ''} {_and_list(required)}"
        if name == "array":
            if "minItems" in schema or "maxItems" in schema:
                return f"a list of {self._count(schema, 'minItems', 'maxItems', 'item')}"
            return "a list"
        return {"string": "a string", "number": "a number", "boolean": "true or false"}.get(
            name, name
        )

    def _count(self, schema: Schema, low: str, high: str, unit: str) -> str:
        least, most = schema.get(low), schema.get(high)
        if least is not None and most is not None:
            return f"{least} to {most} {unit}s"
        if most is not None:
            return f"at most {most} {unit}{'s' if most != 1 else ''}"
        return f"at least {least} {unit}{'s' if least != 1 else ''}"

    def _object_example(self, schema: Schema) -> dict[str, Any] | None:
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        if required:
            values = {key: self.example(properties.get(key, {})) for key in required}
            return None if None in values.values() else values
        for key, sub_schema in properties.items():
            value = self.example(sub_schema)
            if value is not None:
                return {key: value}
        return None


def missing_key(error: Any) -> str:
    """The key a ``required`` error is about (its message is "'key' is a required property")."""
    message: str = error.message
    return message.split("'")[1] if "'" in message else message


def _types(schema: Schema) -> list[str]:
    value = schema.get("type", [])
    return [value] if isinstance(value, str) else list(value)


def _range(least: Any, most: Any) -> str:
    if least is not None and most is not None:
        return f" from {least} to {most}"
    if least is not None:
        return f" of at least {least}"
    return f" of at most {most}" if most is not None else ""


def _last(path: Any) -> str | int | None:
    steps = tuple(path)
    return steps[-1] if steps else None


def _close_match(value: Any, words: list[str]) -> str | None:
    if not isinstance(value, str) or not words:
        return None
    close = difflib.get_close_matches(value, words, n=1)
    return close[0] if close else None


def _yaml_plain(text: str) -> bool:
    """Whether YAML reads ``text`` unquoted back as this string."""
    return _PLAIN_YAML.fullmatch(text) is not None and text.lower() not in _YAML_WORDS


def _or_list(items: Iterable[str]) -> str:
    return _joined(list(items), "or")


def _and_list(items: Iterable[str]) -> str:
    return _joined(list(items), "and")


def _joined(items: list[str], word: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
