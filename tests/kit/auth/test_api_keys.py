"""API keys as text: the codec makes keys that parse back, checks secrets by their keyed
digest, and `api_key_pattern` finds a key in free text whatever characters its secret starts
or ends with (token_urlsafe draws `-` and `_` as often as any letter)."""

import pytest

from apiforge.kit import ApiKeyCodec
from apiforge.kit.auth.api_keys import api_key_pattern

KEY_ID = "3kq9v2m8x1zt"
SECRET = ("Zx0aB9cD8eF7gH6iJ5kL4mN3oP2qR1sT0uV9wX8yZ7" * 2)[:43]
KEYS = [
    f"afk_{KEY_ID}_{SECRET}",
    f"afk_{KEY_ID}_-{SECRET[1:]}",
    f"afk_{KEY_ID}_{SECRET[:-1]}-",
    f"afk_{KEY_ID}_-{SECRET[1:-1]}-",
    f"afk_{KEY_ID}_{SECRET[:-1]}_",
]


def test_generated_keys_parse_back_and_match_their_digest() -> None:
    codec = ApiKeyCodec("k" * 40)
    for _ in range(50):
        new = codec.generate()
        presented = codec.parse(new.plaintext)
        assert presented is not None
        assert presented.key_id == new.key_id
        assert codec.matches(presented.secret, new.secret_digest)
        assert not codec.matches(presented.secret[::-1], new.secret_digest)
        assert api_key_pattern("afk").fullmatch(new.plaintext) is not None


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("template", ["{key}", "key {key} used", "'{key}'", "k={key}&x=1"])
def test_the_pattern_finds_a_key_in_text(key: str, template: str) -> None:
    assert ApiKeyCodec("k" * 40).parse(key) is not None
    found = api_key_pattern("afk").search(template.format(key=key))
    assert found is not None
    assert found.group(0) == key
    assert (found[1], found[2]) == (KEY_ID, key.split("_", 2)[2])


def test_the_pattern_does_not_take_a_longer_token_for_a_key() -> None:
    assert api_key_pattern("afk").search(f"afk_{KEY_ID}_{SECRET}x") is None
    assert api_key_pattern("afk").search(f"xafk_{KEY_ID}_{SECRET}") is None
