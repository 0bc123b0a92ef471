"""Writes of the clinics app. Each owns its transaction and its audit entry."""

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinics.audit import Via, audit_record
from clinics.models import AuditEntry, Consent, Facility, Patient, PatientRevision, User
from clinics.selectors import patient_duplicates
from clinics.validators import citizen_id_matches_birth, validate_birth_date
from telehealth.codes import Code
from telehealth.errors import AppError, invalid

PATIENT_FIELDS = (
    "full_name",
    "date_of_birth",
    "sex",
    "citizen_id",
    "insurance_number",
    "phone",
    "address",
    "commune",
    "ethnicity",
    "guardian_name",
    "guardian_phone",
)


def _duplicate_citizen_id() -> AppError:
    return AppError(
        Code.DUPLICATE_CITIZEN_ID,
        _("A patient with this citizen ID (CCCD) is already registered at this station."),
        status=409,
        fields={"citizen_id": [str(_("Already registered at this station."))]},
    )


def _check_patient(station: Facility, values: dict[str, Any], exclude_pk: int | None) -> None:
    errors: dict[str, list[str]] = {}
    born: date | None = values.get("date_of_birth")
    if born:
        try:
            validate_birth_date(born, timezone.localdate())
        except ValidationError as exc:
            errors["date_of_birth"] = exc.messages
            born = None  # a date that is not one: nothing to check the CCCD or age against
    citizen_id = values.get("citizen_id") or ""
    if citizen_id and born and not citizen_id_matches_birth(citizen_id, born):
        errors["citizen_id"] = [
            str(_("The citizen ID (CCCD) does not match the year of birth (digits 4–6)."))
        ]
    if born and (timezone.localdate() - born).days < 16 * 365 and not values.get("guardian_name"):
        errors["guardian_name"] = [str(_("A child under 16 needs a guardian's name."))]
    if errors:
        raise invalid(errors)
    if citizen_id:
        clash = Patient.objects.filter(station=station, citizen_id=citizen_id)
        if exclude_pk is not None:
            clash = clash.exclude(pk=exclude_pk)
        if clash.exists():
            raise _duplicate_citizen_id()


def _possible_duplicate(candidates: list[Patient], values: dict[str, Any]) -> AppError:
    def why(patient: Patient) -> list[str]:
        reasons = []
        if patient.date_of_birth == values.get("date_of_birth"):
            reasons.append("name_and_birth_date")
        if (
            values.get("insurance_number")
            and patient.insurance_number == values["insurance_number"]
        ):
            reasons.append("insurance_number")
        if values.get("phone") and patient.phone == values["phone"]:
            reasons.append("phone")
        return reasons

    return AppError(
        Code.POSSIBLE_DUPLICATE,
        _(
            "This patient may already be registered at this station: open the existing "
            "record, or confirm that this is another person."
        ),
        status=409,
        extra={
            "candidates": [
                {
                    "id": str(p.external_id),
                    "full_name": p.full_name,
                    "date_of_birth": p.date_of_birth.isoformat(),
                    "citizen_id": p.citizen_id,
                    "insurance_number": p.insurance_number,
                    "phone": p.phone,
                    "matches": why(p),
                }
                for p in candidates
            ]
        },
    )


def patient_register(
    *,
    station: Facility,
    actor: User,
    via: Via,
    consents: list[str] | None = None,
    confirm_new: bool = False,
    **values: Any,
) -> Patient:
    """Register a patient at `station`, with the consents given at the desk.

    A patient with the same name (without tones) and date of birth, or the same BHYT or
    phone number, may be the same person registered twice: refused as `possible_duplicate`
    with the candidates, unless `confirm_new` says the nurse checked them (two people of one
    name and birthday exist; one CCCD is never two people, so that clash is always refused).

    Preconditions: `actor` is station staff of `station` (checked by the caller's access
    function); `values` passed field-level validation.
    """
    unknown = set(values) - set(PATIENT_FIELDS)
    if unknown:
        raise AppError(Code.UNKNOWN_FIELD, _("Unknown fields."), fields={k: ["?"] for k in unknown})
    if consents and len(set(consents)) != len(consents):
        # One act of consent at the desk is one row of the record; a purpose listed twice
        # is a client's mistake, refused rather than guessed at (docs/decisions.md).
        raise invalid({"consents": [str(_("List each purpose once."))]})
    _check_patient(station, values, exclude_pk=None)
    if not confirm_new and (candidates := patient_duplicates(station, values)):
        raise _possible_duplicate(candidates, values)
    try:
        with transaction.atomic():
            patient = Patient.objects.create(station=station, registered_by=actor, **values)
            audit_record(
                actor=actor, action=AuditEntry.Action.CREATE, obj=patient, patient=patient, via=via
            )
            for purpose in consents or []:
                _consent_create(
                    patient=patient,
                    purpose=purpose,
                    status=Consent.Status.GIVEN,
                    actor=actor,
                    via=via,
                )
    except IntegrityError as exc:
        # Two desks registering the same CCCD at once: the unique constraint decides.
        raise _duplicate_citizen_id() from exc
    return patient


def _as_text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def patient_update(*, patient: Patient, actor: User, via: Via, **values: Any) -> Patient:
    """Change a patient's registration; what it was before is kept as a PatientRevision
    (fields that changed, old and new). Precondition: `can_edit_patient(actor, patient)`."""
    unknown = set(values) - set(PATIENT_FIELDS)
    if unknown:
        raise AppError(Code.UNKNOWN_FIELD, _("Unknown fields."), fields={k: ["?"] for k in unknown})
    merged = {f: getattr(patient, f) for f in PATIENT_FIELDS} | values
    _check_patient(patient.station, merged, exclude_pk=patient.pk)
    changes = {
        field: {"old": _as_text(getattr(patient, field)), "new": _as_text(value)}
        for field, value in values.items()
        if getattr(patient, field) != value
    }
    try:
        with transaction.atomic():
            for field, value in values.items():
                setattr(patient, field, value)
            patient.save(update_fields=[*values, "updated_at"])
            if changes:
                PatientRevision.objects.create(patient=patient, changed_by=actor, changes=changes)
            audit_record(
                actor=actor, action=AuditEntry.Action.UPDATE, obj=patient, patient=patient, via=via
            )
    except IntegrityError as exc:
        raise _duplicate_citizen_id() from exc
    return patient


def _consent_create(
    *, patient: Patient, purpose: str, status: str, actor: User, via: Via, note: str = ""
) -> Consent:
    consent = Consent.objects.create(
        patient=patient, purpose=purpose, status=status, recorded_by=actor, note=note
    )
    audit_record(
        actor=actor, action=AuditEntry.Action.CREATE, obj=consent, patient=patient, via=via
    )
    return consent


def consent_record(
    *, patient: Patient, purpose: str, status: str, actor: User, via: Via, note: str = ""
) -> Consent:
    """Record consent given or withdrawn for one purpose. Earlier rows stay (verifiable)."""
    with transaction.atomic():
        return _consent_create(
            patient=patient, purpose=purpose, status=status, actor=actor, via=via, note=note
        )
