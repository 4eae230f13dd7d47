"""The separate virtualenv holding OpenStack Nova for the benchmark (never a vnuma dependency)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

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


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def installed_version(venv: Path = VENV) -> tuple[str | None, str | None]:
    """(version, None) when the venv can import Nova, else (None, reason)."""
    python = _venv_python(venv)
    if not python.exists():
        return None, f"no virtualenv at {venv}"
    proc = subprocess.run(
        [str(python), "-W", "ignore", str(NOVA_FIT), "--version"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        return None, f"nova does not import: {_last_line(proc.stderr)}"
    return json.loads(proc.stdout.strip().splitlines()[-1])["nova_version"], None


def ensure_nova(
    venv: Path = VENV, version: str = NOVA_VERSION, log=lambda msg: print(msg, file=sys.stderr)
) -> NovaEnv:
    """Create ``venv`` and ``pip install nova==version`` unless it is already there."""
    found, _ = installed_version(venv)
    if found == version:
        return NovaEnv(_venv_python(venv), found)
    try:
        if not _venv_python(venv).exists():
            log(f"creating {venv}")
            subprocess.run(
                [sys.executable, "-m", "venv", str(venv)],
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
            )
        log(f"installing nova=={version} into {venv} (pulls many oslo packages)")
        proc = subprocess.run(
            [str(_venv_python(venv)), "-m", "pip", "install", "-q", f"nova=={version}"],
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if proc.returncode != 0:
            return NovaEnv(
                None, None, f"pip install nova=={version} failed: {_last_line(proc.stderr)}"
            )
    except subprocess.CalledProcessError as exc:
        return NovaEnv(None, None, f"python -m venv failed: {_last_line(exc.stderr or '')}")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return NovaEnv(None, None, f"{type(exc).__name__}: {exc}")
    found, reason = installed_version(venv)
    if found is None:
        return NovaEnv(None, None, reason)
    if found != version:
        return NovaEnv(None, None, f"venv has nova {found}, expected {version}")
    return NovaEnv(_venv_python(venv), found)
