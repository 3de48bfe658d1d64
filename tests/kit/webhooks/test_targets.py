"""The SSRF guard: schemes, credentials, and every kind of non-public address, given literally
or behind a name; private targets only when allowed, metadata addresses never."""

import pytest

from apiforge.kit.webhooks.targets import WebhookTargetError, resolve_target

REFUSED = [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8080/hook",
    "http://10.0.0.5/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.10.10/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[fd00::1]/hook",
    "http://[fe80::1]/hook",
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
    "http://100.64.0.1/hook",
    "http://localhost:9000/hook",  # a name that resolves to loopback
]


@pytest.mark.parametrize("url", REFUSED)
async def test_non_public_targets_are_refused(url: str) -> None:
    with pytest.raises(WebhookTargetError) as caught:
        await resolve_target(url, allow_private=False)
    assert caught.value.status == 422


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "gopher://example.com/",
        "https://user:pass@example.com/hook",
        "https://token@example.com/hook",
        "https:///hook",
        "https://example.com:0/hook",
        "https://example.com:99999/hook",
        "http://[not-an-ip/hook",
    ],
)
async def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(WebhookTargetError):
        await resolve_target(url, allow_private=True)


async def test_loopback_is_allowed_when_the_setting_says_so() -> None:
    target = await resolve_target("http://127.0.0.1:8080/hook?x=1", allow_private=True)
    assert str(target.address) == "127.0.0.1"
    assert target.pinned_url() == "http://127.0.0.1:8080/hook?x=1"


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/", "http://[fd00:ec2::254]/", "http://0.0.0.0/"]
)
async def test_metadata_and_unspecified_addresses_are_refused_even_when_private_is_allowed(
    url: str,
) -> None:
    with pytest.raises(WebhookTargetError):
        await resolve_target(url, allow_private=True)


async def test_a_public_address_passes_and_is_pinned() -> None:
    target = await resolve_target("https://93.184.216.34/hook", allow_private=False)
    assert target.port == 443
    assert target.pinned_url() == "https://93.184.216.34:443/hook"


async def test_an_unresolvable_name_is_refused() -> None:
    with pytest.raises(WebhookTargetError, match="resolve"):
        await resolve_target("https://no-such-host.invalid/hook", allow_private=True)
