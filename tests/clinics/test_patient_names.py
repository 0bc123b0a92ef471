"""Vietnamese names: search without tones or case, and the Vietnamese alphabetical order,
alike on PostgreSQL (ICU `vi-x-icu`) and SQLite (the collation clinics.names installs)."""

from typing import Any

import pytest
from django.db import connection

from clinics.models import Patient
from clinics.names import fold_name, sort_key
from clinics.selectors import patient_list, station_patient_list
from tests import factories
from tests.conftest import Cast

NAMES = ["Lương Văn Tú", "Dương Thị Mai", "Lục Văn Sáng", "Đào Thị Hằng", "Lê Thị Ánh", "Lư Văn An"]
IN_ORDER = [
    "Dương Thị Mai",
    "Đào Thị Hằng",
    "Lê Thị Ánh",
    "Lục Văn Sáng",
    "Lư Văn An",
    "Lương Văn Tú",
]


def test_fold_name_drops_tones_marks_and_case() -> None:
    assert fold_name("  Lương   Văn TÚ ") == "luong van tu"
    assert fold_name("Đặng Thị Ngọc") == "dang thi ngoc"
    # The decomposed form a phone keyboard may send folds the same.
    assert fold_name("Lu\u031bo\u031bng") == fold_name("Lương")


def test_sort_key_follows_the_vietnamese_alphabet() -> None:
    assert sorted(NAMES, key=sort_key) == IN_ORDER
    assert sort_key("Lục") < sort_key("Lương")
    assert sort_key("Dương") < sort_key("Đào") < sort_key("Em")
    # Tones only decide between otherwise equal letters: "Ma" < "Mà" < "Mả" < "Mã" < "Má" < "Mạ".
    assert sorted(["Mạ", "Má", "Mã", "Mả", "Mà", "Ma"], key=sort_key) == [
        "Ma",
        "Mà",
        "Mả",
        "Mã",
        "Má",
        "Mạ",
    ]


@pytest.fixture
def named(cast: Cast) -> Cast:
    Patient.objects.filter(station=cast.station).delete()
    for name in NAMES:
        factories.make_patient(cast.station, full_name=name)
    return cast


@pytest.mark.django_db
def test_patients_are_listed_in_vietnamese_order(named: Cast) -> None:
    assert [p.full_name for p in patient_list(named.nurse)] == IN_ORDER
    assert [p.full_name for p in station_patient_list(named.nurse)] == IN_ORDER


@pytest.mark.django_db
def test_the_order_uses_the_databases_collation(named: Cast) -> None:
    sql = str(patient_list(named.nurse).query)
    assert 'COLLATE "vi-x-icu"' in sql, (connection.vendor, sql)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("luong", ["Lương Văn Tú"]),
        ("LUONG VAN", ["Lương Văn Tú"]),
        ("dao thi", ["Đào Thị Hằng"]),
        ("Đào", ["Đào Thị Hằng"]),
        ("van", ["Lục Văn Sáng", "Lư Văn An", "Lương Văn Tú"]),
        ("thi anh", ["Lê Thị Ánh"]),
        ("nobody", []),
    ],
)
def test_the_search_ignores_tones_and_case(named: Cast, query: str, found: list[str]) -> None:
    assert [p.full_name for p in patient_list(named.nurse, query=query)] == found


@pytest.mark.django_db
def test_the_folded_name_follows_an_edit(cast: Cast, api: Any) -> None:
    response = api(cast.nurse).patch(
        f"/api/v1/patients/{cast.patient.external_id}/",
        {"full_name": "Lường Thị Hoa"},
        format="json",
    )
    assert response.status_code == 200
    cast.patient.refresh_from_db()
    assert cast.patient.name_folded == "luong thi hoa"
    assert [p.full_name for p in patient_list(cast.nurse, query="luong")] == ["Lường Thị Hoa"]


@pytest.mark.django_db
def test_the_search_over_the_api_ignores_tones(named: Cast, api: Any) -> None:
    body = api(named.nurse).get("/api/v1/patients/", {"q": "luc van"}).json()
    assert [p["full_name"] for p in body["results"]] == ["Lục Văn Sáng"]


@pytest.mark.django_db
def test_the_database_sorts_tones_and_case_as_sort_key_does(cast: Cast) -> None:
    Patient.objects.filter(station=cast.station).delete()
    names = ["Mạ", "Má", "Mã", "Mả", "Mà", "Ma", "ma", "Lư", "Lục Văn", "Lu", "Lê An", "Lêa"]
    for name in names:
        factories.make_patient(cast.station, full_name=name)
    listed = [p.full_name for p in patient_list(cast.nurse)]
    assert listed == sorted(names, key=sort_key)
    assert listed[:5] == ["Lê An", "Lêa", "Lu", "Lục Văn", "Lư"]
