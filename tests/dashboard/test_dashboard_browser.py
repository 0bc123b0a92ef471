"""In Chromium at 360 px: the administrator finds the dashboard from the home page, sees the
chart and the table without a sideways scroll of the page, and downloads the CSV."""

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cast
from tests.e2e.browser import wait_for_js

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_admin_sees_the_dashboard_with_its_chart(
    march: Cast, daphne_server: Any, browser: Any, login: Any, screenshot: Any
) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        login(page, daphne_server, "admin")
        page.click("#dashboard-link")
        page.wait_for_selector("#dashboard-form")
        page.fill("#dash-from", "2026-02")
        page.fill("#dash-to", "2026-03")
        page.click("#dashboard-form button[type=submit]")
        page.wait_for_url(lambda url: "from=2026-02" in url)
        bars = wait_for_js(page, "document.querySelectorAll('#dashboard-chart rect').length")
        assert bars == 5  # February: completed; March: completed, no-shows, failed, cancelled
        box = page.locator("#dashboard-chart").bounding_box()
        assert box is not None
        assert box["height"] > 100
        assert "Trạm Y tế thị trấn Tà Lùng" in page.locator("#dashboard-table").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        screenshot(page, "dashboard")

        with page.expect_download() as download:
            page.click("#dashboard-csv")
        body = Path(download.value.path()).read_bytes()
        assert body.startswith("\ufeff".encode())
        assert "Trạm Y tế thị trấn Tà Lùng" in body.decode("utf-8")
        assert errors == [], errors
    finally:
        context.close()
