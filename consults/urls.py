from django.urls import URLPattern, URLResolver, path

from consults.room import api as room_api

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "consultations/<str:id>/room-ticket/",
        room_api.RoomTicketView.as_view(),
        name="api-room-ticket",
    ),
    path(
        "consultations/<str:id>/room/check-in/",
        room_api.CheckInView.as_view(),
        name="api-room-check-in",
    ),
    path("consultations/<str:id>/room/end/", room_api.EndView.as_view(), name="api-room-end"),
    path(
        "consultations/<str:id>/guests/",
        room_api.GuestInviteList.as_view(),
        name="api-room-guest-list",
    ),
    path(
        "consultations/<str:id>/guests/<str:guest_id>/",
        room_api.GuestInviteDetail.as_view(),
        name="api-room-guest-detail",
    ),
    path("room/guest-ticket/", room_api.GuestTicketView.as_view(), name="api-room-guest-ticket"),
]
