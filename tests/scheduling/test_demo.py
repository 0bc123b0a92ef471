"""seed_demo gives demo specialists weekly hours and books a few consults, some today."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from consults.models import Consultation
from consults.scheduling.models import AvailabilityRule

pytestmark = pytest.mark.django_db


def test_seed_demo_makes_a_living_agenda_and_is_idempotent() -> None:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "Scheduling:" in out.getvalue()
    assert AvailabilityRule.objects.filter(specialist__username="specialist").count() == 12
    consults = Consultation.objects.filter(specialist__username="specialist", status="booked")
    assert consults.count() == 3
    today = timezone.localdate()
    assert any(timezone.localtime(c.start).date() == today for c in consults if c.start) or (
        timezone.localtime().hour >= 22  # the "next half hour" of a late run is tomorrow
    )
    first = (Consultation.objects.count(), AvailabilityRule.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (Consultation.objects.count(), AvailabilityRule.objects.count()) == first
