"""No copy of an answer kept by a browser or a proxy: `Cache-Control: no-store`.

Pages and API answers carry patient data, and a station PC is shared by the whole staff:
what one nurse saw must not come back from the browser's cache (the back button, a saved
page) or from a proxy on the way. Every answer of the app gets the header, not only the
ones a rule would pick: a rule by login missed the guest page, which shows a patient to a
visitor without an account. Static files are the exception (the same for everyone, and
served before this middleware when the app serves them itself), and so is an answer whose
view chose its own caching (the calendar feed, which names no patient).
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(settings.STATIC_URL) or response.has_header("Cache-Control"):
            return response
        response["Cache-Control"] = "no-store"
        # HTTP/1.0 caches (old proxies in front of a station) know only this one.
        response["Pragma"] = "no-cache"
        return response
