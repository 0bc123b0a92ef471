"""Helpers for Playwright tests under the app's Content-Security-Policy.

`page.wait_for_function("…")` compiles its predicate with eval inside the page, which the
CSP (`script-src 'self'`) forbids. `wait_for_js` polls `page.evaluate` instead (evaluated
through the DevTools protocol, outside the page's CSP) until the expression is truthy.
"""

import time
from typing import Any


def wait_for_js(page: Any, expression: str, *, timeout: float = 15.0, every: float = 0.1) -> Any:
    """Return the first truthy value of `expression`, or raise TimeoutError after `timeout` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = page.evaluate(expression)
        if last:
            return last
        page.wait_for_timeout(every * 1000)
    raise TimeoutError(f"{expression!r} stayed falsy for {timeout}s (last: {last!r})")
