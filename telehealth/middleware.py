"""Project-wide middleware: errors outside DRF, and the Content-Security-Policy header."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from telehealth.errors import AppError, invalid, to_app_error
from telehealth.storable import shown, text_errors


class AppErrorMiddleware:
    """AppError raised outside DRF (pages, plain views): the same codes, as a page or JSON.

    Also refuses, before any view, query parameters (and a page's form fields) that no
    text column can hold: every view filters or writes with them, and a NUL there is a
    database error, not a field error. An API body is checked by its parser; a webhook
    reads its own raw body (its signature is over the bytes), so its form is left unread.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        params = list(request.GET.lists())
        if request.method == "POST" and not request.path.startswith(("/api/", "/webhooks/")):
            params += request.POST.lists()
        errors: dict[str, list[str]] = {}
        for name, values in params:
            # Named by the parameter alone, whichever of its repeated values is bad.
            for messages in text_errors({name: values}).values():
                errors.setdefault(shown(name), messages)
        if not errors:
            return None
        first = next(iter(errors.values()))[0]
        return self.process_exception(request, invalid(errors, message=first))

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, OperationalError | InterfaceError):
            # The database went away under a page: say so (503, nothing saved, try again),
            # as the API does, rather than the apology for a bug.
            exc = to_app_error(exc) or exc
        if not isinstance(exc, AppError):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse(exc.as_dict(), status=exc.status)
        return render(request, "frontend/error.html", {"error": exc}, status=exc.status)


class ContentSecurityPolicyMiddleware:
    """Sends settings.CONTENT_SECURITY_POLICY on every response that has none."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class PagesInVietnameseFirstMiddleware:
    """Pages are in Vietnamese unless the user chose English with the language switch.

    Many station PCs run an English-language Windows and browser, so the browser's
    Accept-Language says nothing about the nurse. The switch's cookie still wins, and API
    clients keep negotiating with Accept-Language. Sits right before LocaleMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
