"""Phone numbers as people read them: stored in E.164 (+84…), shown as 0… (national)."""

from django import template

from clinics.validators import phone_national

register = template.Library()


@register.filter
def phone(value: str | None) -> str:
    return phone_national(value) if value else ""
