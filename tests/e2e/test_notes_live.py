"""Two Chromium contexts, station and specialist, edit the notes live; sign-off locks them."""

import io
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from consults.notes.models import ChatMessage, NoteRevision, NoteSection
from tests import factories
from tests.e2e.conftest import Daphne

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_notes(
    browser: Any, login: Any, server: Daphne, username: str, consultation: Any, **options: Any
) -> Any:
    context = browser.new_context(locale="vi-VN", **options)
    page = context.new_page()
    page.on("pageerror", lambda exc: print(f"[{username}] page error: {exc}"))
    page.on("console", lambda msg: print(f"[{username}] console: {msg.text}"))
    page.csp_violations = []  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda msg: "Content Security Policy" in msg.text and page.csp_violations.append(msg.text),
    )
    login(page, server, username)
    page.goto(f"{server.url}/consultations/{consultation.external_id}/notes/")
    page.wait_for_selector("#link-state.ok", timeout=10_000)
    return page


def wait_for_value(page: Any, selector: str, value: str) -> None:
    page.wait_for_function(
        "([s, v]) => document.querySelector(s).value === v", arg=[selector, value], timeout=5_000
    )


def test_station_and_specialist_see_each_others_sections_live_until_sign_off(
    cast: Any, consultation: Any, daphne_server: Daphne, browser: Any, login: Any, screenshot: Any
) -> None:
    nurse = open_notes(browser, login, daphne_server, "nurse", consultation)
    specialist = open_notes(browser, login, daphne_server, "specialist", consultation)
    try:
        assert nurse.locator("html").get_attribute("lang") == "vi"

        nurse.fill(
            "#section-history textarea[name=text]", "Đau ngực trái 2 ngày, khó thở khi gắng sức"
        )
        nurse.click("#section-history button.save")
        wait_for_value(
            specialist,
            "#section-history textarea[name=text]",
            "Đau ngực trái 2 ngày, khó thở khi gắng sức",
        )

        specialist.fill("#section-assessment textarea[name=text]", "Theo dõi cơn đau thắt ngực")
        specialist.click("#section-assessment button.save")
        wait_for_value(
            nurse, "#section-assessment textarea[name=text]", "Theo dõi cơn đau thắt ngực"
        )

        nurse.type("#section-vitals input[name=pulse]", "92")
        specialist.wait_for_function(
            "n => document.querySelector('#section-vitals .presence').textContent.includes(n)",
            arg=cast.nurse.display_name,
            timeout=5_000,
        )
        screenshot(specialist, "live")

        sign_on_the_sign_page(specialist, "Theo dõi cơn đau thắt ngực")
        nurse.wait_for_function(
            "() => document.querySelector('#section-history textarea').disabled", timeout=5_000
        )
        assert nurse.locator(".chat-form input[name=text]").is_disabled()
        refused = nurse.evaluate(
            """async (url) => {
                const csrf = document.cookie.match(/csrftoken=([^;]+)/)[1];
                const r = await fetch(url, {method: "PUT",
                  headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
                  body: JSON.stringify({content: {text: "late"}, base_revision: 1,
                                        client_edit_id: "late"})});
                return [r.status, (await r.json()).code];
            }""",
            f"/api/v1/consultations/{consultation.external_id}/notes/history/",
        )
        assert refused == [409, "report_signed"]

        assert specialist.url.endswith(f"/consultations/{consultation.external_id}/report/")
        assert "Nông Thị Hoa" in specialist.inner_text("#report-doc")
        assert "Theo dõi cơn đau thắt ngực" in specialist.inner_text("#report-doc")
        screenshot(specialist, "report")
        assert specialist.csp_violations == []
        assert nurse.csp_violations == []
    finally:
        nurse.context.close()
        specialist.context.close()


def test_an_edit_typed_while_the_server_is_down_is_sent_on_reconnect_exactly_once(
    cast: Any, consultation: Any, start_daphne: Any, browser: Any, login: Any
) -> None:
    server = start_daphne("notes-offline")
    nurse = open_notes(browser, login, server, "nurse", consultation)
    try:
        server.stop()
        nurse.wait_for_selector("#link-state.warn", timeout=5_000)
        nurse.fill("#section-history textarea[name=text]", "Ghi khi mất mạng")
        nurse.click("#section-history button.save")
        nurse.wait_for_selector("#section-history .status.unsent", timeout=5_000)
        key = f"notes-pending:{consultation.external_id}:{cast.nurse.external_id}"
        kept = nurse.evaluate("k => localStorage.getItem(k)", key)
        assert "Ghi khi mất mạng" in kept

        server.start()
        nurse.wait_for_function("k => localStorage.getItem(k) === '{}'", arg=key, timeout=30_000)
        # The acknowledgement is lost (say the tab crashed): the same edit is resent.
        nurse.evaluate("([k, v]) => localStorage.setItem(k, v)", [key, kept])
        nurse.reload()
        nurse.wait_for_function("k => localStorage.getItem(k) === '{}'", arg=key, timeout=15_000)
        applied = NoteRevision.objects.filter(section__consultation=consultation, outcome="applied")
        assert [r.content["text"] for r in applied] == ["Ghi khi mất mạng"]
        assert nurse.input_value("#section-history textarea[name=text]") == "Ghi khi mất mạng"
    finally:
        nurse.context.close()


def test_two_writers_on_one_section_get_the_side_by_side_merge_view(
    cast: Any, consultation: Any, daphne_server: Daphne, browser: Any, login: Any, screenshot: Any
) -> None:
    nurse = open_notes(browser, login, daphne_server, "nurse", consultation)
    specialist = open_notes(browser, login, daphne_server, "specialist", consultation)
    try:
        # Both start typing from revision 0; the specialist's page is not told in time.
        specialist.fill("#section-plan textarea[name=text]", "Chuyển tuyến trên")
        nurse.fill("#section-plan textarea[name=text]", "Theo dõi tại trạm")
        nurse.click("#section-plan button.save")
        key = f"notes-pending:{consultation.external_id}:{cast.nurse.external_id}"
        nurse.wait_for_function("k => localStorage.getItem(k) === '{}'", arg=key, timeout=5_000)
        specialist.click("#section-plan button.save")
        box = specialist.wait_for_selector("#section-plan .conflict:not([hidden])", timeout=5_000)
        assert box.query_selector(".theirs").inner_text() == "Theo dõi tại trạm"
        assert box.query_selector(".yours").inner_text() == "Chuyển tuyến trên"
        screenshot(specialist, "merge")

        specialist.fill(
            "#section-plan textarea[name=text]", "Theo dõi tại trạm; chuyển tuyến nếu đau tăng"
        )
        specialist.click("#section-plan .save-merged")
        wait_for_value(
            nurse,
            "#section-plan textarea[name=text]",
            "Theo dõi tại trạm; chuyển tuyến nếu đau tăng",
        )

        specialist.click("#section-plan .show-history")
        specialist.wait_for_function(
            "() => document.querySelectorAll('#section-plan .history li').length === 3",
            timeout=5_000,
        )
        assert specialist.locator("#section-plan .history li.refused").count() == 1
    finally:
        nurse.context.close()
        specialist.context.close()


def test_a_photo_and_a_chat_line_from_the_station_reach_the_specialist(
    cast: Any, consultation: Any, daphne_server: Daphne, browser: Any, login: Any, tmp_path: Any
) -> None:
    from PIL import Image

    photo = tmp_path / "vet-thuong.jpg"
    Image.new("RGB", (800, 600), (180, 90, 70)).save(photo, "JPEG")
    nurse = open_notes(browser, login, daphne_server, "nurse", consultation)
    specialist = open_notes(browser, login, daphne_server, "specialist", consultation)
    try:
        assert nurse.locator("input.upload[capture]").get_attribute("accept") == "image/*"
        nurse.set_input_files("input.upload[capture]", str(photo))
        specialist.wait_for_selector(".attachment-list img", timeout=10_000)
        specialist.wait_for_function(
            "() => document.querySelector('.attachment-list img').naturalWidth > 0", timeout=5_000
        )

        nurse.fill(".chat-form input[name=text]", "Bác sĩ xem giúp ảnh vết thương")
        nurse.press(".chat-form input[name=text]", "Enter")
        specialist.wait_for_selector(
            ".chat-list li:has-text('Bác sĩ xem giúp ảnh vết thương')", timeout=5_000
        )
    finally:
        nurse.context.close()
        specialist.context.close()


def test_a_malformed_multipart_upload_gets_the_json_error_shape(
    cast: Any, consultation: Any, daphne_server: Daphne
) -> None:
    import json
    import urllib.error
    import urllib.request

    token = factories.make_api_token(cast.nurse)
    boundary = "c637e12e2b1a998d80d1b087531af51c"
    request = urllib.request.Request(
        f"{daphne_server.url}/api/v1/consultations/{consultation.external_id}/notes/attachments/",
        data=f"--{boundary}--\r\n".encode(),
        method="POST",
        headers={
            "Authorization": f"Token {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400
    assert refused.value.headers["Content-Type"] == "application/json"
    assert "file" in json.loads(refused.value.read())["fields"]


def saved(page: Any, user: Any, consultation: Any) -> None:
    """Wait until the server has acknowledged every edit this page kept."""
    key = f"notes-pending:{consultation.external_id}:{user.external_id}"
    page.wait_for_function("k => localStorage.getItem(k) === '{}'", arg=key, timeout=10_000)


def sign_on_the_sign_page(page: Any, expect: str, screenshot: Any = None) -> None:
    """From the notes: the sign page shows the report as it will be signed; confirm, sign."""
    page.click("#sign-report")
    page.wait_for_url("**/report/sign/")
    assert expect in " ".join(page.inner_text("#report-doc").split())
    if screenshot is not None:
        screenshot(page, "sign-preview")
    page.check("#sign-confirm")
    page.click("#sign-submit")
    page.wait_for_url("**/report/", timeout=10_000)


def test_a_code_picked_in_the_icd10_list_reaches_the_signed_reports_pdf(
    cast: Any, consultation: Any, daphne_server: Daphne, browser: Any, login: Any, screenshot: Any
) -> None:
    specialist = open_notes(browser, login, daphne_server, "specialist", consultation)
    try:
        specialist.fill("#section-assessment .icd-search", "tăng huyết")
        specialist.click("#section-assessment .icd-results li button:has-text('I10')")
        chip = specialist.wait_for_selector("#section-assessment .chips li", timeout=5_000)
        assert chip.inner_text().startswith("I10")
        assert specialist.input_value("#section-assessment [name=icd10]") == "I10"
        specialist.fill("#section-assessment textarea[name=text]", "Tăng huyết áp độ 2")
        specialist.click("#section-assessment button.save")
        saved(specialist, cast.specialist, consultation)
        screenshot(specialist, "icd10")

        sign_on_the_sign_page(specialist, "ICD-10 I10", screenshot)
        url = f"/api/v1/consultations/{consultation.external_id}/notes/report/pdf/"
        pdf = specialist.request.get(daphne_server.url + url)
        assert pdf.status == 200
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
        assert "ICD-10 I10" in " ".join(text.split())
    finally:
        specialist.context.close()


def test_chat_lines_show_the_stations_time_as_hh_mm_and_a_revision_its_day_first(
    cast: Any, consultation: Any, daphne_server: Daphne, browser: Any, login: Any
) -> None:
    nurse = open_notes(browser, login, daphne_server, "nurse", consultation)
    # A specialist abroad: the page still writes the station's time, never the browser's.
    specialist = open_notes(
        browser, login, daphne_server, "specialist", consultation, timezone_id="Europe/Berlin"
    )
    try:
        nurse.fill(".chat-form input[name=text]", "Huyết áp đo lại 150/95")
        nurse.press(".chat-form input[name=text]", "Enter")
        line = specialist.wait_for_selector(".chat-list li:has-text('150/95')", timeout=5_000)
        sent = ChatMessage.objects.get(consultation=consultation).created_at
        at = sent.astimezone(ZoneInfo(cast.station.time_zone)).strftime("%H:%M")
        assert line.inner_text() == f"{cast.nurse.display_name} {at}: Huyết áp đo lại 150/95"

        nurse.fill("#section-history textarea[name=text]", "Đau đầu")
        nurse.click("#section-history button.save")
        saved(nurse, cast.nurse, consultation)
        specialist.reload()
        status = specialist.wait_for_selector("#section-history .status:has-text('lưu lúc')")
        at_saved = NoteSection.objects.get(consultation=consultation, key="history").updated_at
        local = at_saved.astimezone(ZoneInfo(cast.station.time_zone)).strftime("%d/%m/%Y %H:%M")
        assert re.search(r"lưu lúc \d{2}/\d{2}/\d{4} \d{2}:\d{2}$", status.inner_text())
        assert status.inner_text().endswith(local)
    finally:
        nurse.context.close()
        specialist.context.close()
