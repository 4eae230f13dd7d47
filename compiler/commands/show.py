"""`vnuma show`: place or read the given guests on a host snapshot and build the view."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vnuma.diagnostics import Diagnostic, Severity
from vnuma.model.host import HostTopology
from vnuma.model.intent import Intent
from vnuma.runner import display_path, intent_from_raw
from vnuma.view.model import HostView, build_view


class ShowError(Exception):
    """The host snapshot or a guest cannot be shown (with the diagnostics that say why)."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.diagnostics = list(diagnostics)


def load_view(host_path: Path, guest_paths: Sequence[Path]) -> tuple[HostView, list[Diagnostic]]:
    """Raises UnreadableInput for unreadable files, ShowError for unusable ones."""
    from vnuma.libvirt.capabilities import load_host
    from vnuma.rules.check import run_admission, run_checks

    host, problems = load_host(host_path, display_path(host_path))
    if host is None or not host.cells:
        raise ShowError(f"{display_path(host_path)}: no usable NUMA topology", problems)
    guests: list[Intent] = []
    diagnostics: list[Diagnostic] = list(problems)
    for path in guest_paths:
        guest, found = _guest(path, host, guests)
        diagnostics.extend(found)
        if guest is None:
            raise ShowError(f"{display_path(path)}: cannot be shown", found)
        diagnostics.extend(run_checks(guest, host))
        guests.append(guest)
    diagnostics.extend(run_admission(host, guests))
    return build_view(host, guests, diagnostics), diagnostics


def _guest(
    path: Path, host: HostTopology, placed: list[Intent]
) -> tuple[Intent | None, list[Diagnostic]]:
    """An intent is placed beside the guests before it; a domain XML is shown as written."""
    from vnuma.libvirt.domain import lift_domain
    from vnuma.load.document import load_xml_document
    from vnuma.load.intent import load_intent
    from vnuma.place import place

    shown = display_path(path)
    if path.suffix.lower() == ".xml":
        doc = load_xml_document(path, shown)
        if doc.root is None:
            return None, list(doc.diagnostics)
        return lift_domain(doc)
    intent, diagnostics = intent_from_raw(load_intent(path, shown))
    if intent is None or not intent.needs_placement:
        return intent, diagnostics
    result = place(intent, host, placed)
    diagnostics.extend(result.diagnostics)
    if not result.ok:
        return None, diagnostics
    return result.intent, [d for d in diagnostics if d.severity < Severity.ERROR]
