"""The close codes of every socket, for the page scripts (frontend/static/frontend/socket.js).

Rendered from `consults.realtime.close.CloseCode` so a script never retypes them.
"""

from django import template
from django.utils.html import json_script
from django.utils.safestring import SafeString

from consults.realtime.close import CloseCode

register = template.Library()

# docs/signaling.md "Close codes": a rate-limited or timed-out client, or one whose server lost
# Redis or its database, reconnects after a pause; every other code is final (stop, or log in
# again).
RECONNECT_AFTER = frozenset(
    {CloseCode.RATE_LIMITED, CloseCode.TIMED_OUT, CloseCode.SERVICE_UNAVAILABLE}
)


def socket_config() -> dict[str, object]:
    return {
        "close": {code.name: code.value for code in CloseCode},
        "final": sorted(code.value for code in CloseCode if code not in RECONNECT_AFTER),
    }


@register.simple_tag
def socket_config_script() -> SafeString:
    return json_script(socket_config(), "socket-config")
