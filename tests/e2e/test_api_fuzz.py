"""Schemathesis against the live API, as the station nurse and as the specialist: positive and
negative data, every built-in check (no 5xx; status codes, content types, headers and bodies,
errors included, as /api/schema/ says; valid input accepted, invalid input refused;
authentication enforced; unsupported methods refused with `Allow`). Bounded for `make test`;
the nightly size is `FUZZ_EXAMPLES=500` (docs/testing.md).

Random ids only ever meet a 404, so every other example has its path parameters replaced by
the ids of a real world (a consult with a request, an attachment, a guest, a calendar feed):
the generated bodies, queries and headers then reach the handlers behind the lookup. The
world is built once per role (and flushed afterwards, as a transactional test would be): the
examples of one operation meet what the earlier ones left, as a real client's would."""

import itertools
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests import factories
from tests.conftest import make_cast
from tests.e2e.servers import Daphne
from tests.security.matrix_world import World, build_world
from tests.two_factor import api_login_codes

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2"))
ROLES = ["station", "specialist"]

# The test process writes nothing while the test runs (daphne does, committed): the mark only
# gets the test database set up; the world is committed and flushed by its fixture.
pytestmark = pytest.mark.django_db

_turn = itertools.count()

# Checks that are not run on one operation, each with why its failure there is not a bug.
# Everything else runs every built-in check (none named: schemathesis runs them all).
NOT_BUGS: dict[str, list[Any]] = {
    # A well-formed username and password that match no account are refused with 400
    # `invalid_credentials` (docs/api.md), as DRF's token view and OAuth's invalid_grant do.
    "POST /api/v1/auth/token/": [positive_data_acceptance],
    # The fields of `content` depend on the {section} in the path (docs/notes.md), which
    # OpenAPI cannot tie to the body: vitals' pulse in the history is a 400 naming the field.
    "PUT /api/v1/consultations/{id}/notes/{section}/": [positive_data_acceptance],
    # Signing needs a written assessment (a rule on the notes, not on the request): 400
    # `assessment_missing` for an empty one.
    "POST /api/v1/consultations/{id}/notes/report/sign/": [positive_data_acceptance],
    # Cross-field rules a schema cannot state: a CCCD's digits against the birth date, a
    # guardian under 16 (docs/api.md, "Patients").
    "POST /api/v1/patients/": [positive_data_acceptance],
    "PATCH /api/v1/patients/{id}/": [positive_data_acceptance],
    # The file's bytes decide (JPEG, PNG or PDF, sniffed from the content: docs/notes.md);
    # a schema can only say it is binary, and random bytes are refused 400.
    "POST /api/v1/consultations/{id}/notes/attachments/": [positive_data_acceptance],
    # Cross-parameter rules: a specialty or a specialist is needed, `to` after `from`, at
    # most 13 weeks.
    "GET /api/v1/slots/": [positive_data_acceptance],
}


def load_schema() -> Any:
    """The app's own schema, generated in-process at collection (one test per operation)."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(generated)))
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES
    )
    return schema


@pytest.fixture(scope="module", params=ROLES)
def role(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def world(role: str, daphne_server: Daphne, django_db_blocker: Any) -> Iterator[World]:
    with django_db_blocker.unblock():
        yield build_world(make_cast())
        call_command("flush", interactive=False, verbosity=0)


SCHEMA = load_schema()

# They revoke the run's token (this device, every device): the run logs in again afterwards.
LOGOUTS = {"DELETE /api/v1/auth/token/", "DELETE /api/v1/auth/tokens/"}
# The first login and one after each example of the two logouts, in both modes (and spare).
LOGINS_PER_RUN = 4 * EXAMPLES + 10
TOKEN_ONLY = "DELETE /api/v1/auth/token/"  # a session has no token to revoke


class TokenAuth(requests.auth.AuthBase):
    """The role's token on every request, as the run's own credentials: `ignored_auth` then
    probes each operation without them and with wrong ones (and expects 401/403)."""

    def __init__(self, base_url: str, username: str, codes: list[str]) -> None:
        self.base_url, self.username, self.codes = base_url, username, codes
        self.log_in()

    def log_in(self) -> None:
        """As a client does: over the API (the first login makes the address known to the
        throttle, so the fuzz's wrong logins from it never lock this account out), with a
        second-factor code for a role that requires one."""
        body = {"username": self.username, "password": factories.PASSWORD}
        if self.codes:
            body["otp"] = self.codes.pop()
        response = requests.post(f"{self.base_url}/api/v1/auth/token/", json=body, timeout=30)
        response.raise_for_status()
        self.key = response.json()["token"]

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Token {self.key}"
        return request


@pytest.fixture(scope="module")
def auth(role: str, world: World, daphne_server: Daphne, django_db_blocker: Any) -> TokenAuth:
    user = world.user(role)
    assert user is not None
    with django_db_blocker.unblock():  # committed: the server reads them
        codes = api_login_codes(user, LOGINS_PER_RUN)
    return TokenAuth(daphne_server.url, user.username, codes)


@SCHEMA.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_answers_every_input_within_its_schema(
    case: Any, daphne_server: Daphne, role: str, world: World, auth: TokenAuth
) -> None:
    if case.path_parameters and next(_turn) % 2:
        real = world.kwargs(case.operation.path, role)
        case.path_parameters.update({k: str(v) for k, v in real.items() if k != "section"})
    token_only = case.operation.label == TOKEN_ONLY
    if token_only and "Authorization" in (case.headers or {}):
        # The token is this operation's only scheme, so the schema makes the header required
        # and a negative example leaves it out: the run's token goes only where one was put.
        case.headers["Authorization"] = f"Token {auth.key}"
    case.call_and_validate(
        base_url=daphne_server.url,
        headers={"Origin": daphne_server.url},
        auth=None if token_only else auth,
        excluded_checks=NOT_BUGS.get(case.operation.label, []),
    )
    if case.operation.label in LOGOUTS:
        auth.log_in()
