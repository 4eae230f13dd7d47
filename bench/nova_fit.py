"""Time ``nova.virt.hardware.numa_fit_instance_to_host`` on benchmark cases.

Runs inside the Nova virtualenv (``bench/.venv-nova/bin/python bench/nova_fit.py ...``),
never in vnuma's interpreter.  Two modes:

* one case (``--nodes N --cells M --case KIND``): times up to ``--reps`` calls and prints
  one JSON object on stdout (with ``--ready`` the parent's clock starts when Nova has been
  imported and "ready" is printed; the parent enforces the time limit by killing it):

      {"seconds": <median>, "runs": k, "fit": bool, "host_cells": [ids] | null,
       "cpu_pinning": [[...], ...] | null, "nova_version": "34.0.0"}

* ``--serve``: prints "ready" once Nova is imported, then answers requests, one JSON
  object per line on stdin (``{"nodes": N, "cells": M, "case": KIND, "calls": K}``), with
  one JSON line on stdout: ``{"times": [K seconds], "fit": ..., "host_cells": ...,
  "cpu_pinning": ...}`` (the last call's answer). ``bench/placement.py`` keeps one such
  process alive and alternates its rounds with vnuma's, so both see the same machine.

In both modes the host and the instance topology are rebuilt before every call (outside
the timed region): Nova rewrites each guest cell's ``id`` to the chosen host cell id
while it searches. Only the call itself is timed (``time.perf_counter``), as vnuma's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

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
        "--serve",
        action="store_true",
        help="stay alive and time the cases requested on stdin (one JSON line each)",
    )
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
    if not args.serve and (args.nodes is None or args.cells is None or args.case is None):
        ap.error("--nodes, --cells and --case are required (or --serve)")

    from nova import objects
    from nova.virt import hardware

    objects.register_all()
    if args.ready and not args.serve:
        print("ready", flush=True)

    if args.serve:
        return serve(hardware, nova_version)

    times: list[float] = []
    result = None
    spent = 0.0
    while len(times) < args.reps and (not times or spent < args.budget):
        elapsed, result = timed_fit(hardware, args.nodes, args.cells, args.case)
        times.append(elapsed)
        spent += elapsed

    out = {"seconds": statistics.median(times), "runs": len(times), **answer(result)}
    out["nova_version"] = nova_version
    print(json.dumps(out))
    return 0


def timed_fit(hardware: Any, nodes: int, cells: int, case: str) -> tuple[float, Any]:
    """One call on a freshly built host and instance: (seconds, Nova's result)."""
    host = topology.nova_host_topology(nodes)
    instance = instance_topology(cells, case)
    start = time.perf_counter()
    result = hardware.numa_fit_instance_to_host(host, instance, provider_mapping=None)
    return time.perf_counter() - start, result


def answer(result: Any) -> dict[str, Any]:
    """Nova's answer as JSON: the verdict, each guest cell's host cell and CPU pins."""
    return {
        "fit": result is not None,
        "host_cells": [cell.id for cell in result.cells] if result is not None else None,
        "cpu_pinning": (
            [sorted((cell.cpu_pinning or {}).values()) for cell in result.cells]
            if result is not None
            else None
        ),
    }


def serve(hardware: Any, nova_version: str) -> int:
    """Answer timing requests from stdin until it closes (see the module docstring)."""
    print("ready", flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        times, result = [], None
        for _ in range(int(request["calls"])):
            elapsed, result = timed_fit(
                hardware, int(request["nodes"]), int(request["cells"]), str(request["case"])
            )
            times.append(elapsed)
        print(
            json.dumps({"times": times, **answer(result), "nova_version": nova_version}), flush=True
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
