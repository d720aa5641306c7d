"""The client's address, believing X-Forwarded-For only from TRUSTED_PROXIES.

Anyone can send the header; only a proxy we run appends the address it saw.
So, starting from the socket's peer and walking the header from its right
end, each hop is believed only while the hop before it is a trusted proxy;
the first address that is not a trusted proxy is the client. An entry that
is not an address stops the walk: the last address we could vouch for wins.
"""

import ipaddress
from collections.abc import Iterable

from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(text: str | None) -> Address | None:
    """An IP address, IPv4-mapped IPv6 folded to IPv4; None for anything else."""
    if not text or "%" in text:  # scoped IPv6 addresses do not come from the internet
        return None
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted_proxy(address: Address) -> bool:
    return any(address in network for network in settings.TRUSTED_PROXIES)


def forwarded_client(peer: str | None, forwarded_for: Iterable[str]) -> str | None:
    """The client behind `peer`, given the values of its X-Forwarded-For headers."""
    current = parse_address(peer)
    if current is None:
        return None
    if not is_trusted_proxy(current):
        return str(current)  # the common case: nothing to read
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            break
        current = address
        if not is_trusted_proxy(current):
            break
    return str(current)


def client_ip(request) -> str | None:
    """For Django requests (also what django-axes counts failures by)."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    return forwarded_client(request.META.get("REMOTE_ADDR"), [forwarded] if forwarded else [])


def scope_client_ip(scope) -> str | None:
    """For ASGI scopes (HTTP and WebSocket)."""
    client = scope.get("client")
    forwarded = [
        value.decode("latin-1") for name, value in scope.get("headers", []) if name.lower() == b"x-forwarded-for"
    ]
    return forwarded_client(client[0] if client else None, forwarded)
