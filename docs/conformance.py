"""Conformance of `vnuma lint` with libvirt's own test corpus; writes docs/conformance.md.

Every domain input of the corpus (`MANIFEST.tsv` rows under `domains/`) is linted alone
against `capabilities/vircaps-x86_64-basic.xml`, the host libvirt's `qemuxmlconftest`
mocks, and the result is compared with the row's `expected` column:

* a `parse-error`/`failure` row whose reason is in scope (guest NUMA, topology, huge
  pages, cpusets, memory devices on NUMA nodes) must get an error-level finding;
* an `ok` row must get no error from a rule that libvirt (or QEMU) itself enforces;
  errors from the rules in `VNUMA_ONLY` (checks libvirt never makes, mostly capacity
  against that tiny mock host) are listed separately with their reason.

Usage: ``python docs/conformance.py [--corpus DIR] [--check]``. Without ``--check`` it
(re)writes docs/conformance.md; with it, it exits 1 when that file is stale. The test
`tests/test_conformance.py` imports this file by path (``docs/`` is not a package).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "libvirt"
DOC = REPO / "docs" / "conformance.md"
HOST = "capabilities/vircaps-x86_64-basic.xml"
DOMAINS = "domains/"

FAILING = ("parse-error", "failure")
OUTCOMES = ("agree", "disagree", "out-of-scope", "vnuma-only")

# Failing rows whose reason is not guest NUMA, topology, huge pages, cpusets or memory
# devices on NUMA nodes: vnuma is not meant to catch them (whether it did is reported).
OUT_OF_SCOPE: dict[str, str] = {
    "domains/cputune-iothreadsched-toomuch.xml": (
        "`<iothreadsched>` names an IOThread the domain does not have: I/O thread "
        "scheduling, not NUMA"
    ),
    "domains/cputune-vcpusched-overlap.xml": (
        "two `<vcpusched>` elements name the same vCPU: real-time scheduler policy, not placement"
    ),
    "domains/memory-hotplug-virtio-mem-overlap-address.xml": (
        "two virtio-mem devices overlap in guest physical address space: device "
        "addressing, not the NUMA node they plug into"
    ),
    "domains/pci-expander-bus-bad-machine.xml": (
        "root PCI controller model does not fit the machine type: PCI topology"
    ),
    "domains/pcie-expander-bus-bad-bus.xml": (
        "a device is plugged into a bus that cannot take it: PCI topology"
    ),
    "domains/pcie-expander-bus-bad-machine.xml": (
        "pcie-expander-bus on a machine type without PCIe: PCI topology"
    ),
}

# For every in-scope failing row, the vnuma rule that implements the check libvirt
# failed on (its message quotes libvirt's). Other rules may fire too.
LIBVIRT_CHECK: dict[str, str] = {
    "domains/cpu-hotplug-granularity.xml": "VN415",
    "domains/cpu-numa-distance-nonexistent-sibling.xml": "VN112",
    "domains/cpu-numa3.xml": "VN101",
    "domains/cpuset-invalid.xml": "VN006",
    "domains/hugepages-default-1G-nodeset-2M.xml": "VN411",
    "domains/hugepages-default-5M.xml": "VN205",
    "domains/hugepages-memaccess-invalid.xml": "VN016",
    "domains/hugepages-nodeset-nonexist.xml": "VN410",
    "domains/hugepages-numa-nodeset-nonexist.xml": "VN410",
    "domains/memory-align-fail.xml": "VN121",
    "domains/memory-hotplug-invalid-targetnode.xml": "VN406",
    "domains/memory-hotplug-nonuma.xml": "VN407",
    "domains/numad-auto-vcpu-static-numatune-no-nodeset.xml": "VN118",
    "domains/numatune-memnode-invalid-mode.xml": "VN113",
    "domains/numatune-memnode-nocpu.xml": "VN412",
    "domains/numatune-memnode-restrictive-mode-err-mixed.xml": "VN113",
    "domains/numatune-memnode-unavailable-restrictive.xml": "VN201",
    "domains/numatune-memnode-unavailable-strict.xml": "VN201",
    "domains/numatune-memnodes-problematic.xml": "VN114",
    "domains/numatune-memory-invalid-nodeset.xml": "VN006",
    "domains/numatune-static-nodeset-exceed-hostnode.xml": "VN201",
    "domains/pseries-default-phb-numa-node.xml": "VN416",
}

# Rules for what libvirt never refuses (read from each rule's "Why"): neither at define
# time nor at start, in libvirt or in QEMU. Every other rule is libvirt-enforced.
VNUMA_ONLY: dict[str, str] = {
    "VN002": "intent language (YAML/TOML) only; no libvirt counterpart",
    "VN003": "intent language (YAML/TOML) only; no libvirt counterpart",
    "VN004": "intent language only; libvirt reads a bare number as KiB",
    "VN007": "YAML/TOML loaders only; no libvirt counterpart",
    "VN008": "about vnuma's host snapshot, not the domain",
    "VN009": "about vnuma's host snapshot, not the domain",
    "VN012": "about vnuma's host snapshot, not the domain",
    "VN015": "about vnuma's own suppression comments",
    "VN105": "libvirt accepts it and moves the vCPUs to cell 0",
    "VN106": "libvirt accepts it and recomputes `<memory>` from the cells",
    "VN108": "CPU-less guest cells are valid (libvirt >= 6.6)",
    "VN110": "libvirt and QEMU accept asymmetric distances",
    "VN111": "libvirt fills a missing distance with 20",
    "VN115": "libvirt >= 9.0 accepts several preferred nodes",
    "VN116": "virsh define accepts it and drops the nodeset; only the RNG schema refuses it",
    "VN117": "libvirt widens the cgroup memory nodes instead of refusing",
    "VN202": "placement advice: libvirt binds to CPU-less nodes as asked",
    "VN203": "capacity: libvirt never compares bound memory with node memory",
    "VN204": "capacity: libvirt never compares bound memory with node memory",
    "VN206": "capacity: libvirt never checks huge page pools",
    "VN207": "capacity: libvirt allows vCPU overcommit",
    "VN208": "capacity: libvirt allows memory overcommit",
    "VN401": "libvirt drops the pin with a log line",
    "VN403": "pinning advice: libvirt pins as asked",
    "VN404": "pinning advice: libvirt never compares pins with memory bindings",
    "VN405": "libvirt never checks host CPU ids; the kernel refuses the affinity at start",
    "VN501": "cross-guest: libvirt checks each domain alone",
    "VN502": "cross-guest: libvirt checks each domain alone",
    "VN503": "cross-guest: libvirt checks each domain alone",
    "VN504": "cross-guest: libvirt checks each domain alone",
}

# Disagreements that are understood and are not vnuma bugs, with the reason. A vnuma
# bug must be fixed, not listed here.
KNOWN_DISAGREEMENTS: dict[str, str] = {
    "domains/hugepages-numa-nodeset-part.xml": (
        "libvirt's test only builds the QEMU command line: its .args give guest cell 1 a "
        "768 MiB `memory-backend-file` on the 1 GiB hugetlbfs mount, which QEMU refuses at "
        "start ('memory size 0x30000000 must be equal to or larger than page size "
        "0x40000000')"
    ),
}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str
    line: int
    column: int


@dataclass(frozen=True)
class Row:
    file: str
    expected: str
    expected_error: str
    findings: tuple[Finding, ...]
    raised: str | None = None

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def error_codes(self) -> list[str]:
        return sorted({f.code for f in self.errors})

    @property
    def enforced_errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.errors if f.code not in VNUMA_ONLY)

    @property
    def in_scope_failure(self) -> bool:
        return self.expected in FAILING and self.file not in OUT_OF_SCOPE

    @property
    def outcome(self) -> str:
        return classify(self)[0]

    @property
    def reason(self) -> str:
        return classify(self)[1]


def classify(row: Row) -> tuple[str, str]:
    """(outcome, reason) of one corpus row."""
    if row.raised is not None:
        return "disagree", f"vnuma raised {row.raised}"
    if row.expected in FAILING:
        if row.file in OUT_OF_SCOPE:
            return "out-of-scope", OUT_OF_SCOPE[row.file]
        if row.errors:
            return "agree", "flagged with an error"
        return "disagree", f"missed: libvirt refuses it ({row.expected}), vnuma has no error"
    if row.expected != "ok":
        return "disagree", f"unknown expectation {row.expected!r}"
    enforced = sorted({f.code for f in row.enforced_errors})
    if enforced:
        return "disagree", (
            f"error(s) from libvirt-enforced rule(s) {', '.join(enforced)} on a row libvirt accepts"
        )
    if row.errors:
        return "vnuma-only", "errors only from rules libvirt never checks"
    return "agree", "no libvirt-enforced error"


# --- running -----------------------------------------------------------------------------


def read_manifest(corpus: Path) -> list[dict[str, str]]:
    with (corpus / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return sorted((r for r in rows if r["file"].startswith(DOMAINS)), key=lambda r: r["file"])


def _importable() -> None:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))


def lint_corpus(corpus: Path) -> list[Row]:
    """Lint every manifest domain alone against the mocked host (one lint() per file, so
    the whole-host VN5xx rules never treat the corpus as guests of one host)."""
    _importable()
    from vnuma.commands.lint import LintOptions, lint
    from vnuma.report.config import default_config

    config = default_config(corpus)
    host = corpus / HOST
    rows = []
    for entry in read_manifest(corpus):
        path = corpus / entry["file"]
        findings: tuple[Finding, ...] = ()
        raised = None
        try:
            report = lint(LintOptions(paths=(path,), config=config, host_path=host))
        except Exception as exc:  # a crash is a finding of this test, not a reason to stop
            raised = f"{type(exc).__name__}: {_relative(str(exc), corpus)}"
        else:
            findings = tuple(
                sorted(
                    (
                        Finding(
                            d.code,
                            d.severity.label,
                            _relative(d.message, corpus),
                            d.line,
                            d.column,
                        )
                        for d in report.diagnostics
                    ),
                    key=lambda f: (f.line, f.column, f.code, f.message),
                )
            )
        rows.append(
            Row(entry["file"], entry["expected"], entry["expected_error"], findings, raised)
        )
    return rows


def _relative(text: str, corpus: Path) -> str:
    """No absolute paths in the report."""
    bases = ((corpus.resolve(), "<corpus>"), (corpus.absolute(), "<corpus>"), (REPO, "<repo>"))
    for base, shown in bases:
        text = text.replace(str(base), shown)
    return text


# --- report ------------------------------------------------------------------------------


def _shown(path: Path) -> str:
    # not resolved: a checkout beside a symlinked shared/ (CI's clean clone) shows the
    # corpus as ../shared/..., the same as a checkout beside the real one
    return Path(os.path.relpath(os.path.abspath(path), REPO)).as_posix()


def _code(text: str) -> str:
    """Inline code that survives a Markdown table cell."""
    text = text.replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _provenance(corpus: Path, rows: list[Row]) -> str:
    manifest = {r["file"]: r for r in read_manifest(corpus)}
    tags = sorted({manifest[row.file]["libvirt_commit"] for row in rows})
    readme = (corpus / "README.md").read_text(encoding="utf-8")
    parts = []
    for tag in tags:
        match = re.search(
            rf"^\|\s*{re.escape(tag)}\b[^|]*\|\s*`([^`]+)`[^|]*\|\s*`([0-9a-f]{{64}})`",
            readme,
            re.MULTILINE,
        )
        if match:
            parts.append(f"libvirt {tag} (`{match.group(1)}`, sha256 `{match.group(2)}`)")
        else:
            parts.append(f"libvirt {tag}")
    return ", ".join(parts)


def _host_lines(corpus: Path) -> list[str]:
    _importable()
    from vnuma.cpusets import format_cpuset
    from vnuma.libvirt.capabilities import load_host
    from vnuma.sizes import format_kib

    host, _ = load_host(corpus / HOST, HOST)
    assert host is not None, f"{HOST} is not a usable host snapshot"
    sizes = sorted({p.size_kib for c in host.cells for p in c.pages} - {4})
    lines = [
        "| node | CPUs | memory | "
        + " | ".join(f"{format_kib(s)} pool" for s in sizes)
        + " | left for small pages |",
        "|---|---|---|" + "---|" * len(sizes) + "---|",
    ]
    for cell in host.cells:
        pools = []
        for size in sizes:
            pool = cell.pool(size)
            pools.append(f"{pool.count} × {format_kib(size)}" if pool else "-")
        memory = format_kib(cell.memory_kib) if cell.memory_kib is not None else "?"
        small = cell.small_page_kib
        lines.append(
            f"| {cell.id} | {format_cpuset(cell.cpu_ids)} | {memory} | "
            + " | ".join(pools)
            + f" | {format_kib(small) if small is not None else '?'} |"
        )
    return lines


def render(rows: list[Row], corpus: Path) -> str:
    expectations = sorted({r.expected for r in rows}, key=lambda e: (e != "ok", e))
    out: list[str] = []
    add = out.append
    add("# Conformance with libvirt's test corpus")
    add("")
    add(
        "Generated by `python docs/conformance.py` (check with `--check`; "
        "`tests/test_conformance.py` fails when this file is stale or a row regresses). "
        "Do not edit by hand."
    )
    add("")
    add("## What is compared")
    add("")
    add(
        f"- **Corpus:** `{_shown(corpus)}/{DOMAINS}`: the {len(rows)} domain inputs of "
        f"`MANIFEST.tsv`, from {_provenance(corpus, rows)}, `tests/qemuxmlconfdata/`. "
        "`expected` is what libvirt's `qemuxmlconftest` expects: `ok` (parses, builds a "
        "QEMU command line), `parse-error` (`virsh define` fails) or `failure` (defines, "
        "fails to start)."
    )
    add(
        f"- **Host:** `{HOST}`, the host libvirt's tests mock. Its nodes are tiny and its "
        "1 GiB pools are larger than the nodes, so nothing is left for small pages and "
        "vnuma's capacity rules fire on strictly bound `ok` rows:"
    )
    add("")
    out.extend(f"  {line}" for line in _host_lines(corpus))
    add("")
    add(
        f"- **Run:** each domain is linted alone, as `vnuma lint --host {HOST} FILE` with "
        "the default configuration (every rule), so the whole-host rules (VN5xx) never "
        "see the corpus as guests of one host."
    )
    add(
        "- **Rules:** *vnuma-only* rules check what libvirt never refuses (capacity against "
        "the host, pins to absent host CPUs, cross-guest checks, normalisations libvirt "
        "applies silently); every other rule is *libvirt-enforced* (libvirt refuses the "
        "domain at define time or at start, or QEMU refuses to start). The list, with "
        "reasons, is at the end."
    )
    add(
        "- **Outcomes:** *agree*: a failing row with an in-scope reason gets an error, or "
        "an `ok` row gets no error from a libvirt-enforced rule. *disagree*: a failing row "
        "without an error, or an `ok` row with a libvirt-enforced error. *out-of-scope*: "
        "a failing row whose reason is not guest NUMA, topology, huge pages, cpusets or "
        "memory devices on NUMA nodes. *vnuma-only*: an `ok` row whose errors all come "
        "from vnuma-only rules."
    )
    add("")

    add("## Counts")
    add("")
    add("| expected | " + " | ".join(OUTCOMES) + " | total |")
    add("|---|" + "---:|" * (len(OUTCOMES) + 1))
    for expected in expectations:
        group = [r for r in rows if r.expected == expected]
        counts = [sum(1 for r in group if r.outcome == o) for o in OUTCOMES]
        add(f"| {expected} | " + " | ".join(map(str, counts)) + f" | {len(group)} |")
    totals = [sum(1 for r in rows if r.outcome == o) for o in OUTCOMES]
    add("| **total** | " + " | ".join(map(str, totals)) + f" | {len(rows)} |")
    add("")

    add("## Disagreements")
    add("")
    disagreements = [r for r in rows if r.outcome == "disagree"]
    if not disagreements:
        add("None.")
        add("")
    for row in disagreements:
        add(f"### `{row.file}` ({row.expected})")
        add("")
        if row.expected_error:
            add(f"- libvirt: {_code(row.expected_error)}")
        if row.raised:
            add(f"- vnuma raised {_code(row.raised)}")
        for f in row.findings:
            if f.severity == "error":
                add(f"- vnuma {f.line}:{f.column}: {f.code} [{f.severity}] {_code(f.message)}")
        add(f"- why it disagrees: {row.reason}")
        known = KNOWN_DISAGREEMENTS.get(row.file)
        add(f"- known, not a vnuma bug: {known}" if known else "- **not explained: a regression**")
        add("")

    add("## Out-of-scope rows")
    add("")
    add("| file | expected | libvirt's error | why out of scope | vnuma errors anyway |")
    add("|---|---|---|---|---|")
    for row in rows:
        if row.outcome == "out-of-scope":
            add(
                f"| `{row.file}` | {row.expected} | {_code(row.expected_error)} | "
                f"{_cell(row.reason)} | {', '.join(row.error_codes) or 'none'} |"
            )
    add("")

    add("## vnuma-only findings on `ok` rows")
    add("")
    add(
        "Errors from rules libvirt never checks; with this mock host they are expected "
        "(on a real host they would be worth fixing)."
    )
    add("")
    add("| file | code | first message | reason |")
    add("|---|---|---|---|")
    for row in rows:
        if row.outcome != "vnuma-only":
            continue
        for code in row.error_codes:
            first = next(f for f in row.errors if f.code == code)
            add(f"| `{row.file}` | {code} | {_code(first.message)} | {VNUMA_ONLY[code]} |")
    add("")

    add("## Failing rows flagged by another rule than libvirt's")
    add("")
    add(
        "Each in-scope failing row has the vnuma rule that implements libvirt's check "
        "(`LIBVIRT_CHECK` in the script). These rows are flagged, but not by that rule:"
    )
    add("")
    mismatched = [
        r for r in rows if r.in_scope_failure and LIBVIRT_CHECK.get(r.file) not in r.error_codes
    ]
    if not mismatched:
        add("None.")
    for row in mismatched:
        add(
            f"- `{row.file}`: libvirt {_code(row.expected_error)}; expected "
            f"{LIBVIRT_CHECK.get(row.file, '(no rule listed)')}, vnuma: "
            + "; ".join(f"{f.code} {_code(f.message)}" for f in row.errors)
        )
    add("")

    add("## Agreement detail")
    add("")
    add("| file | expected | outcome | vnuma errors | libvirt's check |")
    add("|---|---|---|---|---|")
    for row in rows:
        check = LIBVIRT_CHECK.get(row.file)
        shown = (
            ""
            if check is None
            else f"{check} ({'fired' if check in row.error_codes else 'not fired'})"
        )
        add(
            f"| `{row.file.removeprefix(DOMAINS)}` | {row.expected} | {row.outcome} | "
            f"{', '.join(row.error_codes) or '-'} | {shown} |"
        )
    add("")

    add("## vnuma-only rules")
    add("")
    add("| code | why libvirt never refuses it |")
    add("|---|---|")
    for code, reason in sorted(VNUMA_ONLY.items()):
        add(f"| {code} | {reason} |")
    add("")
    return "\n".join(out)


def generate(corpus: Path = DEFAULT_CORPUS) -> tuple[list[Row], str]:
    rows = lint_corpus(corpus)
    return rows, render(rows, corpus)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="libvirt corpus")
    parser.add_argument(
        "--check", action="store_true", help=f"exit 1 if {_shown(DOC)} is not up to date"
    )
    args = parser.parse_args(argv)
    if not (args.corpus / "MANIFEST.tsv").is_file():
        print(f"{args.corpus}: no MANIFEST.tsv (is the corpus there?)", file=sys.stderr)
        return 2
    start = time.perf_counter()
    rows, text = generate(args.corpus)
    elapsed = time.perf_counter() - start
    counts = ", ".join(f"{o} {sum(1 for r in rows if r.outcome == o)}" for o in OUTCOMES)
    print(f"{len(rows)} domains in {elapsed:.2f}s: {counts}", file=sys.stderr)
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else None
    if args.check:
        if current != text:
            print(f"{_shown(DOC)} is stale: run `python docs/conformance.py`", file=sys.stderr)
            return 1
        return 0
    if current != text:
        DOC.write_text(text, encoding="utf-8")
        print(f"wrote {_shown(DOC)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
