"""Hospital-side scheduling pages: the availability editor and the coordinators' triage."""

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from clinics.access import hospital_ids_of, parse_uuid
from clinics.audit import Via, audit_patients_read
from clinics.models import Membership, User
from consults.scheduling import availability, selectors, triage
from consults.scheduling.api_requests import CONSULT_REQUEST
from consults.scheduling.models import (
    AvailabilityOverride,
    AvailabilityRule,
    ConsultRequest,
    TimeOff,
)
from consults.scheduling.serializers import (
    AcceptSerializer,
    MessageSerializer,
    OverrideSerializer,
    RequestSerializer,
    RuleSerializer,
    ScheduleSerializer,
    TimeOffSerializer,
)
from frontend.fields import require_clock, require_day, require_moment
from frontend.pages import error_text, form_fields, form_write, page_user, validated
from telehealth.codes import Code
from telehealth.errors import AppError, not_found

SUGGESTED_SLOTS = 5
# Each request shown costs a slot search (a handful of statements): a page of the queue
# bounds the work, however many requests wait (an administrator's span every hospital).
REQUESTS_PER_PAGE = 10


def _specialist_to_edit(request: HttpRequest, user: User) -> User:
    raw = request.GET.get("specialist") or request.POST.get("specialist")
    if not raw:
        return user
    member = selectors.specialist_by_public_id(parse_uuid(raw))
    if member is None or not availability.can_edit_availability(user, member.user):
        raise not_found(_("No such specialist."))
    return member.user


def _apply(action: str, post: QueryDict, specialist: User, actor: User) -> None:
    """One availability form, validated by its serializer after the page's own formats
    (dd/mm/yyyy, 24-hour hh:mm) are read."""
    if action == "settings":
        given = form_fields(post, ScheduleSerializer)
        if post.get("max_per_day", "").strip() == "":  # the form's "empty: no limit"
            given["max_per_day"] = None
        availability.schedule_update(
            specialist=specialist, actor=actor, **validated(ScheduleSerializer, given)
        )
    elif action == "add_rule":
        rule = validated(
            RuleSerializer,
            form_fields(
                post,
                RuleSerializer,
                start_time=require_clock(post.get("start_time")),
                end_time=require_clock(post.get("end_time")),
            ),
        )
        availability.rule_add(
            specialist=specialist,
            weekday=rule["weekday"],
            start=rule["start_time"],
            end=rule["end_time"],
            slot_minutes=rule.get("slot_minutes", 30),
            actor=actor,
        )
    elif action == "add_override":
        day_off = post.get("day_off") == "1"
        hours = (
            {}
            if day_off
            else {
                "start_time": require_clock(post.get("start_time")),
                "end_time": require_clock(post.get("end_time")),
            }
        )
        override = validated(
            OverrideSerializer,
            form_fields(post, OverrideSerializer, date=require_day(post.get("date")), **hours),
        )
        availability.override_add(
            specialist=specialist,
            day=override["date"],
            day_off=override.get("day_off", False),
            start=override.get("start_time"),
            end=override.get("end_time"),
            slot_minutes=override.get("slot_minutes", 30),
            actor=actor,
        )
    elif action == "add_time_off":
        off = validated(
            TimeOffSerializer,
            form_fields(
                post,
                TimeOffSerializer,
                start=require_moment(post.get("start_date"), post.get("start_time")),
                end=require_moment(post.get("end_date"), post.get("end_time")),
            ),
        )
        availability.time_off_add(
            specialist=specialist,
            start=off["start"],
            end=off["end"],
            reason=off.get("reason", ""),
            actor=actor,
        )
    elif action in {"delete_rule", "delete_override", "delete_time_off"}:
        availability.availability_delete(
            specialist=specialist,
            kind=action.removeprefix("delete_"),
            item_id=str(parse_uuid(post.get("id"))),
            actor=actor,
        )
    else:
        raise AppError(Code.INVALID, _("Unknown action."))


@login_required
@require_http_methods(["GET", "POST"])
def availability_page(request: HttpRequest) -> HttpResponse:
    user = page_user(request)
    specialist = _specialist_to_edit(request, user)
    if request.method == "POST":
        try:
            _apply(request.POST.get("action", ""), request.POST, specialist, user)
        except AppError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("Availability saved."))
        suffix = "" if specialist == user else f"?specialist={specialist.external_id}"
        return redirect(f"/availability/{suffix}")
    schedule = selectors.schedule_of(specialist.pk)
    colleagues = Membership.objects.filter(
        role=Membership.Role.SPECIALIST,
        is_active=True,
        facility_id__in=hospital_ids_of(user, Membership.Role.COORDINATOR),
    ).select_related("user")
    return render(
        request,
        "frontend/scheduling/availability.html",
        {
            "specialist": specialist,
            "schedule": schedule,
            "rules": AvailabilityRule.objects.filter(specialist=specialist),
            "overrides": AvailabilityOverride.objects.filter(
                specialist=specialist, date__gte=timezone.localdate()
            ),
            "time_off": TimeOff.objects.filter(specialist=specialist, end__gte=timezone.now()),
            "weekdays": AvailabilityRule.Weekday.choices,
            "colleagues": colleagues,
        },
    )


def _suggestions(req: ConsultRequest) -> list[dict[str, Any]]:
    consult = req.consultation
    members = {
        uid: m
        for uid, m in selectors.specialists_for_search(specialty=consult.specialty.code).items()
        if m.facility_id == consult.hospital_id
    }
    now = timezone.now()
    found = selectors.free_slots_search(
        members,
        room=consult.station_room,
        start=now,
        end=now + timedelta(weeks=8),
        limit=SUGGESTED_SLOTS,
    )
    return [
        {"start": slot.start, "end": slot.end, "specialist": member.user} for slot, member in found
    ]


@login_required
@require_http_methods(["GET", "POST"])
def triage_page(request: HttpRequest) -> HttpResponse:
    """The open requests the user may triage, with suggested slots. The same rule as the
    API (triage.may_triage, then can_triage per request and its list form): coordinators,
    and administrators, who see everything."""
    user = page_user(request)
    if not triage.may_triage(user):
        raise AppError(
            Code.PERMISSION_DENIED,
            _("Only coordinators and administrators triage requests."),
            status=403,
        )
    number = _page_number(request.GET.get("page"))
    if request.method == "POST" and request.POST.get("step") == "confirm":
        return _triage_confirm(request, user, number)
    if request.method == "POST":
        _triage_action(request, user)
        back = reverse("frontend:triage")  # to the page the form was on
        return redirect(f"{back}?page={number}" if number > 1 else back)
    queue = triage.request_queue(user, open_only=True, to_triage=True)
    page = Paginator(queue, REQUESTS_PER_PAGE).get_page(number)
    items = [{"request": req, "slots": _suggestions(req)} for req in page]
    audit_patients_read(
        actor=user, patients=[r.consultation.patient for r in page], via=Via.http(request)
    )
    return render(
        request,
        "frontend/scheduling/triage.html",
        {"items": items, "page": page},
    )


def _triage_confirm(request: HttpRequest, user: User, number: int) -> HttpResponse:
    """What an accept or a decline will do, named before it is done: the specialist and the
    time booked, or the reason the station will read. Its form posts the same fields
    without `step`, which writes."""
    post = request.POST
    req = triage.request_get_for_user(user, post.get("request", ""))
    if not triage.can_triage(user, req):
        raise AppError(
            Code.PERMISSION_DENIED, _("Only the hospital's coordinators triage."), status=403
        )
    action = post.get("action", "")
    if action not in {"accept", "decline"}:
        raise AppError(Code.INVALID, _("Unknown action."))
    context: dict[str, Any] = {"request": req, "action": action, "form": post, "page": number}
    if action == "accept":
        slot = validated(AcceptSerializer, form_fields(post, AcceptSerializer))
        member = selectors.specialist_by_public_id(slot["specialist"])
        if member is None:
            raise not_found(_("No such specialist at this hospital."))
        context.update(
            member=member,
            start=timezone.localtime(slot["start"]),
            end=timezone.localtime(slot["end"]),
        )
    audit_patients_read(actor=user, patients=[req.consultation.patient], via=Via.http(request))
    return render(request, "frontend/scheduling/triage_confirm.html", context)


def _page_number(raw: str | None) -> int:
    """The page of the queue a link or a form names; Paginator.get_page settles the rest."""
    return int(raw) if raw and raw.isdigit() and int(raw) > 0 else 1


def _triage_action(request: HttpRequest, user: User) -> None:
    post = request.POST
    req = triage.request_get_for_user(user, post.get("request", ""))
    if not triage.can_triage(user, req):
        raise AppError(
            Code.PERMISSION_DENIED, _("Only the hospital's coordinators triage."), status=403
        )
    action = post.get("action", "")
    done = {
        "accept": _("Booked."),
        "ask_info": _("Question sent to the station."),
        "decline": _("Request declined."),
    }
    if action not in done:
        raise AppError(Code.INVALID, _("Unknown action."))

    def write() -> Any:
        _triage_write(action, post, req, user)
        return RequestSerializer(triage.requests_visible_to(user).get(pk=req.pk)).data

    scope = f"request_{action}:{req.consultation.external_id}"
    try:
        form_write(request, scope, write, shows=CONSULT_REQUEST)
    except AppError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, done[action])


def _triage_write(action: str, post: QueryDict, req: ConsultRequest, user: User) -> None:
    """The request API's accept / ask-info / decline, from the triage page's forms."""
    if action == "accept":
        slot = validated(AcceptSerializer, form_fields(post, AcceptSerializer))
        member = selectors.specialist_by_public_id(slot["specialist"])
        if member is None:
            raise not_found(_("No such specialist at this hospital."))
        triage.consult_request_accept(
            request=req, specialist=member.user, start=slot["start"], end=slot["end"], actor=user
        )
        return
    message = validated(MessageSerializer, form_fields(post, MessageSerializer))["message"]
    if action == "ask_info":
        triage.consult_request_ask_info(request=req, message=message, actor=user)
    else:
        triage.consult_request_decline(request=req, reason=message, actor=user)
