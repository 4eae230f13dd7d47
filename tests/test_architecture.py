"""The shape of the source tree: the import graph and the catalogue of codes.

The import graph is read from the source with `ast`, not by importing: every
``import`` and ``from ... import`` of a vnuma module counts, at module level or inside a
function (a function-level import is only a deferred one). Two kinds are left out, on
purpose: imports under ``if TYPE_CHECKING:`` (never executed), and the implicit import
of a package's ``__init__`` when one of its submodules is imported (that is how Python
packages work, and counting it would make every package that lists its own submodules
a "cycle").
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from vnuma import codes

from tests.conftest import REPO, source_trees

SOURCE = REPO / "compiler"
PACKAGE = "vnuma"
CODE = re.compile(r"VN\d{3}")
LEAVES = {
    "vnuma.records": set(),
    "vnuma.diagnostics": {"vnuma.records"},
    "vnuma.codes": {"vnuma.diagnostics", "vnuma.records"},
}
"""Modules every stage may import: what each of them may import from vnuma."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


@cache
def _modules() -> dict[str, tuple[Path, ast.Module]]:
    return {_module_name(path): (path, tree) for path, tree in source_trees().items()}


@cache
def _walk(tree: ast.Module) -> tuple[ast.AST, ...]:
    """``ast.walk(tree)``, walked once per session (the trees of ``_modules`` are shared)."""
    return tuple(ast.walk(tree))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement under ``node``, except those under ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _import_nodes(other)
        else:
            yield from _import_nodes(child)


def _resolve(name: str) -> str | None:
    """The vnuma module ``name`` is, or is in (``vnuma.rules.Finding`` -> ``vnuma.rules``)."""
    modules = _modules()
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str) -> set[str]:
    path, tree = _modules()[module]
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from vnuma.rules import cells` imports the submodule, `... import Rule` the package
            targets = [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            if target == PACKAGE or target.startswith(PACKAGE + "."):
                resolved = _resolve(target)
                if resolved is not None and resolved != module:
                    found.add(resolved)
    return found


@cache
def import_graph() -> dict[str, frozenset[str]]:
    return {module: frozenset(_imports(module)) for module in _modules()}


def _cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_the_known_edges() -> None:
    graph = import_graph()
    assert "vnuma.codes" in graph["vnuma.rules.check"]  # top level
    assert "vnuma.rules.cells" in graph["vnuma.rules"]  # inside a function
    assert "vnuma.rules" in graph["vnuma.rules.check"]  # `from vnuma.rules import checks`
    assert "vnuma.rules.check" in graph["vnuma.runner"]  # deferred, in the runner


def test_no_import_cycle() -> None:
    cycles = _cycles(import_graph())
    assert cycles == [], "import cycles among vnuma modules:\n" + "\n".join(
        " <-> ".join(cycle) for cycle in cycles
    )


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset()}
    assert _cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_leaf_modules_import_nothing_else_from_vnuma(leaf: str) -> None:
    assert import_graph()[leaf] == LEAVES[leaf]


def test_only_the_rules_import_the_rules() -> None:
    """Stages report codes through `vnuma.codes`; the rule catalogue is for running checks
    and for the commands that describe them."""
    allowed = ("vnuma.rules", "vnuma.cli", "vnuma.commands", "vnuma.runner", "vnuma.report")
    for module, imported in import_graph().items():
        if any(target == "vnuma.rules" or target.startswith("vnuma.rules.") for target in imported):
            assert module.startswith(allowed), f"{module} imports the rules"


# --- the catalogue of codes --------------------------------------------------------------------


def _source_modules(*, except_codes: bool = True) -> Iterator[tuple[str, ast.Module]]:
    for module, (_, tree) in _modules().items():
        if not (except_codes and module == "vnuma.codes"):
            yield module, tree


def _codes_attribute(node: ast.AST) -> str | None:
    """``VN104`` for ``codes.VN104``."""
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "codes"
        and CODE.fullmatch(node.attr)
    ):
        return node.attr
    return None


def _references(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    """Codes a module names: ``codes.VN104`` and string constants that are exactly a code."""
    for node in _walk(tree):
        attribute = _codes_attribute(node)
        if attribute is not None:
            yield attribute, node
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and CODE.fullmatch(node.value)
        ):
            yield node.value, node


def _first_arguments(tree: ast.Module, *functions: str) -> Iterator[ast.expr]:
    for node in _walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in functions:
                yield node.args[0]


def test_catalogue_records_are_consistent() -> None:
    defined = {name: value for name, value in vars(codes).items() if isinstance(value, codes.Code)}
    assert set(defined.values()) == set(codes.ALL)
    assert all(name == entry.code for name, entry in defined.items())
    assert [entry.code for entry in codes.ALL] == sorted(defined)
    names = [entry.name for entry in codes.ALL]
    assert len(names) == len(set(names))
    assert all(codes.get(entry.code.lower()) is entry for entry in codes.ALL)


def test_every_code_a_module_names_is_in_the_catalogue() -> None:
    known = {entry.code for entry in codes.ALL}
    unknown = [
        f"{module}:{node.lineno} {code}"  # type: ignore[attr-defined]
        for module, tree in _source_modules()
        for code, node in _references(tree)
        if code not in known
    ]
    assert unknown == []
    # codes quoted inside messages and hints too ("... see VN605")
    for module, tree in _source_modules():
        for node in _walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for code in CODE.findall(node.value):
                    assert code in known, f"{module}:{node.lineno} mentions unknown {code}"


def test_make_diagnostic_is_given_catalogue_codes() -> None:
    known = {entry.code for entry in codes.ALL}
    for module, tree in _source_modules():
        for argument in _first_arguments(tree, "make_diagnostic"):
            code = _codes_attribute(argument)
            if code is None and isinstance(argument, ast.Constant):
                code = argument.value
            if code is not None:
                assert code in known, f"{module}:{argument.lineno} reports unknown {code}"


def test_every_catalogue_code_is_reported_somewhere() -> None:
    """By a check, or by a stage: ``codes.VN001`` or ``"VN001"`` outside the catalogue."""
    named = {code for _, tree in _source_modules() for code, _ in _references(tree)}
    assert [entry.code for entry in codes.ALL if entry.code not in named] == []


def test_each_code_and_name_is_stated_once() -> None:
    """Only the catalogue spells a code's string or its name; a check names its code once,
    in its decorator, and the check stage gives its findings that code."""
    _, tree = _modules()["vnuma.codes"]
    strings = [
        node.value
        for node in _walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    for entry in codes.ALL:
        assert strings.count(entry.code) == 1, entry.code
        assert strings.count(entry.name) == 1, entry.name
    names = {entry.name for entry in codes.ALL}
    for module, other in _source_modules():
        for node in _walk(other):
            if isinstance(node, ast.Constant) and node.value in names:
                pytest.fail(f"{module}:{node.lineno} restates the code name {node.value!r}")
    in_rules = [
        (module, code, node)
        for module, other in _source_modules()
        if module.startswith("vnuma.rules.")
        for code, node in _references(other)
    ]
    assert [f"{m}:{n.lineno} {c}" for m, c, n in in_rules if isinstance(n, ast.Constant)] == []
    per_code: dict[str, int] = {}
    for _, code, _ in in_rules:
        per_code[code] = per_code.get(code, 0) + 1
    assert {code: count for code, count in per_code.items() if count > 1} == {}


def test_rule_modules_list_every_check_they_define() -> None:
    from vnuma.rules import admission, cells, domain, host, numatune
    from vnuma.rules.base import Admission, Check

    for module in (cells, numatune, host, domain, admission):
        defined = {v for v in vars(module).values() if isinstance(v, Check | Admission)}
        assert defined == set(module.CHECKS), module.__name__
        assert len(module.CHECKS) == len(set(module.CHECKS)), module.__name__
        for found in module.CHECKS:
            assert codes.get(found.code.code) is found.code, found.code.code


def test_the_rules_catalogue_is_the_code_catalogue() -> None:
    from vnuma.rules import admissions, all_rules, checks

    assert [rule.code for rule in all_rules()] == [entry.code for entry in codes.ALL]
    assert {rule.code for rule in all_rules() if rule.check is not None} == {
        found.code.code for found in checks()
    }
    assert {rule.code for rule in all_rules() if rule.admission is not None} == {
        found.code.code for found in admissions()
    }


def test_needs_host_without_the_admission_rules_agrees_with_the_catalogue() -> None:
    """`rules.needs_host` answers by the VN5 family for admission codes (so a one-file
    lint never imports the admission rules); it must agree with every Rule."""
    from vnuma.rules import all_rules, needs_host

    for rule in all_rules():
        by_check = rule.admission is not None or (rule.check is not None and rule.check.needs_host)
        # VN5xx without a check are minted by the runner's whole-host stage (VN505)
        assert needs_host(rule.code) == (by_check or rule.code.startswith("VN5")), rule.code


def _every_import_of(target: str) -> set[str]:
    """Modules that import ``target`` anywhere, type-only imports included."""
    found = set()
    for module, (_, tree) in _modules().items():
        for node in _walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if (isinstance(node, ast.ImportFrom) and node.module == target) or target in names:
                found.add(module)
    return found


def test_only_the_stages_before_the_guest_see_what_an_intent_says() -> None:
    """Checks, admission, the capacity model, emit and the views see the resolved Guest;
    what an intent says (`Intent`, with its `auto`s) stops at placement and resolve."""
    allowed = (
        "vnuma.model.resolve",
        "vnuma.place.",
        "vnuma.runner",
        "vnuma.cli",  # `fit` names the intent's own host
    )
    for module in _every_import_of("vnuma.model.intent"):
        assert module.startswith(allowed), f"{module} uses the written intent type"


def test_no_rule_asks_which_form_a_guest_came_from() -> None:
    """A rule reads the guest's Language for wording and severity, never its name."""
    for module, (path, tree) in _modules().items():
        if not module.startswith("vnuma.rules"):
            continue
        for node in _walk(tree):
            names = {"INTENT_LANGUAGE", "DOMAIN_LANGUAGE", "Language", "is_domain", "origin"}
            if isinstance(node, ast.Name):
                assert node.id not in names, f"{path}:{node.lineno} uses {node.id}"
            if isinstance(node, ast.Attribute) and node.attr in names | {"name"}:
                owner = node.value
                assert not (isinstance(owner, ast.Attribute) and owner.attr == "language"), (
                    f"{path}:{node.lineno} branches on the guest's language"
                )
                assert node.attr != "is_domain", f"{path}:{node.lineno} asks is_domain"


def test_the_resolved_guest_leaves_nothing_open() -> None:
    from vnuma.model import guest

    for record in (guest.Guest, guest.GuestCell, guest.NumaTune, guest.DomainExtras):
        names = getattr(record, "_fields", None) or record.__slots__  # NamedTuple or slots
        open_fields = [name for name in names if "auto" in name or "count" in name]
        assert open_fields == [], f"{record.__name__} still has {open_fields}"
