"""The demo's world: Cao Bằng stations, central hospitals, their departments, the demo
logins and fictional patients. Every person and identifier here is fictional.
"""

from datetime import date
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import OutputWrapper

from clinics.models import (
    Department,
    Facility,
    Membership,
    Patient,
    Specialty,
    StationRoom,
    User,
)
from clinics.specialties import specialties_ensure
from clinics.validators import citizen_id_compose, validate_phone

PASSWORD = "telehealth-demo"  # noqa: S105  (demo accounts only; documented in the README)
K = Facility.Kind
R = Membership.Role

FACILITIES: list[dict[str, Any]] = [
    {"code": "TYT-TALUNG", "name": "Trạm Y tế thị trấn Tà Lùng", "kind": K.COMMUNE_STATION,
     "province": "Cao Bằng", "district": "Quảng Hòa", "commune": "Thị trấn Tà Lùng",
     "address": "Phố Tà Lùng, thị trấn Tà Lùng", "hotline": "02063826115"},
    {"code": "TYT-HANHPHUC", "name": "Trạm Y tế xã Hạnh Phúc", "kind": K.COMMUNE_STATION,
     "province": "Cao Bằng", "district": "Quảng Hòa", "commune": "Xã Hạnh Phúc",
     "hotline": "02063826230"},
    {"code": "TYT-DAMTHUY", "name": "Trạm Y tế xã Đàm Thủy", "kind": K.COMMUNE_STATION,
     "province": "Cao Bằng", "district": "Trùng Khánh", "commune": "Xã Đàm Thủy",
     "hotline": "02063828117"},
    {"code": "BVDK-CAOBANG", "name": "Bệnh viện Đa khoa tỉnh Cao Bằng",
     "kind": K.PROVINCIAL_HOSPITAL, "province": "Cao Bằng", "district": "Thành phố Cao Bằng",
     "address": "Phường Đề Thám"},
    {"code": "BV-BACHMAI", "name": "Bệnh viện Bạch Mai", "kind": K.CENTRAL_HOSPITAL,
     "province": "Hà Nội", "district": "Đống Đa", "address": "78 Giải Phóng"},
    {"code": "BV-VIETDUC", "name": "Bệnh viện Hữu nghị Việt Đức", "kind": K.CENTRAL_HOSPITAL,
     "province": "Hà Nội", "district": "Hoàn Kiếm", "address": "40 Tràng Thi"},
    {"code": "BV-CHORAY", "name": "Bệnh viện Chợ Rẫy", "kind": K.CENTRAL_HOSPITAL,
     "province": "TP. Hồ Chí Minh", "district": "Quận 5", "address": "201B Nguyễn Chí Thanh"},
]  # fmt: skip

# (hospital code, department name, specialty code)
DEPARTMENTS = [
    ("BV-BACHMAI", "Viện Tim mạch Việt Nam", "cardiology"),
    ("BV-BACHMAI", "Trung tâm Nhi khoa", "pediatrics"),
    ("BV-BACHMAI", "Trung tâm Thần kinh", "neurology"),
    ("BV-BACHMAI", "Khoa Nội tiết – Đái tháo đường", "endocrinology"),
    ("BV-BACHMAI", "Trung tâm Bệnh nhiệt đới", "infectious_disease"),
    ("BV-BACHMAI", "Trung tâm Điện quang", "radiology"),
    ("BV-BACHMAI", "Khoa Y học cổ truyền", "traditional_medicine"),
    ("BV-VIETDUC", "Trung tâm Chẩn đoán hình ảnh", "radiology"),
    ("BV-VIETDUC", "Khoa Phụ sản", "obstetrics"),
    ("BV-VIETDUC", "Khoa Nội tổng hợp", "internal_medicine"),
    ("BV-CHORAY", "Khoa Nội Tim mạch", "cardiology"),
    ("BV-CHORAY", "Khoa Da liễu", "dermatology"),
    ("BV-CHORAY", "Khoa Nội tổng hợp", "internal_medicine"),
    ("BVDK-CAOBANG", "Khoa Nội tổng hợp", "internal_medicine"),
]

# (username, full name, role, facility code, specialty codes, licence, department)
ACCOUNTS = [
    ("station", "Điều dưỡng Hoàng Thị Mai", R.STATION_STAFF, "TYT-TALUNG", [], "", ""),
    ("station2", "Y sĩ Nông Văn Đức", R.STATION_STAFF, "TYT-HANHPHUC", [], "", ""),
    ("specialist", "TS.BS Nguyễn Văn An", R.SPECIALIST, "BV-BACHMAI", ["cardiology"],
     "001234/BYT-CCHN", "Viện Tim mạch Việt Nam"),
    ("specialist2", "BS.CKII Trần Thị Bình", R.SPECIALIST, "BV-CHORAY",
     ["cardiology", "internal_medicine"], "004567/HCM-CCHN", "Khoa Nội Tim mạch"),
    ("coordinator", "Điều phối viên Lê Thu Hà", R.COORDINATOR, "BV-BACHMAI", [], "", ""),
]  # fmt: skip

# One more specialist for every (department, specialty) pair, so search has choices.
EXTRA_SPECIALIST_NAMES = [
    "Phạm Minh Châu",
    "Vũ Đức Dũng",
    "Đặng Thị Giang",
    "Bùi Quang Huy",
    "Đỗ Thị Lan",
    "Hồ Văn Long",
    "Ngô Thị Ngọc",
    "Dương Văn Phúc",
    "Lý Thị Quỳnh",
    "Trịnh Văn Sơn",
    "Mai Thị Thảo",
    "Tạ Văn Tùng",
    "Lương Thị Vân",
    "Cao Văn Xuân",
]

# (full name, date of birth, sex, ethnicity, station code, guardian)
PATIENTS = [
    ("Nông Thị Hoa", date(1968, 3, 14), "female", "Tày", "TYT-TALUNG", ""),
    ("Lục Văn Sáng", date(1955, 11, 2), "male", "Nùng", "TYT-TALUNG", ""),
    ("Hoàng Văn Páo", date(1979, 7, 21), "male", "Mông", "TYT-TALUNG", ""),
    ("Triệu Thị Mẩy", date(1990, 1, 30), "female", "Dao", "TYT-TALUNG", ""),
    ("Bế Minh Khôi", date(2019, 9, 5), "male", "Tày", "TYT-TALUNG", "Bế Thị Nhung"),
    ("Đàm Thị Lành", date(1972, 4, 18), "female", "Nùng", "TYT-HANHPHUC", ""),
    ("Vi Văn Thắng", date(1985, 12, 9), "male", "Tày", "TYT-HANHPHUC", ""),
    ("Lâm Thị Sen", date(1961, 6, 25), "female", "Nùng", "TYT-DAMTHUY", ""),
]


def seed_world(out: OutputWrapper) -> dict[str, Facility]:
    """Facilities (by code), departments, the demo logins and patients, updated in place."""
    specialties_ensure(Specialty)
    facilities = _facilities(out)
    _departments(facilities, out)
    # Hashing is slow on purpose (argon2: about a second each on a busy 2-core machine).
    # Every demo login has the same published password, so one hash serves them all.
    _accounts(facilities, make_password(PASSWORD), out)
    _patients(facilities, out)
    return facilities


def _facilities(out: OutputWrapper) -> dict[str, Facility]:
    facilities = {}
    for spec in FACILITIES:
        values = dict(spec)
        code = values.pop("code")
        if values.get("hotline"):  # stored as every phone is, in E.164
            values["hotline"] = validate_phone(values["hotline"])
        facility, _ = Facility.objects.update_or_create(code=code, defaults=values)
        facilities[code] = facility
        if facility.is_station:
            StationRoom.objects.get_or_create(facility=facility, name="Phòng khám từ xa")
    out.write(f"Facilities: {len(facilities)} (stations with one telehealth room each)")
    return facilities


def _departments(facilities: dict[str, Facility], out: OutputWrapper) -> None:
    for code, name, specialty in DEPARTMENTS:
        Department.objects.update_or_create(
            facility=facilities[code],
            name=name,
            defaults={"specialty": Specialty.objects.get(code=specialty)},
        )
    out.write(f"Departments: {len(DEPARTMENTS)}")


def _user(username: str, full_name: str, password_hash: str, **extra: Any) -> User:
    defaults = {"full_name": full_name, "is_active": True, "password": password_hash}
    user, _ = User.objects.update_or_create(username=username, defaults=defaults | extra)
    return user


def _membership(
    user: User, facility: Facility, role: str, specialties: list[str], licence: str,
    department: str,
) -> None:  # fmt: skip
    membership, _ = Membership.objects.update_or_create(
        user=user,
        facility=facility,
        role=role,
        defaults={
            "licence_number": licence,
            "department": Department.objects.filter(facility=facility, name=department).first(),
            "is_active": True,
        },
    )
    membership.specialties.set(Specialty.objects.filter(code__in=specialties))


def _accounts(facilities: dict[str, Facility], password_hash: str, out: OutputWrapper) -> None:
    for username, name, role, code, specialties, licence, department in ACCOUNTS:
        user = _user(username, name, password_hash)
        _membership(user, facilities[code], role, specialties, licence, department)
    _user("admin", "Quản trị hệ thống", password_hash, is_staff=True, is_superuser=True)
    for i, (code, department, specialty) in enumerate(DEPARTMENTS):
        name = f"BS. {EXTRA_SPECIALIST_NAMES[i % len(EXTRA_SPECIALIST_NAMES)]}"
        user = _user(f"bs{i + 1:02d}", name, password_hash)
        licence = f"{10000 + i:06d}/BYT-CCHN"
        _membership(user, facilities[code], R.SPECIALIST, [specialty], licence, department)
    out.write(f"Accounts: {len(ACCOUNTS) + 1} demo logins, {len(DEPARTMENTS)} more specialists")


def _patients(facilities: dict[str, Facility], out: OutputWrapper) -> None:
    for serial, (name, born, sex, ethnicity, code, guardian) in enumerate(PATIENTS, start=1):
        citizen_id = citizen_id_compose(
            born=born, province="004", female=sex == "female", serial=410000 + serial
        )
        Patient.objects.update_or_create(
            station=facilities[code],
            citizen_id=citizen_id,
            defaults={
                "full_name": name,
                "date_of_birth": born,
                "sex": sex,
                "insurance_number": f"HN404{serial:010d}",
                "ethnicity": ethnicity,
                "commune": facilities[code].commune,
                "guardian_name": guardian,
                "phone": validate_phone(f"09{serial:08d}"),
            },
        )
    out.write(f"Patients: {len(PATIENTS)} (fictional)")
