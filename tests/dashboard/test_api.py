"""GET /api/v1/dashboard/ and /api/v1/dashboard.csv: who may, bad input, the CSV."""

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from clinics.models import User
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

API = "/api/v1/dashboard/"
CSV = "/api/v1/dashboard.csv"
MARCH = {"from": "2026-02", "to": "2026-03"}
Api = Callable[[User | None], APIClient]


def test_it_gives_the_rows_to_an_administrator(march: Cast, api: Api) -> None:
    response = api(march.admin).get(API, MARCH)
    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"], body["group"]) == ("2026-02", "2026-03", "station")
    assert body["urgent_target_minutes"] == 120
    row = next(r for r in body["rows"] if r["facility"]["code"] == "TLG")
    assert row["month"] == "2026-03"
    assert row["facility"]["id"] == str(march.station.external_id)
    assert (row["booked"], row["completed"], row["failed"]) == (5, 1, 1)
    assert (row["no_show_station"], row["no_show_specialist"]) == (1, 1)
    assert (row["median_wait_hours"], row["median_rtt_ms"], row["audio_only_share"]) == (
        18.0,
        175.0,
        0.5,
    )
    assert row["urgent_within_target_share"] == 0.3333


def test_an_admin_membership_sees_the_whole_programme(
    march: Cast, api: Api, admin_membership: User
) -> None:
    response = api(admin_membership).get(API, {**MARCH, "group": "hospital"})
    assert response.status_code == 200
    assert response.json()["provinces"] is None
    assert {r["facility"]["code"] for r in response.json()["rows"]} == {"BM", "CR"}


@pytest.mark.parametrize(
    "who", ["nurse", "outsider_nurse", "specialist", "other_specialist", "coordinator"]
)
@pytest.mark.parametrize("url", [API, CSV])
def test_it_is_not_found_for_everyone_else(march: Cast, api: Api, who: str, url: str) -> None:
    response = api(getattr(march, who)).get(url, MARCH)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("url", [API, CSV])
def test_it_asks_an_anonymous_caller_to_log_in(cast: Cast, api: Api, url: str) -> None:
    assert api(None).get(url).status_code == 401


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"from": "2026-13"}, "invalid_month", "from"),
        ({"to": "2026-3"}, "invalid_month", "to"),
        ({"to": "26-03"}, "invalid_month", "to"),
        ({"to": ""}, "invalid_month", "to"),
        ({"from": "1999-12"}, "invalid_month", "from"),
        ({"from": "2026-04", "to": "2026-03"}, "invalid_month", "to"),
        ({"from": "2024-01", "to": "2026-03"}, "invalid_month", "to"),
        ({"group": "province"}, "invalid_query", "group"),
        ({"group": ""}, "invalid_query", "group"),
    ],
)
def test_it_rejects_bad_months_and_groups(
    cast: Cast, api: Api, params: dict[str, str], code: str, field: str
) -> None:
    response = api(cast.admin).get(API, params)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert field in response.json()["fields"]


def test_it_rejects_a_repeated_parameter(cast: Cast, api: Api) -> None:
    response = api(cast.admin).get(f"{API}?to=2026-03&to=2026-04")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_query"


def test_it_defaults_to_the_last_twelve_months(cast: Cast, api: Api) -> None:
    body = api(cast.admin).get(API).json()
    first, last = (int(y) * 12 + int(m) for y, m in (body[k].split("-") for k in ("from", "to")))
    assert last - first == 11
    assert body["rows"] == []


def _csv(response: Any) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads UTF-8 only with the BOM
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_csv_has_vietnamese_headers_and_the_same_figures(march: Cast, api: Api) -> None:
    response = api(march.admin).get(CSV, MARCH)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="dashboard-station-2026-02-2026-03.csv"' in response["Content-Disposition"]
    header, *rows = _csv(response)
    assert header[:3] == ["Tháng", "Mã cơ sở", "Cơ sở"]
    assert "Vắng mặt (trạm)" in header
    table = [dict(zip(header, r, strict=True)) for r in rows]
    ta_lung = next(r for r in table if r["Mã cơ sở"] == "TLG")
    assert ta_lung["Tháng"] == "03/2026"
    assert ta_lung["Cơ sở"] == "Trạm Y tế thị trấn Tà Lùng"
    assert ta_lung["Ca hội chẩn đã đặt lịch"] == "5"
    assert ta_lung["Đã hoàn thành"] == "1"
    assert ta_lung["Trung vị RTT (ms)"] == "175.0"
    assert [r["Tháng"] for r in table if r["Mã cơ sở"] == "PHA"] == ["02/2026", "03/2026"]


def test_the_csv_switches_to_english(march: Cast, api: Api) -> None:
    response = api(march.admin).get(CSV, MARCH, HTTP_ACCEPT_LANGUAGE="en")
    header = _csv(response)[0]
    assert header[:3] == ["Month", "Facility code", "Facility"]
    assert "No-show (station)" in header


def test_an_empty_figure_is_an_empty_csv_cell(march: Cast, api: Api) -> None:
    header, *rows = _csv(api(march.admin).get(CSV, MARCH))
    phuc_sen = dict(zip(header, rows[0], strict=True))
    assert phuc_sen["Mã cơ sở"] == "PHA"
    assert phuc_sen["Trung vị RTT (ms)"] == ""
