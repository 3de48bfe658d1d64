"""FastAPI wiring for accounts: the service per request, the signed-in user, the OAuth2 form."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import (
    ReadSession,
    RequestThrottle,
    Throttle,
    UserPrincipal,
    ValidationFailedError,
    WriteSession,
    app_state,
)
from apiforge.shop.accounts.schemas import LoginRequest, UserRecord
from apiforge.shop.accounts.service import AccountsService


def _accounts(
    request: Request, session: AsyncSession, throttle: Throttle | None = None
) -> AccountsService:
    state = app_state(request.app)
    return AccountsService(
        session,
        passwords=state.passwords,
        tokens=state.tokens,
        settings=state.settings.auth,
        identity=state.identity,
        throttle=throttle,
    )


async def accounts_service(
    request: Request, session: WriteSession, throttle: RequestThrottle
) -> AccountsService:
    return _accounts(request, session, throttle)


Accounts = Annotated[AccountsService, Depends(accounts_service)]


async def current_user(
    request: Request, principal: UserPrincipal, session: ReadSession
) -> UserRecord:
    return await _accounts(request, session).current_user(principal)


CurrentUser = Annotated[UserRecord, Depends(current_user)]

_FORM_FIELDS = {"email": "username", "password": "password"}


async def password_form(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> LoginRequest:
    """The OAuth2 password form as a `LoginRequest`, checked by the same rules as the JSON
    login (the form's own fields are unconstrained strings: NUL bytes, any length)."""
    try:
        return LoginRequest(email=form.username, password=form.password)
    except ValidationError as exc:
        errors = [
            {
                "loc": ["body", *(_FORM_FIELDS.get(str(p), str(p)) for p in err["loc"])],
                "msg": err["msg"],
                "type": err["type"],
            }
            for err in exc.errors()
        ]
        raise ValidationFailedError(ValidationFailedError.FIELDS_DETAIL, errors=errors) from exc


PasswordForm = Annotated[LoginRequest, Depends(password_form)]
