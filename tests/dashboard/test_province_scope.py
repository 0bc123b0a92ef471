"""A programme manager sees their province's figures, and nothing else.

The crafted month (conftest.march) is at two Cao Bằng stations; `lang_son` adds a station of
another province whose consults and requests go to the same hospital in the same months.
"""

import csv
import io
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from clinics.models import Facility, Membership, User
from consults.models import Consultation
from frontend.views_dashboard import _display
from tests import factories
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

API = "/api/v1/dashboard/"
CSV = "/api/v1/dashboard.csv"
MARCH = {"from": "2026-02", "to": "2026-03"}
Api = Callable[[User | None], APIClient]
FIGURES = [
    "requested",
    "booked",
    "completed",
    "cancelled",
    "no_show_station",
    "no_show_specialist",
    "failed",
    "median_wait_hours",
    "quality_consults",
    "median_rtt_ms",
    "median_loss_pct",
    "audio_only_share",
    "urgent_requests",
    "urgent_within_target",
    "urgent_within_target_share",
]


def rows(api: Api, user: User, group: str) -> list[dict[str, Any]]:
    response = api(user).get(API, {**MARCH, "group": group})
    assert response.status_code == 200
    return response.json()["rows"]


def codes(found: list[dict[str, Any]]) -> set[str]:
    return {r["facility"]["code"] for r in found}


@pytest.mark.parametrize("group", ["station", "hospital"])
def test_the_figures_are_those_of_the_programme_without_the_other_provinces(
    march: Cast, lang_son: Facility, cao_bang_manager: User, api: Api, group: str
) -> None:
    seen_by_manager = rows(api, cao_bang_manager, group)
    assert seen_by_manager != rows(api, march.admin, group)  # Lạng Sơn counts for the admin
    # The oracle: the whole programme's figures once the other province's consults are gone.
    Consultation.objects.filter(station=lang_son).delete()
    assert seen_by_manager == rows(api, march.admin, group)


def test_the_other_provinces_manager_sees_only_its_station_and_its_share_of_the_hospital(
    march: Cast, lang_son: Facility, lang_son_manager: User, api: Api
) -> None:
    stations = rows(api, lang_son_manager, "station")
    assert codes(stations) == {"DDG"}
    march_row = next(r for r in stations if r["month"] == "2026-03")
    assert (march_row["booked"], march_row["completed"], march_row["failed"]) == (3, 1, 1)
    assert (march_row["requested"], march_row["urgent_requests"]) == (2, 2)
    assert march_row["urgent_within_target"] == 1
    hospitals = rows(api, lang_son_manager, "hospital")
    assert codes(hospitals) == {"BM"}  # Chợ Rẫy serves only Cao Bằng's Phúc Sen
    bach_mai = next(r for r in hospitals if r["month"] == "2026-03")
    assert (bach_mai["booked"], bach_mai["median_rtt_ms"]) == (3, 800.0)


def test_the_api_names_the_scope(
    march: Cast, lang_son: Facility, lang_son_manager: User, api: Api
) -> None:
    assert api(lang_son_manager).get(API, MARCH).json()["provinces"] == ["Lạng Sơn"]
    assert api(march.admin).get(API, MARCH).json()["provinces"] is None


class _Table(HTMLParser):
    """The text of each cell of the page's #dashboard-table body, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_body = self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag == "td" and self._in_body:
            self._in_cell = True
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_body = self._in_body and tag != "tbody"
        self._in_cell = self._in_cell and tag != "td"

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.rows[-1][-1] += data


@pytest.mark.parametrize("group", ["station", "hospital"])
def test_the_api_the_csv_and_the_page_agree(
    march: Cast, lang_son: Facility, cao_bang_manager: User, api: Api, group: str
) -> None:
    params = {**MARCH, "group": group}
    json_rows = rows(api, cao_bang_manager, group)
    text = api(cao_bang_manager).get(CSV, params).content.decode("utf-8").lstrip("\ufeff")
    csv_rows = list(csv.reader(io.StringIO(text)))[1:]
    client = Client()
    client.force_login(cao_bang_manager)
    page = _Table()
    page.feed(client.get("/dashboard/", params).content.decode())

    def month(r: dict[str, Any]) -> str:
        return f"{r['month'][5:]}/{r['month'][:4]}"

    assert csv_rows == [
        [month(r), r["facility"]["code"], r["facility"]["name"]]
        + ["" if r[k] is None else str(r[k]) for k in FIGURES]
        for r in json_rows
    ]
    assert page.rows == [
        [month(r), r["facility"]["name"]] + [_display(k, r[k]) for k in FIGURES] for r in json_rows
    ]
    assert len(json_rows) >= 2


def test_another_provinces_station_never_appears(
    march: Cast, lang_son: Facility, cao_bang_manager: User, lang_son_manager: User, api: Api
) -> None:
    for manager, hidden in (
        (cao_bang_manager, ["Đồng Đăng", "DDG"]),
        (lang_son_manager, ["Tà Lùng", "TLG", "Phúc Sen", "PHA"]),
    ):
        client = Client()
        client.force_login(manager)
        for group in ("station", "hospital"):
            params = {**MARCH, "group": group}
            answers = [
                api(manager).get(API, params).content.decode(),
                api(manager).get(CSV, params).content.decode(),
                client.get("/dashboard/", params).content.decode(),
            ]
            for answer in answers:
                assert [name for name in hidden if name in answer] == []


def test_the_page_says_which_province_it_counts(
    march: Cast, lang_son: Facility, lang_son_manager: User
) -> None:
    client = Client()
    client.force_login(lang_son_manager)
    html = client.get("/dashboard/", MARCH).content.decode()
    assert "Số liệu gồm các ca hội chẩn của các trạm y tế thuộc: Lạng Sơn." in html
    assert "Trạm Y tế thị trấn Đồng Đăng" in html
    assert 'href="/dashboard/"' in client.get("/").content.decode()


def test_no_patient_and_no_consult_is_visible_to_a_programme_manager(
    march: Cast, lang_son: Facility, cao_bang_manager: User, api: Api
) -> None:
    client = api(cao_bang_manager)
    for listing in ("/api/v1/patients/", "/api/v1/consultations/", "/api/v1/requests/"):
        assert client.get(listing).json()["count"] == 0
    consult = Consultation.objects.filter(station=march.station).first()
    assert consult is not None
    patient, consult_id = march.patient.external_id, consult.external_id
    for url in (
        f"/api/v1/patients/{patient}/",
        f"/api/v1/patients/{patient}/consents/",
        f"/api/v1/consultations/{consult_id}/",
        f"/api/v1/consultations/{consult_id}/notes/",
        f"/api/v1/consultations/{consult_id}/notes/report/",
    ):
        assert client.get(url).status_code == 404, url
    pages = Client()
    pages.force_login(cao_bang_manager)
    assert pages.get(f"/patients/{patient}/").status_code == 404
    assert march.patient.full_name not in pages.get("/patients/").content.decode()


@pytest.mark.parametrize(
    ("kind", "active"),
    [(Facility.Kind.PROVINCIAL_HOSPITAL, True), (Facility.Kind.HEALTH_DEPARTMENT, False)],
)
def test_the_role_counts_only_when_active_at_a_health_department(
    cast: Cast, api: Api, kind: str, active: bool
) -> None:
    facility = factories.make_facility(kind, province="Cao Bằng")
    user = factories.make_user(Membership.Role.PROGRAMME_MANAGER, facility)
    Membership.objects.filter(user=user).update(is_active=active)
    assert api(user).get(API).status_code == 404
    client = Client()
    client.force_login(user)
    assert client.get("/dashboard/").status_code == 404
    assert 'href="/dashboard/"' not in client.get("/").content.decode()


def test_a_manager_of_two_provinces_sees_both(
    march: Cast, lang_son: Facility, cao_bang_manager: User, api: Api
) -> None:
    department = factories.make_facility(
        Facility.Kind.HEALTH_DEPARTMENT, name="Sở Y tế Lạng Sơn", province="Lạng Sơn"
    )
    Membership.objects.create(
        user=cao_bang_manager, facility=department, role=Membership.Role.PROGRAMME_MANAGER
    )
    body = api(cao_bang_manager).get(API, MARCH).json()
    assert body["provinces"] == ["Cao Bằng", "Lạng Sơn"]
    assert codes(body["rows"]) == {"TLG", "PHA", "DDG"}
