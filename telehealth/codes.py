"""Every error code the server answers, over HTTP and on its sockets: defined here once.

A raise site names a member (`AppError(Code.SLOT_TAKEN, …)`), never a string: the
parameters are typed `Code`, so mypy refuses a bare string. A `StrEnum` member is its value
in JSON, so the wire is the string clients already know. Each family is documented in the
"Codes" table of its doc, and tests/telehealth/test_codes.py holds the docs and this enum to
the same list:

- requests, authentication, patients, dashboard, room links: docs/api.md "Codes";
- booking and lifecycle: docs/scheduling.md "Codes";
- notes, attachments, the report: docs/notes.md "Codes";
- sockets (`error` frames, the codes that come with a close): docs/signaling.md "Error codes".
"""

from enum import StrEnum, unique


@unique
class Code(StrEnum):
    # Requests and authentication (docs/api.md); also on sockets: NOT_FOUND,
    # NOT_AUTHENTICATED, UNKNOWN_FIELD.
    MALFORMED_REQUEST = "malformed_request"
    UNKNOWN_FIELD = "unknown_field"
    INVALID = "invalid"
    INVALID_CREDENTIALS = "invalid_credentials"
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    NOT_AUTHENTICATED = "not_authenticated"
    INVALID_TOKEN = "invalid_token"  # noqa: S105 (an error code, not a secret)
    OTP_REQUIRED = "otp_required"
    INVALID_OTP = "invalid_otp"
    OTP_SETUP_REQUIRED = "otp_setup_required"
    CSRF_FAILED = "csrf_failed"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    THROTTLED = "throttled"
    SERVER_ERROR = "server_error"
    SERVICE_UNAVAILABLE = "service_unavailable"
    REQUEST_TOO_LARGE = "request_too_large"

    # Patients and the programme dashboard (docs/api.md).
    DUPLICATE_CITIZEN_ID = "duplicate_citizen_id"
    POSSIBLE_DUPLICATE = "possible_duplicate"
    INVALID_MONTH = "invalid_month"
    INVALID_QUERY = "invalid_query"

    # Delivery receipts from the SMS and Zalo providers (docs/api.md, docs/messages.md).
    BAD_SIGNATURE = "bad_signature"

    # Booking and the consult's lifecycle (docs/scheduling.md); INVALID_TRANSITION also on
    # the room socket.
    SLOT_TAKEN = "slot_taken"
    ROOM_BUSY = "room_busy"
    PATIENT_BUSY = "patient_busy"
    OUTSIDE_AVAILABILITY = "outside_availability"
    CLOSED_DAY = "closed_day"
    TOO_LATE = "too_late"
    DAILY_CAP_REACHED = "daily_cap_reached"
    NOT_ON_SLOT_BOUNDARY = "not_on_slot_boundary"
    BEYOND_HORIZON = "beyond_horizon"
    INVALID_RANGE = "invalid_range"
    SPECIALTY_MISMATCH = "specialty_mismatch"
    UNKNOWN_SPECIALTY = "unknown_specialty"
    INVALID_TRANSITION = "invalid_transition"
    TOO_EARLY = "too_early"
    OUTSIDE_CHECK_IN_WINDOW = "outside_check_in_window"
    NO_OFFER = "no_offer"

    # Room links and tickets over HTTP (docs/api.md); NOT_JOINABLE and NOT_ALLOWED also on
    # the room socket.
    NOT_JOINABLE = "not_joinable"
    NOT_ALLOWED = "not_allowed"
    INVITE_INVALID = "invite_invalid"

    # Notes, attachments and the report (docs/notes.md); NOT_A_PARTICIPANT also on the
    # notes socket.
    NOTE_CONFLICT = "note_conflict"
    UNKNOWN_SECTION = "unknown_section"
    REPORT_SIGNED = "report_signed"
    REPORT_NOT_SIGNED = "report_not_signed"
    REPORT_CHANGED = "report_changed"
    ASSESSMENT_MISSING = "assessment_missing"
    NOT_A_PARTICIPANT = "not_a_participant"
    NOT_THE_SPECIALIST = "not_the_specialist"
    NOT_STATION_STAFF = "not_station_staff"
    NOT_ASYNC = "not_async"
    NOT_SUBMITTED = "not_submitted"
    ALREADY_SUBMITTED = "already_submitted"
    NOTES_INCOMPLETE = "notes_incomplete"
    FILE_TYPE_NOT_ALLOWED = "file_type_not_allowed"
    FILE_TOO_LARGE = "file_too_large"
    FILE_EMPTY = "file_empty"
    NO_THUMBNAIL = "no_thumbnail"
    REPORT_FONT_MISSING = "report_font_missing"

    # Case conferences through Janus (docs/api.md).
    CONFERENCES_OFF = "conferences_off"
    CONFERENCE_UNAVAILABLE = "conference_unavailable"

    # Socket frames refused, the socket stays open (docs/signaling.md).
    MALFORMED = "malformed"
    UNKNOWN_TYPE = "unknown_type"
    MISSING_FIELD = "missing_field"
    INVALID_FIELD = "invalid_field"
    FORBIDDEN_FIELD = "forbidden_field"
    HELLO_REQUIRED = "hello_required"
    ALREADY_JOINED = "already_joined"
    UNKNOWN_PEER = "unknown_peer"
    PEER_BUSY = "peer_busy"
    FRAME_TOO_LARGE = "frame_too_large"

    # Sockets refused or ended: the `error` frame before the close (docs/signaling.md).
    RATE_LIMITED = "rate_limited"
    INVALID_TICKET = "invalid_ticket"
    HELLO_TIMEOUT = "hello_timeout"
    LOGGED_OUT = "logged_out"
    SESSION_EXPIRED = "session_expired"
    ACCESS_REVOKED = "access_revoked"
    INVITE_REVOKED = "invite_revoked"
    ROOM_FULL = "room_full"
    REPLACED = "replaced"
    TIMED_OUT = "timed_out"
    BUSY = "busy"
