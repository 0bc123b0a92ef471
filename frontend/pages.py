"""What the page views share: the signed-in user, the API's validation of a form, and form
writes that a weak link may resend.

A page validates with the API's serializer, so it refuses what the API refuses with the same
(translated) messages, and never quietly defaults or trims a value the API would refuse.

A form that writes carries a hidden Idempotency-Key made when the form was rendered
(`{% idempotency_key %}`, frontend/templatetags/forms.py): posted twice, it writes once and
the second answer shows the first one's result (clinics.idempotency, docs/architecture.md).
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.http import HttpRequest, QueryDict
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from clinics.idempotency import Shown, idempotent
from clinics.models import User
from telehealth.errors import AppError, to_app_error

IDEMPOTENCY_FIELD = "idempotency_key"


def page_user(request: HttpRequest) -> User:
    """The signed-in user of a page behind `login_required`."""
    assert isinstance(request.user, User)
    return request.user


def form_fields(
    post: QueryDict, serializer_class: type[serializers.Serializer], **given: Any
) -> dict[str, Any]:
    """The serializer's fields as the form posted them (plus `given`). An optional field left
    empty is not given, as an API client would leave it out."""
    data: dict[str, Any] = {}
    for name, field in serializer_class().fields.items():
        if field.read_only or name not in post:
            continue
        value: Any = post.getlist(name) if isinstance(field, serializers.ListField) else post[name]
        if value == "" and not field.required:
            continue
        data[name] = value
    return data | given


def validated(serializer_class: type[serializers.Serializer], data: Mapping[str, Any]) -> Any:
    """The serializer's validated data, or the AppError the API answers (400, per field)."""
    body = serializer_class(data=data)
    try:
        body.is_valid(raise_exception=True)
    except serializers.ValidationError as exc:
        error = to_app_error(exc)
        assert error is not None
        raise error from exc
    return body.validated_data


def form_write(
    request: HttpRequest, scope: str, write: Callable[[], Any], *, shows: Shown
) -> dict[str, Any]:
    """Run a form's `write` (it returns the API's serialized answer, with the `id` of what
    it `shows`) once per the form's key; a resent form gets the first answer back."""
    api_request = Request(request, parsers=[FormParser(), MultiPartParser()])
    api_request.user = request.user
    answer = idempotent(
        api_request,
        f"page:{scope}",
        lambda: Response(write()),
        shows=shows,
        key=request.POST.get(IDEMPOTENCY_FIELD, ""),
    )
    return dict(answer.data)


def error_text(error: AppError) -> str:
    """A refusal in one line, for the message above a page: what was wrong and, per field,
    why ("Some fields are not valid. This field may not be blank.")."""
    said = [str(m) for messages in error.fields.values() for m in messages]
    return " ".join([str(error.message), *said])
