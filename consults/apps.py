from typing import Any

from django.apps import AppConfig


def _close_session_sockets(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from consults.realtime.send import session_sockets_close

    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        session_sockets_close(key)


class ConsultsConfig(AppConfig):
    name = "consults"
    verbose_name = "Consultations"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        # Logout (the page, the idle timeout, the admin) flushes the session; the live
        # sockets opened with it must end too, or a shared station PC stays in the call.
        user_logged_out.connect(_close_session_sockets, dispatch_uid="consults.session_sockets")
