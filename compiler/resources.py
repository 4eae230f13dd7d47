"""Find the bundled schemas/ and templates/: inside an installed wheel, or in a checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"vnuma's {name}/ directory is missing from this installation")


def intent_schema_path() -> Path:
    return data_dir("schemas") / "intent-v1.schema.json"


def templates_dir() -> Path:
    return data_dir("templates")
