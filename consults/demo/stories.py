"""The demo's past two months, as stories (data only; written by history.py).

Days are counted in workdays (Monday–Saturday, the specialists' demo hours) before the
day seed_demo runs, times are local (Asia/Ho_Chi_Minh). No two stories share a station
room, a specialist or a patient at the same time. Every person here is fictional.
"""

from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

from consults.models import Consultation

S = Consultation.Status
NO_SHOW_STATION, NO_SHOW_SPECIALIST = "no_show_station", "no_show_specialist"


@dataclass(frozen=True)
class Slot:
    """A consult with a time, and how it ended."""

    specialist: str  # username
    day: int  # workdays before today
    at: time
    outcome: str  # completed, failed, cancelled, no_show_station, no_show_specialist
    link: str = ""  # call-quality profile (QUALITY), for calls that happened
    notes: str = ""  # key of NOTES
    cancel: tuple[str, str] = ("", "")  # (who cancelled: "station" or "specialist", why)


@dataclass(frozen=True)
class Booking:
    """The station picked a slot itself, `booked_days_before` days before it."""

    patient: str
    specialty: str
    reason: str
    booked_days_before: int
    slot: Slot


@dataclass(frozen=True)
class Request:
    """The station asked Bạch Mai's coordinator; the answer came `after` the filing."""

    patient: str
    specialty: str
    reason: str
    urgent: bool
    day: int
    at: time
    answer: str  # accept, decline, ask_info (still unanswered), withdraw (by the station)
    after: timedelta
    message: str = ""  # the decline's reason, the question, or why it was withdrawn
    slot: Slot | None = None  # accept: the consult it became


def hm(hour: int, minute: int = 0) -> time:
    return time(hour, minute)


BOOKINGS = [
    Booking("Nông Thị Hoa", "cardiology", "Tái khám tăng huyết áp, đau đầu buổi sáng", 6,
            Slot("specialist", 38, hm(9), "completed", "good", "hypertension")),
    Booking("Lục Văn Sáng", "cardiology", "Suy tim, khó thở tăng khi nằm", 9,
            Slot("specialist2", 35, hm(14), "completed", "audio", "heart_failure")),
    Booking("Hoàng Văn Páo", "endocrinology", "Đường huyết lúc đói 11 mmol/L, khát nhiều, sụt cân",
            5, Slot("bs04", 33, hm(8, 30), NO_SHOW_STATION)),
    Booking("Triệu Thị Mẩy", "obstetrics", "Thai 28 tuần, phù hai chân, huyết áp 140/90", 3,
            Slot("bs09", 30, hm(10), "completed", "good", "pregnancy_bp")),
    Booking("Đàm Thị Lành", "cardiology", "Đau thắt ngực khi leo dốc", 4,
            Slot("specialist", 28, hm(15), NO_SHOW_SPECIALIST)),
    Booking("Vi Văn Thắng", "internal_medicine", "Đau thượng vị kéo dài, đi ngoài phân đen", 2,
            Slot("bs13", 26, hm(9, 30), "failed", "broken", "epigastric")),
    Booking("Nông Thị Hoa", "internal_medicine", "Đau khớp gối hai bên, đi lại khó", 7,
            Slot("bs10", 24, hm(14, 30), "cancelled",
                 cancel=("station", "Con của bệnh nhân đã đưa bà lên bệnh viện tỉnh khám."))),
    Booking("Lục Văn Sáng", "cardiology", "Theo dõi sau đợt suy tim cấp, chỉnh liều lợi tiểu", 10,
            Slot("specialist", 20, hm(8), "completed", "good", "heart_failure_followup")),
    Booking("Đàm Thị Lành", "dermatology", "Mảng da đỏ bong vảy ở khuỷu tay và da đầu", 5,
            Slot("bs12", 18, hm(10, 30), "completed", "audio", "psoriasis")),
    Booking("Hoàng Văn Páo", "neurology", "Đau nửa đầu tái diễn, buồn nôn", 8,
            Slot("bs03", 15, hm(13, 30), "cancelled",
                 cancel=("specialist", "Bác sĩ đi hỗ trợ chuyên môn đột xuất tại tỉnh khác."))),
    Booking("Vi Văn Thắng", "cardiology", "Hồi hộp, mạch nhanh không đều", 6,
            Slot("specialist2", 12, hm(14), "completed", "weak", "palpitations")),
    Booking("Triệu Thị Mẩy", "obstetrics", "Tái khám thai 32 tuần, theo dõi huyết áp", 14,
            Slot("bs09", 9, hm(9), "completed", "good", "pregnancy_followup")),
    Booking("Nông Thị Hoa", "cardiology", "Kiểm tra huyết áp sau khi đổi thuốc", 12,
            Slot("specialist", 6, hm(15, 30), NO_SHOW_STATION)),
    Booking("Đàm Thị Lành", "internal_medicine", "Ho kéo dài 3 tuần, sốt nhẹ về chiều", 3,
            Slot("bs14", 4, hm(8, 30), "completed", "good", "cough")),
    Booking("Lục Văn Sáng", "cardiology", "Phù chân tăng, tiểu ít", 5,
            Slot("bs01", 2, hm(10), "failed", "broken", "oedema")),
]  # fmt: skip

REQUESTS = [
    Request("Hoàng Văn Páo", "cardiology", "Đau ngực dữ dội sau gắng sức, vã mồ hôi", True,
            40, hm(7, 50), "accept", timedelta(minutes=45),
            slot=Slot("specialist", 40, hm(10, 30), "completed", "good", "chest_pain")),
    Request("Đàm Thị Lành", "cardiology", "Khó thở đột ngột, huyết áp 170/100", True,
            32, hm(14, 20), "accept", timedelta(hours=2, minutes=45),
            slot=Slot("specialist", 31, hm(8), "completed", "weak", "hypertensive_urgency")),
    Request("Hoàng Văn Páo", "endocrinology", "Tái khám đái tháo đường, đường huyết chưa ổn định",
            False, 25, hm(9), "accept", timedelta(hours=25),
            slot=Slot("bs04", 21, hm(9), "completed", "good", "diabetes")),
    Request("Đàm Thị Lành", "neurology", "Yếu nửa người phải, nói khó từ sáng", True,
            22, hm(7, 40), "decline", timedelta(minutes=35),
            "Nghi đột quỵ: chuyển ngay Bệnh viện Đa khoa tỉnh Cao Bằng, không chờ khám từ xa."),
    Request("Vi Văn Thắng", "radiology", "Đau lưng kéo dài, cần đọc phim X-quang cột sống", False,
            16, hm(10), "decline", timedelta(hours=26),
            "Phim chụp bằng điện thoại không đủ chất lượng; đề nghị chụp lại tại bệnh viện tỉnh."),
    Request("Nông Thị Hoa", "cardiology", "Hồi hộp, chóng mặt, mạch 118 lần/phút", True,
            14, hm(15), "decline", timedelta(hours=4, minutes=30),
            "Ngoài giờ trực của khoa; nếu còn mệt, chuyển bệnh viện tỉnh."),
    Request("Triệu Thị Mẩy", "cardiology", "Khó thở khi nằm, thai 33 tuần", True,
            10, hm(9), "withdraw", timedelta(minutes=20),
            "Bệnh nhân đã được xe cấp cứu huyện chuyển lên tuyến tỉnh."),
    Request("Nông Thị Hoa", "cardiology", "Đánh giá lại sau đợt hồi hộp, chóng mặt", False,
            8, hm(8), "accept", timedelta(hours=3),
            slot=Slot("specialist", 3, hm(14), "completed", "good", "palpitations_review")),
    Request("Vi Văn Thắng", "cardiology", "Đau ngực trái, mạch nhanh 130 lần/phút", True,
            3, hm(13), "accept", timedelta(minutes=40),
            slot=Slot("specialist", 3, hm(15, 30), "completed", "weak", "tachycardia")),
    Request("Lục Văn Sáng", "cardiology", "Khó thở tăng dần, ran ẩm hai đáy phổi", True,
            1, hm(14), "ask_info", timedelta(minutes=40),
            "Xin trạm gửi ảnh điện tim 12 chuyển đạo và cân nặng hôm nay."),
]  # fmt: skip

# Per call: (rtt ms, loss %, audio-only seconds, video) of five summaries, station and
# specialist side in turn. An odd count: each call's median is one of its reports.
QUALITY: dict[str, list[tuple[float, float, int, bool]]] = {
    "good": [(82, 0.2, 0, True), (95, 0.4, 0, True), (110, 0.6, 0, True),
             (88, 0.3, 0, True), (121, 0.9, 0, True)],
    "weak": [(240, 2.1, 0, True), (310, 3.4, 0, True), (280, 2.8, 0, True),
             (265, 2.5, 0, True), (330, 4.2, 0, True)],
    "audio": [(360, 5.5, 40, False), (300, 3.8, 0, True), (420, 7.2, 120, False),
              (345, 4.6, 60, True), (390, 6.1, 90, False)],
    "broken": [(520, 9.5, 30, False), (450, 8.0, 0, True), (780, 16.0, 60, False),
               (640, 12.5, 45, True), (910, 22.5, 60, False)],
}  # fmt: skip

# key → (history, vitals, assessment, ICD-10 codes, plan, medications, disposition).
# An empty assessment: the call ended before the specialist wrote one (nothing to sign).
NOTES: dict[str, tuple[str, dict[str, Any], str, list[str], str, str, str]] = {
    "hypertension": (
        "Tăng huyết áp 5 năm, uống amlodipin không đều. Đau đầu vùng chẩm buổi sáng.",
        {"bp_systolic": 165, "bp_diastolic": 95, "pulse": 82, "weight": 58},
        "Tăng huyết áp chưa kiểm soát, tuân thủ điều trị kém.",
        ["I10"],
        "Uống thuốc đều mỗi sáng, giảm muối. Đo huyết áp tại trạm hằng tuần.",
        "Amlodipin 5 mg × 1 viên/ngày; thêm losartan 50 mg × 1 viên/ngày",
        "station_followup",
    ),
    "heart_failure": (
        "Khó thở khi nằm 2 tuần, phải kê cao gối. Phù hai mắt cá chân.",
        {"bp_systolic": 135, "bp_diastolic": 80, "pulse": 96, "spo2": 93, "weight": 61},
        "Suy tim sung huyết, NYHA III.",
        ["I50.0"],
        "Hạn chế nước 1,5 lít/ngày, cân hằng ngày. Làm siêu âm tim khi lên tuyến tỉnh.",
        "Furosemid 40 mg buổi sáng; bisoprolol 2,5 mg/ngày",
        "referral",
    ),
    "pregnancy_bp": (
        "Thai lần 2, 28 tuần. Phù hai chân 1 tuần, không đau đầu, không nhìn mờ.",
        {"bp_systolic": 140, "bp_diastolic": 90, "pulse": 88, "weight": 62},
        "Tăng huyết áp thai kỳ, chưa có dấu hiệu tiền sản giật.",
        ["O13"],
        "Đo huyết áp 2 lần/tuần tại trạm, thử protein niệu. Đau đầu, nhìn mờ: chuyển ngay.",
        "Methyldopa 250 mg × 2 lần/ngày",
        "station_followup",
    ),
    "epigastric": (
        "Đau thượng vị 3 tuần, đi ngoài phân đen 2 ngày nay. Không nôn ra máu.",
        {"bp_systolic": 110, "bp_diastolic": 70, "pulse": 98, "temperature": 36.8},
        "",
        [],
        "",
        "",
        "",
    ),
    "heart_failure_followup": (
        "Sau đợt suy tim cấp, đã hết khó thở khi nằm, còn phù nhẹ.",
        {"bp_systolic": 128, "bp_diastolic": 78, "pulse": 84, "spo2": 96, "weight": 59},
        "Suy tim ổn định hơn, đáp ứng với lợi tiểu.",
        ["I50.9"],
        "Giữ liều furosemid, theo dõi cân nặng. Tái khám sau 1 tháng.",
        "Furosemid 20 mg buổi sáng; bisoprolol 2,5 mg/ngày",
        "station_followup",
    ),
    "psoriasis": (
        "Mảng da đỏ bong vảy trắng ở khuỷu tay, da đầu, ngứa nhiều về đêm.",
        {"text": "Ảnh tổn thương đã chụp", "temperature": 36.6},
        "Vảy nến thể mảng.",
        ["L40.0"],
        "Bôi thuốc hằng ngày, tránh gãi. Tái khám sau 4 tuần.",
        "Mỡ calcipotriol bôi 2 lần/ngày",
        "station_followup",
    ),
    "palpitations": (
        "Hồi hộp từng cơn, mỗi cơn vài phút, không ngất.",
        {"bp_systolic": 125, "bp_diastolic": 75, "pulse": 112, "spo2": 97},
        "Nghi rung nhĩ cơn.",
        ["I48"],
        "Làm điện tim và Holter tại bệnh viện tỉnh.",
        "Bisoprolol 2,5 mg/ngày",
        "referral",
    ),
    "pregnancy_followup": (
        "Thai 32 tuần, huyết áp ổn định với methyldopa, hết phù.",
        {"bp_systolic": 130, "bp_diastolic": 82, "pulse": 84, "weight": 64},
        "Tăng huyết áp thai kỳ đã kiểm soát.",
        ["O13", "Z34.9"],
        "Tiếp tục thuốc. Sinh tại bệnh viện huyện.",
        "Methyldopa 250 mg × 2 lần/ngày",
        "station_followup",
    ),
    "cough": (
        "Ho khạc đờm 3 tuần, sốt nhẹ về chiều, sụt 2 kg.",
        {"temperature": 37.8, "pulse": 92, "spo2": 95, "respiratory_rate": 22, "weight": 47},
        "Nghi lao phổi.",
        ["R05", "A15.0"],
        "Xét nghiệm đờm tìm vi khuẩn lao tại trung tâm y tế huyện.",
        "",
        "referral",
    ),
    "oedema": (
        "Phù hai chân tăng 1 tuần, tiểu ít. Đang dùng furosemid.",
        {"bp_systolic": 150, "bp_diastolic": 90, "pulse": 90, "weight": 63},
        "",
        [],
        "",
        "",
        "",
    ),
    "chest_pain": (
        "Đau ngực trái sau khi gánh nước, lan lên vai, vã mồ hôi, kéo dài 15 phút.",
        {"bp_systolic": 150, "bp_diastolic": 95, "pulse": 104, "spo2": 95},
        "Cơn đau thắt ngực, chưa loại trừ hội chứng vành cấp.",
        ["I20.9"],
        "Chuyển bệnh viện tỉnh làm điện tim, men tim trong ngày.",
        "Aspirin 81 mg; nitroglycerin ngậm dưới lưỡi khi đau",
        "referral",
    ),
    "hypertensive_urgency": (
        "Khó thở đột ngột từ tối qua, đau đầu. Huyết áp tại trạm 170/100.",
        {"bp_systolic": 170, "bp_diastolic": 100, "pulse": 100, "spo2": 94},
        "Cơn tăng huyết áp, bệnh tim do tăng huyết áp.",
        ["I11.9"],
        "Hạ áp từ từ, đo lại sau 1 giờ. Không đỡ: chuyển tuyến.",
        "Amlodipin 5 mg",
        "station_followup",
    ),
    "diabetes": (
        "Đái tháo đường phát hiện tháng trước, đường huyết lúc đói 9–11 mmol/L.",
        {"weight": 66, "bp_systolic": 132, "bp_diastolic": 84, "pulse": 78},
        "Đái tháo đường type 2.",
        ["E11.9"],
        "Chế độ ăn, đi bộ 30 phút/ngày. Thử đường huyết tại trạm mỗi 2 tuần.",
        "Metformin 500 mg × 2 lần/ngày",
        "station_followup",
    ),
    "palpitations_review": (
        "Sau đợt hồi hộp, chóng mặt: đã đỡ, còn mệt khi làm nương.",
        {"bp_systolic": 145, "bp_diastolic": 88, "pulse": 86},
        "Tăng huyết áp, nhịp xoang đều.",
        ["I10"],
        "Giữ thuốc huyết áp, tái khám sau 1 tháng.",
        "Amlodipin 5 mg; losartan 50 mg",
        "station_followup",
    ),
    "tachycardia": (
        "Đau ngực trái, hồi hộp từ sáng, mạch 130 lần/phút.",
        {"bp_systolic": 118, "bp_diastolic": 72, "pulse": 130, "spo2": 96},
        "Rung nhĩ đáp ứng thất nhanh.",
        ["I48"],
        "Chuyển bệnh viện tỉnh trong ngày để kiểm soát tần số.",
        "Bisoprolol 2,5 mg",
        "referral",
    ),
}
