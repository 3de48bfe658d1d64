"""Accounts errors, each with a stable code. Authentication failures share the `auth.` prefix
with the kit's token errors, so a client handles every 401 the same way."""

from apiforge.kit import (
    ConflictError,
    InvalidTokenError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
)


class EmailTakenError(ConflictError):
    code = "accounts.email_taken"


class InvalidCredentialsError(UnauthenticatedError):
    """Wrong password, unknown email and disabled account alike: one answer, so a login
    attempt reveals nothing about which accounts exist."""

    code = "auth.invalid_credentials"


class InvalidRefreshTokenError(InvalidTokenError):
    """An unknown, expired or revoked refresh token (or an access token sent instead):
    answered as any invalid token, so a refresh reveals nothing about the token it got."""


class RefreshTokenReusedError(InvalidTokenError):
    """A revoked refresh token came back: the token was copied, so its whole family is
    revoked (the service marks its session `commit_on_error`: the revocation is committed
    although the request answers 401). Answered as any invalid token; the log says which."""


class AccountUnavailableError(InvalidTokenError):
    """A valid access token whose user has since been deleted or disabled: answered as any
    invalid token (the kit refuses such tokens first; this is the same answer if a request
    races the change)."""


class WrongPasswordError(PermissionDeniedError):
    """A signed-in user's re-authentication failed (the current password, to change it):
    403, not 401, since the token itself is fine."""

    code = "accounts.wrong_password"


class UserNotFoundError(NotFoundError):
    code = "accounts.user_not_found"
