"""FastAPI dependencies that turn a request's credential (`Authorization: Bearer <token>`,
`Authorization: Bearer afk_...` or `X-API-Key: afk_...`) into a `Principal` and check roles
and scopes. No database query: the credential and the cached lookups carry what
authorization needs."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from apiforge.kit.auth.principal import Principal
from apiforge.kit.errors import PermissionDeniedError, UnauthenticatedError
from apiforge.kit.state import app_state

# auto_error=False: a missing credential is our UnauthenticatedError (problem+json), not
# FastAPI's. The token URL in the OpenAPI document is the service's (`settings.auth.token_url`,
# set by kit.openapi); this placeholder never reaches a client.
bearer_scheme = OAuth2PasswordBearer(tokenUrl="token", auto_error=False)
API_KEY_HEADER = "X-API-Key"
api_key_scheme = APIKeyHeader(
    name=API_KEY_HEADER,
    scheme_name="ApiKey",
    auto_error=False,
    description="An organization's API key (`afk_...`); also accepted as a bearer token.",
)


async def current_principal(
    request: Request,
    token: Annotated[str | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """The dependency behind `CurrentPrincipal`."""
    if not token and not api_key:
        raise UnauthenticatedError(
            "Authentication required: send `Authorization: Bearer <token>` or `X-API-Key`."
        )
    identity = app_state(request.app).identity
    principal = await identity.authenticate(bearer=token or None, api_key=api_key or None)
    # For the access log line (read from the ASGI scope, after the response).
    request.scope.setdefault("state", {})["user_id"] = principal.subject
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
CurrentPrincipal.__doc__ = """The caller, proven by a bearer access token, an API key
(`X-API-Key` or `Authorization: Bearer afk_...`) or a token of a trusted external issuer: a
`Principal`, resolved without a database query. A missing credential answers 401
`auth.unauthenticated`; a bad one (forged, expired, revoked, unknown) 401
`auth.invalid_token`, the same answer whatever was wrong."""


async def user_principal(principal: CurrentPrincipal) -> Principal:
    """The dependency behind `UserPrincipal`."""
    if principal.is_api_key:
        raise PermissionDeniedError(
            "API keys act for an organization; this route needs a signed-in user."
        )
    return principal


UserPrincipal = Annotated[Principal, Depends(user_principal)]
UserPrincipal.__doc__ = """A signed-in user (a token of ours or of a trusted issuer): an API
key answers 403, since it acts for a tenant, not for a person."""


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency letting through only users whose platform role is one of `roles` (403
    otherwise, API keys included): `Annotated[Principal, Depends(require_roles("admin"))]`."""
    allowed = frozenset(roles)

    async def check(principal: UserPrincipal) -> Principal:
        if principal.role not in allowed:
            raise PermissionDeniedError("Your role does not allow this action.")
        return principal

    return check


def require_scopes(*scopes: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency letting through principals whose credential allows every one of
    `scopes`: users always (roles decide for them), API keys only with those scopes."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not all(principal.has_scope(scope) for scope in scopes):
            raise PermissionDeniedError("This API key lacks the scope this action needs.")
        return principal

    return check
