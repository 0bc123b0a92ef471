"""API tokens (django-rest-knox): one per login, stored as a hash, expiring after
API_TOKEN_TTL_HOURS. Revoked by logging out (one device or all), by a password change and by
deactivation (docs/api.md "Authentication")."""

from django.utils import timezone
from knox.models import AuthToken

from clinics.models import User


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
