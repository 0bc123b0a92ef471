"""The API's JSON parser: every JSON write passes here, so the checks every body needs are
made once, with the field path, before any serializer or service sees the data."""

import codecs
import io
import re
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers

from telehealth.codes import Code
from telehealth.errors import AppError
from telehealth.storable import require_storable

# No endpoint takes more than a few levels (a note's content is two); 64 leaves room and
# keeps every walk of the data, ours and DRF's, far from Python's recursion limit.
MAX_DEPTH = 64

_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def too_deep() -> AppError:
    return AppError(
        Code.MALFORMED_REQUEST,
        _("The request body is nested more than %(n)d levels deep.") % {"n": MAX_DEPTH},
    )


def depth(value: Any) -> int:
    """How many arrays and objects deep `value` is (iterative: the value may be deep)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((c, level + 1) for c in item if isinstance(c, list | dict))
    return deepest


class JSONParser(parsers.JSONParser):
    """Refuses, besides what is not JSON: bodies nested deeper than MAX_DEPTH (400
    `malformed_request`) and text the database cannot store (400 `invalid`, by path).
    The body size is bounded before this, by DATA_UPLOAD_MAX_MEMORY_SIZE (413)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read()
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError as exc:  # the decoder's own limit (~1,000 levels)
            raise too_deep() from exc
        # Both walks of the data are skipped when the bytes show there is nothing to find,
        # as in nearly every body: fewer brackets than the limit cannot nest past it, and
        # strict JSON writes a NUL or a surrogate only as an escape (it refuses raw control
        # characters and undecodable bytes).
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        utf8 = raw if codecs.lookup(encoding).name == "utf-8" else raw.decode(encoding).encode()
        if utf8.count(b"[") + utf8.count(b"{") > MAX_DEPTH and depth(data) > MAX_DEPTH:
            raise too_deep()
        if _SUSPECT_ESCAPE.search(utf8):
            require_storable(data)
        return data
