"""Two-factor login: the code step, enrolment, recovery codes, the API token and the admin."""

from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from knox.models import AuthToken
from rest_framework.test import APIClient

from clinics.models import Membership, User
from tests import factories
from tests.conftest import Cast
from tests.two_factor import app_code, app_device, login_verified

pytestmark = pytest.mark.django_db
PASSWORD = "test-password-1"
TOKEN = "/api/v1/auth/token/"


def password_step(user: User) -> tuple[Client, Any]:
    client = Client()
    return client, client.post("/login/", {"username": user.username, "password": PASSWORD})


def test_a_coordinator_without_a_device_reaches_only_the_enrolment(cast: Cast) -> None:
    client, response = password_step(cast.coordinator)
    assert response.status_code == 302
    assert response["Location"] == "/account/two-factor/"
    for page in ["/", "/agenda/", "/triage/", "/account/", "/login/code/"]:
        assert client.get(page).status_code == 302, page
    assert client.get("/api/v1/me/").status_code in (401, 403)
    enrol = client.get("/account/two-factor/")
    assert enrol.status_code == 200
    assert enrol.content.decode().count('src="data:image/svg+xml') == 1


def test_enrolment_confirms_the_app_and_shows_ten_recovery_codes_once(cast: Cast) -> None:
    client, _ = password_step(cast.coordinator)
    client.get("/account/two-factor/")
    device = cast.coordinator.totpdevice_set.get()
    assert client.post("/account/two-factor/", {"code": "000000"}).status_code == 400
    device.refresh_from_db()
    device.throttle_reset()
    done = client.post("/account/two-factor/", {"code": app_code(device)})
    assert done.status_code == 200
    assert len(done.context["codes"]) == 10
    assert client.get("/triage/").status_code == 200  # logged in, verified
    assert client.get("/account/two-factor/").status_code == 302  # enrolled: nothing to show


def test_a_wrong_code_is_refused_then_every_code_throttled(cast: Cast, settings: Any) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    device = app_device(cast.coordinator)
    client, response = password_step(cast.coordinator)
    assert response["Location"] == "/login/code/"
    wrong = client.post("/login/code/", {"code": "000000" if app_code(device) != "000000" else "1"})
    assert wrong.status_code == 400
    assert "Mã không đúng" in wrong.content.decode()
    right = client.post("/login/code/", {"code": app_code(device)})
    assert right.status_code == 429
    assert "Nhập sai mã quá nhiều lần" in right.content.decode()
    assert client.get("/").status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


def test_a_recovery_code_logs_in_once(cast: Cast) -> None:
    app_device(cast.coordinator)
    recovery = StaticDevice.objects.create(user=cast.coordinator, name="recovery")
    StaticToken.objects.create(device=recovery, token="abcd2345")
    client, _ = password_step(cast.coordinator)
    assert client.post("/login/code/", {"code": "abcd 2345"}).status_code == 302
    assert client.get("/triage/").status_code == 200
    again, _ = password_step(cast.coordinator)
    assert again.post("/login/code/", {"code": "abcd2345"}).status_code == 400


def test_a_station_nurse_logs_in_without_a_code_and_may_enrol(cast: Cast) -> None:
    client, response = password_step(cast.nurse)
    assert response["Location"] == "/"
    account = client.get("/account/")
    assert 'id="enrol-link"' in account.content.decode()
    assert client.get("/account/two-factor/").status_code == 200
    device = cast.nurse.totpdevice_set.get()
    assert client.post("/account/two-factor/", {"code": app_code(device)}).status_code == 200
    _client, response = password_step(cast.nurse)
    assert response["Location"] == "/login/code/"


def test_the_token_endpoint_needs_a_code_from_a_user_with_a_device(cast: Cast) -> None:
    device = app_device(cast.nurse)
    body = {"username": "nurse", "password": PASSWORD}
    missing = APIClient().post(TOKEN, body, format="json")
    assert (missing.status_code, missing.json()["code"]) == (400, "otp_required")
    wrong = APIClient().post(TOKEN, {**body, "otp": "12345x"}, format="json")
    assert (wrong.status_code, wrong.json()["code"]) == (400, "invalid_otp")
    device.throttle_reset()
    right = APIClient().post(TOKEN, {**body, "otp": app_code(device)}, format="json")
    assert right.status_code == 200
    assert right.json()["token"]


def token_login(user: User, **extra: str) -> Any:
    body = {"username": user.username, "password": PASSWORD, **extra}
    return APIClient().post(TOKEN, body, format="json")


@pytest.mark.parametrize("role", ["admin", "coordinator", "manager"])
def test_a_role_that_requires_a_second_factor_gets_no_token_before_enrolling(
    cast: Cast, role: str
) -> None:
    user = (
        factories.make_user(Membership.Role.PROGRAMME_MANAGER, cast.station, username="manager")
        if role == "manager"
        else getattr(cast, role)
    )
    for body in ({}, {"otp": "123456"}):
        response = token_login(user, **body)
        assert (response.status_code, response.json()["code"]) == (403, "otp_setup_required")
    assert not AuthToken.objects.filter(user=user).exists()


def test_a_coordinator_with_an_app_needs_its_right_code_for_a_token(cast: Cast) -> None:
    device = app_device(cast.coordinator)
    missing = token_login(cast.coordinator)
    assert (missing.status_code, missing.json()["code"]) == (400, "otp_required")
    wrong = token_login(cast.coordinator, otp=f"{(int(app_code(device)) + 1) % 10**6:06d}")
    assert (wrong.status_code, wrong.json()["code"]) == (400, "invalid_otp")
    assert not AuthToken.objects.filter(user=cast.coordinator).exists()
    device.throttle_reset()
    right = token_login(cast.coordinator, otp=app_code(device))
    assert right.status_code == 200
    me = APIClient(HTTP_AUTHORIZATION=f"Token {right.json()['token']}").get("/api/v1/me/")
    assert me.status_code == 200


def test_an_administrators_recovery_code_gets_a_token_once(cast: Cast) -> None:
    app_device(cast.admin)
    recovery = StaticDevice.objects.create(user=cast.admin, name="recovery", confirmed=True)
    StaticToken.objects.create(device=recovery, token="abcd2345")
    assert token_login(cast.admin, otp="abcd2345").status_code == 200
    again = token_login(cast.admin, otp="abcd2345")
    assert (again.status_code, again.json()["code"]) == (400, "invalid_otp")


def test_roles_without_the_requirement_log_in_with_the_password_alone(cast: Cast) -> None:
    for user in (cast.nurse, cast.specialist):
        response = token_login(user)
        assert response.status_code == 200, response.content
        assert response.json()["token"]


def test_the_admin_needs_a_verified_session(cast: Cast) -> None:
    unverified = Client()
    unverified.force_login(cast.admin)
    response = unverified.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    verified = Client()
    login_verified(verified, cast.admin)
    assert verified.get("/admin/").status_code == 200


def test_the_admin_login_asks_for_the_code(cast: Cast) -> None:
    device = app_device(cast.admin)
    client = Client()
    body = {"username": "admin", "password": PASSWORD}
    refused = client.post("/admin/login/", body)
    assert refused.context["form"].non_field_errors().as_data()[0].code == "otp_required"
    client.post("/admin/login/", {**body, "otp_token": app_code(device)})
    assert client.get("/admin/").status_code == 200
