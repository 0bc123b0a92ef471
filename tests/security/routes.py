"""Every HTTP route and WebSocket route of the app, discovered from the resolvers."""

import inspect
import re
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from telehealth.routing import websocket_urlpatterns

SKIPPED_METHODS = {"options", "head", "trace"}


def _template(pattern: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern.lstrip("^").rstrip("$"))


def _allowed(view: Any) -> list[str] | None:
    """The methods named by require_http_methods (require_GET, require_POST...) anywhere in
    a function view's decorator chain; None when no decorator limits them."""
    while view is not None:
        code = getattr(view, "__code__", None)
        if code is not None and "request_method_list" in code.co_freevars:
            allowed = inspect.getclosurevars(view).nonlocals["request_method_list"]
            return [m.lower() for m in allowed]
        view = getattr(view, "__wrapped__", None)
    return None


def _methods(callback: Any) -> list[str]:
    """A function view (a page) always gets a GET row and a POST row: 405 documents a
    POST-only page and a page that only displays."""
    if _is_page(callback):
        return ["get", "post"]
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    return [m for m in cls.http_method_names if m not in SKIPPED_METHODS and hasattr(cls, m)]


def _views(patterns: list[Any] | None = None, prefix: str = "") -> list[tuple[str, Any]]:
    """(route template, view) for every URL pattern outside the admin site."""
    found: list[tuple[str, Any]] = []
    for p in get_resolver().url_patterns if patterns is None else patterns:
        part = prefix + str(p.pattern)
        if part.startswith("admin/"):
            continue
        if isinstance(p, URLResolver):
            found += _views(p.url_patterns, part)
        elif isinstance(p, URLPattern):
            found.append((_template(part), p.callback))
    return found


def http_routes() -> list[tuple[str, str]]:
    """(route template, method) for every URL pattern; the admin site counts as one route."""
    found = [("/admin/", "get")]
    for route, callback in _views():
        found += [(route, m) for m in _methods(callback)]
    return found


def pages_taking_any_method() -> list[str]:
    """The project's function views without a method decorator: they serve a POST like a
    GET. (Django's own set_language takes both on purpose.)"""
    return [
        route
        for route, callback in _views()
        if _is_page(callback)
        and not callback.__module__.startswith("django.")
        and _allowed(callback) is None
    ]


def _is_page(callback: Any) -> bool:
    return getattr(callback, "cls", None) is None and getattr(callback, "view_class", None) is None


def ws_routes() -> list[str]:
    return [_template(str(p.pattern)) for p in websocket_urlpatterns]


def allowed_methods(view: Any) -> list[str] | None:
    """The methods a function view takes (lower case); None when no decorator limits them."""
    return _allowed(view)
