"""The one login throttle (clinics.login): every login path, buckets per account and address,
no lockout of the owner from elsewhere nor of a station behind one address."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from clinics.login import login_failures_purge
from clinics.models import LoginBucket, LoginFailure, Membership, User
from tests import factories
from tests.conftest import Cast
from tests.hashers import CountingPasswordHasher
from tests.telehealth.test_settings import load
from tests.two_factor import app_code, app_device

pytestmark = pytest.mark.django_db
TOKEN = "/api/v1/auth/token/"
ADMIN_LOGIN = "/admin/login/"
PASSWORD = "test-password-1"
STATION_ADDRESS = "198.51.100.20"  # one NAT address for a whole station
ATTACKER = "203.0.113.66"


def token(username: str, password: str, *, ip: str) -> Any:
    return APIClient(REMOTE_ADDR=ip).post(
        TOKEN, {"username": username, "password": password}, format="json"
    )


def fail(username: str, *, ip: str, times: int) -> None:
    for _ in range(times):
        assert token(username, "wrong-guess", ip=ip).status_code in (400, 429)


def admin_refusal(response: Any) -> str:
    """The code of the admin login form's error (the page shows the form again)."""
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors().as_data()
    return str(errors[0].code)


def test_the_admin_login_is_throttled_and_records_its_failures(cast: Cast) -> None:
    client = Client(REMOTE_ADDR=ATTACKER)
    answers = [
        client.post(ADMIN_LOGIN, {"username": "admin", "password": f"guess-{i}"}) for i in range(20)
    ]
    assert [admin_refusal(a) for a in answers] == ["invalid_login"] * 5 + ["throttled"] * 15
    assert "Đăng nhập sai quá nhiều lần" in answers[-1].content.decode()
    right = client.post(ADMIN_LOGIN, {"username": "admin", "password": PASSWORD})
    assert admin_refusal(right) == "throttled"
    assert client.get("/admin/").status_code == 302
    assert LoginFailure.objects.filter(username="admin", ip=ATTACKER).count() == 5


def test_the_admin_login_still_logs_a_superuser_in(cast: Cast) -> None:
    client = Client()
    code = app_code(app_device(cast.admin))
    response = client.post(
        ADMIN_LOGIN, {"username": "admin", "password": PASSWORD, "otp_token": code}
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_admin_login_refuses_a_right_password_of_a_non_staff_user(cast: Cast) -> None:
    client = Client()
    response = client.post(ADMIN_LOGIN, {"username": "nurse", "password": PASSWORD})
    assert admin_refusal(response) == "invalid_login"
    assert client.get("/admin/").status_code == 302


def test_one_throttle_counts_the_page_the_api_and_the_admin_together(
    cast: Cast, settings: Any
) -> None:
    settings.LOGIN_FAILURE_LIMIT = 3
    Client(REMOTE_ADDR=ATTACKER).post("/login/", {"username": "admin", "password": "a"})
    token("admin", "b", ip=ATTACKER)
    Client(REMOTE_ADDR=ATTACKER).post(ADMIN_LOGIN, {"username": "admin", "password": "c"})
    assert token("admin", PASSWORD, ip=ATTACKER).status_code == 429


def test_a_throttled_attempt_never_checks_the_password(cast: Cast, settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["tests.hashers.CountingPasswordHasher"]
    fail("nurse", ip=ATTACKER, times=5)
    before = CountingPasswordHasher.hashed
    for _ in range(10):
        assert token("nurse", "wrong-guess", ip=ATTACKER).status_code == 429
    assert token("nurse", PASSWORD, ip=ATTACKER).status_code == 429
    assert CountingPasswordHasher.hashed == before


def test_the_owner_logs_in_from_elsewhere_while_an_attacker_is_throttled(cast: Cast) -> None:
    fail("nurse", ip=ATTACKER, times=8)
    assert token("nurse", PASSWORD, ip=ATTACKER).status_code == 429
    assert token("nurse", PASSWORD, ip=STATION_ADDRESS).status_code == 200
    # Her login clears her own address's bucket, never the attacker's.
    assert token("nurse", PASSWORD, ip=ATTACKER).status_code == 429
    assert LoginFailure.objects.filter(username="nurse", ip=ATTACKER).count() == 5


def test_a_mistyping_nurse_does_not_lock_out_her_colleagues_behind_one_address(
    cast: Cast,
) -> None:
    colleagues = [
        factories.make_user(Membership.Role.STATION_STAFF, cast.station, username=f"staff{i}")
        for i in range(9)
    ]
    fail("nurse", ip=STATION_ADDRESS, times=30)
    assert token("nurse", PASSWORD, ip=STATION_ADDRESS).status_code == 429
    for colleague in colleagues:
        assert token(colleague.username, PASSWORD, ip=STATION_ADDRESS).status_code == 200


def test_a_whole_station_mistyping_stays_below_the_address_limit(cast: Cast) -> None:
    staff = [
        factories.make_user(Membership.Role.STATION_STAFF, cast.station, username=f"staff{i}")
        for i in range(10)
    ]
    for person in staff:
        fail(person.username, ip=STATION_ADDRESS, times=4)
    for person in staff:
        assert token(person.username, PASSWORD, ip=STATION_ADDRESS).status_code == 200


def test_a_success_clears_its_own_address_and_refunds_its_attempt(cast: Cast) -> None:
    fail("nurse", ip=STATION_ADDRESS, times=4)
    assert token("nurse", PASSWORD, ip=STATION_ADDRESS).status_code == 200
    pair = LoginBucket.objects.get(kind="pair", username="nurse", ip=STATION_ADDRESS)
    assert (pair.failures, pair.succeeded_at is not None) == (0, True)
    # The account and address buckets keep the four failures, not the successful attempt.
    account = LoginBucket.objects.get(kind="account", username="nurse")
    address = LoginBucket.objects.get(kind="address", ip=STATION_ADDRESS)
    assert (account.failures, address.failures) == (4, 4)
    assert not LoginFailure.objects.filter(username="nurse", ip=STATION_ADDRESS).exists()


def test_guessing_from_many_addresses_stops_at_the_account_limit(cast: Cast, settings: Any) -> None:
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 12
    assert token("nurse", PASSWORD, ip=STATION_ADDRESS).status_code == 200  # her usual desk
    for n in range(4):
        fail("nurse", ip=f"203.0.113.{n}", times=5)
    assert LoginFailure.objects.filter(username="nurse").count() == 12
    assert token("nurse", PASSWORD, ip="203.0.113.200").status_code == 429
    # At the address she logged in from, only her own bucket there counts.
    assert token("nurse", PASSWORD, ip=STATION_ADDRESS).status_code == 200


def test_spraying_many_accounts_from_one_address_stops_at_the_address_limit(
    cast: Cast, settings: Any
) -> None:
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 10
    assert token("nurse", PASSWORD, ip=STATION_ADDRESS).status_code == 200
    for n in range(12):
        token(f"someone{n}", "123456", ip=STATION_ADDRESS)
    assert LoginFailure.objects.filter(ip=STATION_ADDRESS).count() == 10
    assert token("specialist", PASSWORD, ip=STATION_ADDRESS).status_code == 429
    # A colleague who logged in here before is held to her own bucket only.
    assert token("nurse", PASSWORD, ip=STATION_ADDRESS).status_code == 200


def test_an_address_stops_being_known_after_the_known_address_days(
    cast: Cast, settings: Any
) -> None:
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 5
    assert token("nurse", PASSWORD, ip=STATION_ADDRESS).status_code == 200
    LoginBucket.objects.filter(kind="pair").update(
        succeeded_at=timezone.now() - timedelta(days=settings.LOGIN_KNOWN_ADDRESS_DAYS, hours=1)
    )
    fail("nurse", ip=ATTACKER, times=5)
    assert token("nurse", PASSWORD, ip=STATION_ADDRESS).status_code == 429


def test_a_bucket_counts_again_from_zero_after_its_window(cast: Cast, settings: Any) -> None:
    fail("nurse", ip=ATTACKER, times=5)
    assert token("nurse", "wrong-guess", ip=ATTACKER).status_code == 429
    LoginBucket.objects.update(window_start=timezone.now() - settings.LOGIN_FAILURE_WINDOW)
    assert token("nurse", "wrong-guess", ip=ATTACKER).status_code == 400
    bucket = LoginBucket.objects.get(kind="pair", username="nurse", ip=ATTACKER)
    assert bucket.failures == 1


def test_the_refusal_says_how_long_to_wait(cast: Cast) -> None:
    fail("nurse", ip=ATTACKER, times=5)
    LoginBucket.objects.update(window_start=timezone.now() - timedelta(minutes=11))
    response = APIClient(REMOTE_ADDR=ATTACKER, HTTP_ACCEPT_LANGUAGE="en").post(
        TOKEN, {"username": "nurse", "password": PASSWORD}, format="json"
    )
    assert response.json()["message"] == "Too many failed logins. Wait 4 minutes and try again."


def test_usernames_are_counted_whatever_their_case(cast: Cast) -> None:
    for name in ["Nurse", "NURSE", "nurse", "nUrse", "nursE"]:
        token(name, "wrong-guess", ip=ATTACKER)
    assert token("nurse", PASSWORD, ip=ATTACKER).status_code == 429


def test_the_purge_keeps_counting_and_known_buckets_and_removes_idle_ones(
    cast: Cast, settings: Any
) -> None:
    fail("nurse", ip=ATTACKER, times=2)
    assert token("nurse", PASSWORD, ip=STATION_ADDRESS).status_code == 200
    assert login_failures_purge() == 0
    over = timezone.now() - settings.LOGIN_FAILURE_WINDOW
    LoginBucket.objects.update(window_start=over)
    # Left: the pair of her successful login, remembered as a known address.
    assert login_failures_purge() == 4
    known = LoginBucket.objects.get()
    assert (known.username, known.ip) == ("nurse", STATION_ADDRESS)
    known.succeeded_at = timezone.now() - timedelta(days=settings.LOGIN_KNOWN_ADDRESS_DAYS)
    known.save()
    assert login_failures_purge() == 1
    assert not LoginBucket.objects.exists()
    assert isinstance(User.objects.get(username="nurse"), User)


def test_the_settings_refuse_a_pair_limit_above_the_account_or_address_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load(monkeypatch, SECRET_KEY="k")["LOGIN_ADDRESS_FAILURE_LIMIT"] == 100
    for env in [{"LOGIN_ACCOUNT_FAILURE_LIMIT": "4"}, {"LOGIN_ADDRESS_FAILURE_LIMIT": "4"}]:
        with pytest.raises(ImproperlyConfigured, match="LOGIN_FAILURE_LIMIT"):
            load(monkeypatch, SECRET_KEY="k", **env)
