"""Accounts HTTP routes: registration, tokens (JSON and the OAuth2 form), refresh, logout
(one session or everywhere), me, password changes, and disabling accounts (platform admins)."""

from fastapi import APIRouter, status

from apiforge.kit import PathId, UserPrincipal, problem_responses, rate_limit
from apiforge.shop.accounts.dependencies import Accounts, CurrentUser, PasswordForm
from apiforge.shop.accounts.schemas import (
    LoginRequest,
    PasswordChange,
    RefreshRequest,
    TokenPair,
    UserAdminRead,
    UserCreate,
    UserRead,
    UserRecord,
    UserStatusUpdate,
)
from apiforge.shop.permissions import UserManager
from apiforge.shop.ratelimits import PASSWORD, REFRESH, REGISTER, REQUESTS, WRITES

router = APIRouter(prefix="/api", tags=["accounts"])


@router.post(
    "/auth/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses=problem_responses(409, 422),
    dependencies=[rate_limit(REGISTER)],
)
async def register_user(body: UserCreate, accounts: Accounts) -> UserRecord:
    """Create a customer account. Sign in afterwards with `/api/auth/login`."""
    return await accounts.register(body)


# Counted by the service (per account + address, a success forgets it): see ratelimits.py.
@router.post("/auth/login", responses=problem_responses(401, 422, 429))
async def login(body: LoginRequest, accounts: Accounts) -> TokenPair:
    """Exchange email and password for an access token and a refresh token."""
    return await accounts.login(body)


@router.post("/auth/token", responses=problem_responses(401, 422, 429))
async def issue_token(credentials: PasswordForm, accounts: Accounts) -> TokenPair:
    """The OAuth2 password flow (form fields `username` = email, `password`), for Swagger's
    Authorize button and OAuth2 clients."""
    return await accounts.login(credentials)


@router.post(
    "/auth/refresh", responses=problem_responses(401, 422), dependencies=[rate_limit(REFRESH)]
)
async def refresh_tokens(body: RefreshRequest, accounts: Accounts) -> TokenPair:
    """Rotate a refresh token: the presented one is revoked and a new pair issued. Presenting
    a revoked token again revokes every token descended from the same login."""
    return await accounts.refresh(body.refresh_token)


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(422),
    dependencies=[rate_limit(REFRESH)],
)
async def logout(body: RefreshRequest, accounts: Accounts) -> None:
    """Revoke the refresh token's whole family. Idempotent: an unknown or already revoked
    token also answers 204. The access token stays valid until it expires (at most 15
    minutes); `/api/auth/logout-all` ends those too."""
    await accounts.logout(body.refresh_token)


@router.post(
    "/auth/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403),
    dependencies=[rate_limit(WRITES)],
)
async def logout_everywhere(principal: UserPrincipal, accounts: Accounts) -> None:
    """End every session of the signed-in user: every refresh token is revoked and every
    access token issued so far is refused, in every worker within seconds."""
    await accounts.logout_all(principal.id)


@router.post(
    "/users/me/password",
    responses=problem_responses(401, 403, 422),
    dependencies=[rate_limit(PASSWORD)],
)
async def change_password(
    body: PasswordChange, principal: UserPrincipal, accounts: Accounts
) -> TokenPair:
    """Change the password (the current one is required). Every session ends, this one
    included: continue with the token pair returned."""
    return await accounts.change_password(principal.id, body)


@router.patch(
    "/admin/users/{user_id}",
    response_model=UserAdminRead,
    responses=problem_responses(401, 403, 404, 422),
    dependencies=[rate_limit(WRITES)],
)
async def update_user_status(
    user_id: PathId, body: UserStatusUpdate, _admin: UserManager, accounts: Accounts
) -> UserRecord:
    """Disable or enable an account (platform admins). A disabled user's tokens are refused
    at once and it cannot sign in; its sessions end either way."""
    return await accounts.set_active(user_id, body.is_active)


@router.get(
    "/users/me",
    response_model=UserRead,
    responses=problem_responses(401, 403),
    dependencies=[rate_limit(REQUESTS)],
)
async def read_me(user: CurrentUser) -> UserRecord:
    """The signed-in user."""
    return user
