"""Webhook endpoint secrets sealed at rest: AES-256-GCM under a list of keys, the first sealing
and every one opening, so keys rotate without a flag day. A sealed value is
`sealed:v1:<key id>:<base64 of nonce + ciphertext>` (the key id, 8 hex characters of the key's
SHA-256, picks the key to open with); a value without that prefix is a secret stored in the
clear before sealing, opened as is and sealed by `reseal`. A database dump or a backup then
holds no usable signing secret. Not for: signing (kit.webhooks.signature) or the secrets of
the service itself (settings)."""

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select, update

from apiforge.kit.db.database import Database
from apiforge.kit.db.tenants import cross_tenant
from apiforge.kit.settings import Settings
from apiforge.kit.webhooks.dispatcher import mapped_table
from apiforge.kit.webhooks.models import WebhookEndpointMixin

PREFIX = "sealed:v1:"
_NONCE_BYTES = 12
# Domain separation: the same service key signs tokens; this derivation is for this use only.
_INFO = b"apiforge webhook endpoint secrets v1"


class SealedSecretError(ValueError):
    """A sealed value that no configured key opens (a key dropped too early, or a value
    altered): the endpoint cannot be signed for until its secret is replaced."""


def derive_key(material: str) -> bytes:
    """A 32-byte AES key from a configured key string (HKDF-SHA256, no salt: the input is
    already a high-entropy secret)."""
    if len(material) < 32:
        raise ValueError("a sealing key is at least 32 characters")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        material.encode()
    )


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


class SecretSealer:
    """Seals with `keys[0]`, opens with whichever key sealed (`keys`: 32-byte AES keys, newest
    first; `SecretSealer.from_material` derives them from key strings)."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("a sealer needs at least one key")
        if any(len(key) != 32 for key in keys):
            raise ValueError("sealing keys are 32 bytes (AES-256)")
        self._current = _key_id(keys[0])
        self._keys = {_key_id(key): AESGCM(key) for key in keys}

    @classmethod
    def from_material(cls, materials: Sequence[str]) -> "SecretSealer":
        return cls([derive_key(material) for material in materials])

    def seal(self, secret: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._keys[self._current].encrypt(nonce, secret.encode(), None)
        return f"{PREFIX}{self._current}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, stored: str) -> str:
        """The secret in `stored` (sealed, or a secret from before sealing, returned as is)."""
        if not stored.startswith(PREFIX):
            return stored
        key_id, _, payload = stored.removeprefix(PREFIX).partition(":")
        cipher = self._keys.get(key_id)
        if cipher is None:
            raise SealedSecretError(f"no configured key {key_id} opens this secret")
        try:
            raw = base64.b64decode(payload, validate=True)
            return cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], None).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise SealedSecretError("the sealed secret is damaged") from exc

    def reseal(self, stored: str) -> str | None:
        """`stored` sealed under the current key, or None when it already is."""
        if stored.startswith(f"{PREFIX}{self._current}:"):
            return None
        return self.seal(self.open(stored))


def webhook_sealer(settings: Settings) -> SecretSealer:
    """The sealer of `settings.webhooks.sealing_keys` (newest first), or, when none is set, of
    one key derived from the service's secret key (so sealing needs no setting of its own;
    list the old secret key second before changing it, or endpoints' secrets stop opening)."""
    keys = [key.get_secret_value() for key in settings.webhooks.sealing_keys]
    return SecretSealer.from_material(keys or [settings.signing_key])


async def reseal_secrets(
    database: Database, endpoints: type[WebhookEndpointMixin], sealer: SecretSealer
) -> int:
    """Seal every endpoint secret under the sealer's current key, those stored in the clear
    (before sealing) and those under an older key alike, in one transaction; how many
    changed. Run it after putting a new key first, then drop the old key."""
    table = mapped_table(endpoints)
    why = "resealing touches every tenant's endpoints"
    changed = 0
    async with database.transaction() as session:
        rows = (
            await session.execute(cross_tenant(select(table.c.id, table.c.secret), reason=why))
        ).all()
        for endpoint_id, stored in rows:
            sealed = sealer.reseal(stored)
            if sealed is None:
                continue
            statement = update(table).where(table.c.id == endpoint_id).values(secret=sealed)
            await session.execute(cross_tenant(statement, reason=why))
            changed += 1
    return changed
