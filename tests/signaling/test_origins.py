"""Which Origin may open a room socket: scheme, host and port of this site."""

import ipaddress

import pytest
from hypothesis import given, strategies as st

from signaling.origins import allowed_origins, origin_of


def scope(host="telecare.example.vn", *, scheme="ws", client="203.0.113.7", **headers):
    raw = [(b"host", host.encode())] + [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return {"type": "websocket", "scheme": scheme, "headers": raw, "client": [client, 50000]}


@pytest.fixture(autouse=True)
def production_like(settings):
    settings.ALLOWED_HOSTS = ["telecare.example.vn"]
    settings.PUBLIC_BASE_URL = "https://telecare.example.vn"
    settings.CSRF_TRUSTED_ORIGINS = []
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8")]


@pytest.mark.parametrize(("url", "origin"), [
    ("https://telecare.example.vn", ("https", "telecare.example.vn", 443)),
    ("HTTPS://Telecare.Example.VN:443/", ("https", "telecare.example.vn", 443)),
    ("http://127.0.0.1:8000", ("http", "127.0.0.1", 8000)),
    ("null", None), ("file:///etc", None), ("https://x:99999", None), ("", None), ("ws://telecare.example.vn", None),
])
def test_an_origin_is_its_scheme_host_and_port(url, origin):
    assert origin_of(url) == origin


def test_the_public_origin_passes_and_its_neighbours_do_not():
    allowed = allowed_origins(scope(scheme="wss"))
    assert origin_of("https://telecare.example.vn") in allowed
    for other in ("http://telecare.example.vn", "https://telecare.example.vn:8443", "https://evil.example.vn",
                  "https://telecare.example.vn.evil.example"):
        assert origin_of(other) not in allowed, other


def test_behind_a_trusted_proxy_the_forwarded_scheme_counts_and_from_anyone_else_it_does_not(settings):
    settings.PUBLIC_BASE_URL = "https://other.example.vn"  # so only the socket's own origin can match
    settings.ALLOWED_HOSTS = ["telecare.example.vn"]
    through_proxy = allowed_origins(scope(client="10.1.2.3", x_forwarded_proto="https"))
    assert origin_of("https://telecare.example.vn") in through_proxy
    spoofed = allowed_origins(scope(client="203.0.113.7", x_forwarded_proto="https"))
    assert origin_of("https://telecare.example.vn") not in spoofed
    assert origin_of("http://telecare.example.vn") in spoofed  # what that socket really is


def test_a_host_not_in_allowed_hosts_gives_no_own_origin(settings):
    settings.PUBLIC_BASE_URL = "https://telecare.example.vn"
    allowed = allowed_origins(scope(host="evil.example:443", scheme="wss"))
    assert allowed == {origin_of("https://telecare.example.vn")}


@given(st.text(max_size=80), st.text(max_size=80))
def test_no_header_value_ever_crashes_the_check(host, forwarded):
    try:
        headers = scope(host=host, x_forwarded_proto=forwarded)
    except UnicodeEncodeError:
        return  # not a header a socket can carry
    allowed = allowed_origins(headers)
    assert all(origin is None or len(origin) == 3 for origin in allowed)
