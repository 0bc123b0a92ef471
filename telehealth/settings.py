"""Settings, all from the environment (see README "Configuration").

Embedded default: SQLite file + in-memory channel layer. Production and CI:
DATABASE_URL (PostgreSQL) and REDIS_URL.
"""

import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
            "(a long random string), or DEBUG=1 for local development only."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    # The admin site behind the second factor (clinics.admin_site).
    "clinics.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "pgtrigger",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "clinics",
    "consults",
    "frontend",
]

MIDDLEWARE = [
    "telehealth.metrics.LatencyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "telehealth.cache.NoStoreMiddleware",
    "telehealth.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "telehealth.middleware.PagesInVietnameseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "clinics.middleware.IdleSessionTimeoutMiddleware",
    "telehealth.middleware.AppErrorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "telehealth.urls"
ASGI_APPLICATION = "telehealth.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "frontend.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers queue for the lock instead of failing at once; IMMEDIATE makes
    # every transaction take the write lock up front, so a read-then-write
    # (booking) cannot interleave with another writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
    # A file, not memory, so the daphne processes of end-to-end tests see the test data.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test_db.sqlite3")}
else:
    # psycopg waits 130 s for a host that answers nothing (down, or its packets dropped):
    # a request without the pool, and the pool's reconnection in the background, give up
    # at this instead. Unless DATABASE_URL sets connect_timeout itself.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 2)
    )
    if env_int("DATABASE_POOL_MAX_SIZE", 0) > 0:
        # Under daphne, Django serves each HTTP request in a thread of its own, and connections
        # are per thread: DATABASE_CONN_MAX_AGE keeps none of them for the next request, which
        # paid a new PostgreSQL backend (its connect and cold catalog caches) every time. A pool
        # lends each request an open connection; closing it at the request's end gives it back.
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # a pooled connection is never kept by a thread
        # With a pool, Django turns this into the pool's check of each connection it lends (one
        # empty query): after a PostgreSQL restart a dead connection is replaced, instead of
        # failing the first request that gets it (docs/decisions.md, "pool check").
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
        # The same backend, whose pool drops all its dead connections on finding one.
        DATABASES["default"]["ENGINE"] = "telehealth.postgresql"
        _pool_size = env_int("DATABASE_POOL_MAX_SIZE", 0)
        _pool_timeout = env_int("DATABASE_POOL_TIMEOUT", 3)
        if _pool_timeout < 1:
            raise ImproperlyConfigured(
                f"DATABASE_POOL_TIMEOUT must be at least 1, got {_pool_timeout}"
            )
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(2, _pool_size),  # psycopg_pool refuses a maximum below the minimum
            "max_size": _pool_size,
            # How long a request (or a consumer's database call) waits for a connection, then
            # fails with the retryable 503. The default 30 s outlived the client, and daphne's
            # WebSocket handshake, while the database was gone.
            "timeout": _pool_timeout,
            # A lost connection is reconnected in the background, retried after 1 s, 2 s…
            # for this long; then the slot is given up and the next request that finds the pool
            # empty tries afresh at once. The default 5 min let the retries drift 16 s or more
            # apart, so the pool could stay broken that long after the database was back.
            "reconnect_timeout": env_int("DATABASE_POOL_RECONNECT_TIMEOUT", 3),
        }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "clinics.User"

REDIS_URL = env_str("REDIS_URL")
# Redis behind Sentinel (docs/deploy.md "Redis Sentinel"): the channel layer and the cache ask
# the sentinels for the current master, so a failover needs no restart. Instead of REDIS_URL.
REDIS_SENTINELS = env_list("REDIS_SENTINELS", [])
REDIS_SENTINEL_MASTER = env_str("REDIS_SENTINEL_MASTER")
REDIS_SENTINEL_PASSWORD = env_str("REDIS_SENTINEL_PASSWORD")  # the sentinels' own, if any
REDIS_PASSWORD = env_str("REDIS_PASSWORD")  # the master's, with Sentinel
REDIS_DB = env_int("REDIS_DB", 0)
REDIS_CONFIGURED = bool(REDIS_URL or REDIS_SENTINELS)
CHANNEL_LAYER_KEY = env_str("CHANNEL_LAYER_KEY")


def sentinel_addresses(entries: list[str]) -> list[tuple[str, int]]:
    """ "host:port" entries ("[::1]:26379" for IPv6) as redis-py takes them."""
    found = []
    for entry in entries:
        host, _, port = entry.rpartition(":")
        if not host or not port.isdigit():
            raise ImproperlyConfigured(f"REDIS_SENTINELS entries are host:port, got {entry!r}")
        found.append((host.strip("[]"), int(port)))
    return found


if REDIS_URL and (REDIS_SENTINELS or REDIS_SENTINEL_MASTER):
    raise ImproperlyConfigured(
        "Set either REDIS_URL (one Redis) or REDIS_SENTINELS and REDIS_SENTINEL_MASTER "
        "(Redis behind Sentinel), not both"
    )
if bool(REDIS_SENTINELS) != bool(REDIS_SENTINEL_MASTER):
    raise ImproperlyConfigured(
        "REDIS_SENTINELS and REDIS_SENTINEL_MASTER go together: the sentinels' addresses "
        "and the name of the master they monitor"
    )
_sentinel: dict[str, object] = {}
if REDIS_SENTINELS:
    _sentinel_kwargs: dict[str, object] = {"socket_timeout": 2, "socket_connect_timeout": 2}
    if REDIS_SENTINEL_PASSWORD:
        _sentinel_kwargs["password"] = REDIS_SENTINEL_PASSWORD
    _sentinel = {
        "sentinels": sentinel_addresses(REDIS_SENTINELS),
        "master_name": REDIS_SENTINEL_MASTER,
        "sentinel_kwargs": _sentinel_kwargs,
        "db": REDIS_DB,
        "password": REDIS_PASSWORD or None,
    }

if REDIS_CONFIGURED:
    # redis-py 8 reads with a 5 s socket timeout by default, the same as channels-redis'
    # blocking receive (BZPOPMIN 5 s): an idle consumer would die. Allow more than that.
    # Its asyncio pool also stops at 100 connections and then raises instead of waiting:
    # 400 sockets joining at once (group_add + group_send each) crossed it in bench/.
    _redis_host: dict[str, object] = {
        **({"address": REDIS_URL} if REDIS_URL else _sentinel),
        "socket_timeout": 30,
        "max_connections": env_int("REDIS_MAX_CONNECTIONS", 2000),
    }
    _layer_config: dict[str, object] = {"hosts": [_redis_host], "capacity": 1500, "expiry": 30}
    if CHANNEL_LAYER_KEY:
        _layer_config["symmetric_encryption_keys"] = [CHANNEL_LAYER_KEY]
    # channels-redis, minus its leak of messages for channels already gone (see the module).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "consults.realtime.layer.RedisChannelLayer",
            "CONFIG": _layer_config,
        }
    }
    # A cache call waits no longer than this for a Redis that answers nothing.
    _cache_options: dict[str, object] = {"socket_connect_timeout": 2, "socket_timeout": 2}
    if REDIS_SENTINELS:
        _cache_options.update(_sentinel, pool_class="telehealth.sentinel.SentinelMasterPool")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # With Sentinel, a name for the reader: the pool finds the master itself.
            "LOCATION": REDIS_URL or f"sentinel://{REDIS_SENTINEL_MASTER}/{REDIS_DB}",
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "telehealth"),
            "OPTIONS": _cache_options,
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

LOGIN_URL = "frontend:login"
LOGIN_REDIRECT_URL = "frontend:home"
LOGOUT_REDIRECT_URL = "frontend:login"

# Sessions end after this long without a request (a shared station PC).
SESSION_IDLE_TIMEOUT = timedelta(minutes=env_int("SESSION_IDLE_MINUTES", 30))
# A socket's frames count as activity, stamped at most this often (clinics/sessions.py).
SESSION_TOUCH_SECONDS = env_int("SESSION_TOUCH_SECONDS", 60)
if SESSION_TOUCH_SECONDS < 1:
    raise ImproperlyConfigured("SESSION_TOUCH_SECONDS must be at least 1")
# An API token (one per login, per device) lasts a working shift and the evening after it; the
# client then logs in again. Fixed, not renewed on use: a stolen token dies on time.
API_TOKEN_TTL_HOURS = env_int("API_TOKEN_TTL_HOURS", 12)
if API_TOKEN_TTL_HOURS < 1:
    raise ImproperlyConfigured("API_TOKEN_TTL_HOURS must be at least 1")
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=API_TOKEN_TTL_HOURS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600)

# Login throttling (clinics/login.py, docs/architecture.md "Login throttling"): failed logins
# within the window, per username from one address, per username from every address, and per
# address for every username. A whole station sits behind one address: ~10 staff, each held
# to LOGIN_FAILURE_LIMIT, stay well below the address's limit.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_ACCOUNT_FAILURE_LIMIT = env_int("LOGIN_ACCOUNT_FAILURE_LIMIT", 20)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 100)
LOGIN_FAILURE_WINDOW = timedelta(minutes=env_int("LOGIN_FAILURE_WINDOW_MINUTES", 15))
# An address that logged in to an account within this many days is held to its own limit
# only, so guessing from elsewhere never locks the owner out at her usual desk.
LOGIN_KNOWN_ADDRESS_DAYS = env_int("LOGIN_KNOWN_ADDRESS_DAYS", 30)
if not 1 <= LOGIN_FAILURE_LIMIT <= min(LOGIN_ACCOUNT_FAILURE_LIMIT, LOGIN_ADDRESS_FAILURE_LIMIT):
    raise ImproperlyConfigured(
        "LOGIN_FAILURE_LIMIT must be at least 1 and at most LOGIN_ACCOUNT_FAILURE_LIMIT "
        "and LOGIN_ADDRESS_FAILURE_LIMIT"
    )
# Failures name a username and a client address (personal data, Decree 13/2023): kept a few
# days, so an operator can look into a guessing run after it, then purged
# (purge_login_failures). Never less than the window, or the throttle would forget too early.
LOGIN_FAILURE_RETENTION_HOURS = env_int("LOGIN_FAILURE_RETENTION_HOURS", 72)
if timedelta(hours=LOGIN_FAILURE_RETENTION_HOURS) < LOGIN_FAILURE_WINDOW:
    raise ImproperlyConfigured(
        f"LOGIN_FAILURE_RETENTION_HOURS ({LOGIN_FAILURE_RETENTION_HOURS}) must cover "
        f"LOGIN_FAILURE_WINDOW_MINUTES ({LOGIN_FAILURE_WINDOW.total_seconds() // 60:.0f})"
    )

# The second factor (clinics/two_factor.py, docs/architecture.md "Two-factor login"). After
# each wrong code a device refuses every code for FACTOR × 2^(failures − 1) seconds: 10 wrong
# codes in a row cost over 8 minutes, 20 over 12 days, so guessing 6 digits is out of reach.
OTP_TOTP_THROTTLE_FACTOR = env_int("OTP_TOTP_THROTTLE_FACTOR", 1)
OTP_STATIC_THROTTLE_FACTOR = env_int("OTP_STATIC_THROTTLE_FACTOR", 1)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Telehealth")
# Between the password and the code (or the enrolment) the session names the user, who is not
# logged in yet, for this long.
LOGIN_SECOND_STEP_MINUTES = env_int("LOGIN_SECOND_STEP_MINUTES", 10)

# A patient is checked in from this many minutes before the consult's start until its end:
# a check-in the day before, or hours after the slot, is a mistake at the desk (the consult
# should be rescheduled or recorded as a no-show instead).
CHECK_IN_WINDOW_MINUTES = env_int("CHECK_IN_WINDOW_MINUTES", 60)
if CHECK_IN_WINDOW_MINUTES < 0:
    raise ImproperlyConfigured(
        f"CHECK_IN_WINDOW_MINUTES must not be negative, got {CHECK_IN_WINDOW_MINUTES}"
    )

# Idempotency-Key answers are kept this long, then purged (purge_idempotency). A booking's
# answer holds the patient's name: personal data, kept no longer than a retry needs (Decree
# 13/2023). A station retries within minutes or hours; past this, the key is a new key.
IDEMPOTENCY_RETENTION_HOURS = env_int("IDEMPOTENCY_RETENTION_HOURS", 48)
if IDEMPOTENCY_RETENTION_HOURS < 1:
    raise ImproperlyConfigured(
        f"IDEMPOTENCY_RETENTION_HOURS must be at least 1, got {IDEMPOTENCY_RETENTION_HOURS}"
    )

# The audit log (who read or changed which patient's data) is kept for ever by default (0):
# medical records are kept at least 10 years and no rule asks for their access log to go
# sooner. An operator whose policy sets a period names it in days; purge_audit then deletes
# older entries, the one delete the database's audit trigger lets through (docs/deploy.md).
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 0)
if AUDIT_RETENTION_DAYS < 0:
    raise ImproperlyConfigured(
        f"AUDIT_RETENTION_DAYS must be 0 (keep for ever) or more, got {AUDIT_RETENTION_DAYS}"
    )

# The SMS gateway reminders go through (a dotted path to a class with `send(to, text)`); the
# default only logs the message.
SMS_BACKEND = env_str("SMS_BACKEND", "consults.scheduling.reminders.LoggingSmsGateway")

# A reminder worker holds the reminders it claimed this long; if it dies meanwhile, another
# worker sends them once the lease is over. Longer than a batch takes to send (50 messages),
# short enough that a "15 minutes before" reminder is still early when retried.
REMINDER_LEASE_SECONDS = env_int("REMINDER_LEASE_SECONDS", 300)
if REMINDER_LEASE_SECONDS < 30:
    raise ImproperlyConfigured(
        f"REMINDER_LEASE_SECONDS must be at least 30, got {REMINDER_LEASE_SECONDS}"
    )

# The outbound message queue (docs/messages.md). A worker holds the messages it claimed for
# MESSAGES_LEASE_SECONDS; one that dies mid-send leaves them to another once it is over. A
# message failing MESSAGES_MAX_ATTEMPTS times is dead-lettered for staff to resend.
MESSAGES_LEASE_SECONDS = env_int("MESSAGES_LEASE_SECONDS", 120)
MESSAGES_MAX_ATTEMPTS = env_int("MESSAGES_MAX_ATTEMPTS", 6)
MESSAGES_RETRY_SECONDS = env_int("MESSAGES_RETRY_SECONDS", 60)
if MESSAGES_LEASE_SECONDS < 1 or MESSAGES_MAX_ATTEMPTS < 1 or MESSAGES_RETRY_SECONDS < 1:
    raise ImproperlyConfigured("MESSAGES_LEASE_SECONDS, _MAX_ATTEMPTS, _RETRY_SECONDS must be ≥ 1")
# A brand-name SMS provider's HTTP API (eSMS-style JSON); unset URL: SMS is only logged.
MESSAGES_SMS_URL = env_str("MESSAGES_SMS_URL", "")
MESSAGES_SMS_API_KEY = env_str("MESSAGES_SMS_API_KEY", "")
MESSAGES_SMS_SECRET = env_str("MESSAGES_SMS_SECRET", "")
MESSAGES_SMS_BRANDNAME = env_str("MESSAGES_SMS_BRANDNAME", "")
# Zalo ZNS through the programme's Official Account; unset URL: Zalo goes straight to SMS.
MESSAGES_ZALO_URL = env_str("MESSAGES_ZALO_URL", "")
MESSAGES_ZALO_ACCESS_TOKEN = env_str("MESSAGES_ZALO_ACCESS_TOKEN", "")
MESSAGES_ZALO_TEMPLATE_ID = env_str("MESSAGES_ZALO_TEMPLATE_ID", "")
MESSAGES_HTTP_TIMEOUT = env_int("MESSAGES_HTTP_TIMEOUT", 10)
# The shared secret the providers' delivery receipts are signed with (HMAC-SHA256).
MESSAGES_WEBHOOK_SECRET = env_str("MESSAGES_WEBHOOK_SECRET", "")

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "vi")
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "frontend" / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Ho_Chi_Minh")
USE_I18N = True
USE_TZ = True

# Serve /static/ from the app itself (demo, tests, a single-PC install); behind nginx,
# set SERVE_STATIC=0 and let nginx serve `collectstatic` output.
SERVE_STATIC = env_bool("SERVE_STATIC", True)
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# Consult attachments (patient data): a storage of their own, never served as /media/;
# downloads go through the API, which checks access and audits each one.
NOTES_MEDIA_ROOT = Path(env_str("NOTES_MEDIA_ROOT", str(BASE_DIR / "private_media")))
NOTES_ATTACHMENT_MAX_BYTES = env_int("NOTES_ATTACHMENT_MAX_MB", 10) * 1024 * 1024
NOTES_ASYNC_TARGET_HOURS = env_int("NOTES_ASYNC_TARGET_HOURS", 48)
# Report PDF font: must cover Vietnamese (Debian package fonts-dejavu-core).
REPORT_FONT_PATH = env_str("REPORT_FONT_PATH", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
# Attachments go through Django's storage API only (consults/notes/attachments.py): a local
# folder on one host; an S3-compatible bucket (django-storages) when several hosts serve.
ATTACHMENTS_S3_BUCKET = env_str("ATTACHMENTS_S3_BUCKET")
if ATTACHMENTS_S3_BUCKET:
    _attachments: dict[str, object] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": ATTACHMENTS_S3_BUCKET,
            "endpoint_url": env_str("ATTACHMENTS_S3_ENDPOINT_URL") or None,
            "region_name": env_str("ATTACHMENTS_S3_REGION") or None,
            "access_key": env_str("ATTACHMENTS_S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("ATTACHMENTS_S3_SECRET_ACCESS_KEY") or None,
            "location": env_str("ATTACHMENTS_S3_PREFIX"),
            # Patient data: never replaced in place, fetched only by the app (no public URL).
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
else:
    _attachments = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(NOTES_MEDIA_ROOT)},
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "attachments": _attachments,
}

# STUN and TURN (docs/deploy.md "coturn"): comma lists, one plain line each in the environment
# file, which systemd and a shell (`set -a; . /etc/telehealth/env`) both read. ICE_SERVERS
# (a JSON list of RTCIceServer dicts) remains for anything the lists cannot say.
TURN_SECRET = env_str("TURN_SECRET")
STUN_URLS = env_list("STUN_URLS", [])
TURN_URLS = env_list("TURN_URLS", [])
if env_str("ICE_SERVERS") and (STUN_URLS or TURN_URLS):
    raise ImproperlyConfigured("Set either ICE_SERVERS (JSON) or STUN_URLS/TURN_URLS, not both")
for _url in STUN_URLS:
    if not _url.startswith(("stun:", "stuns:")):
        raise ImproperlyConfigured(f"STUN_URLS entries start with stun: or stuns:, got {_url!r}")
for _url in TURN_URLS:
    if not _url.startswith(("turn:", "turns:")):
        raise ImproperlyConfigured(f"TURN_URLS entries start with turn: or turns:, got {_url!r}")
if TURN_URLS and not TURN_SECRET:
    # coturn with use-auth-secret relays only for credentials minted with its secret.
    raise ImproperlyConfigured("TURN_URLS needs TURN_SECRET (coturn's static-auth-secret)")
ICE_SERVERS: list[dict[str, object]] = json.loads(env_str("ICE_SERVERS") or "[]")
if STUN_URLS:
    ICE_SERVERS.append({"urls": STUN_URLS})
if TURN_URLS:
    ICE_SERVERS.append({"urls": TURN_URLS})

# The sockets (docs/signaling.md "Limits"). Frame limits are in bytes of UTF-8; a frame above
# WEBSOCKET_MAX_MESSAGE_BYTES never reaches the app: daphne (autobahn) fails the connection
# with 1009 (run daphne with --websocket-max-message-size/--websocket-max-frame-size set to it;
# 1 MiB is also daphne's default). Below it, the socket's own limit answers `frame_too_large`.
WEBSOCKET_MAX_MESSAGE_BYTES = 1024 * 1024
ROOM_MAX_PEERS = env_int("ROOM_MAX_PEERS", 4)
ROOM_MAX_FRAME_BYTES = env_int("ROOM_MAX_FRAME_BYTES", 64 * 1024)
ROOM_RATE_BURST = env_int("ROOM_RATE_BURST", 60)
ROOM_RATE_PER_SECOND = env_int("ROOM_RATE_PER_SECOND", 30)
ROOM_HEARTBEAT_SECONDS = env_int("ROOM_HEARTBEAT_SECONDS", 10)
ROOM_PEER_TTL_SECONDS = env_int("ROOM_PEER_TTL_SECONDS", 30)
ROOM_HELLO_TIMEOUT_SECONDS = env_int("ROOM_HELLO_TIMEOUT_SECONDS", 10)
ROOM_REAUTH_SECONDS = env_int("ROOM_REAUTH_SECONDS", 5)
ROOM_TICKET_TTL_SECONDS = env_int("ROOM_TICKET_TTL_SECONDS", 60)
ROOM_TURN_TTL_SECONDS = env_int("ROOM_TURN_TTL_SECONDS", 3600)
# Case conferences through Janus (docs/deploy.md "Janus"); no admin URL or secret: off.
JANUS_URL = env_str("JANUS_URL") or None
JANUS_ADMIN_URL = env_str("JANUS_ADMIN_URL") or None
JANUS_ADMIN_SECRET = env_str("JANUS_ADMIN_SECRET") or None
ROOM_PRECALL_MAX = env_int("ROOM_PRECALL_MAX", 3)
ROOM_PRECALL_SECONDS = env_int("ROOM_PRECALL_SECONDS", 30)
# The largest legal `note.save` (a plan: three fields of 10,000 characters) is ~90 KB of
# UTF-8 Vietnamese, ~360 KB if a client escapes every character as \uXXXX (docs/decisions.md).
NOTES_MAX_FRAME_BYTES = env_int("NOTES_MAX_FRAME_BYTES", 384 * 1024)
NOTES_RATE_BURST = env_int("NOTES_RATE_BURST", 40)
NOTES_RATE_PER_SECOND = env_int("NOTES_RATE_PER_SECOND", 20)
NOTES_RECHECK_SECONDS = env_int("NOTES_RECHECK_SECONDS", 15)
# After a 4429 the same browser session or client address may not open a socket for this long
# (consults/realtime/cooldown.py); 0 turns the cool-down off.
RATE_LIMIT_COOLDOWN_SECONDS = env_int("RATE_LIMIT_COOLDOWN_SECONDS", 15)
FEED_RECHECK_SECONDS = env_int("FEED_RECHECK_SECONDS", 15)
if ROOM_HEARTBEAT_SECONDS * 2 > ROOM_PEER_TTL_SECONDS:
    raise ImproperlyConfigured(
        f"ROOM_PEER_TTL_SECONDS ({ROOM_PEER_TTL_SECONDS}) must cover two heartbeats "
        f"(ROOM_HEARTBEAT_SECONDS={ROOM_HEARTBEAT_SECONDS}), or live peers are dropped"
    )
if max(ROOM_MAX_FRAME_BYTES, NOTES_MAX_FRAME_BYTES) > WEBSOCKET_MAX_MESSAGE_BYTES:
    raise ImproperlyConfigured(
        "ROOM_MAX_FRAME_BYTES and NOTES_MAX_FRAME_BYTES must stay within daphne's limit "
        f"({WEBSOCKET_MAX_MESSAGE_BYTES} bytes)"
    )

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "telehealth.auth.CsrfSessionAuthentication",
        "telehealth.auth.ApiTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "telehealth.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "telehealth.schema.AutoSchema",
    "EXCEPTION_HANDLER": "telehealth.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["telehealth.parsers.JSONParser"],
}
# A body (form fields or JSON, not attached files) larger than this is 413
# `request_too_large`. The largest real one, a plan of three 10,000-character fields, is
# under 200 KiB even with every character escaped as \uXXXX.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ]

SPECTACULAR_SETTINGS = {
    "TITLE": "Telehealth API",
    "DESCRIPTION": "Video consultations between commune health stations and central hospitals.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "telehealth.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ConsentPurposeEnum": "clinics.models.Consent.Purpose",
        "FacilityKindEnum": "clinics.models.Facility.Kind",
        "GuestKindEnum": "consults.room.models.GuestInvite.Kind",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "telehealth@localhost")

# Production behind TLS (HTTPS=1): secure cookies, HSTS, redirect to https. A TLS-terminating
# proxy (nginx) must set X-Forwarded-Proto; BEHIND_TLS_PROXY=1 trusts that header.
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
# Probes and the scraper talk to daphne's own port, in plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
# Preloading puts the domain in the browsers' built-in HTTPS-only list, which is slow to
# leave: the operator opts in, for a domain whose every subdomain serves HTTPS for good.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# `check --deploy` warns without preload (security.W021): here that is a choice, not a slip.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SESSION_COOKIE_SECURE = HTTPS or env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Only this origin: no CDN, no third-party script (stations are on weak links, patient data
# stays home). WebSockets and media streams are same-origin too.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob: mediastream:; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

# Health and metrics (docs/deploy.md "Health and metrics"). /metrics answers these addresses,
# or a request with `Authorization: Bearer <METRICS_TOKEN>`; anyone else gets a 404.
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])
METRICS_TOKEN = env_str("METRICS_TOKEN")
# /readyz answers within this, whatever hangs behind it.
READINESS_CHECK_TIMEOUT = env_int("READINESS_TIMEOUT_MS", 1500) / 1000

# Error reports (sentry-sdk), only when SENTRY_DSN is set: without request bodies, cookies,
# query strings or local variables (patient data must not leave; telehealth/sentry.py).
SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    from telehealth.sentry import sentry_init

    sentry_init(dsn=SENTRY_DSN, environment=env_str("SENTRY_ENVIRONMENT", "production"))
