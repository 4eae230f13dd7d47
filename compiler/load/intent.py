"""Read a YAML or TOML intent into plain data plus a map of where every value sits."""

from __future__ import annotations

import os
import re
from pathlib import Path

from vnuma.codes import make_diagnostic
from vnuma.diagnostics import DeferredSpans, Diagnostic, JsonPath, PositionMap, Span
from vnuma.load.text import StrPath, decode_utf8, read_bytes
from vnuma.records import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing when vnuma starts
if TYPE_CHECKING:
    from typing import Any

INTENT_SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}
MAX_YAML_NODES = 100_000
MAX_DEPTH = 64
PYTHON_TAG = "tag:yaml.org,2002:python/"
STR_TAG = "tag:yaml.org,2002:str"
INT_TAG = "tag:yaml.org,2002:int"
_PLAIN_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class RawDocument(Record):
    __slots__ = ("base_dir", "data", "diagnostics", "format", "path", "positions", "text")
    _uncompared = ("positions",)

    def __init__(
        self,
        path: str,
        base_dir: Path,
        format: str,
        data: Any,
        positions: PositionMap | None = None,
        diagnostics: tuple[Diagnostic, ...] = (),
        text: str = "",
    ) -> None:
        self.path = path
        self.base_dir = base_dir
        self.format = format
        self.data = data
        self.positions = PositionMap() if positions is None else positions
        self.diagnostics = diagnostics
        self.text = text
        """The source text (undecodable bytes replaced), for comment scanning."""

    @property
    def ok(self) -> bool:
        return not self.diagnostics


def intent_format(path: StrPath) -> str | None:
    return INTENT_SUFFIXES.get(os.path.splitext(path)[1].lower())


def load_intent(
    path: StrPath,
    display: str | None = None,
    *,
    real_directory: Path | None = None,
    data: bytes | None = None,
) -> RawDocument:
    """Raises UnreadableInput when the file cannot be read; everything else is a diagnostic.

    ``real_directory``: ``path.resolve().parent`` when the caller already knows it.
    ``data``: the file's bytes, when the caller has read them."""
    shown = display or os.fspath(path)
    fmt = intent_format(path) or "yaml"
    if data is None:
        data = read_bytes(path)
    text, problem = decode_utf8(data)
    base_dir = real_directory or Path(path).resolve().parent
    if problem is not None:
        span = Span(problem.line, problem.column, problem.line, problem.column + 1)
        diag = make_diagnostic("VN001", problem.message, shown, span, hint="save the file as UTF-8")
        readable = data.decode("utf-8", errors="replace")
        return RawDocument(shown, base_dir, fmt, None, diagnostics=(diag,), text=readable)
    loader = _load_toml if fmt == "toml" else _load_yaml
    parsed, positions, diagnostics = loader(text, shown)
    return RawDocument(shown, base_dir, fmt, parsed, positions, tuple(diagnostics), text)


# --- YAML ---------------------------------------------------------------------------


def _load_yaml(text: str, shown: str) -> tuple[Any, PositionMap, list[Diagnostic]]:
    import yaml
    from vnuma.load.yamlloader import IntentLoader

    loader = IntentLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        return None, PositionMap(), [_yaml_syntax_error(exc, text, shown)]
    except yaml.YAMLError as exc:
        return None, PositionMap(), [make_diagnostic("VN001", f"YAML error: {exc}", shown)]
    finally:
        loader.dispose()
    if node is None:
        return None, PositionMap(), []
    builder = _YamlBuilder(loader, shown)
    try:
        data = builder.build(node, ())
    except _Unbuildable as exc:
        return None, PositionMap(), [make_diagnostic("VN001", exc.message, shown, exc.span)]
    return data, builder.positions, builder.diagnostics


class _Unbuildable(Exception):
    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.message = message
        self.span = span


class _YamlBuilder:
    """Builds plain data from composed nodes: keeps positions, reports duplicate keys.

    Positions are the nodes themselves until a lookup turns one into a span (most
    files have no finding to place)."""

    def __init__(self, loader: Any, shown: str) -> None:
        import yaml

        self.loader = loader
        self.shown = shown
        self.value_nodes: dict[JsonPath, Any] = {}
        self.key_nodes: dict[JsonPath, Any] = {}
        self.positions = PositionMap(
            DeferredSpans(_node_span, self.value_nodes), DeferredSpans(_node_span, self.key_nodes)
        )
        self.diagnostics: list[Diagnostic] = []
        self.count = 0
        self.open_nodes: set[int] = set()
        self.yaml_error = yaml.YAMLError
        self.mapping_node = yaml.MappingNode
        self.sequence_node = yaml.SequenceNode
        self.scalar_node = yaml.ScalarNode

    def build(self, node: Any, path: JsonPath) -> Any:
        self.count += 1
        if self.count > MAX_YAML_NODES:
            raise _Unbuildable(
                f"YAML document expands to more than {MAX_YAML_NODES} nodes (alias bomb?)",
                _node_span(node),
            )
        if len(path) > MAX_DEPTH:
            raise _Unbuildable(
                f"YAML document is nested deeper than {MAX_DEPTH} levels", _node_span(node)
            )
        self.value_nodes[path] = node
        if node.tag.startswith(PYTHON_TAG):
            raise _Unbuildable(
                f"YAML tag {node.tag.replace('tag:yaml.org,2002:', '!!')} is not allowed: "
                "intents are plain data",
                _node_span(node),
            )
        if isinstance(node, self.mapping_node | self.sequence_node):
            if id(node) in self.open_nodes:
                raise _Unbuildable(
                    "YAML alias refers to a node that contains it (recursive structure)",
                    _node_span(node),
                )
            self.open_nodes.add(id(node))
            try:
                if isinstance(node, self.mapping_node):
                    return self._mapping(node, path)
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            finally:
                self.open_nodes.discard(id(node))
        if node.tag == STR_TAG:
            return node.value  # what SafeConstructor.construct_yaml_str returns
        if node.tag == INT_TAG and _PLAIN_DECIMAL.fullmatch(node.value):
            if len(node.value) <= MAX_INT_DIGITS:
                return int(node.value)  # construct_yaml_int's plain case, without its dispatch
            message = f"cannot read value: {TOO_MANY_DIGITS}"
            self.diagnostics.append(make_diagnostic("VN001", message, self.shown, _node_span(node)))
            return None
        try:
            return self.loader.construct_object(node, deep=True)
        except (self.yaml_error, ValueError) as exc:  # ValueError: int() of '+999...9'
            problem = getattr(exc, "problem", None) or exc
            if "integer string conversion" in str(problem):
                problem = TOO_MANY_DIGITS
            message = f"cannot read value: {problem}"
            self.diagnostics.append(make_diagnostic("VN001", message, self.shown, _node_span(node)))
            return None

    def _mapping(self, node: Any, path: JsonPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Any] = {}  # key -> its first key node
        for key_node, value_node in node.value:
            if isinstance(key_node, self.scalar_node) and key_node.tag == STR_TAG:
                key = key_node.value
            elif isinstance(key_node, self.scalar_node):
                try:
                    key = str(self.loader.construct_object(key_node))
                except self.yaml_error as exc:
                    problem = getattr(exc, "problem", None) or exc
                    self.diagnostics.append(
                        make_diagnostic(
                            "VN001", f"cannot read key: {problem}", self.shown, _node_span(key_node)
                        )
                    )
                    continue
            else:
                key = "<complex key>"
            if key in first_seen:
                line = _node_span(first_seen[key]).line
                self.diagnostics.append(
                    make_diagnostic(
                        "VN007",
                        f"duplicate key {key!r} (first defined on line {line})",
                        self.shown,
                        _node_span(key_node),
                        hint="YAML keeps only the last value; remove one of them",
                        json_path=(*path, key),
                    )
                )
                continue
            first_seen[key] = key_node
            self.key_nodes[(*path, key)] = key_node
            result[key] = self.build(value_node, (*path, key))
        return result


def _yaml_syntax_error(exc: Any, text: str, shown: str) -> Diagnostic:
    """VN001 where the user must look: the opening quote of a string that never ends
    (the scanner notices only at the end of the file), the tab that indents a line."""
    problem = str(exc.problem or exc.context)
    if _is_unterminated_string(exc):
        opening = exc.context_mark
        quote = _char_at(text, opening.line, opening.column) or '"'
        return make_diagnostic(
            "VN001",
            f"YAML syntax error: unterminated string: the {quote} opened here is never closed",
            shown,
            _mark_span(opening),
            hint=f"add the closing {quote}; a quoted YAML string may span lines, so the "
            "parser read on to the end of the document",
        )
    mark = exc.problem_mark or exc.context_mark
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        return _tab_error(text, mark, shown)
    span = _mark_span(mark) if mark else None
    return make_diagnostic("VN001", f"YAML syntax error: {problem}", shown, span)


def _is_unterminated_string(exc: Any) -> bool:
    context = str(exc.context or "")
    problem = str(exc.problem or "")
    return (
        exc.context_mark is not None
        and context.startswith("while scanning a quoted scalar")
        and ("end of stream" in problem or "document" in problem)
    )


def _tab_error(text: str, mark: Any, shown: str) -> Diagnostic:
    before = _line_at(text, mark.line)[: mark.column]
    if before.strip(" \t"):
        message = "YAML syntax error: a tab character here cannot start a value or key"
        hint = "replace the tab with spaces"
    else:
        message = "YAML syntax error: a tab indents this line; YAML forbids tabs for indentation"
        hint = "indent with spaces (set your editor to insert spaces for YAML files)"
    return make_diagnostic("VN001", message, shown, _mark_span(mark), hint=hint)


# The line breaks YAML 1.1 (PyYAML, libyaml) counts when it numbers lines. Patterns used
# only to report an error are strings, compiled by `re` on first use (and cached there):
# a clean file does not pay for them when vnuma starts.
_YAML_LINE_BREAK = "\r\n|[\r\n\x85\u2028\u2029]"


def _line_at(text: str, line: int) -> str:
    """The text of 0-based ``line``, or "" beyond the end."""
    lines = re.split(_YAML_LINE_BREAK, text, maxsplit=line + 1)
    return lines[line] if line < len(lines) else ""


def _char_at(text: str, line: int, column: int) -> str:
    return _line_at(text, line)[column : column + 1]


def _mark_span(mark: Any) -> Span:
    return Span(mark.line + 1, mark.column + 1, mark.line + 1, mark.column + 2)


def _node_span(node: Any) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


# --- TOML ---------------------------------------------------------------------------

_TOML_POS = r"\s*\(at line (\d+), column (\d+)\)"
_TOML_END = " (at end of document)"


# int() refuses to convert more digits than this (sys.get_int_max_str_digits()); YAML and
# TOML readers then raise a plain ValueError, with neither a position nor a fix.
MAX_INT_DIGITS = 4300
# A value of so many digits (after `=`, in an array or inline table), not one in a string
_LONG_TOML_INTEGER = rf"(?<=[=\[,{{])[ \t]*[+-]?([0-9](?:_?[0-9]){{{MAX_INT_DIGITS},}})"
TOO_MANY_DIGITS = f"an integer of more than {MAX_INT_DIGITS} digits"


def toml_error(exc: Exception, text: str) -> tuple[str, Span | None]:
    """A ``tomllib.TOMLDecodeError``'s message without its "(at line L, column C)", and that
    position as a span (the configuration loader reports TOML errors the same way). A
    plain ValueError is tomllib's int() refusing a number of thousands of digits."""
    import tomllib

    if not isinstance(exc, tomllib.TOMLDecodeError):
        found = re.search(_LONG_TOML_INTEGER, text)
        if found is None:
            return str(exc), None
        start = found.start(1)
        line = text.count("\n", 0, start) + 1
        col = start - text.rfind("\n", 0, start)
        return TOO_MANY_DIGITS, Span(line, col, line, col + 1)
    message = str(exc)
    if message.endswith(_TOML_END):
        lines = text.split("\n")
        line, col = len(lines), len(lines[-1]) + 1
        return message.removesuffix(_TOML_END), Span(line, col, line, col + 1)
    match = re.search(_TOML_POS, message)
    if match is None:
        return message, None
    line, col = int(match[1]), int(match[2])
    return re.sub(_TOML_POS, "", message).strip(), Span(line, col, line, col + 1)


def _load_toml(text: str, shown: str) -> tuple[Any, PositionMap, list[Diagnostic]]:
    import tomllib

    from vnuma.load.toml_positions import toml_positions

    try:
        data = tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError, or int() of thousands of digits
        message, span = toml_error(exc, text)
        diag = make_diagnostic("VN001", f"TOML syntax error: {message}", shown, span)
        return None, PositionMap(), [diag]
    return data, toml_positions(text), []
