"""Channel-layer group names: who hears what. The one place a group is named."""

import hashlib
from typing import Any


def _hex(external_id: Any) -> str:
    return str(external_id).replace("-", "")


def room_group(consultation_id: Any) -> str:
    """Every peer in a consult's room (/ws/consultations/<id>/)."""
    return f"room.{_hex(consultation_id)}"


def notes_group(consultation_id: Any) -> str:
    """Every notes socket of a consult (/ws/consultations/<id>/notes/)."""
    return f"notes.{_hex(consultation_id)}"


def user_group(user_external_id: Any) -> str:
    """One user's live feed (/ws/notifications/)."""
    return f"user.{_hex(user_external_id)}"


def session_group(session_key: str) -> str:
    """Every socket opened with one browser session (the key itself never goes to Redis)."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:32]
