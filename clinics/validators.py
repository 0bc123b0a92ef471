"""Vietnamese identifiers (citizen ID CCCD, health-insurance card BHYT), phone numbers, and
what a person's name and date of birth may be."""

import re
from datetime import date

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# First three digits of a CCCD: the province of birth registration (Circular 07/2016/TT-BCA).
PROVINCE_CODES = frozenset(
    [
        "001",
        "002",
        "004",
        "006",
        "008",
        "010",
        "011",
        "012",
        "014",
        "015",
        "017",
        "019",
        "020",
        "022",
        "024",
        "025",
        "026",
        "027",
        "030",
        "031",
        "033",
        "034",
        "035",
        "036",
        "037",
        "038",
        "040",
        "042",
        "044",
        "045",
        "046",
        "048",
        "049",
        "051",
        "052",
        "054",
        "056",
        "058",
        "060",
        "062",
        "064",
        "066",
        "067",
        "068",
        "070",
        "072",
        "074",
        "075",
        "077",
        "079",
        "080",
        "082",
        "083",
        "084",
        "086",
        "087",
        "089",
        "091",
        "092",
        "093",
        "094",
        "095",
        "096",
    ]
)

# The earliest date of birth accepted: the oldest living people were born after 1900,
# and an older date is a typing slip (0001-01-01, 01/01/1890), not a patient.
EARLIEST_BIRTH_DATE = date(1900, 1, 1)

# Invisible characters that change how a name is shown or compared without being seen:
# zero-width spaces and joiners, the bidirectional embeddings, overrides and isolates, and
# the byte-order mark. Vietnamese names never need them; one in a name makes two records
# of one person look the same, or a report print the name reversed.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

_CCCD = re.compile(r"^\d{12}$")
_BHYT = re.compile(r"^[A-Z]{2}[1-5]\d{12}$")


def normalize_id(value: str) -> str:
    return re.sub(r"[\s.-]", "", value or "").upper()


def validate_citizen_id(value: str) -> None:
    if not _CCCD.match(value):
        raise ValidationError(
            _("A citizen ID (CCCD) has exactly 12 digits."), code="invalid_citizen_id"
        )
    if value[:3] not in PROVINCE_CODES:
        raise ValidationError(
            _("The first 3 digits of a citizen ID (CCCD) must be a province code, not %(code)s."),
            code="invalid_citizen_id",
            params={"code": value[:3]},
        )


def citizen_id_matches_birth(value: str, born: date) -> bool:
    """Digit 4 encodes sex and century, digits 5–6 the year of birth (Circular 07/2016)."""
    century = 1900 + 100 * (int(value[3]) // 2)
    return century + int(value[4:6]) == born.year


def validate_insurance_number(value: str) -> None:
    if not _BHYT.match(value):
        raise ValidationError(
            _(
                "A health-insurance number (BHYT) has 15 characters: 2 letters, "
                "a benefit level 1–5, then 12 digits (e.g. DN4790123456789)."
            ),
            code="invalid_insurance_number",
        )


PHONE_REGION = "VN"


def _parsed_phone(value: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(value, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def validate_phone(value: str) -> str:
    """The number in E.164 (+84…), the form it is stored in; raises on a number that is not
    one. Takes the forms people type: "0912 345 678", "0912.345.678", "+84912345678",
    "84912345678", "(028) 3855 1234"; without a country code, a Vietnamese number."""
    number = _parsed_phone(value)
    if number is None:
        raise ValidationError(
            _(
                "This is not a phone number: write it as on a phone, e.g. 0912 345 678, "
                "028 3855 1234 or +84 912 345 678."
            ),
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_national(value: str) -> str:
    """A stored number as shown on pages: the national form for a Vietnamese number
    ("0912 345 678"), the international one for a foreign number, and a legacy value that
    is no number as it was typed."""
    number = _parsed_phone(value) if value else None
    if number is None:
        return value
    if phonenumbers.region_code_for_number(number) == PHONE_REGION:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def validate_person_name(value: str) -> None:
    match = _INVISIBLE.search(value)
    if match:
        raise ValidationError(
            _("Remove the invisible character U+%(char)s from the name."),
            code="invalid_name",
            params={"char": f"{ord(match.group()):04X}"},
        )


def validate_birth_date(born: date, today: date) -> None:
    if born > today:
        raise ValidationError(_("The date of birth cannot be in the future."), code="future")
    if born < EARLIEST_BIRTH_DATE:
        raise ValidationError(
            _("The date of birth cannot be before 1900: check the year."), code="too_early"
        )


def citizen_id_compose(*, born: date, province: str, female: bool, serial: int) -> str:
    """Build a CCCD whose digits agree with the year of birth and sex (demo and test data)."""
    century_digit = 2 * ((born.year - 1900) // 100) + (1 if female else 0)
    return f"{province}{century_digit}{born.year % 100:02d}{serial:06d}"
