"""Twilio's request signature (X-Twilio-Signature), used by the webhooks to check
requests and by the stub to sign them: base64(HMAC-SHA1(auth token, URL followed
by every POST parameter's name and value, sorted by name))."""

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping


def _pairs(params) -> Iterable[tuple[str, str]]:
    if hasattr(params, "lists"):  # Django's QueryDict: repeated keys
        for key, values in params.lists():
            for value in values:
                yield key, value
    elif isinstance(params, Mapping):
        yield from params.items()
    else:
        yield from params


def compute_signature(auth_token: str, url: str, params) -> str:
    data = url + "".join(f"{key}{value}" for key, value in sorted(_pairs(params)))
    digest = hmac.new(auth_token.encode(), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def is_valid_signature(auth_token: str, url: str, params, signature: str | None) -> bool:
    if not signature or not auth_token:
        return False
    return hmac.compare_digest(compute_signature(auth_token, url, params), signature)
