"""The lint configuration bites: an unused import or a type error makes `make lint` fail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)


def test_ruff_rejects_an_unused_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import os\n\n\nVALUE = 1\n")
    result = _run(
        [str(BIN / "ruff"), "check", "--config", str(ROOT / "pyproject.toml"), str(probe)], tmp_path
    )
    assert result.returncode != 0
    assert "F401" in result.stdout


def test_mypy_is_strict_on_criteria_models(tmp_path: Path) -> None:
    package = tmp_path / "criteria_models"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "probe.py").write_text("def untyped(x):\n    return x\n\n\nVALUE: int = 'text'\n")
    result = _run(
        [str(BIN / "mypy"), "--config-file", str(ROOT / "pyproject.toml"), "-p", "criteria_models"],
        tmp_path,
    )
    assert result.returncode != 0
    assert "Incompatible types in assignment" in result.stdout
    assert "missing a type annotation" in result.stdout


def test_the_project_itself_is_clean() -> None:
    result = _run([str(BIN / "ruff"), "check", "pipeline", "criteria_models"], ROOT)
    assert result.returncode == 0, result.stdout
