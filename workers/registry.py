"""Population registry adapters (CSDL quốc gia về dân cư).

The national database cannot be reached from here, so the default adapter is a clearly named stand-in:
a synthetic registry of a few thousand generated citizens, all with valid identification numbers, the
same on every machine (fixed seed). A real adapter implements the same :class:`Registry` protocol.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import asdict, dataclass
from typing import Protocol

from workers import citizen_id

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE_MALE = ["Văn", "Hữu", "Đức", "Minh", "Quang", "Thành"]
MIDDLE_FEMALE = ["Thị", "Ngọc", "Thu", "Thanh", "Phương", "Kim"]
GIVEN_MALE = ["An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khoa", "Long", "Nam", "Phúc", "Quân", "Sơn", "Tuấn"]
GIVEN_FEMALE = ["Anh", "Chi", "Dung", "Hà", "Hạnh", "Hương", "Lan", "Linh", "Mai", "Ngọc", "Oanh", "Trang", "Yến"]

DEMO_CITIZEN = "001099012345"
"""A citizen every synthetic registry holds, for the demo and the README."""


@dataclass(frozen=True)
class Profile:
    """What the registry knows of a citizen, as the eForm needs it."""

    citizen_id: str
    full_name: str
    birth_date: str  # ISO date
    sex: str  # "Nam" or "Nữ"
    province_of_birth: str
    permanent_address: str

    def to_variables(self) -> dict:
        """The profile as process variables."""
        return asdict(self)


class Registry(Protocol):
    """Looks citizens up by their identification number."""

    def lookup(self, number: str) -> Profile | None:
        """The citizen's profile, or None if the registry has no such citizen."""


class SyntheticRegistry:
    """Stand-in for the national population database: generated citizens with valid numbers."""

    def __init__(self, size: int = 3000, seed: int = 2026):
        rng = random.Random(seed)
        codes = sorted(citizen_id.PROVINCE_CODES)
        self._people: dict[str, Profile] = {}
        self._add(Profile(DEMO_CITIZEN, "Nguyễn Văn An", "1999-03-15", "Nam", "Hà Nội",
                          "Số 12 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội"))
        while len(self._people) < size:
            female = rng.random() < 0.5
            year = rng.randint(1940, 2008)
            birth = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
            code = rng.choice(codes)
            number = citizen_id.make(code, year, female, rng.randint(0, 999_999))
            name = " ".join([rng.choice(FAMILY), rng.choice(MIDDLE_FEMALE if female else MIDDLE_MALE),
                             rng.choice(GIVEN_FEMALE if female else GIVEN_MALE)])
            self._add(Profile(number, name, birth.isoformat(), "Nữ" if female else "Nam",
                              citizen_id.PROVINCE_CODES[code],
                              f"Số {rng.randint(1, 200)}, tổ {rng.randint(1, 30)}, {citizen_id.PROVINCE_CODES[code]}"))

    def _add(self, profile: Profile) -> None:
        self._people.setdefault(profile.citizen_id, profile)

    def lookup(self, number: str) -> Profile | None:
        """The generated citizen with this number, if any."""
        return self._people.get(number)

    def numbers(self) -> list[str]:
        """Every number the registry holds (tests and demos pick from them)."""
        return list(self._people)
