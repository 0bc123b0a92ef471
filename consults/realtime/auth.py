"""Channels' session authentication, with the database allowed to be away.

Channels' `AuthMiddleware` reads the session and its user before any consumer runs: a
database that is away there escaped as a traceback, and the client met a bare 1011 with no
error frame. Here the failure is kept and raised again where the consumer first asks for
`scope["user"]`, inside its connect handler, so the socket guard answers it as it answers
every other service failure (docs/signaling.md "When Redis or the database fails": the
`service_unavailable` error, then 4503).
"""

from typing import Any

from channels.auth import AuthMiddleware, get_user
from channels.middleware import BaseMiddleware
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.utils.functional import LazyObject

from consults.realtime.cooldown import CooldownGate
from consults.realtime.failures import DATABASE_ERRORS


class UserUnavailable(LazyObject):
    """A `scope["user"]` that could not be read: any use raises the failure again."""

    def __init__(self, failure: Exception) -> None:
        super().__init__()
        self.__dict__["_failure"] = failure

    def _setup(self) -> None:
        failure: Exception = self.__dict__["_failure"]
        raise failure.with_traceback(None)


class SessionAuth(AuthMiddleware):
    async def resolve_scope(self, scope: dict[str, Any]) -> None:
        try:
            scope["user"]._wrapped = await get_user(scope)
        except DATABASE_ERRORS as exc:
            scope["user"] = UserUnavailable(exc)


def session_auth_stack(inner: Any) -> BaseMiddleware:
    """`channels.auth.AuthMiddlewareStack`, with `SessionAuth`, and the cool-down's gate
    between the cookies (which it reads) and the session (which reads the database)."""
    return CookieMiddleware(CooldownGate(SessionMiddleware(SessionAuth(inner))))
