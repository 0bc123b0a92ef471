"""Pages of the live room: the pre-join screen, the call, a guest's link (thin views)."""

from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from clinics.audit import Via, audit_record
from clinics.models import AuditEntry, Consent
from clinics.selectors import consent_current
from consults.access import consultation_get_for_user
from consults.models import Consultation
from consults.notes import selectors as notes_selectors
from consults.notes.models import SectionKey
from consults.realtime.close import CloseCode, RoomDenied
from consults.room.access import Participant, guest_is_valid, room_participant
from consults.room.services import guest_invite_from_token
from consults.scheduling.models import ConsultRequest
from frontend.pages import page_user
from frontend.views_notes import notes_boot


def _config(consult: Consultation, guest_token: str = "") -> dict[str, object]:
    strings: dict[str, str] = {value: str(label) for value, label in Consultation.Status.choices}
    strings.update(
        {
            "reconnecting": _("Connection lost. Reconnecting…"),
            "ended": _("The consult has ended."),
            "no_camera": _("No camera: you joined with audio only."),
            "confirm_end": _("End the consult for everyone?"),
            "confirm_leave": _("Leave the call? Your camera and microphone will be turned off."),
            "left": _("You left the call."),
            "peer_left": _("The other side left the call."),
            "peer_weak": _("The other side's connection is weak."),
            "audio_off": _("Turn the microphone off"),
            "audio_on": _("Turn the microphone on"),
            "video_off": _("Turn the camera off"),
            "video_on": _("Turn the camera on"),
            "q_good": _("Good"),
            "q_fair": _("Fair"),
            "q_poor": _("Poor"),
            "q_unknown": "—",
            f"close_{CloseCode.UNAUTHENTICATED.value}": _("Your login has expired. Log in again."),
            f"close_{CloseCode.FORBIDDEN.value}": _(
                "You are not a participant of this consultation."
            ),
            f"close_{CloseCode.NOT_FOUND.value}": _("No such consultation."),
            f"close_{CloseCode.NOT_JOINABLE.value}": _(
                "This consult was opened in another window, or cannot be joined now."
            ),
        }
    )
    # Closed with these, a reload cannot bring the call back: the ended screen offers no rejoin.
    no_rejoin = [CloseCode.UNAUTHENTICATED, CloseCode.FORBIDDEN, CloseCode.NOT_FOUND]
    return {
        "consultation": str(consult.external_id),
        "guestToken": guest_token,
        "strings": strings,
        "noRejoin": [code.value for code in no_rejoin],
    }


def _summary(consult: Consultation) -> dict[str, Any]:
    """The patient and the booking at the top of the consult screen. The age is counted on
    the station's today: a specialist abroad, past midnight, still sees the patient's age."""
    patient = consult.patient
    today = timezone.localdate(timezone=ZoneInfo(consult.station.time_zone))
    current = consent_current(patient)
    return {
        "patient": patient,
        "age": patient.age_on(today),
        "consents": [
            {"label": label, "status": current.get(value, "")}
            for value, label in Consent.Purpose.choices
        ],
        # A booking's reason, or a request's (filed with it): both are the consult's reason;
        # a request may add notes for the hospital.
        "reason": consult.reason,
        "request_notes": ConsultRequest.objects.filter(consultation=consult)
        .values_list("notes", flat=True)
        .first(),
    }


def _panels(user: Any, consult: Consultation) -> dict[str, Any]:
    """The notes and chat beside the call. The notes come over the notes socket (which
    audits what it sends), so this page reads no note."""
    return {
        "sections": SectionKey.choices,
        "can_write": notes_selectors.report_of(consult) is None,
        "is_participant": True,
        "boot": notes_boot(user, consult, with_state=False),
    }


def _joinable(request: HttpRequest, id: str) -> Participant | HttpResponse:
    """The participant of the room `id` for this user, audited; or the refusal to answer."""
    user = page_user(request)
    try:
        participant = room_participant(consultation_id=id, user=user)
    except RoomDenied as denied:
        # Not visible at all (another station, another hospital): 404, like every page.
        # Visible but not a participant (a coordinator): 403 says why.
        if denied.close_code == CloseCode.NOT_FOUND:
            raise Http404 from denied
        consultation_get_for_user(user, id)
        return render(request, "frontend/room/denied.html", {"code": denied.code}, status=403)
    consult = participant.consultation
    audit_record(
        actor=user,
        action=AuditEntry.Action.READ,
        obj=consult,
        patient=consult.patient,
        via=Via.http(request),
    )
    return participant


@login_required
@require_GET
def room(request: HttpRequest, id: str) -> HttpResponse:
    participant = _joinable(request, id)
    if isinstance(participant, HttpResponse):
        return participant
    consult = participant.consultation
    return render(
        request,
        "frontend/room/room.html",
        {
            "consult": consult,
            "role": participant.role,
            "config": _config(consult),
            "summary": _summary(consult),
            "panels": _panels(page_user(request), consult),
        },
    )


def _prejoin_config() -> dict[str, object]:
    strings = {
        "running": _("Testing…"),
        "ok": _("Working"),
        "missing": _("Not found"),
        "busy": _("The test server is busy. Try again in a minute."),
        "pass": _("Good"),
        "warn": _("Fair"),
        "fail": _("Poor"),
        "pass_hint": _("Your link is good for video."),
        "warn_hint": _("Video may be poor; audio should work."),
        "fail_hint": _("Fix the camera, microphone or connection before the consult."),
        "no_devices": _("The browser gave no camera or microphone. Allow them and reload."),
        "device": _("Device %(n)s"),
    }
    return {"strings": strings}


@login_required
@require_GET
def prejoin(request: HttpRequest, id: str) -> HttpResponse:
    """Before the call: camera preview, device choice, microphone level, the network test;
    "Join" opens the room with the devices chosen (docs/room.md "Pages")."""
    participant = _joinable(request, id)
    if isinstance(participant, HttpResponse):
        return participant
    consult = participant.consultation
    return render(
        request,
        "frontend/room/prejoin.html",
        {"consult": consult, "config": _prejoin_config()},
    )


@login_required
@require_GET
def precall(request: HttpRequest) -> HttpResponse:
    """The same screen with no consult to join: a device and network check on its own."""
    return render(request, "frontend/room/prejoin.html", {"config": _prejoin_config()})


@login_required
@require_GET
def waiting(request: HttpRequest) -> HttpResponse:
    strings = {value: str(label) for value, label in Consultation.Status.choices}
    return render(request, "frontend/room/waiting.html", {"config": {"strings": strings}})


@require_GET
def guest(request: HttpRequest, token: str) -> HttpResponse:
    """A guest's page. A link that is unknown (404) or dead (revoked or expired: 410) gets a
    page that names no patient: whoever holds an old link learns nothing from it."""
    invite = guest_invite_from_token(token)
    if invite is None or not guest_is_valid(invite):
        status = 404 if invite is None else 410
        return render(
            request, "frontend/room/guest_gone.html", {"dead": invite is not None}, status=status
        )
    consult = invite.consultation
    # The guest has no account: the entry names the invitation the page was opened with.
    audit_record(
        actor=None,
        action=AuditEntry.Action.READ,
        obj=invite,
        patient=consult.patient,
        via=Via.http(request),
    )
    return render(
        request,
        "frontend/room/room.html",
        {
            "consult": consult,
            "role": "guest",
            "config": _config(consult, token),
            "summary": _summary(consult),
        },
    )
