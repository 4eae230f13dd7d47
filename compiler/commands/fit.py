"""`vnuma fit`: which of several hosts can take a guest, and with what placement."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from vnuma.diagnostics import Diagnostic, Severity
from vnuma.load.text import UnreadableInput
from vnuma.runner import GuestFile, display_path


class HostFit(NamedTuple):
    host: str
    fits: bool
    nodes: tuple[int, ...] = ()
    nodeset: str = ""
    distance: int | None = None
    pinned: int = 0
    problems: tuple[Diagnostic, ...] = ()

    @property
    def reason(self) -> str:
        errors = [d for d in self.problems if d.severity >= Severity.ERROR]
        return f"{errors[0].code} {errors[0].message}" if errors else ""


def snapshot_paths(given: Sequence[Path]) -> list[Path]:
    """Files as given; directories contribute their `*.xml` files (sorted)."""
    paths: list[Path] = []
    for path in given:
        if path.is_dir():
            paths.extend(sorted(p for p in path.iterdir() if p.suffix.lower() == ".xml"))
        elif path.exists():
            paths.append(path)
        else:
            raise UnreadableInput(f"{path}: no such file or directory")
    return paths


def fit_hosts(intent: GuestFile, hosts: Iterable[Path], use_cache: bool = True) -> list[HostFit]:
    """Try the loaded intent on each host alone (the runner's place -> check); the
    snapshots are read through the user's cache unless ``use_cache`` is False."""
    return [_fit_one(intent, path, use_cache) for path in hosts]


def _fit_one(intent: GuestFile, path: Path, use_cache: bool) -> HostFit:
    from vnuma.cpusets import format_cpuset
    from vnuma.load.hostcache import load_snapshot
    from vnuma.runner import place_and_check, report_file

    shown = display_path(path)
    host, problems = load_snapshot(path, shown, use_cache)
    if host is None or not host.cells:
        return HostFit(shown, False, problems=tuple(problems))
    file = intent.fresh()
    place_and_check(file, host, [])
    problems = [*problems, *report_file(file)]
    guest = file.guest
    fits = guest is not None and not any(d.severity >= Severity.ERROR for d in problems)
    if guest is None:
        return HostFit(shown, False, problems=tuple(problems))
    nodeset = guest.effective_nodeset
    return HostFit(
        host=shown,
        fits=fits,
        nodes=file.nodes,
        nodeset=format_cpuset(nodeset) if nodeset else "",
        distance=file.distance,
        pinned=sum(1 for pin in guest.domain.pins if pin.dedicated),
        problems=tuple(problems),
    )


REASON_MIN = 30
"""Below this many columns beside the table, reasons go under their row."""


def render_table(fits: list[HostFit], width: int | None = None) -> str:
    """Lines of at most ``width`` columns (default: the terminal's); a long "why not"
    wraps in its column, or under its row when the columns before it leave no room."""
    from vnuma.view.terminal import terminal_width, wrap

    width = width or terminal_width()
    header = ("host", "fits", "nodes", "distance", "dedicated", "why not")
    rows = [
        (
            f.host,
            "yes" if f.fits else "no",
            ",".join(map(str, f.nodes)) if f.nodes else f.nodeset or "-",
            str(f.distance) if f.distance is not None else "-",
            str(f.pinned) if f.pinned else "-",
            f.reason,
        )
        for f in fits
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    start = sum(widths) + 2 * len(widths)
    below = width - start < REASON_MIN
    lines = []
    for row in [header, *rows]:
        lead = "  ".join([*(value.ljust(widths[i]) for i, value in enumerate(row[:-1])), ""])
        if row is header or not row[-1]:
            lines.append((lead + row[-1]).rstrip())
        elif below:
            lines.append(lead.rstrip())
            lines.extend(wrap(row[-1], width, indent=4, lead="    "))
        else:
            lines.extend(wrap(row[-1], width, indent=start, lead=lead))
    fitting = sum(1 for f in fits if f.fits)
    lines.append(f"{fitting} of {len(fits)} host(s) can take the guest.")
    return "\n".join(lines) + "\n"


def render_json(fits: list[HostFit]) -> str:
    return (
        json.dumps(
            [
                {
                    "host": f.host,
                    "fits": f.fits,
                    "nodes": list(f.nodes),
                    "nodeset": f.nodeset or None,
                    "distance": f.distance,
                    "dedicated_cpus": f.pinned,
                    "problems": [
                        {"code": d.code, "severity": d.severity.label, "message": d.message}
                        for d in f.problems
                    ],
                }
                for f in fits
            ],
            indent=2,
        )
        + "\n"
    )
