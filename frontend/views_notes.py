"""Pages of the shared notes: the notes page within a consult and the printable report."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from clinics.audit import Via
from clinics.models import User
from consults.access import can_join_consultation, is_assigned_specialist, is_station_side
from consults.models import Consultation
from consults.notes import selectors
from consults.notes.access import notes_get_for_reader
from consults.notes.audit import Notes, audit_read
from consults.notes.models import AsyncCase, SectionKey
from consults.notes.sections import VITAL_RANGES
from consults.realtime import events
from frontend.pages import page_user


def _strings() -> dict[str, str]:
    """The page script's words, translated here so the catalog stays in one place."""
    return {
        "saved": _("Saved"),
        "saving": _("Saving…"),
        "unsent": _("Not sent yet: will be sent when the connection is back"),
        "offline": _("Offline: your edits are kept on this device"),
        "online": _("Connected"),
        "editing": _("%(name)s is editing…"),
        "updated_by": _("Revision %(revision)s by %(name)s at %(time)s"),
        "never": _("Not written yet"),
        "conflict": _("%(name)s saved this section while you were editing. Compare and merge:"),
        "signed": _("The report is signed: the notes can no longer change."),
        "error": _("Could not save"),
        "applied": _("applied"),
        "refused": _("refused (conflict)"),
        "upload_failed": _("Upload refused"),
        "newer": _("Someone saved a newer version of this section."),
        "remove_code": _("Remove %(code)s"),
    }


def notes_boot(user: User, consultation: Consultation, *, with_state: bool) -> dict[str, Any]:
    """What the notes script (frontend/static/frontend/notes/notes.js) mounts with. Without
    the state, the sections come from the socket's first frame (audited there)."""
    boot: dict[str, Any] = {
        "consultation": str(consultation.external_id),
        "me": events.person(user),
        "strings": _strings(),
    }
    if with_state:
        boot["state"] = selectors.notes_state(consultation)
    return boot


@login_required
@require_GET
def notes_page(request: HttpRequest, id: str) -> HttpResponse:
    user = page_user(request)
    consultation = notes_get_for_reader(user, id)
    audit_read(actor=user, what=Notes, consultation=consultation, via=Via.http(request))
    signed = selectors.report_of(consultation)
    context: dict[str, Any] = {
        "consultation": consultation,
        "sections": SectionKey.choices,
        "vital_ranges": VITAL_RANGES,
        "can_write": can_join_consultation(user, consultation) and signed is None,
        "is_participant": can_join_consultation(user, consultation),
        "is_specialist": is_assigned_specialist(user, consultation),
        "is_station": is_station_side(user, consultation),
        "async_case": AsyncCase.objects.filter(consultation=consultation).first(),
        "report": signed,
        "boot": notes_boot(user, consultation, with_state=True),
    }
    return render(request, "frontend/notes/notes.html", context)
