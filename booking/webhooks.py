"""Webhooks the SMS provider calls: delivery status and replies from phones.
Both check X-Twilio-Signature against SMS_AUTH_TOKEN and the public URL."""

import logging
import unicodedata

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from booking.delivery import record_status_report
from booking.models import InboundMessage, Reminder, SmsOptOut
from booking import outbox
from booking.outbox import source_for
from booking.signatures import is_valid_signature
from booking.sms_text import strip_diacritics

log = logging.getLogger(__name__)

CONFIRM = {"C", "CO", "1", "OK"}
CANCEL = {"H", "HUY", "2"}
STOP = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "DUNG", "TUCHOI"}
START = {"START", "UNSTOP", "YES"}  # as the provider treats them
HELP_TEXT = "Tra loi C de xac nhan, H de huy lich kham, STOP de ngung nhan tin. Can ho tro, xin goi tram y te."
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


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
    if sid and status:
        record_status_report(sid=sid, status=status, error_code=request.POST.get("ErrorCode", ""))
    return HttpResponse(status=204)


def keyword(body: str) -> str:
    """'  Hủy ' -> 'HUY': what the person meant, without spaces, case or diacritics."""
    text = strip_diacritics(unicodedata.normalize("NFC", body)).upper()
    return " ".join(text.replace(".", " ").replace("!", " ").split())


def _latest_reminder_to(number: str) -> Reminder | None:
    return (
        Reminder.objects.filter(channel=Reminder.Channel.SMS, recipient=number, sent_at__isnull=False)
        .order_by("-sent_at").first()
    )


def handle_inbound(message: InboundMessage) -> str:
    """Act on a reply once; returns what was done."""
    word = keyword(message.body)
    number = message.from_number
    if word in STOP:
        SmsOptOut.objects.get_or_create(number=number)
        Reminder.objects.filter(recipient=number, status=Reminder.Status.PENDING).update(status=Reminder.Status.OPTED_OUT)
        return "opted_out"
    if word in START:
        SmsOptOut.objects.filter(number=number).delete()
        return "opted_in"
    reminder = _latest_reminder_to(number)
    message.reminder = reminder
    source = source_for(reminder.source) if reminder else None
    if word in CONFIRM | CANCEL and source is not None:
        answer = "confirm" if word in CONFIRM else "cancel"
        text = source.on_reply(reminder.source_id, answer)
        if text:
            outbox.enqueue_reply(to=number, text=text, about=reminder)
        return answer
    outbox.enqueue_reply(to=number, text=HELP_TEXT, about=reminder)
    return "help"


@csrf_exempt
@require_POST
@signed
def sms_inbound(request):
    sid = request.POST.get("MessageSid", "")
    number = request.POST.get("From", "")
    if not sid or not number:
        return HttpResponse("MessageSid and From are required", status=400)
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(provider_sid=sid, from_number=number, body=request.POST.get("Body", ""))
            message.action = handle_inbound(message)
            message.save(update_fields=["action", "reminder"])
    except IntegrityError:
        log.info("inbound %s already handled", sid)  # the provider posted it again
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
