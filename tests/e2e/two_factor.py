"""The second step of a page login in Chromium: enrol the app (reading the secret from the
page, as a phone would scan it) or type its code, computed with pyotp."""

import time
from typing import Any

import pyotp

SECRETS: dict[str, str] = {}  # username → the secret read at enrolment, for later logins


def next_code(secret: str) -> str:
    # The code of the next 30-second step: django-otp never accepts a step twice, and the
    # enrolment a moment ago used the current one. Its tolerance of one step lets this in.
    return str(pyotp.TOTP(secret).at(time.time() + 30))


def second_step(page: Any, username: str) -> None:
    """After the password: finish the login if the server asks for a code or an enrolment."""
    if "/account/two-factor/" in page.url:
        secret = page.inner_text("#totp-secret").replace(" ", "")
        SECRETS[username] = secret
        page.fill("#code", pyotp.TOTP(secret).now())
        page.click("#enrol-form button[type=submit]")
        page.wait_for_selector("#recovery-codes")
        page.click("#continue")
    elif "/login/code/" in page.url:
        page.fill("#code", next_code(SECRETS[username]))
        page.click("#code-form button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url and "/two-factor/" not in url)
