"""The fixed cast every test can call on.

station: Tà Lùng station with its nurse, room and patient;
station2: another station with its nurse (the outsider);
hospital: a central hospital with a cardiologist and a coordinator;
hospital2: another central hospital with its own specialist and coordinator.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from clinics.models import Facility, Membership, Patient, StationRoom, User
from consults.models import Consultation
from tests import factories

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
ON_REDIS = bool(settings.REDIS_URL)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Playwright's sync API leaves an event loop running in the main thread for the rest of
    # the session, which breaks every asyncio test after it: browser tests run last.
    items.sort(key=lambda item: "browser" in item.keywords)
    # On a laptop without the services, say which tests were skipped and why.
    # In CI (TELEHEALTH_REQUIRE_SERVICES=1) nothing is skipped: a missing service fails.
    if os.environ.get("TELEHEALTH_REQUIRE_SERVICES"):
        return
    for item in items:
        if "postgres" in item.keywords and not ON_POSTGRES:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL"))
        if "redis" in item.keywords and not ON_REDIS:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL"))


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["tests.hashers.FastPBKDF2PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> None:
    # Each async test runs in a new event loop; a layer built in an earlier loop (even by a
    # sync test's async_to_sync) holds locks bound to that loop.
    from channels.layers import channel_layers

    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _no_cooldown_left() -> None:
    """A 4429 holds the client's address (127.0.0.1 for every test) for
    RATE_LIMIT_COOLDOWN_SECONDS: no test starts inside an earlier test's cool-down."""
    from consults.realtime.cooldown import cooldown_clear

    cooldown_clear()
    if ON_REDIS:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        try:
            keys = list(client.scan_iter(match="*:cooldown:*", count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


@dataclass
class Cast:
    station: Facility
    station2: Facility
    hospital: Facility
    hospital2: Facility
    room: StationRoom
    nurse: User
    outsider_nurse: User
    specialist: User
    other_specialist: User
    coordinator: User
    other_coordinator: User
    admin: User
    patient: Patient
    other_patient: Patient


@pytest.fixture
def cast(db: None) -> Cast:
    return make_cast()


def make_cast() -> Cast:
    R = Membership.Role
    station = factories.make_facility(
        code="TLG", name="Trạm Y tế thị trấn Tà Lùng", district="Quảng Hòa"
    )
    station2 = factories.make_facility(code="PHA", name="Trạm Y tế xã Phúc Sen")
    hospital = factories.make_facility(
        Facility.Kind.CENTRAL_HOSPITAL, code="BM", name="Bệnh viện Bạch Mai", province="Hà Nội"
    )
    hospital2 = factories.make_facility(
        Facility.Kind.CENTRAL_HOSPITAL, code="CR", name="Bệnh viện Chợ Rẫy", province="TP.HCM"
    )
    admin = factories.make_user(username="admin", is_superuser=True, is_staff=True)
    return Cast(
        station=station,
        station2=station2,
        hospital=hospital,
        hospital2=hospital2,
        room=factories.make_room(station),
        nurse=factories.make_user(R.STATION_STAFF, station, username="nurse"),
        outsider_nurse=factories.make_user(R.STATION_STAFF, station2, username="outsider"),
        specialist=factories.make_user(R.SPECIALIST, hospital, username="specialist"),
        other_specialist=factories.make_user(R.SPECIALIST, hospital2, username="specialist2"),
        coordinator=factories.make_user(R.COORDINATOR, hospital, username="coordinator"),
        other_coordinator=factories.make_user(R.COORDINATOR, hospital2, username="coordinator2"),
        admin=admin,
        patient=factories.make_patient(station, full_name="Nông Thị Hoa"),
        other_patient=factories.make_patient(station2, full_name="Lục Văn Sáng"),
    )


@pytest.fixture
def api() -> Callable[[User | None], APIClient]:
    """api(user) → a client authenticated as `user` (None: anonymous)."""

    def make(user: User | None = None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def consultation(cast: Cast) -> Consultation:
    return factories.make_consultation(
        patient=cast.patient, specialist=cast.specialist, hospital=cast.hospital, room=cast.room
    )


def vendor() -> str:
    return connection.vendor
