"""No English on a Vietnamese page of the desk's flows: patients, booking (with slots found),
the agenda and its changes, triage. Each page is rendered in Vietnamese as the role that uses
it; its visible text (scripts, styles and tags removed) must hold none of the catalogue's
English sources that have a Vietnamese translation, and no English function word."""

import html
import re
from pathlib import Path

import polib
import pytest
from django.test import Client
from django.utils import timezone

from clinics.models import User
from consults.models import Consultation
from consults.scheduling.models import SpecialistSchedule
from tests import factories
from tests.conftest import Cast
from tests.scheduling.test_pages import logged_in

pytestmark = pytest.mark.django_db

CATALOG = Path(__file__).resolve().parents[2] / "frontend/locale/vi/LC_MESSAGES/django.po"
# Words no Vietnamese sentence uses; a short English string left untranslated shows one.
ENGLISH_WORDS = {"the", "and", "of", "is", "are", "with", "for", "this", "your", "please",
                 "select", "from", "will", "you", "not"}  # fmt: skip


def english_sources() -> list[str]:
    """The catalogue's English sources of some length that Vietnamese says otherwise: one
    of them on a Vietnamese page is a string the page did not translate."""
    sources = []
    for entry in polib.pofile(str(CATALOG)):
        text = entry.msgid
        if entry.msgstr and entry.msgstr != text and len(text) >= 12 and "%(" not in text:
            sources.append(text)
    return sources


def visible_text(page: str) -> str:
    page = re.sub(r"(?is)<(script|style|template)\b.*?</\1>", " ", page)
    page = re.sub(r"(?s)<!--.*?-->", " ", page)
    # Attributes a person sees: placeholders, labels read aloud, titles.
    said = " ".join(re.findall(r'(?:placeholder|aria-label|title|alt)="([^"]*)"', page))
    return html.unescape(re.sub(r"(?s)<[^>]+>", " ", page) + " " + said)


def english_on(client: Client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    text = visible_text(response.content.decode())
    found = [source for source in english_sources() if source in text]
    words = set(re.findall(r"[A-Za-z]+", text))
    found += sorted(word for word in words if word.lower() in ENGLISH_WORDS)
    return found


@pytest.fixture
def consult(cast: Cast, hours: SpecialistSchedule) -> Consultation:
    return factories.make_consultation(
        patient=cast.patient, specialist=cast.specialist, hospital=cast.hospital, room=cast.room
    )


def pages(cast: Cast, consult: Consultation) -> list[tuple[User, str]]:
    patient, specialist = cast.patient.external_id, cast.specialist.external_id
    day = timezone.localtime(consult.start).date().isoformat() if consult.start else ""
    change = f"/agenda/{consult.external_id}/change/"
    return [
        (cast.nurse, "/patients/"),
        (cast.nurse, f"/patients/{patient}/"),
        (cast.nurse, f"/patients/{patient}/edit/"),
        (cast.nurse, "/book/"),
        (cast.nurse, f"/book/?patient={patient}"),
        (cast.nurse, f"/book/?patient={patient}&specialty=cardiology&specialist={specialist}"),
        (cast.nurse, f"/agenda/?day={day}"),
        (cast.nurse, f"/agenda/?day={day}&span=week"),
        (cast.nurse, f"{change}?action=cancel"),
        (cast.nurse, f"{change}?action=reschedule"),
        (cast.specialist, "/"),
        (cast.specialist, f"/agenda/?day={day}"),
        (cast.coordinator, "/triage/"),
    ]


def test_the_catalogue_gives_the_check_something_to_look_for() -> None:
    assert len(english_sources()) > 300


def test_the_check_finds_an_english_sentence_left_on_a_page() -> None:
    planted = "<main><p>Choose the specialty.</p><script>var x = 'the';</script></main>"
    text = visible_text(planted)
    assert "Choose the specialty." in english_sources()
    assert "Choose the specialty." in text
    assert "var x" not in text


@pytest.mark.usefixtures("hours")
def test_the_desk_pages_show_no_english_in_vietnamese(cast: Cast, consult: Consultation) -> None:
    found = {}
    for user, url in pages(cast, consult):
        english = english_on(logged_in(user), url)
        if english:
            found[url] = english
    assert found == {}, f"English on Vietnamese pages: {found}"
    _, search = pages(cast, consult)[5]
    # The search page was checked with its slots on it.
    assert "/book/confirm/" in logged_in(cast.nurse).get(search).content.decode()


@pytest.mark.usefixtures("hours")
def test_the_same_pages_in_english_are_caught(cast: Cast, consult: Consultation) -> None:
    for user, url in pages(cast, consult)[:7]:
        assert english_on(logged_in(user, "en"), url), url
