"""Property-based fuzzing of the CLI: every input gets a verdict, never an exception.

Four input kinds are generated with hypothesis and fed to `vnuma.cli.main` in-process:

* byte-level mutations of the intent samples (`samples/**/*.yaml|.toml`);
* byte-level mutations of the XML samples (host snapshots, domains, negative samples and,
  when present, `../shared/corpus/libvirt/domains/*.xml`);
* structured intents built from the schema's keys, with valid and wrong-typed values,
  written as YAML (`yaml.safe_dump`) or TOML;
* structured domain XML built from libvirt's NUMA-related elements with random attributes.

Each example runs one CLI command (lint, compile, show, fit or host) on the input. The
only allowed outcomes are exit 0, 1 or 2 (argparse's SystemExit counts as 2) with no
"internal error" and no "Traceback" on stderr; anything else fails with the input shown.

The default suite runs about 40 examples (deterministically). `pytest -m fuzz` runs
`VNUMA_FUZZ_EXAMPLES` examples per input kind (default 25000: 100,000 in total); with
`VNUMA_FUZZ_SAVE=1` the (shrunk) input of a failure is saved to `tests/fuzz-corpus/`.
Every file in that regression corpus is run through lint, compile and show by
`test_regression_corpus`.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from lxml import etree
from vnuma.cli import main

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
HOSTS = SAMPLES / "hosts"
CORPUS = Path(__file__).resolve().parent / "fuzz-corpus"
SHARED_DOMAINS = REPO.parent / "shared" / "corpus" / "libvirt" / "domains"

HOST_FILES = ("2s-xeon.xml", "epyc-nps4.xml", "cxl-memory-node.xml")
INTENT_SUFFIXES = (".yaml", ".yml", ".toml")
KINDS = ("intent-bytes", "xml-bytes", "intent-structured", "domain-structured")

EXECUTED: Counter[str] = Counter()
"""Examples actually executed per input kind (printed by the fuzz tests)."""


def _fuzz_examples() -> int:
    return int(os.environ.get("VNUMA_FUZZ_EXAMPLES", "25000"))


DEFAULT_SETTINGS = settings(
    max_examples=10,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _fuzz_settings() -> settings:
    return settings(
        max_examples=_fuzz_examples(),
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )


# --- the sample inputs ---------------------------------------------------------------------


def _sample_files() -> tuple[list[Path], list[Path]]:
    intents, xmls = [], []
    for path in sorted(SAMPLES.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix.lower() in INTENT_SUFFIXES:
            intents.append(path)
        elif path.suffix.lower() == ".xml":
            xmls.append(path)
    if SHARED_DOMAINS.is_dir():
        xmls.extend(sorted(SHARED_DOMAINS.glob("*.xml")))
    return intents, xmls


SAMPLE_INTENTS, SAMPLE_XMLS = _sample_files()
SAMPLE_BYTES = {path: path.read_bytes() for path in (*SAMPLE_INTENTS, *SAMPLE_XMLS)}


# --- running the CLI -----------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    code: object
    out: str
    err: str


def run_cli(argv: list[str]) -> Outcome:
    """`vnuma ARGV` in-process with stdout/stderr captured; exceptions propagate."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code: object = main(argv)
        except SystemExit as exc:  # argparse: usage errors (2), --help/--version (0)
            code = 2 if exc.code not in (0, None) else 0
    return Outcome(code, out.getvalue(), err.getvalue())


def check_outcome(argv: list[str], outcome: Outcome) -> None:
    problem = None
    if outcome.code not in (0, 1, 2) or isinstance(outcome.code, bool):
        problem = f"exit code {outcome.code!r} is not 0, 1 or 2"
    elif "internal error" in outcome.err:
        problem = "internal error reported"
    elif "Traceback" in outcome.err:
        problem = "traceback on stderr"
    if problem:
        raise AssertionError(
            f"vnuma {' '.join(argv)}: {problem}\n--- stderr ---\n{outcome.err[-3000:]}"
        )


class Workdir:
    """A scratch tree: hosts/ (copies of the samples, so `host: ../hosts/X.xml` resolves),
    intents/ (where the fuzzed file goes) and out/ (compile -o)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.hosts = root / "hosts"
        self.intents = root / "intents"
        self.out = root / "out"
        for folder in (self.hosts, self.intents, self.out):
            folder.mkdir(parents=True, exist_ok=True)
        for name in HOST_FILES:
            shutil.copy(HOSTS / name, self.hosts / name)

    def put(self, name: str, data: bytes) -> Path:
        path = self.intents / name
        path.write_bytes(data)
        return path


@pytest.fixture(scope="module")
def workdir():
    root = Path(tempfile.mkdtemp(prefix="vnuma-fuzz-"))
    try:
        yield Workdir(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def intent_commands(w: Workdir, path: Path) -> list[list[str]]:
    """Every command that takes an intent file."""
    f = str(path)
    out = str(w.out / "out.xml")
    xeon = str(HOSTS / "2s-xeon.xml")
    commands = [
        ["lint", f, "--host", str(HOSTS / "2s-xeon.xml"), "--isolated", "--format", "json"],
        ["lint", f, "--isolated"],
        ["show", "--host", str(HOSTS / "epyc-nps4.xml"), f],
        ["fit", f, "--host", str(HOSTS)],
        [
            "compile",
            f,
            "--domain",
            str(SAMPLES / "domains" / "numa-vm.xml"),
            "--host",
            xeon,
            "-o",
            out,
        ],
    ]
    commands += [["compile", f, "--host", str(HOSTS / h), "-o", out] for h in HOST_FILES]
    return commands


def xml_commands(w: Workdir, path: Path) -> list[list[str]]:
    """Every command that takes an XML file: as a domain, a base domain or a host snapshot."""
    f = str(path)
    intent = str(SAMPLES / "intents" / "db-strict.yaml")
    out = str(w.out / "out.xml")
    return [
        ["lint", f, "--host", str(HOSTS / "2s-xeon.xml"), "--isolated", "--format", "json"],
        ["lint", f, "--isolated"],
        ["host", f],
        ["host", f, "--format", "json"],
        ["compile", intent, "--host", f, "-o", out],
        ["compile", intent, "--domain", f, "--host", str(HOSTS / "2s-xeon.xml"), "-o", out],
        ["compile", intent, "--host", str(HOSTS / "2s-xeon.xml"), "--occupied", f, "-o", out],
        ["show", "--host", f, intent],
        ["fit", intent, "--host", f],
    ]


def commands_for(w: Workdir, path: Path) -> list[list[str]]:
    if path.suffix.lower() == ".xml":
        return xml_commands(w, path)
    return intent_commands(w, path)


def _is_final_example() -> bool:
    try:
        from hypothesis.control import current_build_context

        return bool(current_build_context().is_final)
    except Exception:  # not inside hypothesis, or its internals moved: save anyway
        return True


def save_crash(name: str, data: bytes) -> None:
    """Keep a crashing input in the regression corpus (VNUMA_FUZZ_SAVE=1, final example)."""
    if os.environ.get("VNUMA_FUZZ_SAVE") != "1" or not _is_final_example():
        return
    suffix = Path(name).suffix or ".txt"
    CORPUS.mkdir(exist_ok=True)
    digest = hashlib.sha1(data).hexdigest()[:12]
    (CORPUS / f"crash-{digest}{suffix}").write_bytes(data)


def fuzz_one(kind: str, w: Workdir, name: str, data: bytes, pick: int) -> None:
    """Write the input, run one command on it (chosen by `pick`), check the outcome."""
    EXECUTED[kind] += 1
    path = w.put(name, data)
    commands = commands_for(w, path)
    argv = commands[pick % len(commands)]
    note(f"input {name} ({len(data)} bytes): {data!r}")
    note(f"command: vnuma {' '.join(argv)}")
    try:
        check_outcome(argv, run_cli(argv))
    except BaseException:
        save_crash(name, data)
        raise


# --- (a) byte-level mutations --------------------------------------------------------------

TOKENS = [
    b"'",
    b'"',
    b"<",
    b">",
    b"&",
    b"&amp;",
    b"&#0;",
    b"&#xffff;",
    b"&undefined;",
    b"]]>",
    b"<!--",
    b"<![CDATA[",
    b"<!DOCTYPE x [<!ENTITY e 'x'>]>",
    b"</",
    b"/>",
    b"=",
    b"!tag ",
    b"!!python/object:os.system ",
    b"!!binary ",
    b"*alias",
    b"&anchor ",
    b"<<: *a\n",
    b"? ",
    b": ",
    b"- ",
    b"{",
    b"}",
    b"[",
    b"]",
    b"#",
    b"\t",
    b"\n",
    b"\r\n",
    b"\xff",
    b"\xfe",
    b"\x00",
    b"\xef\xbb\xbf",
    b"\xc3",
    b"\xe2\x80\xa8",
    b"99999999999999999999999999999",
    b"-1",
    b"1e400",
    b"nan",
    b"inf",
    b"0x10",
    b"1_000",
    b"^",
    b"-",
    b"^0",
    b"0-",
    b"-0",
    b",",
    b"auto",
    b"none",
    b"null",
    b"~",
    b"true",
    b"0",
    b"1",
    b"65536",
    b"4294967296",
    b"18446744073709551616",
    b"KiB",
    b"GiB",
    b"TiB",
    b"1.5",
    b"0.0001",
    b" ",
    b"\\",
    b"\\u0000",
    b'"""',
    b"'''",
    b"[[cells]]\n",
    b"[numatune]\n",
    b"= {}",
    b"= []",
]


@st.composite
def byte_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        size = len(buf)
        op = draw(st.sampled_from(["insert", "delete", "replace", "duplicate", "token", "flip"]))
        pos = draw(st.integers(0, size))
        length = draw(st.integers(0, min(64, size - pos))) if size > pos else 0
        if op == "insert":
            buf[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del buf[pos : pos + max(length, 1)]
        elif op == "replace":
            buf[pos : pos + length] = draw(st.binary(max_size=16))
        elif op == "duplicate":
            chunk = bytes(buf[pos : pos + length])
            buf[pos:pos] = chunk * draw(st.integers(1, 4))
        elif op == "token":
            buf[pos : pos + draw(st.integers(0, 4))] = draw(st.sampled_from(TOKENS))
        elif op == "flip" and size:
            at = min(pos, size - 1)
            buf[at] ^= 1 << draw(st.integers(0, 7))
    return bytes(buf)


@st.composite
def mutated_sample(draw: st.DrawFn, samples: list[Path]) -> tuple[str, bytes]:
    source = draw(st.sampled_from(samples))
    data = draw(byte_mutation(SAMPLE_BYTES[source]))
    suffix = source.suffix.lower()
    if suffix != ".xml" and draw(st.integers(0, 9)) == 0:
        suffix = draw(st.sampled_from(INTENT_SUFFIXES))  # YAML read as TOML and back
    return f"in{suffix}", data


# --- (b) structured intents ----------------------------------------------------------------

UNITS = ["KiB", "MiB", "GiB", "TiB", "KB", "MB", "GB", "TB", "B", "kib", "", "PiB", " GiB"]
MODES = ["strict", "preferred", "interleave", "restrictive", "Strict", "bogus", ""]

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(-3, 300), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(-3, 300), max_size=2),
)

small_id = st.integers(0, 300)
sizes = st.one_of(
    st.builds(
        lambda n, frac, unit: f"{n}{frac}{unit}",
        st.sampled_from([0, 1, 2, 3, 4, 8, 16, 32, 64, 128, 512, 1024, 2**40, 10**30]),
        st.sampled_from(["", "", ".5", ".0001", "."]),
        st.sampled_from(UNITS),
    ),
    st.integers(-1, 2**40),
    junk,
)


def _idset_text(parts: list[tuple[bool, int, int | None]]) -> str:
    return ",".join(
        ("^" if neg else "") + (f"{a}" if b is None else f"{a}-{b}") for neg, a, b in parts
    )


idsets = st.one_of(
    st.builds(
        _idset_text,
        st.lists(
            st.tuples(st.booleans(), small_id, st.one_of(st.none(), small_id)),
            min_size=1,
            max_size=4,
        ),
    ),
    small_id,
    st.sampled_from(["", " ", "0-", "-1", "^", "^0", "3-1", "0,,1", "0-7,^0-7", "auto"]),
    junk,
)


def maybe(strategy: st.SearchStrategy, p_junk: int = 8) -> st.SearchStrategy:
    """Mostly `strategy`, sometimes a wrong-typed value."""
    return st.one_of(*([strategy] * p_junk), junk)


def optional_keys(draw: st.DrawFn, fields: dict[str, st.SearchStrategy]) -> dict:
    if not fields:
        return {}
    chosen = draw(st.sets(st.sampled_from(sorted(fields)), max_size=len(fields)))
    return {key: draw(fields[key]) for key in sorted(chosen)}


@st.composite
def cells_list(draw: st.DrawFn) -> list:
    cells = []
    for index in range(draw(st.integers(1, 5))):
        cell = optional_keys(
            draw,
            {
                "id": maybe(st.integers(-1, 6)),
                "cpus": idsets,
                "host_nodes": st.one_of(idsets, st.just("auto")),
                "mode": maybe(st.sampled_from(MODES)),
                "mem_access": maybe(st.sampled_from(["shared", "private", "none"])),
                "distances": maybe(
                    st.dictionaries(
                        st.one_of(st.integers(-1, 6), st.text(max_size=3)),
                        maybe(st.integers(0, 300)),
                        max_size=4,
                    )
                ),
                "unknown": junk,
            },
        )
        if draw(st.integers(0, 9)):
            cell["memory"] = draw(sizes)
        cells.append(cell if draw(st.integers(0, 19)) else draw(junk))
        if index > 7:
            break
    return cells


@st.composite
def intents(draw: st.DrawFn) -> dict:
    intent: dict = {}
    if draw(st.integers(0, 19)):
        intent["version"] = draw(maybe(st.just(1)))
    if draw(st.integers(0, 19)):
        intent["vcpus"] = draw(maybe(st.integers(0, 70000)))
    if draw(st.integers(0, 19)):
        intent["memory"] = draw(sizes)
    extra = optional_keys(
        draw,
        {
            "name": maybe(st.text(max_size=20)),
            "host": st.sampled_from(
                ["../hosts/2s-xeon.xml", "../hosts/epyc-nps4.xml", "missing.xml", "", "."]
            ),
            "numatune": maybe(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "mode": maybe(st.sampled_from(MODES)),
                        "nodeset": st.one_of(idsets, st.just("auto")),
                        "placement": maybe(st.sampled_from(["static", "auto", "dynamic"])),
                        "reserve": sizes,
                    },
                )
            ),
            "cells": st.one_of(st.integers(-1, 130), cells_list(), junk),
            "hugepages": maybe(
                st.one_of(st.builds(dict, size=sizes), st.just({}), st.builds(dict, sz=sizes))
            ),
            "cpu": maybe(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "pinning": maybe(st.sampled_from(["none", "node", "dedicated", "x"])),
                        "threads": maybe(st.sampled_from(["prefer", "isolate", "require", "x"])),
                        "reserved": idsets,
                        "emulator": st.one_of(st.sampled_from(["auto", "node"]), idsets),
                        "topology": st.one_of(
                            st.just("auto"),
                            st.fixed_dictionaries(
                                {},
                                optional={
                                    k: maybe(st.integers(0, 70000))
                                    for k in ("sockets", "dies", "cores", "threads")
                                },
                            ),
                            junk,
                        ),
                    },
                )
            ),
            "bogus_key": junk,
        },
    )
    intent.update(extra)
    return intent


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_value(value: object) -> str | None:
    """A TOML literal for `value` (inline tables and arrays), None when TOML has none."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        items = [toml_value(v) for v in value]
        return "[" + ", ".join(i for i in items if i is not None) + "]"
    if isinstance(value, dict):
        pairs = [(toml_key(k), toml_value(v)) for k, v in value.items()]
        return "{" + ", ".join(f"{k} = {v}" for k, v in pairs if v is not None) + "}"
    return json.dumps(str(value))


def toml_key(key: object) -> str:
    text = str(key)
    return text if _BARE_KEY.match(text) else json.dumps(text)


def to_toml(intent: dict) -> str:
    """Flat keys first, then the tables as [table] / [[cells]] sections when they fit."""
    lines, tables = [], []
    for key, value in intent.items():
        if isinstance(value, dict) and key != "cells":
            tables.append((key, value))
            continue
        if key == "cells" and isinstance(value, list) and all(isinstance(c, dict) for c in value):
            tables.append((key, value))
            continue
        literal = toml_value(value)
        if literal is not None:
            lines.append(f"{toml_key(key)} = {literal}")
    for key, value in tables:
        rows = value if isinstance(value, list) else [value]
        header = f"[[{toml_key(key)}]]" if isinstance(value, list) else f"[{toml_key(key)}]"
        for row in rows:
            lines.append("")
            lines.append(header)
            for k, v in row.items():
                literal = toml_value(v)
                if literal is not None:
                    lines.append(f"{toml_key(k)} = {literal}")
    return "\n".join(lines) + "\n"


@st.composite
def structured_intent(draw: st.DrawFn) -> tuple[str, bytes]:
    intent = draw(intents())
    if draw(st.integers(0, 3)) == 0:
        return "in.toml", to_toml(intent).encode("utf-8")
    text = yaml.safe_dump(intent, sort_keys=draw(st.booleans()), allow_unicode=True)
    return draw(st.sampled_from(["in.yaml", "in.yml"])), text.encode("utf-8")


# --- (c) structured domain XML -------------------------------------------------------------

xml_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    max_size=8,
)
num = st.one_of(
    st.integers(-2, 70).map(str),
    st.sampled_from(["0", "1", "2048", "1048576", "99999999999999999999", "1.5", "-0", " 4 "]),
    xml_text,
)
attr_idset = st.one_of(idsets.map(str), xml_text)
unit = st.sampled_from(["KiB", "MiB", "GiB", "TiB", "k", "M", "G", "bytes", "b", "KB", "x", ""])
mode_attr = st.sampled_from([*MODES, "restrictive"])


def _xml_safe(value: object) -> str:
    """Drop the characters XML 1.0 cannot carry (lxml refuses them)."""
    return "".join(
        ch
        for ch in str(value)
        if ch in "\t\n\r" or " " <= ch <= "\ud7ff" or "\ue000" <= ch <= "\ufffd" or ch > "\uffff"
    )


def _attrs(draw: st.DrawFn, spec: dict[str, st.SearchStrategy]) -> dict[str, str]:
    return {k: _xml_safe(v) for k, v in optional_keys(draw, spec).items()}


def _sub(
    draw: st.DrawFn, parent: etree._Element, tag: str, spec: dict, text=None
) -> etree._Element:
    element = etree.SubElement(parent, tag, _attrs(draw, spec))
    if text is not None:
        element.text = draw(text)
    return element


@st.composite
def structured_domain(draw: st.DrawFn) -> tuple[str, bytes]:
    root = etree.Element("domain", {"type": draw(st.sampled_from(["kvm", "qemu", "x"]))})
    etree.SubElement(root, "name").text = "fuzz"
    present = draw(
        st.sets(
            st.sampled_from(
                ["memory", "vcpu", "numatune", "cpu", "cputune", "memoryBacking", "devices"]
            ),
            max_size=7,
        )
    )
    if "memory" in present:
        for tag in draw(st.sampled_from([["memory"], ["memory", "currentMemory"], ["memory"] * 2])):
            _sub(draw, root, tag, {"unit": unit}, text=num)
    if "vcpu" in present:
        _sub(
            draw,
            root,
            "vcpu",
            {
                "placement": st.sampled_from(["static", "auto", "x"]),
                "current": num,
                "cpuset": attr_idset,
            },
            text=num,
        )
    if "numatune" in present:
        tune = etree.SubElement(root, "numatune")
        if draw(st.booleans()):
            _sub(
                draw,
                tune,
                "memory",
                {
                    "mode": mode_attr,
                    "nodeset": attr_idset,
                    "placement": st.sampled_from(["static", "auto"]),
                },
            )
        for _ in range(draw(st.integers(0, 4))):
            _sub(draw, tune, "memnode", {"cellid": num, "mode": mode_attr, "nodeset": attr_idset})
    if "cpu" in present:
        cpu = _sub(draw, root, "cpu", {"mode": st.sampled_from(["host-model", "host-passthrough"])})
        if draw(st.booleans()):
            _sub(
                draw,
                cpu,
                "topology",
                {"sockets": num, "dies": num, "clusters": num, "cores": num, "threads": num},
            )
        if draw(st.integers(0, 4)):
            numa = etree.SubElement(cpu, "numa")
            n_cells = draw(st.integers(0, 5))
            for _ in range(n_cells):
                cell = _sub(
                    draw,
                    numa,
                    "cell",
                    {
                        "id": num,
                        "cpus": attr_idset,
                        "memory": num,
                        "unit": unit,
                        "memAccess": st.sampled_from(["shared", "private", "x"]),
                        "discard": st.sampled_from(["yes", "no"]),
                    },
                )
                if draw(st.booleans()):
                    distances = etree.SubElement(cell, "distances")
                    for _ in range(draw(st.integers(0, n_cells + 1))):
                        _sub(draw, distances, "sibling", {"id": num, "value": num})
    if "cputune" in present:
        tune = etree.SubElement(root, "cputune")
        for _ in range(draw(st.integers(0, 6))):
            _sub(draw, tune, "vcpupin", {"vcpu": num, "cpuset": attr_idset})
        if draw(st.booleans()):
            _sub(draw, tune, "emulatorpin", {"cpuset": attr_idset})
    if "memoryBacking" in present:
        backing = etree.SubElement(root, "memoryBacking")
        if draw(st.integers(0, 4)):
            pages = etree.SubElement(backing, "hugepages")
            for _ in range(draw(st.integers(0, 3))):
                _sub(draw, pages, "page", {"size": num, "unit": unit, "nodeset": attr_idset})
        if draw(st.booleans()):
            etree.SubElement(backing, draw(st.sampled_from(["nosharepages", "locked"])))
    if "devices" in present:
        devices = etree.SubElement(root, "devices")
        for _ in range(draw(st.integers(0, 3))):
            memory = _sub(
                draw,
                devices,
                "memory",
                {"model": st.sampled_from(["dimm", "nvdimm", "virtio-mem", "x"])},
            )
            target = etree.SubElement(memory, "target")
            if draw(st.booleans()):
                _sub(draw, target, "size", {"unit": unit}, text=num)
            if draw(st.booleans()):
                _sub(draw, target, "node", {}, text=num)
    children = list(root)
    if children and draw(st.integers(0, 4)) == 0:  # libvirt ignores order; the parser may not
        root[:] = draw(st.permutations(children))
    data = etree.tostring(root, pretty_print=draw(st.booleans()), encoding="utf-8")
    return "domain.xml", data


# --- the tests -----------------------------------------------------------------------------

STRATEGIES: dict[str, Callable[[], st.SearchStrategy]] = {
    "intent-bytes": lambda: mutated_sample(SAMPLE_INTENTS),
    "xml-bytes": lambda: mutated_sample(SAMPLE_XMLS),
    "intent-structured": structured_intent,
    "domain-structured": structured_domain,
}


def run_kind(kind: str, w: Workdir, config: settings) -> int:
    """Run the hypothesis test for `kind` under `config`; returns the examples executed."""
    before = EXECUTED[kind]

    @config
    @given(sample=STRATEGIES[kind](), pick=st.integers(0, 2**16))
    def fuzz(sample: tuple[str, bytes], pick: int) -> None:
        name, data = sample
        fuzz_one(kind, w, name, data, pick)

    fuzz()
    return EXECUTED[kind] - before


@pytest.mark.parametrize("kind", KINDS)
def test_fuzz_quick(kind: str, workdir: Workdir) -> None:
    """A bounded, deterministic run (about 40 examples over the four kinds; the `fuzz`
    marker runs VNUMA_FUZZ_EXAMPLES of each)."""
    assert run_kind(kind, workdir, DEFAULT_SETTINGS) > 0


@pytest.mark.fuzz
@pytest.mark.parametrize("kind", KINDS)
def test_fuzz_many(kind: str, workdir: Workdir) -> None:
    """VNUMA_FUZZ_EXAMPLES examples of one kind (CI: >= 100,000 over the four kinds)."""
    n = run_kind(kind, workdir, _fuzz_settings())
    total = sum(EXECUTED.values())
    print(f"fuzz: {n} examples of {kind} ({total} examples in this session so far)")
    assert n > 0


def test_samples_exist() -> None:
    """The mutation strategies need something to mutate."""
    assert SAMPLE_INTENTS and SAMPLE_XMLS


def test_toml_writer_round_trips() -> None:
    import tomllib

    intent = {
        "version": 1,
        "name": 'a "b"',
        "vcpus": 4,
        "memory": "4GiB",
        "numatune": {"mode": "strict", "nodeset": "0-1"},
        "cells": [{"cpus": "0-1", "memory": "2GiB", "distances": {1: 21}}, {"memory": "2GiB"}],
    }
    parsed = tomllib.loads(to_toml(intent))
    assert parsed["cells"][0]["distances"] == {"1": 21}
    assert parsed["name"] == 'a "b"' and parsed["numatune"]["nodeset"] == "0-1"


# --- the regression corpus -----------------------------------------------------------------

CORPUS_FILES = (
    sorted(p for p in CORPUS.glob("*") if p.is_file() and p.name != "README.md")
    if CORPUS.is_dir()
    else []
)

KNOWN_CRASHES: dict[str, str] = {
    # "crash-0123456789ab.yaml": "why it still crashes (strict xfail until fixed)",
}


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(
            p,
            id=p.name,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_CRASHES[p.name])]
            if p.name in KNOWN_CRASHES
            else [],
        )
        for p in CORPUS_FILES
    ],
)
def test_regression_corpus(path: Path, workdir: Workdir) -> None:
    """Every input that ever crashed: all the commands that take its kind of file."""
    copy = workdir.put(path.name, path.read_bytes())
    for argv in commands_for(workdir, copy):
        check_outcome(argv, run_cli(argv))


def test_regression_corpus_is_not_empty() -> None:
    assert CORPUS_FILES, "tests/fuzz-corpus/ lost its entries"
