"""Error reports to Sentry, stripped of patient data (settings SENTRY_DSN).

A report keeps what locates the bug (the exception, the stack's code, the view, the URL's
path) and drops what may hold a patient's data: request bodies, query strings (a patient
search), cookies, and the stack's local variables. Personal data is never sent
(send_default_pii=False: no user, no address).
"""

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration

_DROPPED_FROM_REQUEST = ("data", "query_string", "cookies")


def scrub(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """before_send: the last look at every event before it leaves."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in _DROPPED_FROM_REQUEST:
            request.pop(key, None)
        url = request.get("url")
        if isinstance(url, str):
            request["url"] = url.split("?", 1)[0]
    return event


def sentry_init(*, dsn: str, environment: str) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        before_send=scrub,  # type: ignore[arg-type]
    )
