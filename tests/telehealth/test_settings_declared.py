"""Every setting is declared once in telehealth/settings.py and every variable it reads is in
the README's configuration table: an operator learns every knob from one page."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER = ["telehealth", "clinics", "consults", "frontend"]


def _server_files() -> list[Path]:
    return [
        path
        for package in SERVER
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    ]


def test_no_server_module_reads_a_setting_with_a_default_of_its_own() -> None:
    found = []
    for path in _server_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "getattr"
                and node.args
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id == "settings"
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == [], f"declare these in telehealth/settings.py and read settings.X: {found}"


def test_the_readme_lists_every_variable_the_settings_read() -> None:
    source = (ROOT / "telehealth" / "settings.py").read_text()
    read = set(re.findall(r'(?:env_\w+|environ\.get|getenv)\(\s*"([A-Z][A-Z0-9_]+)"', source))
    assert len(read) > 50  # the scan found the settings' reads at all
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in read if f"`{name}`" not in readme)
    assert missing == [], f"add to README's configuration table: {missing}"
