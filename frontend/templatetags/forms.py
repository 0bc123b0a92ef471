"""The hidden Idempotency-Key of a form that writes (frontend/pages.py, `form_write`)."""

import uuid

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from frontend.pages import IDEMPOTENCY_FIELD

register = template.Library()


@register.simple_tag
def idempotency_key() -> SafeString:
    """Made when the form is rendered: the same form resent over a weak link carries the
    same key, so it writes once; a form rendered again is a new request."""
    return format_html(
        '<input type="hidden" name="{}" value="{}">', IDEMPOTENCY_FIELD, uuid.uuid4()
    )
