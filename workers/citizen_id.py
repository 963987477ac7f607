"""The 12-digit personal identification number (số định danh cá nhân, on the CCCD card).

``PPP G YY SSSSSS``: ``PPP`` is the province (or country) of birth registration, ``G`` encodes century
and sex (1900s: 0 male, 1 female; 2000s: 2/3; 2100s: 4/5; ...), ``YY`` the birth year, then six random
digits. There is no check digit, so a number is valid when its province code exists, its birth year is
not in the future and, where the birth date is known, its century/sex digit agrees with it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PROVINCE_CODES = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
    "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
    "017": "Hòa Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang",
    "025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình",
    "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị",
    "046": "Thừa Thiên Huế", "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định",
    "054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng", "070": "Bình Phước",
    "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai", "077": "Bà Rịa - Vũng Tàu",
    "079": "Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang", "083": "Bến Tre", "084": "Trà Vinh",
    "086": "Vĩnh Long", "087": "Đồng Tháp", "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ",
    "093": "Hậu Giang", "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}
"""Birth-registration codes of the 63 provinces (kept as they were: the 2025 mergers did not renumber)."""


class InvalidCitizenId(ValueError):
    """The number is not a valid 12-digit personal identification number; the message says why."""


@dataclass(frozen=True)
class CitizenId:
    """A parsed personal identification number."""

    number: str
    province_code: str
    birth_year: int
    female: bool

    @property
    def province(self) -> str:
        """The province of birth registration."""
        return PROVINCE_CODES[self.province_code]


def parse(number: str, birth_date: dt.date | None = None, today: dt.date | None = None) -> CitizenId:
    """Parse and check a number; raise :class:`InvalidCitizenId` with the reason in Vietnamese."""
    number = (number or "").strip()
    if len(number) != 12 or not number.isdigit():
        raise InvalidCitizenId("Số định danh cá nhân phải gồm đúng 12 chữ số")
    province, gender_century, yy = number[:3], int(number[3]), int(number[4:6])
    if province not in PROVINCE_CODES:
        raise InvalidCitizenId(f"Mã tỉnh nơi đăng ký khai sinh '{province}' không tồn tại")
    year = 1900 + 100 * (gender_century // 2) + yy
    if year > (today or dt.date.today()).year:
        raise InvalidCitizenId("Năm sinh trong số định danh ở tương lai")
    if birth_date is not None and birth_date.year != year:
        raise InvalidCitizenId(f"Số định danh ghi năm sinh {year}, khác với ngày sinh {birth_date:%d/%m/%Y}")
    return CitizenId(number, province, year, gender_century % 2 == 1)


def make(province_code: str, birth_year: int, female: bool, serial: int) -> str:
    """Build a valid number (for synthetic registries and tests)."""
    century = (birth_year - 1900) // 100
    return f"{province_code}{century * 2 + int(female)}{birth_year % 100:02d}{serial:06d}"
