"""Keys made in the test run, never committed: PEM private keys for the kit's asymmetric
signing settings, and the RFC 8037 example key, whose RFC 7638 thumbprint the RFC gives."""

import base64
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from pydantic import SecretStr

from apiforge.kit import AuthSettings

# RFC 8037 appendix A.1 (the private key d, the public key x) and A.3 (its thumbprint).
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
Asymmetric = Literal["EdDSA", "ES256"]


def b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def pem_of(private: Any) -> str:
    """The unencrypted PKCS#8 PEM of a `cryptography` private key."""
    data: bytes = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return data.decode()


def public_pem_of(private: Any) -> bytes:
    data: bytes = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return data


def ed25519_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def p256_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def new_pem(algorithm: Asymmetric) -> str:
    """A fresh private key in PEM for `algorithm` (EdDSA or ES256)."""
    return pem_of(ed25519_key() if algorithm == "EdDSA" else p256_key())


def rfc8037_pem() -> str:
    return pem_of(ed25519.Ed25519PrivateKey.from_private_bytes(b64url_decode(RFC8037_D)))


def asymmetric_auth(algorithm: Asymmetric, *pems: str, **overrides: Any) -> AuthSettings:
    """Auth settings signing with `pems` (the first signs, all verify)."""
    keys = [SecretStr(pem) for pem in pems]
    return AuthSettings(algorithm=algorithm, signing_keys=keys, **overrides)
