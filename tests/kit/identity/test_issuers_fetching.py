"""How external issuers' keys are fetched, counted at a real loopback JWKS server: once, then
only for a new `kid` (rotation), at most once per `auth.jwks_min_refresh_seconds`, one fetch
for concurrent tokens; and an issuer that is down, hangs or answers no JWKS is a prompt 401
`auth.issuer_unavailable`, never a hang or a 500."""

import asyncio
import time
from typing import Any

import httpx
import pytest

from apiforge.kit import AuthSettings, InvalidTokenError, IssuerUnavailableError
from apiforge.kit.identity.issuers import ExternalIssuers
from tests.kit.identity.jwks_server import (
    Answer,
    IdentityProvider,
    closed_url,
    hanging_url,
    issuer_settings,
    trickling_url,
    verify,
)

TIMEOUT = 0.5
# Generous against a loaded two-core machine; the point is "seconds, not forever".
PROMPTLY = TIMEOUT + 3.0


def external(
    http: httpx.AsyncClient, idp: IdentityProvider, *, interval: float = 60.0, **issuer: Any
) -> ExternalIssuers:
    settings = AuthSettings(
        external_issuers=[issuer_settings(idp, **issuer)],
        jwks_timeout_seconds=TIMEOUT,
        jwks_min_refresh_seconds=interval,
    )
    return ExternalIssuers(settings, http)


async def test_keys_are_fetched_once_and_cached(
    idp: IdentityProvider, http: httpx.AsyncClient
) -> None:
    kid = idp.add_key("RS256")
    issuers = external(http, idp)
    for _ in range(5):
        await verify(issuers, idp.token(kid))
    assert idp.hits == 1


async def test_a_rotated_in_key_is_fetched_on_first_sight(
    idp: IdentityProvider, http: httpx.AsyncClient
) -> None:
    old = idp.add_key("ES256")
    issuers = external(http, idp, interval=0)
    await verify(issuers, idp.token(old))
    new = idp.add_key("EdDSA")  # the issuer publishes a new key and signs with it
    assert (await verify(issuers, idp.token(new, sub="after")))["sub"] == "after"
    assert idp.hits == 2
    await verify(issuers, idp.token(old))  # still published: still good, no fetch
    idp.publish(new)  # the old key retired at the issuer
    unknown = idp.add_key("EdDSA", publish=False)
    with pytest.raises(InvalidTokenError):
        await verify(issuers, idp.token(unknown))  # a fetch, which drops the old key
    assert idp.hits == 3
    with pytest.raises(InvalidTokenError):
        await verify(issuers, idp.token(old))


async def test_unknown_kids_fetch_at_most_once_per_interval(
    idp: IdentityProvider, http: httpx.AsyncClient
) -> None:
    kid = idp.add_key("RS256")
    forger = idp.add_key("RS256", publish=False)
    issuers = external(http, idp, interval=60)
    await verify(issuers, idp.token(kid))
    for n in range(20):  # a flood of tokens with made-up kids
        with pytest.raises(InvalidTokenError) as refused:
            await verify(issuers, idp.token(forger, headers={"kid": f"made-up-{n}"}))
        assert refused.value.reason == "unknown external kid"
    assert idp.hits == 1  # fetched within the interval: not again


async def test_after_the_interval_an_unknown_kid_fetches_again(
    idp: IdentityProvider, http: httpx.AsyncClient
) -> None:
    interval = 0.3
    kid = idp.add_key("RS256")
    issuers = external(http, idp, interval=interval)
    await verify(issuers, idp.token(kid))
    late = idp.add_key("RS256")
    await asyncio.sleep(interval + 0.1)
    assert (await verify(issuers, idp.token(late)))["sub"] == "user-1"
    assert idp.hits == 2


@pytest.mark.parametrize("interval", [60.0, 0.0])
async def test_concurrent_first_sights_share_one_fetch(
    idp: IdentityProvider, http: httpx.AsyncClient, interval: float
) -> None:
    kid = idp.add_key("EdDSA")
    issuers = external(http, idp, interval=interval)
    claims = await asyncio.gather(*(verify(issuers, idp.token(kid)) for _ in range(10)))
    assert len(claims) == 10
    assert idp.hits == 1


async def _unavailable(issuers: ExternalIssuers, token: str) -> float:
    """Seconds until the refusal, which must be `IssuerUnavailableError`."""
    started = time.monotonic()
    async with asyncio.timeout(PROMPTLY * 3):  # a hang fails the test, it does not stall it
        with pytest.raises(IssuerUnavailableError) as refused:
            await verify(issuers, token)
    assert refused.value.code == "auth.issuer_unavailable"
    assert refused.value.status == 401
    return time.monotonic() - started


async def test_an_issuer_that_is_down(idp: IdentityProvider, http: httpx.AsyncClient) -> None:
    kid = idp.add_key("RS256")
    issuers = external(http, idp, jwks_url=closed_url())
    assert await _unavailable(issuers, idp.token(kid)) < PROMPTLY
    # Within the interval no new fetch, and the answer stays the clear one.
    assert await _unavailable(issuers, idp.token(kid)) < PROMPTLY


async def test_an_issuer_that_accepts_and_never_answers(
    idp: IdentityProvider, http: httpx.AsyncClient
) -> None:
    kid = idp.add_key("RS256")
    with hanging_url() as url:
        issuers = external(http, idp, jwks_url=url)
        elapsed = await _unavailable(issuers, idp.token(kid))
        assert TIMEOUT * 0.9 <= elapsed < PROMPTLY
        assert await _unavailable(issuers, idp.token(kid)) < TIMEOUT  # no second wait


async def test_keys_already_fetched_outlive_an_outage(
    idp: IdentityProvider, http: httpx.AsyncClient
) -> None:
    kid = idp.add_key("ES256")
    issuers = external(http, idp, interval=0)
    await verify(issuers, idp.token(kid))
    idp.answer(Answer(status=503))
    new = idp.add_key("ES256", publish=False)
    # The issuer is down: a new kid cannot be checked (a clear 401), the known one still is.
    await _unavailable(issuers, idp.token(new))
    assert (await verify(issuers, idp.token(kid, sub="still")))["sub"] == "still"


async def test_an_issuer_that_answers_a_byte_at_a_time(
    idp: IdentityProvider, http: httpx.AsyncClient
) -> None:
    """Every read gets a byte well within the timeout, so only a deadline on the whole fetch
    ends it: `auth.jwks_timeout_seconds` bounds the fetch, not each read."""
    kid = idp.add_key("RS256")
    with trickling_url(every_seconds=TIMEOUT / 5) as url:
        issuers = external(http, idp, jwks_url=url)
        assert await _unavailable(issuers, idp.token(kid)) < PROMPTLY


@pytest.mark.parametrize("interval", [60.0, 0.0])
async def test_concurrent_requests_to_a_hanging_issuer_wait_once(
    idp: IdentityProvider, http: httpx.AsyncClient, interval: float
) -> None:
    """They queue for the one fetch; those that waited through it take its outcome rather
    than each waiting for a fetch of their own (8 in a row would be 8 timeouts)."""
    kid = idp.add_key("RS256")
    with hanging_url() as url:
        issuers = external(http, idp, jwks_url=url, interval=interval)
        started = time.monotonic()
        await asyncio.gather(*(_unavailable(issuers, idp.token(kid)) for _ in range(8)))
        elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT * 4, elapsed


@pytest.mark.parametrize(
    "answer",
    [
        Answer(status=500),
        Answer(status=404),
        Answer(status=302),
        Answer(raw=b"<html>maintenance</html>"),
        Answer(raw=b"[1, 2]"),
        Answer(raw=b'{"no": "keys"}'),
        Answer(raw=b'{"keys": 5}'),
        Answer(raw=b'{"keys": {"a": 1}}'),
        Answer(raw=b"\xff\xfe"),
    ],
    ids=lambda answer: f"{answer.status} {answer.raw!r}",
)
async def test_an_answer_that_is_no_jwks(
    idp: IdentityProvider, http: httpx.AsyncClient, answer: Answer
) -> None:
    kid = idp.add_key("RS256")
    idp.answer(answer)
    assert await _unavailable(external(http, idp), idp.token(kid)) < PROMPTLY


async def test_junk_beside_a_good_key_is_skipped(
    idp: IdentityProvider, http: httpx.AsyncClient
) -> None:
    kid = idp.add_key("EdDSA")
    junk: list[object] = [1, "two", None, [], {"kid": 3}, {"kid": "x", "kty": "RSA", "n": 1}]
    idp.answer(Answer({"keys": [*junk, idp.public_jwk(kid), {"kid": "y", "use": "enc"}]}))
    assert (await verify(external(http, idp), idp.token(kid, sub="kept")))["sub"] == "kept"
