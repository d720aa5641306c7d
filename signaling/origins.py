"""Which pages may open a room socket: those of this site, by scheme, host and
port, as Django's CSRF check judges a POST's Origin. Channels' own
AllowedHostsOriginValidator compares the host alone, so a page served on
another port of the same host, or over plain HTTP, would pass.

Allowed: the origin of PUBLIC_BASE_URL, any of CSRF_TRUSTED_ORIGINS, and the
socket's own origin (its Host header, which must be in ALLOWED_HOSTS, and
its scheme: wss, or X-Forwarded-Proto from a trusted proxy). A socket
without an Origin is refused: browsers always send one.
"""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

from config.client_address import is_trusted_proxy, parse_address

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> tuple[str, str, int] | None:
    """('https', 'telecare.example.vn', 443) for a URL or origin; None if it is not one."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def own_origin(scope) -> tuple[str, str, int] | None:
    """The origin a page of this site has when it opens this socket."""
    host = _header(scope, b"host")
    if not host:
        return None
    domain, port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    secure = scope.get("scheme") == "wss"
    peer = parse_address((scope.get("client") or [None])[0])
    if peer is not None and is_trusted_proxy(peer):
        secure = secure or (_header(scope, b"x-forwarded-proto") or "").strip().lower() == "https"
    scheme = "https" if secure else "http"
    try:
        number = int(port) if port else DEFAULT_PORTS[scheme]
    except ValueError:
        return None
    return scheme, domain, number


def allowed_origins(scope) -> set:
    configured = [settings.PUBLIC_BASE_URL, *settings.CSRF_TRUSTED_ORIGINS]
    return {origin for origin in [*(origin_of(url) for url in configured), own_origin(scope)] if origin is not None}


class SameOriginValidator:
    """ASGI middleware for the websocket router: refuses (403 at the handshake)
    a socket whose Origin is not one of this site's."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            origin = _header(scope, b"origin")
            if origin is None or origin_of(origin) not in allowed_origins(scope):
                return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
