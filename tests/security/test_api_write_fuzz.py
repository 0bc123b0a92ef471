"""Every API write the OpenAPI schema lists, sent by a user who may make it against a real
world (tests/security/matrix_world.py, tests/security/write_targets.py), its body mutated by
hypothesis: any field of the schema (or of the valid body, nested ones too) replaced by NUL,
lone surrogates, bidi overrides, 100,000-character strings, 2**31, 2**63, -1, -2**63, floats
(NaN and infinities too), 5,000-deep JSON, lists of 1,000 duplicates; unknown fields added;
the whole body replaced; hostile query parameters and Idempotency-Key headers.

The server never answers 5xx; every refusal is JSON with a code one of the docs' "Codes"
tables lists (docs/api.md, scheduling.md, notes.md); a refusal writes nothing (no row added,
removed or updated in any table of the project's, but the ones its rule says it writes:
write_targets.REFUSALS_THAT_WRITE). Each example runs in a savepoint rolled back after
it, so every example meets the same world. `API_FUZZ_EXAMPLES` examples per operation
(default 12; the nightly size is in docs/testing.md)."""

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from django.apps import apps
from django.db import connection, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from tests import factories
from tests.conftest import Cast
from tests.security.matrix_world import World, build_world
from tests.security.write_targets import REFUSALS_THAT_WRITE, TARGETS, Target, prepare
from tests.telehealth.test_codes import code_tables, error_codes_in

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "12"))
WRITES = {"post", "put", "patch", "delete"}
DOCS = Path(__file__).resolve().parents[2] / "docs"
DOCUMENTED = {
    code
    for name in ("api.md", "scheduling.md", "notes.md")
    for code in error_codes_in(code_tables((DOCS / name).read_text()))
}


def write_operations() -> dict[str, dict[str, Any]]:
    """`METHOD /path` → the operation, for every write of the app's own schema."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    schema = json.loads(OpenApiJsonRenderer().render(generated))
    operations = {}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in WRITES:
                operation["properties"] = _properties(schema, operation)
                operations[f"{method.upper()} {path}"] = operation
    return operations


def _properties(schema: dict[str, Any], operation: dict[str, Any]) -> list[str]:
    names: set[str] = set()
    for media in operation.get("requestBody", {}).get("content", {}).values():
        ref = media["schema"].get("$ref", "")
        component = schema["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
        names |= set(component.get("properties", {}))
    return sorted(names)


OPERATIONS = write_operations()

# Hostile values. DEEP stands for 5,000 nested arrays, put into the JSON text by hand
# (json.dumps itself would recurse that deep).
DEEP = "\ue000deep\ue000"
HOSTILE_CHARS = ["\x00", "\ud800", "\udfff", "\u202e", "\u2066", "\ufeff", "\u200b"]
HOSTILE_TEXT = ["\x00", "\ud800", "a\udfffb", "\u202eevil\u202c", "\u2066x", "\ufeff", ""]
text = st.text(
    alphabet=st.one_of(
        st.characters(codec=None, exclude_categories=()), st.sampled_from(HOSTILE_CHARS)
    ),
    max_size=20,
)
# Built, not listed: hypothesis would print a 100,000-character literal in every repr.
long_text = st.sampled_from(["x", "\x00", "đ", "\ud800"]).map(lambda c: c * 100_000)
integers = st.one_of(
    st.sampled_from([2**31 - 1, 2**31, 2**63, -(2**63), -1, 0, 10**40]), st.integers()
)
small = st.one_of(
    st.none(),
    st.booleans(),
    integers,
    st.floats(),  # NaN and the infinities included: json.dumps writes them as NaN/Infinity
    text,
    st.sampled_from(HOSTILE_TEXT),
)
scalars = st.one_of(small, long_text, st.just(DEEP))
values = st.one_of(
    scalars,
    small.map(lambda v: [v] * 1_000),
    st.lists(scalars, max_size=4),
    st.dictionaries(text, small, max_size=3),
)


def _paths(body: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a valid body a value can go (nested dicts and lists included)."""
    if isinstance(body, dict):
        for key, value in body.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(body, list):
        for i, value in enumerate(body):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


def _put(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(body) if isinstance(body, dict) else list(body)
    copy[path[0]] = _put(copy[path[0]], path[1:], value)
    return copy


@st.composite
def bodies(draw: Any, valid: dict[str, Any], properties: list[str]) -> Any:
    """A valid body with 1–3 places replaced (and maybe unknown fields added), or a hostile
    body outright, or the valid body as is (the query and the headers are the hostile part)."""
    places = sorted({(p,) for p in properties} | set(_paths(valid)), key=repr)
    mode = draw(st.sampled_from(["replace", "replace", "extra", "whole", "valid"]))
    if mode == "whole":
        return draw(st.one_of(values, st.just([valid] * 1_000), st.just(DEEP)))
    body: Any = dict(valid)
    if mode == "valid" or not places:
        return body
    for place in draw(st.lists(st.sampled_from(places), min_size=1, max_size=3)):
        try:
            body = _put(body, place, draw(values))
        except (KeyError, IndexError, TypeError):  # an earlier replacement took its parent
            continue
    if mode == "extra":
        body |= draw(st.dictionaries(text, values, min_size=1, max_size=3))
    return body


def json_text(body: Any) -> bytes:
    deep = "[" * 5_000 + "]" * 5_000
    # A file sent as JSON goes as its bytes read as Latin-1.
    encoded = json.dumps(body, default=lambda b: b.decode("latin-1"))
    return encoded.replace(json.dumps(DEEP), deep).encode()


def raw(value: Any) -> bytes:
    """A value as a query string or a form field carries it: text, invalid UTF-8 included."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json_text(value)


queries = st.dictionaries(
    st.sampled_from(["page", "page_size", "format", "q", "id", "x\x00", "\ud800"]),
    scalars,
    max_size=3,
)
keys = st.one_of(
    st.none(),
    st.just("valid"),
    st.just("reused"),  # first sent with the valid body, then with the hostile one
    st.sampled_from(["\x00", "k" * 101, "\ud800", "\u202e", "", " ", "\r\n"]),
    long_text,
    text,
)


def query_string(query: dict[str, Any]) -> str:
    return "&".join(
        f"{quote_from_bytes(raw(k))}={quote_from_bytes(raw(v))}" for k, v in query.items()
    )


def header(value: str) -> str:
    """A header as WSGI hands it over: its bytes read as Latin-1."""
    return value.encode("utf-8", "surrogatepass").decode("latin-1")


def multipart(body: Any, filename: str) -> tuple[bytes, str]:
    """A form by hand, so that any text (lone surrogates too) reaches the parser as bytes;
    the file goes under `filename`."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in body.items() if isinstance(body, dict) else [("file", body)]:
        is_file = isinstance(value, tuple)
        content, kind = (value[1], value[2]) if is_file else (raw(value), None)
        disposition = f'form-data; name="{name}"'.encode("utf-8", "surrogatepass")
        if is_file:
            disposition += f'; filename="{filename}"'.encode("utf-8", "surrogatepass")
        head = b"Content-Disposition: " + disposition + b"\r\n"
        if kind:
            head += f"Content-Type: {kind}\r\n".encode()
        parts.append(b"--" + boundary.encode() + b"\r\n" + head + b"\r\n" + content + b"\r\n")
    data = b"".join(parts) + b"--" + boundary.encode() + b"--\r\n"
    return data, f"multipart/form-data; boundary={boundary}"


def tables() -> list[tuple[str, bool]]:
    """(table, has updated_at) for every concrete model of the project's apps and tokens."""
    found = []
    for model in apps.get_models():
        if model._meta.app_label in {"clinics", "consults", "knox", "otp_totp", "otp_static"}:
            fields = {f.column for f in model._meta.concrete_fields}
            found.append((model._meta.db_table, "updated_at" in fields))
    return sorted(found)


def fingerprint(code: str | None = None) -> dict[str, Any]:
    """Row count (and latest update) of every table, but those a refusal with `code` writes
    by its rule: one query."""
    skip = {model._meta.db_table for model in REFUSALS_THAT_WRITE.get(code or "", ())}
    listed = [(t, u) for t, u in tables() if t not in skip]
    q = connection.ops.quote_name
    # Table names from the models, nothing from the request.
    count, latest = "(SELECT count(*) FROM {})", "(SELECT max(updated_at) FROM {})"
    columns = [count.format(q(t)) + (", " + latest.format(q(t)) if u else "") for t, u in listed]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(columns))
        row = iter(cursor.fetchone())
    return {t: (next(row), next(row) if u else None) for t, u in listed}


def assert_documented_refusal(response: Any, sent: str) -> None:
    assert response.status_code < 500, (sent, response.content[:2000])
    if response.status_code >= 400:
        assert response.headers["Content-Type"] == "application/json", (sent, response.content)
        body = response.json()
        assert body["code"] in DOCUMENTED, (sent, body)
        assert isinstance(body["message"], str), (sent, body)
        assert body["message"], (sent, body)


@pytest.fixture
def world(cast: Cast, tmp_path: Path, settings: Any) -> World:
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private_media")},
        },
    }
    world = build_world(cast)
    prepare(world)
    return world


def client_for(world: World, role: str) -> APIClient:
    client = APIClient()
    user = world.user(role)
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {factories.make_api_token(user)}")
    return client


def send(
    client: Any, label: str, target: Target, world: World, case: dict[str, Any], key: str
) -> Any:
    """One request; `client` is an APIClient (its stubs take only text bodies)."""
    method, route = label.split(" ", 1)
    url = route.format(**world.kwargs(route, target.role))
    if case["query"]:
        url += "?" + query_string(case["query"])
    if target.multipart and not case["as_json"]:
        data, content_type = multipart(case["body"], case["filename"])
    else:
        data, content_type = json_text(case["body"]), "application/json"
    extra = {} if case["key"] is None else {"HTTP_IDEMPOTENCY_KEY": header(key)}
    return client.generic(method, url, data, content_type, **extra)


def cases(label: str, world_body: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = OPERATIONS[label]["properties"]
    return st.fixed_dictionaries(
        {
            "body": bodies(world_body, properties),
            "query": st.one_of(st.just({}), queries),
            "key": keys,
            "as_json": st.booleans(),
            "filename": st.one_of(st.just("ecg.png"), text, long_text, st.just("../../x.png")),
        }
    )


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_every_write_refuses_hostile_input_in_the_documented_shape(
    label: str, world: World
) -> None:
    assert label in TARGETS, f"{label}: no world to run against (tests/security/write_targets.py)"
    target = TARGETS[label]
    client = client_for(world, target.role)
    valid = target.body(world)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases(label, valid))
    def run(case: dict[str, Any]) -> None:
        sent = repr(case)[:1000]
        key = str(uuid.uuid4()) if case["key"] in ("valid", "reused") else case["key"]
        with transaction.atomic():
            if case["key"] == "reused":
                first = {**case, "body": valid, "query": {}, "as_json": False}
                assert_documented_refusal(send(client, label, target, world, first, key), sent)
            before = fingerprint()
            response = send(client, label, target, world, case, key)
            assert_documented_refusal(response, sent)
            if response.status_code >= 400:
                after = fingerprint(response.json()["code"])
                assert after == {t: before[t] for t in after}, (sent, response.json())
            transaction.set_rollback(True)

    run()


def test_the_fuzz_has_a_world_for_every_write_and_no_other() -> None:
    assert len(OPERATIONS) >= 29
    assert set(TARGETS) == set(OPERATIONS)
    assert {"invalid", "unknown_field", "slot_taken", "note_conflict"} <= DOCUMENTED
