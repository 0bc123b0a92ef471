"""The common specialties every install starts with (code, Vietnamese, English)."""

from typing import Any

COMMON_SPECIALTIES = [
    ("cardiology", "Tim mạch", "Cardiology"),
    ("internal_medicine", "Nội khoa", "Internal medicine"),
    ("pediatrics", "Nhi khoa", "Pediatrics"),
    ("obstetrics", "Sản khoa", "Obstetrics"),
    ("dermatology", "Da liễu", "Dermatology"),
    ("neurology", "Thần kinh", "Neurology"),
    ("endocrinology", "Nội tiết", "Endocrinology"),
    ("radiology", "Chẩn đoán hình ảnh", "Radiology"),
    ("infectious_disease", "Truyền nhiễm", "Infectious disease"),
    ("traditional_medicine", "Y học cổ truyền", "Traditional medicine"),
]


def specialties_ensure(specialty_model: Any) -> None:
    """Create or rename the common specialties (takes the model: migrations pass theirs)."""
    for code, name_vi, name_en in COMMON_SPECIALTIES:
        specialty_model.objects.update_or_create(
            code=code, defaults={"name_vi": name_vi, "name_en": name_en}
        )
