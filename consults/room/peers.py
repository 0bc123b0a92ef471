"""One socket's view of its room: the other peers, the presence revision, and the per-peer
sequence numbers of directed frames (docs/signaling.md, "Presence" and "Ordering").

Kept apart from the consumer so the bookkeeping has no I/O: the consumer reads the database
and the channel layer, and asks this table what to tell its client.
"""

from typing import Any

from consults.room.models import RoomPeer


class PeerTable:
    def __init__(self) -> None:
        self.peers: dict[str, RoomPeer] = {}
        self.rev = 0
        self.snapshot_rev = 0  # presence events up to here are already in the welcome
        self._send_pseq: dict[str, int] = {}
        self._recv_pseq: dict[str, int] = {}
        # Peers a resync dropped before their `left` came (docs/signaling.md "Sequence numbers").
        self._unannounced: set[str] = set()

    def welcome(self, peers: list[RoomPeer], rev: int) -> None:
        self.peers = {p.peer_id: p for p in peers}
        self.rev = self.snapshot_rev = rev

    def resync(self, peers: list[RoomPeer], rev: int, *, me: str) -> None:
        """Replace the table with a snapshot. A peer it no longer lists left at a revision
        up to `rev`, but its `left` event may still be on its way (a `pong` can carry the
        newer `rev` first): that event is still delivered, so the client learns why."""
        fresh = {p.peer_id: p for p in peers if p.peer_id != me}
        self._unannounced |= self.peers.keys() - fresh.keys()
        self.peers = fresh
        self.rev = rev

    def joined(self, event: dict[str, Any]) -> RoomPeer | None:
        """The peer a `joined` presence event adds, or None if the welcome had it already."""
        if event["rev"] <= self.snapshot_rev:
            return None
        self.rev = max(self.rev, event["rev"])
        row = RoomPeer(
            peer_id=event["peer"],
            role=event["role"],
            name=event["name"],
            channel_name=event["channel"],
            joined_rev=event["rev"],
        )
        self.peers[row.peer_id] = row
        return row

    def left(self, event: dict[str, Any]) -> bool:
        """Forget a departed peer; True if the client should hear of it: it was in the
        table, or a resync dropped it before this event came."""
        self.rev = max(self.rev, event["rev"])
        peer = event["peer"]
        self._send_pseq.pop(peer, None)
        self._recv_pseq.pop(peer, None)
        unannounced = peer in self._unannounced
        self._unannounced.discard(peer)
        return self.peers.pop(peer, None) is not None or unannounced

    def next_send_seq(self, target: str) -> int:
        pseq = self._send_pseq.get(target, 0) + 1
        self._send_pseq[target] = pseq
        return pseq

    def received(self, sender: str, pseq: int) -> bool:
        """Record a directed frame's `pseq`; True when frames from `sender` went missing."""
        expected = self._recv_pseq.get(sender, 0) + 1
        self._recv_pseq[sender] = pseq
        return pseq > expected
