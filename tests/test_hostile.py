"""Hostile input: every attack gets a precise finding (exit 1) or a usage error (exit 2),
never a traceback, and nothing from outside the file leaks into any output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import HOSTS, INTENTS

XEON = HOSTS / "2s-xeon.xml"
BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n<domain><name>&lol9;</name></domain>\n"
)
QUADRATIC = (
    '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY a "'
    + "a" * 50_000
    + '">]>\n<domain><name>'
    + "&a;" * 10_000
    + "</name></domain>\n"
)
XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    "<domain><name>&xxe;</name></domain>\n"
)
DEEP_XML = "<domain>" + "<a>" * 300 + "</a>" * 300 + "</domain>\n"

# (name, file name, content, expected code, line, column)
INTENT_ATTACKS = [
    ("empty", "a.yaml", "", "VN002", None, None),
    ("top-level-list", "a.yaml", "- a\n- b\n", "VN002", 1, 1),
    (
        "python-tag",
        "a.yaml",
        "version: 1\nvcpus: !!python/object/apply:os.system ['true']\nmemory: 4GiB\n",
        "VN001",
        2,
        8,
    ),
    ("unknown-tag-key", "a.yaml", "version: 1\nvcpus: 4\nmemory: 4GiB\n!x k: 1\n", "VN001", 4, 1),
    ("duplicate-key", "a.yaml", "version: 1\nvcpus: 4\nvcpus: 8\nmemory: 4GiB\n", "VN007", 3, 1),
    ("non-string-key", "a.yaml", "version: 1\n1: x\nvcpus: 4\nmemory: 4GiB\n", "VN003", 2, 1),
    ("complex-key", "a.yaml", "version: 1\n? [a, b]\n: 1\nvcpus: 4\nmemory: 4GiB\n", "VN003", 2, 3),
    (
        "huge-int",
        "a.yaml",
        "version: 1\nvcpus: 99999999999999999999999\nmemory: 4GiB\n",
        "VN002",
        2,
        8,
    ),
    ("nan", "a.yaml", "version: 1\nvcpus: .nan\nmemory: 4GiB\n", "VN002", 2, 8),
    ("inf-size", "a.yaml", "version: 1\nvcpus: 4\nmemory: .inf\n", "VN004", 3, 9),
    ("negative-size", "a.yaml", "version: 1\nvcpus: 4\nmemory: -4GiB\n", "VN005", 3, 9),
    ("zero-size", "a.yaml", "version: 1\nvcpus: 4\nmemory: 0GiB\n", "VN005", 3, 9),
    (
        "overflowing-size",
        "a.yaml",
        "version: 1\nvcpus: 4\nmemory: 99999999999999TiB\n",
        "VN005",
        3,
        9,
    ),
    (
        "huge-cpuset",
        "a.yaml",
        'version: 1\nvcpus: 4\nmemory: 4GiB\nnumatune: {nodeset: "0-999999999"}\n',
        "VN006",
        4,
        21,
    ),
    (
        "reversed-cpuset",
        "a.yaml",
        'version: 1\nvcpus: 4\nmemory: 4GiB\nnumatune: {nodeset: "5-2"}\n',
        "VN006",
        4,
        21,
    ),
    (
        "caret-alone",
        "a.yaml",
        'version: 1\nvcpus: 4\nmemory: 4GiB\nnumatune: {nodeset: "^"}\n',
        "VN006",
        4,
        21,
    ),
    (
        "deep-nesting",
        "a.yaml",
        "version: 1\nvcpus: 4\nmemory: 4GiB\nx: " + "[" * 200 + "]" * 200 + "\n",
        "VN001",
        None,
        None,
    ),
    (
        "alias-bomb",
        "a.yaml",
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefg", "bcdefgh", strict=True)
        )
        + "version: 1\nvcpus: 4\nmemory: 4GiB\n",
        "VN001",
        None,
        None,
    ),
    ("non-utf8", "a.yaml", b"version: 1\nvcpus: 4\nmemory: 4\xffGiB\n", "VN001", 3, 10),
    (
        "toml-duplicate",
        "a.toml",
        'version = 1\nvcpus = 4\nmemory = "4GiB"\nmemory = "5GiB"\n',
        "VN001",
        4,
        16,
    ),
    ("toml-nan", "a.toml", 'version = 1\nvcpus = nan\nmemory = "4GiB"\n', "VN002", 2, 9),
    ("toml-syntax", "a.toml", 'version = 1\nvcpus = [4\nmemory = "4GiB"\n', "VN001", None, None),
]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "file", "content", "code", "line", "column"),
    INTENT_ATTACKS,
    ids=lambda v: (
        v if isinstance(v, str) and len(v) < 20 and " " not in v and "\n" not in v else ""
    ),
)
def test_intent_attack_gets_a_precise_finding(
    run_cli, tmp_path, name, file, content, code, line, column
) -> None:
    path = write(tmp_path, file, content)
    result = run_cli("compile", path, "--host", XEON)
    assert result.code == 1, result.err
    assert result.out == ""
    found = [d for d in result.err.splitlines() if f": {code} " in d]
    assert found, result.err
    if line is not None:
        assert found[0].startswith(f"{path}:{line}:{column}: {code} "), found[0]


def test_yaml_bom_is_accepted(run_cli, tmp_path) -> None:
    path = write(tmp_path, "a.yaml", b"\xef\xbb\xbfversion: 1\nvcpus: 4\nmemory: 4GiB\n")
    assert run_cli("compile", path).code == 0


@pytest.mark.parametrize(
    ("name", "content", "line"),
    [("billion-laughs", BILLION_LAUGHS, 2), ("quadratic", QUADRATIC, 2), ("xxe", XXE, 2)],
    ids=["billion-laughs", "quadratic", "xxe"],
)
def test_entity_attacks_are_refused_and_leak_nothing(
    run_cli, tmp_path, name, content, line
) -> None:
    path = write(tmp_path, "vm.xml", content)
    host = write(tmp_path, "caps.xml", content.replace("domain", "capabilities"))
    results = [
        run_cli("lint", path, "--format", "json", "--isolated"),
        run_cli("compile", INTENTS / "db-strict.yaml", "--domain", path),
        run_cli("compile", INTENTS / "db-strict.yaml", "--host", host),
        run_cli("host", host),
    ]
    for result in results:
        assert result.code == 1
        assert "root:" not in result.out + result.err  # nothing of /etc/passwd
        assert "DOCTYPE declarations (and entities) are not allowed" in result.out + result.err
    (finding,) = json.loads(results[0].out)
    assert (finding["code"], finding["line"]) == ("VN001", line)


def test_deep_xml_is_refused(run_cli, tmp_path) -> None:
    path = write(tmp_path, "vm.xml", DEEP_XML)
    result = run_cli("lint", path, "--format", "json", "--isolated")
    (finding,) = json.loads(result.out)
    assert finding["code"] == "VN001" and "depth" in finding["message"]


def test_size_limit_is_configurable(run_cli, tmp_path, monkeypatch) -> None:
    path = write(tmp_path, "a.yaml", "version: 1\nvcpus: 4\nmemory: 4GiB\n" + "#" * 4000 + "\n")
    assert run_cli("compile", path).code == 0
    monkeypatch.setenv("VNUMA_MAX_INPUT_BYTES", "1000")
    result = run_cli("compile", path)
    assert result.code == 2
    assert "larger than the 1000 byte limit (set VNUMA_MAX_INPUT_BYTES" in result.err


def test_internal_error_names_the_file_and_hides_the_traceback(
    run_cli, tmp_path, monkeypatch
) -> None:
    import vnuma.rules.check

    def boom(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(vnuma.rules.check, "run_checks", boom)
    result = run_cli("compile", INTENTS / "db-strict.yaml")
    assert result.code == 2
    assert "internal error while processing" in result.err and "db-strict.yaml" in result.err
    assert "please report" in result.err and "Traceback" not in result.err
