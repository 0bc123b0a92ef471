"""deploy/systemd as systemd reads it: `systemd-analyze verify` accepts every unit, the
daphne unit may write exactly where the attachments go, and deploy/env.example loads the same
way in systemd and in a shell (docs/deploy.md §1)."""

import configparser
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
INSTALLED = "/srv/telehealth"  # where docs/deploy.md puts the app


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(
        "\n".join(
            line for line in (UNITS / name).read_text().splitlines() if not line.startswith("#")
        )
    )
    return parser


def env_example() -> dict[str, str]:
    found = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            found[name] = value
    return found


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="apt-get install systemd")
def test_systemd_analyze_verifies_every_unit(tmp_path: Path) -> None:
    # As installed, but with this checkout as /srv/telehealth: verify checks that each
    # ExecStart names an executable.
    env = tmp_path / "env"
    env.write_text(ENV_EXAMPLE.read_text())
    names = []
    for path in UNITS.iterdir():
        text = path.read_text().replace(INSTALLED, str(ROOT))
        (tmp_path / path.name).write_text(text.replace("/etc/telehealth/env", str(env)))
        names.append(path.name.replace("@.service", "@8001.service"))
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(names)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_the_daphne_unit_may_write_where_the_attachments_go() -> None:
    service = unit("telehealth-daphne@.service")["Service"]
    assert service["ProtectSystem"] == "strict"
    # A ReadWritePaths= folder that does not exist stops the unit with 226/NAMESPACE;
    # StateDirectory= is created by systemd, owned by the unit's user.
    assert "ReadWritePaths" not in service
    state = Path("/var/lib") / service["StateDirectory"]
    attachments = Path(env_example()["NOTES_MEDIA_ROOT"])
    assert attachments.is_relative_to(state)


@pytest.mark.parametrize(
    "name",
    [
        "telehealth-daphne@.service",
        "telehealth-reminders.service",
        "telehealth-purge-idempotency.service",
    ],
)
def test_every_service_runs_hardened_as_the_app_user(name: str) -> None:
    service = unit(name)["Service"]
    assert (service["User"], service["Group"]) == ("telehealth", "telehealth")
    assert service["EnvironmentFile"] == "/etc/telehealth/env"
    for setting in ("NoNewPrivileges", "ProtectHome", "PrivateTmp"):
        assert service[setting] == "true", setting
    assert service["ProtectSystem"] == "strict"


def test_the_environment_file_loads_in_a_shell_as_systemd_reads_it() -> None:
    # systemd's EnvironmentFile= takes each VAR=value as it stands; a shell must get the same
    # values, so no value may hold quotes, spaces, JSON or anything else the shell reads.
    expected = env_example()
    assert "ICE_SERVERS" not in expected
    assert expected["TURN_URLS"].startswith("turn:")
    shell = subprocess.run(
        ["bash", "-c", f'set -eu -a; . "{ENV_EXAMPLE}"; set +a; env -0'],
        capture_output=True,
        env={"PATH": os.environ["PATH"]},
        timeout=10,
        check=True,
    )
    loaded = dict(item.split("=", 1) for item in shell.stdout.decode().split("\0") if "=" in item)
    assert {name: loaded.get(name) for name in expected} == expected
