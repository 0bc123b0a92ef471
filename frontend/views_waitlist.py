"""The station's earlier-slot offers (waitlist) on the agenda, taken in one click.

Apart from views_agenda.py: the agenda only adds `waitlist_context` to its page.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinics.access import station_ids_of
from clinics.audit import Via, audit_patients_read
from clinics.models import User
from consults.access import can_check_in, consultation_get_for_user
from consults.scheduling.models import WaitlistEntry
from consults.scheduling.services import waitlist_take
from consults.scheduling.waitlist import waitlist_offers_for
from frontend.pages import page_user
from telehealth.codes import Code
from telehealth.errors import AppError, not_found


def waitlist_context(request: HttpRequest, user: User) -> dict[str, Any]:
    """The agenda's offers block. The offers name their patients: that is a read."""
    offers = list(waitlist_offers_for(user))
    audit_patients_read(
        actor=user, patients={o.consultation.patient for o in offers}, via=Via.http(request)
    )
    return {"waitlist_offers": offers, "waitlist_live": bool(station_ids_of(user))}


@login_required
@require_POST
def waitlist_take_page(request: HttpRequest) -> HttpResponse:
    """Move a consult to the earlier slot on offer: the same rule (can_check_in) and the
    same service as the API's take."""
    user = page_user(request)
    consult = consultation_get_for_user(user, request.POST.get("consultation", ""))
    if not can_check_in(user, consult):
        raise AppError(
            Code.PERMISSION_DENIED, _("Only the station can use the waitlist."), status=403
        )
    entry = WaitlistEntry.objects.filter(consultation=consult).first()
    if entry is None:
        raise not_found(_("There is no earlier slot on offer for this consult."))
    try:
        moved = waitlist_take(entry=entry, actor=user)
    except AppError as exc:  # taken by another booking meanwhile, or no longer on offer
        messages.error(request, str(exc.message))
        return redirect("frontend:agenda")
    assert moved.start is not None
    start = timezone.localtime(moved.start)
    messages.success(
        request, _("Moved to the earlier slot: %(when)s.") % {"when": f"{start:%d/%m/%Y %H:%M}"}
    )
    return redirect(f"/agenda/?day={start.date().isoformat()}")
