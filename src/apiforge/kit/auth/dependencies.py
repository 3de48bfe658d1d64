"""FastAPI dependencies that turn a bearer token into a `Principal` and check roles.
Token checks read no database: the claims carry what authorization needs."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from apiforge.kit.auth.principal import Principal
from apiforge.kit.errors import PermissionDeniedError, UnauthenticatedError
from apiforge.kit.state import app_state

# auto_error=False: a missing token is our UnauthenticatedError (problem+json), not FastAPI's.
# The token URL in the OpenAPI document is the service's (`settings.auth.token_url`, set by
# kit.openapi); this placeholder never reaches a client.
bearer_scheme = OAuth2PasswordBearer(tokenUrl="token", auto_error=False)


async def current_principal(
    request: Request, token: Annotated[str | None, Depends(bearer_scheme)]
) -> Principal:
    """The dependency behind `CurrentPrincipal`."""
    if not token:
        raise UnauthenticatedError("Authentication required: send `Authorization: Bearer <token>`.")
    principal = app_state(request.app).tokens.verify(token)
    # For the access log line (read from the ASGI scope, after the response).
    request.scope.setdefault("state", {})["user_id"] = principal.subject
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
CurrentPrincipal.__doc__ = """The caller, proven by a bearer access token (`Authorization:
Bearer <token>`): a `Principal` with `subject`, `role` and `scopes`, read from the token's
claims without a database query. A missing, expired or invalid token answers 401."""


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency letting through only principals whose role is one of `roles` (403
    otherwise): `Annotated[Principal, Depends(require_roles("admin"))]`."""
    allowed = frozenset(roles)

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise PermissionDeniedError("Your role does not allow this action.")
        return principal

    return check
