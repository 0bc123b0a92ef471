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


# Every axis label of the chart, as laid out by Chromium: [left, top, right, bottom, text].
AXIS_BOXES = """
[...document.querySelectorAll('#dashboard-chart text.axis')].map(t => {
  const r = t.getBoundingClientRect();
  return [r.left, r.top, r.right, r.bottom, t.textContent];
})
"""


def overlapping(boxes: list[list[Any]]) -> list[tuple[str, str]]:
    return [
        (a[4], b[4])
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
    ]


@pytest.mark.parametrize("width", [360, 1280])
def test_no_two_axis_labels_of_the_chart_overlap(
    march: Cast, daphne_server: Any, browser: Any, login: Any, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="vi-VN")
    try:
        page = context.new_page()
        login(page, daphne_server, "admin")
        # One month up to the longest period the dashboard takes (24 months).
        for first, last in [
            ("2026-03", "2026-03"),
            ("2025-10", "2026-03"),
            ("2025-04", "2026-03"),
            ("2025-03", "2026-03"),
            ("2025-01", "2026-03"),
            ("2024-04", "2026-03"),
        ]:
            page.goto(f"{daphne_server.url}/dashboard/?from={first}&to={last}")
            page.wait_for_selector("#dashboard-chart text.axis")
            boxes = page.evaluate(AXIS_BOXES)
            months = [b[4] for b in boxes if "/" in b[4]]
            assert months, (first, last)
            assert overlapping(boxes) == [], (first, last, width)
    finally:
        context.close()
