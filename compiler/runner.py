"""The compile pipeline: load -> validate -> model -> check -> plan -> emit -> verify."""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vnuma.diagnostics import Diagnostic, Severity
from vnuma.load.text import UnreadableInput, read_bytes
from vnuma.model.host import HostTopology

if TYPE_CHECKING:
    from vnuma.load.intent import RawDocument
    from vnuma.model.intent import Intent


@dataclass(frozen=True)
class CompileOptions:
    intent_path: Path
    host_path: Path | None = None
    domain_path: Path | None = None
    schema_dir: Path | None = None
    output_name: str = "<stdout>"
    local_host: bool = False
    """Without --host or `host:`, check against the machine vnuma runs on (sysfs)."""
    sysfs_root: Path | None = None
    """The sysfs tree for the local host (default /sys/devices/system); implies local_host."""
    occupied: tuple[Path, ...] = ()
    """Guests already on the host (domain XML or intents): placement avoids their
    dedicated CPUs and bound memory."""


@dataclass
class CompileOutcome:
    xml: str | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)
    """The placement stage's decisions, for --explain."""
    encoding: str = "utf-8"
    """How to encode `xml` when writing it: the base domain's declared encoding."""
    declaration: str | None = None
    """The base domain's `<?xml ...?>` line, written back as it was."""

    @property
    def has_errors(self) -> bool:
        return any(d.severity >= Severity.ERROR for d in self.diagnostics)


def display_path(path: Path) -> str:
    """The path as a user would type it: relative to the working directory when inside it."""
    # strings, not Path.relative_to: lint calls this for every file of a fleet
    text = os.path.normpath(path)
    if not os.path.isabs(text) or text.startswith("//"):  # POSIX keeps a leading "//" root
        return text
    cwd = os.getcwd()
    if text == cwd:
        return "."
    inside = cwd if cwd.endswith(os.sep) else cwd + os.sep
    return text[len(inside) :] if text.startswith(inside) else text


def compile_intent(options: CompileOptions) -> CompileOutcome:
    """Raises UnreadableInput for files that cannot be read (the CLI's exit status 2)."""
    from vnuma.load.intent import load_intent
    from vnuma.rules.check import run_checks

    outcome = CompileOutcome()
    shown = display_path(options.intent_path)
    intent, diagnostics = intent_from_raw(load_intent(options.intent_path, shown))
    outcome.diagnostics.extend(diagnostics)
    if intent is None:
        return outcome
    host = _load_host_for(intent, options, outcome)
    if intent.needs_placement or options.occupied:
        intent = _place(intent, host, options, outcome)
        if intent is None:
            return outcome
    outcome.diagnostics.extend(run_checks(intent, host))
    base_root = _load_base_domain(options, outcome) if options.domain_path else None
    if outcome.has_errors:
        return outcome
    _emit_and_verify(intent, base_root, options, outcome)
    return outcome


def _place(
    intent: Intent, host: HostTopology | None, options: CompileOptions, outcome: CompileOutcome
) -> Intent | None:
    from vnuma.place import place
    from vnuma.rules import make_diagnostic

    if host is None or not host.cells:
        outcome.diagnostics.append(
            make_diagnostic(
                "VN601",
                "the intent leaves host nodes, cells or CPU pinning to vnuma, which needs a host "
                "snapshot with NUMA cells",
                intent.path,
                intent.positions.locate(()),
                hint="pass --host CAPS.xml or set `host:` in the intent",
            )
        )
        return None
    occupied = load_occupied(options.occupied, host, outcome)
    result = place(intent, host, occupied)
    outcome.diagnostics.extend(result.diagnostics)
    outcome.trace.extend(result.trace)
    return result.intent if result.ok else None


def load_occupied(
    paths: tuple[Path, ...], host: HostTopology, outcome: CompileOutcome
) -> list[Intent]:
    """Guests already placed on the host: domain XML as written, intents placed in order."""
    from vnuma.libvirt.domain import lift_domain
    from vnuma.load.document import load_xml_document
    from vnuma.load.intent import load_intent
    from vnuma.place import place

    guests: list[Intent] = []
    for path in paths:
        shown = display_path(path)
        if path.suffix.lower() == ".xml":
            doc = load_xml_document(path, shown)
            outcome.diagnostics.extend(doc.diagnostics)
            guest, problems = lift_domain(doc) if doc.root is not None else (None, [])
        else:
            guest, problems = intent_from_raw(load_intent(path, shown))
            if guest is not None and guest.needs_placement:
                placed = place(guest, host, guests)
                problems = [*problems, *placed.diagnostics]
                guest = placed.intent if placed.ok else None
        outcome.diagnostics.extend(problems)
        if guest is not None:
            guests.append(guest)
    return guests


def intent_from_raw(raw: RawDocument) -> tuple[Intent | None, list[Diagnostic]]:
    """validate -> model for a loaded intent document; None when any stage found errors."""
    from vnuma.model.intent import build_intent
    from vnuma.schema.validate import validate_intent

    diagnostics = list(raw.diagnostics)
    if any(d.severity >= Severity.ERROR for d in diagnostics):
        return None, diagnostics
    schema_errors = validate_intent(raw.data, raw.path, raw.positions)
    diagnostics.extend(schema_errors)
    if schema_errors:
        return None, diagnostics
    intent, model_errors = build_intent(raw.data, raw.path, raw.base_dir, raw.positions)
    diagnostics.extend(model_errors)
    return intent, diagnostics


def _load_host_for(
    intent: Intent, options: CompileOptions, outcome: CompileOutcome
) -> HostTopology | None:
    from vnuma.libvirt.capabilities import load_host

    path = options.host_path or intent.host_ref
    if path is None and (options.local_host or options.sysfs_root is not None):
        return _load_local_host(options, outcome)
    if path is None:
        outcome.notes.append(
            "no host snapshot: host checks skipped (pass --host CAPS.xml or set `host:` in the intent)"
        )
        return None
    try:
        host, diagnostics = load_host(path, display_path(path))
    except UnreadableInput as exc:
        if options.host_path is not None:
            raise  # an explicit --host that cannot be read is a usage error
        outcome.diagnostics.append(unreadable_host_diagnostic(intent, exc))
        return None
    outcome.diagnostics.extend(diagnostics)
    return host


def local_sysfs_root() -> Path:
    """/sys/devices/system, or VNUMA_SYSFS_ROOT (containers, tests)."""
    from vnuma.load.sysfs import SYSFS_ROOT

    return Path(os.environ.get("VNUMA_SYSFS_ROOT") or SYSFS_ROOT)


def _load_local_host(options: CompileOptions, outcome: CompileOutcome) -> HostTopology | None:
    """This machine's topology, read from sysfs. An explicit --sysfs-root that cannot be
    read is a usage error; a machine without sysfs just compiles without host checks."""
    from vnuma.load.sysfs import load_sysfs, resolve_sysfs_root

    try:
        root = resolve_sysfs_root(options.sysfs_root or local_sysfs_root())
    except UnreadableInput:
        if options.sysfs_root is not None:
            raise
        outcome.notes.append(
            "no host snapshot and no sysfs here: host checks skipped (pass --host CAPS.xml or "
            "set `host:` in the intent)"
        )
        return None
    host, diagnostics = load_sysfs(root, f"sysfs {root}")
    outcome.diagnostics.extend(diagnostics)
    if host is not None:
        outcome.notes.append(
            f"no --host or `host:`: checked against this machine ({len(host.cells)} NUMA "
            f"node(s), {host.cpu_count} CPUs, from {root}); --no-host skips host checks"
        )
    return host


def unreadable_host_diagnostic(intent: Intent, problem: UnreadableInput) -> Diagnostic:
    """VN012: the intent's own `host:` names a snapshot that cannot be read."""
    from vnuma.rules import make_diagnostic

    return make_diagnostic(
        "VN012",
        f"host snapshot cannot be read: {problem}",
        intent.path,
        intent.positions.locate(("host",)),
        hint="fix the path (it is relative to the intent) or pass --host",
        json_path=("host",),
    )


def _load_base_domain(options: CompileOptions, outcome: CompileOutcome) -> Any:
    from vnuma.load.xmlsafe import element_span, parse_xml
    from vnuma.rules import make_diagnostic

    assert options.domain_path is not None
    shown = display_path(options.domain_path)
    data = read_bytes(options.domain_path)
    root, problem = parse_xml(data)
    if problem is not None:
        outcome.diagnostics.append(
            make_diagnostic("VN010", f"base domain: {problem.message}", shown, problem.span)
        )
        return None
    if root.tag != "domain":
        outcome.diagnostics.append(
            make_diagnostic(
                "VN010",
                f"base domain: root element is <{root.tag}>, expected <domain>",
                shown,
                element_span(root),
                hint="pass a domain definition, e.g. from `virsh dumpxml NAME`",
            )
        )
        return None
    outcome.declaration, outcome.encoding = xml_declaration(data)
    return root


_DECLARATION = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(<\?xml\s[^>]*\?>)")
_ENCODING = re.compile(r"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def xml_declaration(data: bytes) -> tuple[str | None, str]:
    """The document's own `<?xml ...?>` line (kept as written) and its encoding."""
    match = _DECLARATION.match(data)
    if match is None:
        return None, "utf-8"
    declaration = match.group(1).decode("ascii", errors="replace")
    encoding = _ENCODING.search(declaration)
    name = encoding.group(1) if encoding else "utf-8"
    try:
        codecs.lookup(name)
    except LookupError:
        name = "utf-8"
    return declaration, name


def _emit_and_verify(
    intent: Intent, base_root: Any, options: CompileOptions, outcome: CompileOutcome
) -> None:
    from vnuma.emit.plan import make_plan
    from vnuma.emit.render import MergeConflict, merge_into_domain, render_fragment
    from vnuma.emit.verify import find_schema_dir, validate_base_domain, verify_domain_xml
    from vnuma.load.xmlsafe import element_span
    from vnuma.rules import make_diagnostic

    plan = make_plan(intent)
    schema_dir = find_schema_dir(options.schema_dir)
    validate_output = True
    if base_root is None:
        xml = render_fragment(plan)
    else:
        assert options.domain_path is not None
        base_shown = display_path(options.domain_path)
        if schema_dir is not None:
            base_problems = validate_base_domain(base_root, base_shown, schema_dir)
            outcome.diagnostics.extend(base_problems)
            if base_problems:
                validate_output = False
                outcome.notes.append(
                    "the base domain does not validate against domain.rng, so the merged output "
                    "was not validated either"
                )
        try:
            xml = merge_into_domain(base_root, plan, declaration=outcome.declaration)
        except MergeConflict as conflict:
            outcome.diagnostics.append(
                make_diagnostic(
                    conflict.code,
                    conflict.message,
                    base_shown,
                    element_span(conflict.element),
                    hint=conflict.hint,
                )
            )
            return
    if validate_output:
        verified = verify_domain_xml(
            xml,
            options.output_name,
            schema_dir,
            fragment=base_root is None,
            explicit_schema_dir=options.schema_dir is not None,
        )
        outcome.diagnostics.extend(verified.diagnostics)
        outcome.notes.extend(verified.notes)
    if not outcome.has_errors:
        outcome.xml = xml


__all__ = [
    "CompileOptions",
    "CompileOutcome",
    "UnreadableInput",
    "compile_intent",
    "display_path",
    "intent_from_raw",
]
