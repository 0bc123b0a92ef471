"""Schemathesis against the live API: positive and negative data, zero 5xx, and every
response (including errors) matches /api/schema/. Bounded for `make test`; the nightly size
is `FUZZ_EXAMPLES=500` (docs/testing.md).

Random ids only ever meet a 404, so every other example has its path parameters replaced by
the ids of a real world (a consult with a request, an attachment, a guest, a calendar feed):
the generated bodies, queries and headers then reach the handlers behind the lookup."""

import itertools
import json
import os
from typing import Any

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import Cast
from tests.e2e.servers import Daphne
from tests.security.matrix_world import World, build_world

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

pytestmark = pytest.mark.django_db(transaction=True)
_turn = itertools.count()


def load_schema() -> Any:
    """The app's own schema, generated in-process at collection (one test per operation)."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(generated)))
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES
    )
    return schema


@pytest.fixture
def world(cast: Cast) -> World:
    return build_world(cast)


@pytest.fixture
def token(cast: Cast) -> str:
    return Token.objects.create(user=cast.nurse).key


@load_schema().parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_answers_every_input_within_its_schema(
    case: Any, daphne_server: Daphne, token: str, world: World
) -> None:
    if case.path_parameters and next(_turn) % 2:
        real = world.kwargs(case.operation.path, "station")
        case.path_parameters.update({k: str(v) for k, v in real.items() if k != "section"})
    case.call_and_validate(
        base_url=daphne_server.url,
        headers={"Authorization": f"Token {token}", "Origin": daphne_server.url},
        checks=CHECKS,
    )
