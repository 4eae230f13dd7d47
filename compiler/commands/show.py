"""`vnuma show`: seat the given guests on a host snapshot (the runner) and build the view."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vnuma.diagnostics import Diagnostic
from vnuma.runner import (
    GuestFile,
    closest_config,
    display_path,
    load_guest_file,
    report_file,
    run_host,
)
from vnuma.view.model import HostView, build_view


class ShowError(Exception):
    """The host snapshot or a guest cannot be shown (with the diagnostics that say why)."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.diagnostics = list(diagnostics)


class NoHost(Exception):
    """No --host, and the guests name no host (or name different ones): a usage error."""


def load_view(
    host_path: Path | None, guest_paths: Sequence[Path], use_cache: bool = True
) -> tuple[HostView, list[Diagnostic]]:
    """Raises UnreadableInput for unreadable files, NoHost when there is no one host to
    draw, ShowError for unusable files (and ConfigError for an unusable configuration).

    The host is ``host_path`` (--host), else the one the guests name: an intent's own
    `host:`, else the configuration's [[hosts]] mapping, as `compile` and `lint` choose it.
    The guests are seated as `vnuma lint` seats the guests of one host (fixed guests
    first, then auto intents by guest name, each beside those before it) and admitted
    together; the view draws what that computed, guests in the order given. The snapshot
    is read through the user's cache unless ``use_cache`` is False."""
    from vnuma.load.hostcache import load_snapshot

    files = _distinct([load_guest_file(path) for path in guest_paths])
    for file in files:
        if file.written is None:
            raise ShowError(f"{file.shown}: cannot be shown", report_file(file))
    if host_path is None:
        host_path = named_host(files)
    host, problems = load_snapshot(host_path, display_path(host_path), use_cache)
    if host is None or not host.cells:
        raise ShowError(f"{display_path(host_path)}: no usable NUMA topology", problems)
    outcome = run_host(host, files, want_load=True)
    for file in files:
        if file.guest is None:
            raise ShowError(f"{file.shown}: cannot be shown", report_file(file))
    diagnostics = [*problems, *(d for file in files for d in report_file(file))]
    standing = [file.guest for file in files if file.guest is not None and file.same_as is None]
    return build_view(host, standing, diagnostics, outcome.load), diagnostics


def named_host(files: Sequence[GuestFile]) -> Path:
    """The one host snapshot the guests name (`host:`, else [[hosts]]). Raises NoHost."""
    named: dict[Path, str] = {}
    for file in files:
        snapshot = file.host_ref or closest_config(file.path).host_for(file.path)
        if snapshot is not None:
            named.setdefault(snapshot.resolve(), file.shown)
    if not named:
        raise NoHost(
            "no host to draw: pass --host CAPS.xml, set `host:` in an intent, or map the "
            "guests to a host in [[tool.vnuma.hosts]]"
        )
    if len(named) > 1:
        which = ", ".join(f"{display_path(path)} ({shown})" for path, shown in named.items())
        raise NoHost(f"the guests name different hosts: {which}; pass --host CAPS.xml")
    return next(iter(named))


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
