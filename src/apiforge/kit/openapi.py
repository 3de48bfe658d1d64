"""Makes the OpenAPI document tell the truth about errors: every error answer is
`application/problem+json` with the `Problem` shape (FastAPI's default 422 schema describes a
body we never send). Not for: generating the document (FastAPI does)."""

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from apiforge.kit.problems import PROBLEM_CONTENT_TYPE
from apiforge.kit.ratelimit.dependencies import POLICIES_ATTRIBUTE
from apiforge.kit.rates import OnFailure, RateLimitPolicy

_REF = "#/components/schemas/Problem"
_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing, expired or invalid credentials",
    403: "Authenticated, but not allowed",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "Request body too large",
    422: "Invalid input; `errors` lists each field",
    429: "Too many requests",
    503: "A dependency is unavailable",
}


class FieldError(BaseModel):
    loc: list[str]
    msg: str
    type: str
    # Where the input is a document of lines or records (a bulk import): which one, from 1
    # (0: the document as a whole). Absent for an ordinary request body.
    line: int | None = Field(default=None, ge=0)


class Problem(BaseModel):
    """RFC 9457 problem details, plus a stable `code` and the request ID."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str = Field(examples=["orders.insufficient_stock"])
    request_id: str | None = None
    errors: list[FieldError] | None = None


_NOT_MODIFIED = {"description": "Not modified: the `If-None-Match` ETag is still current"}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route decorator documenting its other answers: each error status
    as `application/problem+json` with the `Problem` schema, and 304 (an ETag-validated
    read) as "Not modified": `@router.get("/notes/{note_id}",
    responses=problem_responses(304, 404, 422))`."""
    return {
        status: dict(_NOT_MODIFIED)
        if status == 304
        else {
            "description": _DESCRIPTIONS.get(status, "Error"),
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": _REF}}},
        }
        for status in statuses
    }


def _problem_only(responses: dict[str, Any]) -> None:
    for status, response in responses.items():
        if status.startswith(("4", "5")):
            response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": _REF}}}
            response.setdefault("description", _DESCRIPTIONS.get(int(status), "Error"))


def _bearer_schemes(schemes: dict[str, Any], token_url: str | None) -> None:
    """The kit's bearer scheme names the service's token endpoint for the docs' Authorize
    button, or is a plain bearer field when the service has none (API keys, external
    issuers)."""
    for scheme in schemes.values():
        password = scheme.get("flows", {}).get("password")
        if scheme.get("type") != "oauth2" or password is None:
            continue
        if token_url is None:
            scheme.clear()
            scheme.update({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
        else:
            password["tokenUrl"] = token_url


def _policies(dependant: Dependant) -> list[RateLimitPolicy]:
    """The rate-limit policies among a route's dependencies, however deep."""
    found: list[RateLimitPolicy] = list(getattr(dependant.call, POLICIES_ATTRIBUTE, ()))
    for sub in dependant.dependencies:
        found += _policies(sub)
    return found


def _rate_limit_answers(routers: Sequence[APIRouter], paths: dict[str, Any]) -> None:
    """429 on every operation behind `rate_limit(...)`, and 503 when one of its policies
    fails closed. Read from the service's routers (whose routes carry their router's
    dependencies), not the app's: FastAPI includes routers lazily."""
    for route in (route for router in routers for route in router.routes):
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        policies = _policies(route.dependant)
        if not policies:
            continue
        statuses = [429]
        if any(p.on_failure is OnFailure.CLOSED and not p.local for p in policies):
            statuses.append(503)
        for method in route.methods or ():
            operation = paths.get(route.path_format, {}).get(method.lower())
            if operation is not None:
                responses = operation.setdefault("responses", {})
                for status, answer in problem_responses(*statuses).items():
                    responses.setdefault(str(status), answer)


def install_openapi(
    app: FastAPI, *, token_url: str | None = None, routers: Sequence[APIRouter] = ()
) -> None:
    """`routers`: the service's, whose rate-limited operations get their 429 documented."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        _rate_limit_answers(routers, schema.get("paths", {}))
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                _problem_only(operation.get("responses", {}))
        _bearer_schemes(schema.get("components", {}).get("securitySchemes", {}), token_url)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(problem_schema.pop("$defs", {}))
        components["Problem"] = problem_schema
        app.openapi_schema = schema
        return schema

    setattr(app, "openapi", build)  # noqa: B010  # FastAPI's documented override point
