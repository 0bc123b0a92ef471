"""Another capability adds a frame type through the registry (docs/signaling.md)."""

from collections.abc import Iterator
from typing import Any

import pytest

from consults.room.registry import REGISTRY, Field, RoomContext, frame
from tests.room.conftest import Opener

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shout_frame() -> Iterator[None]:
    @frame("test.shout", fields={"text": Field(str, max_len=20)}, roles={"specialist"})
    async def shout(ctx: RoomContext, data: dict[str, Any]) -> None:
        await ctx.broadcast({"type": "test.shouted", "text": data["text"].upper()})

    yield
    del REGISTRY["test.shout"]


async def test_an_extension_frame_is_validated_authorized_and_broadcast_with_from(
    open_room: Opener, cast, consultation, shout_frame
) -> None:
    station = await open_room(cast.nurse, consultation)
    await station.expect("welcome")
    specialist = await open_room(cast.specialist, consultation)
    p = await specialist.expect("welcome")

    await specialist.send({"type": "test.shout", "text": "xin chào"})
    heard = await station.expect("test.shouted")
    assert (heard["text"], heard["from"]) == ("XIN CHÀO", p["peer"])
    assert (await specialist.expect("test.shouted"))["from"] == p["peer"]

    await station.send({"type": "test.shout", "text": "hi"})
    assert (await station.expect("error"))["code"] == "not_allowed"
    await specialist.send({"type": "test.shout", "text": "x" * 21})
    assert (await specialist.expect("error"))["code"] == "invalid_field"
