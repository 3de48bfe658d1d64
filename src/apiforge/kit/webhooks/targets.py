"""SSRF guard for user-supplied webhook URLs (OWASP's SSRF prevention cheat sheet): http/https
only, no credentials in the URL, and the host must resolve only to public addresses. Checked
when an endpoint is registered AND again before every delivery, against the addresses the name
resolves to then (a name that resolved to a public address at registration may point at
127.0.0.1 later: DNS rebinding); the delivery then connects to the address checked, not to a
second resolution. Not for: allow-listing particular hosts.
"""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from apiforge.kit.errors import ValidationFailedError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Cloud metadata services answer on link-local addresses (already refused) and, on some
# clouds, on these; named here so that allowing private targets never allows them.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_RESOLVE_TIMEOUT = 5.0


class WebhookTargetError(ValidationFailedError):
    """422: the URL may not receive webhooks (scheme, credentials, or a non-public address)."""

    code = "webhooks.target_refused"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, errors=[{"loc": ["body", "url"], "msg": detail, "type": "url"}])


@dataclass(frozen=True, slots=True)
class Target:
    """Where a delivery connects: the checked `address`, with the URL's `host` for the Host
    header and TLS (SNI and certificate checks)."""

    url: str
    scheme: str
    host: str
    port: int
    address: IPAddress

    def pinned_url(self) -> str:
        """The URL with the host replaced by the checked address."""
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return parts._replace(netloc=f"{literal}:{self.port}").geturl()


def check_url(url: str) -> SplitResult:
    """The URL's parts, if its form may receive webhooks (no resolution yet)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookTargetError("The URL is not valid.") from exc
    if parts.scheme not in ("http", "https"):
        raise WebhookTargetError("Webhook URLs use http or https.")
    if parts.username is not None or parts.password is not None:
        raise WebhookTargetError("Webhook URLs may not carry credentials.")
    if not parts.hostname:
        raise WebhookTargetError("The URL has no host.")
    if port == 0:
        raise WebhookTargetError("The URL's port is not valid.")
    return parts


def refused(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why `address` may not receive webhooks, None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refused(address.ipv4_mapped, allow_private=allow_private)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_unspecified or address.is_multicast:
        return "not a unicast address"
    if allow_private or address.is_global:
        return None
    return "not a public address"


async def resolve_target(url: str, *, allow_private: bool) -> Target:
    """Check `url` and resolve its host; every address it resolves to must be allowed (one
    private answer among public ones is how rebinding attacks hide)."""
    parts = check_url(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await _resolve(host, port)
    for address in addresses:
        reason = refused(address, allow_private=allow_private)
        if reason is not None:
            raise WebhookTargetError(f"The URL's host resolves to {reason}.")
    return Target(url, parts.scheme, host, port, addresses[0])


async def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(_RESOLVE_TIMEOUT):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError) as exc:
        raise WebhookTargetError("The URL's host does not resolve.") from exc
    # Scope ids ("fe80::1%eth0") are dropped: the address itself decides.
    found = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not found:
        raise WebhookTargetError("The URL's host does not resolve.")
    return found
