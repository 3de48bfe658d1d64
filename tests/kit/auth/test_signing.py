"""Asymmetric access tokens (EdDSA, ES256): issue and verify, each key named by its RFC 7638
thumbprint (a known answer from RFC 8037), rotation (the old key verifies while it is listed,
not after), keys of the wrong type refused, and a JWKS that holds public members only."""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from apiforge.kit import AccessTokenCodec, AuthSettings, InvalidTokenError, Principal
from apiforge.kit.auth.signing import SigningKeyError, SigningKeys, thumbprint
from tests.kit.auth.keys import (
    RFC8037_THUMBPRINT,
    RFC8037_X,
    Asymmetric,
    asymmetric_auth,
    ed25519_key,
    new_pem,
    p256_key,
    pem_of,
    public_pem_of,
    rfc8037_pem,
    rsa_key,
)

SECRET = "s" * 40
ALICE = Principal(subject="42", role="customer")
ALGORITHMS: list[Asymmetric] = ["EdDSA", "ES256"]
# What a public JWK may hold: RFC 7517/7518's public members and our metadata, nothing private.
PUBLIC_MEMBERS = {"kty", "crv", "x", "y", "kid", "alg", "use"}


def _codec(algorithm: Asymmetric, *pems: str) -> AccessTokenCodec:
    return AccessTokenCodec(asymmetric_auth(algorithm, *pems), SECRET)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_thumbprint_known_answer_from_rfc_8037() -> None:
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}
    assert thumbprint(jwk) == RFC8037_THUMBPRINT
    # Members outside the required set (kid, alg, use, d) change nothing.
    assert thumbprint({**jwk, "kid": "x", "alg": "EdDSA", "use": "sig"}) == RFC8037_THUMBPRINT


def test_a_configured_key_is_named_by_its_thumbprint() -> None:
    keys = SigningKeys.from_settings(asymmetric_auth("EdDSA", rfc8037_pem()), SECRET)
    assert keys.signing is not None
    assert keys.signing.kid == RFC8037_THUMBPRINT
    assert keys.signing.public_jwk["x"] == RFC8037_X
    token = AccessTokenCodec(asymmetric_auth("EdDSA", rfc8037_pem()), SECRET).issue(ALICE)
    assert jwt.get_unverified_header(token.token)["kid"] == RFC8037_THUMBPRINT


def test_an_es256_thumbprint_hashes_crv_kty_x_y() -> None:
    keys = SigningKeys.from_settings(asymmetric_auth("ES256", new_pem("ES256")), SECRET)
    assert keys.signing is not None
    jwk = keys.signing.public_jwk
    # RFC 7638 section 3.2: exactly these members, lexicographic order, no whitespace.
    canonical = json.dumps({name: jwk[name] for name in ("crv", "kty", "x", "y")})
    expected = _b64(hashlib.sha256(canonical.replace(" ", "").encode()).digest())
    assert keys.signing.kid == expected
    # Coordinates are full length (RFC 7518 section 6.2.1.2), even with leading zero bytes.
    assert len(jwk["x"]) == len(jwk["y"]) == 43


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_issue_and_verify(algorithm: Asymmetric) -> None:
    codec = _codec(algorithm, new_pem(algorithm))
    token = codec.issue(ALICE).token
    header = jwt.get_unverified_header(token)
    assert codec.keys.signing is not None
    assert header == {"alg": algorithm, "kid": codec.keys.signing.kid, "typ": "JWT"}
    assert codec.verify(token) == ALICE


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_rotation_verifies_both_keys_then_drops_the_old_one(algorithm: Asymmetric) -> None:
    old_pem, new_pem_ = new_pem(algorithm), new_pem(algorithm)
    before = _codec(algorithm, old_pem)
    old_token = before.issue(ALICE).token

    rotating = _codec(algorithm, new_pem_, old_pem)
    new_token = rotating.issue(ALICE).token
    assert rotating.keys.signing is not None
    assert jwt.get_unverified_header(new_token)["kid"] == rotating.keys.signing.kid
    assert rotating.keys.signing.kid != jwt.get_unverified_header(old_token)["kid"]
    assert rotating.verify(old_token) == rotating.verify(new_token) == ALICE
    assert len(rotating.keys.jwks()["keys"]) == 2
    with pytest.raises(InvalidTokenError):
        before.verify(new_token)  # a service not yet rotated does not know the new key

    after = _codec(algorithm, new_pem_)
    assert after.verify(new_token) == ALICE
    with pytest.raises(InvalidTokenError) as refused:
        after.verify(old_token)
    assert refused.value.reason == "unknown kid"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_another_key_under_a_known_kid_is_refused(algorithm: Asymmetric) -> None:
    codec = _codec(algorithm, new_pem(algorithm))
    impostor = _codec(algorithm, new_pem(algorithm))
    assert codec.keys.signing is not None
    assert impostor.keys.signing is not None
    claims = jwt.decode(
        impostor.issue(ALICE).token, options={"verify_signature": False}, algorithms=[algorithm]
    )
    forged = jwt.encode(
        claims,
        impostor.keys.signing.private,
        algorithm=algorithm,
        headers={"kid": codec.keys.signing.kid},
    )
    with pytest.raises(InvalidTokenError) as refused:
        codec.verify(forged)
    assert refused.value.reason == "InvalidSignatureError"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_hs256_signed_with_the_public_key_is_refused(algorithm: Asymmetric) -> None:
    """The classic confusion: the public key (which anyone has) used as an HMAC secret."""
    private = ed25519_key() if algorithm == "EdDSA" else p256_key()
    codec = _codec(algorithm, pem_of(private))
    assert codec.keys.signing is not None
    now = int(time.time())
    claims = {"sub": "1", "role": "admin", "typ": "access", "gen": 0, "iat": now}
    claims |= {"exp": now + 60, "iss": "apiforge", "aud": "apiforge-api"}
    header = {"alg": "HS256", "typ": "JWT", "kid": codec.keys.signing.kid}
    signing_input = f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(claims))}"
    for secret in (public_pem_of(private), orjson.dumps(codec.keys.signing.public_jwk)):
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        with pytest.raises(InvalidTokenError) as refused:
            codec.verify(f"{signing_input}.{_b64(signature)}")
        assert refused.value.reason == "algorithm"


def _p384_key() -> Any:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.mark.parametrize(
    ("algorithm", "make"),
    [
        ("EdDSA", p256_key),
        ("EdDSA", rsa_key),
        ("ES256", ed25519_key),
        ("ES256", _p384_key),  # ES256 is P-256 only
    ],
)
def test_a_key_of_another_type_is_refused(algorithm: Asymmetric, make: Callable[[], Any]) -> None:
    with pytest.raises(SigningKeyError) as refused:
        SigningKeys.from_settings(asymmetric_auth(algorithm, pem_of(make())), SECRET)
    message = str(refused.value)
    assert f"cannot sign {algorithm} (EdDSA takes Ed25519 keys, ES256 takes P-256 keys)" in message
    assert message.startswith("auth.signing_keys: a ")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_the_jwks_holds_every_listed_key_and_public_members_only(algorithm: Asymmetric) -> None:
    pems = (new_pem(algorithm), new_pem(algorithm))
    keys = SigningKeys.from_settings(asymmetric_auth(algorithm, *pems), SECRET)
    published = keys.jwks()["keys"]
    assert [jwk["kid"] for jwk in published] == list(keys.by_kid)
    for jwk in published:
        assert set(jwk) <= PUBLIC_MEMBERS
        assert "d" not in jwk
        assert (jwk["alg"], jwk["use"]) == (algorithm, "sig")
        assert jwk["kid"] == thumbprint(jwk)


def test_the_shared_secret_is_never_published() -> None:
    assert SigningKeys.from_settings(AuthSettings(), SECRET).jwks() == {"keys": []}
