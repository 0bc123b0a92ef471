"""The consult room socket (/ws/consultations/<id>/) — protocol in docs/signaling.md.

Thin: authenticate, guard (consults.realtime.guard: size, rate, refusals), authorize,
validate the frame, call a service or relay, reply.
"""

import asyncio
import json
import secrets
import time
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinics.audit import Via
from consults.realtime import events
from consults.realtime.close import CloseCode, RoomDenied
from consults.realtime.groups import room_group
from consults.realtime.guard import AsyncSocket, Limits
from consults.room import heartbeat, presence, protocol, reauth
from consults.room.access import Participant
from consults.room.peers import PeerTable
from consults.room.services import quality_report_record, room_participant_resolve
from consults.room.turn import ice_servers_for
from telehealth import metrics
from telehealth.codes import Code
from telehealth.errors import AppError

_resolve = database_sync_to_async(room_participant_resolve)


class RoomConsumer(AsyncSocket):
    participant: Participant | None = None
    peer: str = ""

    @property
    def role(self) -> str:
        return self.participant.role if self.participant else ""

    def guard_limits(self) -> Limits:
        return Limits(
            max_frame_bytes=settings.ROOM_MAX_FRAME_BYTES,
            burst=settings.ROOM_RATE_BURST,
            per_second=settings.ROOM_RATE_PER_SECOND,
            too_large=gettext_lazy("Frames are limited to 64 KiB."),
        )

    async def send_frame(self, frame: dict[str, Any]) -> None:
        self.out_seq += 1
        await self.send(text_data=json.dumps({**frame, "seq": self.out_seq}))

    async def handle(self, message: dict[str, Any]) -> None:
        """Channels runs Django's close_old_connections before every handler, in the one
        thread that also runs every database call of the process: each relayed frame then
        queued behind joins and access re-checks (the 200-room relay p99 in bench/). This
        consumer reaches the database only through database_sync_to_async, which does the
        same clean-up around each call, so frames go straight to their handler."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    def refuses_on_failure(self, message: dict[str, Any]) -> bool:
        # A frame before the socket has a peer is its `hello` (nothing else reaches a service).
        return super().refuses_on_failure(message) or (
            message["type"] == "websocket.receive" and not self.peer
        )

    # --- lifecycle -------------------------------------------------------------------
    async def connect(self) -> None:
        self.consultation_id = str(self.scope["url_route"]["kwargs"]["consultation_id"])
        self.group = room_group(self.consultation_id)
        self.via = Via.ws(self.scope)
        self.out_seq = 0
        self.table = PeerTable()
        self.checked_at = 0.0
        await self.accept()
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            if not await self.session_open():
                return
            try:
                self.participant = await _resolve(
                    consultation_id=self.consultation_id, user=user, ticket=None
                )
            except RoomDenied as denied:
                await self.deny(denied)
                return
        self.hello_timer = asyncio.get_running_loop().call_later(
            settings.ROOM_HELLO_TIMEOUT_SECONDS, self._hello_timeout
        )

    def _hello_timeout(self) -> None:
        # Through the inbox, so the refusal is dispatched like any message, in order.
        self.inbox.put({"type": "room.hello_timeout"})

    async def room_hello_timeout(self, event: dict[str, Any]) -> None:
        if not self.peer:
            await self.deny(RoomDenied(CloseCode.UNAUTHENTICATED, Code.HELLO_TIMEOUT))

    async def disconnect(self, code: int) -> None:
        """Leave the groups, then the room. The group discards never raise (a Redis that is
        away holds no membership), so the presence row goes even with Redis down; a
        database that is away leaves it to the TTL (the guard logs that)."""
        await self.leave_session_group()
        timer = getattr(self, "hello_timer", None)
        if timer is not None:
            timer.cancel()
        if self.peer:
            reauth.unwatch(self.peer)
            heartbeat.unwatch(self.peer)
        # Also after a `hello` that failed between joining the group and the room.
        await self.group_discard(self.group)
        if not self.peer or self.participant is None:
            return
        # A socket the server closed (revoked, rate limited, unavailable) has dropped out,
        # whatever code the client's side of the close carried.
        reason = "left" if (self.refused_with or code) in (1000, 1001) else "dropped"
        if self.refused_with == CloseCode.FORBIDDEN:  # after joining, only a revocation
            reason = "access_revoked"
        departures = await database_sync_to_async(presence.room_leave)(
            consultation=self.participant.consultation, peer_id=self.peer, reason=reason
        )
        await self._announce_departures(departures)

    # --- inbound frames ------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return
        try:
            data, spec = protocol.parse_frame(text_data)
        except protocol.ProtocolError as exc:
            await self.error(exc.code, exc.message, exc.ref)
            return
        kind = data["type"]
        if not self.peer:
            if kind != "hello":
                # Closed at once: a client that skipped `hello` is broken, and waiting out
                # the hello timeout only delays the same 4401.
                denied = RoomDenied(CloseCode.UNAUTHENTICATED, Code.HELLO_REQUIRED)
                await self.deny(denied, _("Send “hello” first."))
                return
            await self.on_hello(data)
            return
        if kind == "hello":
            await self.error(Code.ALREADY_JOINED, _("You are already in the room."), kind)
            return
        if not await self.authorized():
            return
        if spec.roles is not None and self.role not in spec.roles:
            await self.error(Code.NOT_ALLOWED, _("Your role cannot do this."), kind)
            return
        await getattr(self, f"on_{kind}")(data)

    async def authorized(self) -> bool:
        """The per-frame gate. Access is re-read from the database every ROOM_REAUTH_SECONDS
        by the process's batch check (`reauth`; revocations are also pushed at once), so the
        relay path does no query; if that check has fallen behind, the frame waits for the
        next batch (shared by every connection of the process)."""
        if not self.closing and time.monotonic() - self.checked_at > 3 * reauth.interval():
            await reauth.check_now(self.loop)
        return not self.closing

    async def on_hello(self, data: dict[str, Any]) -> None:
        try:
            participant = self.participant
            if data.get("ticket") or participant is None:
                participant = await _resolve(
                    consultation_id=self.consultation_id,
                    user=self.scope.get("user"),
                    ticket=data.get("ticket"),
                )
            self.participant = participant
            peer = "p-" + secrets.token_urlsafe(16)
            # Join the group first: presence events racing the join are ordered by `rev`.
            await self.channel_layer.group_add(self.group, self.channel_name)
            result = await database_sync_to_async(presence.room_join)(
                participant=participant, peer_id=peer, channel_name=self.channel_name, via=self.via
            )
        except RoomDenied as denied:
            await self.group_discard(self.group)
            await self.deny(denied)
            return
        self.peer, self.checked_at = peer, time.monotonic()
        self.loop = asyncio.get_running_loop()
        reauth.watch(self)
        heartbeat.watch(self, rev=result.rev)
        self.table.welcome(result.peers, result.rev)
        limits = {
            "max_frame_bytes": settings.ROOM_MAX_FRAME_BYTES,
            "max_peers": settings.ROOM_MAX_PEERS,
        }
        await self.send_frame(
            events.welcome_frame(
                peer=peer,
                participant=participant,
                join=result,
                ice_servers=ice_servers_for(peer),
                heartbeat_s=settings.ROOM_HEARTBEAT_SECONDS,
                limits=limits,
            )
        )
        for gone in result.departures:
            if gone.reason == "replaced":
                await self.channel_layer.send(gone.channel_name, {"type": "room.replaced"})
        await self._announce_departures(result.departures)
        await self.channel_layer.group_send(
            self.group,
            {
                "type": "room.presence",
                "event": "joined",
                "peer": peer,
                "role": participant.role,
                "name": participant.name,
                "channel": self.channel_name,
                "rev": result.me.joined_rev,
            },
        )

    async def _announce_departures(self, departures: list[presence.Departure]) -> None:
        await heartbeat.departures_announce(self.consultation_id, departures)

    async def _relay(self, data: dict[str, Any]) -> None:
        target = data["to"]
        row = self.table.peers.get(target)
        if row is None:
            assert self.participant is not None
            row = await database_sync_to_async(presence.peer_lookup)(
                consultation=self.participant.consultation, peer_id=target
            )
            if row is None or target == self.peer:
                await self.error(
                    Code.UNKNOWN_PEER, _("That peer is not in the room."), data["type"]
                )
                return
            self.table.peers[target] = row
        pseq = self.table.next_send_seq(target)
        kind = data["type"]
        frame = {k: v for k, v in data.items() if k != "to"}
        try:
            await self.channel_layer.send(
                row.channel_name,
                {"type": "room.relay", "frame": {**frame, "from": self.peer, "pseq": pseq}},
            )
            metrics.SIGNALING_RELAYED.inc()
        except ChannelFull:
            # The target's process is not keeping up; its next frame from us shows a gap
            # in `pseq`, so it is told to resync.
            await self.error(Code.PEER_BUSY, _("The other side is not receiving; try again."), kind)

    on_offer = on_answer = on_candidate = on_restart = _relay

    async def on_ping(self, data: dict[str, Any]) -> None:
        """From memory, no query: the frame's arrival is the heartbeat (consults/room/heartbeat.py),
        and `rev` is the newest revision this process knows of the room."""
        assert self.participant is not None
        rev = max(self.table.rev, heartbeat.room_rev(self.participant.consultation.pk))
        await self.send_frame({"type": "pong", "t": data.get("t"), "rev": rev})

    async def on_resync(self, data: dict[str, Any]) -> None:
        assert self.participant is not None
        peers, rev, status = await database_sync_to_async(presence.room_snapshot)(
            consultation=self.participant.consultation
        )
        me = next((p for p in peers if p.peer_id == self.peer), None)
        mine = me.joined_rev if me else rev
        heartbeat.saw_rev(self.participant.consultation.pk, rev)
        self.table.resync(peers, rev, me=self.peer)
        await self.send_frame(
            events.room_frame(
                self.table.peers.values(),
                mine=mine,
                consultation_id=self.consultation_id,
                status=status,
                rev=rev,
            )
        )

    async def on_quality(self, data: dict[str, Any]) -> None:
        assert self.participant is not None
        p = self.participant
        await database_sync_to_async(quality_report_record)(
            consultation_pk=p.consultation.pk,
            peer_id=self.peer,
            role=p.role,
            user=p.user,
            guest=p.guest,
            data=data,
        )

    async def on_end(self, data: dict[str, Any]) -> None:
        assert self.participant is not None
        try:
            await database_sync_to_async(presence.room_end)(
                consultation=self.participant.consultation, actor=self.participant.user
            )
        except AppError as exc:
            await self.error(exc.code, exc.message, "end")
            return
        await self.channel_layer.group_send(self.group, {"type": "room.ended", "by": self.peer})

    async def on_bye(self, data: dict[str, Any]) -> None:
        self.closing = True
        await self.close(code=1000)

    # --- channel layer events ------------------------------------------------------
    async def room_presence(self, event: dict[str, Any]) -> None:
        if not self.peer or event["peer"] == self.peer:
            return
        assert self.participant is not None
        heartbeat.saw_rev(self.participant.consultation.pk, event["rev"])
        if event["event"] == "joined":
            row = self.table.joined(event)
            if row is not None:
                await self.send_frame(events.peer_joined_frame(row, event["rev"]))
        elif self.table.left(event):
            await self.send_frame(
                events.peer_left_frame(event["peer"], event["reason"], event["rev"])
            )

    async def room_relay(self, event: dict[str, Any]) -> None:
        frame = event["frame"]
        if self.table.received(frame["from"], frame["pseq"]):
            await self.send_frame({"type": "resync", "peer": frame["from"], "reason": "gap"})
        await self.send_frame(frame)

    async def room_frame(self, event: dict[str, Any]) -> None:
        if self.peer and event.get("exclude") != self.peer:
            await self.send_frame(event["frame"])

    async def room_kick(self, event: dict[str, Any]) -> None:
        if self.participant is not None and self.participant.member == event["member"]:
            await self.deny(RoomDenied(CloseCode.FORBIDDEN, Code.ACCESS_REVOKED))

    async def room_replaced(self, event: dict[str, Any]) -> None:
        await self.deny(RoomDenied(CloseCode.NOT_JOINABLE, Code.REPLACED))

    async def room_timed_out(self, event: dict[str, Any]) -> None:
        await self.deny(RoomDenied(CloseCode.TIMED_OUT, Code.TIMED_OUT))

    async def room_ended(self, event: dict[str, Any]) -> None:
        if self.peer:
            await self.send_frame({"type": "ended", "by": event["by"]})
            self.closing = True
            await self.close(code=1000)
