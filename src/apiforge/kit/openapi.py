"""Makes the OpenAPI document tell the truth about errors: every error answer is
`application/problem+json` with the `Problem` shape (FastAPI's default 422 schema describes a
body we never send). Not for: generating the document (FastAPI does)."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from apiforge.kit.problems import PROBLEM_CONTENT_TYPE

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


def install_openapi(app: FastAPI, *, token_url: str | None = None) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
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
