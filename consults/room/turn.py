"""ICE servers for a participant, with coturn `use-auth-secret` credentials (TURN REST API)."""

import base64
import hashlib
import hmac
import time
from typing import Any

from django.conf import settings


def turn_credentials(
    peer: str, *, secret: str, ttl: int, now: float | None = None
) -> dict[str, str]:
    """username = "<unix expiry>:<peer>", credential = base64(HMAC-SHA1(secret, username))."""
    expiry = int((now if now is not None else time.time()) + ttl)
    username = f"{expiry}:{peer}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return {"username": username, "credential": base64.b64encode(digest).decode()}


def _is_turn(server: dict[str, Any]) -> bool:
    urls = server.get("urls", [])
    urls = [urls] if isinstance(urls, str) else urls
    return any(str(u).startswith(("turn:", "turns:")) for u in urls)


def ice_servers_for(peer: str) -> list[dict[str, Any]]:
    """settings.ICE_SERVERS, TURN entries stamped with fresh per-peer credentials."""
    secret = settings.TURN_SECRET
    ttl = settings.ROOM_TURN_TTL_SECONDS
    servers = []
    for server in settings.ICE_SERVERS:
        entry = dict(server)
        if secret and _is_turn(entry):
            entry.update(turn_credentials(peer, secret=secret, ttl=ttl))
        servers.append(entry)
    return servers
