"""A JSON Schema (Draft 2020-12) validator for exactly the keywords the intent schema uses.

Importing ``jsonschema`` costs more than the rest of a pre-commit `vnuma lint` run
(referencing, attrs, format checkers, certifi), and the intent schema needs only a small
subset of the specification. This module validates that subset with the same results as
``jsonschema.Draft202012Validator`` (differentially tested in ``tests/test_jsonsubset.py``):
the same errors, in the same order, with the same ``validator``, ``validator_value``,
``instance``, ``schema``, ``absolute_path``, ``context`` and ``message`` for each.

A schema that uses any other keyword is refused when the validator is built
(:class:`UnsupportedSchema`), so the schema cannot silently outgrow this module.
Only local references (``#/...``) are resolved. Stdlib only; nothing happens at import time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing when vnuma starts
if TYPE_CHECKING:
    from typing import Any, TypeAlias

JsonPath: TypeAlias = "tuple[Any, ...]"
Predicate: TypeAlias = "Callable[[Any], bool]"

# Keywords that only annotate: they never produce an error.
ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description"})
KEYWORDS = frozenset(
    {
        "type",
        "const",
        "enum",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "$ref",
        "anyOf",
        "properties",
        "additionalProperties",
        "required",
        "items",
        "minItems",
        "maxItems",
        "propertyNames",
    }
)


class UnsupportedSchema(ValueError):
    """The schema uses a keyword (or a reference) this validator does not implement."""


class SchemaError:
    """One validation error, shaped like the parts of ``jsonschema.ValidationError`` we use."""

    __slots__ = (
        "absolute_path",
        "context",
        "instance",
        "message",
        "relative_schema_path",
        "schema",
        "validator",
        "validator_value",
    )

    def __init__(
        self,
        validator: str,
        validator_value: Any,
        instance: Any,
        schema: dict[str, Any],
        path: JsonPath,
        message: str,
        context: list[SchemaError] | None = None,
    ) -> None:
        self.validator = validator
        self.validator_value = validator_value
        self.instance = instance
        self.schema = schema
        self.absolute_path = path
        self.message = message
        self.context = context or []
        self.relative_schema_path: tuple[Any, ...] = (validator,)

    def __repr__(self) -> str:
        return f"<SchemaError {self.validator} at {list(self.absolute_path)}: {self.message}>"


def _always_valid(instance: Any) -> bool:
    return True


def _is_type(instance: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(instance, str)
    if kind == "object":
        return isinstance(instance, dict)
    if kind == "array":
        return isinstance(instance, list)
    if kind == "integer":
        if isinstance(instance, bool):
            return False
        return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())
    if kind == "number":
        return isinstance(instance, (int, float)) and not isinstance(instance, bool)
    if kind == "boolean":
        return isinstance(instance, bool)
    if kind == "null":
        return instance is None
    raise UnsupportedSchema(f"unknown type {kind!r}")


# `_is_type` for one kind, as a predicate of its own (the schema's usual single "type")
_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "string": lambda i: isinstance(i, str),
    "object": lambda i: isinstance(i, dict),
    "array": lambda i: isinstance(i, list),
    "boolean": lambda i: isinstance(i, bool),
    "null": lambda i: i is None,
}


_TRUE, _FALSE = object(), object()


def _unbool(value: Any) -> Any:
    if value is True:
        return _TRUE
    if value is False:
        return _FALSE
    return value


def _equal(one: Any, two: Any) -> bool:
    """JSON equality: true is not 1, 1.0 is 1 (as jsonschema's ``equal``)."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, (list, tuple)) and isinstance(two, (list, tuple)):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(_equal(one[k], two[k]) for k in one)
    return bool(_unbool(one) == _unbool(two))


class Validator:
    """Validates instances against ``schema`` (a parsed JSON document)."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._check(schema, "#")
        self._valid = _Predicates(self).of(schema)

    # --- the schema itself ----------------------------------------------------------------

    def _check(self, schema: Any, where: str) -> None:
        if isinstance(schema, bool):
            return
        if not isinstance(schema, dict):
            raise UnsupportedSchema(f"{where}: a schema must be an object or a boolean")
        for key, value in schema.items():
            if key in ANNOTATIONS:
                if key == "$defs":
                    for name, sub in value.items():
                        self._check(sub, f"{where}/$defs/{name}")
                continue
            if key not in KEYWORDS:
                raise UnsupportedSchema(f"{where}: keyword {key!r} is not supported")
            if key == "$ref":
                self._resolve(value)
            elif key == "properties":
                for name, sub in value.items():
                    self._check(sub, f"{where}/properties/{name}")
            elif key in ("additionalProperties", "items", "propertyNames"):
                self._check(value, f"{where}/{key}")
            elif key == "anyOf":
                for index, sub in enumerate(value):
                    self._check(sub, f"{where}/anyOf/{index}")
            elif key == "type":
                for kind in [value] if isinstance(value, str) else value:
                    _is_type(None, kind)
            elif key == "pattern":
                self._pattern(value)

    def _resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise UnsupportedSchema(f"only local references are supported, not {ref!r}")
        node: Any = self.schema
        for part in ref[1:].split("/")[1:] if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            try:
                node = node[int(part)] if isinstance(node, list) else node[part]
            except (KeyError, IndexError, ValueError, TypeError):
                raise UnsupportedSchema(f"unresolvable reference {ref!r}") from None
        return node

    def _pattern(self, pattern: str) -> re.Pattern[str]:
        compiled = self._patterns.get(pattern)
        if compiled is None:
            compiled = self._patterns[pattern] = re.compile(pattern)
        return compiled

    # --- instances ------------------------------------------------------------------------

    def is_valid(self, instance: Any) -> bool:
        """Whether ``iter_errors`` would yield nothing, without building any error."""
        return self._valid(instance)

    def iter_errors(self, instance: Any) -> Iterator[SchemaError]:
        return self._errors(instance, self.schema, ())

    def _errors(self, instance: Any, schema: Any, path: JsonPath) -> Iterator[SchemaError]:
        if schema is True:
            return
        if schema is False:
            yield SchemaError(
                "false", False, instance, {}, path, "False schema does not allow " + repr(instance)
            )
            return
        for key, value in schema.items():
            if key in ANNOTATIONS:
                continue
            yield from getattr(self, _METHODS[key])(value, instance, schema, path)

    def _type(
        self, value: Any, instance: Any, schema: Any, path: JsonPath
    ) -> Iterator[SchemaError]:
        kinds = [value] if isinstance(value, str) else value
        if not any(_is_type(instance, kind) for kind in kinds):
            reprs = ", ".join(repr(kind) for kind in kinds)
            yield SchemaError(
                "type", value, instance, schema, path, f"{instance!r} is not of type {reprs}"
            )

    def _const(
        self, value: Any, instance: Any, schema: Any, path: JsonPath
    ) -> Iterator[SchemaError]:
        if not _equal(instance, value):
            yield SchemaError("const", value, instance, schema, path, f"{value!r} was expected")

    def _enum(
        self, value: Any, instance: Any, schema: Any, path: JsonPath
    ) -> Iterator[SchemaError]:
        if all(not _equal(each, instance) for each in value):
            yield SchemaError(
                "enum", value, instance, schema, path, f"{instance!r} is not one of {value!r}"
            )

    def _pattern_kw(
        self, value: Any, instance: Any, schema: Any, path: JsonPath
    ) -> Iterator[SchemaError]:
        if isinstance(instance, str) and not self._pattern(value).search(instance):
            yield SchemaError(
                "pattern", value, instance, schema, path, f"{instance!r} does not match {value!r}"
            )

    def _min_length(
        self, value: Any, instance: Any, schema: Any, path: JsonPath
    ) -> Iterator[SchemaError]:
        if isinstance(instance, str) and len(instance) < value:
            message = "should be non-empty" if value == 1 else "is too short"
            yield SchemaError("minLength", value, instance, schema, path, f"{instance!r} {message}")

    def _max_length(
        self, value: Any, instance: Any, schema: Any, path: JsonPath
    ) -> Iterator[SchemaError]:
        if isinstance(instance, str) and len(instance) > value:
            message = "is expected to be empty" if value == 0 else "is too long"
            yield SchemaError("maxLength", value, instance, schema, path, f"{instance!r} {message}")

    def _minimum(
        self, value: Any, instance: Any, schema: Any, path: JsonPath
    ) -> Iterator[SchemaError]:
        if _is_type(instance, "number") and instance < value:
            yield SchemaError(
                "minimum",
                value,
                instance,
                schema,
                path,
                f"{instance!r} is less than the minimum of {value!r}",
            )

    def _maximum(
        self, value: Any, instance: Any, schema: Any, path: JsonPath
    ) -> Iterator[SchemaError]:
        if _is_type(instance, "number") and instance > value:
            yield SchemaError(
                "maximum",
                value,
                instance,
                schema,
                path,
                f"{instance!r} is greater than the maximum of {value!r}",
            )

    def _min_items(
        self, value: Any, instance: Any, schema: Any, path: JsonPath
    ) -> Iterator[SchemaError]:
        if isinstance(instance, list) and len(instance) < value:
            message = "should be non-empty" if value == 1 else "is too short"
            yield SchemaError("minItems", value, instance, schema, path, f"{instance!r} {message}")

    def _max_items(
        self, value: Any, instance: Any, schema: Any, path: JsonPath
    ) -> Iterator[SchemaError]:
        if isinstance(instance, list) and len(instance) > value:
            message = "is expected to be empty" if value == 0 else "is too long"
            yield SchemaError("maxItems", value, instance, schema, path, f"{instance!r} {message}")

    def _ref(self, value: Any, instance: Any, schema: Any, path: JsonPath) -> Iterator[SchemaError]:
        yield from self._errors(instance, self._resolve(value), path)

    def _any_of(
        self, value: Any, instance: Any, schema: Any, path: JsonPath
    ) -> Iterator[SchemaError]:
        context: list[SchemaError] = []
        for index, sub in enumerate(value):
            errors = list(self._errors(instance, sub, path))
            if not errors:
                return
            for error in errors:
                error.relative_schema_path = (index, *error.relative_schema_path)
            context.extend(errors)
        yield SchemaError(
            "anyOf",
            value,
            instance,
            schema,
            path,
            f"{instance!r} is not valid under any of the given schemas",
            context,
        )

    def _properties(
        self, value: Any, instance: Any, schema: Any, path: JsonPath
    ) -> Iterator[SchemaError]:
        if not isinstance(instance, dict):
            return
        for name, sub in value.items():
            if name in instance:
                yield from self._errors(instance[name], sub, (*path, name))

    def _additional_properties(
        self, value: Any, instance: Any, schema: Any, path: JsonPath
    ) -> Iterator[SchemaError]:
        if not isinstance(instance, dict):
            return
        known = schema.get("properties", {})
        extras = [key for key in instance if key not in known]
        if isinstance(value, dict):
            for extra in extras:
                yield from self._errors(instance[extra], value, (*path, extra))
        elif not value and extras:
            listed = sorted(extras, key=str)
            verb = "was" if len(listed) == 1 else "were"
            names = ", ".join(repr(extra) for extra in listed)
            yield SchemaError(
                "additionalProperties",
                value,
                instance,
                schema,
                path,
                f"Additional properties are not allowed ({names} {verb} unexpected)",
            )

    def _required(
        self, value: Any, instance: Any, schema: Any, path: JsonPath
    ) -> Iterator[SchemaError]:
        if not isinstance(instance, dict):
            return
        for name in value:
            if name not in instance:
                yield SchemaError(
                    "required", value, instance, schema, path, f"{name!r} is a required property"
                )

    def _items(
        self, value: Any, instance: Any, schema: Any, path: JsonPath
    ) -> Iterator[SchemaError]:
        if not isinstance(instance, list):
            return
        for index, item in enumerate(instance):
            yield from self._errors(item, value, (*path, index))

    def _property_names(
        self, value: Any, instance: Any, schema: Any, path: JsonPath
    ) -> Iterator[SchemaError]:
        if not isinstance(instance, dict):
            return
        for name in instance:
            yield from self._errors(name, value, path)


_METHODS = {
    "type": "_type",
    "const": "_const",
    "enum": "_enum",
    "pattern": "_pattern_kw",
    "minLength": "_min_length",
    "maxLength": "_max_length",
    "minimum": "_minimum",
    "maximum": "_maximum",
    "$ref": "_ref",
    "anyOf": "_any_of",
    "properties": "_properties",
    "additionalProperties": "_additional_properties",
    "required": "_required",
    "items": "_items",
    "minItems": "_min_items",
    "maxItems": "_max_items",
    "propertyNames": "_property_names",
}


class _Predicates:
    """Compiles a schema once into a predicate that holds exactly when `Validator._errors`
    yields no error: most intents are valid, and walking the schema dictionary for each
    (a generator per keyword) costs more than loading the file."""

    def __init__(self, validator: Validator) -> None:
        self.validator = validator
        self.compiled: dict[int, Predicate] = {}

    def of(self, schema: Any) -> Predicate:
        found = self.compiled.get(id(schema))
        if found is None:
            found = self.compiled[id(schema)] = self._compile(schema)
        return found

    def _compile(self, schema: Any) -> Predicate:
        if isinstance(schema, bool):
            return (lambda _: True) if schema else (lambda _: False)
        checks = [
            getattr(self, _METHODS[key])(value, schema)
            for key, value in schema.items()
            if key not in ANNOTATIONS
        ]

        # loops, not all()/any() over a generator: a predicate runs for every value of
        # every intent, and a generator per call costs more than most checks
        def valid(instance: Any) -> bool:
            for check in checks:  # noqa: SIM110 (no generator per call)
                if not check(instance):
                    return False
            return True

        return checks[0] if len(checks) == 1 else valid

    def _type(self, value: Any, schema: Any) -> Predicate:
        if isinstance(value, str):
            return _TYPE_TESTS.get(value) or (lambda i: _is_type(i, value))

        def valid(instance: Any) -> bool:
            for kind in value:  # noqa: SIM110 (no generator per call)
                if _is_type(instance, kind):
                    return True
            return False

        return valid

    def _const(self, value: Any, schema: Any) -> Predicate:
        return lambda i: _equal(i, value)

    def _enum(self, value: Any, schema: Any) -> Predicate:
        return lambda i: any(_equal(each, i) for each in value)

    def _pattern_kw(self, value: Any, schema: Any) -> Predicate:
        search = self.validator._pattern(value).search
        return lambda i: not isinstance(i, str) or search(i) is not None

    def _min_length(self, value: Any, schema: Any) -> Predicate:
        return lambda i: not isinstance(i, str) or len(i) >= value

    def _max_length(self, value: Any, schema: Any) -> Predicate:
        return lambda i: not isinstance(i, str) or len(i) <= value

    def _minimum(self, value: Any, schema: Any) -> Predicate:
        return lambda i: not (_is_type(i, "number") and i < value)

    def _maximum(self, value: Any, schema: Any) -> Predicate:
        return lambda i: not (_is_type(i, "number") and i > value)

    def _min_items(self, value: Any, schema: Any) -> Predicate:
        return lambda i: not isinstance(i, list) or len(i) >= value

    def _max_items(self, value: Any, schema: Any) -> Predicate:
        return lambda i: not isinstance(i, list) or len(i) <= value

    def _ref(self, value: Any, schema: Any) -> Predicate:
        target = self.validator._resolve(value)
        # looked up at the first call: a reference may lead back to the schema compiling it
        found: list[Predicate] = []

        def valid(instance: Any) -> bool:
            if not found:
                found.append(self.of(target))
            return found[0](instance)

        return valid

    def _any_of(self, value: Any, schema: Any) -> Predicate:
        branches = [self.of(sub) for sub in value]

        def valid(instance: Any) -> bool:
            for branch in branches:  # noqa: SIM110 (no generator per call)
                if branch(instance):
                    return True
            return False

        return valid

    def _properties(self, value: Any, schema: Any) -> Predicate:
        subs = {name: self.of(sub) for name, sub in value.items()}
        no_check = _always_valid

        # the instance's keys, not the schema's: an intent sets a few of its many properties
        def valid(instance: Any) -> bool:
            if not isinstance(instance, dict):
                return True
            for key, item in instance.items():  # noqa: SIM110 (no generator per call)
                if not subs.get(key, no_check)(item):
                    return False
            return True

        return valid

    def _additional_properties(self, value: Any, schema: Any) -> Predicate:
        known = schema.get("properties", {})
        if isinstance(value, dict):
            sub = self.of(value)
            return lambda i: (
                not isinstance(i, dict) or all(sub(i[key]) for key in i if key not in known)
            )
        if value:
            return lambda _: True
        return lambda i: not isinstance(i, dict) or i.keys() <= known.keys()

    def _required(self, value: Any, schema: Any) -> Predicate:
        names = frozenset(value)
        return lambda i: not isinstance(i, dict) or i.keys() >= names

    def _items(self, value: Any, schema: Any) -> Predicate:
        sub = self.of(value)

        def valid(instance: Any) -> bool:
            if not isinstance(instance, list):
                return True
            for item in instance:  # noqa: SIM110 (no generator per call)
                if not sub(item):
                    return False
            return True

        return valid

    def _property_names(self, value: Any, schema: Any) -> Predicate:
        sub = self.of(value)
        return lambda i: not isinstance(i, dict) or all(sub(name) for name in i)
