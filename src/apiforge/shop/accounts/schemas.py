"""Accounts wire formats (pydantic) and the plain records the repository hands the service."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, StringConstraints

from apiforge.kit import SafeStr, ShortText

# Stored lowercase so that the unique constraint is case-insensitive on both databases.
Email = Annotated[EmailStr, AfterValidator(str.lower)]
# Upper bound: argon2 hashes any length, so an unbounded password is a CPU-cost lever.
Password = Annotated[SafeStr, StringConstraints(min_length=8, max_length=128)]
# Login accepts any text an address could be; a malformed one is simply not found (401).
LoginEmail = Annotated[
    SafeStr, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=320)
]
LoginPassword = Annotated[SafeStr, StringConstraints(min_length=1, max_length=128)]
# new_refresh_token() makes 43 characters; the slack keeps the bound a sanity check only.
OpaqueToken = Annotated[SafeStr, StringConstraints(min_length=1, max_length=256)]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password
    full_name: ShortText | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    full_name: str | None
    role: str
    created_at: datetime


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: LoginEmail
    password: LoginPassword


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: OpaqueToken


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105  # the OAuth2 token type, not a secret
    expires_in: int


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    email: str
    full_name: str | None
    role: str
    is_active: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LoginCandidate:
    """What a login, a re-authentication or a token check needs of a user, and nothing
    more."""

    id: int
    role: str
    is_active: bool
    password_hash: str
    token_generation: int


@dataclass(frozen=True, slots=True)
class LockedRefreshToken:
    """A stored refresh token, locked for this transaction, with its owner's current state."""

    id: int
    user_id: int
    family_id: str
    expires_at: datetime
    revoked_at: datetime | None
    role: str
    is_active: bool
    token_generation: int


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: LoginPassword
    new_password: Password


class UserStatusUpdate(BaseModel):
    """What a platform admin may change on an account: whether it may sign in."""

    model_config = ConfigDict(extra="forbid")

    is_active: bool


class UserAdminRead(UserRead):
    is_active: bool
