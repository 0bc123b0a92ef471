import re
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from clinics.models import Consent, Facility, Membership, Patient, Specialty, User
from clinics.services import PATIENT_FIELDS
from clinics.validators import (
    normalize_id,
    validate_citizen_id,
    validate_insurance_number,
    validate_person_name,
    validate_phone,
)
from telehealth.serializers import StrictModelSerializer, StrictSerializer


def _run(validator: Any, value: str) -> str:
    try:
        validator(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from exc
    return value


class BirthDateField(serializers.DateField):
    """An ISO date that does not exist (1990-02-31) is said to be no real date; DRF would
    answer that its format is wrong, which sends the nurse looking at the wrong thing."""

    _ISO_SHAPE = re.compile(r"\s*\d{4}-\d{1,2}-\d{1,2}\s*")

    def to_internal_value(self, value: Any) -> date:
        try:
            return super().to_internal_value(value)
        except serializers.ValidationError:
            if isinstance(value, str) and self._ISO_SHAPE.fullmatch(value):
                raise serializers.ValidationError(_("This is not a real date.")) from None
            raise


class FacilitySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="external_id", read_only=True)

    class Meta:
        model = Facility
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "province",
            "district",
            "commune",
            "address",
            "hotline",
            "time_zone",
        ]


class FacilityRefSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="external_id", read_only=True)

    class Meta:
        model = Facility
        fields = ["id", "code", "name", "kind"]


class SpecialtySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="external_id", read_only=True)

    class Meta:
        model = Specialty
        fields = ["id", "code", "name_vi", "name_en"]


class SpecialistSerializer(serializers.ModelSerializer):
    """A specialist at one hospital; `id` is the specialist's (user's) public id."""

    id = serializers.UUIDField(source="user.external_id", read_only=True)
    full_name = serializers.CharField(source="user.display_name", read_only=True)
    facility = FacilityRefSerializer(read_only=True)
    department = serializers.CharField(source="department.name", default="", read_only=True)
    specialties: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )

    class Meta:
        model = Membership
        fields = ["id", "full_name", "facility", "department", "specialties", "licence_number"]


class UserRefSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="external_id", read_only=True)
    full_name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "full_name"]


class PatientSerializer(StrictModelSerializer):
    id = serializers.UUIDField(source="external_id", read_only=True)
    station = FacilityRefSerializer(read_only=True)
    date_of_birth = BirthDateField()
    consents = serializers.ListField(
        child=serializers.ChoiceField(choices=Consent.Purpose.choices),
        write_only=True,
        required=False,
        help_text="Purposes the patient consents to at registration.",
    )
    confirm_new = serializers.BooleanField(
        write_only=True,
        required=False,
        help_text="Register although `possible_duplicate` named candidates: another person.",
    )

    class Meta:
        model = Patient
        fields = [
            "id",
            "station",
            *PATIENT_FIELDS,
            "consents",
            "confirm_new",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_full_name(self, value: str) -> str:
        value = " ".join(value.split())
        if len(value) < 2:
            raise serializers.ValidationError(_("Enter the patient's full name."))
        return _run(validate_person_name, value)

    def validate_guardian_name(self, value: str) -> str:
        return _run(validate_person_name, value)

    def validate_citizen_id(self, value: str) -> str:
        value = normalize_id(value)
        return _run(validate_citizen_id, value) if value else ""

    def validate_insurance_number(self, value: str) -> str:
        value = normalize_id(value)
        return _run(validate_insurance_number, value) if value else ""

    def validate_phone(self, value: str) -> str:
        if not value.strip():
            return ""
        try:
            return validate_phone(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc

    def validate_guardian_phone(self, value: str) -> str:
        return self.validate_phone(value)


class ConsentSerializer(StrictModelSerializer):
    id = serializers.UUIDField(source="external_id", read_only=True)
    recorded_by = UserRefSerializer(read_only=True)

    class Meta:
        model = Consent
        fields = ["id", "purpose", "status", "note", "recorded_by", "recorded_at"]
        read_only_fields = ["recorded_at"]


class ConsentPageSerializer(serializers.Serializer):
    """A patient's consents in the list envelope every list endpoint uses (one page)."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ConsentSerializer(many=True)


class TokenRequestSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=200, trim_whitespace=False)
    otp = serializers.CharField(max_length=32, required=False, allow_blank=True)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(help_text="After this the token is refused: log in again.")


class MembershipSerializer(serializers.ModelSerializer):
    facility = FacilityRefSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["role", "facility"]


class MeSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="external_id", read_only=True)
    full_name = serializers.CharField(source="display_name", read_only=True)
    memberships = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "memberships"]

    def get_memberships(self, user: User) -> list[dict[str, Any]]:
        return MembershipSerializer(self.context["memberships"], many=True).data  # type: ignore[return-value]
