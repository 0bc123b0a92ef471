"""Who is editing which section: ephemeral, never written, so sent at once (not on commit)."""

from clinics.models import User
from consults.models import Consultation
from consults.realtime import events
from consults.realtime.groups import notes_group
from consults.realtime.send import notes_message, send_now


def note_presence_announce(
    *, consultation: Consultation, section: str, editing: bool, actor: User
) -> None:
    """Precondition: `actor` is on the consult and `section` a valid key."""
    frame = events.note_presence(actor, section, editing)
    send_now(notes_group(consultation.external_id), notes_message(frame))
