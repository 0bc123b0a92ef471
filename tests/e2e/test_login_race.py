"""Parallel wrong passwords across two daphne processes: the throttle admits at most its
limit, whichever process and whichever login path (API token, login page) they reach.
On PostgreSQL the bucket rows are locked; on SQLite the IMMEDIATE transaction is."""

import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from typing import Any

import pytest
from django.conf import settings

from clinics.models import LoginBucket, LoginFailure
from tests import factories
from tests.e2e.conftest import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True)]
ATTEMPTS = 40


def post_token(base: str, username: str, password: str) -> int:
    body = json.dumps({"username": username, "password": password}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/auth/token/", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def login_page(base: str) -> Callable[[str, str], int]:
    """A browser's session on the login page (CSRF cookie and token); returns its POST."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    with opener.open(f"{base}/login/", timeout=30) as response:
        html = response.read().decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "the login page has a CSRF token"

    def post(username: str, password: str) -> int:
        form = {"csrfmiddlewaretoken": match.group(1), "username": username, "password": password}
        request = urllib.request.Request(
            f"{base}/login/",
            data=urllib.parse.urlencode(form).encode(),
            headers={"Referer": f"{base}/login/"},
        )
        try:
            with opener.open(request, timeout=60) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    return post


def test_forty_parallel_guesses_on_two_servers_evaluate_at_most_the_limit(
    start_daphne: Callable[..., Any],
) -> None:
    user = factories.make_user(username="racer")
    servers = [start_daphne("daphne-login-a"), start_daphne("daphne-login-b")]
    api_half = ATTEMPTS // 2
    pages = [login_page(servers[i % 2].url) for i in range(ATTEMPTS - api_half)]
    start = threading.Barrier(ATTEMPTS)

    def attempt(i: int) -> tuple[str, int]:
        start.wait(timeout=60)
        if i < api_half:
            return "api", post_token(servers[i % 2].url, user.username, f"guess-{i}")
        return "page", pages[i - api_half](user.username, f"guess-{i}")

    with ThreadPoolExecutor(max_workers=ATTEMPTS) as pool:
        answers = Counter(pool.map(attempt, range(ATTEMPTS)))

    limit = settings.LOGIN_FAILURE_LIMIT
    evaluated = LoginFailure.objects.filter(username="racer").count()
    print(f"answers {dict(answers)}; evaluated {evaluated} of {ATTEMPTS} (limit {limit})")
    assert evaluated == limit
    assert LoginBucket.objects.get(kind="pair", username="racer").failures == limit
    # The API says which were evaluated (400) and which refused unchecked (429); the page
    # answers 400 to both, and no attempt failed otherwise.
    assert answers[("api", 400)] <= limit
    assert answers[("api", 400)] + answers[("api", 429)] == api_half
    assert answers[("page", 400)] == ATTEMPTS - api_half
    # The right password is refused too while the address is throttled.
    assert post_token(servers[0].url, "racer", PASSWORD) == 429
