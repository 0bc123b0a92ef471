"""Log a browser session out after a quiet spell (a shared station PC is left open); the rule
is clinics.sessions', which the sockets of the session follow too."""

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from clinics.sessions import clock, session_is_idle, session_stamp


class IdleSessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and hasattr(request, "session"):
            now = clock()
            if session_is_idle(request.session, now):
                logout(request)
            else:
                session_stamp(request.session, now)
        return self.get_response(request)
