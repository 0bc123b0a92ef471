"""/api/schema/ is valid OpenAPI 3 and lists every API endpoint; docs load without a CDN."""

import re
from typing import Any

import pytest
import yaml
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.validation import validate_schema

from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def api_routes(patterns: list[Any] | None = None, prefix: str = "") -> set[str]:
    """Every URL under /api/v1/, as OpenAPI paths ({id} for converters)."""
    routes: set[str] = set()
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        part = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            routes |= api_routes(p.url_patterns, part)
        elif isinstance(p, URLPattern) and part.startswith("api/v1/"):
            routes.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", part.lstrip("^").rstrip("$")))
    return routes


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
