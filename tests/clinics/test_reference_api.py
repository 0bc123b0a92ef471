"""Facilities, specialties and specialists: reference data every signed-in user reads."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from clinics.models import Membership
from tests import factories
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def test_facilities_are_listed_and_filtered_by_kind(cast: Cast, api: Any) -> None:
    body = api(cast.nurse).get("/api/v1/facilities/", {"kind": "central_hospital"}).json()
    assert {f["code"] for f in body["results"]} == {"BM", "CR"}


def test_a_facility_is_found_by_its_public_id(cast: Cast, api: Any) -> None:
    client = api(cast.nurse)
    ok = client.get(f"/api/v1/facilities/{cast.hospital.external_id}/")
    assert ok.json()["name"] == "Bệnh viện Bạch Mai"
    assert client.get("/api/v1/facilities/12/").status_code == 404


def test_the_common_specialties_are_there(cast: Cast, api: Any) -> None:
    codes = {s["code"] for s in api(cast.nurse).get("/api/v1/specialties/").json()["results"]}
    assert {"cardiology", "pediatrics", "traditional_medicine"} <= codes


def test_specialists_filter_by_specialty_and_facility(cast: Cast, api: Any) -> None:
    derm = factories.make_user(Membership.Role.SPECIALIST, cast.hospital, username="derm")
    derm.memberships.get().specialties.set([factories.make_specialty("dermatology")])
    client = api(cast.nurse)
    cardio = client.get("/api/v1/specialists/", {"specialty": "cardiology"}).json()["results"]
    assert {s["id"] for s in cardio} == {
        str(cast.specialist.external_id),
        str(cast.other_specialist.external_id),
    }
    at_bm = client.get(
        "/api/v1/specialists/",
        {"specialty": "cardiology", "facility": str(cast.hospital.external_id)},
    ).json()["results"]
    assert [s["id"] for s in at_bm] == [str(cast.specialist.external_id)]
    assert at_bm[0]["facility"]["name"] == "Bệnh viện Bạch Mai"
    assert at_bm[0]["licence_number"]
    assert client.get("/api/v1/specialists/", {"facility": "x"}).json()["count"] == 0


def test_reference_data_needs_a_login(cast: Cast) -> None:
    for url in ["/api/v1/facilities/", "/api/v1/specialties/", "/api/v1/specialists/"]:
        assert APIClient().get(url).status_code == 401
