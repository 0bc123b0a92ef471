"""Schemathesis on the dashboard operations as an administrator (the project-wide fuzz test
in tests/e2e/test_api_fuzz.py calls them as a station nurse, who only ever gets 404)."""

from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import Cast
from tests.e2e.servers import Daphne
from tests.e2e.test_api_fuzz import TokenAuth, load_schema
from tests.two_factor import api_login_codes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCHEMA = load_schema().include(path_regex=r"^/api/v1/dashboard")


@pytest.fixture
def admin_auth(march: Cast, daphne_server: Daphne) -> TokenAuth:
    """The administrator's token, logged in over the API as a client does."""
    codes = api_login_codes(march.admin, 1)
    return TokenAuth(daphne_server.url, march.admin.username, codes)


@SCHEMA.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_dashboard_answers_every_input_within_its_schema(
    case: Any, daphne_server: Daphne, admin_auth: TokenAuth
) -> None:
    case.call_and_validate(
        base_url=daphne_server.url,
        headers={"Origin": daphne_server.url},
        auth=admin_auth,
        # Not a bug: `from`..`to` spans at most 24 months, a rule across two parameters that
        # a schema cannot state, so a schema-valid pair may be refused 400 `invalid_month`.
        excluded_checks=[positive_data_acceptance],
    )
