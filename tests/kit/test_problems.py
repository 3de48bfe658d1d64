"""Every error answer is RFC 9457 problem+json carrying a stable `code` and the request ID."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exc as sa_exc

from apiforge.kit import AppError, ConflictError, UnauthenticatedError, ValidationFailedError
from apiforge.kit.problems import PROBLEM_CONTENT_TYPE
from tests.kit.apps import kit_app, serve

SECRET = "hunter2-correct-horse-battery"


class WidgetTakenError(ConflictError):
    code = "widgets.name_taken"
    title = "Widget name taken"


class TeapotError(AppError):
    status = 418
    code = "kitchen.teapot"
    title = "I'm a teapot"


class SignUp(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=50)
    password: str = Field(min_length=40)
    age: int = Field(ge=0, le=150)


router = APIRouter()


@router.post("/widgets")
async def create_widget() -> None:
    raise WidgetTakenError("A widget with this name exists.")


@router.get("/teapot")
async def teapot() -> None:
    raise TeapotError(extra={"brew": "earl grey"})


@router.get("/who")
async def who() -> None:
    raise UnauthenticatedError


@router.get("/custom-validation")
async def custom_validation() -> None:
    raise ValidationFailedError(
        "Bad range.", errors=[{"loc": ["query", "min"], "msg": "too big", "type": "range"}]
    )


@router.post("/signup")
async def signup(body: SignUp) -> dict[str, str]:
    return {"email": body.email}


def _sqlite_error(message: str, code: int) -> sqlite3.OperationalError:
    """What the driver raises (its C code sets the result code; done by hand here)."""
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code
    return error


class _PostgresError(Exception):
    """asyncpg's errors, as SQLAlchemy's adapter hands them over, carry the SQLSTATE."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


DATABASE_ERRORS: dict[str, Exception] = {
    "pool": sa_exc.TimeoutError("QueuePool limit of size 1 overflow 0 reached"),
    "locked": sa_exc.OperationalError("COMMIT", {}, _sqlite_error("database is locked", 5)),
    "unique": sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key value")),
    # The pool turns asyncpg's bare OSError on connect into this (kit.db.pool).
    "refused": sa_exc.OperationalError(
        "connect", None, ConnectionRefusedError(111, "Connect call failed")
    ),
    "statement_timeout": sa_exc.DBAPIError(
        "SELECT", {}, _PostgresError("canceling statement due to statement timeout", "57014")
    ),
    "shutting_down": sa_exc.DBAPIError(
        "SELECT", {}, _PostgresError("the database system is shutting down", "57P03")
    ),
    "serialization": sa_exc.DBAPIError(
        "UPDATE", {}, _PostgresError("could not serialize access", "40001")
    ),
    # Bugs, not outages: 500, the driver's message in the log only.
    "missing_table": sa_exc.OperationalError(
        "SELECT", {}, _sqlite_error("no such table: widgets", 1)
    ),
    "undefined_column": sa_exc.DBAPIError(
        "SELECT", {}, _PostgresError('column "colour" does not exist', "42703")
    ),
}


@router.get("/db/{kind}")
async def database_failure(kind: str) -> None:
    raise DATABASE_ERRORS[kind]


async def _fails(error: Exception) -> None:
    await asyncio.sleep(0)
    raise error


async def _slow() -> None:
    await asyncio.sleep(10)  # cancelled when a sibling fails


CONCURRENT_ERRORS: dict[str, Exception] = {
    "pool": DATABASE_ERRORS["pool"],
    "conflict": WidgetTakenError("A widget with this name exists."),
    "bug": ValueError("a bug in one of the reads"),
}


@router.get("/concurrent/{kind}")
async def concurrent_failure(kind: str) -> None:
    """Reads run in a TaskGroup (as the shop's dashboard does): a failure arrives wrapped in
    an ExceptionGroup."""
    async with asyncio.TaskGroup() as group:
        group.create_task(_slow())
        group.create_task(_fails(CONCURRENT_ERRORS[kind]))


@pytest.fixture
async def client(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(kit_app(sqlite_url, router)) as http:
        yield http


def problem(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    assert body["request_id"] == response.headers["x-request-id"]
    assert {"type", "title", "status", "detail", "code", "request_id"} <= body.keys()
    return body


async def test_app_error_subclass_renders_its_status_and_code(client: httpx.AsyncClient) -> None:
    response = await client.post("/widgets", headers={"X-Request-ID": "trace-123"})
    assert response.status_code == 409
    body = problem(response)
    assert body["code"] == "widgets.name_taken"
    assert body["title"] == "Widget name taken"
    assert body["detail"] == "A widget with this name exists."
    assert body["type"] == "about:blank"
    assert body["request_id"] == "trace-123"


async def test_error_extra_fields_and_default_detail(client: httpx.AsyncClient) -> None:
    response = await client.get("/teapot")
    assert response.status_code == 418
    body = problem(response)
    assert (body["code"], body["detail"], body["brew"]) == (
        "kitchen.teapot",
        "I'm a teapot",
        "earl grey",
    )


async def test_unauthenticated_asks_for_a_bearer_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/who")
    assert response.status_code == 401
    assert problem(response)["code"] == "auth.unauthenticated"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_validation_failed_error_keeps_its_field_errors(client: httpx.AsyncClient) -> None:
    response = await client.get("/custom-validation")
    assert response.status_code == 422
    body = problem(response)
    assert body["code"] == "request.validation_failed"
    assert body["errors"] == [{"loc": ["query", "min"], "msg": "too big", "type": "range"}]


async def test_request_validation_names_fields_and_never_echoes_input(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/signup", json={"email": "a@example.com", "password": SECRET, "age": -1}
    )
    assert response.status_code == 422
    body = problem(response)
    assert body["code"] == "request.validation_failed"
    locs = {tuple(error["loc"]) for error in body["errors"]}
    assert locs == {("body", "password"), ("body", "age")}
    assert all(set(error) == {"loc", "msg", "type"} for error in body["errors"])
    assert SECRET not in response.text
    assert "a@example.com" not in response.text


async def test_extra_fields_are_refused_by_name(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/signup",
        json={"email": "a@example.com", "password": "p" * 40, "age": 3, "role": "admin"},
    )
    assert response.status_code == 422
    body = problem(response)
    assert [error["loc"] for error in body["errors"]] == [["body", "role"]]
    assert "admin" not in response.text


async def test_malformed_json_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/signup",
        content=b'{"password": "' + SECRET.encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert problem(response)["code"] == "request.validation_failed"
    assert SECRET not in response.text


async def test_unknown_route_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")
    assert response.status_code == 404
    assert problem(response)["code"] == "http.not_found"


async def test_wrong_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/signup")
    assert response.status_code == 405
    assert problem(response)["code"] == "http.method_not_allowed"
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("pool", 503, "db.unavailable"),
        ("locked", 503, "db.unavailable"),
        ("unique", 409, "db.conflict"),
        ("refused", 503, "db.unavailable"),
        ("statement_timeout", 503, "db.unavailable"),
        ("shutting_down", 503, "db.unavailable"),
        ("serialization", 409, "db.conflict"),
    ],
)
async def test_database_failures_are_retryable_problems(
    client: httpx.AsyncClient, kind: str, status: int, code: str
) -> None:
    response = await client.get(f"/db/{kind}")
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    body = response.json()
    assert body["code"] == code
    assert "duplicate key" not in response.text
    assert "locked" not in body["detail"]
    assert ("retry-after" in response.headers) is (status == 503)


@pytest.mark.parametrize(
    ("kind", "driver_message"),
    [
        ("missing_table", "OperationalError: no such table: widgets"),
        ("undefined_column", '_PostgresError: column "colour" does not exist'),
    ],
)
async def test_database_bugs_are_500s_logged_with_the_drivers_message(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, kind: str, driver_message: str
) -> None:
    """A missing table is not an outage: answering 503 "retry later" would hide it (the
    newcomer's first start). The answer says nothing; the log says what the driver said."""
    response = await client.get(f"/db/{kind}")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "internal"
    assert "retry-after" not in response.headers
    assert driver_message.split(": ", 1)[1] not in response.text
    (line,) = [r.getMessage() for r in caplog.records if "database error" in r.getMessage()]
    assert line == f"database error on GET /db/{kind} answered 500: {driver_message}"


async def test_extra_members_cannot_replace_the_standard_ones(sqlite_url: str) -> None:
    """An `extra` naming a standard member (here `code` and `status`) once turned the intended
    answer into a 500; the standard members win and the rest is kept."""
    clashing = APIRouter()

    @clashing.get("/clash")
    async def clash() -> None:
        raise ConflictError("Taken.", extra={"code": "mine", "status": 200, "hint": "rename"})

    async with serve(kit_app(sqlite_url, clashing)) as client:
        response = await client.get("/clash")
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["status"], body["hint"]) == ("conflict", 409, "rename")


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("pool", 503, "db.unavailable"),
        ("conflict", 409, "widgets.name_taken"),
        ("bug", 500, "internal"),
    ],
)
async def test_a_failure_among_concurrent_reads_gets_its_own_answer(
    client: httpx.AsyncClient, kind: str, status: int, code: str
) -> None:
    """A pool running dry under a TaskGroup once answered 500; the group is unwrapped, and only
    a bug in it stays a 500."""
    response = await client.get(f"/concurrent/{kind}")
    assert response.status_code == status
    assert problem(response)["code"] == code
    assert ("retry-after" in response.headers) is (status == 503)
