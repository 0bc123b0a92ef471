"""The report as its reader sees it, built in one place from a snapshot: the sign page's
preview, the print page and the PDF all render `report_document`, so that what the specialist
confirms is what is signed and printed. `content_digest` names that content: the sign page
carries it, and a sign whose digest no longer matches (a note changed meanwhile) is refused."""

import hashlib
import json
from datetime import date, datetime
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from clinics.models import Patient
from consults.notes.models import SectionKey
from consults.notes.sections import icd10_codes

SEXES = dict(Patient.Sex.choices)


def content_digest(content: dict[str, Any]) -> str:
    """SHA-256 of the report's content (the snapshot without its signing time)."""
    unsigned = {k: v for k, v in content.items() if k != "signed_at"}
    canonical = json.dumps(unsigned, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def when(value: str | None) -> str:
    if not value:
        return "—"
    return timezone.localtime(datetime.fromisoformat(value)).strftime("%d/%m/%Y %H:%M")


def day(value: str) -> str:
    """An ISO day as the report writes every date: dd/mm/yyyy."""
    return date.fromisoformat(value).strftime("%d/%m/%Y")


def _vitals(content: dict[str, Any]) -> list[str]:
    # Whole sentences with their units, so that a translator sees "Mạch: 92 lần/phút" whole;
    # numbers with the language's decimal separator (37,5 °C in Vietnamese).
    lines = []
    if content.get("bp_systolic") is not None:
        lines.append(
            _("Blood pressure: %(systolic)s/%(diastolic)s mmHg")
            % {"systolic": content["bp_systolic"], "diastolic": content["bp_diastolic"]}
        )
    sentences = {
        "pulse": _("Pulse: %(value)s beats/min"),
        "temperature": _("Temperature: %(value)s °C"),
        "spo2": _("SpO₂: %(value)s %%"),
        "respiratory_rate": _("Respiratory rate: %(value)s breaths/min"),
        "weight": _("Weight: %(value)s kg"),
    }
    for key, sentence in sentences.items():
        if content.get(key) is not None:
            lines.append(sentence % {"value": formats.number_format(content[key])})
    return lines


def section_lines(key: str, content: dict[str, Any]) -> list[str]:
    """The human-readable lines of one section (shared by the PDF and the print page)."""
    lines: list[str] = []
    if key == SectionKey.VITALS:
        lines += _vitals(content)
    if key == SectionKey.ASSESSMENT:
        codes = icd10_codes()
        title = 0 if get_language() == "vi" else 1
        lines += [
            _("ICD-10 %(code)s: %(title)s") % {"code": c, "title": codes.get(c, ("", ""))[title]}
            for c in content.get("icd10", [])
        ]
    if key == SectionKey.PLAN:
        if content.get("medications"):
            lines.append(_("Medications: %(text)s") % {"text": content["medications"]})
        if content.get("tests"):
            lines.append(_("Tests: %(text)s") % {"text": content["tests"]})
        if content.get("disposition") == "referral":
            lines.append(_("Refer the patient up to hospital."))
        if content.get("disposition") == "station_followup":
            lines.append(_("Follow up at the station."))
    if key == SectionKey.FOLLOWUP and content.get("date"):
        lines.append(_("Follow-up date: %(date)s") % {"date": day(content["date"])})
    if content.get("text"):
        lines.append(content["text"])
    return lines


def report_document(snap: dict[str, Any]) -> dict[str, Any]:
    """Every line of the report, in the active language and the active time zone."""
    patient = snap["patient"]
    titles = dict(SectionKey.choices)
    return {
        "title": _("Teleconsultation report"),
        "facts": [
            _("Patient: %(name)s — born %(born)s")
            % {"name": patient["name"], "born": day(patient["date_of_birth"])},
            _("Sex: %(sex)s — %(age)s years old")
            % {"sex": SEXES.get(patient.get("sex", ""), "—"), "age": patient.get("age", "—")},
            _("Citizen ID (CCCD): %(number)s") % {"number": patient.get("citizen_id") or "—"},
            _("Health insurance (BHYT): %(number)s")
            % {"number": patient.get("insurance_number") or "—"},
            _("Station: %(name)s") % {"name": snap["station"]},
            _("Hospital: %(name)s — %(specialty)s")
            % {"name": snap["hospital"], "specialty": snap["specialty"]},
            _("Time: %(start)s – %(end)s")
            % {"start": when(snap["start"]), "end": when(snap["end"])},
            _("Participants: %(names)s")
            % {"names": ", ".join(person["name"] for person in snap["participants"])},
            # A report signed before the reason was part of it has none.
            _("Reason for the consult: %(reason)s") % {"reason": snap.get("reason") or "—"},
        ],
        "sections": [
            {
                "title": str(titles[s["section"]]),
                "lines": section_lines(s["section"], s["content"]),
            }
            for s in snap["sections"]
        ],
        "attachments": [f"{a['name']} {a['caption']}".strip() for a in snap["attachments"]],
        "chat": [f"{m['by']}: {m['text']}" for m in snap["chat"]],
        "signer": _("%(name)s — licence %(number)s")
        % {
            "name": snap["specialist"]["name"],
            "number": snap["specialist"]["licence_number"] or "—",
        },
        "signed_at": when(snap.get("signed_at")),
    }
