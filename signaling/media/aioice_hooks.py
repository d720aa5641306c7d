"""The one place that reaches into aioice's internals.

aioice gathers host candidates on every interface except 127.0.0.1, through the
module-level `aioice.ice.get_host_addresses`. ICE_HOST_ADDRESSES replaces that
function, so the server's peer announces exactly the configured addresses (the
public interface in production, 127.0.0.1 in tests and the embedded default).
tests/signaling/test_media_hooks.py fails loudly if an upgrade moves it.
"""

import ipaddress

import aioice.ice

_original_get_host_addresses = aioice.ice.get_host_addresses


def restrict_host_addresses(addresses: list[str]) -> None:
    """Gather host candidates on these addresses only; [] restores aioice's own choice."""
    if not addresses:
        aioice.ice.get_host_addresses = _original_get_host_addresses
        return
    parsed = [ipaddress.ip_address(a) for a in addresses]  # ValueError on a typo

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [str(a) for a in parsed if (a.version == 4 and use_ipv4) or (a.version == 6 and use_ipv6)]

    aioice.ice.get_host_addresses = get_host_addresses
