"""The reads that once left no audit entry: the requests API, the room page, the booking
page, the triage queue, the admin's patient pages. Each one now names the patient it showed
(the coverage of every route is tests/security/test_audit_coverage.py)."""

import pytest
from django.test import Client

from clinics.audit import Via
from clinics.models import AuditEntry, Consent, Patient, User
from clinics.services import consent_record
from consults.scheduling.models import ConsultRequest
from tests import factories
from tests.conftest import Cast
from tests.two_factor import login_verified

pytestmark = pytest.mark.django_db


def logged_in(user: User) -> Client:
    """Verified by a second factor, as the admin site requires."""
    client = Client()
    login_verified(client, user)
    return client


def reads_of(patient: Patient, **filters: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="read", patient_id=patient.external_id, **filters))


def _request(cast: Cast) -> ConsultRequest:
    return factories.make_request(
        patient=cast.patient, hospital=cast.hospital, actor=cast.nurse, reason="Đau ngực"
    )


@pytest.mark.parametrize("query", ["", "?open=true"])
def test_the_requests_list_audits_each_patient_shown(api, cast: Cast, query: str) -> None:
    _request(cast)
    response = api(cast.coordinator).get(f"/api/v1/requests/{query}")
    assert response.status_code == 200
    assert cast.patient.full_name in response.content.decode()
    [entry] = reads_of(cast.patient)
    assert (entry.actor, entry.channel) == (cast.coordinator, "http")


def test_a_request_read_is_audited_as_the_request(api, cast: Cast) -> None:
    req = _request(cast)
    consult_id = req.consultation.external_id
    assert api(cast.nurse).get(f"/api/v1/requests/{consult_id}/").status_code == 200
    [entry] = reads_of(cast.patient)
    assert (entry.object_type, entry.object_id, entry.actor) == (
        "consultrequest",
        str(consult_id),
        cast.nurse,
    )


def test_an_outsider_reading_a_request_gets_404_and_reads_nothing(api, cast: Cast) -> None:
    req = _request(cast)
    url = f"/api/v1/requests/{req.consultation.external_id}/"
    assert api(cast.outsider_nurse).get(url).status_code == 404
    assert reads_of(cast.patient) == []


@pytest.mark.parametrize("page", ["", "prejoin/"])
def test_the_room_page_is_audited(cast: Cast, consultation, page: str) -> None:
    response = logged_in(cast.specialist).get(f"/room/{consultation.external_id}/{page}")
    assert response.status_code == 200
    [entry] = reads_of(cast.patient)
    assert (entry.object_type, entry.object_id, entry.actor) == (
        "consultation",
        str(consultation.external_id),
        cast.specialist,
    )


def test_a_refused_room_page_reads_nothing(cast: Cast, consultation) -> None:
    assert logged_in(cast.coordinator).get(f"/room/{consultation.external_id}/").status_code == 403
    assert reads_of(cast.patient) == []


def test_the_booking_page_audits_the_patients_it_lists(cast: Cast) -> None:
    second = factories.make_patient(cast.station, full_name="Hoàng Văn Dũng")
    page = logged_in(cast.nurse).get("/book/").content.decode()
    assert "Hoàng Văn Dũng" in page
    assert len(reads_of(cast.patient)) == 1
    assert len(reads_of(second)) == 1
    assert reads_of(cast.other_patient) == []  # another station's: neither listed nor read


def test_the_triage_queue_audits_the_patients_it_shows(cast: Cast) -> None:
    _request(cast)
    assert cast.patient.full_name in logged_in(cast.coordinator).get("/triage/").content.decode()
    assert [e.actor for e in reads_of(cast.patient)] == [cast.coordinator]


def test_the_admin_patient_list_audits_each_patient(cast: Cast) -> None:
    response = logged_in(cast.admin).get("/admin/clinics/patient/")
    assert response.status_code == 200
    for patient in (cast.patient, cast.other_patient):
        [entry] = reads_of(patient)
        assert (entry.actor, entry.object_type) == (cast.admin, "patient")


def test_the_admin_patient_page_and_its_history_are_audited(cast: Cast) -> None:
    client = logged_in(cast.admin)
    for page in ("change", "history"):
        url = f"/admin/clinics/patient/{cast.patient.pk}/{page}/"
        assert client.get(url).status_code == 200
    assert len(reads_of(cast.patient)) == 2
    assert reads_of(cast.other_patient) == []


def test_a_station_delete_confirmation_audits_the_patients_it_lists(cast: Cast) -> None:
    response = logged_in(cast.admin).get(f"/admin/clinics/facility/{cast.station.pk}/delete/")
    assert response.status_code == 200
    assert cast.patient.full_name in response.content.decode()
    assert len(reads_of(cast.patient)) == 1
    assert reads_of(cast.other_patient) == []


def test_the_admin_consent_pages_name_only_their_patient(cast: Cast) -> None:
    consent = consent_record(
        patient=cast.patient,
        purpose=Consent.Purpose.RECORDING,
        status=Consent.Status.GIVEN,
        actor=cast.nurse,
        via=Via(),
    )
    client = logged_in(cast.admin)
    before = {p.pk: len(reads_of(p)) for p in (cast.patient, cast.other_patient)}
    assert client.get("/admin/clinics/consent/").status_code == 200
    change = client.get(f"/admin/clinics/consent/{consent.pk}/change/").content.decode()
    add = client.get("/admin/clinics/consent/add/").content.decode()
    assert cast.other_patient.full_name not in change + add  # no select of every patient
    assert len(reads_of(cast.patient)) == before[cast.patient.pk] + 2
    assert len(reads_of(cast.other_patient)) == before[cast.other_patient.pk]


def test_someone_not_staff_is_sent_to_the_admin_login_and_reads_nothing(cast: Cast) -> None:
    assert logged_in(cast.nurse).get("/admin/clinics/patient/").status_code == 302
    assert reads_of(cast.patient) == []
