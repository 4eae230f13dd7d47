"""The lint peers (check-jsonschema, yamllint) in a virtualenv of their own, `bench/.venv-peers`.

Like ``nova_env.py``: created on demand with ``pip install check-jsonschema yamllint``
(git-ignored); when that fails every peer is reported "not available" with the reason.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from venvs import install

BENCH = Path(__file__).resolve().parent
VENV = BENCH / ".venv-peers"
PACKAGES = ("check-jsonschema", "yamllint")


@dataclass
class PeersEnv:
    venv: Path | None
    versions: dict[str, str] = field(default_factory=dict)  # package -> version
    reason: str = ""  # why the venv is unusable (all peers unavailable)

    def executable(self, package: str) -> Path | None:
        if self.venv is None or package not in self.versions:
            return None
        path = self.venv / "bin" / package
        return path if path.exists() else None

    def unavailable(self, package: str) -> str:
        """Why ``package`` cannot run ('' when it can)."""
        if self.executable(package) is not None:
            return ""
        return self.reason or f"{package} is not installed in {VENV.relative_to(BENCH.parent)}"

    def describe(self) -> str:
        where = VENV.relative_to(BENCH.parent)
        parts = [
            f"{p} {self.versions[p]}" if p in self.versions else f"{p}: not available"
            for p in PACKAGES
        ]
        text = ", ".join(parts) + f" (pip, in {where})"
        return text + (f"; {self.reason}" if self.reason else "")


def installed_versions(venv: Path = VENV) -> dict[str, str]:
    python = venv / "bin" / "python"
    if not python.exists():
        return {}
    found = {}
    for package in PACKAGES:
        proc = subprocess.run(
            [
                str(python),
                "-c",
                f"import importlib.metadata as m; print(m.version({package!r}))",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if proc.returncode == 0 and proc.stdout.strip():
            found[package] = proc.stdout.strip()
    return found


def ensure_peers(venv: Path = VENV, log=lambda msg: print(msg, file=sys.stderr)) -> PeersEnv:
    """Create ``venv`` and ``pip install`` the peers unless they are already there."""
    found = installed_versions(venv)
    if all(p in found for p in PACKAGES):
        return PeersEnv(venv, found)
    reason = install(venv, list(PACKAGES), timeout=900, log=log) or ""
    return PeersEnv(venv, installed_versions(venv), reason)
