"""`Identity`: which credential a request carries and who it proves, from cached lookups. A
store of the test's own counts what the kit asks it: once per key per TTL, again only after
`forget_*`; API keys are checked against their digest, revocation and expiry; a token of an
older generation or of an inactive user is refused like any invalid one."""

import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import pytest

from apiforge.kit import (
    AccessTokenCodec,
    Identity,
    IdentityStore,
    InvalidTokenError,
    MemoryCache,
    Principal,
    Settings,
    StoredApiKey,
    SubjectState,
)

SETTINGS = Settings.for_tests("sqlite+aiosqlite:///unused.db")


@dataclass
class CountingStore(IdentityStore):
    """Answers from dicts and counts each question."""

    states: dict[str, SubjectState] = field(default_factory=dict)
    keys: dict[str, StoredApiKey] = field(default_factory=dict)
    roles: dict[tuple[int, str], str] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    used: list[Mapping[str, datetime]] = field(default_factory=list)

    async def subject_state(self, subject: str) -> SubjectState | None:
        self.asked.append(f"subject:{subject}")
        return self.states.get(subject)

    async def api_key(self, key_id: str) -> StoredApiKey | None:
        self.asked.append(f"key:{key_id}")
        return self.keys.get(key_id)

    async def record_api_key_use(self, used: Mapping[str, datetime]) -> None:
        self.used.append(dict(used))

    async def tenant_role(self, tenant_id: int, subject: str) -> str | None:
        self.asked.append(f"role:{tenant_id}:{subject}")
        return self.roles.get((tenant_id, subject))


@pytest.fixture
async def store() -> CountingStore:
    return CountingStore(states={"7": SubjectState(generation=2, active=True)})


@pytest.fixture
async def identity(store: CountingStore) -> AsyncIterator[Identity]:
    async with httpx.AsyncClient() as client:
        yield Identity(
            SETTINGS,
            tokens=AccessTokenCodec(SETTINGS.auth, SETTINGS.signing_key),
            store=store,
            cache=MemoryCache(),
            http_client=client,
        )


def _token(identity: Identity, subject: str = "7", generation: int = 2) -> str:
    return identity.tokens.issue(Principal(subject, "customer", generation=generation)).token


def _key(identity: Identity, store: CountingStore, **changes: object) -> str:
    new = identity.api_key_codec.generate()
    values: dict[str, object] = {
        "key_id": new.key_id,
        "tenant_id": 5,
        "scopes": frozenset({"orders:read"}),
        "secret_digest": new.secret_digest,
        "expires_at": None,
        "revoked": False,
    }
    values.update(changes)
    store.keys[new.key_id] = StoredApiKey(**values)  # type: ignore[arg-type]  # the test's own values
    return new.plaintext


async def test_a_token_is_checked_against_the_cached_standing(
    identity: Identity, store: CountingStore
) -> None:
    for _ in range(5):
        principal = await identity.authenticate(bearer=_token(identity), api_key=None)
    assert (principal.subject, principal.generation) == ("7", 2)
    assert store.asked == ["subject:7"]  # once, then from the cache


@pytest.mark.parametrize(
    ("state", "generation"),
    [
        (SubjectState(generation=3, active=True), 2),  # logged out everywhere since
        (SubjectState(generation=2, active=False), 2),  # disabled
        (None, 2),  # deleted
    ],
    ids=["older-generation", "inactive", "unknown"],
)
async def test_a_revoked_standing_refuses_the_token(
    identity: Identity, store: CountingStore, state: SubjectState | None, generation: int
) -> None:
    if state is None:
        del store.states["7"]
    else:
        store.states["7"] = state
    with pytest.raises(InvalidTokenError):
        await identity.authenticate(bearer=_token(identity, generation=generation), api_key=None)


async def test_forgetting_a_subject_rereads_it(identity: Identity, store: CountingStore) -> None:
    token = _token(identity)
    await identity.authenticate(bearer=token, api_key=None)
    store.states["7"] = SubjectState(generation=3, active=True)
    await identity.authenticate(bearer=token, api_key=None)  # still cached: accepted
    await identity.forget_subject("7")
    with pytest.raises(InvalidTokenError):
        await identity.authenticate(bearer=token, api_key=None)
    assert store.asked == ["subject:7", "subject:7"]


async def test_an_api_key_acts_for_its_tenant_with_its_scopes(
    identity: Identity, store: CountingStore
) -> None:
    raw = _key(identity, store)
    by_header = await identity.authenticate(bearer=None, api_key=raw)
    by_bearer = await identity.authenticate(bearer=raw, api_key=None)
    assert by_header == by_bearer
    assert (by_header.tenant_id, by_header.scopes, by_header.role) == (
        5,
        frozenset({"orders:read"}),
        "",
    )
    assert by_header.is_api_key
    assert by_header.row_id is None
    assert by_header.has_scope("orders:read")
    assert not by_header.has_scope("orders:write")
    assert len(store.asked) == 1  # one lookup for both requests


@pytest.mark.parametrize(
    "changes",
    [{"revoked": True}, {"expires_at": time.time() - 1}],
    ids=["revoked", "expired"],
)
async def test_a_revoked_or_expired_key_is_refused(
    identity: Identity, store: CountingStore, changes: dict[str, object]
) -> None:
    with pytest.raises(InvalidTokenError):
        await identity.authenticate(bearer=None, api_key=_key(identity, store, **changes))


async def test_a_wrong_secret_or_an_unknown_key_is_refused(
    identity: Identity, store: CountingStore
) -> None:
    raw = _key(identity, store)
    wrong = raw[:-4] + ("AAAA" if not raw.endswith("AAAA") else "BBBB")
    stranger = identity.api_key_codec.generate().plaintext
    for value in (wrong, stranger, "afk_short", "afk_" + "x" * 60):
        with pytest.raises(InvalidTokenError):
            await identity.authenticate(bearer=None, api_key=value)


async def test_an_expiring_key_is_refused_from_its_expiry_even_when_cached(
    identity: Identity, store: CountingStore
) -> None:
    raw = _key(identity, store, expires_at=time.time() + 0.2)
    await identity.authenticate(bearer=None, api_key=raw)
    time.sleep(0.25)  # noqa: ASYNC251  # the expiry is wall-clock; nothing else runs here
    with pytest.raises(InvalidTokenError):
        await identity.authenticate(bearer=None, api_key=raw)


async def test_two_credentials_at_once_are_refused(
    identity: Identity, store: CountingStore
) -> None:
    with pytest.raises(InvalidTokenError):
        await identity.authenticate(bearer=_token(identity), api_key=_key(identity, store))


async def test_key_use_is_recorded_off_the_request_path_once_per_interval(
    identity: Identity, store: CountingStore
) -> None:
    raw = _key(identity, store)
    for _ in range(10):
        await identity.authenticate(bearer=None, api_key=raw)
    assert store.used == []  # nothing written by the requests themselves
    await identity.usage.flush()
    await identity.authenticate(bearer=None, api_key=raw)
    await identity.usage.flush()
    assert len(store.used) == 1
    assert list(store.used[0]) == [raw.split("_")[1]]


async def test_membership_roles_are_cached_and_forgotten(
    identity: Identity, store: CountingStore
) -> None:
    store.roles[(5, "7")] = "buyer"
    assert await identity.tenant_role(5, "7") == "buyer"
    assert await identity.tenant_role(6, "7") is None
    store.roles[(5, "7")] = "admin"
    assert await identity.tenant_role(5, "7") == "buyer"
    await identity.forget_membership(5, "7")
    assert await identity.tenant_role(5, "7") == "admin"
    assert await identity.tenant_role(6, "7") is None  # a cached "not a member"
    assert store.asked.count("role:6:7") == 1
