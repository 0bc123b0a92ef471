"""Log a browser session out after a quiet spell (a shared station PC is left open)."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

_KEY = "last_seen"


class IdleSessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            last_seen = request.session.get(_KEY)
            idle = settings.SESSION_IDLE_TIMEOUT.total_seconds()
            if last_seen is not None and now - float(last_seen) > idle:
                logout(request)
            else:
                request.session[_KEY] = now
        return self.get_response(request)
