"""The one realtime layer every socket shares (docs/signaling.md, docs/architecture.md).

A leaf package: the capabilities (scheduling, room, notes) import it; it imports none of them.
"""
