"""Refusals to start: signing keys that cannot sign the configured algorithm stop `create_app`
with one line saying what to change (not an app that answers 500 at its first login)."""

from collections.abc import Callable
from typing import Any

import pytest

from apiforge.kit import AuthSettings, StartupError
from tests.kit.apps import kit_app, restored_logging
from tests.kit.auth.keys import (
    Asymmetric,
    asymmetric_auth,
    ed25519_key,
    p256_key,
    pem_of,
    public_pem_of,
    rsa_key,
)


@pytest.mark.parametrize(
    ("algorithm", "make"),
    [("EdDSA", p256_key), ("EdDSA", rsa_key), ("ES256", ed25519_key), ("ES256", rsa_key)],
)
def test_a_key_of_the_wrong_type_stops_the_factory(
    sqlite_url: str, algorithm: Asymmetric, make: Callable[[], Any]
) -> None:
    with restored_logging(), pytest.raises(StartupError) as refused:
        kit_app(sqlite_url, auth=asymmetric_auth(algorithm, pem_of(make())))
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("auth.signing_keys: ")
    assert f"cannot sign {algorithm}" in message


@pytest.mark.parametrize(
    "pem",
    [
        "not a key",
        public_pem_of(ed25519_key()).decode(),  # a public key where the private one belongs
        pem_of(ed25519_key())[:80],  # truncated
    ],
    ids=["garbage", "public", "truncated"],
)
def test_a_key_that_is_not_a_private_pem_stops_the_factory(sqlite_url: str, pem: str) -> None:
    with restored_logging(), pytest.raises(StartupError) as refused:
        kit_app(sqlite_url, auth=asymmetric_auth("EdDSA", pem))
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("auth.signing_keys: not an unencrypted PEM private key")
    assert pem not in message


def test_a_bad_old_key_behind_a_good_one_stops_it_too(sqlite_url: str) -> None:
    """Rotation lists two keys; the one that only verifies is checked as strictly."""
    auth = asymmetric_auth("EdDSA", pem_of(ed25519_key()), pem_of(p256_key()))
    with restored_logging(), pytest.raises(StartupError, match="cannot sign EdDSA"):
        kit_app(sqlite_url, auth=auth)


def test_an_asymmetric_algorithm_without_keys_is_refused_by_the_settings() -> None:
    with pytest.raises(ValueError, match=r"auth\.algorithm EdDSA signs with auth\.signing_keys"):
        AuthSettings(algorithm="EdDSA")
    with pytest.raises(ValueError, match="signing_keys"):
        AuthSettings(algorithm="ES256", signing_keys=[])
