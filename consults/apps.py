from importlib import import_module
from typing import Any

from django.apps import AppConfig

# Each capability keeps its models in `consults.<capability>.models`, which imports
# consults.models; consults.models importing them back would be a cycle.
CAPABILITIES_WITH_MODELS = ("scheduling", "room", "notes", "messaging", "conference")


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

        # Django's models phase imports consults.models only; the capabilities' models are
        # registered here, before any check, command or request reads the registry.
        for capability in CAPABILITIES_WITH_MODELS:
            import_module(f"consults.{capability}.models")

        # Logout (the page, the idle timeout, the admin) flushes the session; the live
        # sockets opened with it must end too, or a shared station PC stays in the call.
        user_logged_out.connect(_close_session_sockets, dispatch_uid="consults.session_sockets")

        from prometheus_client import REGISTRY

        from consults.metrics import DatabaseFigures

        REGISTRY.register(DatabaseFigures())
