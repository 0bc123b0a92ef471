from django.urls import URLPattern, URLResolver, include, path

from consults.dashboard import api as dashboard
from consults.room import api as room_api
from consults.scheduling import api as scheduling
from consults.scheduling import api_calendar as calendar
from consults.scheduling import api_requests as requests

urlpatterns: list[URLPattern | URLResolver] = [
    path("slots/", scheduling.SlotSearch.as_view(), name="slot-search"),
    path("consultations/", scheduling.ConsultationList.as_view(), name="consultation-list"),
    path(
        "consultations/<str:id>/",
        scheduling.ConsultationDetail.as_view(),
        name="consultation-detail",
    ),
    path(
        "consultations/<str:id>/check-in/",
        scheduling.CheckIn.as_view(),
        name="consultation-check-in",
    ),
    path("consultations/<str:id>/cancel/", scheduling.Cancel.as_view(), name="consultation-cancel"),
    path(
        "consultations/<str:id>/no-show/", scheduling.NoShow.as_view(), name="consultation-no-show"
    ),
    path("consultations/<str:id>/failed/", scheduling.Failed.as_view(), name="consultation-failed"),
    path(
        "consultations/<str:id>/reschedule/",
        scheduling.Reschedule.as_view(),
        name="consultation-reschedule",
    ),
    path(
        "consultations/<str:id>/waitlist/",
        scheduling.Waitlist.as_view(),
        name="consultation-waitlist",
    ),
    path(
        "consultations/<str:id>/waitlist/take/",
        scheduling.Waitlist.as_view(),
        {"take": True},
        name="consultation-waitlist-take",
    ),
    path("calendar/", calendar.CalendarFeedView.as_view(), name="calendar-feed"),
    path("calendar/<str:token>.ics", calendar.CalendarFeedIcs.as_view(), name="calendar-feed-ics"),
    path("requests/", requests.RequestList.as_view(), name="request-list"),
    path("requests/<str:id>/", requests.RequestDetail.as_view(), name="request-detail"),
    *[
        path(
            f"requests/<str:id>/{action}/",
            requests.RequestAction.as_view(action=action),
            name=f"request-{action}",
        )
        for action in ("accept", "ask-info", "answer", "decline")
    ],
    path(
        "consultations/<str:id>/room-ticket/",
        room_api.RoomTicketView.as_view(),
        name="api-room-ticket",
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
    path("dashboard/", dashboard.DashboardView.as_view(), name="dashboard"),
    path("dashboard.csv", dashboard.DashboardCsvView.as_view(), name="dashboard-csv"),
    path("", include("consults.notes.urls")),
]
