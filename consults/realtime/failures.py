"""What a failure of Redis or the database does to a socket (docs/signaling.md "When Redis or
the database fails").

Redis and the database may fail under a socket. Neither kills the consumer with a traceback:
a failed channel-layer read, or a `SERVICE_ERRORS` failure inside a handler, is logged once
and answered by the rule of `FailureRule.failure_answer` (a refusal 4503, an `error` frame,
or, on the way out, nothing) and the disconnect handler still runs.
"""

import logging
from enum import Enum
from typing import Any

from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext_lazy as _
from redis.exceptions import RedisError

from consults.realtime.close import CloseCode, RoomDenied
from telehealth.codes import Code

# The guard's logger, as before this module was split out of it (log filters name it).
log = logging.getLogger("consults.realtime.guard")

# Redis away or restarting (redis-py's errors; the builtin ones where a socket fails under it).
LAYER_ERRORS: tuple[type[Exception], ...] = (RedisError, ConnectionError, TimeoutError)
# The database away: a terminated connection, a pool that lent none within its timeout
# ("couldn't get a connection after 3.00 sec"). Not IntegrityError or DataError: those are
# bugs, and stay loud.
DATABASE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
SERVICE_ERRORS = LAYER_ERRORS + DATABASE_ERRORS
UNAVAILABLE = RoomDenied(CloseCode.SERVICE_UNAVAILABLE, Code.SERVICE_UNAVAILABLE)
UNAVAILABLE_MESSAGE = _("The server is briefly unavailable; try again.")


class Answer(Enum):
    """What a failure of Redis or the database does to the socket."""

    REFUSE = "refuse"  # `error` service_unavailable, then close 4503: the client reconnects
    ERROR = "error"  # `error` service_unavailable for this frame; the socket stays open
    STOP = "stop"  # on the way out: logged, the consumer ends as it would have
    NOTHING = "nothing"  # a timer or a periodic re-check: logged, the next one tries again


class FailureRule:
    """The guard's part that logs a service failure and decides its answer."""

    layer_failed = False  # the channel layer failed under this socket: it is closing
    failure_logged = False
    scope: Any

    def log_failure(self, exc: BaseException, during: str) -> None:
        """One line per socket, no traceback: an outage fails every socket of the process
        alike, and its cause is the service's, not this code's."""
        if self.failure_logged:
            return
        self.failure_logged = True
        log.warning(
            "%s failed during %s on %s: %s: %s",
            "Redis" if isinstance(exc, LAYER_ERRORS) else "The database",
            during,
            self.scope.get("path"),
            type(exc).__name__,
            exc,
        )

    def refuses_on_failure(self, message: dict[str, Any]) -> bool:
        """Whether a failure while handling this message refuses the socket: on connect
        (a consumer that does more before it is let in says so, as the room's `hello`)."""
        return message["type"] == "websocket.connect"

    def failure_answer(self, message: dict[str, Any], exc: BaseException) -> Answer:
        """docs/signaling.md "When Redis or the database fails": a socket that lost Redis
        is deaf to its groups, so it is refused whatever it was doing; a database failure
        refuses a socket being let in and answers a frame with an error; on the way out,
        nothing is owed (presence has a TTL)."""
        kind = message["type"]
        if isinstance(exc, LAYER_ERRORS):
            self.layer_failed = True
        self.log_failure(exc, kind)
        if kind == "websocket.disconnect":
            return Answer.STOP
        if self.layer_failed or self.refuses_on_failure(message):
            return Answer.REFUSE
        return Answer.ERROR if kind == "websocket.receive" else Answer.NOTHING
