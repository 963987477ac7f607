"""The Decision 766 figures in words and as CSV: what each count is called, the indicator table and the dossiers
behind a count, written with the csv module in UTF-8 with a byte-order mark (Excel then reads Vietnamese right),
comma-separated, times in Vietnam time, decimals with a point; every cell goes through :mod:`engine.csv_cells`, so
text from citizens or officers never becomes a spreadsheet formula."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from engine import csv_cells
from engine.dossiers import STATUSES
from engine.indicator_periods import VIETNAM

BOM = "\ufeff"
FIGURES = {
    "processed": "Hồ sơ tiếp nhận, giải quyết trong kỳ",
    "finished": "Đã giải quyết trong kỳ",
    "finished_on_time": "Đã giải quyết trước hạn, đúng hạn",
    "finished_late": "Đã giải quyết quá hạn",
    "open": "Đang giải quyết cuối kỳ",
    "open_on_time": "Đang giải quyết trong hạn",
    "open_overdue": "Đang giải quyết quá hạn",
    "many_supplements": "Yêu cầu bổ sung nhiều hơn mức cho phép (tính quá hạn)",
    "dissatisfied": "Bị công dân đánh giá không hài lòng",
    "satisfied": "Không quá hạn, không bị đánh giá không hài lòng",
    "received": "Tiếp nhận trong kỳ",
    "received_online": "Tiếp nhận trực tuyến",
    "eligible": "Tiếp nhận, của TTHC toàn trình",
    "eligible_online": "Tiếp nhận trực tuyến, của TTHC toàn trình",
    "with_files": "Nộp trực tuyến có thành phần hồ sơ điện tử",
    "fee_due": "Có nghĩa vụ tài chính",
    "paid_online": "Đã thanh toán trực tuyến",
}
CHANNELS = {"online": "Trực tuyến", "counter": "Trực tiếp"}
INDICATOR_HEADER = ("Kỳ báo cáo", "Cơ quan", "Nhóm", "Mã chỉ số", "Chỉ số", "Mã trên Cổng DVCQG", "Tử số", "Mẫu số",
                    "Tỷ lệ (%)", "Trung bình (ngày)", "Ngưỡng (%)", "Điểm", "Điểm tối đa", "Tính được", "Công thức",
                    "Lý do không tính được", "Chưa kiểm chứng")
DOSSIER_HEADER = ("Mã hồ sơ", "Thủ tục", "Mã thủ tục", "Cơ quan", "Người nộp", "Kênh nộp", "Trạng thái",
                  "Tiếp nhận", "Hẹn trả", "Kết thúc xử lý", "Số lần yêu cầu bổ sung", "Thanh toán trực tuyến",
                  "Đánh giá không hài lòng")


def _number(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _time(value: dt.datetime | None) -> str:
    return value.astimezone(VIETNAM).strftime("%Y-%m-%d %H:%M") if value else ""


def indicator_rows(found, agency_label: str) -> Iterator[str]:
    """The indicator table of a dashboard (engine.indicators766.Dashboard) as CSV lines, the BOM first."""
    yield BOM + csv_cells.line(INDICATOR_HEADER)
    groups = {g["code"]: g["name"] for g in found.groups}
    for r in found.results:
        s = r.spec
        yield csv_cells.line((found.period.label, agency_label, f"{s.group}. {groups.get(s.group, '')}", s.code, s.name, s.api,
                     _number(r.numerator, 0) if not s.average else _number(r.numerator, 1), r.denominator,
                     _number(r.ratio * 100 if r.ratio is not None else None), _number(r.mean),
                     _number(s.threshold * 100 if s.computable and not s.average else None, 0),
                     _number(r.points), _number(s.max, 0), "có" if s.computable else "không", s.formula, s.reason,
                     s.unverified))


def dossier_rows(rows: Iterable[dict]) -> Iterator[str]:
    """The dossiers behind a figure (engine.indicator_queries.dossiers) as CSV lines, the BOM first."""
    yield BOM + csv_cells.line(DOSSIER_HEADER)
    for d in rows:
        yield csv_cells.line((d["code"], d["procedure_name"], d["procedure_code"], d["agency"], d["applicant_name"],
                     CHANNELS.get(d["channel"], d["channel"]), STATUSES.get(d["status"], d["status"]),
                     _time(d["received_at"]), _time(d["due"]), _time(d["resolved_at"]), d["supplement_requests"],
                     _time(d["paid_online_at"]), "có" if d["dissatisfied_at"] else ""))


ROW_KINDS = {"agency": "", "tree": "gồm đơn vị trực thuộc", "own": "riêng cơ quan", "none": "", "all": "tổng"}


def comparison_rows(found, rows) -> Iterator[str]:
    """The comparison of agencies (engine.indicator_comparison: ``found`` and its ``rows`` in the order shown) as CSV
    lines, the BOM first: per computable indicator its numerator, denominator, ratio (or mean) and points, then the
    total."""
    head = ["Kỳ báo cáo", "Mã cơ quan", "Cơ quan", "Cấp", "Phạm vi"]
    for s in found.specs:
        head += [f"{s.code} Tử số", f"{s.code} Mẫu số",
                 f"{s.code} Trung bình (ngày)" if s.average else f"{s.code} Tỷ lệ (%)", f"{s.code} Điểm"]
    yield BOM + csv_cells.line(head + ["Tổng điểm", "Điểm tối đa tính được", "Tỷ lệ điểm (%)"])
    for row in rows:
        line = [found.period.label, row.code, row.name, row.depth + 1, ROW_KINDS.get(row.kind, "")]
        for r in row.results:
            line += [_number(r.numerator, 1 if r.spec.average else 0), r.denominator,
                     _number(r.mean) if r.spec.average else _number(r.ratio * 100 if r.ratio is not None else None),
                     _number(r.points)]
        earned, possible = row.total
        line += [_number(earned) if possible else "", _number(possible, 0) if possible else "",
                 _number(row.share * 100 if row.share is not None else None)]
        yield csv_cells.line(line)
