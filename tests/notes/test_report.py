"""Sign-off: an immutable report, addenda, the PDF, and store-and-forward consults."""

import io
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.core import mail
from django.utils import timezone
from pypdf import PdfReader

from clinics.models import AuditEntry
from consults.messaging.models import OutboundMessage
from consults.messaging.queue import send_due
from consults.models import Consultation
from consults.notes.models import Report
from tests import factories
from tests.notes.conftest import edit, notes_url, require_font, section_url

pytestmark = pytest.mark.django_db

ASSESSMENT = {"text": "Tăng huyết áp độ 2, nguy cơ tim mạch cao", "icd10": ["I10"]}


def queued_mail() -> list[str]:
    return list(
        OutboundMessage.objects.filter(channel="email").order_by("id").values_list("to", flat=True)
    )


def write_assessment(api: Any, cast: Any, consultation: Any) -> None:
    r = api(cast.specialist).put(
        section_url(consultation, "assessment"),
        {"content": ASSESSMENT, "base_revision": 0, "client_edit_id": "e1"},
        format="json",
    )
    assert r.status_code == 200, r.json()


def sign(api: Any, user: Any, consultation: Any) -> Any:
    return api(user).post(notes_url(consultation, "report/sign/"))


def test_the_specialist_signs_and_the_report_holds_the_consult(
    cast: Any, api: Any, consultation: Any
) -> None:
    api(cast.nurse).put(section_url(consultation, "history"), edit("Đau đầu"), format="json")
    api(cast.nurse).post(
        notes_url(consultation, "chat/"), {"text": "Bệnh nhân đã sẵn sàng"}, format="json"
    )
    write_assessment(api, cast, consultation)
    r = sign(api, cast.specialist, consultation)
    assert r.status_code == 201, r.json()
    snap = r.json()["snapshot"]
    assert snap["patient"]["name"] == "Nông Thị Hoa"
    assert snap["specialist"]["licence_number"].startswith("LIC-")
    assert snap["chat"][0]["text"] == "Bệnh nhân đã sẵn sàng"
    assert {p["side"] for p in snap["participants"]} == {"station", "specialist"}
    sections = {s["section"]: s["content"] for s in snap["sections"]}
    assert sections["assessment"]["icd10"] == ["I10"]


def test_a_write_after_sign_off_is_refused_with_report_signed(
    cast: Any, api: Any, consultation: Any
) -> None:
    write_assessment(api, cast, consultation)
    sign(api, cast.specialist, consultation)
    r = api(cast.nurse).put(section_url(consultation, "plan"), edit("more"), format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "report_signed"
    assert sign(api, cast.specialist, consultation).json()["code"] == "report_signed"
    upload = api(cast.nurse).post(
        notes_url(consultation, "attachments/"),
        {"file": io.BytesIO(b"%PDF-1.4")},
        format="multipart",
    )
    assert upload.json()["code"] == "report_signed"


def test_a_later_change_is_an_addendum_and_the_report_does_not_change(
    cast: Any, api: Any, consultation: Any
) -> None:
    write_assessment(api, cast, consultation)
    snapshot = sign(api, cast.specialist, consultation).json()["snapshot"]
    r = api(cast.specialist).post(
        notes_url(consultation, "report/addenda/"),
        {"text": "Kết quả xét nghiệm: bình thường"},
        format="json",
    )
    assert r.status_code == 201
    assert r.json()["author"]["name"] == cast.specialist.display_name
    report = api(cast.nurse).get(notes_url(consultation, "report/")).json()
    assert report["snapshot"] == snapshot
    assert report["addenda"][0]["text"] == "Kết quả xét nghiệm: bình thường"


def test_an_addendum_before_sign_off_is_refused(cast: Any, api: Any, consultation: Any) -> None:
    r = api(cast.specialist).post(
        notes_url(consultation, "report/addenda/"), {"text": "x"}, format="json"
    )
    assert r.status_code == 409
    assert r.json()["code"] == "report_not_signed"


def test_only_the_consult_specialist_signs(cast: Any, api: Any, consultation: Any) -> None:
    write_assessment(api, cast, consultation)
    r = sign(api, cast.nurse, consultation)
    assert r.status_code == 403
    assert r.json()["code"] == "not_the_specialist"


def test_signing_needs_an_assessment(cast: Any, api: Any, consultation: Any) -> None:
    r = sign(api, cast.specialist, consultation)
    assert r.status_code == 400
    assert r.json()["code"] == "assessment_missing"


def test_the_pdf_report_names_the_patient_and_the_signed_assessment(
    cast: Any, api: Any, consultation: Any
) -> None:
    require_font()
    write_assessment(api, cast, consultation)
    sign(api, cast.specialist, consultation)
    r = api(cast.nurse).get(notes_url(consultation, "report/pdf/"))
    assert r.status_code == 200
    assert r["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    assert "Nông Thị Hoa" in text
    assert "Tăng huyết áp độ 2" in text
    assert "I10" in text


def signed_with_every_kind_of_line(api: Any, cast: Any, consultation: Any) -> None:
    cast.patient.date_of_birth = date(1962, 4, 12)
    cast.patient.save()
    sections = {
        "vitals": {"pulse": 92, "bp_systolic": 150, "bp_diastolic": 95, "temperature": 37.5},
        "plan": {"medications": "Amlodipin 5 mg", "tests": "Điện tim"},
        "followup": {"date": "2026-12-20"},
    }
    for key, content in sections.items():
        body = {"content": content, "base_revision": 0, "client_edit_id": f"{key}-1"}
        r = api(cast.nurse).put(section_url(consultation, key), body, format="json")
        assert r.status_code == 200, r.json()
    write_assessment(api, cast, consultation)
    assert sign(api, cast.specialist, consultation).status_code == 201


# What a Vietnamese reader must see, and the English or ISO forms that used to leak through.
VIETNAMESE_LINES = [
    "Bệnh nhân: Nông Thị Hoa — sinh ngày 12/04/1962",
    "Huyết áp: 150/95 mmHg",
    "Mạch: 92 lần/phút",
    "Nhiệt độ: 37,5 °C",
    "ICD-10 I10:",
    "Thuốc: Amlodipin 5 mg",
    "Xét nghiệm: Điện tim",
    "Ngày tái khám: 20/12/2026",
    "Giới tính: Nữ —",
    "Số CCCD: ",
    "Lý do hội chẩn: ",
]
LEAKS = ["Blood pressure", "/min", "born", "1962-04-12", "2026-12-20", "licence"]


def test_the_pdf_report_is_written_in_vietnamese_with_dates_as_dd_mm_yyyy(
    cast: Any, api: Any, consultation: Any
) -> None:
    require_font()
    signed_with_every_kind_of_line(api, cast, consultation)
    r = api(cast.nurse).get(notes_url(consultation, "report/pdf/"), HTTP_ACCEPT_LANGUAGE="vi")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    text = " ".join(text.split())  # the PDF's line breaks fall anywhere
    assert [line for line in VIETNAMESE_LINES if line not in text] == []
    assert [leak for leak in LEAKS if leak in text] == []
    consultation.refresh_from_db()
    patient = consultation.patient
    assert f"Số CCCD: {patient.citizen_id}" in text
    age = patient.age_on(timezone.localdate(consultation.start))
    assert f"Giới tính: Nữ — {age} tuổi" in text
    assert f"Lý do hội chẩn: {' '.join(consultation.reason.split()) or '—'}" in text


def test_the_printable_report_is_written_in_vietnamese_with_dates_as_dd_mm_yyyy(
    cast: Any, client: Any, api: Any, consultation: Any
) -> None:
    signed_with_every_kind_of_line(api, cast, consultation)
    client.force_login(cast.nurse)
    page = client.get(f"/consultations/{consultation.external_id}/report/").content.decode()
    assert [line for line in VIETNAMESE_LINES[1:] if line not in page] == []
    assert "12/04/1962" in page
    assert [leak for leak in LEAKS if leak in page] == []


def test_there_is_no_pdf_before_sign_off(cast: Any, api: Any, consultation: Any) -> None:
    assert api(cast.nurse).get(notes_url(consultation, "report/pdf/")).status_code == 404


def test_a_store_and_forward_case_goes_from_station_to_signed_report(
    cast: Any, api: Any, async_consult: Any, django_capture_on_commit_callbacks: Any
) -> None:
    c = async_consult
    api(cast.nurse).put(section_url(c, "history"), edit("Ban đỏ lan rộng 1 tuần"), format="json")
    with django_capture_on_commit_callbacks(execute=True):
        r = api(cast.nurse).post(notes_url(c, "submit/"))
    assert r.status_code == 201, r.json()
    assert queued_mail() == ["specialist@example.org"]

    assert sign(api, cast.specialist, c).json()["code"] == "assessment_missing"
    write_assessment(api, cast, c)
    with django_capture_on_commit_callbacks(execute=True):
        assert sign(api, cast.specialist, c).status_code == 201
    assert queued_mail()[-1] == "nurse@example.org"
    send_due()
    assert [m.to for m in mail.outbox] == [["specialist@example.org"], ["nurse@example.org"]]
    assert Report.objects.filter(consultation=c).exists()
    assert c.async_case.answered_at is not None


def test_the_signed_answer_is_not_sent_to_a_deactivated_nurse_of_the_station(
    cast: Any, api: Any, async_consult: Any, django_capture_on_commit_callbacks: Any
) -> None:
    factories.make_user("station_staff", cast.station, email="da.nghi@example.org", is_active=False)
    api(cast.nurse).put(section_url(async_consult, "history"), edit("Ban đỏ"), format="json")
    api(cast.nurse).post(notes_url(async_consult, "submit/"))
    write_assessment(api, cast, async_consult)
    with django_capture_on_commit_callbacks(execute=True):
        assert sign(api, cast.specialist, async_consult).status_code == 201
    assert queued_mail()[-1] == "nurse@example.org"
    assert "da.nghi@example.org" not in queued_mail()


class BlockingMailBackend:
    """A mail server that does not answer until released."""

    release = threading.Event()

    def __init__(self, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: list[Any]) -> int:
        assert self.release.wait(10)
        return len(messages)


def test_the_sign_off_does_not_wait_on_the_mail_server(
    cast: Any, api: Any, consultation: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.EMAIL_BACKEND = "tests.notes.test_report.BlockingMailBackend"
    BlockingMailBackend.release.clear()
    cast.nurse.email = "nurse@example.org"
    cast.nurse.save()
    write_assessment(api, cast, consultation)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        assert sign(api, cast.specialist, consultation).status_code == 201
    assert time.monotonic() - started < 5  # the backend would hold it 10 s
    queued = OutboundMessage.objects.get(kind="notice")
    assert (queued.to, queued.status) == ("nurse@example.org", OutboundMessage.Status.QUEUED)
    BlockingMailBackend.release.set()
    assert send_due() == {OutboundMessage.Status.SENT: 1}


def test_a_store_and_forward_case_is_not_signed_before_it_is_submitted(
    cast: Any, api: Any, async_consult: Any
) -> None:
    write_assessment(api, cast, async_consult)
    assert sign(api, cast.specialist, async_consult).json()["code"] == "not_submitted"


def test_submitting_needs_the_history_and_happens_once(
    cast: Any, api: Any, async_consult: Any
) -> None:
    c = async_consult
    assert api(cast.nurse).post(notes_url(c, "submit/")).json()["code"] == "notes_incomplete"
    api(cast.nurse).put(section_url(c, "history"), edit(), format="json")
    assert api(cast.nurse).post(notes_url(c, "submit/")).status_code == 201
    assert api(cast.nurse).post(notes_url(c, "submit/")).json()["code"] == "already_submitted"


def test_only_store_and_forward_consults_are_submitted(
    cast: Any, api: Any, consultation: Any
) -> None:
    assert api(cast.nurse).post(notes_url(consultation, "submit/")).json()["code"] == "not_async"
    assert api(cast.specialist).post(notes_url(consultation, "submit/")).status_code == 409


def test_the_printable_report_page_is_a4_and_shows_the_signed_report(
    cast: Any, api: Any, consultation: Any, client: Any
) -> None:
    write_assessment(api, cast, consultation)
    sign(api, cast.specialist, consultation)
    client.force_login(cast.nurse)
    page = client.get(f"/consultations/{consultation.external_id}/report/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Nông Thị Hoa" in html
    assert "Tăng huyết áp độ 2" in html
    assert "17/05/1980" in html
    assert "frontend/notes/report.css" in html
    css = finders.find("frontend/notes/report.css")
    assert "size: A4" in Path(css).read_text()


def test_the_report_page_is_404_for_an_outsider_and_before_sign_off(
    cast: Any, consultation: Any, client: Any
) -> None:
    client.force_login(cast.nurse)
    assert client.get(f"/consultations/{consultation.external_id}/report/").status_code == 404
    client.force_login(cast.outsider_nurse)
    assert client.get(f"/consultations/{consultation.external_id}/notes/").status_code == 404


def test_a_missing_pdf_font_is_a_clear_error(
    cast: Any, api: Any, consultation: Any, settings: Any
) -> None:
    from reportlab.pdfbase import pdfmetrics

    from consults.notes import pdf

    write_assessment(api, cast, consultation)
    sign(api, cast.specialist, consultation)
    settings.REPORT_FONT_PATH = "/nonexistent/DejaVuSans.ttf"
    registered = pdfmetrics._fonts.pop(pdf.FONT, None)
    try:
        r = api(cast.nurse).get(notes_url(consultation, "report/pdf/"))
    finally:
        if registered is not None:
            pdfmetrics._fonts[pdf.FONT] = registered
    assert r.status_code == 503
    assert r.json()["code"] == "report_font_missing"
    assert "fonts-dejavu-core" in r.json()["message"]


def test_a_retried_addendum_with_the_same_idempotency_key_is_added_once(
    cast: Any, api: Any, consultation: Any
) -> None:
    write_assessment(api, cast, consultation)
    sign(api, cast.specialist, consultation)
    for _ in range(2):
        r = api(cast.specialist).post(
            notes_url(consultation, "report/addenda/"),
            {"text": "Bổ sung"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="add-1",
        )
        assert r.status_code == 201
    assert Report.objects.get(consultation=consultation).addenda.count() == 1


def add_addendum(api: Any, user: Any, consultation: Any, key: str) -> Any:
    return api(user).post(
        notes_url(consultation, "report/addenda/"),
        {"text": "Bổ sung"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_a_replayed_addendum_is_audited_as_a_read(cast: Any, api: Any, consultation: Any) -> None:
    write_assessment(api, cast, consultation)
    sign(api, cast.specialist, consultation)
    first = add_addendum(api, cast.specialist, consultation, "add-2")
    again = add_addendum(api, cast.specialist, consultation, "add-2")
    assert again.json() == first.json()
    [read] = AuditEntry.objects.filter(action="read", object_id=first.json()["id"])
    assert (read.object_type, read.actor) == ("addendum", cast.specialist)
    assert read.patient_id == cast.patient.external_id


def test_a_specialist_taken_off_the_consult_cannot_replay_an_addendum(
    cast: Any, api: Any, consultation: Any
) -> None:
    write_assessment(api, cast, consultation)
    sign(api, cast.specialist, consultation)
    assert add_addendum(api, cast.specialist, consultation, "add-3").status_code == 201
    Consultation.objects.filter(pk=consultation.pk).update(specialist=cast.other_specialist)
    again = add_addendum(api, cast.specialist, consultation, "add-3")
    assert again.status_code == 404
    assert "Bổ sung" not in again.content.decode()
