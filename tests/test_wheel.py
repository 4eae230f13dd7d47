"""The built wheel installs into a fresh venv and works outside the checkout."""

from __future__ import annotations

import importlib.util
import json
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, explain_process, run_process

pytestmark = pytest.mark.slow
BUILD_TIMEOUT = 900


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("build") is None:
        pytest.skip("the 'build' package is not installed (pip install build)")
    outdir = tmp_path_factory.mktemp("dist")
    result = run_process(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(outdir)],
        cwd=REPO,
        timeout=BUILD_TIMEOUT,
    )
    assert result.returncode == 0, explain_process(result)
    wheels = sorted(outdir.glob("vnuma-*.whl"))
    assert len(wheels) == 1, (
        f"expected one wheel in {outdir}, found {wheels}\n{explain_process(result)}"
    )
    return wheels[0]


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venv") / "env"
    result = run_process([sys.executable, "-m", "venv", str(root)], cwd=root.parent)
    assert result.returncode == 0, explain_process(result)
    python = root / "bin" / "python"
    result = run_process(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", str(wheel)],
        cwd=root.parent,
        timeout=BUILD_TIMEOUT,
    )
    assert result.returncode == 0, explain_process(result)
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A working directory that is not inside the checkout."""
    assert not tmp_path.resolve().is_relative_to(REPO)
    return tmp_path


def test_wheel_contains_data_files(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "vnuma/_data/schemas/intent-v1.schema.json" in names, sorted(names)
    assert "vnuma/_data/templates/domain.xml.j2" in names, sorted(names)
    assert "vnuma/cli.py" in names
    # PyPI's unrelated `compiler` package installs a top-level compiler/: never collide
    assert not any(name.startswith("compiler/") for name in names), sorted(names)


def test_installed_package_is_the_wheel(venv: Path, outside: Path) -> None:
    result = run_process(
        [str(venv / "bin" / "python"), "-c", "import vnuma; print(vnuma.__file__)"],
        cwd=outside,
    )
    assert result.returncode == 0, explain_process(result)
    location = Path(result.stdout.strip()).resolve()
    assert location.is_relative_to(venv.resolve()), explain_process(result)


def test_compile_from_outside_the_checkout(venv: Path, outside: Path) -> None:
    result = run_process(
        [
            str(venv / "bin" / "vnuma"),
            "compile",
            str(REPO / "samples" / "intents" / "db-strict.yaml"),
            "--host",
            str(REPO / "samples" / "hosts" / "2s-xeon.xml"),
        ],
        cwd=outside,
    )
    assert result.returncode == 0, explain_process(result)
    assert "<numatune>" in result.stdout, explain_process(result)


def test_schema_command(venv: Path, outside: Path) -> None:
    result = run_process([str(venv / "bin" / "vnuma"), "schema"], cwd=outside)
    assert result.returncode == 0, explain_process(result)
    try:
        schema = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"`vnuma schema` is not JSON: {exc}\n{explain_process(result)}")
    assert "2020-12" in schema["$schema"]


def test_python_m_vnuma_host(venv: Path, outside: Path) -> None:
    result = run_process(
        [
            str(venv / "bin" / "python"),
            "-m",
            "vnuma",
            "host",
            str(REPO / "samples" / "hosts" / "epyc-nps4.xml"),
        ],
        cwd=outside,
    )
    assert result.returncode == 0, explain_process(result)
    assert "8 NUMA node(s)" in result.stdout, explain_process(result)
