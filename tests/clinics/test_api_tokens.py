"""API tokens: hashed at rest, one per login, expiring, revoked by logout, by a password
change and by deactivation (docs/api.md "Authentication")."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from knox.models import AuthToken
from rest_framework.test import APIClient

from clinics.models import User
from tests.conftest import Cast
from tests.factories import PASSWORD
from tests.hashers import FastPBKDF2PasswordHasher
from tests.two_factor import login_verified

pytestmark = pytest.mark.django_db
TOKEN = "/api/v1/auth/token/"
TOKENS = "/api/v1/auth/tokens/"
ME = "/api/v1/me/"


def log_in(username: str = "nurse") -> str:
    response = APIClient().post(TOKEN, {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return str(response.json()["token"])


def as_token(token: str) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Token {token}")


def assert_refused(token: str) -> None:
    response = as_token(token).get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert response["WWW-Authenticate"] == 'Token realm="api"'


def test_it_stores_no_column_holding_the_token(cast: Cast) -> None:
    token = log_in()
    row = AuthToken.objects.get(user=cast.nurse)
    values = [str(getattr(row, f.attname)) for f in AuthToken._meta.concrete_fields]
    assert token not in values
    assert all(token not in value for value in values)  # nor a column containing it


def test_it_answers_the_expiry_with_the_token(cast: Cast, settings: Any) -> None:
    ttl = timedelta(hours=settings.API_TOKEN_TTL_HOURS)
    before = timezone.now()
    response = APIClient().post(TOKEN, {"username": "nurse", "password": PASSWORD}, format="json")
    expiry = parse_datetime(response.json()["expiry"])
    assert expiry is not None
    assert before + ttl <= expiry <= timezone.now() + ttl
    assert expiry == AuthToken.objects.get(user=cast.nurse).expiry


def test_it_refuses_an_expired_token(cast: Cast) -> None:
    token = log_in()
    assert as_token(token).get(ME).status_code == 200
    AuthToken.objects.filter(user=cast.nurse).update(expiry=timezone.now() - timedelta(seconds=1))
    assert_refused(token)
    assert not AuthToken.objects.filter(user=cast.nurse).exists()  # and forgets it


def test_a_login_purges_the_users_expired_tokens(cast: Cast) -> None:
    log_in()
    AuthToken.objects.filter(user=cast.nurse).update(expiry=timezone.now() - timedelta(hours=1))
    log_in()
    assert AuthToken.objects.filter(user=cast.nurse).count() == 1


def test_two_logins_get_two_tokens_and_logging_out_one_keeps_the_other(cast: Cast) -> None:
    phone, tablet = log_in(), log_in()
    assert phone != tablet
    assert as_token(phone).delete(TOKEN).status_code == 204
    assert_refused(phone)
    assert as_token(tablet).get(ME).status_code == 200


def test_logging_out_everywhere_revokes_every_token_of_the_user_only(cast: Cast) -> None:
    phone, tablet, colleague = log_in(), log_in(), log_in("specialist")
    assert as_token(phone).delete(TOKENS).status_code == 204
    assert_refused(phone)
    assert_refused(tablet)
    assert as_token(colleague).get(ME).status_code == 200


def test_a_browser_session_logs_out_every_api_token(cast: Cast) -> None:
    phone = log_in()
    browser = APIClient()
    browser.force_login(cast.nurse)
    assert browser.delete(TOKENS).status_code == 204
    assert_refused(phone)


def test_logging_out_needs_the_token_itself(cast: Cast) -> None:
    phone = log_in()
    browser = APIClient()
    browser.force_login(cast.nurse)
    response = browser.delete(TOKEN)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert as_token(phone).get(ME).status_code == 200
    assert_refused("0" * 64)  # an unknown token cannot log anyone out
    assert as_token("0" * 64).delete(TOKEN).status_code == 401


def test_a_login_is_not_refused_for_a_stale_token_header(cast: Cast) -> None:
    # A client whose token expired sends it again with its new login: still a login.
    response = as_token("0" * 64).post(
        TOKEN, {"username": "nurse", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200


def test_a_password_change_in_the_admin_revokes_every_token(cast: Cast) -> None:
    phone, tablet = log_in(), log_in()
    admin = Client()
    login_verified(admin, cast.admin)  # the admin site is behind the second factor
    response = admin.post(
        f"/admin/clinics/user/{cast.nurse.pk}/password/",
        {"password1": "a-new-pass-2026", "password2": "a-new-pass-2026"},
    )
    assert response.status_code == 302, response.content
    assert_refused(phone)
    assert_refused(tablet)
    assert AuthToken.objects.filter(user=cast.nurse).count() == 0


def test_manage_py_changepassword_revokes_every_token(cast: Cast, monkeypatch: Any) -> None:
    phone = log_in()
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "a-new-pass-2026")
    call_command("changepassword", "nurse")
    assert_refused(phone)
    assert not AuthToken.objects.filter(user=cast.nurse).exists()


def test_set_password_in_a_shell_revokes_only_that_users_tokens(cast: Cast) -> None:
    phone, other = log_in(), log_in("specialist")
    user = User.objects.get(pk=cast.nurse.pk)
    user.set_password("a-new-pass-2026")
    user.save()
    assert_refused(phone)
    assert as_token(other).get(ME).status_code == 200


def test_a_password_made_unusable_revokes_every_token(cast: Cast) -> None:
    phone = log_in()
    user = User.objects.get(pk=cast.nurse.pk)
    user.set_unusable_password()
    user.save()
    assert_refused(phone)


def test_a_hasher_upgrade_at_login_keeps_the_other_devices(cast: Cast) -> None:
    """Django rewrites an outdated hash when the password is checked: the same password."""
    phone = log_in()
    outdated = FastPBKDF2PasswordHasher().encode(PASSWORD, "somesalt", iterations=2)
    User.objects.filter(pk=cast.nurse.pk).update(password=outdated)
    log_in()  # this login rewrites the hash with the hasher's own iterations
    assert User.objects.get(pk=cast.nurse.pk).password != outdated
    assert as_token(phone).get(ME).status_code == 200


def test_saving_other_fields_keeps_the_tokens(cast: Cast) -> None:
    phone = log_in()
    user = User.objects.get(pk=cast.nurse.pk)
    user.full_name = "Nguyễn Thị Lan"
    user.save()
    user.is_active = True
    user.save(update_fields=["is_active"])
    assert as_token(phone).get(ME).status_code == 200


def test_deactivation_by_any_save_revokes_every_token(cast: Cast) -> None:
    phone = log_in()
    user = User.objects.get(pk=cast.nurse.pk)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert_refused(phone)
    assert not AuthToken.objects.filter(user=cast.nurse).exists()


def test_deactivation_in_the_admin_deletes_the_tokens(cast: Cast) -> None:
    phone = log_in()
    admin = Client()
    login_verified(admin, cast.admin)  # the admin site is behind the second factor
    page = admin.get(f"/admin/clinics/user/{cast.nurse.pk}/change/")
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data |= {"is_active": "", "groups": [], "user_permissions": []}
    data |= {"date_joined_0": "2026-01-01", "date_joined_1": "08:00:00"}
    data |= {"last_login_0": "", "last_login_1": ""}
    response = admin.post(f"/admin/clinics/user/{cast.nurse.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    cast.nurse.refresh_from_db()
    assert not cast.nurse.is_active
    assert_refused(phone)
    assert not AuthToken.objects.filter(user=cast.nurse).exists()


def test_an_inactive_users_token_is_refused_even_if_kept(cast: Cast) -> None:
    phone = log_in()
    User.objects.filter(pk=cast.nurse.pk).update(is_active=False)  # no save: nothing revoked
    assert_refused(phone)


def test_a_token_header_that_is_not_utf8_is_refused_not_a_crash(cast: Cast) -> None:
    response = APIClient(HTTP_AUTHORIZATION="Token \xff\xfe").get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
