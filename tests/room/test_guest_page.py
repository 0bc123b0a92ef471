"""A guest's link page: a live link shows the consult (and is audited); a dead or unknown one
names nothing about it, to whoever holds it."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from clinics.models import AuditEntry
from consults.models import Consultation
from consults.room.models import GuestInvite
from consults.room.services import guest_invite_create, guest_invite_revoke
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def _link(cast: Cast, consultation: Consultation) -> tuple[GuestInvite, str]:
    invite, token = guest_invite_create(
        consultation=consultation, kind="interpreter", minutes=60, actor=cast.specialist
    )
    return invite, f"/room/guest/{token}/"


def _what_it_must_not_name(consultation: Consultation) -> list[str]:
    with translation.override("vi"):
        status = str(consultation.get_status_display())
    start = timezone.localtime(consultation.start)
    return [
        consultation.patient.full_name,
        str(consultation.patient.external_id),
        str(consultation.external_id),
        start.strftime("%d/%m/%Y"),
        start.strftime("%H:%M"),
        status,
    ]


def _assert_names_nothing(html: str, consultation: Consultation) -> None:
    named = [text for text in _what_it_must_not_name(consultation) if text in html]
    assert named == []
    assert 'id="room-config"' not in html  # no room, no token handed to a script
    assert "Hãy nhờ bác sĩ chuyên khoa hoặc điều phối viên" in html  # whom to ask


def test_a_live_link_shows_the_consult_and_is_audited(cast: Cast, consultation) -> None:
    invite, url = _link(cast, consultation)
    response = Client().get(url)
    assert response.status_code == 200
    assert cast.patient.full_name in response.content.decode()
    entry = AuditEntry.objects.get(object_type="guestinvite", object_id=str(invite.external_id))
    assert (entry.action, entry.actor, entry.channel) == ("read", None, "http")
    assert entry.patient_id == cast.patient.external_id


def test_a_revoked_link_is_gone_and_names_no_patient(cast: Cast, consultation) -> None:
    invite, url = _link(cast, consultation)
    guest_invite_revoke(invite=invite, actor=cast.specialist)
    response = Client().get(url)
    assert response.status_code == 410
    html = response.content.decode()
    _assert_names_nothing(html, consultation)
    assert "Lời mời này đã hết hạn hoặc đã bị thu hồi" in html
    assert not AuditEntry.objects.filter(action="read").exists()  # nothing was shown


def test_an_expired_link_is_gone_and_names_no_patient(cast: Cast, consultation) -> None:
    invite, url = _link(cast, consultation)
    GuestInvite.objects.filter(pk=invite.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = Client().get(url)
    assert response.status_code == 410
    _assert_names_nothing(response.content.decode(), consultation)


def test_an_unknown_link_is_not_found_and_says_whom_to_ask(consultation) -> None:
    response = Client().get("/room/guest/not-a-signed-token/")
    assert response.status_code == 404
    html = response.content.decode()
    _assert_names_nothing(html, consultation)
    assert "Không nhận ra đường link mời này" in html
