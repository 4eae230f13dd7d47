"""The rule reference as Markdown (`vnuma rules --format markdown` writes docs/rules.md)."""

from __future__ import annotations

from vnuma.rules import Rule, all_rules

FAMILIES = (
    ("VN0", "Input, configuration and merge"),
    ("VN1", "Guest consistency"),
    ("VN2", "Fit on the host"),
    ("VN3", "Output"),
    ("VN4", "Domain XML only"),
    ("VN5", "Whole-host admission (all guests of a host together)"),
    ("VN6", "Placement (auto host nodes, cells: N, CPU pinning)"),
)


def render_markdown(rules: list[Rule] | None = None) -> str:
    rules = rules if rules is not None else all_rules()
    lines = [
        "# vnuma rules",
        "",
        "Generated from the rule docstrings by `vnuma rules --format markdown > docs/rules.md`;",
        "a test keeps it in sync. `vnuma explain CODE` prints one rule.",
        "",
        "| code | name | severity | needs host | summary |",
        "|---|---|---|---|---|",
    ]
    for rule in rules:
        anchor = f"{rule.code.lower()}-{rule.name}"
        host = "yes" if rule.needs_host else ""
        lines.append(
            f"| [{rule.code}](#{anchor}) | {rule.name} | {rule.severity.label} | {host} "
            f"| {_cell(rule.summary)} |"
        )
    for prefix, title in FAMILIES:
        family = [rule for rule in rules if rule.code.startswith(prefix)]
        if not family:
            continue
        lines += ["", f"## {title}"]
        for rule in family:
            lines += ["", f"### {rule.code} {rule.name}", ""]
            scope = "needs a host snapshot" if rule.needs_host else "checked without a host"
            lines += [f"Default severity: **{rule.severity.label}**; {scope}.", ""]
            lines += [_demote(rule.doc)]
    return "\n".join(lines).rstrip("\n") + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _demote(doc: str) -> str:
    """Rule docs use `##` sections; inside the reference they become `####`."""
    out, fenced = [], False
    for line in doc.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        out.append("##" + line if line.startswith("## ") and not fenced else line)
    return "\n".join(out)
