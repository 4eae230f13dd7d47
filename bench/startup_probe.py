"""Where one `vnuma lint` run's time goes, measured inside the process (latency section).

    python bench/startup_probe.py lint INTENT --host HOST

Run by ``latency.py`` with the interpreter of the venv vnuma is installed in (or the
benchmark's). Prints one JSON object: milliseconds from the probe's start to
``vnuma.cli`` imported, to the end of ``main`` (the command, which imports the rest
lazily), how many dataclasses were created and how long creating them took, and the
time spent compiling regular expressions (``re`` caches nothing across processes).
Stdout of the command itself is swallowed. Both counters wrap stdlib functions
(``dataclasses._process_class``, ``re._compile``); when a Python lacks them the figure
is null rather than wrong.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time

START = time.perf_counter()


def _timed(module: object, name: str, totals: dict[str, float], key: str) -> None:
    original = getattr(module, name, None)
    if original is None:
        totals[key] = float("nan")
        return

    def wrapper(*args: object, **kwargs: object) -> object:
        begin = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[key] += time.perf_counter() - begin
            totals[key + "_count"] += 1

    setattr(module, name, wrapper)


def _regex_compiler(re_module: object) -> object:
    """The module whose ``compile`` ``re`` calls only for a pattern not in its cache."""
    found = getattr(re_module, "_compiler", None)
    if found is None:
        import sre_compile  # Python < 3.11

        found = sre_compile
    return found


def main(argv: list[str]) -> int:
    import dataclasses
    import re

    totals = {"dataclass": 0.0, "dataclass_count": 0, "regex": 0.0, "regex_count": 0}
    _timed(dataclasses, "_process_class", totals, "dataclass")
    _timed(_regex_compiler(re), "compile", totals, "regex")
    ready = time.perf_counter()
    import vnuma.cli

    imported = time.perf_counter()
    code = 0
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            code = vnuma.cli.main(argv) or 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    done = time.perf_counter()

    def ms(seconds: float) -> float | None:
        return None if seconds != seconds else round(seconds * 1000, 3)  # NaN: unknown

    print(
        json.dumps(
            {
                "exit": code,
                "probe_setup_ms": ms(ready - START),
                "import_cli_ms": ms(imported - ready),
                "command_ms": ms(done - imported),
                "dataclasses": int(totals["dataclass_count"]),
                "dataclass_ms": ms(totals["dataclass"]),
                "regex_compiles": int(totals["regex_count"]),
                "regex_ms": ms(totals["regex"]),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
