"""Accounts errors, each with a stable code. Authentication failures share the `auth.` prefix
with the kit's token errors, so a client handles every 401 the same way."""

from apiforge.kit import ConflictError, UnauthenticatedError


class EmailTakenError(ConflictError):
    code = "accounts.email_taken"


class InvalidCredentialsError(UnauthenticatedError):
    """Wrong password, unknown email and disabled account alike: one answer, so a login
    attempt reveals nothing about which accounts exist."""

    code = "auth.invalid_credentials"


class InvalidRefreshTokenError(UnauthenticatedError):
    code = "auth.invalid_refresh_token"


class RefreshTokenReusedError(UnauthenticatedError):
    """A revoked refresh token came back: the token was copied, so its whole family is
    revoked (the service marks its session `commit_on_error`: the revocation is committed
    although the request answers 401)."""

    code = "auth.refresh_token_reused"


class AccountUnavailableError(UnauthenticatedError):
    """A valid access token whose user has since been deleted or disabled."""

    code = "auth.account_unavailable"
