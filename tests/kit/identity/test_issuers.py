"""External issuers' tokens, verified against a JWKS a real loopback server publishes: RS256,
ES256 and EdDSA accepted; `none`, HMAC (even keyed with the published public key) and
algorithms the issuer is not configured for refused; iss, aud, exp and sub required; the role
taken only from the issuer's configured roles. Fetching (rotation, the refresh interval, an
issuer down or hanging) is in test_issuers_fetching.py."""

import base64
import hashlib
import hmac
import time
from typing import Any

import httpx
import orjson
import pytest

from apiforge.kit import AuthSettings, ExpiredTokenError, ExternalIssuerSettings, InvalidTokenError
from apiforge.kit.identity.issuers import ExternalIssuers, role_from
from tests.kit.auth.keys import public_pem_of
from tests.kit.identity.jwks_server import ALL, Answer, IdentityProvider, issuer_settings, verify


def external(
    http: httpx.AsyncClient, *issuers: ExternalIssuerSettings, **auth: Any
) -> ExternalIssuers:
    settings = AuthSettings(external_issuers=list(issuers), jwks_timeout_seconds=1.0, **auth)
    return ExternalIssuers(settings, http)


async def refused(issuers: ExternalIssuers, token: str) -> InvalidTokenError:
    with pytest.raises(InvalidTokenError) as caught:
        await verify(issuers, token)
    assert caught.value.code == "auth.invalid_token"
    return caught.value


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_signed(alg: str, claims: dict[str, Any], kid: str, secret: bytes | None) -> str:
    header = b64(orjson.dumps({"alg": alg, "typ": "JWT", "kid": kid}))
    signing_input = f"{header}.{b64(orjson.dumps(claims))}"
    if secret is None:
        return f"{signing_input}."
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


@pytest.mark.parametrize("algorithm", ALL)
async def test_each_asymmetric_algorithm_is_accepted(
    idp: IdentityProvider, http: httpx.AsyncClient, algorithm: str
) -> None:
    kid = idp.add_key(algorithm)
    claims = await verify(external(http, issuer_settings(idp)), idp.token(kid, sub="alice"))
    assert (claims["sub"], claims["iss"], claims["email"]) == (
        "alice",
        idp.issuer,
        idp.claims()["email"],
    )
    assert idp.hits == 1


def test_only_tokens_naming_a_configured_issuer_are_matched(
    idp: IdentityProvider, http: httpx.AsyncClient
) -> None:
    issuers = external(http, issuer_settings(idp))
    kid = idp.add_key("RS256")
    assert issuers.match(idp.token(kid)) is not None
    assert issuers.match(idp.token(kid, iss="https://other.test")) is None
    assert issuers.match(idp.token(kid, iss=None)) is None
    for garbage in ("", "a.b.c", "not a token", "x" * 5000):
        assert issuers.match(garbage) is None
    assert not external(http)
    assert external(http).match(idp.token(kid)) is None


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_unsigned_tokens_are_refused(
    idp: IdentityProvider, http: httpx.AsyncClient, alg: str
) -> None:
    kid = idp.add_key("RS256")
    token = hand_signed(alg, idp.claims(), kid, None)
    assert (await refused(external(http, issuer_settings(idp)), token)).reason.startswith(
        "external"
    )


@pytest.mark.parametrize("algorithm", ALL)
async def test_hmac_keyed_with_the_published_public_key_is_refused(
    idp: IdentityProvider, http: httpx.AsyncClient, algorithm: str
) -> None:
    kid = idp.add_key(algorithm)
    issuers = external(http, issuer_settings(idp))
    public_pem = public_pem_of(idp.keys[kid][1])
    for alg in ("HS256", "HS384", "HS512"):
        for secret in (public_pem, orjson.dumps(idp.public_jwk(kid))):
            error = await refused(issuers, hand_signed(alg, idp.claims(), kid, secret))
            assert error.reason == "external algorithm or header"


async def test_an_hmac_key_in_the_jwks_is_never_used(
    idp: IdentityProvider, http: httpx.AsyncClient
) -> None:
    """A JWKS that (carelessly or maliciously) lists a symmetric key: it is skipped, so a
    token signed with it is an unknown kid, whatever algorithms the issuer allows."""
    secret = b"published-shared-secret-" * 2
    idp.answer(Answer({"keys": [{"kty": "oct", "kid": "shared", "k": b64(secret)}]}))
    issuers = external(http, issuer_settings(idp))
    for alg in ("HS256", "RS256"):
        await refused(issuers, hand_signed(alg, idp.claims(), "shared", secret))


async def test_algorithms_not_configured_for_the_issuer_are_refused(
    idp: IdentityProvider, http: httpx.AsyncClient
) -> None:
    rsa_kid, ec_kid, ed_kid = idp.add_key("RS256"), idp.add_key("ES256"), idp.add_key("EdDSA")
    issuers = external(http, issuer_settings(idp, algorithms=["RS256"]))
    assert (await verify(issuers, idp.token(rsa_kid)))["sub"] == "user-1"
    for kid in (ec_kid, ed_kid):
        await refused(issuers, idp.token(kid))


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": None},
        {"aud": None},
        {"aud": "another-api"},
        {"exp": None},
        {"iat": None},
        {"sub": None},
        {"sub": ""},
        {"sub": 42},
        {"sub": ["alice"]},
        {"sub": "s" * 256},  # OpenID Connect Core 1.0 section 2: at most 255 characters
        {"sub": "nul\x00sub"},
        {"sub": "line\nbreak"},
        {"nbf": "an hour from now"},
        {"iat": "yesterday"},
    ],
    ids=repr,
)
async def test_required_and_valid_claims(
    idp: IdentityProvider, http: httpx.AsyncClient, changes: dict[str, Any]
) -> None:
    kid = idp.add_key("ES256")
    issuers = external(http, issuer_settings(idp))
    if "nbf" in changes:
        changes = {"nbf": int(time.time()) + 3600}
    token = idp.token(kid, **changes)
    if changes == {"iss": None}:
        assert issuers.match(token) is None  # not this issuer's: our own codec will refuse it
        return
    await refused(issuers, token)


async def test_expired_beyond_the_leeway_is_refused_within_it_accepted(
    idp: IdentityProvider, http: httpx.AsyncClient
) -> None:
    kid = idp.add_key("EdDSA")
    issuers = external(http, issuer_settings(idp), leeway_seconds=10)
    now = int(time.time())
    assert await verify(issuers, idp.token(kid, iat=now - 600, exp=now - 2))
    with pytest.raises(ExpiredTokenError):
        await verify(issuers, idp.token(kid, iat=now - 600, exp=now - 30))


async def test_another_key_under_a_published_kid_is_refused(
    idp: IdentityProvider, http: httpx.AsyncClient
) -> None:
    kid = idp.add_key("RS256")
    impostor = idp.add_key("RS256", publish=False)
    forged = idp.token(impostor, headers={"kid": kid})
    assert (await refused(external(http, issuer_settings(idp)), forged)).reason == (
        "InvalidSignatureError"
    )


@pytest.mark.parametrize("member", ["jku", "x5u", "jwk", "x5c"])
async def test_headers_naming_their_own_key_are_refused(
    idp: IdentityProvider, http: httpx.AsyncClient, member: str
) -> None:
    kid = idp.add_key("RS256")
    token = idp.token(kid, headers={member: "https://attacker.example/keys"})
    assert (await refused(external(http, issuer_settings(idp)), token)).reason == (
        "external algorithm or header"
    )
    assert idp.hits == 0  # refused before any fetch


async def test_a_crit_header_is_not_taken_for_an_external_token(
    idp: IdentityProvider, http: httpx.AsyncClient
) -> None:
    """PyJWT refuses unknown critical extensions even unverified: such a token matches no
    issuer, and the service's own codec refuses it (kit.auth.tokens.FORBIDDEN_HEADERS)."""
    kid = idp.add_key("RS256")
    for crit in (["exp"], "https://attacker.example"):
        assert (
            external(http, issuer_settings(idp)).match(idp.token(kid, headers={"crit": crit}))
            is None
        )


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        (["viewer", "admin"], "admin"),  # the first configured role the claim names
        ("support admin", "admin"),  # a space-separated string
        (["superuser", "root"], "customer"),  # roles the issuer may not grant: ignored
        ("superuser", "customer"),
        ([], "customer"),
        (None, "customer"),
        ({"admin": True}, "customer"),  # an object: no roles named
        ([{"name": "admin"}, ["admin"], 7, "support"], "support"),  # odd items skipped
    ],
    ids=repr,
)
def test_the_role_comes_from_the_configured_roles_only(
    idp: IdentityProvider, claim: object, expected: str
) -> None:
    settings = issuer_settings(idp, roles=["admin", "support"], default_role="customer")
    claims = idp.claims(roles=claim)
    assert role_from(settings, claims) == expected
