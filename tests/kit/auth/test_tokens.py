import base64
import time
from typing import Any

import jwt
import orjson
import pytest

from apiforge.kit import AccessTokenCodec, Principal
from apiforge.kit.auth import new_refresh_token, refresh_token_digest
from apiforge.kit.auth.tokens import INVALID_TOKEN_DETAIL, ExpiredTokenError
from apiforge.kit.errors import UnauthenticatedError
from apiforge.kit.settings import AuthSettings

KEY = "k" * 64  # PyJWT warns (an error here) about HS512 keys under 64 bytes
AUTH = AuthSettings()
CODEC = AccessTokenCodec(AUTH, KEY)
ALICE = Principal(subject="42", role="admin", scopes=frozenset({"orders:read", "orders:write"}))


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "42",
        "role": "customer",
        "scope": "",
        "iat": now,
        "exp": now + 300,
        "iss": AUTH.issuer,
        "aud": AUTH.audience,
        "jti": "abc",
        "typ": "access",
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def _sign(claims: dict[str, Any], *, key: str = KEY, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()


def _refused(token: str) -> UnauthenticatedError:
    with pytest.raises(UnauthenticatedError) as caught:
        CODEC.verify(token)
    assert caught.value.status == 401
    return caught.value


def test_issue_verify_round_trip() -> None:
    issued = CODEC.issue(ALICE)
    assert issued.expires_in == AUTH.access_token_ttl_seconds <= 900
    assert CODEC.verify(issued.token) == ALICE
    header = jwt.get_unverified_header(issued.token)
    assert header["alg"] == "HS256"


def test_issued_claims() -> None:
    claims = jwt.decode(CODEC.issue(ALICE).token, KEY, algorithms=["HS256"], audience=AUTH.audience)
    assert claims["typ"] == "access"
    assert claims["iss"] == AUTH.issuer
    assert claims["exp"] - claims["iat"] == AUTH.access_token_ttl_seconds
    assert claims["scope"] == "orders:read orders:write"


def test_tokens_are_unique() -> None:
    assert CODEC.issue(ALICE).token != CODEC.issue(ALICE).token


def test_a_hand_signed_valid_token_is_accepted() -> None:
    """Guards the refusal tests below: the same builder with nothing wrong passes."""
    assert CODEC.verify(_sign(_claims())) == Principal(subject="42", role="customer")


def test_expired_token_beyond_the_leeway_is_refused_as_any_invalid_token() -> None:
    now = int(time.time())
    error = _refused(_sign(_claims(iat=now - 600, exp=now - AUTH.leeway_seconds - 1)))
    assert isinstance(error, ExpiredTokenError)
    assert (error.code, error.detail) == ("auth.invalid_token", INVALID_TOKEN_DETAIL)


def test_expired_token_within_the_leeway_is_accepted() -> None:
    now = int(time.time())
    assert CODEC.verify(_sign(_claims(iat=now - 600, exp=now - 1))).subject == "42"


def test_forged_signature() -> None:
    assert _refused(_sign(_claims(), key="another-key-" * 4)).code == "auth.invalid_token"


def test_tampered_payload() -> None:
    header, _, signature = _sign(_claims()).split(".")
    payload = _b64(_claims(role="admin"))
    assert _refused(f"{header}.{payload}.{signature}").code == "auth.invalid_token"


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_token(alg: str) -> None:
    token = f"{_b64({'alg': alg, 'typ': 'JWT'})}.{_b64(_claims(role='admin'))}."
    assert _refused(token).code == "auth.invalid_token"


def test_other_hmac_algorithm_is_refused_when_hs256_is_pinned() -> None:
    token = _sign(_claims(), algorithm="HS512")
    assert _refused(token).code == "auth.invalid_token"


def test_pinned_hs512_refuses_hs256() -> None:
    codec = AccessTokenCodec(AuthSettings(algorithm="HS512"), KEY)
    assert codec.verify(codec.issue(ALICE).token) == ALICE
    with pytest.raises(UnauthenticatedError):
        codec.verify(_sign(_claims()))


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "another-api"},
        {"aud": None},
        {"iss": "someone-else"},
        {"iss": None},
        {"exp": None},
        {"iat": None},
        {"sub": None},
        {"sub": 42},  # not a string
        {"role": None},
        {"role": ["admin"]},
        {"typ": "refresh"},
        {"typ": None},
        {"exp": "tomorrow"},
    ],
    ids=repr,
)
def test_invalid_claims(changes: dict[str, Any]) -> None:
    assert _refused(_sign(_claims(**changes))).code == "auth.invalid_token"


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "a.b.c", "a.b", "é.é.é", "\x00", "Bearer x", "x" * 10_000],
    ids=lambda t: repr(t[:20]),
)
def test_malformed_tokens(token: str) -> None:
    assert _refused(token).code == "auth.invalid_token"


def test_refresh_tokens_are_random_and_stored_as_digests() -> None:
    token = new_refresh_token()
    assert len(token) >= 43
    assert token != new_refresh_token()
    digest = refresh_token_digest(token)
    assert len(digest) == 64
    assert token not in digest
    assert digest == refresh_token_digest(token)
    assert refresh_token_digest("lone \ud800") != digest  # odd input hashes, never raises


def test_principal_numeric_id() -> None:
    assert Principal(subject="42", role="customer").id == 42
