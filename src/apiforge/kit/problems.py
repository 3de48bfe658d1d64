"""Renders every error answer as RFC 9457 `application/problem+json` with a stable `code`
and the request ID. Not for: deciding what is an error (that is `errors.py`)."""

import logging
from collections.abc import Iterator, Mapping, Sequence
from http import HTTPStatus
from typing import Any, cast

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from apiforge.kit.asgi import Send
from apiforge.kit.db.failures import classify, driver_message
from apiforge.kit.errors import (
    AppError,
    PayloadTooLargeError,
    UnauthenticatedError,
    ValidationFailedError,
)
from apiforge.kit.request_context import current_request_id

PROBLEM_CONTENT_TYPE = "application/problem+json"
INTERNAL_DETAIL = "An internal error occurred; it has been logged."
logger = logging.getLogger("apiforge.errors")

_HTTP_CODES = {
    404: "http.not_found",
    405: "http.method_not_allowed",
    408: "request.body_timeout",
    413: PayloadTooLargeError.code,
    415: "http.unsupported_media_type",
}


def problem_body(
    *,
    status: int,
    code: str,
    detail: str,
    title: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> bytes:
    """`extra` adds members; the standard ones (type, title, status, detail, code,
    request_id) are never overridden by it."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": current_request_id(),
    }
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    return orjson.dumps(body)


async def send_problem(
    send: Send,
    *,
    status: int,
    code: str,
    detail: str,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """The same answer from pure-ASGI middleware, which has no Response to return."""
    body = problem_body(status=status, code=code, detail=detail)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_CONTENT_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def problem_response(
    *,
    status: int,
    code: str,
    detail: str,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    return Response(
        problem_body(status=status, code=code, detail=detail, title=title, extra=extra),
        status_code=status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # The offending input is left out on purpose: it may hold a password or a NUL byte.
    return [
        {
            "loc": [str(part) for part in err.get("loc", ())],
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]


async def _on_app_error(request: Request, exc: Exception) -> Response:
    exc = cast(AppError, exc)  # registered for AppError only
    headers = (
        {"WWW-Authenticate": exc.www_authenticate}
        if isinstance(exc, UnauthenticatedError)
        else None
    )
    return problem_response(
        status=exc.status,
        code=exc.code,
        detail=exc.detail,
        title=exc.title,
        headers=headers,
        extra=exc.extra,
    )


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    exc = cast(RequestValidationError, exc)  # registered for this type only
    return problem_response(
        status=422,
        code=ValidationFailedError.code,
        detail=ValidationFailedError.FIELDS_DETAIL,
        extra={"errors": _field_errors(exc)},
    )


async def _on_http_error(request: Request, exc: Exception) -> Response:
    exc = cast(StarletteHTTPException, exc)  # registered for this type only
    code = _HTTP_CODES.get(exc.status_code, f"http.{exc.status_code}")
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem_response(
        status=exc.status_code, code=code, detail=detail, headers=dict(exc.headers or {}) or None
    )


async def _on_database_error(request: Request, exc: Exception) -> Response:
    failure = classify(exc)
    if failure is None:
        # A bug (a missing table, a type the driver refused): the driver's own words in the
        # log, nothing of them in the answer.
        logger.error(
            "database error on %s %s answered 500: %s",
            request.method,
            request.url.path,
            driver_message(exc),
        )
        return problem_response(status=500, code=AppError.code, detail=INTERNAL_DETAIL)
    logger.warning(
        "database error answered %s %s: %s", failure.status, failure.code, driver_message(exc)
    )
    headers = {"Retry-After": "1"} if failure.status == 503 else None
    return problem_response(
        status=failure.status, code=failure.code, detail=failure.detail, headers=headers
    )


def _leaves(group: BaseExceptionGroup[BaseException]) -> Iterator[BaseException]:
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            yield from _leaves(error)
        else:
            yield error


async def _on_exception_group(request: Request, exc: Exception) -> Response:
    """Concurrent reads in a route (an `asyncio.TaskGroup`) fail together as an
    `ExceptionGroup`: when everything in it has an answer of its own (an `AppError`, a database
    outage or conflict), the first one is the answer, as if the work had not been concurrent;
    anything else in it is a bug, left to the error boundary (a logged 500)."""
    leaves = list(_leaves(cast(ExceptionGroup[Exception], exc)))
    if not all(isinstance(e, AppError) or classify(cast(Exception, e)) for e in leaves):
        raise exc
    first = cast(Exception, leaves[0])
    if isinstance(first, AppError):
        return await _on_app_error(request, first)
    return await _on_database_error(request, first)


def install_problem_handlers(app: FastAPI) -> None:
    for error in (sa_exc.DBAPIError, sa_exc.TimeoutError):
        app.add_exception_handler(error, _on_database_error)
    app.add_exception_handler(ExceptionGroup, _on_exception_group)
    app.add_exception_handler(AppError, _on_app_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
