"""Two-factor login in Chromium: the administrator enrols her app at her first login, keeps
her recovery codes, logs in again with password and code, and reaches the admin site."""

from typing import Any

import pyotp
import pytest

from tests import factories
from tests.e2e.two_factor import next_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "test-password-1"


def test_the_administrator_enrols_then_logs_in_with_a_code_and_reaches_the_admin(
    daphne_server: Any, browser: Any, screenshot: Any
) -> None:
    factories.make_user(username="root", is_superuser=True, is_staff=True)
    context = browser.new_context(locale="vi-VN")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        password_step(page, daphne_server.url)
        page.wait_for_url("**/account/two-factor/")
        assert (
            page.locator("#totp-qr")
            .get_attribute("src", timeout=5_000)
            .startswith("data:image/svg+xml")
        )
        secret = page.inner_text("#totp-secret").replace(" ", "")
        screenshot(page, "enrol")
        page.fill("#code", pyotp.TOTP(secret).now())
        page.click("#enrol-form button[type=submit]")
        page.wait_for_selector("#recovery-codes")
        assert page.locator("#recovery-codes li").count() == 10
        screenshot(page, "recovery-codes")
        page.click("#continue")
        page.wait_for_url(f"{daphne_server.url}/")
        page.click(".topbar form[action='/logout/'] button")
        page.wait_for_url("**/login/")

        password_step(page, daphne_server.url)
        page.wait_for_url("**/login/code/")
        assert "Mã xác thực 6 số" in page.inner_text("h1")
        page.fill("#code", next_code(secret))
        page.click("#code-form button[type=submit]")
        page.wait_for_url(f"{daphne_server.url}/")
        # Before the admin: its page links no icon, so Chromium's /favicon.ico is a 404 there.
        assert errors == [], errors
        page.goto(f"{daphne_server.url}/admin/")
        page.wait_for_selector("#site-name")
        assert page.url == f"{daphne_server.url}/admin/"
        screenshot(page, "admin")
    finally:
        context.close()


def password_step(page: Any, url: str) -> None:
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
