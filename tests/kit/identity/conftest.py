"""Identity fixtures: an identity provider serving its JWKS on loopback, and the kit's
outbound HTTP client (timeouts and all) to fetch it with."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from apiforge.kit.http_client import build_http_client
from tests.kit.identity.jwks_server import IdentityProvider, identity_provider


@pytest.fixture
def idp() -> Iterator[IdentityProvider]:
    with identity_provider() as provider:
        yield provider


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with build_http_client() as client:
        yield client
