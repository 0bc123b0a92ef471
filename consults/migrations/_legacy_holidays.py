"""Legacy: the hand list of national holidays 2026–2027 that migration 0002 seeded into
`Holiday` and migration 0007 takes back out (national holidays now come from the
`holidays` package, consults/scheduling/public_holidays.py). Kept only for those two
migrations; not read at run time.
"""

from datetime import date

VIETNAMESE_HOLIDAYS: list[tuple[date, str, str]] = [
    (date(2026, 1, 1), "Tết Dương lịch", "New Year's Day"),
    (date(2026, 2, 16), "Tết Nguyên đán (30 Tết Ất Tỵ)", "Lunar New Year's Eve"),
    (date(2026, 2, 17), "Tết Nguyên đán Bính Ngọ (mùng 1)", "Lunar New Year (day 1)"),
    (date(2026, 2, 18), "Tết Nguyên đán (mùng 2)", "Lunar New Year (day 2)"),
    (date(2026, 2, 19), "Tết Nguyên đán (mùng 3)", "Lunar New Year (day 3)"),
    (date(2026, 2, 20), "Tết Nguyên đán (mùng 4)", "Lunar New Year (day 4)"),
    (date(2026, 4, 26), "Giỗ Tổ Hùng Vương (10/3 âm lịch)", "Hùng Kings' Commemoration Day"),
    (date(2026, 4, 27), "Nghỉ bù Giỗ Tổ Hùng Vương", "Hùng Kings' Day (observed)"),
    (date(2026, 4, 30), "Ngày Chiến thắng (30/4)", "Reunification Day"),
    (date(2026, 5, 1), "Ngày Quốc tế Lao động", "International Labour Day"),
    (date(2026, 8, 31), "Nghỉ hoán đổi (làm bù thứ Bảy 22/8)", "Swapped day off"),
    (date(2026, 9, 1), "Quốc khánh (ngày liền kề)", "National Day (adjacent day)"),
    (date(2026, 9, 2), "Quốc khánh", "National Day"),
    (date(2026, 11, 24), "Ngày Văn hóa Việt Nam", "Vietnamese Culture Day"),
    (date(2027, 1, 1), "Tết Dương lịch", "New Year's Day"),
    (date(2027, 2, 4), "Tết Nguyên đán (29 Tết Bính Ngọ)", "Lunar New Year (29th)"),
    (date(2027, 2, 5), "Tết Nguyên đán (30 Tết Bính Ngọ)", "Lunar New Year's Eve"),
    (date(2027, 2, 6), "Tết Nguyên đán Đinh Mùi (mùng 1)", "Lunar New Year (day 1)"),
    (date(2027, 2, 7), "Tết Nguyên đán (mùng 2)", "Lunar New Year (day 2)"),
    (date(2027, 2, 8), "Tết Nguyên đán (mùng 3)", "Lunar New Year (day 3)"),
    (date(2027, 2, 9), "Tết Nguyên đán (mùng 4)", "Lunar New Year (day 4)"),
    (date(2027, 2, 10), "Tết Nguyên đán (mùng 5)", "Lunar New Year (day 5)"),
    (date(2027, 4, 16), "Giỗ Tổ Hùng Vương (10/3 âm lịch)", "Hùng Kings' Commemoration Day"),
    (date(2027, 4, 30), "Ngày Chiến thắng (30/4)", "Reunification Day"),
    (date(2027, 5, 1), "Ngày Quốc tế Lao động", "International Labour Day"),
    (date(2027, 5, 3), "Nghỉ bù Quốc tế Lao động", "Labour Day (observed)"),
    (date(2027, 9, 2), "Quốc khánh", "National Day"),
    (date(2027, 9, 3), "Quốc khánh (ngày liền kề)", "National Day (adjacent day)"),
    (date(2027, 11, 24), "Ngày Văn hóa Việt Nam", "Vietnamese Culture Day"),
]
