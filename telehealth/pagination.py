from typing import Any

from django.utils.translation import gettext as _
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from telehealth.errors import invalid


def _digits(raw: str) -> bool:
    # str.isdigit alone takes "²" and "١", which int() then refuses or reads as a number.
    return raw.isascii() and raw.isdigit()


class Pagination(PageNumberPagination):
    """{"count", "next", "previous", "results"}; ?page=N (from 1) &page_size=M (1–200).

    The schema (get_schema_operation_parameters) states the same bounds the checks below
    enforce. A page past the last one is a 404 (DRF's paginator)."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int | None:
        raw = request.query_params.getlist(self.page_size_query_param)
        if not raw:
            return self.page_size
        if len(raw) > 1 or not _digits(raw[0]) or not 1 <= int(raw[0]) <= self.max_page_size:
            raise invalid(
                {
                    "page_size": [
                        _("A whole number from 1 to %(max)d.") % {"max": self.max_page_size}
                    ]
                }
            )
        return int(raw[0])

    def get_page_number(self, request: Request, paginator: object) -> int | str:
        # DRF reads an empty or repeated ?page= as page 1, and ?page=last as the last one;
        # say they are wrong instead. Never int() here: a number too long to convert is
        # simply past the last page (the paginator's 404).
        raw = request.query_params.getlist(self.page_query_param)
        if not raw:
            return 1
        if len(raw) > 1 or not _digits(raw[0]) or not raw[0].lstrip("0"):
            raise invalid({"page": [_("A page number from 1.")]})
        return raw[0]

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        page, size = super().get_schema_operation_parameters(view)
        page["schema"]["minimum"] = 1
        size["schema"].update(minimum=1, maximum=self.max_page_size, default=self.page_size)
        return [page, size]
