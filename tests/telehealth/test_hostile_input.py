"""A hostile client against the patient registration and the note save: any text (NUL, lone
surrogates, bidi overrides), any integer, any nesting. The server never answers 5xx; every
refusal is JSON with a code docs/api.md lists, and writes nothing. The note save is driven
over REST and through the service the notes socket calls (the same validation)."""

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinics.audit import Via
from clinics.models import AuditEntry, Consent, Patient
from consults.notes import services
from consults.notes.models import ChatMessage, NoteRevision
from telehealth.errors import AppError
from tests.clinics.test_patients_api import LIST, new_patient
from tests.conftest import Cast
from tests.notes.conftest import section_url

pytestmark = pytest.mark.django_db

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
DOCUMENTED = set(re.findall(r"^\| \d{3} \| `([a-z_]+)` \|", API_DOC.read_text(), re.M))

HOSTILE_CHARS = ["\x00", "\ud800", "\udfff", "\u202e", "\u200b", "\ufeff", "\u2066"]
text = st.text(
    alphabet=st.one_of(
        st.characters(codec=None, exclude_categories=()),  # surrogates and NUL included
        st.sampled_from(HOSTILE_CHARS),
    ),
    max_size=30,
)
integers = st.one_of(
    st.integers(),
    st.sampled_from([2**31 - 1, 2**31, 2**63, -(2**63), -1, 10**40]),
)
scalars = st.one_of(st.none(), st.booleans(), integers, st.floats(), text)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=8,
)
# Mostly what passes the type checks, so the hostile text reaches the write.
texts = st.one_of(text, text, values)
revisions = st.one_of(st.integers(min_value=0, max_value=3), integers, values)
deep = st.integers(min_value=60, max_value=3_000).map(
    lambda n: '{"content": ' + "[" * n + "]" * n + "}"
)

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def wire(body: Any) -> str:
    return body if isinstance(body, str) else json.dumps(body)  # escapes lone surrogates


def assert_documented_refusal(response: Any) -> None:
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert response.headers["Content-Type"] == "application/json", response.content
        body = response.json()
        assert body["code"] in DOCUMENTED, body
        assert isinstance(body["message"], str)
        assert body["message"]


def patient_bodies() -> st.SearchStrategy[Any]:
    field = st.sampled_from(
        ["full_name", "date_of_birth", "citizen_id", "address", "guardian_name", "phone", "sex"]
    )
    override = st.dictionaries(field, texts, max_size=3)
    consents = st.lists(st.sampled_from(["telemedicine", "recording", "\x00", "x"]), max_size=6)
    return st.one_of(
        st.builds(lambda o, c: new_patient(**o, consents=c), override, consents),
        st.builds(lambda o, k, v: {**new_patient(**o), k: v}, override, text, values),
        values,
        deep,
    )


@SETTINGS
@given(body=patient_bodies())
def test_patient_registration_refuses_in_the_documented_shape(
    cast: Cast, api: Any, body: Any
) -> None:
    before = (Patient.objects.count(), Consent.objects.count(), AuditEntry.objects.count())
    response = api(cast.nurse).post(LIST, wire(body), content_type="application/json")
    assert_documented_refusal(response)
    if response.status_code >= 400:
        after = (Patient.objects.count(), Consent.objects.count(), AuditEntry.objects.count())
        assert after == before


def note_bodies() -> st.SearchStrategy[Any]:
    edit = st.fixed_dictionaries(
        {
            "content": st.one_of(st.fixed_dictionaries({"text": texts}), values),
            "base_revision": revisions,
        },
        optional={"client_edit_id": texts},
    )
    extra = st.dictionaries(text, values, max_size=2)
    return st.one_of(edit, st.builds(lambda e, x: {**x, **e}, edit, extra), values, deep)


@SETTINGS
@given(body=note_bodies(), section=st.sampled_from(["history", "plan", "vitals", "x\x00"]))
def test_a_note_save_over_rest_refuses_in_the_documented_shape(
    cast: Cast, api: Any, consultation: Any, body: Any, section: str
) -> None:
    before = NoteRevision.objects.count()
    url = section_url(consultation, section.replace("\x00", "%00"))
    response = api(cast.nurse).put(url, wire(body), content_type="application/json")
    assert_documented_refusal(response)
    if response.status_code >= 400 and response.json()["code"] != "note_conflict":
        assert NoteRevision.objects.count() == before


def refusal(write: Callable[[], object]) -> AppError | None:
    try:
        write()
    except AppError as exc:
        return exc
    return None


@SETTINGS
@given(
    content=texts,
    base_revision=revisions,
    client_edit_id=texts,
    text_=texts,
    client_msg_id=texts,
)
def test_the_services_behind_the_socket_refuse_only_with_documented_errors(
    cast: Cast,
    consultation: Any,
    content: Any,
    base_revision: Any,
    client_edit_id: Any,
    text_: Any,
    client_msg_id: Any,
) -> None:
    # The socket answers an AppError with an `error` frame; anything else closes it (1011).
    via = Via(AuditEntry.Channel.WS, None)
    writes = [
        lambda: services.note_save(
            consultation=consultation,
            section="history",
            content={"text": content},
            base_revision=base_revision,
            client_edit_id=client_edit_id,
            actor=cast.nurse,
            via=via,
        ),
        lambda: services.chat_post(
            consultation=consultation,
            text=text_,
            client_msg_id=client_msg_id,
            actor=cast.nurse,
            via=via,
        ),
    ]
    for write in writes:
        before = (NoteRevision.objects.count(), ChatMessage.objects.count())
        error = refusal(write)
        if error is not None:
            assert error.code in DOCUMENTED, error.as_dict()
            json.dumps(error.as_dict())  # the error frame can be encoded
            if error.code != "note_conflict":  # a conflict records the refused attempt
                assert (NoteRevision.objects.count(), ChatMessage.objects.count()) == before
