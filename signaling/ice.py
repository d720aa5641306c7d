"""The ICE servers a call uses: STUN, and TURN with short-lived credentials.

TURN credentials follow the TURN REST API scheme that coturn checks with
`use-auth-secret`: the username is "<expiry as Unix time>:<user key>" and the
password base64(HMAC-SHA1(TURN_SECRET, username)), so coturn needs no user
database and a leaked credential stops working after TURN_CREDENTIAL_TTL. An
expiry only stops new allocations: a call already relayed keeps its allocation.
"""

import base64
import hashlib
import hmac

from django.conf import settings
from django.utils import timezone


def turn_credentials(user_key: str, *, secret: str, ttl: int) -> tuple[str, str]:
    """(username, password) for this user key, valid for ttl seconds from now."""
    if ":" in user_key:
        raise ValueError("a TURN user key cannot contain ':' (coturn splits the username there)")
    expiry = int(timezone.now().timestamp()) + ttl
    username = f"{expiry}:{user_key}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def ice_servers_for(user_key: str) -> list[dict]:
    """The `iceServers` of an RTCPeerConnection: STUN, then TURN with fresh
    credentials for user_key. Only for someone admitted into a room."""
    servers = []
    if settings.STUN_URLS:
        servers.append({"urls": list(settings.STUN_URLS)})
    if settings.TURN_URLS:
        username, credential = turn_credentials(user_key, secret=settings.TURN_SECRET, ttl=settings.TURN_CREDENTIAL_TTL)
        servers.append({"urls": list(settings.TURN_URLS), "username": username, "credential": credential})
    return servers


def server_ice_servers() -> list[dict]:
    """The server's own aiortc peers: fresh credentials for each peer, since a
    room (and so its media router) can outlive one credential."""
    return ice_servers_for("media-server")
