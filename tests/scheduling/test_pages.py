"""Scheduling pages: book (station), agenda (all), availability (specialist), triage, and
consult requests (filed and answered by the station)."""

import re
from datetime import date, timedelta
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.html import escape
from rest_framework.serializers import Serializer

from clinics.models import Facility, Membership, User
from consults.models import Consultation
from consults.scheduling.models import (
    AvailabilityOverride,
    AvailabilityRule,
    ConsultRequest,
    SpecialistSchedule,
    TimeOff,
)
from consults.scheduling.serializers import BookingSerializer, RequestCreateSerializer
from consults.scheduling.triage import (
    can_triage,
    consult_request_ask_info,
    requests_to_triage_by,
    requests_visible_to,
)
from frontend.views_scheduling_hospital import REQUESTS_PER_PAGE
from tests import factories
from tests.conftest import Cast
from tests.scheduling.conftest import at
from tests.security.matrix_world import administrator

pytestmark = pytest.mark.django_db


def logged_in(user: User, language: str = "vi") -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language  # as the language switch does
    client.force_login(user)
    return client


def form_key(page: str) -> str:
    """The hidden Idempotency-Key a form was rendered with (the first on the page)."""
    match = re.search(r'name="idempotency_key" value="([0-9a-f-]{36})"', page)
    assert match, "the form carries no idempotency key"
    return match.group(1)


def serializer_message(
    serializer: type[Serializer], data: dict[str, str], field: str, language: str
) -> str:
    """What the API's serializer says of this field of `data`, in `language`."""
    with translation.override(language):
        body = serializer(data=data)
        assert not body.is_valid()
        return str(body.errors[field][0])


def confirm_url(cast: Cast, day: date, hour: int = 9) -> str:
    query = {
        "patient": str(cast.patient.external_id),
        "specialist": str(cast.specialist.external_id),
        "specialty": "cardiology",
        "start": at(day, hour).isoformat(),
        "end": at(day, hour, 30).isoformat(),
    }
    return "/book/confirm/?" + urlencode(query)


def test_the_booking_page_lists_the_earliest_slots_with_hospitals(
    cast: Cast, hours: SpecialistSchedule
) -> None:
    client = logged_in(cast.nurse)
    query = {"patient": str(cast.patient.external_id), "specialty": "cardiology"}
    page = client.get("/book/", query).content.decode()
    assert 'id="slot-list"' in page
    assert cast.hospital.name in page
    assert cast.hospital2.name in page


def confirm_form(cast: Cast, day: date, hour: int, **more: str) -> dict[str, str]:
    """What the confirm page posts for the cast's patient and specialist, hour:00–hour:30."""
    return {
        "patient": str(cast.patient.external_id),
        "specialist": str(cast.specialist.external_id),
        "start": at(day, hour).isoformat(),
        "end": at(day, hour, 30).isoformat(),
        **more,
    }


def test_confirming_books_and_lands_on_the_agenda(
    cast: Cast, hours: SpecialistSchedule, day: date
) -> None:
    client = logged_in(cast.nurse)
    page = client.get(confirm_url(cast, day))
    assert page.status_code == 200
    form = confirm_form(
        cast, day, 9, specialty="cardiology", reason="Đau ngực", urgency="routine", mode="video"
    )
    form["idempotency_key"] = form_key(page.content.decode())
    response = client.post("/book/confirm/", form, follow=True)
    assert Consultation.objects.filter(status="booked", start=at(day, 9)).count() == 1
    agenda = response.content.decode()
    assert "Nông Thị Hoa" in agenda
    assert "09:00" in agenda
    again = client.post("/book/confirm/", form, follow=True)  # resent over a weak link
    assert Consultation.objects.count() == 1
    assert again.redirect_chain == response.redirect_chain
    said = [str(m) for m in again.context["messages"]]
    assert said == [str(m) for m in response.context["messages"]]
    assert said[0].startswith(f"Đã đặt lịch: {day:%d/%m/%Y} 09:00")


def test_a_form_rendered_again_is_a_new_request(
    cast: Cast, hours: SpecialistSchedule, day: date
) -> None:
    """Two renderings of the confirm page carry two keys: the second booking of the same
    slot is refused as the API refuses it, not taken for a resend."""
    client = logged_in(cast.nurse)
    first, second = (form_key(client.get(confirm_url(cast, day)).content.decode()) for _ in "ab")
    assert first != second
    form = confirm_form(cast, day, 9, specialty="cardiology")
    assert client.post("/book/confirm/", form | {"idempotency_key": first}).status_code == 302
    refused = client.post("/book/confirm/", form | {"idempotency_key": second})
    assert refused.status_code == 409
    assert Consultation.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("urgency", "whenever"), ("mode", "telepathy"), ("reason", "x" * 2001)],
)
def test_confirming_refuses_what_the_api_refuses_with_its_message(
    cast: Cast, hours: SpecialistSchedule, day: date, field: str, value: str
) -> None:
    """No quiet default (routine, video) and no quiet cut: the page shows the booking
    serializer's own Vietnamese message, keeps what was typed, and books nothing."""
    form = confirm_form(cast, day, 9, specialty="cardiology", reason="Đau ngực") | {field: value}
    response = logged_in(cast.nurse).post("/book/confirm/", form)
    assert response.status_code == 400
    expected = serializer_message(BookingSerializer, form, field, "vi")
    assert expected != serializer_message(BookingSerializer, form, field, "en")  # Vietnamese
    page = response.content.decode()
    assert escape(expected) in page
    assert not Consultation.objects.exists()
    if field == "reason":
        assert value in page


def test_confirming_a_taken_slot_shows_the_reason(
    cast: Cast, hours: SpecialistSchedule, day: date
) -> None:
    form = confirm_form(cast, day, 18)
    response = logged_in(cast.nurse, "en").post("/book/confirm/", form)
    assert response.status_code == 409
    assert "does not see patients at this time" in response.content.decode()


def test_confirming_refuses_a_specialty_the_specialist_does_not_practise(
    cast: Cast, hours: SpecialistSchedule, day: date
) -> None:
    form = confirm_form(cast, day, 9, specialty="dermatology")  # a cardiologist's slot
    factories.make_specialty("dermatology")
    response = logged_in(cast.nurse).post("/book/confirm/", form)
    assert response.status_code == 400
    assert "Bác sĩ này không thuộc chuyên khoa đó." in response.content.decode()
    assert not Consultation.objects.exists()


def test_the_booking_page_is_for_station_staff(cast: Cast) -> None:
    assert logged_in(cast.specialist).get("/book/").status_code == 403


def test_an_outsider_nurse_cannot_book_another_stations_patient(
    cast: Cast, hours: SpecialistSchedule, day: date
) -> None:
    assert logged_in(cast.outsider_nurse).get(confirm_url(cast, day)).status_code == 404
    query = {"patient": str(cast.patient.external_id), "specialty": "cardiology"}
    assert logged_in(cast.outsider_nurse).get("/book/", query).status_code == 404


def test_the_specialists_agenda_shows_the_consult_and_outsiders_see_nothing(
    cast: Cast, consultation: Consultation
) -> None:
    day = consultation.start.astimezone(at(date.today(), 0).tzinfo).date()  # type: ignore[union-attr]
    page = logged_in(cast.specialist).get("/agenda/", {"day": day.isoformat()}).content.decode()
    assert "Nông Thị Hoa" in page
    other = logged_in(cast.other_specialist).get("/agenda/", {"day": day.isoformat()})
    assert "Nông Thị Hoa" not in other.content.decode()


def test_a_specialist_edits_their_weekly_hours(cast: Cast) -> None:
    client = logged_in(cast.specialist)
    form = {
        "action": "add_rule",
        "weekday": "0",
        "start_time": "08:00",
        "end_time": "11:00",
        "slot_minutes": "20",
    }
    assert client.post("/availability/", form).status_code == 302
    rule = AvailabilityRule.objects.get(specialist=cast.specialist)
    assert (rule.weekday, rule.slot_minutes) == (0, 20)
    bad = client.post("/availability/", form | {"end_time": "07:00"}, follow=True)
    assert AvailabilityRule.objects.count() == 1
    assert "errorlist" in bad.content.decode() or "msg error" in bad.content.decode()
    client.post("/availability/", {"action": "delete_rule", "id": str(rule.external_id)})
    assert not AvailabilityRule.objects.exists()


def test_availability_is_written_on_the_24_hour_clock_and_as_day_month_year(cast: Cast) -> None:
    client = logged_in(cast.specialist)
    base = {"specialist": str(cast.specialist.external_id)}
    client.post(
        "/availability/",
        base | {"action": "add_rule", "weekday": "2", "start_time": "13:30", "end_time": "17:00"},
    )
    rule = AvailabilityRule.objects.get(specialist=cast.specialist)
    assert (rule.start_time.hour, rule.start_time.minute, rule.end_time.hour) == (13, 30, 17)
    client.post(
        "/availability/",
        base
        | {
            "action": "add_override",
            "date": "24/12/2030",
            "start_time": "18:00",
            "end_time": "20:00",
        },
    )
    override = AvailabilityOverride.objects.get(specialist=cast.specialist)
    assert override.date == date(2030, 12, 24)
    client.post(
        "/availability/",
        base
        | {
            "action": "add_time_off",
            "start_date": "02/01/2031",
            "start_time": "00:00",
            "end_date": "03/01/2031",
            "end_time": "12:00",
        },
    )
    off = TimeOff.objects.get(specialist=cast.specialist)
    assert timezone.localtime(off.start).strftime("%d/%m/%Y %H:%M") == "02/01/2031 00:00"
    assert timezone.localtime(off.end).strftime("%d/%m/%Y %H:%M") == "03/01/2031 12:00"


@pytest.mark.parametrize(
    "form",
    [
        {"action": "add_rule", "weekday": "2", "start_time": "8:00 PM", "end_time": "21:00"},
        {"action": "add_rule", "weekday": "2", "start_time": "25:00", "end_time": "26:00"},
        {
            "action": "add_override",
            "date": "2030-24-12",
            "start_time": "18:00",
            "end_time": "20:00",
        },
        {
            "action": "add_time_off",
            "start_date": "31/04/2031",
            "start_time": "00:00",
            "end_date": "01/05/2031",
            "end_time": "00:00",
        },
    ],
)
def test_a_time_or_date_that_cannot_be_read_is_refused_with_the_expected_format(
    cast: Cast, form: dict[str, str]
) -> None:
    client = logged_in(cast.specialist)
    page = client.post("/availability/", form, follow=True).content.decode()
    assert "msg error" in page
    assert "dd/mm/yyyy" in page or "hh:mm" in page
    assert not AvailabilityRule.objects.exists()
    assert not AvailabilityOverride.objects.exists()
    assert not TimeOff.objects.exists()


def test_a_coordinator_edits_their_hospitals_specialist_but_not_another(cast: Cast) -> None:
    client = logged_in(cast.coordinator)
    mine = client.get("/availability/", {"specialist": str(cast.specialist.external_id)})
    assert mine.status_code == 200
    other = client.get("/availability/", {"specialist": str(cast.other_specialist.external_id)})
    assert other.status_code == 404


def urgent_request(
    cast: Cast,
    notes: str = "",
    *,
    reason: str = "Khó thở",
    specialty: str = "cardiology",
    hospital: Facility | None = None,
) -> ConsultRequest:
    """The station files an urgent request (breathlessness, with the cast's hospital unless
    told otherwise)."""
    return factories.make_request(
        patient=cast.patient,
        hospital=hospital or cast.hospital,
        actor=cast.nurse,
        reason=reason,
        specialty=specialty,
        urgency="urgent",
        notes=notes,
    )


def accept_form(req: ConsultRequest, specialist: User, day: date) -> dict[str, str]:
    """What the triage page's accept form posts: this specialist at 09:00–09:30 that day."""
    return {
        "request": str(req.consultation.external_id),
        "action": "accept",
        "specialist": str(specialist.external_id),
        "start": at(day, 9).isoformat(),
        "end": at(day, 9, 30).isoformat(),
    }


def test_the_triage_page_accepts_a_request(
    cast: Cast, hours: SpecialistSchedule, day: date
) -> None:
    req = urgent_request(cast)
    client = logged_in(cast.coordinator)
    page = client.get("/triage/").content.decode()
    assert "Khó thở" in page
    assert f'id="q-{req.consultation.external_id}"' in page  # public ids, never the row's key
    assert not re.search(r'id="[qd]-\d+"', page)
    assert "(0\xa0phút)" in page  # how long it has waited, in Vietnamese
    form = accept_form(req, cast.specialist, day)
    assert client.post("/triage/", form).status_code == 302
    assert ConsultRequest.objects.get(pk=req.pk).state == "accepted"


def test_the_triage_page_confirms_before_it_books_or_declines(
    cast: Cast, hours: SpecialistSchedule, day: date
) -> None:
    req = urgent_request(cast)
    client = logged_in(cast.coordinator)
    assert 'name="step" value="confirm"' in client.get("/triage/").content.decode()
    form = accept_form(req, cast.specialist, day)
    page = client.post("/triage/", {**form, "step": "confirm"})
    assert page.status_code == 200
    said = page.content.decode()
    assert cast.specialist.display_name in said
    assert f"{day:%d/%m/%Y} 09:00–09:30" in said
    assert ConsultRequest.objects.get(pk=req.pk).state == "waiting"  # nothing booked yet
    decline = {"request": form["request"], "action": "decline", "message": "Ngoài chuyên môn"}
    said = client.post("/triage/", {**decline, "step": "confirm"}).content.decode()
    assert "Yêu cầu sẽ bị từ chối" in said
    assert "Ngoài chuyên môn" in said
    assert ConsultRequest.objects.get(pk=req.pk).state == "waiting"
    unknown = {**form, "specialist": "00000000-0000-4000-8000-000000000000", "step": "confirm"}
    assert client.post("/triage/", unknown).status_code == 404
    confirmed = {**form, "idempotency_key": form_key(page.content.decode())}
    assert client.post("/triage/", confirmed).status_code == 302
    assert ConsultRequest.objects.get(pk=req.pk).state == "accepted"


def test_the_triage_page_refuses_a_specialist_outside_the_requested_specialty(
    cast: Cast, hours: SpecialistSchedule, day: date
) -> None:
    req = urgent_request(cast, reason="Ban đỏ lan rộng", specialty="dermatology")
    form = accept_form(req, cast.specialist, day)  # by hand: the page offers only dermatology's
    page = logged_in(cast.coordinator).post("/triage/", form, follow=True).content.decode()
    assert "Bác sĩ này không thuộc chuyên khoa đó." in page
    assert ConsultRequest.objects.get(pk=req.pk).state == "waiting"
    consult = Consultation.objects.get(pk=req.consultation_id)
    assert (consult.status, consult.specialist, consult.start) == ("requested", None, None)


def test_the_triage_page_is_for_coordinators(cast: Cast) -> None:
    assert logged_in(cast.nurse).get("/triage/").status_code == 403
    assert logged_in(cast.specialist).get("/triage/").status_code == 403
    assert logged_in(cast.other_coordinator).get("/triage/").status_code == 200


def test_it_lists_only_the_requests_its_user_may_triage(cast: Cast) -> None:
    """A coordinator who is also staff of a station sees that station's requests to other
    hospitals (consults.access), but the page lists only what can_triage lets them act on."""
    Membership.objects.create(
        user=cast.coordinator, facility=cast.station, role=Membership.Role.STATION_STAFF
    )
    ours = urgent_request(cast)
    theirs = urgent_request(cast, reason="Đau thượng vị kéo dài", hospital=cast.hospital2)
    assert set(requests_visible_to(cast.coordinator)) == {ours, theirs}
    page = logged_in(cast.coordinator).get("/triage/").content.decode()
    assert f"request-{ours.consultation.external_id}" in page
    assert f"request-{theirs.consultation.external_id}" not in page
    assert "Đau thượng vị" not in page
    visible = requests_visible_to(cast.coordinator)
    listed = requests_to_triage_by(cast.coordinator)
    assert set(listed) == {r for r in visible if can_triage(cast.coordinator, r)} == {ours}


def test_the_agenda_lists_only_the_stations_own_requests(cast: Cast) -> None:
    """A coordinator who is also staff of a station answers that station's requests on the
    agenda; another station's requests to the coordinator's hospital belong to triage."""
    Membership.objects.create(
        user=cast.coordinator, facility=cast.station, role=Membership.Role.STATION_STAFF
    )
    ours = urgent_request(cast)
    factories.make_request(
        patient=factories.make_patient(cast.station2, full_name="Lò Văn Sáng"),
        hospital=cast.hospital,
        actor=cast.outsider_nurse,
        reason="Sốt kéo dài",
    )
    requests = logged_in(cast.coordinator).get("/agenda/").context["requests"]
    assert requests == [ours]


def test_it_lets_an_administrator_triage_from_the_page_as_from_the_api(
    cast: Cast, hours: SpecialistSchedule, day: date
) -> None:
    req = urgent_request(cast)
    client = logged_in(cast.admin)
    assert "Khó thở" in client.get("/triage/").content.decode()
    form = accept_form(req, cast.specialist, day)
    assert client.post("/triage/", form).status_code == 302
    assert ConsultRequest.objects.get(pk=req.pk).state == "accepted"


def test_it_lets_an_admin_membership_open_the_triage_page(cast: Cast) -> None:
    urgent_request(cast)
    assert "Khó thở" in logged_in(administrator()).get("/triage/").content.decode()


def statements(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_it_searches_slots_only_for_the_page_of_requests_it_shows(
    cast: Cast, hours: SpecialistSchedule
) -> None:
    """An administrator's queue spans every hospital; each request shown costs one slot
    search, so the page's statements grow with the page, not with the queue."""
    client = logged_in(cast.admin)
    urgent_request(cast)
    client.get("/triage/")  # the session's first read
    one = statements(client, "/triage/")
    urgent_request(cast)
    per_request = statements(client, "/triage/") - one
    for _ in range(2 * REQUESTS_PER_PAGE - 1):
        urgent_request(cast)
    assert statements(client, "/triage/") == one + (REQUESTS_PER_PAGE - 1) * per_request
    page = client.get("/triage/").content.decode()
    assert page.count('class="card request"') == REQUESTS_PER_PAGE
    assert '<a href="?page=2">Thêm yêu cầu</a>' in page
    last = client.get("/triage/", {"page": 3}).content.decode()
    assert last.count('class="card request"') == 1
    asked = {"request": str(urgent_request(cast).consultation.external_id), "action": "ask_info"}
    assert client.post("/triage/?page=3", asked | {"message": "?"}).url == "/triage/?page=3"


@pytest.fixture
def today_consult(cast: Cast) -> Consultation:
    """A video consult later today (local time), still booked."""
    now = timezone.localtime()
    start = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if start.date() != now.date():  # a test run a minute before midnight
        start = now.replace(second=0, microsecond=0)
    return factories.make_consultation(
        patient=cast.patient,
        specialist=cast.specialist,
        hospital=cast.hospital,
        room=cast.room,
        start=start,
    )


def agenda_row(client: Client, consult: Consultation) -> str:
    page = client.get("/agenda/").content.decode()
    marker = f'data-consultation="{consult.external_id}"'
    assert marker in page
    return page.split(marker, 1)[1].split("</tr>", 1)[0]


def test_the_station_checks_the_patient_in_from_the_agenda_and_lands_on_the_pre_join_screen(
    cast: Cast, today_consult: Consultation
) -> None:
    client = logged_in(cast.nurse)
    row = agenda_row(client, today_consult)
    assert 'data-action="check-in"' in row
    assert 'data-action="room"' not in row  # the call opens through the check-in
    response = client.post("/agenda/check-in/", {"consultation": str(today_consult.external_id)})
    assert response.status_code == 302
    assert response["Location"] == f"/room/{today_consult.external_id}/prejoin/"
    today_consult.refresh_from_db()
    assert today_consult.status == Consultation.Status.CHECKED_IN
    row = agenda_row(client, today_consult)
    assert 'data-action="check-in"' not in row
    assert 'data-action="room"' in row
    assert 'data-action="notes"' in row


def test_a_resent_check_in_form_goes_to_the_pre_join_screen_without_a_second_transition(
    cast: Cast, today_consult: Consultation
) -> None:
    client = logged_in(cast.nurse)
    key = form_key(agenda_row(client, today_consult))
    form = {"consultation": str(today_consult.external_id), "idempotency_key": key}
    client.post("/agenda/check-in/", form)
    again = client.post("/agenda/check-in/", form)
    assert again["Location"] == f"/room/{today_consult.external_id}/prejoin/"
    events = today_consult.events.filter(to_status=Consultation.Status.CHECKED_IN)
    assert events.count() == 1


def test_the_specialist_joins_from_the_agenda_but_cannot_check_in(
    cast: Cast, today_consult: Consultation
) -> None:
    client = logged_in(cast.specialist)
    row = agenda_row(client, today_consult)
    assert 'data-action="check-in"' not in row
    assert 'data-action="room"' in row
    response = client.post("/agenda/check-in/", {"consultation": str(today_consult.external_id)})
    assert response.status_code == 403
    today_consult.refresh_from_db()
    assert today_consult.status == Consultation.Status.BOOKED


def test_an_outsider_cannot_check_in_another_stations_patient(
    cast: Cast, today_consult: Consultation
) -> None:
    form = {"consultation": str(today_consult.external_id)}
    assert logged_in(cast.outsider_nurse).post("/agenda/check-in/", form).status_code == 404
    assert logged_in(cast.nurse).post("/agenda/check-in/", {"consultation": "x"}).status_code == 404
    today_consult.refresh_from_db()
    assert today_consult.status == Consultation.Status.BOOKED


def test_a_cancelled_consult_cannot_be_checked_in_from_the_agenda(
    cast: Cast, today_consult: Consultation
) -> None:
    Consultation.objects.filter(pk=today_consult.pk).update(status=Consultation.Status.CANCELLED)
    client = logged_in(cast.nurse)
    row = agenda_row(client, today_consult)
    assert 'data-action="check-in"' not in row
    assert 'data-action="notes"' not in row
    response = client.post(
        "/agenda/check-in/", {"consultation": str(today_consult.external_id)}, follow=True
    )
    assert "msg error" in response.content.decode()
    today_consult.refresh_from_db()
    assert today_consult.status == Consultation.Status.CANCELLED


@override_settings(CHECK_IN_WINDOW_MINUTES=0)  # the consult starts in a minute: not yet open
def test_check_in_is_offered_only_inside_the_window(
    cast: Cast, today_consult: Consultation
) -> None:
    client = logged_in(cast.nurse)
    row = agenda_row(client, today_consult)
    assert 'data-action="check-in"' not in row
    assert 'data-action="room"' not in row  # nor the call, which opens through the check-in
    response = client.post(
        "/agenda/check-in/", {"consultation": str(today_consult.external_id)}, follow=True
    )
    assert "Chỉ tiếp nhận bệnh nhân từ 0 phút trước giờ bắt đầu" in response.content.decode()
    today_consult.refresh_from_db()
    assert today_consult.status == Consultation.Status.BOOKED


def test_a_consult_on_another_day_offers_no_check_in(
    cast: Cast, consultation: Consultation
) -> None:
    day = timezone.localtime(consultation.start).date()  # type: ignore[arg-type]
    page = logged_in(cast.nurse).get("/agenda/", {"day": day.isoformat()}).content.decode()
    row = page.split(f'data-consultation="{consultation.external_id}"', 1)[1].split("</tr>")[0]
    assert 'data-action="check-in"' not in row
    assert 'data-action="notes"' in row


# --- consult requests from the agenda: file one, answer the coordinator's question -------


def request_form(cast: Cast, **changes: str) -> dict[str, str]:
    return {
        "patient": str(cast.patient.external_id),
        "hospital": str(cast.hospital.external_id),
        "specialty": "cardiology",
        "reason": "Khó thở khi gắng sức, phù chân",
        "urgency": "urgent",
        "notes": "Đã làm điện tim tại trạm.",
    } | changes


def test_the_station_files_a_request_from_the_page(cast: Cast) -> None:
    factories.make_specialty("cardiology")
    response = logged_in(cast.nurse).post("/requests/file/", request_form(cast), follow=True)
    assert response.redirect_chain == [("/agenda/", 302)]
    req = ConsultRequest.objects.select_related("consultation").get()
    consult = req.consultation
    assert (req.state, req.notes) == ("waiting", "Đã làm điện tim tại trạm.")
    assert (consult.status, consult.urgency, consult.hospital) == (
        "requested",
        "urgent",
        cast.hospital,
    )
    assert (consult.patient, consult.created_by) == (cast.patient, cast.nurse)
    page = response.content.decode()
    assert "Bệnh viện Bạch Mai" in page  # the message, and the request in the agenda's list
    assert 'id="requests"' in page


@pytest.mark.parametrize(
    ("changes", "status", "said"),
    [
        ({"reason": "  "}, 400, "reason"),
        ({"urgency": "soon"}, 400, "urgency"),
        ({"notes": "x" * 4001}, 400, "notes"),
        ({"hospital": "not-a-uuid"}, 400, "hospital"),
        ({"specialty": "no-such-specialty"}, 400, "Chuyên khoa không hợp lệ."),
        ({"hospital": "00000000-0000-0000-0000-000000000000"}, 404, "Không tìm thấy bệnh viện."),
    ],
)
def test_a_request_the_api_would_refuse_is_refused_on_the_page_with_its_message(
    cast: Cast, changes: dict[str, str], status: int, said: str
) -> None:
    """The request serializer's message for a field (or the API's own), in Vietnamese, on
    the booking page with the form as it was filled in; nothing filed."""
    factories.make_specialty("cardiology")
    form = request_form(cast, **changes)
    response = logged_in(cast.nurse).post("/requests/file/", form)
    assert response.status_code == status
    if said in form:  # a field: its serializer message, translated
        field, said = said, serializer_message(RequestCreateSerializer, form, said, "vi")
        assert said != serializer_message(RequestCreateSerializer, form, field, "en")
    page = response.content.decode()
    assert escape(said) in page.split('id="request-error"', 1)[1]
    assert f">{escape(form['notes'])}</textarea>" in page  # what the nurse typed is kept
    assert not ConsultRequest.objects.exists()


def test_a_station_cannot_be_the_hospital_of_a_request(cast: Cast) -> None:
    factories.make_specialty("cardiology")
    form = request_form(cast, hospital=str(cast.station2.external_id))
    assert logged_in(cast.nurse).post("/requests/file/", form).status_code == 404
    assert not ConsultRequest.objects.exists()


def test_a_resent_request_form_files_one_request(cast: Cast) -> None:
    factories.make_specialty("cardiology")
    client = logged_in(cast.nurse)
    page = client.get(
        "/book/", {"patient": str(cast.patient.external_id), "specialty": "cardiology"}
    )
    form = request_form(
        cast, idempotency_key=form_key(page.content.decode().split('id="file-request"')[1])
    )
    first = client.post("/requests/file/", form, follow=True)
    again = client.post("/requests/file/", form, follow=True)
    assert ConsultRequest.objects.count() == 1
    assert [str(m) for m in again.context["messages"]] == [
        str(m) for m in first.context["messages"]
    ]


def test_only_the_patients_station_files_a_request(cast: Cast) -> None:
    factories.make_specialty("cardiology")
    form = request_form(cast)
    assert logged_in(cast.outsider_nurse).post("/requests/file/", form).status_code == 404
    assert logged_in(cast.specialist).post("/requests/file/", form).status_code == 403
    assert logged_in(cast.coordinator).post("/requests/file/", form).status_code == 403
    assert Client().post("/requests/file/", form).status_code == 302  # to the login page
    assert logged_in(cast.nurse).get("/requests/file/").status_code == 405
    assert not ConsultRequest.objects.exists()


@pytest.fixture
def asked(cast: Cast) -> ConsultRequest:
    """A request the coordinator asked more information about."""
    req = urgent_request(cast, notes="Huyết áp 150/90.")
    return consult_request_ask_info(
        request=req, message="Xin ảnh điện tim.", actor=cast.coordinator
    )


def test_the_station_answers_the_coordinators_question(cast: Cast, asked: ConsultRequest) -> None:
    client = logged_in(cast.nurse)
    agenda = client.get("/agenda/").content.decode()
    assert "Xin ảnh điện tim." in agenda  # the question, with its answer form
    form = {"request": str(asked.consultation.external_id), "message": "Ảnh điện tim gửi kèm."}
    response = client.post("/requests/answer/", form)
    assert (response.status_code, response["Location"]) == (302, "/agenda/")
    asked.refresh_from_db()
    assert asked.state == "waiting"  # back in the hospital's queue
    assert asked.notes == "Huyết áp 150/90.\n\nẢnh điện tim gửi kèm."


def test_an_empty_or_unknown_answer_changes_nothing(cast: Cast, asked: ConsultRequest) -> None:
    client = logged_in(cast.nurse)
    empty = {"request": str(asked.consultation.external_id), "message": "   "}
    assert client.post("/requests/answer/", empty).status_code == 302
    unknown = {"request": "00000000-0000-0000-0000-000000000000", "message": "Có"}
    assert client.post("/requests/answer/", unknown).status_code == 404
    assert client.post("/requests/answer/", {"message": "Có"}).status_code == 404
    asked.refresh_from_db()
    assert (asked.state, asked.notes) == ("needs_info", "Huyết áp 150/90.")


def test_only_the_requesting_station_answers(cast: Cast, asked: ConsultRequest) -> None:
    form = {"request": str(asked.consultation.external_id), "message": "Có"}
    assert logged_in(cast.outsider_nurse).post("/requests/answer/", form).status_code == 404
    assert logged_in(cast.other_coordinator).post("/requests/answer/", form).status_code == 404
    assert logged_in(cast.coordinator).post("/requests/answer/", form).status_code == 403
    assert Client().post("/requests/answer/", form).status_code == 302  # to the login page
    asked.refresh_from_db()
    assert (asked.state, asked.notes) == ("needs_info", "Huyết áp 150/90.")
