"""vnuma.load.yamlloader's resolver gives every node the tag PyYAML's own gives it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from vnuma.load.yamlloader import IntentLoader

REPO = Path(__file__).resolve().parents[1]
STOCK: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Plain scalars of every implicit type YAML 1.1 resolves, and near misses of each.
SCALARS = [
    "",
    "~",
    "null",
    "Null",
    "NULL",
    "nul",
    "true",
    "True",
    "yes",
    "No",
    "off",
    "ON",
    "y",
    "0",
    "-1",
    "+7",
    "0x1F",
    "0o17",
    "017",
    "0b101",
    "1_000",
    "190:20:30",
    "1e3",
    "1.5",
    ".5",
    "-.inf",
    ".NaN",
    "6.8523015e+5",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "16GiB",
    "0-7",
    "=",
    "<<",
    "a b",
    "0x",
    "1__0",
    ".",
    "1.",
    "+",
    "2001-1-1",
]


def tags(node: yaml.Node) -> list[str]:
    if isinstance(node, yaml.ScalarNode):
        return [node.tag]
    if isinstance(node, yaml.SequenceNode):
        return [node.tag, *(tag for item in node.value for tag in tags(item))]
    return [node.tag, *(tag for key, value in node.value for tag in tags(key) + tags(value))]


def composed(loader: Any, text: str) -> list[str]:
    instance = loader(text)
    try:
        node = instance.get_single_node()
    finally:
        instance.dispose()
    return [] if node is None else tags(node)


def test_every_implicit_type_and_near_miss_gets_the_stock_tag() -> None:
    text = "".join(f"k{i}: {value}\n" for i, value in enumerate(SCALARS))
    text += "list: [" + ", ".join(value or "''" for value in SCALARS) + "]\n"
    text += "quoted: ['1', \"true\", !!str 2, !!int '3']\n"
    assert composed(IntentLoader, text) == composed(STOCK, text)
    assert len(set(composed(IntentLoader, text))) >= 8  # the cases reach the implicit types


def test_the_samples_get_the_stock_tags() -> None:
    samples = sorted((REPO / "samples").rglob("*.yaml"))
    assert samples
    for sample in samples:
        text = sample.read_text(encoding="utf-8")
        assert composed(IntentLoader, text) == composed(STOCK, text), sample


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="0123456789abefnotxyTFNY.:+-_eE~ ", max_size=12), max_size=8))
def test_random_plain_scalars_get_the_stock_tags(values: list[str]) -> None:
    text = "".join(
        f"k{i}: '{value}'\nv{i}: {value.strip() or '~'}\n" for i, value in enumerate(values)
    )
    try:
        expected = composed(STOCK, text)
    except yaml.YAMLError:
        return  # not a YAML document: nothing to compare
    assert composed(IntentLoader, text) == expected
