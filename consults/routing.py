"""WebSocket routes of the consult app (see docs/signaling.md)."""

from django.urls import URLPattern, URLResolver

websocket_urlpatterns: list[URLPattern | URLResolver] = []
