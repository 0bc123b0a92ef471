"""/api/schema/ is valid OpenAPI 3 and lists every API endpoint; docs load without a CDN."""

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.validation import validate_schema

from consults.notes.models import SectionKey
from consults.scheduling.serializers import SlotQuerySerializer
from telehealth.pagination import Pagination
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def api_views(
    patterns: list[Any] | None = None, prefix: str = ""
) -> Iterator[tuple[str, Callable[..., Any]]]:
    """Every URL under /api/v1/ as an OpenAPI path ({id} for converters), with its view."""
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        part = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from api_views(p.url_patterns, part)
        elif isinstance(p, URLPattern) and part.startswith("api/v1/"):
            route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", part.lstrip("^").rstrip("$"))
            yield "/" + route, p.callback


def api_routes() -> set[str]:
    return {route for route, _view in api_views()}


@pytest.fixture
def schema(cast: Cast, api: Any) -> dict[str, Any]:
    response = api(cast.nurse).get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_schema_is_valid_openapi_3(schema: dict[str, Any]) -> None:
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)


def test_the_schema_lists_every_endpoint(schema: dict[str, Any]) -> None:
    routes = api_routes()
    assert "/api/v1/patients/{id}/" in routes
    missing = routes - set(schema["paths"])
    assert not missing, f"endpoints missing from the schema: {sorted(missing)}"


def test_the_docs_page_uses_no_third_party_origin(cast: Cast, api: Any) -> None:
    page = api(cast.nurse).get("/api/docs/").content.decode()
    assert "swagger-ui" in page
    external = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", page)
    assert external == []


def _ref(schema: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    return schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _parameter(operation: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((p for p in operation.get("parameters", []) if p["name"] == name), None)


def test_every_request_body_refuses_unknown_fields(schema: dict[str, Any]) -> None:
    """Every body is read by a StrictSerializer, which answers `unknown_field`."""
    bodies = {
        ref["$ref"]
        for _path, _method, operation in _operations(schema)
        for media in operation.get("requestBody", {}).get("content", {}).values()
        for ref in [media["schema"]]
    }
    assert "#/components/schemas/BookingRequest" in bodies
    for ref in bodies:
        component = _ref(schema, {"$ref": ref})
        assert component.get("additionalProperties") is False, ref
    assert schema["components"]["schemas"]["WindowRequest"]["additionalProperties"] is False


def test_the_list_parameters_declare_the_bounds_the_server_enforces(
    schema: dict[str, Any],
) -> None:
    pages = [op for _p, _m, op in _operations(schema) if _parameter(op, "page")]
    assert len(pages) >= 5
    for operation in pages:
        assert _parameter(operation, "page")["schema"] == {"type": "integer", "minimum": 1}
        size = _parameter(operation, "page_size")["schema"]
        assert (size["minimum"], size["maximum"], size["default"]) == (
            1,
            Pagination.max_page_size,
            settings.REST_FRAMEWORK["PAGE_SIZE"],
        )
    limit = _parameter(schema["paths"]["/api/v1/slots/"]["get"], "limit")["schema"]
    field = SlotQuerySerializer().fields["limit"]
    assert (limit["minimum"], limit["maximum"]) == (field.min_value, field.max_value)


def test_a_notes_section_is_one_of_the_sections(schema: dict[str, Any]) -> None:
    for path, method in [
        ("/api/v1/consultations/{id}/notes/{section}/", "put"),
        ("/api/v1/consultations/{id}/notes/{section}/history/", "get"),
    ]:
        section = _parameter(schema["paths"][path][method], "section")
        assert section is not None
        assert sorted(section["schema"]["enum"]) == sorted(SectionKey.values)


def _calls_idempotent(view: type, method: str) -> bool:
    """Whether the view's handler (or a handler it overrides) calls clinics.idempotency."""
    return any(
        method in cls.__dict__ and "idempotent" in cls.__dict__[method].__code__.co_names
        for cls in view.__mro__
    )


def test_exactly_the_idempotent_writes_declare_the_idempotency_key(
    schema: dict[str, Any],
) -> None:
    calling = set()
    for route, callback in api_views():
        view = callback.cls
        for method in view.http_method_names:
            if hasattr(view, method) and _calls_idempotent(view, method):
                calling.add((route, method))
    declaring = {
        (path, method)
        for path, method, operation in _operations(schema)
        if _parameter(operation, "Idempotency-Key")
    }
    assert ("/api/v1/consultations/", "post") in calling
    assert ("/api/v1/consultations/{id}/cancel/", "post") in calling  # through _Action.post
    assert declaring == calling
    header = _parameter(schema["paths"]["/api/v1/patients/"]["post"], "Idempotency-Key")
    assert header is not None
    assert header["in"] == "header"
    assert header["schema"] == {"type": "string", "maxLength": 100}


def test_a_note_edit_requires_its_client_edit_id(schema: dict[str, Any]) -> None:
    body = schema["paths"]["/api/v1/consultations/{id}/notes/{section}/"]["put"]["requestBody"]
    note_write = _ref(schema, body["content"]["application/json"]["schema"])
    assert set(note_write["required"]) == {"content", "base_revision", "client_edit_id"}
    assert note_write["properties"]["client_edit_id"]["maxLength"] == 64


def test_a_guest_invitation_shows_its_link_and_revocation(schema: dict[str, Any]) -> None:
    created = schema["paths"]["/api/v1/consultations/{id}/guests/"]["post"]["responses"]["201"]
    invite = _ref(schema, created["content"]["application/json"]["schema"])
    assert "link" in invite["required"]
    assert invite["properties"]["link"]["format"] == "uri"
    assert invite["properties"]["revoked_at"]["nullable"] is True
    revoked = schema["paths"]["/api/v1/consultations/{id}/guests/{guest_id}/"]["delete"]
    revoke = _ref(schema, revoked["responses"]["200"]["content"]["application/json"]["schema"])
    assert revoke["properties"]["revoked_at"]["nullable"] is True


def test_accepting_a_request_reads_the_booking_not_a_message(schema: dict[str, Any]) -> None:
    body = schema["paths"]["/api/v1/requests/{id}/accept/"]["post"]["requestBody"]
    accept = _ref(schema, body["content"]["application/json"]["schema"])
    assert set(accept["required"]) == {"specialist", "start", "end"}


def test_an_attachment_is_sent_as_multipart_only(schema: dict[str, Any]) -> None:
    post = schema["paths"]["/api/v1/consultations/{id}/notes/attachments/"]["post"]
    assert list(post["requestBody"]["content"]) == ["multipart/form-data"]
