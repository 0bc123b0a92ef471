"""The app's ASGI application plus the F2 floor: a minimal Channels relay consumer (no auth,
no validation) at /ws/floor/, served by the same daphne process and Redis layer."""

import json
import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telehealth.settings")

from channels.auth import AuthMiddlewareStack
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from telehealth.asgi import http_app
from telehealth.routing import websocket_urlpatterns


class FloorRelay(AsyncWebsocketConsumer):
    """Tells the client its channel; relays {"to": channel, …} to that channel as is."""

    async def connect(self) -> None:
        await self.accept()
        await self.send(text_data=json.dumps({"type": "floor", "me": self.channel_name}))

    async def receive(self, text_data: str | None = None, bytes_data: Any = None) -> None:
        to = json.loads(text_data or "{}")["to"]
        await self.channel_layer.send(to, {"type": "relay", "text": text_data})

    async def relay(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])


application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(
                URLRouter([path("ws/floor/", FloorRelay.as_asgi()), *websocket_urlpatterns])
            )
        ),
    }
)

if os.environ.get("BENCH_ROOM_REAUTH_SECONDS"):  # experiments only; the app's default is used
    from django.conf import settings

    settings.ROOM_REAUTH_SECONDS = float(os.environ["BENCH_ROOM_REAUTH_SECONDS"])
