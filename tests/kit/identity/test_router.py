"""`GET /.well-known/jwks.json`: with EdDSA or ES256 it publishes exactly the public keys
(no private member), cacheable; under HS256 it does not exist. And the claim behind it: another
service, holding nothing but the published JWKS, verifies the app's tokens over real HTTP."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import jwt
import pytest
import uvicorn
from fastapi import FastAPI

from apiforge.kit import Principal, app_state
from apiforge.kit.auth.signing import SigningKeys
from tests.kit.apps import kit_app, serve
from tests.kit.auth.keys import Asymmetric, asymmetric_auth, new_pem

JWKS = "/.well-known/jwks.json"
SECRET = "s" * 40
# Public members only (RFC 7518 section 6): a private one (d, p, q, ...) would be a leak.
PUBLIC_MEMBERS = {"kty", "crv", "x", "y", "kid", "alg", "use"}
ALICE = Principal(subject="7", role="customer")


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256"])
async def test_the_jwks_publishes_exactly_the_public_keys(
    sqlite_url: str, algorithm: Asymmetric
) -> None:
    pems = (new_pem(algorithm), new_pem(algorithm))
    expected = SigningKeys.from_settings(asymmetric_auth(algorithm, *pems), SECRET)
    app = kit_app(sqlite_url, auth=asymmetric_auth(algorithm, *pems))
    async with serve(app) as client:
        response = await client.get(JWKS)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "public, max-age=300"
    published = response.json()
    assert set(published) == {"keys"}
    assert [jwk["kid"] for jwk in published["keys"]] == list(expected.by_kid)
    for jwk in published["keys"]:
        assert set(jwk) <= PUBLIC_MEMBERS, jwk
        assert jwk == expected.by_kid[jwk["kid"]].public_jwk
    for pem in pems:  # no trace of the private key, in any form
        body = pem.split("-----")[2].replace("\n", "")
        assert body[-20:] not in response.text


async def test_under_hs256_there_is_no_jwks(sqlite_url: str) -> None:
    app = kit_app(sqlite_url)
    async with serve(app) as client:
        response = await client.get(JWKS)
        document = (await client.get("/openapi.json")).json()
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert JWKS not in document["paths"]


@asynccontextmanager
async def real_server(app: FastAPI) -> AsyncIterator[str]:
    """`app` served by uvicorn on a free loopback port, in this loop; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 (uvicorn exposes a flag, not an event)
                await asyncio.sleep(0.01)
        (port,) = [s.getsockname()[1] for srv in server.servers for s in srv.sockets]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256"])
async def test_another_service_verifies_tokens_with_the_jwks_alone(
    sqlite_url: str, algorithm: Asymmetric
) -> None:
    auth = asymmetric_auth(algorithm, new_pem(algorithm))
    app = kit_app(sqlite_url, auth=auth)
    async with real_server(app) as base_url:
        token = app_state(app).tokens.issue(ALICE).token
        # PyJWT's client: urllib, blocking, so in a thread while this loop serves the app.
        client = jwt.PyJWKClient(base_url + JWKS, cache_keys=False, timeout=5)
        key = await asyncio.to_thread(client.get_signing_key_from_jwt, token)
    # What the other service checks: the signature with the published key, and the claims
    # it was told to expect (apiforge's issuer and audience, by default the service's name).
    claims = jwt.decode(
        token, key, algorithms=[algorithm], audience="apiforge-api", issuer="apiforge"
    )
    assert (claims["sub"], claims["typ"], claims["role"]) == ("7", "access", "customer")

    impostor = SigningKeys.from_settings(asymmetric_auth(algorithm, new_pem(algorithm)), SECRET)
    assert impostor.signing is not None
    forged = jwt.encode(
        {**claims, "role": "admin"},
        impostor.signing.private,
        algorithm=algorithm,
        headers={"kid": jwt.get_unverified_header(token)["kid"]},
    )
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, key, algorithms=[algorithm], audience="apiforge-api")
