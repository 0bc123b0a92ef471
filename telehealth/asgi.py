"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import gc
import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telehealth.settings")
django_asgi_app = get_asgi_application()

from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

http_app = ASGIStaticFilesHandler(django_asgi_app) if settings.SERVE_STATIC else django_asgi_app

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from consults.realtime.auth import session_auth_stack  # noqa: E402
from telehealth.routing import websocket_urlpatterns  # noqa: E402


def _leave_multipart_to_django() -> None:
    """Daphne's Twisted request parses every multipart POST into memory before Django does
    (an attachment twice), and answers a body it cannot parse with a bare 400: no JSON
    error, no log line. Django parses uploads itself, streaming large ones to disk."""
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:  # served by another ASGI server
        return
    original = WebRequest.__init__
    if getattr(original, "leaves_multipart_to_django", False):
        return

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("parsePOSTFormSubmission", False)
        original(self, *args, **kwargs)

    __init__.leaves_multipart_to_django = True  # type: ignore[attr-defined]
    WebRequest.__init__ = __init__


_leave_multipart_to_django()

application = ProtocolTypeRouter(
    {
        "http": http_app,
        # The validator refuses a missing/foreign Origin, including "null"; the session is
        # read with the database allowed to be away (consults/realtime/auth.py).
        "websocket": AllowedHostsOriginValidator(
            session_auth_stack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# What is loaded by now (Django, DRF, Channels, our modules: ~130k objects) lives as long as
# the process. Left to the collector, every full collection walks all of it again: ~50 ms on
# a 2-core server, and a slot search of 300 specialists allocates enough to set one off
# every few requests (the search's p95). Frozen, a full collection walks only what is new.
gc.freeze()
