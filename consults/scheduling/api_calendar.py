"""The iCalendar feed: your secret URL, its rotation, and the .ics it serves."""

from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consults.scheduling import ical
from consults.scheduling.serializers import FeedUrlSerializer
from telehealth.auth import request_user
from telehealth.errors import not_found


class CalendarFeedView(APIView):
    """GET: your feed URL. POST: rotate the token (the old URL stops working)."""

    @extend_schema(request=None, responses=FeedUrlSerializer)
    def get(self, request: Request) -> Response:
        feed = ical.feed_get_or_create(request_user(request))
        return Response({"url": _feed_url(request, feed.token)})

    @extend_schema(request=None, responses=FeedUrlSerializer)
    def post(self, request: Request) -> Response:
        feed = ical.feed_rotate(user=request_user(request))
        return Response({"url": _feed_url(request, feed.token)})


def _feed_url(request: Request, token: str) -> str:
    return request.build_absolute_uri(reverse("calendar-feed-ics", args=[token]))


class CalendarFeedIcs(APIView):
    """The .ics itself; the secret token in the URL is the only credential."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(responses={(200, "text/calendar"): bytes})
    def get(self, request: Request, token: str) -> HttpResponse:
        user = ical.feed_user(token)
        if user is None:
            raise not_found()
        response = HttpResponse(ical.feed_ics(user), content_type="text/calendar; charset=utf-8")
        response["Cache-Control"] = "private, max-age=300"
        return response
