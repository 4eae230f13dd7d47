"""Time ``nova.virt.hardware.numa_fit_instance_to_host`` on one benchmark case.

Runs inside the Nova virtualenv (``bench/.venv-nova/bin/python bench/nova_fit.py ...``),
never in vnuma's interpreter.  The parent (``bench/placement.py``) enforces the time
limit by killing this process (with ``--ready`` the clock starts when Nova has been
imported and "ready" is printed); when it finishes it prints one JSON object on stdout:

    {"seconds": <median>, "runs": k, "fit": bool, "host_cells": [ids] | null,
     "cpu_pinning": [[...], ...] | null, "nova_version": "34.0.0"}

The instance topology is rebuilt before every repetition (outside the timed region):
Nova rewrites each guest cell's ``id`` to the chosen host cell id while it searches.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import topology  # stdlib-only sibling module (sys.path set above)

GIB_MIB = 1024


def guest_cells_mib(cells: int, case: str) -> list[int]:
    """Memory per guest cell (MiB); the oversized cell needs 34 GiB of 2 MiB pages."""
    sizes = [4 * GIB_MIB] * cells
    if case == "nofit_last":
        sizes[-1] = 34 * GIB_MIB
    elif case == "nofit_first":
        sizes[0] = 34 * GIB_MIB
    elif case != "fit":
        raise ValueError(f"unknown case {case!r}")
    return sizes


def instance_topology(cells: int, case: str):  # -> objects.InstanceNUMATopology
    from nova import objects

    return objects.InstanceNUMATopology(
        cells=[
            objects.InstanceNUMACell(
                id=i,
                cpuset=set(),
                pcpuset=set(range(4 * i, 4 * i + 4)),
                memory=mib,
                pagesize=2048,
                cpu_policy="dedicated",
                cpu_thread_policy="prefer",
            )
            for i, mib in enumerate(guest_cells_mib(cells, case))
        ]
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--nodes", type=int)
    ap.add_argument("--cells", type=int)
    ap.add_argument("--case", choices=("fit", "nofit_last", "nofit_first"))
    ap.add_argument("--reps", type=int, default=7, help="maximum repetitions (median reported)")
    ap.add_argument(
        "--budget",
        type=float,
        default=2.0,
        help="stop repeating once this many seconds were spent in Nova (at least one run)",
    )
    ap.add_argument("--version", action="store_true", help="print the Nova version and exit")
    ap.add_argument(
        "--ready",
        action="store_true",
        help="print 'ready' once Nova is imported (the parent starts its time limit then)",
    )
    args = ap.parse_args(argv)

    warnings.simplefilter("ignore")  # eventlet / oslo deprecation noise
    from importlib.metadata import version

    nova_version = version("nova")
    if args.version:
        print(json.dumps({"nova_version": nova_version}))
        return 0
    if args.nodes is None or args.cells is None or args.case is None:
        ap.error("--nodes, --cells and --case are required")

    from nova import objects
    from nova.virt import hardware

    objects.register_all()
    if args.ready:
        print("ready", flush=True)

    times: list[float] = []
    result = None
    spent = 0.0
    while len(times) < args.reps and (not times or spent < args.budget):
        host = topology.nova_host_topology(args.nodes)
        instance = instance_topology(args.cells, args.case)
        start = time.perf_counter()
        result = hardware.numa_fit_instance_to_host(host, instance, provider_mapping=None)
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        spent += elapsed

    out = {
        "seconds": statistics.median(times),
        "runs": len(times),
        "fit": result is not None,
        "host_cells": [cell.id for cell in result.cells] if result is not None else None,
        "cpu_pinning": (
            [sorted((cell.cpu_pinning or {}).values()) for cell in result.cells]
            if result is not None
            else None
        ),
        "nova_version": nova_version,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
