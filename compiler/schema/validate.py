"""Validate stage: check a loaded intent against the JSON Schema, with precise positions."""

from __future__ import annotations

import json
from functools import cache

from vnuma.codes import make_diagnostic
from vnuma.cpusets import CpusetError, parse_cpuset
from vnuma.diagnostics import Diagnostic, JsonPath, PositionMap
from vnuma.resources import intent_schema_path
from vnuma.sizes import (
    SizeError,
    bare_number_hint,
    is_bare_number,
    parse_size_kib,
    unknown_unit_hint,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing when vnuma starts
if TYPE_CHECKING:
    from typing import Any

    from vnuma.schema.hints import SchemaHints

PAGE_SIZE_PATH: JsonPath = ("hugepages", "size")

SUPPORTED_VERSION = 1


@cache
def intent_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(intent_schema_path().read_text(encoding="utf-8"))
    return schema


@cache
def _validator() -> Any:
    # not jsonschema: importing it costs more than a whole pre-commit run (see jsonsubset)
    from vnuma.schema.jsonsubset import Validator

    return Validator(intent_schema())


def schema_errors(data: Any, validator: Any = None) -> list[Any]:
    """Schema errors of ``data`` in report order (by path; stable within one path).

    ``validator``: anything with jsonschema's ``iter_errors`` (the tests pass
    ``jsonschema.Draft202012Validator`` as the reference); default: ours.
    """
    errors = (validator or _validator()).iter_errors(data)
    return sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])


def validate_intent(
    data: Any,
    shown: str,
    positions: PositionMap,
    *,
    validator: Any = None,
    syntax: str | None = None,
) -> list[Diagnostic]:
    """``syntax``: "yaml" or "toml", for the examples in hints (default: by the suffix of
    ``shown``, as the loader chose)."""
    if isinstance(data, dict) and validator is None and _validator().is_valid(data):
        return []  # the hints (and difflib) are for files with mistakes: not on this path
    errors = list(schema_errors(data, validator)) if isinstance(data, dict) else []
    if isinstance(data, dict) and not errors:
        return []
    from vnuma.schema.hints import SchemaHints

    hints = SchemaHints(intent_schema(), syntax or _syntax_of(shown))
    if data is None:
        return [
            make_diagnostic(
                "VN002", "the intent is empty", shown, None, hint=hints.empty(), json_path=()
            )
        ]
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else type(data).__name__
        return [
            make_diagnostic(
                "VN002",
                f"the intent must be a mapping of keys, not {kind}",
                shown,
                positions.locate(()),
                hint=hints.not_a_mapping(),
                json_path=(),
            )
        ]
    reporter = _Reporter(shown, positions, hints, data)
    for error in errors:
        reporter.report(error)
    return reporter.diagnostics


def _syntax_of(shown: str) -> str:
    return "toml" if shown.lower().endswith(".toml") else "yaml"


class _Reporter:
    def __init__(
        self, shown: str, positions: PositionMap, hints: SchemaHints, data: dict[str, Any]
    ) -> None:
        self.shown = shown
        self.positions = positions
        self.hints = hints
        self.data = data
        self.diagnostics: list[Diagnostic] = []
        self._seen: set[tuple[str, JsonPath]] = set()
        defs = intent_schema()["$defs"]
        self._size_schema = defs["size"]
        self._idset_schema = defs["idset"]

    def report(self, error: Any) -> None:
        path: JsonPath = tuple(error.absolute_path)
        if error.validator in ("anyOf", "oneOf") and error.context:
            branch = _matching_branch(error)
            if branch is None:
                hint = self.hints.for_alternatives(error, path[-1] if path else None)
                self._add("VN002", _describe_alternatives(error, path), path, hint=hint)
            for sub_error in branch or ():
                self.report(sub_error)
            return
        if error.validator == "additionalProperties":
            self._unknown_keys(error, path)
        elif error.schema == self._size_schema:
            self._size(error.instance, path)
        elif error.schema == self._idset_schema:
            self._idset(error.instance, path)
        elif path == ("version",):
            self._add(
                "VN002",
                f"unsupported intent version {error.instance!r}; this vnuma reads version "
                f"{SUPPORTED_VERSION}",
                path,
                hint=self.hints.version(),
            )
        elif error.validator == "required":
            # one finding per missing key (at the mapping: the key has no place yet)
            from vnuma.schema.hints import missing_key

            missing = (*path, missing_key(error))
            self._add("VN002", _describe(error, path), missing, hint=self.hints.for_error(error))
        elif error.validator == "pattern" and self._names_a_key(error, path):
            self._bad_key(error.instance, path)
        else:
            self._add("VN002", _describe(error, path), path, hint=self.hints.for_error(error))

    def _unknown_keys(self, error: Any, path: JsonPath) -> None:
        import difflib

        allowed = sorted(error.schema.get("properties", {}))
        for key in sorted(set(error.instance) - set(allowed)):
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}"
            where = "at the top level" if not path else f"in {_dotted(path)}"
            self._add(
                "VN003", f"unknown key '{key}' {where}", (*path, key), hint=hint, prefer_key=True
            )

    def _names_a_key(self, error: Any, path: JsonPath) -> bool:
        """Whether the error is about a key of the mapping at ``path`` (``propertyNames``
        reports the mapping's path and the key as the instance)."""
        value: Any = self.data
        for step in path:
            value = value[step]
        return isinstance(value, dict) and error.instance in value

    def _bad_key(self, key: str, path: JsonPath) -> None:
        message = f"{_dotted(path)} has key {key!r}; keys must be cell ids (integers)"
        hint = self.hints.cell_id_keys(path[-1] if path else None)
        self._add("VN002", message, (*path, key), hint=hint, prefer_key=True)

    def _size(self, value: Any, path: JsonPath) -> None:
        if is_bare_number(value):
            hint = bare_number_hint(value, page_size=tuple(path) == PAGE_SIZE_PATH)
            self._add("VN004", f"size {value!r} has no unit", path, hint=hint)
            return
        try:
            parse_size_kib(value)
        except SizeError as exc:
            if isinstance(value, str):
                fix = unknown_unit_hint(value) or exc.hint
            else:
                fix = self.hints.size(path[-1] if path else None)
            self._add("VN005", exc.message, path, hint=fix)
            return
        self._add("VN005", f"invalid size {value!r}", path)

    def _idset(self, value: Any, path: JsonPath) -> None:
        try:
            parse_cpuset(value)
        except CpusetError as exc:
            fix = exc.hint or self.hints.idset(path[-1] if path else None)
            self._add("VN006", exc.message, path, hint=fix)
            return
        self._add("VN006", f"invalid set {value!r}", path, hint="use ids and ranges, e.g. '0-3,5'")

    def _add(
        self,
        code: str,
        message: str,
        path: JsonPath,
        *,
        hint: str | None = None,
        prefer_key: bool = False,
    ) -> None:
        if (code, path) in self._seen:
            return
        self._seen.add((code, path))
        span = self.positions.locate(path, prefer_key=prefer_key)
        self.diagnostics.append(
            make_diagnostic(code, message, self.shown, span, hint=hint, json_path=path)
        )


def _matching_branch(error: Any) -> list[Any] | None:
    """The errors of the alternative the value was meant for: the one its type matches.

    `cells: 4` or a list of cells, `nodeset: auto` or a set: a wrong cell or a bad set
    should be reported as such, not as "not valid under any of the given schemas".
    """
    branches: dict[int, list[Any]] = {}
    for sub_error in error.context:
        branches.setdefault(sub_error.relative_schema_path[0], []).append(sub_error)

    def mismatch(errors: list[Any]) -> bool:
        return any(
            e.validator in ("type", "const") and len(e.absolute_path) == len(error.absolute_path)
            for e in errors
        )

    fitting = [errors for _, errors in sorted(branches.items()) if not mismatch(errors)]
    return fitting[0] if fitting else None


_TYPE_NAMES = {
    "array": "a list",
    "object": "a mapping",
    "integer": "an integer",
    "string": "a string",
    "number": "a number",
    "boolean": "a boolean",
}


def _describe_alternatives(error: Any, path: JsonPath) -> str:
    expected: list[str] = []
    for sub_error in error.context:
        if sub_error.validator == "type":
            value = sub_error.validator_value
            names: list[str] = value if isinstance(value, list) else [value]
            expected.extend(_TYPE_NAMES.get(name, name) for name in names)
        elif sub_error.validator == "const":
            expected.append(repr(sub_error.validator_value))
    where = _dotted(path) or "the intent"
    alternatives = " or ".join(dict.fromkeys(expected)) or "a valid value"
    return f"{where} must be {alternatives}, not {_json_type(error.instance)} {error.instance!r}"


def _dotted(path: JsonPath) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return {int: "integer", float: "number", str: "string", list: "list", dict: "mapping"}.get(
        type(value), "value"
    )


def _describe(error: Any, path: JsonPath) -> str:
    where = _dotted(path) or "the intent"
    kind = error.validator
    if kind == "required":
        from vnuma.schema.hints import missing_key

        return f"missing required key '{missing_key(error)}' in {where}"
    if kind == "type":
        names = error.validator_value
        names = [names] if isinstance(names, str) else names
        expected = " or ".join(_TYPE_NAMES.get(name, name) for name in names)
        return f"{where} must be {expected}, not {_json_type(error.instance)} {error.instance!r}"
    if kind == "enum":
        return f"{where} is {error.instance!r}; expected one of: {', '.join(map(str, error.validator_value))}"
    if kind in ("minimum", "maximum"):
        bound = "at least" if kind == "minimum" else "at most"
        return f"{where} is {error.instance!r}; it must be {bound} {error.validator_value}"
    if kind in ("minItems", "maxItems"):
        bound = "at least" if kind == "minItems" else "at most"
        return f"{where} has {len(error.instance)} item(s); it must have {bound} {error.validator_value}"
    if kind in ("minLength", "maxLength"):
        return _describe_length(error, where)
    if kind == "pattern":
        return f"{where} is {error.instance!r}, which does not match {error.validator_value}"
    return f"{where}: {error.message}"


def _describe_length(error: Any, where: str) -> str:
    if error.instance == "":
        return f"{where} is empty"
    bound = "at least" if error.validator == "minLength" else "at most"
    return (
        f"{where} is {len(error.instance)} characters long; it must have {bound} "
        f"{error.validator_value}"
    )
