from django.utils.translation import gettext as _
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from telehealth.errors import invalid


class Pagination(PageNumberPagination):
    """{"count", "next", "previous", "results"}; ?page=N&page_size=M (max 200)."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int | None:
        raw = request.query_params.getlist(self.page_size_query_param)
        if not raw:
            return self.page_size
        if len(raw) > 1 or not raw[0].isdigit() or not 1 <= int(raw[0]) <= self.max_page_size:
            raise invalid(
                {
                    "page_size": [
                        _("A whole number from 1 to %(max)d.") % {"max": self.max_page_size}
                    ]
                }
            )
        return int(raw[0])

    def get_page_number(self, request: Request, paginator: object) -> str:
        raw = request.query_params.getlist(self.page_query_param)
        if not raw:
            return "1"
        if len(raw) > 1 or not raw[0].isdigit() or int(raw[0]) < 1:
            raise invalid({"page": [_("A whole number from 1.")]})
        return raw[0]
