"""Messages to the patient (who never logs in): reminders 24 h and 2 h before, and a notice
when the consult is cancelled or moved. By Zalo, SMS if Zalo fails; in Vietnamese; only
with the patient's consent to be contacted (message_enqueue checks it, the worker again)."""

from datetime import timedelta

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clinics.selectors import patient_may_be_contacted
from clinics.validators import phone_national
from consults.messaging.models import OutboundMessage
from consults.messaging.queue import (
    message_enqueue,
    messages_cancel,
    messages_discard,
    messages_enqueue_many,
)
from consults.models import Consultation

LEADS = {"patient_24h": timedelta(hours=24), "patient_2h": timedelta(hours=2)}


def _phone(consult: Consultation) -> str:
    return consult.patient.phone or consult.patient.guardian_phone


def _when(consult: Consultation) -> str:
    assert consult.start is not None
    return timezone.localtime(consult.start).strftime("%H:%M %d/%m/%Y")


def _params(consult: Consultation) -> dict[str, str]:
    return {
        "patient": consult.patient.full_name,
        "time": _when(consult),
        "station": consult.station.name,
        "station_phone": phone_national(consult.station.hotline),
    }


def patient_reminders_plan(consult: Consultation, *, new: bool = False) -> None:
    """(Re)queue the patient's reminders for the consult's start. Inside the caller's
    transaction (a booking's, holding its locks: at most one read and one INSERT here);
    `new`: the consult was just created, so it has none to cancel. The key names the start,
    so a moved consult gets new ones."""
    if not new:
        messages_discard(consultation=consult, kinds=list(LEADS))
    phone = _phone(consult)
    if consult.start is None or not phone:
        return
    now = timezone.now()
    due = {kind: consult.start - lead for kind, lead in LEADS.items()}
    # A 24-hour reminder for a consult booked 3 hours ahead would arrive late and confuse.
    due = {kind: at for kind, at in due.items() if at > now}
    if not due or not patient_may_be_contacted(consult.patient_id):
        return
    params = _params(consult)
    with translation.override("vi"):
        body = (
            _(
                "Reminder: your teleconsult at %(station)s is at %(time)s. "
                "Please come a little early. Station phone: %(station_phone)s."
            )
            % params
        )
    messages_enqueue_many(
        OutboundMessage(
            channel=OutboundMessage.Channel.ZALO,
            to=phone,
            body=body,
            params={**params, "kind": kind},
            kind=kind,
            idempotency_key=f"{kind}:{consult.external_id}:{consult.start.isoformat()}",
            consultation=consult,
            patient=consult.patient,
            next_attempt_at=at,
        )
        for kind, at in due.items()
    )


def patient_reminders_cancel(consult: Consultation) -> None:
    messages_cancel(consultation=consult, kinds=list(LEADS))


def patient_notice(consult: Consultation, *, kind: str) -> None:
    """Tell the patient the consult was cancelled (`patient_cancelled`) or moved
    (`patient_moved`). The reminders of the old time are cancelled or replanned by the
    caller (consults.scheduling.reminders). A request withdrawn before it was given a time
    was never announced to the patient, so its cancellation is not either."""
    phone = _phone(consult)
    if not phone or consult.start is None:
        return
    with translation.override("vi"):
        if kind == "patient_cancelled":
            body = _(
                "Your teleconsult at %(station)s on %(time)s is cancelled. "
                "The station will call you: %(station_phone)s."
            )
        else:
            body = _(
                "Your teleconsult at %(station)s is moved to %(time)s. "
                "Station phone: %(station_phone)s."
            )
        text = body % _params(consult)
    message_enqueue(
        channel=OutboundMessage.Channel.ZALO,
        to=phone,
        body=text,
        params={**_params(consult), "kind": kind},
        kind=kind,
        key=f"{kind}:{consult.external_id}:{consult.start.isoformat()}",
        consultation=consult,
        patient=consult.patient,
    )
