"""iCalendar (RFC 5545) feed of a user's consults, behind a secret, rotatable token.

The feed leaves the system (Google Calendar, Outlook), so it carries no patient data:
only the time, the specialty and the two facilities. Changes bump SEQUENCE; a cancelled
consult stays in the feed as STATUS:CANCELLED so calendars remove it.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from icalendar import Calendar, Event

from clinics.models import User
from consults.access import consultations_visible_to
from consults.lifecycle import ACTIVE_STATUSES
from consults.models import Consultation
from consults.scheduling.models import CalendarFeed, new_feed_token

S = Consultation.Status
PAST_DAYS = 30


def feed_get_or_create(user: User) -> CalendarFeed:
    feed, _created = CalendarFeed.objects.get_or_create(user=user)
    return feed


def feed_rotate(*, user: User) -> CalendarFeed:
    """A new token: the old URL stops working at once."""
    with transaction.atomic():
        feed = feed_get_or_create(user)
        feed.token = new_feed_token()
        feed.save(update_fields=["token", "rotated_at"])
    return feed


def feed_user(token: str) -> User | None:
    feed = CalendarFeed.objects.select_related("user").filter(token=token).first()
    if feed is None or not feed.user.is_active:
        return None
    return feed.user


def feed_consultations(user: User) -> QuerySet[Consultation]:
    since = timezone.now() - timedelta(days=PAST_DAYS)
    shown = [*ACTIVE_STATUSES, S.COMPLETED, S.CANCELLED, S.NO_SHOW]
    return (
        consultations_visible_to(user)
        .filter(start__isnull=False, start__gte=since, status__in=shown)
        .order_by("start", "id")
    )


def _status(consult: Consultation) -> str:
    if consult.status in (S.CANCELLED, S.NO_SHOW):
        return "CANCELLED"
    return "CONFIRMED"


def feed_ics(user: User) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Telehealth//Lich hoi chan//VI")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Telehealth")
    for consult in feed_consultations(user):
        event = Event()
        event.add("uid", f"{consult.external_id}@telehealth")
        event.add("dtstamp", consult.updated_at)
        event.add("last-modified", consult.updated_at)
        event.add("dtstart", consult.start)
        event.add("dtend", consult.end)
        event.add("sequence", consult.sequence)
        event.add("status", _status(consult))
        hospital = consult.hospital.name if consult.hospital else ""
        event.add("summary", f"Hội chẩn từ xa · {consult.specialty.name_vi}")
        event.add("location", f"{consult.station.name} ↔ {hospital}")
        cal.add_component(event)
    return bytes(cal.to_ical())
