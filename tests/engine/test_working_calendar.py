"""The working-time calendar: office hours, Vietnamese holidays, make-up days, the administrator's files."""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from engine.errors import BadInput
from engine.working_calendar import CalendarFileError, WorkingCalendar, expression_functions

ROOT = Path(__file__).resolve().parents[2]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = dt.timezone.utc


def vn(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    """An aware moment, Vietnam time."""
    return dt.datetime(y, m, d, hh, mm, tzinfo=VN)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    """The calendar of the repository's administrator files."""
    return WorkingCalendar.from_folder(ROOT / "calendar")


def test_repository_files_load(cal):
    assert cal.office_hours == ((dt.time(7), dt.time(11, 30)), (dt.time(13, 30), dt.time(17)))
    assert cal.timezone == "Asia/Ho_Chi_Minh"
    assert cal.day_length == dt.timedelta(hours=8)
    assert dt.date(2026, 8, 22) in cal.make_up_days and dt.date(2026, 8, 31) in cal.extra_days_off


def test_tet_2026(cal):
    assert cal.is_working_day(dt.date(2026, 2, 13))                  # last working day before Tết (Friday)
    for day in range(14, 23):                                        # Saturday 14/02 .. Sunday 22/02
        assert not cal.is_working_day(dt.date(2026, 2, day)), day
    assert cal.holiday_name(dt.date(2026, 2, 17)) == "Tết Nguyên Đán"
    assert cal.holiday_name(dt.date(2026, 2, 16)) == "Giao thừa Tết Nguyên Đán"
    assert cal.holiday_name(dt.date(2026, 2, 14)) is None             # a plain weekend
    assert cal.is_working_day(dt.date(2026, 2, 23))                   # first working day after Tết
    assert cal.next_working_moment(vn(2026, 2, 13, 17, 5)) == vn(2026, 2, 23, 7).astimezone(UTC)
    # Received on the last afternoon before Tết, one working day: the break does not count.
    assert cal.add_working_days(vn(2026, 2, 13, 16), 1) == vn(2026, 2, 23, 16).astimezone(UTC)


def test_tet_2027(cal):
    assert cal.is_working_day(dt.date(2027, 2, 3))
    for day in range(4, 11):                                         # 29 Tết (Thu 04/02) .. mùng năm (Wed 10/02)
        assert not cal.is_working_day(dt.date(2027, 2, day)), day
        assert cal.holiday_name(dt.date(2027, 2, day)), day
    assert cal.holiday_name(dt.date(2027, 2, 6)) == "Tết Nguyên Đán"
    assert cal.is_working_day(dt.date(2027, 2, 11))
    assert cal.working_time_between(vn(2027, 2, 3, 17), vn(2027, 2, 11, 7)) == dt.timedelta(0)


def test_other_public_holidays(cal):
    assert cal.holiday_name(dt.date(2026, 1, 1)) == "Tết Dương lịch"
    assert cal.holiday_name(dt.date(2026, 4, 26)) == "Ngày Giỗ Tổ Hùng Vương"    # a Sunday
    assert not cal.is_working_day(dt.date(2026, 4, 27))                          # observed on Monday
    assert not cal.is_working_day(dt.date(2026, 4, 30)) and not cal.is_working_day(dt.date(2026, 5, 1))
    assert cal.holiday_name(dt.date(2026, 11, 24)) == "Ngày Văn hóa Việt Nam"
    assert cal.is_working_day(dt.date(2026, 4, 28))


def test_national_day_2026_swap(cal):
    assert cal.is_working_day(dt.date(2026, 8, 22))                   # the make-up Saturday
    assert cal.holiday_name(dt.date(2026, 8, 22)) is None
    assert cal.is_working_moment(vn(2026, 8, 22, 9))
    assert not cal.is_working_day(dt.date(2026, 8, 23))               # its Sunday stays off
    for day in (dt.date(2026, 8, 31), dt.date(2026, 9, 1), dt.date(2026, 9, 2)):
        assert not cal.is_working_day(day), day
    assert cal.holiday_name(dt.date(2026, 8, 31)).startswith("Nghỉ Quốc khánh")  # the administrator's name
    assert cal.holiday_name(dt.date(2026, 9, 2)) == "Quốc khánh"
    assert cal.is_working_day(dt.date(2026, 9, 3))
    # Friday 28/08 16:00 + 2 working days → Thursday 03/09 then Friday 04/09 at 16:00.
    assert cal.add_working_days(vn(2026, 8, 28, 16), 2) == vn(2026, 9, 4, 16).astimezone(UTC)


def test_without_the_file_the_swap_is_still_known_to_the_package():
    bare = WorkingCalendar()
    assert bare.is_working_day(dt.date(2026, 8, 22)) and not bare.is_working_day(dt.date(2026, 8, 31))


def test_dossier_received_friday_16_50_three_working_days(cal):
    # Received Friday 06/03/2026 16:50: 10 min on Friday, Mon + Tue, 7 h 50 on Wednesday → Wed 16:50.
    received = vn(2026, 3, 6, 16, 50)
    due = cal.add_working_days(received, 3)
    assert due == vn(2026, 3, 11, 16, 50).astimezone(UTC) and due.tzinfo == UTC
    assert cal.working_time_between(received, due) == dt.timedelta(hours=24)
    # The same Friday in the week of the make-up Saturday: the Saturday counts.
    assert cal.add_working_days(vn(2026, 8, 21, 16, 50), 3) == vn(2026, 8, 25, 16, 50).astimezone(UTC)


def test_received_outside_office_hours_counts_from_the_next_working_moment(cal):
    # After 17:00 on Friday → counts from Monday 07:00; three days end at Wednesday's close.
    assert cal.add_working_days(vn(2026, 3, 6, 17, 30), 3) == vn(2026, 3, 11, 17).astimezone(UTC)
    assert cal.add_working_days(vn(2026, 3, 9, 6, 0), 1) == vn(2026, 3, 9, 17).astimezone(UTC)
    # At lunch → counts from 13:30: 3 h 30 on Monday, 4 h 30 on Tuesday morning → Tuesday 11:30.
    assert cal.add_working_days(vn(2026, 3, 9, 12, 0), 1) == vn(2026, 3, 10, 11, 30).astimezone(UTC)
    assert cal.add_working_days(vn(2026, 3, 9, 10), 0.5) == vn(2026, 3, 9, 16).astimezone(UTC)    # 4 h
    assert cal.add_working_days(vn(2026, 3, 7, 10), 0) == vn(2026, 3, 9, 7).astimezone(UTC)


def test_four_working_hours_across_lunch_and_night(cal):
    # Monday 10:00 + 4 h: 1 h 30 before lunch, 2 h 30 after → 16:00.
    assert cal.add_working_hours(vn(2026, 3, 9, 10), 4) == vn(2026, 3, 9, 16).astimezone(UTC)
    # Monday 15:30 + 4 h: 1 h 30 today, 2 h 30 tomorrow morning → Tuesday 09:30.
    assert cal.add_working_hours(vn(2026, 3, 9, 15, 30), 4) == vn(2026, 3, 10, 9, 30).astimezone(UTC)
    # Friday 16:00 + 4 h crosses the night, the weekend and Monday's lunch is not reached → Monday 10:00.
    assert cal.add_working_hours(vn(2026, 3, 6, 16), 4) == vn(2026, 3, 9, 10).astimezone(UTC)
    # Ending exactly at the close of a period returns that close.
    assert cal.add_working_hours(vn(2026, 3, 9, 7), 4.5) == vn(2026, 3, 9, 11, 30).astimezone(UTC)
    assert cal.add_working_hours(vn(2026, 3, 9, 11), 0.25) == vn(2026, 3, 9, 11, 15).astimezone(UTC)


def test_working_moments_and_next_working_moment(cal):
    assert cal.is_working_moment(vn(2026, 3, 9, 7))
    assert not cal.is_working_moment(vn(2026, 3, 9, 11, 30))         # periods are [start, end)
    assert not cal.is_working_moment(vn(2026, 3, 9, 12))
    assert not cal.is_working_moment(vn(2026, 3, 7, 9))              # Saturday
    moment = vn(2026, 3, 9, 9, 15)
    assert cal.next_working_moment(moment) == moment and cal.next_working_moment(moment).tzinfo == UTC
    assert cal.next_working_moment(vn(2026, 3, 9, 12)) == vn(2026, 3, 9, 13, 30).astimezone(UTC)
    assert cal.next_working_moment(vn(2026, 3, 9, 6)) == vn(2026, 3, 9, 7).astimezone(UTC)
    assert cal.next_working_moment(vn(2026, 4, 29, 17)) == vn(2026, 5, 4, 7).astimezone(UTC)   # 30/4 + 1/5


def test_working_time_between_across_a_weekend(cal):
    friday, monday = vn(2026, 3, 6, 15), vn(2026, 3, 9, 9)
    assert cal.working_time_between(friday, monday) == dt.timedelta(hours=4)
    assert cal.working_time_between(monday, friday) == -dt.timedelta(hours=4)
    assert cal.working_time_between(vn(2026, 3, 9, 11), vn(2026, 3, 9, 14)) == dt.timedelta(hours=1)
    assert cal.working_time_between(vn(2026, 3, 7, 8), vn(2026, 3, 8, 16)) == dt.timedelta(0)
    assert cal.working_time_between(vn(2026, 3, 9), vn(2026, 3, 14)) == dt.timedelta(hours=40)


def test_naive_datetimes_are_refused(cal):
    naive = dt.datetime(2026, 3, 9, 9)
    for call in (lambda: cal.add_working_days(naive, 1), lambda: cal.add_working_hours(naive, 1),
                 lambda: cal.next_working_moment(naive), lambda: cal.is_working_moment(naive),
                 lambda: cal.working_time_between(naive, vn(2026, 3, 10)), lambda: cal.is_working_day(naive)):
        with pytest.raises(ValueError, match="naive datetime"):
            call()
    with pytest.raises(ValueError, match="naive"):
        expression_functions(cal, now=naive)


def test_bad_amounts_are_refused(cal):
    for bad in (-1, float("nan"), float("inf"), True, "3"):
        with pytest.raises(ValueError, match="finite number"):
            cal.add_working_days(vn(2026, 3, 9, 9), bad)
    with pytest.raises(ValueError, match="finite number"):
        cal.add_working_hours(vn(2026, 3, 9, 9), -0.5)


def test_other_offsets_and_zones(cal):
    # 01:30 UTC is 08:30 in Vietnam (UTC+7, no DST): a working moment.
    assert cal.is_working_moment(dt.datetime(2026, 3, 9, 1, 30, tzinfo=UTC))
    assert not cal.is_working_moment(dt.datetime(2026, 3, 9, 10, 30, tzinfo=UTC))   # 17:30 local
    plus9 = dt.timezone(dt.timedelta(hours=9))
    due = cal.add_working_hours(dt.datetime(2026, 3, 9, 12, tzinfo=plus9), 2)        # 10:00 local
    assert due == vn(2026, 3, 9, 14).astimezone(UTC) and due.utcoffset() == dt.timedelta(0)
    # Same offset all year: a deadline across the European DST change moves by nothing locally.
    assert cal.add_working_days(vn(2026, 3, 27, 9), 3) == vn(2026, 4, 1, 9).astimezone(UTC)
    # A zone with DST: office hours stay local, durations stay real.
    paris = WorkingCalendar(timezone="Europe/Paris")
    friday = dt.datetime(2026, 3, 27, 16, tzinfo=ZoneInfo("Europe/Paris"))
    monday = paris.add_working_hours(friday, 2)
    assert monday.astimezone(ZoneInfo("Europe/Paris")) == dt.datetime(2026, 3, 30, 8, tzinfo=ZoneInfo("Europe/Paris"))
    assert paris.working_time_between(friday, monday) == dt.timedelta(hours=2)
    with pytest.raises(ValueError, match="time zone"):
        WorkingCalendar(timezone="Asia/Nowhere")


def test_sixty_working_days_is_fast(cal):
    received = vn(2026, 1, 5, 9)
    started = time.perf_counter()
    due = cal.add_working_days(received, 60)
    elapsed = time.perf_counter() - started
    # 60 weekdays after Monday 05/01/2026, the five weekdays of Tết skipped → Monday 06/04/2026.
    assert due == vn(2026, 4, 6, 9).astimezone(UTC)
    assert cal.working_time_between(received, due) == dt.timedelta(hours=480)
    assert elapsed < 0.5
    started = time.perf_counter()
    cal.add_working_days(received, 2500)                           # about ten years
    assert time.perf_counter() - started < 2


def test_constructor_arguments():
    cal = WorkingCalendar(extra_days_off={dt.date(2026, 3, 10)}, make_up_days={dt.date(2026, 3, 14)},
                          holiday_names={dt.date(2026, 3, 10): "Nghỉ đột xuất"})
    assert cal.holiday_name(dt.date(2026, 3, 10)) == "Nghỉ đột xuất"
    assert cal.is_working_day(dt.date(2026, 3, 14)) and not cal.is_working_day(dt.date(2026, 3, 10))
    assert cal.holiday_name(vn(2026, 3, 10, 9)) == "Nghỉ đột xuất"
    assert WorkingCalendar(extra_days_off={dt.date(2026, 3, 11)}).holiday_name(dt.date(2026, 3, 11)) == "Ngày nghỉ"
    with pytest.raises(ValueError, match="both a day off and a make-up"):
        WorkingCalendar(extra_days_off={dt.date(2026, 3, 10)}, make_up_days={dt.date(2026, 3, 10)})
    with pytest.raises(ValueError, match="overlapping"):
        WorkingCalendar(office_hours=((dt.time(7), dt.time(12)), (dt.time(11), dt.time(17))))
    with pytest.raises(ValueError, match="one or more"):
        WorkingCalendar(office_hours=())
    single = WorkingCalendar(office_hours=((dt.time(8), dt.time(16)),))
    assert single.add_working_days(vn(2026, 3, 9, 12), 1) == vn(2026, 3, 10, 12).astimezone(UTC)


# -- the administrator's files ----------------------------------------------------------------------------

def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_file_with_custom_hours_and_days(tmp_path):
    path = write(tmp_path, "2026.toml", """
days_off = [{date = 2026-03-10, name = "Nghỉ bù"}]
working_days = [{date = 2026-03-14, name = "Làm bù", source = "Thông báo 1/TB"}]
[office_hours]
morning = "07:30-11:30"
afternoon = "13:00-17:00"
""")
    cal = WorkingCalendar.from_file(path)
    assert cal.office_hours == ((dt.time(7, 30), dt.time(11, 30)), (dt.time(13), dt.time(17)))
    assert cal.holiday_name(dt.date(2026, 3, 10)) == "Nghỉ bù" and cal.is_working_day(dt.date(2026, 3, 14))
    assert cal.next_working_moment(vn(2026, 3, 9, 7, 10)) == vn(2026, 3, 9, 7, 30).astimezone(UTC)
    assert WorkingCalendar.from_file(path, timezone="UTC").timezone == "UTC"


def test_folder_merges_files(tmp_path):
    write(tmp_path, "2026.toml", 'days_off = [{date = 2026-03-10, name = "A"}]\n')
    write(tmp_path, "2027.toml", 'working_days = [{date = 2027-03-13, name = "B"}]\n')
    write(tmp_path, "notes.txt", "not a calendar")
    cal = WorkingCalendar.from_folder(tmp_path)
    assert not cal.is_working_day(dt.date(2026, 3, 10)) and cal.is_working_day(dt.date(2027, 3, 13))
    empty = tmp_path / "empty"
    empty.mkdir()
    assert WorkingCalendar.from_folder(empty).office_hours == WorkingCalendar().office_hours


@pytest.mark.parametrize("text, message", [
    ("days_off = [{date = 2026-03-10", "not valid TOML"),
    ("day_off = []", "unknown key 'day_off'"),
    ('[office_hours]\nmorning = "07:00-11:30"\ndays_off = []', r"'office_hours.days_off' \(put it above"),
    ('[office_hours]\nmorning = "7h-11h"', "'office_hours.morning' = '7h-11h' is not"),
    ('[office_hours]\nmorning = "11:30-07:00"', "'office_hours'.*empty"),
    ('[office_hours]\nmorning = "07:00-12:00"\nafternoon = "11:00-17:00"', "overlapping"),
    ("office_hours = 8", "'office_hours' must be a table"),
    ('days_off = [{date = "2026-03-10"}]', "'days_off' entry 1: 'date' must be a TOML date"),
    ("days_off = [{date = 2026-03-10T08:00:00}]", "'date' must be a TOML date"),
    ("working_days = [{date = 2026-03-14, nam = 'x'}]", "'working_days' entry 1: unexpected nam"),
    ("working_days = [{date = 2026-03-14, name = 3}]", "'name' must be text"),
    ("days_off = {date = 2026-03-10}", "'days_off' must be a list"),
    ("days_off = [2026-03-10]", "entry 1: unexpected"),
    ("days_off = [{date = 2026-03-10}, {date = 2026-03-10}]", "already in 'days_off'"),
    ("days_off = [{date = 2026-03-10}]\nworking_days = [{date = 2026-03-10}]", "already in 'days_off'"),
    ('timezone = "Mars/Olympus"', "unknown time zone"),
    ("timezone = 7", "'timezone' must be text"),
])
def test_file_errors_name_the_file_and_key(tmp_path, text, message):
    path = write(tmp_path, "2026.toml", text)
    with pytest.raises(CalendarFileError, match=message) as caught:
        WorkingCalendar.from_file(path)
    assert str(path) in str(caught.value) and isinstance(caught.value, BadInput)
    assert caught.value.code == "calendar_invalid"


def test_files_that_disagree_or_are_missing(tmp_path):
    write(tmp_path, "a.toml", '[office_hours]\nmorning = "07:00-11:30"')
    write(tmp_path, "b.toml", '[office_hours]\nmorning = "08:00-11:30"')
    with pytest.raises(CalendarFileError, match="'office_hours' differs from the one in .*a.toml"):
        WorkingCalendar.from_folder(tmp_path)
    with pytest.raises(CalendarFileError, match="cannot read"):
        WorkingCalendar.from_file(tmp_path / "missing.toml")
    with pytest.raises(CalendarFileError, match="folder does not exist"):
        WorkingCalendar.from_folder(tmp_path / "nowhere")


# -- expression helpers ------------------------------------------------------------------------------------

def test_expression_functions_follow_the_clock(cal):
    helpers = expression_functions(cal)
    assert set(helpers) == {"working_days", "working_hours", "next_working_moment"}
    with time_machine.travel(vn(2026, 3, 6, 16, 50), tick=False):
        assert helpers["working_days"](3) == vn(2026, 3, 11, 16, 50).astimezone(UTC)
        assert helpers["working_hours"](4) == vn(2026, 3, 9, 10, 50).astimezone(UTC)
        assert helpers["next_working_moment"]() == vn(2026, 3, 6, 16, 50).astimezone(UTC)
    with time_machine.travel(vn(2026, 2, 13, 18), tick=False):            # Friday evening before Tết
        assert helpers["next_working_moment"]() == vn(2026, 2, 23, 7).astimezone(UTC)
        deadline = helpers["working_days"](1)
    assert deadline.isoformat() == "2026-02-23T10:00:00+00:00"          # ready for a timer's timeDate


def test_expression_functions_with_fixed_now_and_start(cal):
    helpers = expression_functions(cal, now=vn(2026, 8, 21, 16, 50))
    assert helpers["working_days"](3) == vn(2026, 8, 25, 16, 50).astimezone(UTC)
    assert helpers["working_days"](1, "2026-03-06T16:50:00+07:00") == vn(2026, 3, 9, 16, 50).astimezone(UTC)
    assert helpers["working_hours"](1, vn(2026, 3, 9, 11)) == vn(2026, 3, 9, 14).astimezone(UTC)
    with pytest.raises(ValueError, match="naive"):
        helpers["working_days"](1, "2026-03-06T16:50:00")
    ticking = expression_functions(cal, now=lambda: vn(2026, 3, 9, 6))
    assert ticking["next_working_moment"]() == vn(2026, 3, 9, 7).astimezone(UTC)
