"""API tokens (django-rest-knox): one per login, stored as a hash, expiring after
API_TOKEN_TTL_HOURS. Revoked by logging out (one device or all), by a password change and by
deactivation, whatever the path (docs/api.md "Authentication", docs/decisions.md 37)."""

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.hashers import is_password_usable
from django.utils import timezone
from knox.models import AuthToken

from clinics.models import User

# Set by `_credentials_changing` on the instance being saved, read by `_revoke_after_save`.
_REVOKE = "_api_tokens_revoke"


def api_token_issue(*, user: User) -> tuple[AuthToken, str]:
    """A new token for one login (the row and the token, which only the client keeps).

    The user's expired tokens go on the way: knox deletes one only when it is presented.
    """
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    return AuthToken.objects.create(user=user)


def api_token_revoke(*, token: AuthToken) -> None:
    token.delete()


def api_tokens_revoke_all(*, user: User) -> int:
    """Log the user out of every device; return how many tokens were revoked."""
    count, _ = AuthToken.objects.filter(user=user).delete()
    return count


def credentials_changed(before: Mapping[str, Any], user: User) -> bool:
    """Whether saving `user` over the stored row `before` ends her API tokens: a new password
    (set_password: the admin's form, `manage.py changepassword`, a shell), a password made
    unusable, or a deactivation. A hash rewritten with the same password (Django upgrading
    the hasher at login calls set_password, then clears `_password` before saving) is not
    a change: logging in on one device must not log the others out."""
    if before["is_active"] and not user.is_active:
        return True
    if before["password"] == user.password:
        return False
    return getattr(user, "_password", None) is not None or not is_password_usable(user.password)


def _credentials_changing(sender: Any, instance: User, raw: bool = False, **kwargs: Any) -> None:
    """pre_save of User: the one place every password change and deactivation passes."""
    fields = kwargs.get("update_fields")
    other_fields = fields is not None and not {"password", "is_active"} & set(fields)
    if raw or instance.pk is None or other_fields:
        return  # a fixture, a new user, or a save of other fields (last_login at each login)
    before = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    setattr(instance, _REVOKE, before is not None and credentials_changed(before, instance))


def _revoke_after_save(sender: Any, instance: User, **kwargs: Any) -> None:
    """post_save of User: after the row is written, so a refused save revokes nothing."""
    if getattr(instance, _REVOKE, False):
        setattr(instance, _REVOKE, False)
        api_tokens_revoke_all(user=instance)


def connect_revocation() -> None:
    from django.db.models.signals import post_save, pre_save

    pre_save.connect(_credentials_changing, sender=User, dispatch_uid="clinics.tokens.pre")
    post_save.connect(_revoke_after_save, sender=User, dispatch_uid="clinics.tokens.post")
