"""Vietnamese identifiers."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from clinics.validators import (
    PROVINCE_CODES,
    citizen_id_compose,
    citizen_id_matches_birth,
    normalize_id,
    validate_citizen_id,
    validate_insurance_number,
)


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    province=st.sampled_from(sorted(PROVINCE_CODES)),
    female=st.booleans(),
    serial=st.integers(min_value=0, max_value=999_999),
)
def test_a_composed_cccd_is_valid_and_matches_its_birth_year(
    born: date, province: str, female: bool, serial: int
) -> None:
    value = citizen_id_compose(born=born, province=province, female=female, serial=serial)
    validate_citizen_id(value)
    assert citizen_id_matches_birth(value, born)
    assert int(value[3]) % 2 == int(female)


def test_there_are_63_province_codes() -> None:
    assert len(PROVINCE_CODES) == 63
    assert "004" in PROVINCE_CODES  # Cao Bằng


@pytest.mark.parametrize("value", ["00418012345", "0041801234567", "00418012345x", "003180123456"])
def test_it_rejects_a_malformed_cccd(value: str) -> None:
    with pytest.raises(ValidationError):
        validate_citizen_id(value)


def test_a_cccd_born_in_2001_has_century_digit_2_or_3() -> None:
    assert citizen_id_matches_birth("004201000001", date(2001, 5, 1))
    assert citizen_id_matches_birth("004301000001", date(2001, 5, 1))
    assert not citizen_id_matches_birth("004001000001", date(2001, 5, 1))


@pytest.mark.parametrize("value", ["DN4790123456789", "HC1010000000001"])
def test_it_accepts_a_bhyt_number(value: str) -> None:
    validate_insurance_number(value)


@pytest.mark.parametrize("value", ["DN0790123456789", "DN47901234567", "1N4790123456789"])
def test_it_rejects_a_malformed_bhyt_number(value: str) -> None:
    with pytest.raises(ValidationError):
        validate_insurance_number(value)


def test_identifiers_are_normalized_before_validation() -> None:
    assert normalize_id(" dn 479-0123.456789 ") == "DN4790123456789"
