"""The app's ASGI application plus the F2 floor: a minimal Channels relay consumer (no auth,
no validation) at /ws/floor/, served by the same daphne process and Redis layer."""

import json
import os
import signal
import tracemalloc
from pathlib import Path
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


def _census() -> dict[str, Any]:
    """Live objects by type after a full collection, and the sizes of the per-connection
    structures that could outlive a connection (the room's registries, the layer's buffers)."""
    import gc
    from collections import Counter

    from channels.layers import get_channel_layer

    from consults.room import reauth

    gc.collect()
    types = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())
    layer: Any = get_channel_layer()
    return {
        "types": dict(types),
        "reauth_live": len(reauth._live),
        "reauth_sweepers": len(reauth._sweepers),
        "layer_receive_buffer": len(getattr(layer, "receive_buffer", {})),
        "layer_idle_channels": len(getattr(layer, "idle_since", {})),
        "layer_clean_locks": len(getattr(getattr(layer, "receive_clean_locks", None), "locks", {})),
        "layer_cleaners": len(getattr(layer, "receive_cleaners", [])),
    }


def _debug_on_signal(path: str) -> None:
    """BENCH_DEBUG=<file prefix>: each SIGUSR1 writes <prefix>.<n>.json, a census of live
    objects (`_census`), for bench/soak_connections.py --census to compare between the end
    of the warm-up and the end of the soak. With BENCH_TRACEMALLOC=<frames> the first signal
    also starts tracemalloc (after the warm-up: tracing from start-up slows Django's first
    requests past daphne's timeouts) and later ones dump <prefix>.<n>.snap."""
    taken = [0]
    frames = int(os.environ.get("BENCH_TRACEMALLOC", "0"))

    def dump(signum: int, frame: Any) -> None:
        taken[0] += 1
        base = f"{path}.{taken[0]}"
        if frames and tracemalloc.is_tracing():
            tracemalloc.take_snapshot().dump(f"{base}.snap")
        elif frames:
            tracemalloc.start(frames)
        Path(f"{base}.json").write_text(json.dumps(_census()))

    signal.signal(signal.SIGUSR1, dump)


if os.environ.get("BENCH_DEBUG"):
    _debug_on_signal(os.environ["BENCH_DEBUG"])
