"""How long ago, in the page's language.

Django's `timesince` strings have no Vietnamese translation: a triage page in Vietnamese
said "(5 minutes)". These are the same strings in this project's catalog.
"""

from datetime import datetime
from typing import Any

from django import template
from django.utils.timesince import timesince
from django.utils.translation import ngettext_lazy

register = template.Library()

TIME_STRINGS: dict[str, Any] = {  # Django's keys; lazy, so each page gets its language
    "year": ngettext_lazy("%(num)d year", "%(num)d years", "num"),
    "month": ngettext_lazy("%(num)d month", "%(num)d months", "num"),
    "week": ngettext_lazy("%(num)d week", "%(num)d weeks", "num"),
    "day": ngettext_lazy("%(num)d day", "%(num)d days", "num"),
    "hour": ngettext_lazy("%(num)d hour", "%(num)d hours", "num"),
    "minute": ngettext_lazy("%(num)d minute", "%(num)d minutes", "num"),
}


@register.filter
def waited(since: datetime) -> str:
    """The time since `since` in its largest unit: "5 phút", "2 ngày"."""
    return timesince(since, time_strings=TIME_STRINGS, depth=1)
