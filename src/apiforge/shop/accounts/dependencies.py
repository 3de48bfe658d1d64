"""FastAPI wiring for accounts: the service per request, the signed-in user, the OAuth2 form."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import ValidationError

from apiforge.kit.auth.dependencies import CurrentPrincipal
from apiforge.kit.db.session import DbSession
from apiforge.kit.errors import ValidationFailedError
from apiforge.kit.lifespan import app_state
from apiforge.shop.accounts.schemas import LoginRequest, UserRecord
from apiforge.shop.accounts.service import AccountsService


async def accounts_service(request: Request, session: DbSession) -> AccountsService:
    state = app_state(request.app)
    return AccountsService(
        session, passwords=state.passwords, tokens=state.tokens, settings=state.settings.auth
    )


Accounts = Annotated[AccountsService, Depends(accounts_service)]


async def current_user(principal: CurrentPrincipal, accounts: Accounts) -> UserRecord:
    return await accounts.current_user(principal)


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
        raise ValidationFailedError(
            "The request is not valid; see `errors` for each field.", errors=errors
        ) from exc


PasswordForm = Annotated[LoginRequest, Depends(password_form)]
