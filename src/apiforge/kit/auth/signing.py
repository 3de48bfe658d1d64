"""The keys access tokens are signed and verified with: the secret key for HS256/384/512, or
PEM private keys for EdDSA/ES256, each named by its RFC 7638 thumbprint (`kid`) and published
as a JWKS (RFC 7517). Not for: external issuers' keys (kit.identity.issuers fetches those)."""

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from apiforge.kit.settings import AuthSettings

# The members RFC 7638 hashes, per key type, in the order the RFC sorts them.
_THUMBPRINT_MEMBERS = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y")}
_KEY_TYPES: dict[str, tuple[type[Any], ...]] = {
    "EdDSA": (ed25519.Ed25519PrivateKey,),
    "ES256": (ec.EllipticCurvePrivateKey,),
}


class SigningKeyError(ValueError):
    """A configured signing key cannot be used (not PEM, or not of the algorithm's type)."""


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: the SHA-256 of the key's required members, as unpadded base64url."""
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":")).encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: Any
    public: Any
    public_jwk: dict[str, Any]


@dataclass(frozen=True)
class SigningKeys:
    """The algorithm and its keys: `signing` signs, every one in `by_kid` verifies (rotation
    keeps the previous key here until its tokens have expired). For HS*, `secret` alone."""

    algorithm: str
    secret: str
    signing: SigningKey | None
    by_kid: dict[str, SigningKey]

    @classmethod
    def from_settings(cls, settings: AuthSettings, secret: str) -> "SigningKeys":
        if settings.is_symmetric:
            return cls(settings.algorithm, secret, None, {})
        keys = [_load(settings.algorithm, pem.get_secret_value()) for pem in settings.signing_keys]
        return cls(settings.algorithm, secret, keys[0], {key.kid: key for key in keys})

    def jwks(self) -> dict[str, Any]:
        """The public keys as a JWK Set (empty for HS*: a shared secret is never published)."""
        return {"keys": [key.public_jwk for key in self.by_kid.values()]}


def _load(algorithm: str, pem: str) -> SigningKey:
    try:
        private = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(
            f"auth.signing_keys: not an unencrypted PEM private key ({exc})"
        ) from exc
    if not isinstance(private, _KEY_TYPES[algorithm]) or (
        isinstance(private, ec.EllipticCurvePrivateKey)
        and not isinstance(private.curve, ec.SECP256R1)
    ):
        raise SigningKeyError(
            f"auth.signing_keys: a {type(private).__name__} cannot sign {algorithm} "
            "(EdDSA takes Ed25519 keys, ES256 takes P-256 keys)"
        )
    public = private.public_key()
    jwk: dict[str, Any] = jwt.get_algorithm_by_name(algorithm).to_jwk(public, as_dict=True)
    kid = thumbprint(jwk)
    jwk.update({"kid": kid, "alg": algorithm, "use": "sig"})
    return SigningKey(kid=kid, private=private, public=public, public_jwk=jwk)
