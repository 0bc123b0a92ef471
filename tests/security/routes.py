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


def _page_methods(callback: Any) -> list[str]:
    """A function view (a page) always gets a GET row (405 documents a POST-only page) and a
    POST row when it takes POST. A view without a method decorator takes every method: its
    POST row shows what a POST to it does (so far, the same as GET)."""
    allowed = _allowed(callback)
    return ["get", "post"] if allowed is None or "post" in allowed else ["get"]


def _methods(callback: Any) -> list[str]:
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is None:
        return _page_methods(callback)
    return [m for m in cls.http_method_names if m not in SKIPPED_METHODS and hasattr(cls, m)]


def http_routes(patterns: list[Any] | None = None, prefix: str = "") -> list[tuple[str, str]]:
    """(route template, method) for every URL pattern; the admin site counts as one route."""
    found: list[tuple[str, str]] = []
    for p in get_resolver().url_patterns if patterns is None else patterns:
        part = prefix + str(p.pattern)
        if part.startswith("admin/"):
            if ("/admin/", "get") not in found:
                found.append(("/admin/", "get"))
            continue
        if isinstance(p, URLResolver):
            found += http_routes(p.url_patterns, part)
        elif isinstance(p, URLPattern):
            found += [(_template(part), m) for m in _methods(p.callback)]
    return found


def ws_routes() -> list[str]:
    return [_template(str(p.pattern)) for p in websocket_urlpatterns]
