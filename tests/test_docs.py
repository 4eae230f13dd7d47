"""Generated documentation stays in sync with the code."""

from __future__ import annotations

from vnuma.report.ruledocs import render_markdown
from vnuma.rules import all_rules

from tests.conftest import REPO


def test_rules_reference_is_up_to_date() -> None:
    committed = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == render_markdown(), (
        "docs/rules.md is stale: run `vnuma rules --format markdown > docs/rules.md`"
    )


def test_rules_reference_has_every_rule_once() -> None:
    text = render_markdown()
    for rule in all_rules():
        assert text.count(f"\n### {rule.code} {rule.name}\n") == 1


def test_cli_prints_the_same_markdown(run_cli) -> None:
    assert run_cli("rules", "--format", "markdown").out == render_markdown()
