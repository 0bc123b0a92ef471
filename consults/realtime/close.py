"""Close codes of every socket (docs/signaling.md "Close codes"), and the refusal that carries one.

Application close codes are 1000 or in 3000–4999: daphne refuses any other (a 1009 crashed
the consumer, docs/decisions.md).
"""

from enum import IntEnum

from telehealth.codes import Code


class CloseCode(IntEnum):
    NORMAL = 1000
    UNAUTHENTICATED = 4401
    FORBIDDEN = 4403
    NOT_FOUND = 4404
    TIMED_OUT = 4408  # silent past the heartbeat TTL: reconnectable, unlike 4409
    NOT_JOINABLE = 4409
    RATE_LIMITED = 4429
    # Redis or the database failed under this socket: nothing is wrong with the client, which
    # reconnects with backoff (a restarted Redis lost the socket's group memberships).
    SERVICE_UNAVAILABLE = 4503


class RoomDenied(Exception):
    """A socket refused (or ended) with a close code and the `error` frame's code."""

    def __init__(self, close_code: int, code: Code) -> None:
        super().__init__(code)
        # A plain int: autobahn refuses any other type, an IntEnum included (the socket then
        # died with 1011 instead of its close code).
        self.close_code = int(close_code)
        self.code = code
