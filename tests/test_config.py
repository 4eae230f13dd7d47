"""`vnuma lint` configuration: discovery, validation, rule selection and globs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vnuma.diagnostics import Severity
from vnuma.report.config import (
    ConfigError,
    HostMapping,
    LintConfig,
    default_config,
    discover_config,
    glob_match,
    load_config,
)
from vnuma.rules import all_rules

KNOWN = [rule.code for rule in all_rules()]

EXAMPLE = """\
[tool.vnuma]
select = ["VN"]
ignore = ["VN207", "VN11"]
exclude = ["legacy/**", "*.bak.xml"]
[tool.vnuma.severity]
VN2 = "warning"
VN203 = "error"
[tool.vnuma.per-file-ignores]
"vms/lab/**" = ["VN207"]
"*.toml" = ["VN1"]
[[tool.vnuma.hosts]]
snapshot = "hosts/hv01.xml"
files = ["vms/hv01/**"]
[[tool.vnuma.hosts]]
snapshot = "hosts/hv02.xml"
files = ["vms/hv02/**", "vms/shared/db.yaml"]
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(path: Path) -> LintConfig:
    return load_config(path, cwd=path.parent, known_codes=KNOWN)


def load_text(tmp_path: Path, text: str, name: str = "vnuma.toml") -> LintConfig:
    return load(write(tmp_path / name, text))


def config_error(tmp_path: Path, text: str, name: str = "vnuma.toml") -> str:
    with pytest.raises(ConfigError) as info:
        load_text(tmp_path, text, name)
    return str(info.value)


def make(tmp_path: Path, **settings: object) -> LintConfig:
    return LintConfig(source=None, root=tmp_path.resolve(), **settings)


# --- discovery -------------------------------------------------------------------------


def test_discover_vnuma_toml_in_start_directory(tmp_path: Path) -> None:
    found = write(tmp_path / "vnuma.toml", "")
    assert discover_config(tmp_path) == found.resolve()


def test_discover_vnuma_toml_beats_pyproject_in_same_directory(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.vnuma]\n")
    found = write(tmp_path / "vnuma.toml", "")
    assert discover_config(tmp_path) == found.resolve()


def test_discover_pyproject_with_tool_vnuma(tmp_path: Path) -> None:
    found = write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n[tool.vnuma]\n')
    assert discover_config(tmp_path / "vms") == found.resolve()


def test_discover_skips_pyproject_without_tool_vnuma(tmp_path: Path) -> None:
    outer = write(tmp_path / "vnuma.toml", "")
    write(tmp_path / "sub" / "pyproject.toml", "[tool.ruff]\nline-length = 100\n")
    (tmp_path / "sub" / "deeper").mkdir()
    assert discover_config(tmp_path / "sub" / "deeper") == outer.resolve()


def test_discover_closest_wins(tmp_path: Path) -> None:
    write(tmp_path / "vnuma.toml", "")
    inner = write(tmp_path / "a" / "pyproject.toml", "[tool.vnuma]\n")
    (tmp_path / "a" / "b").mkdir()
    assert discover_config(tmp_path / "a" / "b") == inner.resolve()


def test_discover_broken_pyproject_mentioning_tool_vnuma_is_found(tmp_path: Path) -> None:
    found = write(tmp_path / "pyproject.toml", "[tool.vnuma]\nselect = = 1\n")
    assert discover_config(tmp_path) == found.resolve()
    with pytest.raises(ConfigError, match=r"pyproject.toml:2:10: invalid TOML: Invalid value"):
        load(found)


def test_resolver_finds_what_discover_config_finds_in_any_order(tmp_path: Path) -> None:
    """The resolver looks at each directory once and takes the rest from the directories
    above it: whichever directory it is asked about first, each gets the configuration
    of the closest file at or above it (a pyproject.toml without [tool.vnuma] does not
    count)."""
    from vnuma.load.discover import ConfigResolver

    write(tmp_path / "vnuma.toml", "")
    write(tmp_path / "a" / "pyproject.toml", "[tool.vnuma]\n")
    write(tmp_path / "a" / "b" / "pyproject.toml", "[tool.ruff]\n")
    write(tmp_path / "c" / "d" / "vnuma.toml", "")
    directories = [
        tmp_path / "a" / "b" / "e",
        tmp_path / "c" / "d" / "f",
        tmp_path / "a",
        tmp_path / "c" / "g",
        tmp_path,
        tmp_path / "a" / "b",
        tmp_path / "c" / "d",
    ]
    for directory in directories:
        directory.mkdir(parents=True, exist_ok=True)
    for order in (directories, directories[::-1]):
        configs = ConfigResolver(None)
        for directory in order:
            config = configs.for_directory(directory.resolve())
            assert config.source == discover_config(directory), directory


def test_discover_none_found(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    names = ("vnuma.toml", "pyproject.toml")
    if any((parent / name).exists() for parent in tmp_path.parents for name in names):
        pytest.skip("a config file exists above the temporary directory")
    assert discover_config(tmp_path / "empty") is None


# --- loading ---------------------------------------------------------------------------


def test_load_none_gives_defaults(tmp_path: Path) -> None:
    config = load_config(None, cwd=tmp_path, known_codes=KNOWN)
    assert config == default_config(tmp_path)
    assert config.source is None
    assert config.root == tmp_path.resolve()
    assert config.select == ("VN",)
    assert all(config.is_enabled(code, tmp_path / "a.yaml") for code in KNOWN)


def test_load_full_pyproject_example(tmp_path: Path) -> None:
    config = load_text(tmp_path, EXAMPLE, "pyproject.toml")
    root = tmp_path.resolve()
    assert config.source == root / "pyproject.toml"
    assert config.root == root
    assert config.select == ("VN",)
    assert config.ignore == ("VN207", "VN11")
    assert config.exclude == ("legacy/**", "*.bak.xml")
    assert config.severity == (("VN2", Severity.WARNING), ("VN203", Severity.ERROR))
    assert config.per_file_ignores == (("vms/lab/**", ("VN207",)), ("*.toml", ("VN1",)))
    assert config.hosts == (
        HostMapping(root / "hosts" / "hv01.xml", ("vms/hv01/**",)),
        HostMapping(root / "hosts" / "hv02.xml", ("vms/hv02/**", "vms/shared/db.yaml")),
    )


def test_load_vnuma_toml_uses_top_level(tmp_path: Path) -> None:
    text = 'select = ["vn1"]\nignore = ["all"]\n[severity]\nvn104 = "info"\n'
    config = load_text(tmp_path, text)
    assert config.select == ("VN1",)
    assert config.ignore == ("VN",)
    assert config.severity == (("VN104", Severity.INFO),)


def test_empty_tool_vnuma_table_is_defaults(tmp_path: Path) -> None:
    config = load_text(tmp_path, "[tool.vnuma]\n", "pyproject.toml")
    assert config == LintConfig(source=tmp_path.resolve() / "pyproject.toml", root=config.root)


def test_config_error_str_includes_path() -> None:
    assert str(ConfigError("boom", Path("/x/vnuma.toml"))) == "/x/vnuma.toml: boom"
    assert str(ConfigError("boom")) == "boom"


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load(tmp_path / "vnuma.toml")


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "vnuma.toml").write_bytes(b'select = ["\xff"]\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load(tmp_path / "vnuma.toml")


def test_syntax_error_mentions_line_and_column(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'select = ["VN"]\nignore = [\n  "VN1"\n  "VN2"]\n')
    assert message == f"{tmp_path.resolve() / 'vnuma.toml'}:4:3: invalid TOML: Unclosed array"


def test_pyproject_without_tool_vnuma_table(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[tool.ruff]\n", "pyproject.toml")
    assert "no [tool.vnuma] table" in message


def test_unknown_key_with_suggestion(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[tool.vnuma]\nselcet = ["VN"]\n', "pyproject.toml")
    assert "unknown key 'tool.vnuma.selcet'" in message
    assert "did you mean 'select'?" in message
    assert "per-file-ignores" in message


def test_unknown_key_underscore_spelling(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[per_file_ignores]\n")
    assert "unknown key 'per_file_ignores'; did you mean 'per-file-ignores'?" in message


def test_unknown_key_without_close_match(tmp_path: Path) -> None:
    message = config_error(tmp_path, "zzz = 1\n")
    assert "unknown key 'zzz' (valid keys:" in message
    assert "did you mean" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('select = "VN"', "tool.vnuma.select must be a list of strings"),
        ("ignore = [1]", "tool.vnuma.ignore must be a list of strings"),
        ('exclude = "legacy"', "tool.vnuma.exclude must be a list of strings"),
        ('exclude = [""]', "tool.vnuma.exclude must not contain empty patterns"),
        ('exclude = ["[z-a]"]', "tool.vnuma.exclude: invalid glob '[z-a]'"),
        ('severity = ["VN1"]', "tool.vnuma.severity must be a table"),
        ('per-file-ignores = ["x"]', "tool.vnuma.per-file-ignores must be a table"),
        (
            'per-file-ignores = { "vms/**" = "VN1" }',
            'tool.vnuma.per-file-ignores."vms/**" must be a list of strings',
        ),
        ('hosts = { snapshot = "h.xml" }', "tool.vnuma.hosts must be an array of tables"),
        ('hosts = ["h.xml"]', "tool.vnuma.hosts[0] must be a table"),
    ],
)
def test_type_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in config_error(tmp_path, f"[tool.vnuma]\n{text}\n", "pyproject.toml")


def test_tool_vnuma_not_a_table(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[tool]\nvnuma = 1\n", "pyproject.toml")
    assert "tool.vnuma must be a table" in message


@pytest.mark.parametrize(
    ("text", "bad", "where"),
    [
        ('select = ["VN9"]', "VN9", "tool.vnuma.select"),
        ('ignore = ["VN1", "XX"]', "XX", "tool.vnuma.ignore"),
        ('ignore = ["VN1011"]', "VN1011", "tool.vnuma.ignore"),
        ('severity = { VN8 = "error" }', "VN8", "tool.vnuma.severity"),
        ('per-file-ignores = { "*.toml" = ["VN30x"] }', "VN30x", "per-file-ignores"),
    ],
)
def test_unknown_code_prefix(tmp_path: Path, text: str, bad: str, where: str) -> None:
    message = config_error(tmp_path, f"[tool.vnuma]\n{text}\n", "pyproject.toml")
    assert f"unknown rule code or prefix '{bad}'" in message
    assert where in message


@pytest.mark.parametrize("code", ["ALL", "all", "VN", "vn", "V", "VN1", "VN10", "VN104", "vn207"])
def test_known_code_prefixes_accepted(tmp_path: Path, code: str) -> None:
    load_text(tmp_path, f'ignore = ["{code}"]\n')


@pytest.mark.parametrize("level", ["fatal", "Error", "1", "[]", "2"])
def test_bad_severity(tmp_path: Path, level: str) -> None:
    value = level if level in ("[]", "2") else f'"{level}"'
    message = config_error(tmp_path, f"[severity]\nVN2 = {value}\n")
    assert "severity.VN2 must be one of 'info', 'warning', 'error'" in message


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ('files = ["vms/**"]', "tool.vnuma.hosts[0].snapshot is required"),
        ('snapshot = "h.xml"', "tool.vnuma.hosts[0].files is required"),
        ('snapshot = 1\nfiles = ["vms/**"]', "hosts[0].snapshot must be a non-empty string"),
        ('snapshot = "h.xml"\nfiles = []', "hosts[0].files must be a non-empty list of strings"),
        ('snapshot = "h.xml"\nfiles = "vms/**"', "hosts[0].files must be a list of strings"),
        (
            'snapshot = "h.xml"\nfiles = ["a"]\nfile = ["b"]',
            "unknown key 'tool.vnuma.hosts[0].file'; did you mean 'files'?",
        ),
    ],
)
def test_bad_hosts_entry(tmp_path: Path, entry: str, expected: str) -> None:
    text = f"[tool.vnuma]\n[[tool.vnuma.hosts]]\n{entry}\n"
    assert expected in config_error(tmp_path, text, "pyproject.toml")


def test_bad_second_hosts_entry_is_indexed(tmp_path: Path) -> None:
    text = (
        '[[hosts]]\nsnapshot = "a.xml"\nfiles = ["a/**"]\n'
        '[[hosts]]\nsnapshot = "b.xml"\nfiles = [2]\n'
    )
    assert "hosts[1].files must be a list of strings" in config_error(tmp_path, text)


# --- rule selection --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("select", "ignore", "code", "enabled"),
    [
        (("VN",), (), "VN207", True),
        (("VN2",), ("VN207",), "VN201", True),
        (("VN2",), ("VN207",), "VN207", False),
        (("VN2",), ("VN207",), "VN104", False),
        (("VN207",), ("VN2",), "VN207", True),
        (("VN207",), ("VN2",), "VN201", False),
        (("VN",), ("VN",), "VN104", False),
        (("VN1",), ("VN1",), "VN104", False),
        (("VN",), ("VN1",), "VN104", False),
        (("VN",), ("VN1",), "VN201", True),
        (("VN", "VN104"), ("VN1",), "VN104", True),
        (("VN", "VN104"), ("VN1",), "VN105", False),
        ((), (), "VN104", False),
        (("VN3",), (), "VN104", False),
    ],
)
def test_is_enabled_precedence(
    tmp_path: Path, select: tuple[str, ...], ignore: tuple[str, ...], code: str, enabled: bool
) -> None:
    config = make(tmp_path, select=select, ignore=ignore)
    assert config.is_enabled(code, tmp_path / "vms" / "a.yaml") is enabled


def test_select_all_from_file(tmp_path: Path) -> None:
    config = load_text(tmp_path, 'select = ["ALL"]\nignore = ["VN2"]\n')
    path = tmp_path / "a.yaml"
    assert config.is_enabled("VN104", path)
    assert config.is_enabled("vn301", path)
    assert not config.is_enabled("VN203", path)


def test_per_file_ignores(tmp_path: Path) -> None:
    config = load_text(tmp_path, EXAMPLE, "pyproject.toml")
    assert not config.is_enabled("VN207", tmp_path / "vms" / "x.yaml")
    assert config.is_enabled("VN201", tmp_path / "vms" / "lab" / "a" / "x.yaml")
    assert config.is_enabled("VN104", tmp_path / "vms" / "lab" / "x.yaml")
    assert not config.is_enabled("VN104", tmp_path / "vms" / "x.toml")
    assert not config.is_enabled("VN104", tmp_path / "x.toml")
    assert config.is_enabled("VN201", tmp_path / "vms" / "x.toml")
    assert config.is_enabled("VN104", tmp_path / "vms" / "x.yaml")


def test_per_file_ignores_directory_pattern_and_outside_root(tmp_path: Path) -> None:
    config = make(tmp_path / "proj", per_file_ignores=(("vms/lab", ("VN2",)),))
    assert not config.is_enabled("VN201", tmp_path / "proj" / "vms" / "lab" / "x.yaml")
    assert config.is_enabled("VN201", tmp_path / "proj" / "vms" / "labx" / "x.yaml")
    assert config.is_enabled("VN201", tmp_path / "vms" / "lab" / "x.yaml")


def test_severity_for_longest_prefix(tmp_path: Path) -> None:
    config = load_text(tmp_path, EXAMPLE, "pyproject.toml")
    assert config.severity_for("VN203", Severity.INFO) is Severity.ERROR
    assert config.severity_for("VN201", Severity.ERROR) is Severity.WARNING
    assert config.severity_for("vn208", Severity.ERROR) is Severity.WARNING
    assert config.severity_for("VN104", Severity.INFO) is Severity.INFO


def test_severity_for_order_independent(tmp_path: Path) -> None:
    config = make(tmp_path, severity=(("VN203", Severity.ERROR), ("VN", Severity.INFO)))
    assert config.severity_for("VN203", Severity.WARNING) is Severity.ERROR
    assert config.severity_for("VN202", Severity.WARNING) is Severity.INFO


# --- hosts and exclude -----------------------------------------------------------------


def test_host_for_first_match(tmp_path: Path) -> None:
    config = load_text(tmp_path, EXAMPLE, "pyproject.toml")
    hosts = tmp_path.resolve() / "hosts"
    assert config.host_for(tmp_path / "vms" / "hv01" / "web.yaml") == hosts / "hv01.xml"
    assert config.host_for(tmp_path / "vms" / "hv02" / "a" / "b.toml") == hosts / "hv02.xml"
    assert config.host_for(tmp_path / "vms" / "shared" / "db.yaml") == hosts / "hv02.xml"
    assert config.host_for(tmp_path / "vms" / "shared" / "web.yaml") is None
    assert config.host_for(tmp_path.parent / "vms" / "hv01" / "web.yaml") is None


def test_host_for_overlapping_mappings_uses_first(tmp_path: Path) -> None:
    config = make(
        tmp_path,
        hosts=(
            HostMapping(tmp_path / "a.xml", ("vms/special.yaml",)),
            HostMapping(tmp_path / "b.xml", ("vms/**",)),
        ),
    )
    assert config.host_for(tmp_path / "vms" / "special.yaml") == tmp_path / "a.xml"
    assert config.host_for(tmp_path / "vms" / "other.yaml") == tmp_path / "b.xml"


def test_host_snapshot_resolved_against_config_dir(tmp_path: Path) -> None:
    config_file = write(
        tmp_path / "repo" / "vnuma.toml",
        '[[hosts]]\nsnapshot = "../caps/hv.xml"\nfiles = ["**"]\n',
    )
    config = load_config(config_file, cwd=tmp_path / "elsewhere", known_codes=KNOWN)
    assert config.root == (tmp_path / "repo").resolve()
    # kept as written, under the configuration's directory; resolved when a file asks
    assert config.hosts[0].snapshot == config.root / "../caps/hv.xml"
    resolved = (tmp_path / "caps" / "hv.xml").resolve()
    assert config.host_for(tmp_path / "repo" / "x" / "y.yaml") == resolved
    # a symlinked snapshot is its target, and every file gets the same path object
    write(tmp_path / "caps" / "real.xml", "<capabilities/>")
    (tmp_path / "caps" / "hv.xml").symlink_to(tmp_path / "caps" / "real.xml")
    config = load_config(config_file, cwd=tmp_path / "elsewhere", known_codes=KNOWN)
    first = config.host_for(tmp_path / "repo" / "x" / "y.yaml")
    assert first == (tmp_path / "caps" / "real.xml").resolve()
    assert config.host_for(tmp_path / "repo" / "z.yaml") is first


@pytest.mark.parametrize(
    ("relpath", "excluded"),
    [
        ("legacy/a.yaml", True),
        ("legacy/deep/er/a.yaml", True),
        ("vms/legacy/a.yaml", False),
        ("vms/a.bak.xml", True),
        ("a.bak.xml", True),
        ("vms/a.xml", False),
        ("legacyx/a.yaml", False),
    ],
)
def test_exclude_files(tmp_path: Path, relpath: str, excluded: bool) -> None:
    config = load_text(tmp_path, EXAMPLE, "pyproject.toml")
    assert config.is_excluded(tmp_path / relpath) is excluded


@pytest.mark.parametrize(
    ("pattern", "relpath", "excluded"),
    [
        ("legacy", "legacy/a.yaml", True),
        ("legacy", "vms/legacy/x/a.yaml", True),
        ("legacy", "legacy", True),
        ("legacy/", "legacy/a.yaml", True),
        ("legacy/", "legacy", False),
        ("vms/old", "vms/old/a/b.yaml", True),
        ("vms/old", "x/vms/old/a.yaml", False),
        ("vms/*/tmp", "vms/hv01/tmp/a.yaml", True),
        ("**/build", "a/b/build/c.yaml", True),
    ],
)
def test_exclude_directories(tmp_path: Path, pattern: str, relpath: str, excluded: bool) -> None:
    config = make(tmp_path, exclude=(pattern,))
    assert config.is_excluded(tmp_path / relpath) is excluded


def test_exclude_never_matches_outside_root(tmp_path: Path) -> None:
    config = make(tmp_path / "proj", exclude=("**", "*.yaml"))
    assert config.is_excluded(tmp_path / "proj" / "a.yaml")
    assert not config.is_excluded(tmp_path / "a.yaml")
    assert not config.is_excluded(tmp_path / "other" / "a.yaml")


def test_relative(tmp_path: Path) -> None:
    config = make(tmp_path / "proj")
    assert config.relative(tmp_path / "proj" / "vms" / "a.yaml") == "vms/a.yaml"
    assert config.relative(tmp_path / "proj" / "vms" / ".." / "b.yaml") == "b.yaml"
    assert config.relative(tmp_path / "a.yaml") is None


# --- globs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "relpath", "expected"),
    [
        ("vms/**", "vms/a.yaml", True),
        ("vms/**", "vms/x/y/a.yaml", True),
        ("vms/**", "vmsx/a.yaml", False),
        ("vms/**", "vms", False),
        ("**/db.yaml", "db.yaml", True),
        ("**/db.yaml", "a/b/db.yaml", True),
        ("**/db.yaml", "a/b/xdb.yaml", False),
        ("vms/**/db.yaml", "vms/db.yaml", True),
        ("vms/**/db.yaml", "vms/a/b/db.yaml", True),
        ("vms/**/db.yaml", "other/vms/a/db.yaml", False),
        ("**", "a/b/c.yaml", True),
        ("*.bak.xml", "a.bak.xml", True),
        ("*.bak.xml", "x/y/a.bak.xml", True),
        ("*.bak.xml", "x/a.bak.xml.orig", False),
        ("db.yaml", "vms/shared/db.yaml", True),
        ("vms/shared/db.yaml", "vms/shared/db.yaml", True),
        ("vms/shared/db.yaml", "x/vms/shared/db.yaml", False),
        ("/db.yaml", "db.yaml", True),
        ("/db.yaml", "vms/db.yaml", False),
        ("vms/*.yaml", "vms/a.yaml", True),
        ("vms/*.yaml", "vms/x/a.yaml", False),
        ("vms/*", "vms/x/a.yaml", False),
        ("*", "vms/a.yaml", True),
        ("v*s/a.yaml", "v/x/s/a.yaml", False),
        ("hv?.xml", "hosts/hv1.xml", True),
        ("hv?.xml", "hosts/hv12.xml", False),
        ("a?b", "a/b", False),
        ("hv[0-9].xml", "hv7.xml", True),
        ("hv[0-9].xml", "hvx.xml", False),
        ("hv[!0-9].xml", "hvx.xml", True),
        ("hv[!0-9].xml", "hv7.xml", False),
        ("a[!x]b", "a/b", False),
        ("[]]x", "]x", True),
        ("[ab", "[ab", True),
        ("a**b", "axyb", True),
        ("a**b", "ax/yb", False),
        ("a.yaml", "a_yaml", False),
        ("\\*.yaml", "*.yaml", True),
        ("\\*.yaml", "a.yaml", False),
        ("legacy/", "legacy", True),
        ("VMS/**", "vms/a.yaml", False),
    ],
)
def test_glob_match(pattern: str, relpath: str, expected: bool) -> None:
    assert glob_match(pattern, relpath) is expected


def _naive_host_for(config, path):
    """The plain definition: the first mapping any of whose globs matches the file."""
    from vnuma.report.config import _path_matcher

    matches = _path_matcher(config.relative(path))
    for mapping in config.hosts:
        if any(matches(glob) for glob in mapping.files):
            return mapping.snapshot
    return None


_SEGMENTS = ["vms", "hv1", "hv2", "db", "a.xml", "b.yaml", "*", "**", "*.xml", "hv?", "[ab].*"]


_GLOBS = st.lists(
    st.lists(
        st.builds(
            lambda parts, slash: "/".join(parts) + ("/" if slash else ""),
            st.lists(st.sampled_from(_SEGMENTS), min_size=1, max_size=3),
            st.booleans(),
        ),
        min_size=1,
        max_size=3,
    ),
    min_size=1,
    max_size=6,
)
"""Each host mapping's `files` globs."""
_PATHS = st.lists(
    st.sampled_from(["vms", "hv1", "hv2", "db", "a.xml", "b.yaml"]), min_size=1, max_size=4
)


@settings(max_examples=60, deadline=None)
@given(globs=_GLOBS, path=_PATHS)
def test_host_mapping_lookup_agrees_with_the_plain_definition(globs, path) -> None:
    from vnuma.report.config import HostMapping, LintConfig

    root = Path("/repo")
    hosts = tuple(HostMapping(Path(f"/repo/hosts/{i}.xml"), tuple(g)) for i, g in enumerate(globs))
    config = LintConfig(source=None, root=root, hosts=hosts)
    file = root.joinpath(*path)
    assert config.host_for(file) == _naive_host_for(config, file)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(globs=_GLOBS, path=_PATHS)
def test_host_mapping_lookup_agrees_with_the_plain_definition_many(globs, path) -> None:
    test_host_mapping_lookup_agrees_with_the_plain_definition.hypothesis.inner_test(
        globs=globs, path=path
    )


# --- pyproject.toml pre-scan: parse only files that may define tool.vnuma ----------------

DEFINES_TOOL_VNUMA = [
    "[tool.vnuma]\n",
    "[tool.vnuma.severity]\nVN207 = 'error'\n",
    "[[tool.vnuma.hosts]]\nfiles = ['a/*']\nsnapshot = 'h.xml'\n",
    "[ tool . vnuma ]\n",
    "[\"tool\".'vnuma']\n",
    "tool.vnuma.select = ['VN']\n",
    'tool . "vnuma" = {}\n',
    "[tool]\nvnuma = {select = ['VN']}\n",
    "[tool]\n'vnuma'.select = ['VN']\n",
    "[ 'tool' ]\nruff = {}\n  vnuma.ignore = []\n",
    "tool = {vnuma = {}}\n",
    "tool={ruff={}, vnuma={}}\n",
    '["tool"."vn\\u0075ma"]\n',
    '"\\u0074ool".vnuma = {}\n',
    '[project]\nname = "x"\n[tool]\n"vnuma" = {}\n',
]

NO_TOOL_VNUMA = [
    "",
    '[project]\nname = "vnuma"\ndependencies = ["vnuma>=0.1", "lxml"]\n',
    '[project.scripts]\nvnuma = "vnuma.cli:main"\n[tool.ruff]\nline-length = 100\n',
    "[tool.ruff]\nvnuma = 1\n",  # a key vnuma, but under tool.ruff
    '[project]\ndescription = "configure vnuma in pyproject"\n',
]


@pytest.mark.parametrize("text", DEFINES_TOOL_VNUMA)
def test_every_spelling_of_tool_vnuma_is_discovered(tmp_path: Path, text: str) -> None:
    import tomllib

    assert "vnuma" in tomllib.loads(text)["tool"]  # the case itself is right
    found = write(tmp_path / "pyproject.toml", text)
    assert discover_config(tmp_path) == found.resolve()


@pytest.mark.parametrize("text", NO_TOOL_VNUMA)
def test_pyproject_naming_vnuma_without_the_table_is_skipped(tmp_path: Path, text: str) -> None:
    from vnuma.report.config import _may_define_tool_vnuma

    write(tmp_path / "pyproject.toml", text)
    assert discover_config(tmp_path) is None
    if "vnuma" in text and "[tool.ruff]\nvnuma" not in text:
        assert not _may_define_tool_vnuma(text.encode())  # skipped without parsing


_TOML_PIECES = st.sampled_from(
    [
        "[tool]\n",
        "[tool.ruff]\n",
        "[tool.vnuma]\n",
        "[project.scripts]\n",
        "[[tool.vnuma.hosts]]\n",
        "vnuma = {}\n",
        "vnuma.select = []\n",
        "'vnuma' = 1\n",
        "tool.vnuma.ignore = []\n",
        "tool = {vnuma = {}}\n",
        'name = "vnuma"\n',
        "x = 1\n",
        "# tool.vnuma in a comment\n",
        "s = '''\n[tool.vnuma]\n'''\n",
    ]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_TOML_PIECES, max_size=6))
def test_pre_scan_never_misses_a_table_tomllib_finds(pieces: list[str]) -> None:
    import tomllib

    from vnuma.report.config import _may_define_tool_vnuma

    text = "".join(pieces)
    try:
        tool = tomllib.loads(text).get("tool")
    except tomllib.TOMLDecodeError:
        return
    if isinstance(tool, dict) and "vnuma" in tool:
        assert _may_define_tool_vnuma(text.encode())


def test_path_cache_resolves_a_walked_directory_per_directory(tmp_path: Path) -> None:
    """The walk remembers a directory once (its resolved path, its symlinks): a plain
    file resolves beside it, a symlinked one through the file system."""
    from vnuma.load.discover import ConfigResolver, discover

    root = tmp_path / "proj"
    (root / "vms").mkdir(parents=True)
    (root / "other").mkdir()
    (root / "vms" / "a.yaml").write_text("vcpus: 1\n", encoding="utf-8")
    (root / "other" / "b.yaml").write_text("vcpus: 1\n", encoding="utf-8")
    (root / "vms" / "link.yaml").symlink_to(root / "other" / "b.yaml")
    config = make(root)
    configs = ConfigResolver(config)
    found = list(discover((root / "vms",), configs))
    assert [name for _, name in found] == ["a.yaml", "link.yaml"]
    assert found[0][0] is found[1][0]  # the files of a directory share its path
    paths = config.paths
    assert paths.resolve(root / "vms" / "a.yaml") == (root / "vms" / "a.yaml").resolve()
    assert paths.resolve(root / "vms" / "link.yaml") == (root / "other" / "b.yaml").resolve()
    assert paths.relative(root, root / "vms" / "a.yaml") == "vms/a.yaml"
    assert paths.relative(root, root / "vms" / "link.yaml") == "other/b.yaml"
    assert paths.relative(root, root) == "."
    assert paths.relative(root, root / "vms") == "vms"
    assert paths.relative(root, tmp_path / "elsewhere.yaml") is None
    assert paths.relative(root, Path("/")) is None


def test_files_on_one_host_share_its_resolved_snapshot(tmp_path: Path) -> None:
    """Every file [[hosts]] maps to one snapshot holds the same resolved path object,
    not one of its own (a 10k-file fleet kept 2.8 MB of copies), and it is the
    snapshot's real path."""
    from vnuma.commands.lint import LintOptions, _EntryMaker
    from vnuma.load.discover import ConfigResolver, discover

    root = tmp_path / "proj"
    (root / "vms").mkdir(parents=True)
    (root / "hosts").mkdir()
    (root / "real.xml").write_text("<capabilities/>", encoding="utf-8")
    (root / "hosts" / "hv1.xml").symlink_to(root / "real.xml")
    for name in ("a.yaml", "b.yaml", "c.yaml"):
        (root / "vms" / name).write_text("vcpus: 1\n", encoding="utf-8")
    (root / "vnuma.toml").write_text(
        '[[hosts]]\nsnapshot = "hosts/hv1.xml"\nfiles = ["vms/*"]\n', encoding="utf-8"
    )
    configs = ConfigResolver(None)
    options = LintOptions((root / "vms",))
    found = list(discover(options.paths, configs))
    make = _EntryMaker(configs, options)
    entries = [make(i, directory, name) for i, (directory, name) in enumerate(found)]
    hosts = [entry.placed_on for entry in entries]
    assert len(hosts) == 3 and hosts[0] == (root / "real.xml").resolve()
    assert all(host is hosts[0] for host in hosts)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(_TOML_PIECES, max_size=6))
def test_pre_scan_never_misses_a_table_tomllib_finds_many(pieces) -> None:
    test_pre_scan_never_misses_a_table_tomllib_finds.hypothesis.inner_test(pieces=pieces)


_GLOB_SEGMENTS = st.sampled_from(["vms", "hv1", "hv2", "a.xml", "*", "**", "hv?", "[ab]*", "x\\*"])
_PATH_SEGMENTS = st.sampled_from(["vms", "hv1", "hv2", "hv3", "a.xml", "b.yaml", "x*"])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.lists(_GLOB_SEGMENTS, min_size=1, max_size=4), st.booleans()),
        min_size=1,
        max_size=6,
    ),
    st.lists(_PATH_SEGMENTS, min_size=1, max_size=4),
    st.booleans(),
)
def test_host_glob_index_finds_the_first_mapping_as_trying_every_glob(
    globs: list[tuple[bool, list[str], bool]], path: list[str], directory: bool
) -> None:
    """Trying only the globs whose literal leading directories the path starts with
    finds the mapping that trying each glob in order finds."""
    from vnuma.report.config import _compile, _HostGlobs

    patterns = [
        ("/" if rooted else "") + "/".join(segments) + ("/" if trailing else "")
        for rooted, segments, trailing in globs
    ]
    hosts = tuple(HostMapping(Path(f"h{i}.xml"), (glob,)) for i, glob in enumerate(patterns))
    relpath = "/".join(path)
    expected = next(
        (
            index
            for index, glob in enumerate(patterns)
            if (directory or not _compile(glob)[1]) and _compile(glob)[0].fullmatch(relpath)
        ),
        None,
    )
    assert _HostGlobs(hosts).first(relpath, directory=directory) == expected


def test_host_glob_index_every_short_glob_against_every_short_path() -> None:
    """Each glob of up to three segments alone, against every path of up to three: the
    index never leaves out a glob that matches (wildcards, `?`, escapes, `**`, globs
    without a slash that match at any depth, rooted and directory patterns)."""
    from itertools import product

    from vnuma.report.config import _compile, _HostGlobs

    def joined(alphabet: list[str]) -> list[str]:
        return ["/".join(p) for n in (1, 2, 3) for p in product(alphabet, repeat=n)]

    globs = [
        lead + body + tail
        for body in joined(["vms", "hv1", "*", "**", "hv?", "x\\*"])
        for lead in ("", "/")
        for tail in ("", "/")
    ]
    paths = joined(["vms", "hv1", "hv2", "x*"])
    wrong = []
    for glob in globs:
        regex, dir_only = _compile(glob)
        index = _HostGlobs((HostMapping(Path("h.xml"), (glob,)),))
        for relpath in paths:
            matches = regex.fullmatch(relpath) is not None
            for directory in (False, True):
                expected = 0 if matches and (directory or not dir_only) else None
                if index.first(relpath, directory=directory) != expected:
                    wrong.append((glob, relpath, directory))
    assert wrong == []
