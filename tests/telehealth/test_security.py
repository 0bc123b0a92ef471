"""Production settings pass Django's deployment checks; every response carries the CSP."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.management import call_command
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def test_the_production_configuration_passes_check_deploy() -> None:
    unset = {"DEBUG", "SECURE_COOKIES", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env |= {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "telehealth.soyte.example",
        "HTTPS": "1",
        "BEHIND_TLS_PROXY": "1",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_generates_without_warnings() -> None:
    # Every endpoint documented: types resolved, no guessed models, no clashing enums.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)


@pytest.mark.django_db
def test_pages_allow_only_this_origin() -> None:
    response = Client().get("/login/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self';" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_new_passwords_are_hashed_with_argon2() -> None:
    # conftest swaps in a fast hasher for the suite; the configured setting is what deploys.
    from telehealth import settings as configured

    assert configured.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    hasher = Argon2PasswordHasher()  # argon2-cffi is installed, not just named
    assert hasher.encode("telehealth-demo", hasher.salt()).startswith("argon2$")
