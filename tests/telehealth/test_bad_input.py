"""What every request passes before a view: JSON depth and body size bounded, unknown API
paths, query parameters and page forms with text no column can hold. Each refusal is in the
documented shape (JSON for the API, a plain page for pages), and writes nothing."""

import json
from typing import Any

import pytest
from django.test import Client

from clinics.models import AuditEntry, Consent, Patient
from telehealth.parsers import MAX_DEPTH, depth
from telehealth.storable import text_errors, unstorable
from tests.clinics.test_patients_api import LIST, new_patient
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Patient, Consent, AuditEntry))


def api_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response.headers["Content-Type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["message"]
    return body


def nested(levels: int) -> str:
    return '{"full_name": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}"


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 999, 5_000, 100_000])
def test_a_body_nested_too_deep_is_malformed_request(cast: Cast, api: Any, levels: int) -> None:
    before = counts()
    response = api(cast.nurse).post(LIST, nested(levels), content_type="application/json")
    api_error(response, 400, "malformed_request")
    assert counts() == before


def test_a_body_at_the_depth_limit_reaches_the_serializer(cast: Cast, api: Any) -> None:
    response = api(cast.nurse).post(LIST, nested(MAX_DEPTH), content_type="application/json")
    assert api_error(response, 400, "invalid")["fields"].keys() >= {"full_name"}


def test_a_raw_nul_byte_is_not_json(cast: Cast, api: Any) -> None:
    body = json.dumps(new_patient(full_name="Lan")).replace("Lan", "La\x00n")
    response = api(cast.nurse).post(LIST, body, content_type="application/json")
    api_error(response, 400, "malformed_request")


def test_an_escape_in_another_charset_is_found(cast: Cast, api: Any) -> None:
    before = counts()
    body = json.dumps(new_patient(full_name="Lan\x00")).encode("utf-16")
    response = api(cast.nurse).post(LIST, body, content_type="application/json; charset=utf-16")
    assert list(api_error(response, 400, "invalid")["fields"]) == ["full_name"]
    assert counts() == before


def test_a_backslash_before_u0000_is_plain_text(cast: Cast, api: Any) -> None:
    body = json.dumps(new_patient(address="Thôn \\u0000 [ghi chú]"))
    assert api(cast.nurse).post(LIST, body, content_type="application/json").status_code == 201
    assert Patient.objects.get(address__startswith="Thôn").address == "Thôn \\u0000 [ghi chú]"


def test_brackets_inside_text_do_not_count_as_depth(cast: Cast, api: Any) -> None:
    body = json.dumps(new_patient(address="[" * 200))
    assert api(cast.nurse).post(LIST, body, content_type="application/json").status_code == 201


def test_a_body_over_the_limit_is_413_request_too_large(
    cast: Cast, api: Any, settings: Any
) -> None:
    before = counts()
    body = json.dumps(new_patient(address="x" * 3_000_000))
    response = api(cast.nurse).post(LIST, body, content_type="application/json")
    error = api_error(response, 413, "request_too_large")
    assert error["max_bytes"] == settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 1024 * 1024
    assert "1024 KiB" in error["message"]
    assert counts() == before


def test_a_page_form_over_the_limit_is_a_plain_413_page(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.nurse)
    before = counts()
    response = client.post("/patients/", {"full_name": "x" * 2_000_000})
    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Yêu cầu quá lớn: tối đa 1024 KiB" in response.content.decode()
    assert counts() == before


def test_an_unknown_api_path_is_the_json_404(cast: Cast, api: Any) -> None:
    api_error(api(cast.nurse).get("/api/v1/no-such-thing/"), 404, "not_found")
    api_error(Client().post("/api/v2/patients/"), 404, "not_found")


def test_an_unknown_page_stays_an_html_404(cast: Cast) -> None:
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/patients/?q=%00", "q"),
        ("/api/v1/patients/?q=Hoa&q=%00", "q"),
        ("/api/v1/specialists/?specialty=%00", "specialty"),
        ("/api/v1/facilities/?province=H%00", "province"),
        ("/api/v1/consultations/?status=%00", "status"),
    ],
)
def test_a_nul_in_a_query_parameter_is_a_field_error_on_it(
    cast: Cast, api: Any, path: str, param: str
) -> None:
    before = counts()
    body = api_error(api(cast.nurse).get(path), 400, "invalid")
    assert list(body["fields"]) == [param]
    assert counts() == before


def test_a_nul_in_a_page_search_is_a_400_page(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.nurse)
    response = client.get("/patients/?q=%00")
    assert response.status_code == 400
    assert "Có ký tự không lưu được (U+0000)" in response.content.decode()


def test_a_nul_in_a_page_form_writes_nothing(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.nurse)
    before = counts()
    response = client.post("/patients/", {"full_name": "Lan\x00", "date_of_birth": "01/01/1990"})
    assert response.status_code == 400
    assert counts() == before


def test_text_errors_name_every_bad_string_by_its_path() -> None:
    value = {"a": ["ok", "x\x00"], "b": {"c\ud800": "ok", "d": "\udfff"}, "e": 3}
    assert sorted(text_errors(value)) == ["a.1", "b.c\ufffd", "b.d"]
    assert text_errors({"ok": ["Sầm Văn Tuấn", {"x": "🙂"}]}) == {}
    assert unstorable("a\ud83d\ude42") == "U+D83D"  # a pair split by a bad decoder
    assert unstorable("🙂") is None


def test_depth_counts_arrays_and_objects_without_recursion() -> None:
    deep: Any = []
    for _ in range(50_000):
        deep = [deep]
    assert depth(deep) == 50_001
    assert depth({"a": [1, {"b": []}]}) == 4
    assert depth("text") == 0
