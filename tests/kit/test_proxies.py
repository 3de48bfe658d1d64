"""The client's address: the socket peer unless a trusted proxy says otherwise; a forwarding
header from anyone else is ignored, whatever it holds."""

from ipaddress import ip_address

import pytest
from pydantic import ValidationError

from apiforge.kit import ProxySettings
from apiforge.kit.asgi import Scope
from apiforge.kit.proxies import client_address, limit_key


def scope(peer: str | None, *headers: tuple[str, str]) -> Scope:
    return {
        "type": "http",
        "client": (peer, 5000) if peer else None,
        "headers": [(name.encode(), value.encode()) for name, value in headers],
    }


def address(found: object) -> str:
    return str(found)


@pytest.mark.parametrize(
    "headers",
    [
        (),
        (("x-forwarded-for", "1.2.3.4"),),
        (("x-forwarded-for", "1.2.3.4, 5.6.7.8"),),
        (("forwarded", "for=1.2.3.4"),),
        (("x-real-ip", "1.2.3.4"),),
    ],
)
def test_without_trusted_proxies_the_peer_is_the_client(headers: tuple[tuple[str, str]]) -> None:
    assert address(client_address(scope("10.0.0.7", *headers), ProxySettings())) == "10.0.0.7"


def test_one_trusted_hop_takes_the_address_the_proxy_appended() -> None:
    proxy = ProxySettings(trusted_hops=1)
    # The client forged the first entry; the proxy appended what it saw.
    forged = scope("10.0.0.1", ("x-forwarded-for", "6.6.6.6, 203.0.113.9"))
    assert address(client_address(forged, proxy)) == "203.0.113.9"
    assert address(client_address(scope("10.0.0.1", ("x-forwarded-for", "8.8.8.8")), proxy)) == (
        "8.8.8.8"
    )


def test_two_hops_count_from_the_right_across_header_lines() -> None:
    proxy = ProxySettings(trusted_hops=2)
    request = scope(
        "10.0.0.1", ("x-forwarded-for", "6.6.6.6, 203.0.113.9"), ("x-forwarded-for", "10.0.0.2")
    )
    assert address(client_address(request, proxy)) == "203.0.113.9"


def test_fewer_entries_than_hops_is_the_peer() -> None:
    proxy = ProxySettings(trusted_hops=2)
    assert address(client_address(scope("10.0.0.1", ("x-forwarded-for", "1.2.3.4")), proxy)) == (
        "10.0.0.1"
    )


def test_garbage_where_the_client_should_be_is_the_peer() -> None:
    proxy = ProxySettings(trusted_hops=1)
    assert address(client_address(scope("10.0.0.1", ("x-forwarded-for", "nonsense")), proxy)) == (
        "10.0.0.1"
    )


def test_trusted_cidrs_walk_back_to_the_first_untrusted_address() -> None:
    proxy = ProxySettings(trusted_cidrs=["10.0.0.0/8"])  # type: ignore[list-item]  # parsed by pydantic
    chain = ("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.1.1.1")
    assert address(client_address(scope("10.0.0.1", chain), proxy)) == "203.0.113.9"
    # The same header from a peer outside the trusted range is the peer's own invention.
    assert address(client_address(scope("198.51.100.4", chain), proxy)) == "198.51.100.4"


def test_only_the_configured_header_is_read() -> None:
    proxy = ProxySettings(trusted_hops=1, header="forwarded")
    request = scope(
        "10.0.0.1",
        ("x-forwarded-for", "6.6.6.6"),
        ("forwarded", 'for=192.0.2.60;proto=https, for="[2001:db8:cafe::17]:4711"'),
    )
    assert address(client_address(request, proxy)) == "2001:db8:cafe::17"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("192.0.2.60:8080", "192.0.2.60"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("unknown", "10.0.0.1"),
        ("_hidden", "10.0.0.1"),
    ],
)
def test_entry_forms(entry: str, expected: str) -> None:
    proxy = ProxySettings(trusted_hops=1)
    assert address(client_address(scope("10.0.0.1", ("x-forwarded-for", entry)), proxy)) == (
        expected
    )


def test_no_peer_and_no_header_is_unknown() -> None:
    assert client_address(scope(None), ProxySettings()) is None
    assert limit_key(None) == "unknown"


def test_ipv6_clients_are_counted_by_their_64() -> None:
    one = limit_key(ip_address("2001:db8:1:2:aaaa::1"))
    other = limit_key(ip_address("2001:db8:1:2:bbbb::99"))
    assert one == other == "2001:db8:1:2::/64"
    assert limit_key(ip_address("192.0.2.1")) == "192.0.2.1"


def test_hops_and_cidrs_are_exclusive() -> None:
    with pytest.raises(ValidationError, match="not both"):
        ProxySettings(trusted_hops=1, trusted_cidrs=["10.0.0.0/8"])  # type: ignore[list-item]  # parsed by pydantic


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from apiforge.kit import Settings

    monkeypatch.setenv("APIFORGE_PROXY__TRUSTED_CIDRS", '["10.0.0.0/8", "fd00::/8"]')
    settings = Settings(_env_file=None, environment="test")  # type: ignore[arg-type]  # coerced
    assert [str(n) for n in settings.proxy.trusted_cidrs] == ["10.0.0.0/8", "fd00::/8"]
