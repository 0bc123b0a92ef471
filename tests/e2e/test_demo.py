"""`make demo`'s promise: a daphne server with the demo data, where the demo logins work."""

from typing import Any

import pytest

from clinics.models import Patient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_demo_station_login_shows_its_patients(
    daphne_server: Any, browser: Any, login: Any, screenshot: Any, seed_demo: Any
) -> None:
    seed_demo()
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    page = context.new_page()
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{daphne_server.url}/login/")
        assert page.locator("html").get_attribute("lang") == "vi"
        login(page, daphne_server, "station", "telehealth-demo")
        page.wait_for_selector("#patient-list")
        names = page.locator("#patient-list tbody tr").all_inner_texts()
        assert any("Nông Thị Hoa" in n for n in names)
        # Only Tà Lùng's patients: Hạnh Phúc's are another station's.
        other = Patient.objects.filter(station__code="TYT-HANHPHUC").first()
        assert other is not None
        assert all(other.full_name not in n for n in names)
        # A 360 px phone shows the page without horizontal scrolling.
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        screenshot(page, "station-patients")
        page.goto(f"{daphne_server.url}/api/docs/")
        page.wait_for_selector(".swagger-ui .info", timeout=15_000)  # rendered under the CSP
        assert console_errors == [], console_errors
    finally:
        context.close()


def test_a_wrong_password_is_refused_in_vietnamese(
    daphne_server: Any, browser: Any, screenshot: Any, seed_demo: Any
) -> None:
    seed_demo()
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    try:
        page.goto(f"{daphne_server.url}/login/")
        page.fill("input[name=username]", "station")
        page.fill("input[name=password]", "wrong-password")
        page.click("#login-form button[type=submit]")
        alert = page.wait_for_selector("[role=alert]")
        assert "Sai tên đăng nhập hoặc mật khẩu" in alert.inner_text()
    finally:
        context.close()
