"""An organization's API keys over HTTP: create (the key is shown once), list, revoke."""

from fastapi import APIRouter, status

from apiforge.kit import PathId, problem_responses, rate_limit
from apiforge.shop.api_keys.dependencies import ApiKeyReads, ApiKeyWrites
from apiforge.shop.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from apiforge.shop.ratelimits import AUTHENTICATED, WRITES
from apiforge.shop.tenancy import ApiKeysManager

router = APIRouter(
    prefix="/api/organizations/{org_id}/api-keys",
    tags=["api keys"],
    dependencies=[rate_limit(*AUTHENTICATED)],
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 422),
    dependencies=[rate_limit(WRITES)],
)
async def create_api_key(
    body: ApiKeyCreate, access: ApiKeysManager, keys: ApiKeyWrites
) -> ApiKeyCreated:
    """Create a key acting for the organization with the given scopes (`orders:read`,
    `orders:write`, `members:read`; never beyond your role) and an optional expiry. The
    answer's `key` is the only time the key is shown: send it as `X-API-Key` (or as a bearer
    token)."""
    return await keys.create(access, body)


@router.get("", responses=problem_responses(401, 403, 404, 422))
async def list_api_keys(access: ApiKeysManager, keys: ApiKeyReads) -> list[ApiKeyRead]:
    """The organization's keys: name, prefix, scopes, created, last used, expiry (the secret
    is never stored, so it is never shown)."""
    return await keys.list(access)


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422),
    dependencies=[rate_limit(WRITES)],
)
async def revoke_api_key(key_id: PathId, access: ApiKeysManager, keys: ApiKeyWrites) -> None:
    """Revoke a key: refused by every worker within seconds. Revoking twice is a 204."""
    await keys.revoke(access, key_id)
