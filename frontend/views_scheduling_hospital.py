"""Hospital-side scheduling pages: the availability editor and the coordinators' triage."""

from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from clinics.access import hospital_ids_of, parse_uuid
from clinics.models import Membership, User
from consults.scheduling import availability, selectors, triage
from consults.scheduling.models import (
    AvailabilityOverride,
    AvailabilityRule,
    ConsultRequest,
    TimeOff,
)
from frontend.fields import require_clock, require_day, require_moment
from frontend.views_scheduling import nav
from telehealth.errors import AppError, not_found

SUGGESTED_SLOTS = 5
# Each request shown costs a slot search (a handful of statements): a page of the queue
# bounds the work, however many requests wait (an administrator's span every hospital).
REQUESTS_PER_PAGE = 10


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _specialist_to_edit(request: HttpRequest, user: User) -> User:
    raw = request.GET.get("specialist") or request.POST.get("specialist")
    if not raw:
        return user
    member = selectors.specialist_by_public_id(parse_uuid(raw))
    if member is None or not availability.can_edit_availability(user, member.user):
        raise not_found(_("No such specialist."))
    return member.user


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


def _apply(action: str, post: QueryDict, specialist: User, actor: User) -> None:
    minutes = _int(post.get("slot_minutes"), 30)
    if action == "settings":
        cap = post.get("max_per_day", "").strip()
        availability.schedule_update(
            specialist=specialist,
            actor=actor,
            time_zone=post.get("time_zone", "Asia/Ho_Chi_Minh").strip(),
            buffer_minutes=max(0, min(120, _int(post.get("buffer_minutes"), 0))),
            min_notice_minutes=max(0, _int(post.get("min_notice_minutes"), 120)),
            horizon_days=max(1, min(365, _int(post.get("horizon_days"), 56))),
            max_per_day=max(1, _int(cap, 1)) if cap else None,
        )
    elif action == "add_rule":
        availability.rule_add(
            specialist=specialist,
            weekday=_int(post.get("weekday"), -1),
            start=require_clock(post.get("start_time")),
            end=require_clock(post.get("end_time")),
            slot_minutes=minutes,
            actor=actor,
        )
    elif action == "add_override":
        day_off = post.get("day_off") == "1"
        availability.override_add(
            specialist=specialist,
            day=require_day(post.get("date")),
            day_off=day_off,
            start=None if day_off else require_clock(post.get("start_time")),
            end=None if day_off else require_clock(post.get("end_time")),
            slot_minutes=minutes,
            actor=actor,
        )
    elif action == "add_time_off":
        start = require_moment(post.get("start_date"), post.get("start_time"))
        end = require_moment(post.get("end_date"), post.get("end_time"))
        availability.time_off_add(
            specialist=specialist,
            start=start,
            end=end,
            reason=post.get("reason", "")[:200],
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
        raise AppError("invalid", _("Unknown action."))


@login_required
@require_http_methods(["GET", "POST"])
def availability_page(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    specialist = _specialist_to_edit(request, user)
    if request.method == "POST":
        try:
            _apply(request.POST.get("action", ""), request.POST, specialist, user)
        except AppError as exc:
            messages.error(request, str(exc.message))
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
            "nav": nav(user),
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
    user = _user(request)
    if not triage.may_triage(user):
        raise AppError(
            "permission_denied",
            _("Only coordinators and administrators triage requests."),
            status=403,
        )
    number = max(1, _int(request.GET.get("page"), 1))
    if request.method == "POST":
        _triage_action(request, user)
        back = reverse("frontend:triage")  # to the page the form was on
        return redirect(f"{back}?page={number}" if number > 1 else back)
    queue = triage.request_queue(user, open_only=True, to_triage=True)
    page = Paginator(queue, REQUESTS_PER_PAGE).get_page(number)
    items = [{"request": req, "slots": _suggestions(req)} for req in page]
    return render(
        request,
        "frontend/scheduling/triage.html",
        {"items": items, "page": page, "nav": nav(user)},
    )


def _slot_moment(raw: str | None) -> datetime:
    """A suggested slot's hidden ISO 8601 field, with its offset."""
    parsed = parse_datetime(raw or "")
    if parsed is None or timezone.is_naive(parsed):
        raise AppError("invalid", _("This slot link is not valid. Search again."))
    return parsed


def _triage_action(request: HttpRequest, user: User) -> None:
    post = request.POST
    req = triage.request_get_for_user(user, post.get("request", ""))
    if not triage.can_triage(user, req):
        raise AppError(
            "permission_denied", _("Only the hospital's coordinators triage."), status=403
        )
    action = post.get("action")
    try:
        if action == "accept":
            member = selectors.specialist_by_public_id(parse_uuid(post.get("specialist")))
            if member is None:
                raise not_found(_("No such specialist at this hospital."))
            start, end = _slot_moment(post.get("start")), _slot_moment(post.get("end"))
            triage.consult_request_accept(
                request=req, specialist=member.user, start=start, end=end, actor=user
            )
            messages.success(request, _("Booked."))
        elif action == "ask_info":
            triage.consult_request_ask_info(
                request=req, message=post.get("message", ""), actor=user
            )
            messages.success(request, _("Question sent to the station."))
        elif action == "decline":
            reason = post.get("message", "").strip()
            if not reason:
                raise AppError("invalid", _("Give the reason for declining."))
            triage.consult_request_decline(request=req, reason=reason, actor=user)
            messages.success(request, _("Request declined."))
    except AppError as exc:
        messages.error(request, str(exc.message))
