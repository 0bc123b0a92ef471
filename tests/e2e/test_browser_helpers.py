"""wait_for_js works under the app's CSP, where page.wait_for_function(str) cannot."""

from typing import Any

import pytest

from tests.e2e.browser import wait_for_js

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_wait_for_js_sees_a_condition_become_true_under_the_csp(
    daphne_server: Any, browser: Any
) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{daphne_server.url}/login/")
        page.evaluate("setTimeout(() => { document.body.dataset.ready = 'yes'; }, 300)")
        assert wait_for_js(page, "document.body.dataset.ready") == "yes"
        with pytest.raises(TimeoutError):
            wait_for_js(page, "document.body.dataset.never", timeout=0.5)
    finally:
        context.close()
