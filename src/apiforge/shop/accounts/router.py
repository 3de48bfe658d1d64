"""Accounts HTTP routes: registration, tokens (JSON and the OAuth2 form), refresh, logout, me."""

from fastapi import APIRouter, status

from apiforge.kit import problem_responses
from apiforge.shop.accounts.dependencies import Accounts, CurrentUser, PasswordForm
from apiforge.shop.accounts.schemas import (
    LoginRequest,
    RefreshRequest,
    TokenPair,
    UserCreate,
    UserRead,
    UserRecord,
)

router = APIRouter(prefix="/api", tags=["accounts"])


@router.post(
    "/auth/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses=problem_responses(409, 422),
)
async def register_user(body: UserCreate, accounts: Accounts) -> UserRecord:
    """Create a customer account. Sign in afterwards with `/api/auth/login`."""
    return await accounts.register(body)


@router.post("/auth/login", responses=problem_responses(401, 422))
async def login(body: LoginRequest, accounts: Accounts) -> TokenPair:
    """Exchange email and password for an access token and a refresh token."""
    return await accounts.login(body)


@router.post("/auth/token", responses=problem_responses(401, 422))
async def issue_token(credentials: PasswordForm, accounts: Accounts) -> TokenPair:
    """The OAuth2 password flow (form fields `username` = email, `password`), for Swagger's
    Authorize button and OAuth2 clients."""
    return await accounts.login(credentials)


@router.post("/auth/refresh", responses=problem_responses(401, 422))
async def refresh_tokens(body: RefreshRequest, accounts: Accounts) -> TokenPair:
    """Rotate a refresh token: the presented one is revoked and a new pair issued. Presenting
    a revoked token again revokes every token descended from the same login."""
    return await accounts.refresh(body.refresh_token)


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(422),
)
async def logout(body: RefreshRequest, accounts: Accounts) -> None:
    """Revoke the refresh token's whole family. Idempotent: an unknown or already revoked
    token also answers 204. Access tokens are short-lived and stay valid until they expire."""
    await accounts.logout(body.refresh_token)


@router.get("/users/me", response_model=UserRead, responses=problem_responses(401))
async def read_me(user: CurrentUser) -> UserRecord:
    """The signed-in user."""
    return user
