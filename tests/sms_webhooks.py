"""Posting to the SMS provider's webhooks as the provider does: signed with
SMS_AUTH_TOKEN for the public URL."""

from itertools import count

from django.conf import settings

from booking.signatures import compute_signature

_sids = count(1)


def post_signed(client, path, params, *, signature=None):
    url = settings.PUBLIC_BASE_URL + path
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature if signature is not None else compute_signature(settings.SMS_AUTH_TOKEN, url, params)}
    if signature == "":
        headers = {}
    return client.post(path, params, **headers)


def reply(client, number, body, *, sid=None):
    """A reply from a phone, each with a new MessageSid unless told."""
    sid = sid or f"SMreply{next(_sids):06d}"
    return post_signed(client, "/webhooks/sms/inbound/", {"MessageSid": sid, "From": number, "To": settings.SMS_FROM, "Body": body})
