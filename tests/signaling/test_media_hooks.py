"""The hooks into aioice and aiortc internals: these fail loudly if an upgrade moves them."""

import inspect

import aioice
import aioice.ice
import aiortc
import pytest

from signaling.media.aioice_hooks import restrict_host_addresses


def test_pinned_versions_are_the_ones_the_hooks_were_written_for():
    assert aiortc.__version__ == "1.16.0"
    assert aioice.__version__ == "0.13.0"


def test_aioice_still_looks_host_addresses_up_through_the_module_function():
    source = inspect.getsource(aioice.ice.Connection.gather_candidates)
    assert "get_host_addresses(" in source


async def test_the_server_gathers_only_the_configured_addresses():
    # The app configured 127.0.0.1 (ICE_HOST_ADDRESSES) at start-up.
    assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=True) == ["127.0.0.1"]
    connection = aioice.Connection(ice_controlling=True, stun_server=None)
    try:
        await connection.gather_candidates()
        assert {(c.host, c.type) for c in connection.local_candidates} == {("127.0.0.1", "host")}
    finally:
        await connection.close()


def test_a_bad_address_is_refused_and_an_empty_list_restores_aioice():
    with pytest.raises(ValueError):
        restrict_host_addresses(["not-an-address"])
    try:
        restrict_host_addresses([])
        assert "127.0.0.1" not in aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False)
        restrict_host_addresses(["127.0.0.1", "::1"])
        assert aioice.ice.get_host_addresses(use_ipv4=False, use_ipv6=True) == ["::1"]
    finally:
        restrict_host_addresses(["127.0.0.1"])
