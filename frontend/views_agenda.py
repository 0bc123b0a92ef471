"""The agenda: a day or a week of consults, the station's check-in, and the changes a consult
takes from its row (cancel, reschedule, no-show, technical failure), each behind a
confirmation page whose form does the write.

Plain forms that work without JavaScript. The rules are the services' (consults.scheduling
services and attendance) and the access policies' (consults.access), as for the API; a
refusal shows the confirmation page again with the page's message for its code, nothing
changed.
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from clinics.access import hospital_ids_of, station_ids_of
from clinics.audit import Via, audit_patients_read
from clinics.models import Membership, User
from consults.access import (
    Policy,
    can_cancel,
    can_check_in,
    can_join_consultation,
    can_manage,
    can_record_failure,
    can_record_no_show,
    consultation_get_for_user,
    consultations_at_desk_of,
    consultations_visible_to,
)
from consults.models import Consultation
from consults.room.access import JOINABLE
from consults.scheduling import attendance, selectors, services, triage
from consults.scheduling.api import CONSULTATION
from consults.scheduling.serializers import (
    CancelSerializer,
    ConsultationSerializer,
    NoShowSerializer,
    RangeSerializer,
)
from frontend.pages import error_text, form_fields, form_write, page_user, validated
from frontend.views_waitlist import waitlist_context
from telehealth.codes import Code
from telehealth.errors import AppError

RESCHEDULE_SLOTS = 8
S = Consultation.Status

# What the confirmation page says for a refusal, by its code: the page's own wording where
# the service's message speaks of states; any other code shows the service's message.
PAGE_MESSAGES = {
    Code.INVALID_TRANSITION: gettext_lazy(
        "This consult can no longer be changed this way (it was cancelled, has taken place "
        "or was recorded already). Nothing was changed."
    ),
    Code.TOO_EARLY: gettext_lazy(
        "A no-show can be recorded only once the consult's time has come. Nothing was changed."
    ),
    Code.SLOT_TAKEN: gettext_lazy(
        "This time was just taken. Choose another time; the consult keeps its old time."
    ),
}


def agenda_url(day: datetime) -> str:
    return f"/agenda/?day={timezone.localtime(day).date().isoformat()}"


@login_required
@require_GET
def agenda(request: HttpRequest) -> HttpResponse:
    """A day (or ?span=week) of the consults you may see, in the facility's time."""
    user = page_user(request)
    day = parse_date(request.GET.get("day", "")) or timezone.localdate()
    span = 7 if request.GET.get("span") == "week" else 1
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    consults = list(
        consultations_visible_to(user)
        .filter(start__gte=start, start__lt=start + timedelta(days=span))
        .order_by("start", "id")
    )
    requests = list(triage.requests_sent_by(user)[:50]) if station_ids_of(user) else []
    shown = {c.patient for c in consults} | {r.consultation.patient for r in requests}
    audit_patients_read(actor=user, patients=shown, via=Via.http(request))
    today = timezone.localdate()
    return render(
        request,
        "frontend/scheduling/agenda.html",
        {
            "day": day,
            "span": span,
            "consultations": consults,
            "rows": agenda_rows(user, consults, today),
            "requests": requests,
            "previous": day - timedelta(days=span),
            "next": day + timedelta(days=span),
            "is_station": bool(station_ids_of(user)),
            "alerts": alerts_on(user),
            **waitlist_context(request, user),
        },
    )


def alerts_on(user: User) -> bool:
    """Whether the page carries the check-in alerts (alerts.js): a specialist's pages, where
    the /ws/notifications/ feed says that a patient of theirs is waiting."""
    return bool(hospital_ids_of(user, Membership.Role.SPECIALIST))


def agenda_rows(
    user: User, consults: list[Consultation], today: date
) -> list[tuple[Consultation, dict[str, bool]]]:
    """Each consult with what its row offers, in a fixed number of statements however many
    rows: the desk actions and the changes through their policies' list filters, and whether
    the user is on the call once per pair of parties (the predicate reads only who the
    consult is between)."""
    pks = [c.pk for c in consults]

    def allowed(policy: Policy) -> set[int]:
        return set(
            policy.filter(user, consultations_visible_to(user))
            .filter(pk__in=pks)
            .values_list("pk", flat=True)
        )

    desk = set(consultations_at_desk_of(user).filter(pk__in=pks).values_list("pk", flat=True))
    may = {name: allowed(policy) for name, (policy, *_rest) in CHANGES.items()} if pks else {}
    joins: dict[tuple[int, int | None], bool] = {}
    rows = []
    now = timezone.now()
    for consult in consults:
        parties = (consult.station_id, consult.specialist_id)
        if parties not in joins:
            joins[parties] = can_join_consultation(user, consult)
        can = row_actions(consult, today, joins[parties], consult.pk in desk)
        can.update(
            change_actions(consult, now, {n for n, pk_set in may.items() if consult.pk in pk_set})
        )
        rows.append((consult, can))
    return rows


def change_actions(consult: Consultation, now: datetime, allowed: set[str]) -> dict[str, bool]:
    """The changes a row offers: those the user may make (`allowed`, by policy) that the
    consult's state still takes; the services check again."""
    due = consult.start is not None and consult.start <= now
    takes = {
        "cancel": consult.status in {S.BOOKED, S.CHECKED_IN},
        "reschedule": consult.status == S.BOOKED,
        "no_show": consult.status in {S.BOOKED, S.CHECKED_IN} and due,
        "failed": consult.status in {S.CHECKED_IN, S.IN_PROGRESS, S.INTERRUPTED},
    }
    return {name: name in allowed and ok for name, ok in takes.items()}


def row_actions(
    consult: Consultation, today: date, participant: bool, at_desk: bool
) -> dict[str, bool]:
    """What an agenda row offers: check the patient in (the station, on the day), open the
    call, open the notes. The pages behind each check access again."""
    video = consult.mode == Consultation.Mode.VIDEO
    on_the_day = consult.start is not None and timezone.localdate(consult.start) == today
    desk_day = video and on_the_day and consult.status == S.BOOKED and at_desk
    # The specialist may open the room on the day before the patient is checked in; the
    # station opens it through the check-in, offered only inside the check-in window.
    early = consult.status == S.BOOKED and not (on_the_day and not desk_day)
    return {
        "check_in": desk_day and attendance.is_within_check_in_window(consult),
        "room": video and participant and consult.status in JOINABLE and not early,
        "notes": participant and consult.status not in {S.REQUESTED, S.CANCELLED},
    }


@login_required
@require_http_methods(["POST"])
def check_in(request: HttpRequest) -> HttpResponse:
    """The nurse checks the patient in from the agenda, then goes to the pre-join screen and on
    into the call."""
    user = page_user(request)
    consult = consultation_get_for_user(user, request.POST.get("consultation", ""))
    if not can_check_in(user, consult):
        raise AppError(
            Code.PERMISSION_DENIED, _("Only the station checks a patient in."), status=403
        )

    def write() -> Any:
        attendance.consultation_check_in(consultation=consult, actor=user)
        return ConsultationSerializer(consultations_visible_to(user).get(pk=consult.pk)).data

    try:
        form_write(request, f"check_in:{consult.external_id}", write, shows=CONSULTATION)
    except AppError as exc:
        messages.error(request, error_text(exc))
        return redirect(agenda_url(consult.start or timezone.now()))
    return redirect("frontend:room-prejoin", id=str(consult.external_id))


# --- the changes a consult takes from its row ------------------------------------------


def _reschedule(consult: Consultation, user: User, request: HttpRequest) -> Consultation:
    """The time chosen on the page (`slot`: "start end"), or start and end as the API takes."""
    start, _space, end = request.POST.get("slot", "").partition(" ")
    chosen = {"start": start, "end": end} if start else {}
    data = validated(RangeSerializer, form_fields(request.POST, RangeSerializer, **chosen))
    return services.consultation_reschedule(
        consultation=consult,
        start=data["start"],
        end=data["end"],
        actor=user,
        reason=data.get("reason", ""),
    )


def _cancel(consult: Consultation, user: User, request: HttpRequest) -> Consultation:
    data = validated(CancelSerializer, form_fields(request.POST, CancelSerializer))
    return services.consultation_cancel(consultation=consult, actor=user, reason=data["reason"])


def _no_show(consult: Consultation, user: User, request: HttpRequest) -> Consultation:
    data = validated(NoShowSerializer, form_fields(request.POST, NoShowSerializer))
    return attendance.consultation_mark_no_show(
        consultation=consult, party=data["party"], reason=data.get("reason", ""), actor=user
    )


def _failed(consult: Consultation, user: User, request: HttpRequest) -> Consultation:
    data = validated(CancelSerializer, form_fields(request.POST, CancelSerializer))
    return attendance.consultation_mark_failed(
        consultation=consult, reason=data["reason"], actor=user
    )


Write = Callable[[Consultation, User, HttpRequest], Consultation]

# action → (who may, the write, the API's idempotency scope, what the page says once done)
CHANGES: dict[str, tuple[Policy, Write, str, Any]] = {
    "cancel": (can_cancel, _cancel, "cancel", gettext_lazy("Consult cancelled.")),
    "reschedule": (can_manage, _reschedule, "reschedule", gettext_lazy("Consult moved.")),
    "no_show": (can_record_no_show, _no_show, "no_show", gettext_lazy("No-show recorded.")),
    "failed": (can_record_failure, _failed, "failed", gettext_lazy("Technical failure recorded.")),
}


def change_text(exc: AppError) -> str:
    """A refusal on the confirmation page: the page's wording for its code, else the
    service's message with its fields."""
    said = PAGE_MESSAGES.get(exc.code)
    return str(said) if said is not None else error_text(exc)


def _change_context(
    request: HttpRequest, user: User, consult: Consultation, action: str
) -> dict[str, Any]:
    slots: list[dict[str, Any]] = []
    if action == "reschedule" and consult.specialist is not None:
        found_members = selectors.specialists_for_search(
            specialist=str(consult.specialist.external_id)
        )
        members = {u: m for u, m in found_members.items() if m.facility_id == consult.hospital_id}
        now = timezone.now()
        found = selectors.free_slots_search(
            members,
            room=consult.station_room,
            start=now,
            end=now + timedelta(weeks=8),
            limit=RESCHEDULE_SLOTS,
        )
        slots = [
            {"start": timezone.localtime(s.start), "end": timezone.localtime(s.end)}
            for s, _member in found
        ]
    audit_patients_read(actor=user, patients=[consult.patient], via=Via.http(request))
    return {
        "consult": consult,
        "action": action,
        "slots": slots,
        "parties": Consultation.Party.choices,
        "form": request.POST,
        "error": "",
        "error_code": "",
        "back": agenda_url(consult.start) if consult.start else "/agenda/",
    }


@login_required
@require_http_methods(["GET", "POST"])
def consult_change(request: HttpRequest, id: str) -> HttpResponse:
    """GET ?action=…: the confirmation page (what will happen, the reason, the new time or
    the party); POST: the change, by the same service as the API, then back to the agenda."""
    user = page_user(request)
    consult = consultation_get_for_user(user, id)
    action = (request.POST if request.method == "POST" else request.GET).get("action", "")
    if action not in CHANGES:
        raise AppError(Code.INVALID, _("Unknown action."))
    policy, write, scope, done = CHANGES[action]
    if not policy(user, consult):
        raise AppError(
            Code.PERMISSION_DENIED, _("You cannot make this change to this consult."), status=403
        )
    context = _change_context(request, user, consult, action)
    if request.method == "GET":
        return render(request, "frontend/scheduling/change.html", context)

    def apply() -> Any:
        changed = write(consult, user, request)
        return ConsultationSerializer(consultations_visible_to(user).get(pk=changed.pk)).data

    try:
        answer = form_write(request, f"{scope}:{consult.external_id}", apply, shows=CONSULTATION)
    except AppError as exc:
        context.update(error=change_text(exc), error_code=exc.code)
        return render(request, "frontend/scheduling/change.html", context, status=exc.status)
    messages.success(request, str(done))
    start = parse_datetime(answer.get("start") or "")
    return redirect(agenda_url(start) if start else "/agenda/")
