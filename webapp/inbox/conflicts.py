"""The engine's conflicts in the officers' words: the engine keeps its English messages for the command line and
``/engine-rest``; the inbox reads the error's class and facts (who holds the task, the instance's status) and says
it in Vietnamese. Errors the engine already words in Vietnamese are shown as they are."""
from __future__ import annotations

from engine.errors import (InstanceNotActive, MotcuaError, NotACandidate, StaleVersion, TaskAlreadyClaimed,
                           TaskHeldByAnother, TaskNotActive)

_INSTANCE = {
    "suspended": "Hồ sơ đang tạm dừng: chưa xử lý được việc này cho đến khi hồ sơ được cho chạy tiếp.",
    "terminated": "Hồ sơ đã bị kết thúc: việc này không còn phải xử lý.",
    "completed": "Hồ sơ đã giải quyết xong: việc này không còn phải xử lý.",
}


def sentence(err: MotcuaError) -> str:
    """What an officer reads when the engine refused an action on a task because things changed under them."""
    if isinstance(err, (TaskHeldByAnother, TaskAlreadyClaimed)):
        return (f"Việc này đang do cán bộ {err.assignee} xử lý: chỉ người đó (hoặc cán bộ điều hành) mới "
                "thao tác được trên việc này.")
    if isinstance(err, InstanceNotActive):
        return _INSTANCE.get(err.status or "", "Hồ sơ không còn đang được xử lý: chưa làm được việc này.")
    if isinstance(err, StaleVersion):
        return "Hồ sơ vừa được một cán bộ khác thay đổi: hãy mở lại trang việc rồi làm lại."
    if isinstance(err, TaskNotActive):
        return "Việc này không còn chờ xử lý: có thể một cán bộ khác đã xử lý xong."
    if isinstance(err, NotACandidate):
        return "Ông/Bà không thuộc nhóm được giao xử lý việc này."
    return err.message
