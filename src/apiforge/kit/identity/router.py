"""`GET /.well-known/jwks.json`: the public keys the service's access tokens are signed with
(RFC 7517), so other services verify them without its secret. Installed by `create_app` when
tokens are signed with EdDSA or ES256 (an HMAC secret is never published)."""

from typing import Any

from fastapi import APIRouter, Request, Response

from apiforge.kit.state import app_state

jwks_router = APIRouter(tags=["auth"])
JWKS_PATH = "/.well-known/jwks.json"


@jwks_router.get(JWKS_PATH, summary="The public keys of this service's access tokens")
async def read_jwks(request: Request, response: Response) -> dict[str, Any]:
    # Short enough that a rotated-in key is seen well within an access token's lifetime.
    response.headers["Cache-Control"] = "public, max-age=300"
    return app_state(request.app).tokens.keys.jwks()
