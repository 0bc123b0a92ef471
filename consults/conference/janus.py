"""The Janus Admin API, as the app uses it: stored tokens and VideoRoom requests sent with
`message_plugin` (no Janus session of the app's own). Only the server talks to this API."""

import secrets
from typing import Any

import requests
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from telehealth.codes import Code
from telehealth.errors import AppError

VIDEOROOM = "janus.plugin.videoroom"
TIMEOUT_SECONDS = 5


def enabled() -> bool:
    return bool(settings.JANUS_ADMIN_URL and settings.JANUS_ADMIN_SECRET)


def _unavailable(detail: str) -> AppError:
    return AppError(
        Code.CONFERENCE_UNAVAILABLE,
        _("The conference server is not answering. Try again in a moment."),
        status=503,
        extra={"detail": detail},
    )


def admin(janus_request: str, **body: Any) -> dict[str, Any]:
    """One Admin API request; its `data`/`response`, or `conference_unavailable`."""
    if not enabled():
        raise AppError(
            Code.CONFERENCES_OFF, _("Case conferences are not enabled on this server."), status=503
        )
    payload = {
        "janus": janus_request,
        "transaction": secrets.token_hex(8),
        "admin_secret": settings.JANUS_ADMIN_SECRET,
        **body,
    }
    try:
        answer = requests.post(str(settings.JANUS_ADMIN_URL), json=payload, timeout=TIMEOUT_SECONDS)
        reply: dict[str, Any] = answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise _unavailable(type(exc).__name__) from exc
    if reply.get("janus") != "success":
        error = reply.get("error") or {}
        raise _unavailable(f"janus {janus_request}: {error.get('code')} {error.get('reason')}")
    # add_token answers in `data`, message_plugin in `response`, list_* and *_info at the top.
    return dict(reply.get("data") or reply.get("response") or reply)


def videoroom(request: str, **body: Any) -> dict[str, Any]:
    """A VideoRoom request through `message_plugin`; refuses a plugin-level error too."""
    response = admin(
        "message_plugin",
        plugin=VIDEOROOM,
        request={"request": request, "admin_key": settings.JANUS_ADMIN_SECRET, **body},
    )
    if response.get("error_code"):
        raise _unavailable(
            f"videoroom {request}: {response.get('error_code')} {response.get('error')}"
        )
    return response


def add_token(token: str) -> None:
    admin("add_token", token=token, plugins=[VIDEOROOM])


def remove_token(token: str) -> None:
    try:
        admin("remove_token", token=token)
    except AppError as exc:
        # Already gone (Janus restarted, or a retry): the goal is reached.
        if "470" not in str(exc.extra.get("detail", "")):
            raise


def sessions_of(token: str) -> list[int]:
    """The Janus sessions opened with `token` (handle_info names each handle's token)."""
    found = []
    for session in admin("list_sessions").get("sessions", []):
        for handle in admin("list_handles", session_id=session).get("handles", []):
            try:
                info = admin("handle_info", session_id=session, handle_id=handle)
            except AppError:
                continue  # gone meanwhile
            if info.get("info", {}).get("token") == token:
                found.append(int(session))
                break
    return found


def destroy_session(session: int) -> None:
    """Hang up every handle of a session (its subscriptions too) and end it."""
    try:
        admin("destroy_session", session_id=session)
    except AppError as exc:
        if "458" not in str(exc.extra.get("detail", "")):  # 458: no such session
            raise
