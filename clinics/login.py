"""Login with throttling, for every login path: the page, the API token and the admin.

Failed logins are counted in buckets (LoginBucket), each refused once it holds its limit
within LOGIN_FAILURE_WINDOW:

- pair: one username from one address, LOGIN_FAILURE_LIMIT;
- account: one username from every address, LOGIN_ACCOUNT_FAILURE_LIMIT;
- address: one address for every username, LOGIN_ADDRESS_FAILURE_LIMIT.

An address that logged in to the account within LOGIN_KNOWN_ADDRESS_DAYS is held to its pair
bucket only. A success clears its pair bucket only: the owner logging in never frees the
attacker's address. The rule and its reasons: docs/architecture.md "Login throttling".

The failures themselves (LoginFailure) are kept LOGIN_FAILURE_RETENTION_HOURS, then purged
with the buckets that no longer count anything (purge_login_failures).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.models import LoginBucket, LoginFailure, User
from clinics.retention import delete_in_batches
from telehealth.codes import Code
from telehealth.errors import AppError

Kind = LoginBucket.Kind


@dataclass(frozen=True)
class _Charge:
    """The buckets one admitted attempt was charged to, and the window each charge fell in."""

    keys: list[tuple[str, str, str]]
    windows: dict[tuple[str, str, str], datetime]


def _limit(kind: str) -> int:
    return {
        Kind.PAIR: settings.LOGIN_FAILURE_LIMIT,
        Kind.ACCOUNT: settings.LOGIN_ACCOUNT_FAILURE_LIMIT,
        Kind.ADDRESS: settings.LOGIN_ADDRESS_FAILURE_LIMIT,
    }[Kind(kind)]


def _keys(username: str, ip: str) -> list[tuple[str, str, str]]:
    # Sorted: every transaction locks buckets in this one order, so two never deadlock.
    return sorted([(Kind.PAIR, username, ip), (Kind.ACCOUNT, username, ""), (Kind.ADDRESS, "", ip)])


def _lock(key: tuple[str, str, str], now: datetime) -> LoginBucket:
    """The bucket, created if new, locked until the transaction ends."""
    kind, username, ip = key
    while True:
        # INSERT … ON CONFLICT DO NOTHING: a concurrent first failure waits here, not fails.
        LoginBucket.objects.bulk_create(
            [LoginBucket(kind=kind, username=username, ip=ip, window_start=now)],
            ignore_conflicts=True,
        )
        # Gone between the two statements only if the purge took an idle bucket: insert again.
        found = LoginBucket.objects.select_for_update().filter(kind=kind, username=username, ip=ip)
        bucket = found.first()
        if bucket is not None:
            return bucket


def _throttled(wait: timedelta) -> AppError:
    return AppError(
        Code.THROTTLED,
        _("Too many failed logins. Wait %(minutes)d minutes and try again.")
        % {"minutes": max(1, math.ceil(wait.total_seconds() / 60))},
        status=429,
    )


def _admit(username: str, ip: str) -> _Charge:
    """Admit one attempt and charge its failure in advance, or raise `throttled`.

    One transaction holding the attempt's bucket rows (SELECT … FOR UPDATE; on SQLite the
    IMMEDIATE transaction holds the whole file): the decision and the charge are one step,
    so N parallel attempts on any number of processes admit at most the limit.
    """
    now = timezone.now()
    window = settings.LOGIN_FAILURE_WINDOW
    keys = _keys(username, ip)
    with transaction.atomic():
        buckets = {key: _lock(key, now) for key in keys}
        for bucket in buckets.values():
            if bucket.window_start <= now - window:
                bucket.failures, bucket.window_start = 0, now
        pair = buckets[(Kind.PAIR, username, ip)]
        known_since = now - timedelta(days=settings.LOGIN_KNOWN_ADDRESS_DAYS)
        known = pair.succeeded_at is not None and pair.succeeded_at > known_since
        counted = [pair] if known else list(buckets.values())
        full = [b for b in counted if b.failures >= _limit(b.kind)]
        if full:
            raise _throttled(max(b.window_start + window for b in full) - now)
        for bucket in buckets.values():
            bucket.failures += 1
        LoginBucket.objects.bulk_update(buckets.values(), ["failures", "window_start"])
    return _Charge(keys=keys, windows={key: b.window_start for key, b in buckets.items()})


def _succeeded(username: str, ip: str, charge: _Charge) -> None:
    """Refund the attempt's charge; clear its pair bucket and mark the address as known."""
    now = timezone.now()
    with transaction.atomic():
        for key in charge.keys:
            bucket = _lock(key, now)
            if key[0] == Kind.PAIR:
                bucket.failures, bucket.succeeded_at = 0, now
            elif bucket.window_start == charge.windows[key] and bucket.failures:
                bucket.failures -= 1  # a window begun since holds no charge of this attempt
            bucket.save(update_fields=["failures", "succeeded_at"])
        LoginFailure.objects.filter(username=username, ip=ip or None).delete()


def login_check(request: HttpRequest, *, username: str, password: str) -> User:
    """Return the user for these credentials or raise `throttled` / `invalid_credentials`.

    Call it outside any atomic block: the charge must be committed before the password is
    checked (slow, on purpose), which happens only for an attempt that was admitted.
    """
    name = username.lower()[:150]
    ip = request.META.get("REMOTE_ADDR") or ""
    charge = _admit(name, ip)
    user = authenticate(request, username=username, password=password)
    if not isinstance(user, User) or not user.is_active:
        LoginFailure.objects.create(username=name, ip=ip or None)
        raise AppError(Code.INVALID_CREDENTIALS, _("Wrong username or password."), status=400)
    _succeeded(name, ip, charge)
    return user


def login_failures_purge(*, batch_size: int = 1000) -> int:
    """Delete the failures older than LOGIN_FAILURE_RETENTION_HOURS and the buckets that no
    longer count anything (window over, no known address to remember); return how many.

    In batches (clinics.retention), so logins recording failures meanwhile are not held
    up. The retention covers LOGIN_FAILURE_WINDOW (settings refuse less); the throttle
    counts in the buckets, which are purged only once their window is over.
    """
    now = timezone.now()
    cutoff = now - timedelta(hours=settings.LOGIN_FAILURE_RETENTION_HOURS)
    expired = LoginFailure.objects.filter(at__lt=cutoff)
    removed = delete_in_batches(expired, oldest_first="at", batch_size=batch_size)
    known_since = now - timedelta(days=settings.LOGIN_KNOWN_ADDRESS_DAYS)
    idle = LoginBucket.objects.filter(window_start__lte=now - settings.LOGIN_FAILURE_WINDOW).filter(
        Q(succeeded_at__isnull=True) | Q(succeeded_at__lte=known_since)
    )
    return removed + delete_in_batches(idle, oldest_first="window_start", batch_size=batch_size)
