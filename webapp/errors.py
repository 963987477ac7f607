"""Engine errors to HTTP responses, in one place.

Under ``/engine-rest`` the body is Camunda's ``{"type": …, "message": …}`` (plus motcua's ``code``), so
Camunda clients report it as they would Camunda's own.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from engine import errors

log = logging.getLogger(__name__)

CAMUNDA_TYPES = {
    errors.NotFound: "InvalidRequestException",
    errors.Forbidden: "AuthorizationException",
    errors.StaleVersion: "OptimisticLockingException",
    errors.BadInput: "InvalidRequestException",
    errors.Conflict: "ProcessEngineException",
}


def camunda_type(err: errors.MotcuaError) -> str:
    """Camunda's exception type name for an engine error."""
    for cls, name in CAMUNDA_TYPES.items():
        if isinstance(err, cls):
            return name
    return "ProcessEngineException"


def error_body(err: errors.MotcuaError) -> dict:
    """The JSON body for an engine error."""
    body = {"type": camunda_type(err), "message": err.message, "code": err.code}
    problems = getattr(err, "problems", None)
    if problems:
        body["problems"] = [{"file": p.file, "message": p.message, "elementId": p.element_id, "line": p.line,
                             "severity": p.severity} for p in problems]
    if isinstance(err, errors.FormValidationFailed):
        body["fields"] = [{"field": f.field, "message": f.message} for f in err.errors]
    return body


PAGE_TITLES = {400: "Yêu cầu không hợp lệ", 403: "Không có quyền truy cập", 404: "Không tìm thấy trang",
               409: "Dữ liệu đã thay đổi", 413: "Tệp quá lớn", 429: "Quá nhiều yêu cầu", 500: "Có lỗi xảy ra",
               503: "Dịch vụ chưa sẵn sàng"}
PAGE_MESSAGES = {404: "Địa chỉ không đúng hoặc trang không còn nữa. Hãy kiểm tra lại địa chỉ.",
                 429: "Ông/Bà đã thử quá nhiều lần. Vui lòng thử lại sau ít phút.",
                 500: "Hệ thống đang gặp sự cố. Hồ sơ và dữ liệu của Ông/Bà không bị mất; vui lòng thử lại sau."}


def is_api() -> bool:
    """Machines (the REST API, gateways' callbacks) get JSON; people get a page."""
    return request.path.startswith(("/engine-rest", "/payments/vnpay/ipn"))


def error_page(status: int, message: str | None = None):
    """An error as a page in Vietnamese, with the status code."""
    title = PAGE_TITLES.get(status, "Có lỗi xảy ra")
    return render_template("portal/error.html", title=title,
                           message=message or PAGE_MESSAGES.get(status, title)), status


def init_app(app: Flask) -> None:
    """Register the handlers that turn errors into responses."""

    @app.errorhandler(errors.MotcuaError)
    def engine_error(err: errors.MotcuaError):
        if not is_api():
            return error_page(err.http_status, err.message)
        return jsonify(error_body(err)), err.http_status

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        if request.path.startswith("/engine-rest"):
            return jsonify({"type": "RestException", "message": err.description, "code": err.name}), err.code
        if not is_api() and err.code and err.code >= 400:
            return error_page(err.code)
        return err

    @app.errorhandler(Exception)
    def unexpected(err: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        if not is_api():
            return error_page(500)
        return jsonify({"type": "ProcessEngineException", "message": "internal error; see the server log",
                        "code": "internal"}), 500
