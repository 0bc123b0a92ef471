"""Phone numbers: parsed (region VN), stored in E.164, shown in national form; the migration
that rewrote the old rows keeps every value."""

from collections.abc import Callable
from importlib import import_module

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from clinics.models import Facility, Patient, User
from clinics.validators import phone_national, validate_phone
from frontend.templatetags.phones import phone
from tests import factories
from tests.conftest import Cast

Api = Callable[[User | None], APIClient]

OLD_FORMS = {
    "0912 345 678": "+84912345678",
    "+84912345678": "+84912345678",
    "84912345678": "+84912345678",
    "0912.345.678": "+84912345678",
    "(028) 3855 1234": "+842838551234",
}


@pytest.mark.parametrize(("typed", "stored"), OLD_FORMS.items())
def test_it_stores_the_forms_people_type_in_e164(typed: str, stored: str) -> None:
    assert validate_phone(typed) == stored


@pytest.mark.parametrize("typed", ["12", "không có", "0201234567", "+1 555"])
def test_it_rejects_what_is_not_a_phone_number(typed: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_phone(typed)
    assert caught.value.code == "invalid_phone"


def test_pages_show_the_national_form() -> None:
    assert phone("+84912345678") == "0912 345 678"
    assert phone("+842838551234") == "028 3855 1234"
    assert phone("+33142685300") == "+33 1 42 68 53 00"
    assert phone("gọi trạm") == "gọi trạm"  # a legacy value, as typed
    assert phone("") == phone_national("") == ""


@pytest.mark.django_db
def test_the_api_stores_and_returns_e164(cast: Cast, api: Api) -> None:
    client = api(cast.nurse)
    response = client.patch(
        f"/api/v1/patients/{cast.patient.external_id}/",
        {"phone": "0912 345 678", "guardian_phone": "(028) 3855 1234"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["phone"], response.json()["guardian_phone"]) == (
        "+84912345678",
        "+842838551234",
    )
    cast.patient.refresh_from_db()
    assert cast.patient.phone == "+84912345678"


@pytest.mark.django_db
def test_the_api_refuses_a_garbage_number_in_vietnamese(cast: Cast, api: Api) -> None:
    response = api(cast.nurse).patch(
        f"/api/v1/patients/{cast.patient.external_id}/",
        {"phone": "số cũ"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert response.status_code == 400
    assert "Đây không phải số điện thoại" in response.json()["fields"]["phone"][0]


@pytest.mark.django_db
def test_the_migration_rewrites_old_numbers_and_keeps_garbage(cast: Cast) -> None:
    migration = import_module("clinics.migrations.0008_phones_e164")
    typed = [*OLD_FORMS, "gọi qua trạm"]
    # Written past the validation, as the old rows were.
    made = [factories.make_patient(cast.station, phone=value) for value in typed]
    Patient.objects.filter(pk=made[0].pk).update(guardian_phone="0987 654 321")
    Facility.objects.filter(pk=cast.station.pk).update(hotline="0206 3800 115")
    User.objects.filter(pk=cast.nurse.pk).update(phone="84912000111")

    kept = migration.normalize_phones(apps)

    stored = [Patient.objects.get(pk=p.pk).phone for p in made]
    assert stored == [*OLD_FORMS.values(), "gọi qua trạm"]
    assert kept == [("Patient", made[-1].pk, "phone")]
    assert Patient.objects.get(pk=made[0].pk).guardian_phone == "+84987654321"
    assert Facility.objects.get(pk=cast.station.pk).hotline == "+842063800115"
    assert User.objects.get(pk=cast.nurse.pk).phone == "+84912000111"
