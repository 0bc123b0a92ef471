"""When a browser session is idle: one rule for the pages and the API
(clinics.middleware) and for the sockets opened with the session (consults.realtime.guard).

A session is idle when nobody used it for longer than SESSION_IDLE_MINUTES: `last_seen`, kept
in the session, is stamped by every HTTP request and, at most every `touch_interval()`
seconds, by the frames a person sends on a socket (docs/signaling.md "Idle sessions"). An idle
session is logged out by its next request and its sockets close 4401 `session_expired`.
"""

import time
from collections.abc import Iterable, Mapping
from enum import Enum
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase, UpdateError
from django.utils import timezone

LAST_SEEN = "last_seen"


class SessionState(Enum):
    LIVE = "live"
    IDLE = "idle"  # unused for longer than the limit: logged out at its next request
    GONE = "gone"  # logged out, flushed or expired: no row any more


def clock() -> float:
    """Seconds since the epoch, as `last_seen` holds them (a JSON number in the session)."""
    return time.time()


def idle_limit() -> float:
    return float(settings.SESSION_IDLE_TIMEOUT.total_seconds())


def touch_interval() -> float:
    """How stale a socket may leave `last_seen`: SESSION_TOUCH_SECONDS, and at most a quarter
    of the limit, so a person typing on a socket only is never taken for idle (she is at
    worst `touch_interval()` seconds fresher than the session says)."""
    return min(float(settings.SESSION_TOUCH_SECONDS), idle_limit() / 4)


def session_is_idle(session: Mapping[str, Any], now: float) -> bool:
    """The rule. A session not stamped yet (the login's own request) is not idle."""
    last_seen = session.get(LAST_SEEN)
    return last_seen is not None and now - float(last_seen) > idle_limit()


def session_stamp(session: SessionBase, now: float) -> None:
    session[LAST_SEEN] = now


def _store(session_key: str) -> SessionBase:
    store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return store


def _state(store: SessionBase, now: float) -> SessionState:
    store.get(LAST_SEEN)  # loads it; a missing or expired session leaves no key
    if store.session_key is None:
        return SessionState.GONE
    return SessionState.IDLE if session_is_idle(store, now) else SessionState.LIVE


def session_state(session_key: str) -> SessionState:
    """A session as stored now (not the copy a socket loaded when it connected)."""
    return _state(_store(session_key), clock())


def session_states(session_keys: Iterable[str]) -> dict[str, SessionState]:
    """`session_state` of many sessions in one query (the room's batched re-check)."""
    keys = set(session_keys)
    if not keys:
        return {}
    store = _store("")
    rows = store.get_model_class().objects.filter(  # type: ignore[attr-defined]
        session_key__in=keys, expire_date__gt=timezone.now()
    )
    now = clock()
    states = dict.fromkeys(keys, SessionState.GONE)
    for row in rows.only("session_key", "session_data"):
        idle = session_is_idle(store.decode(row.session_data), now)
        states[row.session_key] = SessionState.IDLE if idle else SessionState.LIVE
    return states


def session_seen(session_key: str) -> SessionState:
    """A frame a person sent on a socket of this session: stamp `last_seen` if it is older
    than `touch_interval()` (so not a write per frame), unless the session is idle already:
    a frame after the limit does not bring it back, as a request after it does not.

    The session is read and written back at once; a request of the same session saving in
    between loses its own change to this write (as two requests of one session do in
    Django), so the write is kept rare."""
    now = clock()
    store = _store(session_key)
    state = _state(store, now)
    if state is SessionState.LIVE and now - float(store.get(LAST_SEEN, 0)) >= touch_interval():
        session_stamp(store, now)
        try:
            store.save()
        except UpdateError:  # logged out between the read and the write
            return SessionState.GONE
    return state
