"""Waiting room and lifecycle driven by the room; the specialist's live feed (the heartbeat:
test_heartbeat.py)."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from clinics.models import AuditEntry
from consults.models import Consultation
from consults.room.models import CallQualityReport
from telehealth.asgi import application
from tests.room.conftest import ORIGIN, Opener, session_cookie

pytestmark = [pytest.mark.django_db(transaction=True)]
S = Consultation.Status


async def status_of(consult: Consultation) -> str:
    return await database_sync_to_async(lambda: Consultation.objects.get(pk=consult.pk).status)()


@database_sync_to_async
def feed_reads(user, consult: Consultation) -> list[tuple]:
    """Audit entries of `user` reading the consult over a socket."""
    return list(
        AuditEntry.objects.filter(
            actor=user,
            action=AuditEntry.Action.READ,
            channel=AuditEntry.Channel.WS,
            object_type="consultation",
            object_id=str(consult.external_id),
        ).values_list("patient_id", flat=True)
    )


async def feed(user) -> WebsocketCommunicator:
    headers = [(b"origin", ORIGIN), (b"cookie", f"sessionid={await session_cookie(user)}".encode())]
    comm = WebsocketCommunicator(application, "/ws/notifications/", headers=headers)
    connected, _ = await comm.connect()
    assert connected
    return comm


async def test_the_station_joining_checks_the_patient_in_and_the_specialist_sees_it_live(
    open_room: Opener, cast, consultation
) -> None:
    specialist_feed = await feed(cast.specialist)
    try:
        assert (await specialist_feed.receive_json_from()) == {"type": "snapshot", "waiting": []}
        station = await open_room(cast.nurse, consultation)
        await station.expect("welcome")
        event = await specialist_feed.receive_json_from()
        assert event["type"] == "consult_waiting"
        assert event["consultation"]["id"] == str(consultation.external_id)
        assert event["consultation"]["patient"] == "Nông Thị Hoa"
        assert await status_of(consultation) == S.CHECKED_IN
        # The event named the patient to the specialist: a read of patient data.
        assert await feed_reads(cast.specialist, consultation) == [consultation.patient.external_id]
    finally:
        await specialist_feed.disconnect()


async def test_the_feed_snapshot_lists_waiting_consults(open_room: Opener, cast, consultation):
    station = await open_room(cast.nurse, consultation)
    await station.expect("welcome")
    specialist_feed = await feed(cast.specialist)
    try:
        snapshot = await specialist_feed.receive_json_from()
        assert [c["id"] for c in snapshot["waiting"]] == [str(consultation.external_id)]
        assert await feed_reads(cast.specialist, consultation) == [consultation.patient.external_id]
    finally:
        await specialist_feed.disconnect()


async def test_the_feed_refuses_an_anonymous_user_with_4401() -> None:
    comm = WebsocketCommunicator(application, "/ws/notifications/", headers=[(b"origin", ORIGIN)])
    await comm.connect()
    refused = json.loads((await comm.receive_output())["text"])
    assert refused["code"] == "not_authenticated"
    assert (await comm.receive_output())["code"] == 4401
    await comm.disconnect()


async def test_the_feed_of_an_outsider_shows_nothing(open_room: Opener, cast, consultation):
    station = await open_room(cast.nurse, consultation)
    await station.expect("welcome")
    outsider = await feed(cast.outsider_nurse)
    try:
        assert (await outsider.receive_json_from())["waiting"] == []
        assert await outsider.receive_nothing(0.3)
    finally:
        await outsider.disconnect()


async def test_the_call_starts_when_both_sides_are_in(open_room: Opener, cast, consultation):
    station = await open_room(cast.nurse, consultation)
    await station.expect("welcome")
    specialist = await open_room(cast.specialist, consultation)
    await specialist.expect("welcome")
    status = await station.expect("status")
    while status["consultation"]["status"] != S.IN_PROGRESS:
        status = await station.expect("status")
    assert await status_of(consultation) == S.IN_PROGRESS


async def test_a_dropped_connection_interrupts_and_never_completes(
    open_room: Opener, cast, consultation
) -> None:
    station = await open_room(cast.nurse, consultation)
    await station.expect("welcome")
    specialist = await open_room(cast.specialist, consultation)
    await specialist.expect("welcome")
    await station.comm.disconnect(code=1006)
    left = await specialist.expect("peer_left")
    assert left["reason"] == "dropped"
    assert await status_of(consultation) == S.INTERRUPTED
    again = await open_room(cast.nurse, consultation)
    await again.expect("welcome")
    await specialist.expect("peer_joined")
    assert await status_of(consultation) == S.IN_PROGRESS


async def test_only_an_explicit_end_by_the_specialist_completes(
    open_room: Opener, cast, consultation
) -> None:
    station = await open_room(cast.nurse, consultation)
    await station.expect("welcome")
    specialist = await open_room(cast.specialist, consultation)
    p = await specialist.expect("welcome")
    await specialist.send({"type": "end"})
    assert (await station.expect("ended"))["by"] == p["peer"]
    assert await station.closed() == 1000
    assert await status_of(consultation) == S.COMPLETED


async def test_pong_carries_the_room_revision_and_resync_returns_a_snapshot(
    open_room: Opener, cast, consultation
) -> None:
    station = await open_room(cast.nurse, consultation)
    await station.expect("welcome")
    specialist = await open_room(cast.specialist, consultation)
    p = await specialist.expect("welcome")
    await station.send({"type": "ping", "t": 1})
    assert (await station.expect("pong"))["rev"] == p["rev"]
    await station.send({"type": "resync"})
    snapshot = await station.expect("room")
    assert [(x["peer"], x["polite"]) for x in snapshot["peers"]] == [(p["peer"], False)]
    assert snapshot["rev"] == p["rev"]


async def test_quality_reports_are_stored_per_participant(open_room: Opener, cast, consultation):
    station = await open_room(cast.nurse, consultation)
    s = await station.expect("welcome")
    report = {"rtt_ms": 42.5, "loss_pct": 0.5, "bitrate_kbps": 800, "audio_only_s": 0}
    await station.send({"type": "quality", **report, "video": True})
    await station.send({"type": "ping"})
    await station.expect("pong")
    rows = await database_sync_to_async(
        lambda: list(CallQualityReport.objects.values("peer_id", "user", "role", "rtt_ms"))
    )()
    assert rows == [
        {"peer_id": s["peer"], "user": cast.nurse.pk, "role": "station", "rtt_ms": 42.5}
    ]


async def test_a_negative_quality_figure_is_refused(open_room: Opener, cast, consultation):
    station = await open_room(cast.nurse, consultation)
    await station.expect("welcome")
    await station.send({"type": "quality", "rtt_ms": -1})
    assert (await station.expect("error"))["code"] == "invalid_field"


@pytest.mark.redis
async def test_an_idle_socket_outlives_the_redis_layers_blocking_read(
    open_room: Opener, cast, consultation
) -> None:
    # channels-redis blocks 5 s per receive; redis-py 8's default socket timeout is also 5 s.
    station = await open_room(cast.nurse, consultation)
    await station.expect("welcome")
    assert await station.got_no("error", within=6.5)
    await station.send({"type": "ping", "t": 1})
    assert (await station.expect("pong"))["t"] == 1
