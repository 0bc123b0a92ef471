"""WebSocket routes of the consult app (see docs/signaling.md)."""

from django.urls import URLPattern, URLResolver, path

from consults.notes.consumer import NotesConsumer

websocket_urlpatterns: list[URLPattern | URLResolver] = [
    path("ws/consultations/<str:id>/notes/", NotesConsumer.as_asgi()),
]
