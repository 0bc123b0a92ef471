"""The sign page: the report as it will be signed (the document the PDF is built from), its
digest, and a confirmation; a note changed meanwhile refuses the sign (409 report_changed)."""

import re
from typing import Any

import pytest

from consults.notes.models import Report
from tests.notes.conftest import edit, section_url
from tests.notes.test_report import write_assessment

pytestmark = pytest.mark.django_db


def sign_url(consultation: Any) -> str:
    return f"/consultations/{consultation.external_id}/report/sign/"


def digest_of(html: str) -> str:
    found = re.search(r'name="digest" value="([0-9a-f]{64})"', html)
    assert found, "the sign page carries no digest"
    return found.group(1)


def test_it_shows_the_report_as_it_will_be_signed_and_signs_with_its_digest(
    cast: Any, api: Any, client: Any, consultation: Any
) -> None:
    write_assessment(api, cast, consultation)
    client.force_login(cast.specialist)
    page = client.get(sign_url(consultation))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Tăng huyết áp độ 2" in html
    assert "ICD-10 I10" in html
    assert "không thể sửa hay rút lại" in html  # what cannot be undone, named
    assert not Report.objects.filter(consultation=consultation).exists()  # a look signs nothing

    signed = client.post(sign_url(consultation), {"digest": digest_of(html), "confirm": "on"})
    assert signed.status_code == 302
    assert signed["Location"] == f"/consultations/{consultation.external_id}/report/"
    report = Report.objects.get(consultation=consultation)
    assert report.signed_by == cast.specialist
    printed = client.get(signed["Location"]).content.decode()
    assert "Tăng huyết áp độ 2" in printed


def test_it_refuses_with_report_changed_when_a_note_changed_after_the_preview(
    cast: Any, api: Any, client: Any, consultation: Any
) -> None:
    write_assessment(api, cast, consultation)
    client.force_login(cast.specialist)
    digest = digest_of(client.get(sign_url(consultation)).content.decode())
    r = api(cast.nurse).put(
        section_url(consultation, "history"), edit("Sốt về chiều"), format="json"
    )
    assert r.status_code == 200, r.json()

    refused = client.post(sign_url(consultation), {"digest": digest, "confirm": "on"})
    assert refused.status_code == 409
    html = refused.content.decode()
    assert 'data-code="report_changed"' in html
    assert "Sốt về chiều" in html  # the new preview, with the change, to read again
    assert digest_of(html) != digest
    assert not Report.objects.filter(consultation=consultation).exists()


@pytest.mark.parametrize("digest", ["", "abc", "Z" * 64])
def test_it_refuses_a_missing_or_malformed_digest_and_signs_nothing(
    cast: Any, api: Any, client: Any, consultation: Any, digest: str
) -> None:
    write_assessment(api, cast, consultation)
    client.force_login(cast.specialist)
    refused = client.post(sign_url(consultation), {"digest": digest})
    assert refused.status_code == 400
    assert 'data-code="invalid"' in refused.content.decode()
    assert not Report.objects.filter(consultation=consultation).exists()


def test_it_refuses_without_an_assessment_and_signs_nothing(
    cast: Any, client: Any, consultation: Any
) -> None:
    client.force_login(cast.specialist)
    digest = digest_of(client.get(sign_url(consultation)).content.decode())
    refused = client.post(sign_url(consultation), {"digest": digest})
    assert refused.status_code == 400
    assert 'data-code="assessment_missing"' in refused.content.decode()
    assert not Report.objects.filter(consultation=consultation).exists()


def test_it_is_for_the_consults_specialist_only(
    cast: Any, api: Any, client: Any, consultation: Any
) -> None:
    write_assessment(api, cast, consultation)
    client.force_login(cast.nurse)
    assert client.get(sign_url(consultation)).status_code == 403
    client.force_login(cast.outsider_nurse)
    assert client.get(sign_url(consultation)).status_code == 404
    assert not Report.objects.filter(consultation=consultation).exists()


def test_a_signed_report_sends_the_sign_page_to_the_report(
    cast: Any, api: Any, client: Any, consultation: Any
) -> None:
    write_assessment(api, cast, consultation)
    client.force_login(cast.specialist)
    digest = digest_of(client.get(sign_url(consultation)).content.decode())
    client.post(sign_url(consultation), {"digest": digest})
    again = client.post(sign_url(consultation), {"digest": digest})
    assert again.status_code == 302
    assert Report.objects.filter(consultation=consultation).count() == 1
