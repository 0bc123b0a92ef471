"""The app's URLs plus F3, a bare DRF endpoint, served by the same daphne process."""

from typing import Any

from django.urls import URLPattern, URLResolver, include, path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class Floor(APIView):
    """F3: no authentication, no database, one small JSON answer."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    def post(self, request: Request) -> Response:
        return Response({"ok": True}, status=201)

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/floor/", Floor.as_view()),
    path("", include("telehealth.urls")),
]
