"""The separate virtualenv holding OpenStack Nova for the benchmark (never a vnuma dependency)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from venvs import install, last_line, venv_python

BENCH = Path(__file__).resolve().parent
VENV = BENCH / ".venv-nova"
NOVA_VERSION = "34.0.0"
NOVA_FIT = BENCH / "nova_fit.py"


@dataclass(frozen=True)
class NovaEnv:
    python: Path | None  # the venv's interpreter, None when Nova is not usable
    version: str | None
    reason: str | None = None  # why Nova is not available

    @property
    def available(self) -> bool:
        return self.python is not None

    def describe(self) -> str:
        if self.available:
            return f"nova {self.version} (pip, in {VENV.relative_to(BENCH.parent)})"
        return f"nova: not available ({self.reason})"


def installed_version(venv: Path = VENV) -> tuple[str | None, str | None]:
    """(version, None) when the venv can import Nova, else (None, reason)."""
    python = venv_python(venv)
    if not python.exists():
        return None, f"no virtualenv at {venv}"
    proc = subprocess.run(
        [str(python), "-W", "ignore", str(NOVA_FIT), "--version"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        return None, f"nova does not import: {last_line(proc.stderr)}"
    return json.loads(proc.stdout.strip().splitlines()[-1])["nova_version"], None


def ensure_nova(
    venv: Path = VENV, version: str = NOVA_VERSION, log=lambda msg: print(msg, file=sys.stderr)
) -> NovaEnv:
    """Create ``venv`` and ``pip install nova==version`` unless it is already there."""
    found, _ = installed_version(venv)
    if found == version:
        return NovaEnv(venv_python(venv), found)
    failure = install(venv, [f"nova=={version}"], timeout=1800, log=log)
    if failure is not None:
        return NovaEnv(None, None, failure)
    found, reason = installed_version(venv)
    if found is None:
        return NovaEnv(None, None, reason)
    if found != version:
        return NovaEnv(None, None, f"venv has nova {found}, expected {version}")
    return NovaEnv(venv_python(venv), found)
