"""The layer rules (pyproject.toml [tool.importlinter]) hold on the tree, and they bite: a
clinics module that imports consults breaks its contract."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("telehealth", "clinics", "consults", "frontend")
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))
CLINICS_CONTRACT = "clinics (who and where) imports neither consults nor frontend"


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports on `tree` with its own pyproject.toml; it puts its working directory on
    the path, so the packages it scans are the ones in `tree`."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--no-logo", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def python_only(directory: str, names: list[str]) -> list[str]:
    return [
        name
        for name in names
        if name == "__pycache__"
        or (not name.endswith(".py") and not Path(directory, name).is_dir())
    ]


def test_the_tree_keeps_every_import_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert CLINICS_CONTRACT + " KEPT" in result.stdout
    assert ", 0 broken." in result.stdout


def test_a_clinics_module_importing_consults_breaks_its_contract(tmp_path: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=python_only)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / "clinics" / "services.py").open("a") as services:
        services.write("\nimport consults.models  # noqa: E402\n")

    result = lint_imports(tmp_path)

    assert result.returncode != 0
    assert CLINICS_CONTRACT + " BROKEN" in result.stdout
    assert "clinics.services -> consults.models" in result.stdout
    assert ", 1 broken." in result.stdout  # that contract alone
