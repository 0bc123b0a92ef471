"""What a connection leaves behind once it is gone: nothing (bench/soak_connections.py)."""

import asyncio
import time
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from consults.realtime.groups import room_group
from consults.realtime.layer import RedisChannelLayer
from consults.room import reauth
from consults.room.models import RoomPeer
from tests.room.conftest import Opener

pytestmark = [pytest.mark.django_db(transaction=True)]


async def _group_size(group: str) -> int:
    layer = get_channel_layer()
    if isinstance(layer, RedisChannelLayer):
        async with layer.connection(layer.consistent_hash(group)) as redis:
            return int(await redis.zcard(layer._group_key(group)))
    return len(layer.groups.get(group, {}))  # type: ignore[union-attr]


async def test_connect_hello_close_cycles_leave_no_peer_rows_watchers_or_group_members(
    open_room: Opener, cast, consultation
) -> None:
    for _ in range(12):
        room = await open_room(cast.nurse, consultation)
        await room.expect("welcome")
        await room.comm.disconnect()
    specialist = await open_room(cast.specialist, consultation)
    await specialist.expect("welcome")
    await specialist.comm.disconnect()

    assert await database_sync_to_async(RoomPeer.objects.count)() == 0
    assert reauth._live == {}
    assert await _group_size(room_group(consultation.external_id)) == 0


@pytest.mark.redis
async def test_a_message_for_a_channel_nobody_receives_on_is_dropped_after_the_expiry() -> None:
    # channels-redis (#384) buffers a message that arrives for a channel whose consumer has
    # gone, forever: one queue per dropped socket in the soak.
    layer = RedisChannelLayer(hosts=[settings.REDIS_URL], prefix=f"t{uuid.uuid4().hex}", expiry=1)
    gone, alive = await layer.new_channel(), await layer.new_channel()
    consumer = asyncio.ensure_future(layer.receive(gone))
    await asyncio.sleep(0)
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    await layer.send(gone, {"type": "room.replaced"})
    await layer.send(alive, {"type": "n", "n": 0})
    assert await layer.receive(alive) == {"type": "n", "n": 0}
    assert gone in layer.receive_buffer  # read from Redis on `alive`'s behalf, kept for `gone`

    deadline = time.monotonic() + 10
    n = 0
    while gone in layer.receive_buffer:
        assert time.monotonic() < deadline, "the dead channel's buffer was never dropped"
        n += 1
        await layer.send(alive, {"type": "n", "n": n})
        assert await layer.receive(alive) == {"type": "n", "n": n}
    assert gone not in layer.idle_since
    await layer.flush()


@pytest.mark.redis
async def test_a_consumer_between_two_messages_keeps_what_is_buffered_for_it() -> None:
    layer = RedisChannelLayer(hosts=[settings.REDIS_URL], prefix=f"t{uuid.uuid4().hex}", expiry=1)
    slow, other = await layer.new_channel(), await layer.new_channel()
    await layer.send(slow, {"type": "a"})
    await layer.send(slow, {"type": "b"})
    assert await layer.receive(slow) == {"type": "a"}
    # `slow` is busy with "a" for less than the expiry; "b" waits in its buffer meanwhile.
    await layer.send(other, {"type": "x"})
    assert await layer.receive(other) == {"type": "x"}
    layer.sweep(now=layer.idle_since[slow] + 0.9)
    assert await layer.receive(slow) == {"type": "b"}
    await layer.flush()


def test_a_join_and_a_leave_stay_within_their_statement_budget(
    cast, consultation, django_assert_max_num_queries
) -> None:
    # Every connection pays these on the process's one database thread (the soak's
    # cycles/s); the budget is today's count, so a new query per join shows up here.
    from clinics.audit import Via
    from consults.room.access import room_participant
    from consults.room.presence import room_join, room_leave

    via = Via(ip="127.0.0.1", channel="ws")
    nurse = room_participant(consultation_id=str(consultation.external_id), user=cast.nurse)
    room_join(participant=nurse, peer_id="p-warm", channel_name="c!warm", via=via)
    room_leave(consultation=consultation, peer_id="p-warm", reason="left")

    with django_assert_max_num_queries(8):  # BEGIN, lock, status, peers, rev, peer, audit, COMMIT
        room_join(participant=nurse, peer_id="p-1", channel_name="c!1", via=via)
    with django_assert_max_num_queries(7):  # BEGIN, lock, status, peers, delete, rev, COMMIT
        room_leave(consultation=consultation, peer_id="p-1", reason="left")
