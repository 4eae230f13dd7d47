"""The guest runner: the one caller of the stages, for every command.

    load -> validate -> model -> place -> check -> admit -> emit -> verify

A guest file (an intent, or a domain XML) is loaded and modelled by :func:`load_guest_file`
(one loader per kind, one XML policy). The guests of one host are then seated by
:func:`seat_guests`, in one documented order, each placed beside the ones before it; each
is checked alone against the host, and the host admits them together. `compile`,
`compile --occupied`, `lint`, `show` and `fit` differ only in which files they hand to
the runner and how they report: they never run a stage themselves, so they never
disagree.

Seating order (deterministic): guests already fixed (domain XML, intents that bind every
node and pin) first, then the intents that leave something to vnuma, by guest name; each auto
intent is placed beside all the guests seated before it. Files that name the same guest
(same `<uuid>`, or the same name when nothing tells them apart: an intent and the domain
XML compiled from it) are one guest on the host: the domain XML stands for it, because it
is what `virsh define` was given; the intent is still checked on its own, placed beside
the others but not beside its own XML.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from vnuma import codes
from vnuma.diagnostics import Diagnostic, Severity
from vnuma.load.discover import DOMAIN_SUFFIXES, INTENT_SUFFIXES
from vnuma.load.text import StrPath, UnreadableInput, read_bytes
from vnuma.model.host import HostTopology
from vnuma.records import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing when vnuma starts
if TYPE_CHECKING:
    from typing import Any

    from vnuma.load.document import XmlDocument
    from vnuma.load.intent import RawDocument
    from vnuma.model.capacity import HostLoad
    from vnuma.model.guest import Guest
    from vnuma.model.intent import Intent
    from vnuma.report.config import LintConfig
    from vnuma.report.suppress import Suppression


# --- paths ---------------------------------------------------------------------------------


def display_path(path: StrPath) -> str:
    """The path as a user would type it: relative to the working directory when inside it."""
    # strings, not Path.relative_to: lint calls this for every file of a fleet
    written = os.fspath(path)
    text = os.path.normpath(written)
    if text == written:
        text = written  # one string for a fleet's file, not two of the same text
    if not os.path.isabs(text) or text.startswith("//"):  # POSIX keeps a leading "//" root
        return text
    cwd = os.getcwd()
    if text == cwd:
        return "."
    inside = cwd if cwd.endswith(os.sep) else cwd + os.sep
    return text[len(inside) :] if text.startswith(inside) else text


def display_child(shown_directory: str, name: str) -> str:
    """``display_path(directory / name)`` from ``display_path(directory)``, for a file
    name (no "/", not "." or "..") of a file (not the working directory itself)."""
    if shown_directory == ".":
        return name
    if shown_directory.endswith("/"):  # the root, "/" or "//"
        return shown_directory + name
    return f"{shown_directory}/{name}"


def local_sysfs_root() -> Path:
    """/sys/devices/system, or VNUMA_SYSFS_ROOT (containers, tests)."""
    from vnuma.load.sysfs import SYSFS_ROOT

    return Path(os.environ.get("VNUMA_SYSFS_ROOT") or SYSFS_ROOT)


# --- load -> validate -> model: one guest file ------------------------------------------------


class GuestFile:
    """One guest file as the stages saw it: what it says, what it became, what was found.

    ``written`` is what the file says: an `Intent`, or for a domain XML the `Guest` read
    from it (libvirt's XML leaves nothing to place). ``guest`` is the resolved guest the
    checks, admission, emit and the views see: the domain's, the intent resolved as
    written when it leaves nothing open, or as placed; None when it could not be placed,
    or no host was known to place it on.

    The stages fill it in as the file goes through them (a slots class: one per file of
    a fleet)."""

    __slots__ = (
        "_path",
        "diagnostics",
        "distance",
        "guest",
        "host_checked",
        "kind",
        "nodes",
        "note",
        "same_as",
        "shown",
        "source",
        "suppressions",
        "trace",
        "written",
    )

    def __init__(
        self,
        path: StrPath,
        shown: str,
        kind: str = "skipped",
        note: str | None = None,
        written: Intent | Guest | None = None,
        guest: Guest | None = None,
        suppressions: list[Suppression] | None = None,
    ) -> None:
        self.source = path
        """The file as it is read."""
        self._path = path if isinstance(path, Path) else None
        self.shown = shown
        self.kind = kind
        """"intent", "domain", or "skipped" (not a guest file; ``note`` says why)."""
        self.note = note
        self.written = written
        self.guest = guest
        self.diagnostics: list[Diagnostic] = []
        self.suppressions: list[Suppression] = [] if suppressions is None else suppressions
        self.host_checked = False
        """Checked against a host snapshot with NUMA cells."""
        self.same_as: str | None = None
        """The file that stands for this guest on its host (the same guest, see the module)."""
        self.trace: list[str] = []
        """The placement stage's decisions, for --explain."""
        self.nodes: tuple[int, ...] = ()
        """The host node placement chose for each guest cell (empty: nothing was placed)."""
        self.distance: int | None = None
        """Summed pairwise host distance between those nodes."""

    @property
    def path(self) -> Path:
        """Where the file is, as configurations see it: ``source`` unless set, made on
        first use (a fleet's files are read by string and most never need one: pathlib
        interns each file name it parses, and a table of 10k names stays)."""
        if self._path is None:
            self._path = Path(self.source)
        return self._path

    @path.setter
    def path(self, path: Path) -> None:
        self._path = path

    @property
    def has_errors(self) -> bool:
        return any(d.severity >= Severity.ERROR for d in self.diagnostics)

    @property
    def host_ref(self) -> Path | None:
        """The host snapshot an intent's own `host:` names."""
        from vnuma.model.intent import Intent

        return self.written.host_ref if isinstance(self.written, Intent) else None

    def fresh(self) -> GuestFile:
        """The file as loaded, before any host saw it (to try it on another host)."""
        return GuestFile(
            self.path,
            self.shown,
            self.kind,
            self.note,
            self.written,
            _as_written(self.written),
            suppressions=self.suppressions,
        )


def _as_written(written: Intent | Guest | None) -> Guest | None:
    """The guest a file is before placement: a domain's own; an intent's when it leaves
    nothing open (resolved as written); else None until it is placed."""
    if written is None or written.needs_placement:
        return None
    from vnuma.model.guest import Guest

    if isinstance(written, Guest):
        return written
    from vnuma.model.resolve import resolve

    return resolve(written)


def load_guest_file(
    path: StrPath,
    shown: str | None = None,
    *,
    real_directory: Path | None = None,
    discovering: bool = False,
) -> GuestFile:
    """load -> validate -> model for one guest file, chosen by its suffix.

    ``real_directory``: the directory the file resolves to, when the caller knows it.
    ``discovering`` (lint walking a tree): files that are not intents or domains at all
    are skipped with a note instead of being reported. Raises UnreadableInput."""
    shown = shown if shown is not None else display_path(path)
    return load_guest_files([(path, shown, real_directory)], discovering=discovering)[0]


def load_guest_files(
    requests: Sequence[tuple[StrPath, str, Path | None]], *, discovering: bool = False
) -> list[GuestFile]:
    """`load_guest_file` for each (path, shown, real directory), in that order.

    Each stage runs over every file before the next stage starts (read, then parse,
    then model): file by file, the XML, YAML and schema code keep evicting each other
    from the processor's caches (a host's files load 11% faster this way). Files are
    read first and in order, so the first unreadable one raises UnreadableInput.
    Files go through in batches of `_BATCH`: the bytes and parsed documents of a batch
    are held until its models are made, not those of every file of a host."""
    files: list[GuestFile] = []
    for start in range(0, len(requests), _BATCH):
        files.extend(_load_batch(requests[start : start + _BATCH], discovering))
    return files


_BATCH = 32
"""Files per batch. Batches of 16, 32 and 64 files lint the bench fleets equally fast
(one file at a time is 9-14% slower), but at 64 a 10,000-file lint's peak RSS grows about
0.5 KB per file over a 1,000-file one, and at 32 about 0.44 KB."""


def _load_batch(
    requests: Sequence[tuple[StrPath, str, Path | None]], discovering: bool
) -> list[GuestFile]:
    files: list[GuestFile] = []
    domains: list[tuple[GuestFile, bytes]] = []
    intents: list[tuple[GuestFile, bytes, Path | None]] = []
    for path, shown, real_directory in requests:
        file = GuestFile(path, shown)
        files.append(file)
        suffix = os.path.splitext(path)[1].lower()
        if suffix in DOMAIN_SUFFIXES:
            domains.append((file, read_bytes(path)))
        elif suffix in INTENT_SUFFIXES:
            intents.append((file, read_bytes(path), real_directory))
        else:
            file.note = "not a .yaml, .yml, .toml or .xml file"
    if domains:
        _load_domains(domains, discovering)
    if intents:
        _load_intents(intents, discovering)
    for file in files:
        file.guest = _as_written(file.written)
    return files


# For a file that does not parse: does its text look like an intent or a domain at all?
# (Kubernetes multi-document YAML or Helm templates must be skipped, not reported.)
_INTENT_MARKERS = frozenset({"vcpus", "numatune", "cells", "hugepages"})


def _load_intents(loaded: list[tuple[GuestFile, bytes, Path | None]], discovering: bool) -> None:
    import re

    from vnuma.load.intent import load_intent
    from vnuma.report.suppress import find_suppressions

    parsed: list[tuple[GuestFile, RawDocument]] = []
    for file, data, real_directory in loaded:
        raw = load_intent(file.source, file.shown, real_directory=real_directory, data=data)
        if discovering:
            if raw.data is not None and not _looks_like_intent(raw.data):
                file.note = "not a vnuma intent (no vcpus, numatune, cells or hugepages key)"
                continue
            pattern = r"^\s*[\"']?(vcpus|numatune|cells|hugepages)[\"']?\s*[:=]"
            if raw.data is None and not re.search(pattern, raw.text, re.MULTILINE):
                file.note = (
                    f"not a vnuma intent (and not a single valid {raw.format.upper()} document)"
                )
                continue
        file.kind = "intent"
        file.suppressions = find_suppressions(raw.text, "hash")
        parsed.append((file, raw))
    modelled = intents_from_raw([raw for _, raw in parsed])
    for (file, _), (intent, diagnostics) in zip(parsed, modelled, strict=True):
        file.written = intent
        file.diagnostics.extend(diagnostics)


def _looks_like_intent(data: Any) -> bool:
    return isinstance(data, dict) and bool(_INTENT_MARKERS & set(map(str, data)))


_SNAPSHOT_NOTE = "a host capabilities snapshot, not a domain"


def _load_domains(loaded: list[tuple[GuestFile, bytes]], discovering: bool) -> None:
    import re

    from vnuma.libvirt.domain import lift_domain
    from vnuma.load.document import first_element, parse_xml_document
    from vnuma.report.suppress import find_suppressions

    parsed: list[tuple[GuestFile, XmlDocument]] = []
    for file, data in loaded:
        if discovering and first_element(data) == "capabilities":
            file.note = _SNAPSHOT_NOTE  # recognised without parsing it
            continue
        doc = parse_xml_document(data, file.shown)
        if discovering:
            if doc.root is None and not re.search(r"<domain[\s>]", doc.text):
                file.note = "not a libvirt domain (and not well-formed XML)"
                continue
            if doc.root is not None and doc.root_tag != "domain":
                file.note = (
                    _SNAPSHOT_NOTE
                    if doc.root_tag == "capabilities"
                    else f"not a libvirt domain (root element <{doc.root_tag}>)"
                )
                continue
        file.kind = "domain"
        file.suppressions = find_suppressions(doc.text, "xml")
        file.diagnostics.extend(doc.diagnostics)
        if doc.root is not None:
            parsed.append((file, doc))
    for file, doc in parsed:
        file.written, diagnostics = lift_domain(doc)
        file.diagnostics.extend(diagnostics)


def intent_from_raw(raw: RawDocument) -> tuple[Intent | None, list[Diagnostic]]:
    """validate -> model for a loaded intent document; None when any stage found errors."""
    return intents_from_raw([raw])[0]


def intents_from_raw(
    raws: Sequence[RawDocument],
) -> list[tuple[Intent | None, list[Diagnostic]]]:
    """`intent_from_raw` for each document, each stage over all of them (as
    `load_guest_files`)."""
    from vnuma.model.intent import build_intent
    from vnuma.schema.validate import validate_intent

    intents: list[Intent | None] = [None] * len(raws)
    found = [list(raw.diagnostics) for raw in raws]
    readable = [
        index
        for index, diagnostics in enumerate(found)
        if not any(d.severity >= Severity.ERROR for d in diagnostics)
    ]
    valid = []
    for index in readable:
        raw = raws[index]
        schema_errors = validate_intent(raw.data, raw.path, raw.positions)
        found[index].extend(schema_errors)
        if not schema_errors:
            valid.append(index)
    for index in valid:
        raw = raws[index]
        intents[index], model_errors = build_intent(raw.data, raw.path, raw.base_dir, raw.positions)
        found[index].extend(model_errors)
    return list(zip(intents, found, strict=True))


# --- host snapshots ------------------------------------------------------------------------


class HostSnapshots:
    """The host snapshots one run reads: each read once, its own problems reported once."""

    def __init__(self, use_cache: bool = True) -> None:
        self.hosts: dict[Path, HostTopology | None] = {}
        self.reported: dict[Path, list[Diagnostic]] = {}
        self.use_cache = use_cache
        """Read parsed snapshots from the user's cache (vnuma.load.hostcache)."""

    def get(self, path: Path) -> HostTopology | None:
        """``path`` resolved. Raises UnreadableInput."""
        if path not in self.hosts:
            from vnuma.load.hostcache import load_snapshot

            try:
                host, diagnostics = load_snapshot(path, display_path(path), self.use_cache)
            except UnreadableInput:
                self.hosts[path] = None
                self.reported[path] = []
                raise
            self.hosts[path], self.reported[path] = host, diagnostics
        return self.hosts[path]

    def for_guest(self, file: GuestFile, path: Path) -> HostTopology | None:
        """The snapshot an intent's own `host:` names: unreadable is the file's VN012."""
        try:
            return self.get(path)
        except UnreadableInput as exc:
            if file.host_ref is not None:
                assert file.written is not None
                file.diagnostics.append(unreadable_host_diagnostic(file.written, exc))
                return None
            raise

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [d for found in self.reported.values() for d in found]


def unreadable_host_diagnostic(intent: Intent | Guest, problem: UnreadableInput) -> Diagnostic:
    """VN012: the intent's own `host:` names a snapshot that cannot be read."""
    from vnuma.codes import make_diagnostic

    return make_diagnostic(
        codes.VN012,
        f"host snapshot cannot be read: {problem}",
        intent.path,
        intent.positions.locate(("host",)),
        hint="fix the path (it is relative to the intent) or pass --host",
        json_path=("host",),
    )


# --- place -> check -> admit: the guests of one host --------------------------------------


def seating_order(files: Sequence[GuestFile]) -> list[GuestFile]:
    """Fixed guests first (domain XML, fully bound intents), then auto intents by guest
    name. The name, unique on a host (VN505), keeps the seats the same whichever order the
    files are given in and wherever the checkout lives; the path only breaks a tie between
    intents that lack a name."""

    def key(file: GuestFile) -> tuple[bool, str, str]:
        written = file.written
        if written is None or not written.needs_placement:
            return False, "", ""
        return True, written.name or "", os.path.normpath(file.source)

    return sorted(files, key=key)  # stable: fixed guests keep the order they came in


def identify_guests(files: Sequence[GuestFile]) -> list[Diagnostic]:
    """Mark the files that name the same guest (``same_as``); VN505 for two different
    guests that claim one name or one uuid (libvirt would refuse the second define)."""
    guests = [f for f in files if f.written is not None]
    found: list[Diagnostic] = []
    by_uuid: dict[str, GuestFile] = {}
    by_name: dict[str, list[GuestFile]] = {}
    for file in guests:
        written = file.written
        assert written is not None
        uuid = written.uuid
        if uuid is not None:
            first = by_uuid.setdefault(uuid, file)
            if first is not file:
                first_name = first.written.name if first.written else None
                if written.name is not None and written.name != first_name:
                    found.append(
                        _taken(
                            file,
                            ("uuid",),
                            f"another guest on this host has uuid {uuid} ({first.shown}, named "
                            f"'{first_name}'): libvirt refuses the second define (\"domain "
                            f"'{first_name}' is already defined with uuid {uuid}\")",
                        )
                    )
                else:
                    file.same_as = first.shown
                continue
        if written.name is not None:
            by_name.setdefault(written.name, []).append(file)
    for name, named in by_name.items():
        if len(named) < 2:
            continue
        domains = [f for f in named if f.kind == "domain"]
        intents = [f for f in named if f.kind == "intent"]
        stands = domains[0] if domains else intents[0]
        for file in named:
            if file is stands or file.same_as is not None:
                continue
            other_uuid = stands.written.uuid if stands.written else None
            own_uuid = file.written.uuid if file.written else None
            twins = file.kind != stands.kind and (own_uuid is None or other_uuid is None)
            if twins:
                file.same_as = stands.shown
                continue
            found.append(
                _taken(
                    file,
                    ("name",),
                    f"another guest on this host is named '{name}' ({stands.shown}): libvirt "
                    f"refuses the second define (\"domain '{name}' already exists with uuid "
                    f'{other_uuid or "…"}")',
                )
            )
    return found


def _taken(file: GuestFile, key: tuple[str, ...], message: str) -> Diagnostic:
    from vnuma.codes import make_diagnostic

    assert file.written is not None
    diag = make_diagnostic(
        codes.VN505,
        message,
        file.shown,
        file.written.positions.locate(key),
        hint="rename one of the guests, give copies of one guest the same <uuid>, or map "
        "one to another host",
        json_path=None if file.kind == "domain" else key,
    )
    file.diagnostics.append(diag)
    return diag


def seat_guests(host: HostTopology, files: Sequence[GuestFile]) -> list[GuestFile]:
    """Place the guests of one host, in seating order, each beside the guests seated
    before it (not beside its own twin), then check each; returns the seating order.
    (All placed, then all checked: one stage at a time, as `load_guest_files`.)"""
    identify_guests(files)
    order = seating_order(files)
    standing: list[tuple[str, Guest]] = []  # (shown, guest) of the seated that are no twin
    for file in order:
        beside = [guest for shown, guest in standing if shown != file.same_as]
        place_file(file, host, beside)
        if file.guest is not None and file.same_as is None:
            standing.append((file.shown, file.guest))
    from vnuma.rules.check import run_checks_each

    checked = [file for file in order if file.written is not None and file.guest is not None]
    found = run_checks_each([file.guest for file in checked if file.guest is not None], host)
    for file, diagnostics in zip(checked, found, strict=True):
        file.diagnostics.extend(diagnostics)
    return order


def place_and_check(file: GuestFile, host: HostTopology | None, beside: Sequence[Guest]) -> None:
    """place (when the intent leaves something to vnuma: fixed guests are never moved) ->
    check."""
    place_file(file, host, beside)
    check_file(file, host)


def place_file(file: GuestFile, host: HostTopology | None, beside: Sequence[Guest]) -> None:
    """The place stage: an intent that leaves something to vnuma is placed on ``host``
    beside ``beside`` (fixed guests are never moved; without a host cell there is
    nothing to place on, and the file has no resolved guest)."""
    written = file.written
    if written is None:
        return
    file.host_checked = host is not None and bool(host.cells)
    if not written.needs_placement:
        return
    if not file.host_checked:
        file.guest = None  # auto nodes, cells: N and pins are decided against a host
        return
    from vnuma.model.intent import Intent
    from vnuma.place import place

    assert host is not None and isinstance(written, Intent)  # only intents leave things open
    placed = place(written, host, beside)
    file.diagnostics.extend(placed.diagnostics)
    file.trace.extend(placed.trace)
    file.nodes = placed.nodes
    file.distance = placed.distance if placed.nodes else None
    file.guest = placed.guest if placed.ok else None


def check_file(file: GuestFile, host: HostTopology | None) -> None:
    """The check stage: every check of the resolved guest, alone against ``host``."""
    from vnuma.rules.check import run_checks

    if file.written is not None and file.guest is not None:
        file.diagnostics.extend(run_checks(file.guest, host))


def admit(
    host: HostTopology, files: Sequence[GuestFile], *, want_load: bool = False
) -> HostLoad | None:
    """Whole-host admission: each guest once (twins stand aside); each finding goes to the
    file of every guest it names. Returns the capacity model's layout of the guests on
    the host (computed when two guests are admitted together, or when ``want_load``)."""
    from vnuma.rules.check import run_admission

    standing = [f for f in files if f.guest is not None and f.same_as is None]
    guests = [f.guest for f in standing if f.guest is not None]
    load = None
    if want_load or (len(guests) > 1 and host.cells):
        from vnuma.model.capacity import host_load

        load = host_load(host, guests)
    by_shown = {f.shown: f for f in standing}
    for diag in run_admission(host, guests, load):
        by_shown[diag.path].diagnostics.append(diag)
    return load


class HostOutcome(Record):
    __slots__ = ("load", "order")

    def __init__(self, order: list[GuestFile], load: HostLoad | None) -> None:
        self.order = order
        """The files in seating order."""
        self.load = load
        """The capacity model's layout of the guests (see :func:`admit`)."""


def run_host(
    host: HostTopology, files: Sequence[GuestFile], *, want_load: bool = False
) -> HostOutcome:
    """seat (place + check each) -> admit: the whole-host part of the spine."""
    order = seat_guests(host, files)
    return HostOutcome(order, admit(host, order, want_load=want_load))


# --- configuration and suppressions: the same for every command ------------------------------


def configured(file: GuestFile, config: LintConfig) -> list[Diagnostic]:
    """The file's diagnostics after select/ignore/per-file-ignores, its suppression
    comments (unused ones are VN015) and severity overrides."""

    from vnuma.report.suppress import apply_suppressions
    from vnuma.rules import needs_host

    def may_fire(code: str) -> bool:
        return config.is_enabled(code, file.path) and (file.host_checked or not needs_host(code))

    enabled = [d for d in file.diagnostics if config.is_enabled(d.code, file.path)]
    kept = apply_suppressions(enabled, file.suppressions, file.shown, may_fire=may_fire)
    return _selected(kept, config, file.path) if kept else []


def report_file(file: GuestFile, config: LintConfig | None = None) -> list[Diagnostic]:
    """The file's diagnostics as every command reports them: configured by ``config`` (the
    closest configuration to the file when None), sorted."""
    if config is None:
        config = closest_config(file.path)
    return sorted(configured(file, config), key=Diagnostic.sort_key)


def closest_config(path: Path) -> LintConfig:
    """The configuration `vnuma lint` would use for the file (ruff semantics)."""
    from vnuma.report.config import default_config, discover_config, load_config

    source = discover_config(path.resolve().parent)
    if source is None:
        return default_config(Path.cwd())
    return load_config(source, cwd=Path.cwd(), known_codes=[entry.code for entry in codes.ALL])


def configured_elsewhere(diagnostics: Iterable[Diagnostic], config: LintConfig) -> list[Diagnostic]:
    """Diagnostics of files that carry no suppressions (host snapshots): selection and
    severity only."""
    return [d for diag in diagnostics for d in _selected([diag], config, Path(diag.path))]


def _selected(
    diagnostics: Iterable[Diagnostic], config: LintConfig, path: Path
) -> list[Diagnostic]:
    """The enabled diagnostics of one file, each at its configured severity."""
    result = []
    for diag in diagnostics:
        if not config.is_enabled(diag.code, path):
            continue
        severity = config.severity_for(diag.code, diag.severity)
        result.append(diag if severity == diag.severity else diag._replace(severity=severity))
    return result


# --- compile: one intent through every stage, emit and verify --------------------------------


class CompileOptions(Record):
    __slots__ = (
        "config",
        "domain_path",
        "host_path",
        "intent_path",
        "intent_shown",
        "local_host",
        "occupied",
        "output_name",
        "schema_dir",
        "sysfs_root",
        "use_cache",
        "use_config",
    )

    def __init__(
        self,
        intent_path: Path,
        intent_shown: str | None = None,
        host_path: Path | None = None,
        domain_path: Path | None = None,
        schema_dir: Path | None = None,
        output_name: str = "<stdout>",
        local_host: bool = False,
        sysfs_root: Path | None = None,
        occupied: tuple[Path, ...] = (),
        config: LintConfig | None = None,
        use_config: bool = True,
        use_cache: bool = True,
    ) -> None:
        self.intent_path = intent_path
        self.intent_shown = intent_shown
        """`compile -`: the name diagnostics give the intent ("<stdin>"); intent_path is then
        a copy of it, and a relative `host:`, the configuration and the [[hosts]] mapping are
        found from the working directory, as for a file there."""
        self.host_path = host_path
        self.domain_path = domain_path
        self.schema_dir = schema_dir
        self.output_name = output_name
        self.local_host = local_host
        """Without --host or `host:`, check against the machine vnuma runs on (sysfs)."""
        self.sysfs_root = sysfs_root
        """The sysfs tree for the local host (default /sys/devices/system); implies local_host."""
        self.occupied = occupied
        """Guests already on the host (domain XML or intents): placement avoids their
        dedicated CPUs and bound memory, and the host admits them together."""
        self.config = config
        """The configuration (select, severity, [[hosts]]); None: the closest one to the
        intent, as `vnuma lint` finds it."""
        self.use_config = use_config
        """False: no configuration at all (library callers that want raw diagnostics)."""
        self.use_cache = use_cache
        """Read host snapshots through the user's cache (False: --no-cache)."""


class CompileOutcome:
    """What compiling one intent gave; the stages fill it in."""

    __slots__ = ("declaration", "diagnostics", "encoding", "notes", "trace", "xml")

    def __init__(self) -> None:
        self.xml: str | None = None
        self.diagnostics: list[Diagnostic] = []
        self.notes: list[str] = []
        self.trace: list[str] = []
        """The placement stage's decisions, for --explain."""
        self.encoding = "utf-8"
        """How to encode `xml` when writing it: the base domain's declared encoding."""
        self.declaration: str | None = None
        """The base domain's `<?xml ...?>` line, written back as it was."""

    @property
    def has_errors(self) -> bool:
        return any(d.severity >= Severity.ERROR for d in self.diagnostics)


def compile_intent(options: CompileOptions) -> CompileOutcome:
    """Raises UnreadableInput for files that cannot be read (the CLI's exit status 2), and
    ConfigError for a configuration that cannot be used."""
    outcome = CompileOutcome()
    if options.intent_shown is None:
        file = load_guest_file(options.intent_path)
    else:
        stands_for = Path.cwd() / options.intent_shown
        file = load_guest_file(
            options.intent_path, options.intent_shown, real_directory=stands_for.parent
        )
        file.path = stands_for
    config = _compile_config(options, file)
    intent = file.written
    if intent is None:
        outcome.diagnostics = _report(file, config)
        return outcome
    host, mates = _compile_host(file, options, config, outcome)
    if intent.needs_placement and (host is None or not host.cells):
        file.diagnostics.append(_needs_host(intent))
    elif host is not None and host.cells and mates:
        run_host(host, [*mates, file])
    else:
        place_and_check(file, host, [])
    outcome.trace.extend(file.trace)
    base = _load_base_domain(options, outcome) if options.domain_path else None
    if config is not None:
        outcome.diagnostics = configured_elsewhere(outcome.diagnostics, config)
    outcome.diagnostics[:0] = _report(file, config)
    if options.occupied:  # a guest named beside it that could not be seated: say why
        for mate in mates:
            if mate.guest is None:
                errors = [d for d in _report(mate, config) if d.severity >= Severity.ERROR]
                outcome.diagnostics.extend(errors)
    if file.guest is not None and not outcome.has_errors:
        _emit_and_verify(file.guest, base, options, outcome)
    outcome.diagnostics.sort(key=Diagnostic.sort_key)  # one order, as `vnuma lint` reports
    return outcome


def _report(file: GuestFile, config: LintConfig | None) -> list[Diagnostic]:
    if config is None:
        return sorted(file.diagnostics, key=Diagnostic.sort_key)
    return report_file(file, config)


def _compile_config(options: CompileOptions, file: GuestFile) -> LintConfig | None:
    if not options.use_config:
        return None
    if options.config is not None:
        return options.config
    return closest_config(file.path)


def _compile_host(
    file: GuestFile,
    options: CompileOptions,
    config: LintConfig | None,
    outcome: CompileOutcome,
) -> tuple[HostTopology | None, list[GuestFile]]:
    """The host to check against, and the guests beside the intent on it: --occupied, or
    (without --host or `host:`) the other files the configuration maps to the same host,
    exactly as `vnuma lint` seats them."""
    snapshots = HostSnapshots(options.use_cache)
    mates: list[GuestFile] = []
    mapped = config.host_for(file.path) if config is not None else None
    if options.host_path is not None:
        path: Path | None = options.host_path
    elif file.host_ref is not None:
        path = file.host_ref
    elif mapped is not None:
        path = mapped
        if not options.occupied:
            mates = _mapped_mates(file, mapped, config)
    else:
        path = None
    if path is None and (options.local_host or options.sysfs_root is not None):
        host = _load_local_host(options, outcome)
    elif path is None:
        outcome.notes.append(
            "no host snapshot: host checks skipped (pass --host CAPS.xml, set `host:` in the "
            "intent, or pass --local-host)"
        )
        host = None
    elif path is options.host_path:
        host = snapshots.get(path.resolve())  # an explicit --host that cannot be read: exit 2
    else:
        host = snapshots.for_guest(file, path.resolve())
    if options.occupied:
        seen = {file.path.resolve()}
        for given in options.occupied:
            real = given.resolve()
            if real not in seen:  # the intent itself, or a file given twice: one guest
                seen.add(real)
                mates.append(load_guest_file(given, real_directory=real.parent))
    for diagnostics in snapshots.reported.values():
        outcome.diagnostics.extend(diagnostics)
    return host, mates


def _mapped_mates(file: GuestFile, snapshot: Path, config: LintConfig | None) -> list[GuestFile]:
    from vnuma.load.discover import mapped_files

    assert config is not None
    own = file.path.resolve()
    return [
        load_guest_file(path, real_directory=real.parent, discovering=True)
        for path, real in mapped_files(config, snapshot.resolve())
        if real != own
    ]


def _needs_host(intent: Intent | Guest) -> Diagnostic:
    """VN601 at the first value the intent leaves to vnuma (in the file's order)."""
    from vnuma.codes import make_diagnostic
    from vnuma.model.intent import Intent

    left = intent.left_open() if isinstance(intent, Intent) else []
    located = [
        (span.line, span.column, path) for path in left if (span := intent.positions.locate(path))
    ]
    first = min(located, key=lambda found: found[:2])[2] if located else ()
    return make_diagnostic(
        codes.VN601,
        "the intent leaves host nodes, cells or CPU pinning to vnuma, which needs a host "
        "snapshot with NUMA cells",
        intent.path,
        intent.positions.locate(first),
        hint="pass --host CAPS.xml, set `host:` in the intent, or pass --local-host to place "
        "it on this machine",
        json_path=first or None,
    )


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
            f"node(s), {host.cpu_count} CPUs, from {root}, as --local-host asks)"
        )
    return host


def _load_base_domain(options: CompileOptions, outcome: CompileOutcome) -> XmlDocument | None:
    """The --domain base, through the one XML loader."""
    from vnuma.codes import make_diagnostic
    from vnuma.load.document import load_xml_document
    from vnuma.load.xmlsafe import element_span

    assert options.domain_path is not None
    shown = display_path(options.domain_path)
    doc = load_xml_document(options.domain_path, shown)
    for problem in doc.diagnostics:
        outcome.diagnostics.append(
            make_diagnostic(
                codes.VN010,
                f"base domain: {problem.message}",
                shown,
                problem.span,
                hint=problem.hint,
            )
        )
    if doc.root is None:
        return None
    if doc.root.tag != "domain":
        outcome.diagnostics.append(
            make_diagnostic(
                codes.VN010,
                f"base domain: root element is <{doc.root.tag}>, expected <domain>",
                shown,
                element_span(doc.root),
                hint="pass a domain definition, e.g. from `virsh dumpxml NAME`",
            )
        )
        return None
    outcome.declaration, outcome.encoding = doc.declaration, doc.encoding
    return doc


def _emit_and_verify(
    guest: Guest, base: XmlDocument | None, options: CompileOptions, outcome: CompileOutcome
) -> None:
    from vnuma.codes import make_diagnostic
    from vnuma.emit.plan import make_plan
    from vnuma.emit.render import MergeConflict, merge_into_document, render_fragment
    from vnuma.emit.verify import find_schema_dir, validate_base_domain, verify_domain_xml
    from vnuma.load.xmlsafe import element_span

    plan = make_plan(guest)
    schema_dir = find_schema_dir(options.schema_dir)
    validate_output = True
    root = base.root if base is not None else None  # the loader returns a base with a root
    if base is None or root is None:
        xml = render_fragment(plan)
    else:
        base_shown = base.path
        if schema_dir is not None:
            base_problems = validate_base_domain(root, base_shown, schema_dir)
            outcome.diagnostics.extend(base_problems)
            if base_problems:
                validate_output = False
                outcome.notes.append(
                    "the base domain does not validate against domain.rng, so the merged output "
                    "was not validated either"
                )
        try:
            merged = merge_into_document(base, plan)
            xml = merged.xml
            outcome.notes.extend(merged.notes)
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
            fragment=root is None,
            explicit_schema_dir=options.schema_dir is not None,
        )
        outcome.diagnostics.extend(verified.diagnostics)
        outcome.notes.extend(verified.notes)
    if not outcome.has_errors:
        outcome.xml = "\ufeff" + xml if base is not None and base.bom else xml


__all__ = [
    "CompileOptions",
    "CompileOutcome",
    "GuestFile",
    "HostSnapshots",
    "UnreadableInput",
    "admit",
    "compile_intent",
    "display_path",
    "intent_from_raw",
    "intents_from_raw",
    "load_guest_file",
    "load_guest_files",
    "place_and_check",
    "run_host",
    "seat_guests",
]
