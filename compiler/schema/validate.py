"""Validate stage: check a loaded intent against the JSON Schema, with precise positions."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from vnuma.codes import make_diagnostic
from vnuma.cpusets import CpusetError, parse_cpuset
from vnuma.diagnostics import Diagnostic, JsonPath, PositionMap
from vnuma.resources import intent_schema_path
from vnuma.sizes import SizeError, bare_number_hint, is_bare_number, parse_size_kib

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
    data: Any, shown: str, positions: PositionMap, *, validator: Any = None
) -> list[Diagnostic]:
    if data is None:
        return [
            make_diagnostic(
                "VN002",
                "the intent is empty",
                shown,
                None,
                hint="start with `version: 1`, `vcpus:` and `memory:`",
                json_path=(),
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
                json_path=(),
            )
        ]
    reporter = _Reporter(shown, positions)
    for error in schema_errors(data, validator):
        reporter.report(error)
    return reporter.diagnostics


class _Reporter:
    def __init__(self, shown: str, positions: PositionMap) -> None:
        self.shown = shown
        self.positions = positions
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
                self._add("VN002", _describe_alternatives(error, path), path, hint=_hint(error))
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
                hint="set `version: 1`",
            )
        else:
            self._add("VN002", _describe(error, path), path, hint=_hint(error))

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

    def _size(self, value: Any, path: JsonPath) -> None:
        if is_bare_number(value):
            self._add("VN004", f"size {value!r} has no unit", path, hint=bare_number_hint(value))
            return
        try:
            parse_size_kib(value)
        except SizeError as exc:
            self._add("VN005", exc.message, path, hint=exc.hint)
            return
        self._add("VN005", f"invalid size {value!r}", path)

    def _idset(self, value: Any, path: JsonPath) -> None:
        try:
            parse_cpuset(value)
        except CpusetError as exc:
            self._add("VN006", exc.message, path, hint=exc.hint)
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
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"missing required key '{missing}' in {where}"
    if kind == "type":
        expected = (
            error.validator_value
            if isinstance(error.validator_value, str)
            else " or ".join(error.validator_value)
        )
        return f"{where} must be {expected}, not {_json_type(error.instance)} {error.instance!r}"
    if kind == "enum":
        return f"{where} is {error.instance!r}; expected one of: {', '.join(map(str, error.validator_value))}"
    if kind in ("minimum", "maximum"):
        bound = "at least" if kind == "minimum" else "at most"
        return f"{where} is {error.instance!r}; it must be {bound} {error.validator_value}"
    if kind in ("minItems", "maxItems"):
        bound = "at least" if kind == "minItems" else "at most"
        return f"{where} has {len(error.instance)} item(s); it must have {bound} {error.validator_value}"
    if kind == "propertyNames":
        return f"{where} has key {error.instance!r}; keys must be cell ids (integers)"
    return f"{where}: {error.message}"


def _hint(error: Any) -> str | None:
    if error.validator == "enum" and isinstance(error.instance, str):
        import difflib

        close = difflib.get_close_matches(
            error.instance, [str(v) for v in error.validator_value], n=1
        )
        if close:
            return f"did you mean '{close[0]}'?"
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    return description
