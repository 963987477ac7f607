"""Citizens rate the service of a delivered dossier once, on the evaluation criteria of Decree 61/2018
(Art. 30-32, Circular 01/2018; one-stop-domain.md §7). Criteria 1-9 score 2 / 1 / 0; 10 and 11 are
"Rất hài lòng / Hài lòng / Không hài lòng". Criterion 1 (time taken against the statutory time) is computed from
the dossier's clock, not asked; the others a citizen can judge are asked."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.citizen_dossiers import owned_dossier
from engine.errors import BadInput, Conflict
from engine.citizen_models import DossierRating

QUESTIONS: dict[str, tuple[str, dict[str, str]]] = {
    "tieu_chi_3": ("Ông/Bà phải liên hệ với cơ quan giải quyết bao nhiêu lần để hoàn thiện hồ sơ?",
                   {"2": "Không lần nào", "1": "Một lần", "0": "Hai lần trở lên"}),
    "tieu_chi_4": ("Ông/Bà phải liên hệ với bao nhiêu cơ quan để giải quyết thủ tục?",
                   {"2": "Chỉ Bộ phận Một cửa", "1": "Hai cơ quan", "0": "Ba cơ quan trở lên"}),
    "tieu_chi_5": ("Hồ sơ có được tiếp nhận và trả kết quả tại Bộ phận Một cửa hoặc trực tuyến không?",
                   {"2": "Có", "0": "Không"}),
    "tieu_chi_7": ("Thái độ của cán bộ, công chức khi giải quyết hồ sơ?",
                   {"2": "Lịch sự, tận tình", "1": "Bình thường", "0": "Gây phiền hà, sách nhiễu"}),
    "tieu_chi_10": ("Ông/Bà đánh giá thế nào về dịch vụ công trực tuyến?",
                    {"2": "Rất hài lòng", "1": "Hài lòng", "0": "Không hài lòng"}),
    "tieu_chi_11": ("Ông/Bà đánh giá chung thế nào về việc giải quyết thủ tục hành chính?",
                    {"2": "Rất hài lòng", "1": "Hài lòng", "0": "Không hài lòng"}),
}


# the overall question: answered "Không hài lòng" (0), the rating counts as dissatisfied (engine.indicators766; the
# same test in SQL is engine.citizen_models.DISSATISFIED)
DISSATISFIED_QUESTION = "tieu_chi_11"


def _time_score(dossier) -> int:
    """Criterion 1: finished before the due moment (2), on it (1, within the same working day), or after (0)."""
    if dossier.finished_at is None:
        return 0
    if dossier.finished_at <= dossier.due_at - dt.timedelta(hours=8):
        return 2
    return 1 if dossier.finished_at <= dossier.due_at else 0


def errors_in(answers: dict[str, Any]) -> dict[str, str]:
    """Unanswered or unknown answers, in words."""
    return {key: "Chọn một câu trả lời" for key, (_, options) in QUESTIONS.items()
            if str(answers.get(key, "")) not in options}


def rate(session: Session, code: str, owner_id: str, answers: dict[str, Any], now: dt.datetime) -> DossierRating:
    """Record the owner's rating of their delivered dossier; a second rating is :class:`Conflict`."""
    dossier = owned_dossier(session, code, owner_id)
    if dossier.status != 10:
        raise BadInput("a dossier can be rated once its result has been delivered")
    if errors_in(answers):
        raise BadInput("every question needs an answer")
    scores = {"tieu_chi_1": _time_score(dossier), **{k: int(answers[k]) for k in QUESTIONS}}
    rating = DossierRating(instance_id=dossier.instance_id, code=dossier.code, procedure_code=dossier.procedure_code,
                           agency=dossier.agency, answers=json.dumps(scores), score=sum(scores.values()), rated_at=now)
    try:
        with session.begin_nested():
            session.add(rating)
    except IntegrityError:
        raise Conflict("this dossier has already been rated") from None
    if scores[DISSATISFIED_QUESTION] == 0:  # "Không hài lòng" overall: counted against Decision 766 indicator 5.3
        dossier.dissatisfied_at = now
    return rating


def rated(session: Session, instance_id: str) -> bool:
    """Whether the dossier has been rated."""
    return session.get(DossierRating, instance_id) is not None
