"""The pages' scripts learn the close codes from the server (consults.realtime.close), and
one script (static/frontend/socket.js) reconnects for all of them."""

import json
import re
from pathlib import Path

import pytest
from django.test import Client

from consults.realtime.close import CloseCode
from tests.conftest import Cast

STATIC = Path(__file__).resolve().parents[2] / "frontend" / "static" / "frontend"


def socket_config(page: str) -> dict[str, object]:
    match = re.search(r'<script id="socket-config" type="application/json">(.*?)</script>', page)
    assert match, "the page carries no socket config"
    return json.loads(match.group(1))


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/login/", "/room/waiting/", "/agenda/"])
def test_every_page_carries_exactly_the_close_codes_of_the_enum(cast: Cast, url: str) -> None:
    client = Client()
    client.force_login(cast.specialist)
    config = socket_config(client.get(url).content.decode())
    assert config["close"] == {code.name: code.value for code in CloseCode}
    # A rate-limited or timed-out client, or one whose server lost a service, comes back after
    # a pause; on every other code it stops.
    reconnect = {CloseCode.RATE_LIMITED, CloseCode.TIMED_OUT, CloseCode.SERVICE_UNAVAILABLE}
    assert config["final"] == sorted(set(CloseCode) - reconnect)


def test_no_page_script_retypes_a_close_code_or_its_own_reconnect() -> None:
    for script in STATIC.rglob("*.js"):
        source = script.read_text()
        assert not re.search(r"\b(1009|4[0-9]{3})\b", source), script.name
        if script.name != "socket.js":
            assert "2 **" not in source, f"{script.name} has a backoff of its own"


def test_every_script_that_opens_a_websocket_does_it_through_socket_js() -> None:
    for script in STATIC.rglob("*.js"):
        source = script.read_text()
        if script.name == "socket.js" or "/ws/" not in source:
            continue
        assert re.search(r'from "(\.\.?/socket|\./signaling)\.js"', source), script.name
        # The pre-call test is one timed attempt: its socket never reconnects.
        assert "new WebSocket(" not in source or script.name == "precall.js", script.name
