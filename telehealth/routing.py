"""WebSocket routes (see docs/signaling.md)."""

from django.urls import URLPattern, URLResolver

from consults.routing import websocket_urlpatterns as consult_routes

websocket_urlpatterns: list[URLPattern | URLResolver] = [*consult_routes]
