"""Request bodies past a size are answered with 413 before they are buffered.

The limit is MAX_REQUEST_BODY_BYTES, and REQUEST_BODY_LIMITS in settings gives
path prefixes their own (the longest matching prefix wins): that is where an
upload endpoint raises it. This ASGI middleware enforces the rule for any
server; under daphne, config/daphne_body_limit.py enforces the same rule
earlier, while twisted receives the body, because daphne buffers a whole body
before the application sees any of it.
"""

import json

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext

STATUS = 413


def body_limit(path: str) -> int:
    limits = settings.REQUEST_BODY_LIMITS
    prefix = max((p for p in limits if path.startswith(p)), key=len, default=None)
    return settings.MAX_REQUEST_BODY_BYTES if prefix is None else limits[prefix]


def refusal(path: str, limit: int) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers and body of the 413: the API's error shape under /api/, else text."""
    # Nothing says which language the sender reads yet: the site's default.
    with translation.override(settings.LANGUAGE_CODE):
        message = gettext("The data sent is too large: at most %(size)s are accepted here.") % {
            "size": filesizeformat(limit)
        }
    if path.startswith("/api/"):
        body, content_type = json.dumps({"detail": message, "code": "too_large"}).encode(), b"application/json"
    else:
        body, content_type = message.encode(), b"text/plain; charset=utf-8"
    return [(b"content-type", content_type), (b"content-length", str(len(body)).encode())], body


def declared_length(scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimit:
    """ASGI middleware for HTTP: a declared length over the limit is refused
    without reading the body, a streamed one as soon as it passes the limit
    (the application is told the client went away, and the 413 follows)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = body_limit(scope["path"])
        length = declared_length(scope)
        if length is not None and length > limit:
            return await self.refuse(scope, send, limit)

        received = 0
        too_large = False
        response_started = False

        async def counting_receive():
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def watching_send(message):
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, counting_receive, watching_send)
        if too_large and not response_started:
            await self.refuse(scope, send, limit)

    @staticmethod
    async def refuse(scope, send, limit):
        headers, body = refusal(scope["path"], limit)
        await send({"type": "http.response.start", "status": STATUS, "headers": [*headers, (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
