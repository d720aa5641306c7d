"""X-Forwarded-For is believed only from TRUSTED_PROXIES (config/client_address.py)."""

import ipaddress

import pytest
from django.test import RequestFactory, override_settings
from hypothesis import given, settings as hypothesis_settings, strategies as st

from config.client_address import client_ip, forwarded_client, scope_client_ip

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8:ffff::/48"))
trusting_proxies = override_settings(TRUSTED_PROXIES=PROXIES)



def canonical(text: str) -> str:
    address = ipaddress.ip_address(text.strip())
    return str(getattr(address, "ipv4_mapped", None) or address)


addresses = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)).map(str)
untrusted = addresses.filter(lambda a: not any(ipaddress.ip_address(canonical(a)) in n for n in PROXIES))
trusted = st.one_of(
    st.integers(0, 2**24 - 1).map(lambda i: str(ipaddress.ip_address(0x0A000000 + i))),
    st.integers(0, 2**80 - 1).map(lambda i: str(ipaddress.ip_address((0x20010DB8FFFF << 80) + i))),
)
# Anything a sender can put in the header: addresses, lists of them, junk, both.
header_values = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(addresses, st.text(max_size=20)), max_size=8).map(", ".join),
    st.binary(max_size=100).map(lambda b: b.decode("latin-1")),
)


def is_address(text) -> bool:
    try:
        ipaddress.ip_address(text.strip())
    except ValueError:
        return False
    return "%" not in text


@trusting_proxies
@hypothesis_settings(max_examples=300)
@given(peer=untrusted, headers=st.lists(header_values, max_size=3))
def test_from_an_untrusted_peer_no_header_changes_the_answer(peer, headers):
    assert forwarded_client(peer, headers) == canonical(peer)


@trusting_proxies
@hypothesis_settings(max_examples=300)
@given(peer=trusted, headers=st.lists(header_values, max_size=3))
def test_from_a_trusted_proxy_the_answer_is_always_an_address(peer, headers):
    answer = forwarded_client(peer, headers)
    hops = [hop for value in headers for hop in value.split(",")]
    assert answer == canonical(peer) or answer in {canonical(hop) for hop in hops if is_address(hop)}


@trusting_proxies
@hypothesis_settings(max_examples=200)
@given(client=untrusted, spoofed=st.lists(addresses, max_size=4), proxies=st.lists(trusted, min_size=1, max_size=3))
def test_behind_trusted_proxies_the_rightmost_untrusted_address_is_the_client(client, spoofed, proxies):
    # The client sent its own (spoofed) header; each proxy appended the address it saw.
    header = ", ".join([*spoofed, client, *proxies[:-1]])
    assert forwarded_client(proxies[-1], [header]) == canonical(client)


@trusting_proxies
def test_the_rule_by_example():
    assert forwarded_client("10.0.0.1", ["203.0.113.9"]) == "203.0.113.9"
    assert forwarded_client("10.0.0.1", ["198.51.100.1, 203.0.113.9, 10.0.0.2"]) == "203.0.113.9"
    assert forwarded_client("10.0.0.1", ["198.51.100.1", "203.0.113.9"]) == "203.0.113.9"  # two headers
    assert forwarded_client("10.0.0.1", []) == "10.0.0.1"
    assert forwarded_client("10.0.0.1", ["10.0.0.3"]) == "10.0.0.3"  # only proxies: the farthest
    assert forwarded_client("10.0.0.1", ["203.0.113.9, junk"]) == "10.0.0.1"  # junk never wins
    assert forwarded_client("10.0.0.1", ["junk, 10.0.0.2"]) == "10.0.0.2"
    assert forwarded_client("203.0.113.5", ["198.51.100.1"]) == "203.0.113.5"
    assert forwarded_client("::ffff:10.0.0.1", ["::ffff:203.0.113.9"]) == "203.0.113.9"
    assert forwarded_client(None, ["203.0.113.9"]) is None
    assert forwarded_client("not-an-address", ["203.0.113.9"]) is None


@override_settings(TRUSTED_PROXIES=())
def test_with_no_trusted_proxies_the_header_is_never_read():
    assert forwarded_client("127.0.0.1", ["203.0.113.9"]) == "127.0.0.1"


@trusting_proxies
def test_django_requests_and_asgi_scopes_give_the_same_answer():
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9")
    assert client_ip(request) == "203.0.113.9"
    scope = {
        "type": "websocket", "client": ["10.1.2.3", 51000],
        "headers": [(b"x-forwarded-for", b"198.51.100.1"), (b"X-Forwarded-For", b"203.0.113.9"), (b"host", b"a.vn")],
    }
    assert scope_client_ip(scope) == "203.0.113.9"
    assert scope_client_ip({"type": "websocket", "client": None, "headers": []}) is None
    assert scope_client_ip({**scope, "client": ["203.0.113.50", 1]}) == "203.0.113.50"


@pytest.mark.parametrize("value", ["10.0.0.0/8, 192.168.1.7", "::1, 2001:db8::/32", ""])
def test_trusted_proxies_are_read_from_the_environment(monkeypatch, value):
    from config.env import env_networks

    monkeypatch.setenv("X_PROXIES", value)
    assert [str(n) for n in env_networks("X_PROXIES")] == [str(ipaddress.ip_network(v.strip())) for v in value.split(",") if v.strip()]


@pytest.mark.parametrize("value", ["10.0.0.1/8", "proxy.example.vn", "10.0.0.0/33"])
def test_a_bad_trusted_proxy_is_refused(monkeypatch, value):
    from django.core.exceptions import ImproperlyConfigured

    from config.env import env_networks

    monkeypatch.setenv("X_PROXIES", value)
    with pytest.raises(ImproperlyConfigured, match="X_PROXIES"):
        env_networks("X_PROXIES")
