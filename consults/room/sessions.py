"""Sockets join their browser session's group, so that a logout can end them (events.py)."""

from typing import Any

from consults.room.events import session_group


def _group_of(consumer: Any) -> str | None:
    session = consumer.scope.get("session")
    key = getattr(session, "session_key", None)
    return session_group(key) if key else None


async def join_session_group(consumer: Any) -> None:
    """For a consumer authenticated by a session cookie (tickets and guests have none)."""
    consumer.session_group = _group_of(consumer)
    if consumer.session_group:
        await consumer.channel_layer.group_add(consumer.session_group, consumer.channel_name)


async def leave_session_group(consumer: Any) -> None:
    if getattr(consumer, "session_group", None):
        await consumer.channel_layer.group_discard(consumer.session_group, consumer.channel_name)
