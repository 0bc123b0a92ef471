"""Bad input gets the documented error shape with a stable code, and writes nothing."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from clinics.models import AuditEntry, Consent, IdempotencyRecord, Patient
from tests import factories
from tests.clinics.test_patients_api import LIST, detail, new_patient
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def nothing_written(cast: Cast) -> Iterator[None]:
    """The test body must leave patients, consents, audit and idempotency rows unchanged."""
    before = [m.objects.count() for m in (Patient, Consent, AuditEntry, IdempotencyRecord)]
    yield
    after = [m.objects.count() for m in (Patient, Consent, AuditEntry, IdempotencyRecord)]
    assert after == before


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= {"code", "message", "fields"}
    assert body["code"] == code
    assert body["message"]
    if field:
        assert field in body["fields"], body


def test_malformed_json(cast: Cast, api: Any, nothing_written: None) -> None:
    response = api(cast.nurse).post(LIST, "{not json", content_type="application/json")
    assert_error(response, 400, "malformed_request")


def test_unknown_fields(cast: Cast, api: Any, nothing_written: None) -> None:
    response = api(cast.nurse).post(LIST, new_patient(blood_group="O"), format="json")
    assert_error(response, 400, "unknown_field", "blood_group")


def test_wrong_types(cast: Cast, api: Any, nothing_written: None) -> None:
    response = api(cast.nurse).post(
        LIST, new_patient(date_of_birth="17/05/1980", sex=3, full_name=["x"]), format="json"
    )
    assert_error(response, 400, "invalid", "date_of_birth")
    assert {"sex", "full_name"} <= set(response.json()["fields"])


@pytest.mark.parametrize(
    ("citizen_id", "message_part"),
    [("12345", "12"), ("99918012345a", "12"), ("999180123456", "999")],
)
def test_an_invalid_cccd(
    cast: Cast, api: Any, nothing_written: None, citizen_id: str, message_part: str
) -> None:
    response = api(cast.nurse).post(LIST, new_patient(citizen_id=citizen_id), format="json")
    assert_error(response, 400, "invalid", "citizen_id")
    assert message_part in response.json()["fields"]["citizen_id"][0]


def test_a_cccd_that_contradicts_the_year_of_birth(
    cast: Cast, api: Any, nothing_written: None
) -> None:
    body = new_patient(citizen_id=factories.citizen_id_for(factories.date(1990, 1, 1)))
    assert_error(api(cast.nurse).post(LIST, body, format="json"), 400, "invalid", "citizen_id")


@pytest.mark.parametrize("number", ["DN479012345678", "D14790123456789", "DN9790123456789"])
def test_an_invalid_bhyt(cast: Cast, api: Any, nothing_written: None, number: str) -> None:
    response = api(cast.nurse).post(LIST, new_patient(insurance_number=number), format="json")
    assert_error(response, 400, "invalid", "insurance_number")


def test_a_child_without_a_guardian(cast: Cast, api: Any, nothing_written: None) -> None:
    born = factories.date(2021, 6, 1)
    body = new_patient(date_of_birth=born.isoformat(), citizen_id=factories.citizen_id_for(born))
    assert_error(api(cast.nurse).post(LIST, body, format="json"), 400, "invalid", "guardian_name")


def test_a_duplicate_cccd_at_one_station(cast: Cast, api: Any, nothing_written: None) -> None:
    body = new_patient(
        citizen_id=cast.patient.citizen_id, date_of_birth=cast.patient.date_of_birth.isoformat()
    )
    assert_error(api(cast.nurse).post(LIST, body, format="json"), 409, "duplicate_citizen_id")


def test_the_same_cccd_at_another_station_is_allowed(cast: Cast, api: Any) -> None:
    # Stations keep their own registers; a person may be registered at two.
    body = new_patient(
        citizen_id=cast.patient.citizen_id, date_of_birth=cast.patient.date_of_birth.isoformat()
    )
    assert api(cast.outsider_nurse).post(LIST, body, format="json").status_code == 201


def test_a_bad_consent_purpose_records_no_patient(
    cast: Cast, api: Any, nothing_written: None
) -> None:
    response = api(cast.nurse).post(LIST, new_patient(consents=["marketing"]), format="json")
    assert_error(response, 400, "invalid", "consents.0")


def test_a_missing_token(cast: Cast, nothing_written: None) -> None:
    assert_error(APIClient().get(LIST), 401, "not_authenticated")


def test_an_unknown_or_expired_token(cast: Cast, nothing_written: None) -> None:
    client = APIClient(HTTP_AUTHORIZATION="Token 0123456789abcdef")
    assert_error(client.get(LIST), 401, "invalid_token")


def test_a_session_post_without_csrf(cast: Cast, nothing_written: None) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(cast.nurse)
    assert_error(client.post(LIST, new_patient(), format="json"), 403, "csrf_failed")


def test_a_session_post_with_csrf_works(cast: Cast) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(cast.nurse)
    client.get("/login/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    response = client.post(LIST, new_patient(), format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201


def test_an_update_with_a_bad_field_changes_nothing(cast: Cast, api: Any) -> None:
    response = api(cast.nurse).patch(
        detail(cast.patient), {"phone": "12", "address": "Mới"}, format="json"
    )
    assert_error(response, 400, "invalid", "phone")
    cast.patient.refresh_from_db()
    assert cast.patient.address == ""


def post_raw(client: APIClient, body: dict[str, Any]) -> Any:
    """json.dumps escapes a lone surrogate as \\ud800, as a hostile client would send it
    (the test client's own encoder cannot encode one)."""
    return client.post(LIST, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("bad", ["Lan\x00", "Lan\ud800", "\udfffLan"])
@pytest.mark.parametrize("field", ["full_name", "address", "ethnicity"])
def test_text_the_database_cannot_store_is_a_field_error(
    cast: Cast, api: Any, nothing_written: None, field: str, bad: str
) -> None:
    response = post_raw(api(cast.nurse), new_patient(**{field: bad}))
    assert_error(response, 400, "invalid", field)
    assert "U+" in response.json()["fields"][field][0]


def test_an_unstorable_consent_purpose_is_named_by_its_index(
    cast: Cast, api: Any, nothing_written: None
) -> None:
    response = post_raw(api(cast.nurse), new_patient(consents=["telemedicine", "rec\x00"]))
    assert_error(response, 400, "invalid", "consents.1")


def test_an_unstorable_field_name_is_refused_without_echoing_it(
    cast: Cast, api: Any, nothing_written: None
) -> None:
    response = post_raw(api(cast.nurse), {**new_patient(), "a\ud800": 1})
    assert_error(response, 400, "invalid", "a\ufffd")


def test_the_message_is_in_vietnamese_by_default_and_english_on_request(
    cast: Cast, api: Any, nothing_written: None
) -> None:
    vi = post_raw(api(cast.nurse), new_patient(full_name="A\x00"))
    assert vi.json()["fields"]["full_name"] == [
        "Có ký tự không lưu được (U+0000). Hãy xoá ký tự này."
    ]
    en = api(cast.nurse).post(
        LIST,
        json.dumps(new_patient(full_name="A\x00")),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert en.json()["fields"]["full_name"] == [
        "Contains a character that cannot be stored (U+0000). Remove it."
    ]


def test_a_nul_in_the_search_is_a_field_error_on_q(cast: Cast, api: Any) -> None:
    assert_error(api(cast.nurse).get(LIST + "?q=%00"), 400, "invalid", "q")


@pytest.mark.parametrize("count", [2, 1000])
def test_a_purpose_listed_twice_records_nothing(
    cast: Cast, api: Any, nothing_written: None, count: int
) -> None:
    response = post_raw(api(cast.nurse), new_patient(consents=["telemedicine"] * count))
    assert_error(response, 400, "invalid", "consents")


def test_each_purpose_once_records_each_once(cast: Cast, api: Any) -> None:
    body = new_patient(consents=["telemedicine", "recording"])
    assert post_raw(api(cast.nurse), body).status_code == 201
    assert sorted(Consent.objects.values_list("purpose", flat=True)) == [
        "recording",
        "telemedicine",
    ]


@pytest.mark.parametrize(
    ("born", "message"),
    [
        ("0001-01-01", "Ngày sinh không thể trước năm 1900: hãy kiểm tra lại năm."),
        ("1899-12-31", "Ngày sinh không thể trước năm 1900: hãy kiểm tra lại năm."),
        ("2999-01-01", "Ngày sinh không thể ở tương lai."),
        ("1990-02-31", "Ngày này không có thật."),
    ],
)
def test_a_date_of_birth_out_of_bounds_is_refused_alone(
    cast: Cast, api: Any, nothing_written: None, born: str, message: str
) -> None:
    # No CCCD, and no guardian: only the date may be blamed, not the age it would give.
    response = post_raw(api(cast.nurse), new_patient(date_of_birth=born, citizen_id=""))
    assert_error(response, 400, "invalid", "date_of_birth")
    assert response.json()["fields"] == {"date_of_birth": [message]}


def test_the_first_of_january_1900_and_today_are_accepted(cast: Cast, api: Any) -> None:
    oldest = new_patient(date_of_birth="1900-01-01", citizen_id="")
    assert post_raw(api(cast.nurse), oldest).status_code == 201
    newborn = new_patient(
        full_name="Bé Lan",
        date_of_birth=timezone.localdate().isoformat(),
        citizen_id="",
        guardian_name="Hoàng Văn Minh",
        insurance_number="",  # not the first one's card and phone: another person
        phone="",
    )
    assert post_raw(api(cast.nurse), newborn).status_code == 201


def test_an_update_to_a_date_before_1900_changes_nothing(cast: Cast, api: Any) -> None:
    response = api(cast.nurse).patch(
        detail(cast.patient), {"date_of_birth": "1890-01-01"}, format="json"
    )
    assert_error(response, 400, "invalid", "date_of_birth")
    born = cast.patient.date_of_birth
    cast.patient.refresh_from_db()
    assert cast.patient.date_of_birth == born


@pytest.mark.parametrize(
    "char", ["\u200b", "\u200d", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069", "\ufeff"]
)
@pytest.mark.parametrize("field", ["full_name", "guardian_name"])
def test_a_name_with_an_invisible_character_is_refused(
    cast: Cast, api: Any, nothing_written: None, field: str, char: str
) -> None:
    response = post_raw(api(cast.nurse), new_patient(**{field: f"Hoàng{char} Lan"}))
    assert_error(response, 400, "invalid", field)
    assert f"U+{ord(char):04X}" in response.json()["fields"][field][0]


def test_a_nul_in_the_idempotency_key_is_refused(
    cast: Cast, api: Any, nothing_written: None
) -> None:
    response = api(cast.nurse).post(
        LIST,
        json.dumps(new_patient()),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="retry\x00-1",
    )
    assert_error(response, 400, "invalid_idempotency_key")
    assert "U+0000" in response.json()["message"]
