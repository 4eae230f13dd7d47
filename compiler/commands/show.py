"""`vnuma show`: seat the given guests on a host snapshot (the runner) and build the view."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vnuma.diagnostics import Diagnostic
from vnuma.runner import GuestFile, display_path, load_guest_file, report_file, run_host
from vnuma.view.model import HostView, build_view


class ShowError(Exception):
    """The host snapshot or a guest cannot be shown (with the diagnostics that say why)."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.diagnostics = list(diagnostics)


def load_view(host_path: Path, guest_paths: Sequence[Path]) -> tuple[HostView, list[Diagnostic]]:
    """Raises UnreadableInput for unreadable files, ShowError for unusable ones.

    The guests are seated as `vnuma lint` seats the guests of one host (fixed guests
    first, then auto intents by guest name, each beside those before it) and admitted
    together; the view draws what that computed, guests in the order given."""
    from vnuma.libvirt.capabilities import load_host

    host, problems = load_host(host_path, display_path(host_path))
    if host is None or not host.cells:
        raise ShowError(f"{display_path(host_path)}: no usable NUMA topology", problems)
    files = _distinct([load_guest_file(path) for path in guest_paths])
    for file in files:
        if file.written is None:
            raise ShowError(f"{file.shown}: cannot be shown", report_file(file))
    outcome = run_host(host, files, want_load=True)
    for file in files:
        if file.guest is None:
            raise ShowError(f"{file.shown}: cannot be shown", report_file(file))
    diagnostics = [*problems, *(d for file in files for d in report_file(file))]
    standing = [file.guest for file in files if file.guest is not None and file.same_as is None]
    return build_view(host, standing, diagnostics, outcome.load), diagnostics


def _distinct(files: Sequence[GuestFile]) -> list[GuestFile]:
    """One file given twice is one guest."""
    seen: set[Path] = set()
    kept = []
    for file in files:
        real = file.path.resolve()
        if real not in seen:
            seen.add(real)
            kept.append(file)
    return kept
