"""What each note section holds, and the checks a write must pass (field errors).

Limits (docs/notes.md): free text ≤ 10,000 characters per field; vitals within
physiological ranges; systolic above diastolic; ICD-10 codes from the shipped list.
"""

import json
import unicodedata
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from consults.notes.models import SectionKey
from telehealth.codes import Code
from telehealth.errors import AppError, invalid

TEXT_LIMIT = 10_000

# (low, high) inclusive; a value outside is a typing error, not a patient.
VITAL_RANGES: dict[str, tuple[float, float]] = {
    "pulse": (20, 250),  # beats/min
    "bp_systolic": (50, 260),  # mmHg
    "bp_diastolic": (20, 160),  # mmHg
    "temperature": (30, 45),  # °C
    "spo2": (50, 100),  # %
    "respiratory_rate": (4, 80),  # breaths/min
    "weight": (0.3, 350),  # kg
}

DISPOSITIONS = ("", "station_followup", "referral")

FIELDS: dict[str, tuple[str, ...]] = {
    SectionKey.HISTORY: ("text",),
    SectionKey.VITALS: ("text", *VITAL_RANGES),
    SectionKey.ASSESSMENT: ("text", "icd10"),
    SectionKey.PLAN: ("text", "medications", "tests", "disposition"),
    SectionKey.FOLLOWUP: ("date", "text"),
}


@cache
def icd10_codes() -> dict[str, tuple[str, str]]:
    """The curated list of common ICD-10 codes shipped with the app (vi, en titles)."""
    raw = json.loads((Path(__file__).parent / "data" / "icd10.json").read_text("utf-8"))
    return {code: (vi, en) for code, vi, en in raw}


def _fold(text: str) -> str:
    """Case- and accent-insensitive form: "tăng huyết áp" matches "tang huyet ap"."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def icd10_search(query: str, limit: int = 20) -> list[dict[str, str]]:
    needle = _fold(query.strip())
    out = []
    for code, (vi, en) in icd10_codes().items():
        if not needle or code.lower().startswith(needle) or needle in _fold(f"{vi} {en}"):
            out.append({"code": code, "title_vi": vi, "title_en": en})
        if len(out) >= limit:
            break
    return out


def parse_section_key(value: Any) -> str:
    if value not in SectionKey.values:
        raise invalid(
            {"section": [_("Unknown section.")]},
            message=_("Unknown section."),
            code=Code.UNKNOWN_SECTION,
        )
    return str(value)


def _text(value: Any, name: str, errors: dict[str, list[str]]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[name] = [_("Must be text.")]
        return ""
    if len(value) > TEXT_LIMIT:
        errors[name] = [_("At most %(n)d characters.") % {"n": TEXT_LIMIT}]
    return value


def _number(value: Any, name: str, errors: dict[str, list[str]]) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        errors[name] = [_("Must be a number.")]
        return None
    try:
        number = float(value)
    except ValueError:
        errors[name] = [_("Must be a number.")]
        return None
    low, high = VITAL_RANGES[name]
    if not low <= number <= high:
        errors[name] = [_("Must be between %(low)s and %(high)s.") % {"low": low, "high": high}]
        return None
    return int(number) if number.is_integer() else number


def _vitals(content: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {"text": _text(content.get("text"), "text", errors)}
    for name in VITAL_RANGES:
        out[name] = _number(content.get(name), name, errors)
    systolic, diastolic = out["bp_systolic"], out["bp_diastolic"]
    if (systolic is None) != (diastolic is None) and not {"bp_systolic", "bp_diastolic"} & set(
        errors
    ):
        errors["bp_diastolic" if diastolic is None else "bp_systolic"] = [
            _("Enter both systolic and diastolic blood pressure.")
        ]
    elif systolic is not None and diastolic is not None and systolic <= diastolic:
        errors["bp_systolic"] = [_("Systolic pressure must be higher than diastolic.")]
    if not out["text"].strip() and all(out[n] is None for n in VITAL_RANGES):
        errors.setdefault("text", [_("Enter at least one vital sign or a note.")])
    return out


def _codes(value: Any, errors: dict[str, list[str]]) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        errors["icd10"] = [_("Must be a list of ICD-10 codes.")]
        return []
    codes = list(dict.fromkeys(c.strip().upper() for c in value))
    unknown = [c for c in codes if c not in icd10_codes()]
    if unknown:
        errors["icd10"] = [_("Unknown ICD-10 code: %(codes)s.") % {"codes": ", ".join(unknown)}]
    return codes


def _followup(content: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    raw, when = content.get("date"), None
    try:
        when = date.fromisoformat(raw) if isinstance(raw, str) and raw else None
    except ValueError:
        errors["date"] = [_("This is not a real date.")]
    text = _text(content.get("text"), "text", errors)
    if when is None and "date" not in errors:
        errors["date"] = [_("Enter the follow-up date.")]
    return {"date": when.isoformat() if when else None, "text": text}


def clean_content(key: str, content: Any) -> dict[str, Any]:
    """The validated content of a section write; field errors raise `invalid` (400)."""
    if not isinstance(content, dict):
        raise invalid({"content": [_("Must be an object.")]})
    unknown = sorted(set(content) - set(FIELDS[key]))
    if unknown:
        raise AppError(
            Code.UNKNOWN_FIELD,
            _("The request has fields this endpoint does not know."),
            fields={name: [_("Unknown field.")] for name in unknown},
        )
    errors: dict[str, list[str]] = {}
    out: dict[str, Any]
    if key == SectionKey.VITALS:
        out = _vitals(content, errors)
    elif key == SectionKey.FOLLOWUP:
        out = _followup(content, errors)
    else:
        out = {"text": _text(content.get("text"), "text", errors)}
        if key == SectionKey.ASSESSMENT:
            out["icd10"] = _codes(content.get("icd10"), errors)
        if key == SectionKey.PLAN:
            out["medications"] = _text(content.get("medications"), "medications", errors)
            out["tests"] = _text(content.get("tests"), "tests", errors)
            disposition = content.get("disposition") or ""
            if disposition not in DISPOSITIONS:
                errors["disposition"] = [_("Choose station follow-up or referral.")]
            out["disposition"] = disposition
        if not any(str(v).strip() for k, v in out.items() if k != "disposition" and v):
            errors.setdefault("text", [_("This section cannot be empty.")])
    if errors:
        raise invalid(errors)
    return out
