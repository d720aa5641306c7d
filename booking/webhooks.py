"""Webhooks the SMS provider calls: delivery status and replies from phones
(acted on by booking.replies). Both check X-Twilio-Signature against
SMS_AUTH_TOKEN and the public URL."""

import logging
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from booking.delivery import record_status_report
from booking import replies
from booking.models import InboundMessage
from booking.signatures import is_valid_signature

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# What the provider sends, in the shapes our columns hold: anything else is refused
# with a 400, never stored half-way or turned into a 500 by the database.
SID = re.compile(r"^[A-Za-z0-9]{2,64}$", re.ASCII)
STATUS = re.compile(r"^[a-z_]{1,20}$", re.ASCII)
ERROR_CODE = re.compile(r"^[0-9]{0,10}$", re.ASCII)
NUMBER = re.compile(r"^\+[0-9]{6,15}$", re.ASCII)
MAX_BODY_CHARS = 1600  # ten segments: the most a provider concatenates


def clean_body(body: str) -> str:
    """A reply's text as stored: NFC is done by the parser; NUL (which PostgreSQL
    refuses) and other control characters go, and so does anything past the limit."""
    return "".join(ch for ch in body[:MAX_BODY_CHARS] if ch in "\n\t" or ord(ch) >= 32 and ch != "\x7f")


def signed(view):
    """Refuse (403) a request whose signature does not match its public URL."""

    def wrapper(request, *args, **kwargs):
        url = settings.PUBLIC_BASE_URL + request.get_full_path()
        signature = request.headers.get("X-Twilio-Signature")
        if not is_valid_signature(settings.SMS_AUTH_TOKEN, url, request.POST, signature):
            log.warning("webhook %s: bad or missing signature", request.path)
            return HttpResponseForbidden("bad signature")
        return view(request, *args, **kwargs)

    return wrapper


@csrf_exempt
@require_POST
@signed
def sms_status(request):
    sid = request.POST.get("MessageSid", "")
    status = request.POST.get("MessageStatus", "")
    error_code = request.POST.get("ErrorCode", "")
    if not SID.match(sid) or not STATUS.match(status) or not ERROR_CODE.match(error_code):
        return HttpResponse("MessageSid, MessageStatus or ErrorCode is malformed", status=400)
    record_status_report(sid=sid, status=status, error_code=error_code)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
@signed
def sms_inbound(request):
    sid = request.POST.get("MessageSid", "")
    number = request.POST.get("From", "")
    if not SID.match(sid) or not NUMBER.match(number):
        return HttpResponse("MessageSid and an E.164 From are required", status=400)
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(
                provider_sid=sid, from_number=number, body=clean_body(request.POST.get("Body", "")))
            message.action = replies.handle(message)
            message.save(update_fields=["action", "reminder"])
    except IntegrityError:
        log.info("inbound %s already handled", sid)  # the provider posted it again
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
