"""The peer tools' virtualenvs: create one and pip-install into it, reporting why not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


# vnuma's command ends with os._exit, skipping the interpreter's teardown; a floor
# process ends the same way, or it would count a cost vnuma does not pay
FLOOR_EXIT = "; import os; os._exit(0)"


def checkout_env() -> dict[str, str]:
    """The environment for a subprocess that must run this checkout's `compiler`, not an
    installed one."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def install(venv: Path, requirements: list[str], timeout: int, log) -> str | None:  # type: ignore[no-untyped-def]
    """Create ``venv`` if needed and install ``requirements``; the reason on failure."""
    try:
        if not venv_python(venv).exists():
            log(f"creating {venv}")
            subprocess.run(
                [sys.executable, "-m", "venv", str(venv)],
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
            )
        log(f"installing {' '.join(requirements)} into {venv}")
        proc = subprocess.run(
            [str(venv_python(venv)), "-m", "pip", "install", "-q", *requirements],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.CalledProcessError as exc:
        return f"python -m venv failed: {last_line(exc.stderr or '')}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{type(exc).__name__}: {exc}"
    if proc.returncode != 0:
        return f"pip install {' '.join(requirements)} failed: {last_line(proc.stderr)}"
    return None
