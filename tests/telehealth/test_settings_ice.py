"""STUN and TURN from plain comma lists (the environment file stays shell-safe), and the
credentials each participant gets for them."""

import base64
import hashlib
import hmac
import time
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from consults.room.turn import ice_servers_for
from tests.telehealth.test_settings_operations import load

TURN = "turn:turn.soyte.example:3478?transport=udp,turns:turn.soyte.example:5349?transport=tcp"


def test_stun_and_turn_lists_become_the_ice_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load(monkeypatch, STUN_URLS="stun:turn.soyte.example:3478", TURN_URLS=TURN, TURN_SECRET="t")
    assert s["ICE_SERVERS"] == [
        {"urls": ["stun:turn.soyte.example:3478"]},
        {"urls": TURN.split(",")},
    ]


def test_no_lists_and_no_json_means_no_ice_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load(monkeypatch)["ICE_SERVERS"] == []


def test_the_json_form_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load(monkeypatch, ICE_SERVERS='[{"urls": "stun:stun.soyte.example:3478"}]')
    assert s["ICE_SERVERS"] == [{"urls": "stun:stun.soyte.example:3478"}]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ICE_SERVERS": "[]", "STUN_URLS": "stun:a:3478"}, "not both"),
        ({"STUN_URLS": "turn:a:3478"}, "stun: or stuns:"),
        ({"TURN_URLS": "stun:a:3478", "TURN_SECRET": "t"}, "turn: or turns:"),
        ({"TURN_URLS": "turn:a:3478"}, "needs TURN_SECRET"),
    ],
)
def test_a_wrong_ice_setting_is_refused(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        load(monkeypatch, **env)


def test_each_participant_gets_coturn_rest_credentials_for_the_turn_urls(settings: Any) -> None:
    settings.ICE_SERVERS = [{"urls": ["stun:a:3478"]}, {"urls": TURN.split(",")}]
    settings.TURN_SECRET = "shared-with-coturn"
    settings.ROOM_TURN_TTL_SECONDS = 600
    stun, turn = ice_servers_for("peer-1")
    assert stun == {"urls": ["stun:a:3478"]}  # STUN needs no credentials
    expiry, peer = turn["username"].split(":")
    assert peer == "peer-1"
    digest = hmac.new(b"shared-with-coturn", turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(digest).decode()
    assert abs(int(expiry) - (time.time() + 600)) < 5
