"""One socket's bookkeeping of its room (consults/room/peers.py): no database, no sockets."""

from consults.room.models import RoomPeer
from consults.room.peers import PeerTable


def _row(peer: str, rev: int) -> RoomPeer:
    return RoomPeer(
        peer_id=peer, role="specialist", name="BS", channel_name=f"ch-{peer}", joined_rev=rev
    )


def _joined(peer: str, rev: int) -> dict:
    return {"peer": peer, "role": "station", "name": "Trạm", "channel": f"ch-{peer}", "rev": rev}


def test_it_ignores_a_join_the_welcome_already_listed():
    table = PeerTable()
    table.welcome([_row("p-a", 3)], rev=5)

    assert table.joined(_joined("p-a", 3)) is None
    assert table.joined(_joined("p-b", 5)) is None
    added = table.joined(_joined("p-c", 6))

    assert added is not None
    assert added.channel_name == "ch-p-c"
    assert set(table.peers) == {"p-a", "p-c"}
    assert table.rev == 6


def test_it_numbers_directed_frames_per_target():
    table = PeerTable()

    assert [table.next_send_seq("p-a") for _ in range(3)] == [1, 2, 3]
    assert table.next_send_seq("p-b") == 1


def test_it_reports_a_gap_in_a_senders_frames_once():
    table = PeerTable()

    assert table.received("p-a", 1) is False
    assert table.received("p-a", 2) is False
    assert table.received("p-a", 4) is True  # frame 3 was lost by the channel layer
    assert table.received("p-a", 5) is False


def test_it_forgets_a_departed_peers_sequences_so_a_rejoin_starts_at_one():
    table = PeerTable()
    table.welcome([_row("p-a", 1)], rev=1)
    table.next_send_seq("p-a")
    table.received("p-a", 7)

    assert table.left({"peer": "p-a", "rev": 2}) is True
    assert table.left({"peer": "p-a", "rev": 2}) is False
    assert table.next_send_seq("p-a") == 1
    assert table.received("p-a", 1) is False
    assert table.rev == 2


def test_a_resync_replaces_the_peers_without_listing_myself():
    table = PeerTable()
    table.welcome([_row("p-old", 1)], rev=1)

    table.resync([_row("p-me", 2), _row("p-new", 3)], rev=4, me="p-me")

    assert set(table.peers) == {"p-new"}
    assert table.rev == 4


def test_a_left_that_comes_after_a_resync_which_dropped_the_peer_is_still_delivered():
    # A pong carried the newer rev first; the client resynced; then the `left` arrived.
    table = PeerTable()
    table.welcome([_row("p-a", 1), _row("p-b", 2)], rev=2)

    table.resync([_row("p-b", 2)], rev=3, me="p-me")

    assert table.left({"peer": "p-a", "rev": 3}) is True
    assert table.left({"peer": "p-a", "rev": 3}) is False  # once
    assert table.left({"peer": "p-stranger", "rev": 3}) is False
    assert set(table.peers) == {"p-b"}
