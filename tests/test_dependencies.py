"""compiler/ imports only the standard library, itself and its declared dependencies.

jsonschema in particular is the tests' reference (tests/test_jsonsubset.py), not a runtime
dependency: vnuma validates intents with its own `vnuma.schema.jsonsubset`.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib

from tests.conftest import REPO, source_trees

# import name -> the distribution pyproject.toml declares for it
DISTRIBUTIONS = {"jinja2": "jinja2", "lxml": "lxml", "yaml": "pyyaml", "libvirt": "libvirt-python"}


def imported_top_level_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for path, tree in source_trees().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found = [node.module]
            else:
                continue
            for name in found:
                names.setdefault(name.split(".")[0], path.relative_to(REPO).as_posix())
    return names


def declared(requirements: list[str]) -> set[str]:
    return {
        re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower() for requirement in requirements
    }


NEWER_STDLIB = {"_sha2"}
"""Standard-library modules of later Pythons than this one (CPython 3.12 renamed _sha256)."""


def test_compiler_imports_only_declared_runtime_dependencies() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = declared(project["dependencies"])
    optional = declared(project["optional-dependencies"]["libvirt"])
    third_party = {
        name: where
        for name, where in imported_top_level_names().items()
        if name not in sys.stdlib_module_names | NEWER_STDLIB and name != "vnuma"
    }
    unknown = {name: where for name, where in third_party.items() if name not in DISTRIBUTIONS}
    assert unknown == {}, "imports of undeclared packages"
    for name in third_party:
        assert DISTRIBUTIONS[name] in runtime | optional, name
    assert "jsonschema" not in third_party
    assert "jsonschema" not in runtime
    assert "jsonschema" in declared(project["optional-dependencies"]["test"])
