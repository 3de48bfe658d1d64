"""FastAPI dependencies that turn a bearer token into a `Principal` and check roles.
Token checks read no database: the claims carry what authorization needs."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from apiforge.kit.auth.principal import Principal
from apiforge.kit.errors import PermissionDeniedError, UnauthenticatedError
from apiforge.kit.lifespan import app_state

# auto_error=False: a missing token is our UnauthenticatedError (problem+json), not FastAPI's.
bearer_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


async def current_principal(
    request: Request, token: Annotated[str | None, Depends(bearer_scheme)]
) -> Principal:
    if not token:
        raise UnauthenticatedError("Authentication required: send `Authorization: Bearer <token>`.")
    principal = app_state(request.app).tokens.verify(token)
    # For the access log line (read from the ASGI scope, after the response).
    request.scope.setdefault("state", {})["user_id"] = principal.subject
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    allowed = frozenset(roles)

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise PermissionDeniedError("Your role does not allow this action.")
        return principal

    return check
