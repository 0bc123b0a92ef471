"""WebSocket routes of the consult app (see docs/signaling.md)."""

from django.urls import URLPattern, URLResolver, path

from consults.notes.consumer import NotesConsumer
from consults.room.consumers import RoomConsumer
from consults.room.notifications import NotificationsConsumer
from consults.room.precall import PrecallConsumer

websocket_urlpatterns: list[URLPattern | URLResolver] = [
    path("ws/consultations/<str:consultation_id>/", RoomConsumer.as_asgi()),
    path("ws/notifications/", NotificationsConsumer.as_asgi()),
    path("ws/precall/", PrecallConsumer.as_asgi()),
    path("ws/consultations/<str:id>/notes/", NotesConsumer.as_asgi()),
]
