"""Endpoint secrets sealed at rest: a round trip that leaves no trace of the secret, keys that
rotate (the first seals, all open), damage and missing keys refused loudly, secrets stored
before sealing read as they are, and `reseal_secrets` moving every row to the current key."""

import pytest
from pydantic import SecretStr, ValidationError

from apiforge.kit import (
    Environment,
    SealedSecretError,
    SecretSealer,
    Settings,
    WebhookSettings,
    webhook_sealer,
)
from apiforge.kit.webhooks import generate_secret

OLD = "an-old-sealing-key-of-at-least-32-characters"
NEW = "a-new-sealing-key-also-of-at-least-32-characters"


def test_a_sealed_secret_opens_and_shows_nothing_of_itself() -> None:
    sealer = SecretSealer.from_material([NEW])
    secret = generate_secret()
    sealed = sealer.seal(secret)
    assert sealed.startswith("sealed:v1:")
    assert secret.removeprefix("whsec_") not in sealed
    assert len(sealed) <= 255  # the column
    assert sealer.open(sealed) == secret
    assert sealer.seal(secret) != sealed  # a fresh nonce each time


def test_keys_rotate_the_first_seals_and_every_one_opens() -> None:
    secret = generate_secret()
    before = SecretSealer.from_material([OLD]).seal(secret)
    rotating = SecretSealer.from_material([NEW, OLD])
    assert rotating.open(before) == secret
    resealed = rotating.reseal(before)
    assert resealed is not None
    assert rotating.reseal(resealed) is None  # already under the current key
    after = SecretSealer.from_material([NEW])
    assert after.open(resealed) == secret
    with pytest.raises(SealedSecretError, match="no configured key"):
        after.open(before)


def test_a_damaged_value_is_refused() -> None:
    sealer = SecretSealer.from_material([NEW])
    sealed = sealer.seal(generate_secret())
    flipped = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(SealedSecretError, match="damaged"):
        sealer.open(flipped)


def test_a_secret_from_before_sealing_reads_as_is_and_reseals() -> None:
    sealer = SecretSealer.from_material([NEW])
    plain = generate_secret()
    assert sealer.open(plain) == plain
    resealed = sealer.reseal(plain)
    assert resealed is not None
    assert sealer.open(resealed) == plain


def test_the_keys_come_from_the_settings_or_the_secret_key() -> None:
    secret = generate_secret()
    derived = webhook_sealer(Settings(environment=Environment.TEST, _env_file=None))
    listed = webhook_sealer(
        Settings(
            environment=Environment.TEST,
            webhooks=WebhookSettings(sealing_keys=[SecretStr(NEW), SecretStr(OLD)]),
            _env_file=None,
        )
    )
    assert listed.open(SecretSealer.from_material([OLD]).seal(secret)) == secret
    with pytest.raises(SealedSecretError):
        derived.open(listed.seal(secret))
    with pytest.raises(ValidationError, match="at least 32 characters"):
        WebhookSettings(sealing_keys=[SecretStr("short")])
