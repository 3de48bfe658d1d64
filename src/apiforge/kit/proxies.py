"""The client's address: `X-Forwarded-For` or `Forwarded` read only through trusted proxies
(`ProxySettings`), else the socket peer. Rate limits key on it, as should anything else reading
proxy headers. Not for: the scheme or host a proxy forwards."""

from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Literal, Self

from pydantic import BaseModel, Field, IPvAnyNetwork, model_validator

from apiforge.kit.asgi import Scope

Address = IPv4Address | IPv6Address
UNKNOWN_CLIENT = "unknown"
# An IPv6 client is limited by its /64: one subscriber holds a whole /64 and can pick any of
# its 2**64 addresses, so a per-address counter would be trivially split.
IPV6_LIMIT_PREFIX = 64


class ProxySettings(BaseModel):
    """The reverse proxies (load balancers, ingress) between clients and the service, whose
    forwarding header is believed. With neither set (the default) every request's client is
    its socket peer and forwarding headers are ignored, as they can be forged by anyone.

    - `trusted_hops`: this many proxies, each appending the address it saw to `header`; the
      client is the entry that many places from the right. Use it when the peer is always
      your proxy (a Kubernetes ingress, one load balancer: 1).
    - `trusted_cidrs`: proxies by address; the header is read only when the peer is one of
      them, and the client is the rightmost entry that is not.
    - `header`: `x-forwarded-for` (nginx, most load balancers) or `forwarded` (RFC 7239);
      only that one is read, so a client cannot slip in the other."""

    trusted_hops: int = Field(default=0, ge=0, le=10)
    trusted_cidrs: list[IPvAnyNetwork] = Field(default_factory=list)
    header: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for"

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if self.trusted_hops and self.trusted_cidrs:
            raise ValueError("set proxy.trusted_hops or proxy.trusted_cidrs, not both")
        return self

    @property
    def trusts_any(self) -> bool:
        return bool(self.trusted_hops or self.trusted_cidrs)


def _parse(text: str) -> Address | None:
    """An address from a header entry: `1.2.3.4`, `1.2.3.4:80`, `[::1]:80`, `"[::1]"`, `::1`;
    None for anything else (`unknown`, obfuscated identifiers, garbage)."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        found = ip_address(text)
    except ValueError:
        return None
    if isinstance(found, IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def _forwarded_for(value: str) -> list[str]:
    """The `for=` of each element of an RFC 7239 `Forwarded` value, in order."""
    entries = []
    for element in value.split(","):
        for pair in element.split(";"):
            name, _, found = pair.partition("=")
            if name.strip().lower() == "for":
                entries.append(found)
    return entries


def _chain(scope: Scope, header: str) -> list[str]:
    """Every entry of every `header` line, leftmost (the furthest hop) first."""
    name = header.encode()
    entries: list[str] = []
    for key, value in scope["headers"]:
        if key == name:
            text = value.decode("latin-1")
            entries += _forwarded_for(text) if header == "forwarded" else text.split(",")
    return entries


def client_address(scope: Scope, proxy: ProxySettings) -> Address | None:
    """The client's address for this request under `proxy`; None when the server gave no peer
    and no trusted header names one."""
    peer = _parse(scope["client"][0]) if scope.get("client") else None
    if not proxy.trusts_any:
        return peer
    if proxy.trusted_hops:
        chain = _chain(scope, proxy.header)
        if len(chain) < proxy.trusted_hops:
            return peer  # not through every proxy: whatever the header says is the client's
        return _parse(chain[-proxy.trusted_hops]) or peer
    networks = proxy.trusted_cidrs
    if peer is None or not any(peer in network for network in networks):
        return peer
    found: Address = peer
    for entry in reversed(_chain(scope, proxy.header)):
        hop = _parse(entry)
        if hop is None:
            break
        found = hop
        if not any(hop in network for network in networks):
            break
    return found


def limit_key(address: Address | None) -> str:
    """The form an address is counted under: IPv4 as is, IPv6 as its /64."""
    if address is None:
        return UNKNOWN_CLIENT
    if isinstance(address, IPv6Address):
        return str(ip_network((address, IPV6_LIMIT_PREFIX), strict=False))
    return str(address)
