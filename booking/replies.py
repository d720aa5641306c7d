"""Replies from phones that several people may share (a relative's phone often
serves several patients, or a guardian several pupils).

Every message that invites a reply carries a short reference of its item
("H 4821"). A reply acts on exactly the item it names, and only if that item's
message went to the number it comes from; a bare "C" or "H" acts only when the
number has exactly one open item, and otherwise changes nothing and lists the
references. STOP and START stay per number. Nothing here ever acts on a guess.
"""

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from booking import outbox
from booking.models import InboundMessage, Reminder, ReplyReference, SmsOptOut
from booking.sms_text import prepare, segments, strip_diacritics

CONFIRM = {"C", "CO", "1", "OK"}
CANCEL = {"H", "HUY", "2"}
STOP = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "DUNG", "TUCHOI"}
START = {"START", "UNSTOP", "YES"}  # as the provider treats them
ANSWER_WORDS = "|".join(sorted(CONFIRM | CANCEL, key=len, reverse=True))
# "H 4821", "H4821", "HUY #4821", "4821 H": ASCII digits only.
WITH_CODE = re.compile(rf"^(?:(?P<word>{ANSWER_WORDS}) ?(?P<code>[0-9]{{4}})|(?P<code2>[0-9]{{4}}) ?(?P<word2>{ANSWER_WORDS}))$")

# Each source has its own (outbox.Source.help_text); this is for a number no source wrote to.
HELP_TEXT = ("Tra loi C kem ma 4 so trong tin nhan de xac nhan, H kem ma de huy (vd: H 1234). "
             "STOP de ngung nhan tin.")
UNKNOWN_CODE_TEXT = ("Ma {code} khong khop voi lich nao da nhan tin toi so nay, hoac da het han. "
                     "Khong co thay doi nao. Xin kiem tra ma trong tin nhan.")
NOTHING_OPEN_TEXT = ("So nay khong co lich nao dang cho tra loi (lich da qua, da huy hoac chua nhan tin). "
                     "Khong co thay doi nao. Can ho tro, xin lien he tram y te hoac nha truong.")
CHOOSE_TEXT = "So nay co {count} lich. Tra loi kem ma: {items}. Vd: {example} {code}"
HELP_EVERY = timedelta(hours=1)
# Messages that went to the number (or are going right now): knowing their code proves receipt.
WENT = (Reminder.Status.SENDING, Reminder.Status.SENT, Reminder.Status.DELIVERED, Reminder.Status.UNDELIVERED)


@dataclass(frozen=True)
class Reply:
    """What a reply says: an answer ("confirm", "cancel", "stop", "start" or "")
    and the reference it names, if any."""

    answer: str
    code: str | None = None


def words(body: str) -> str:
    """'  Hủy #4821 ' -> 'HUY 4821': what the person meant, without case or diacritics."""
    text = strip_diacritics(unicodedata.normalize("NFC", body or "")).upper()
    for mark in ".!,;:#-_()[]\"'":
        text = text.replace(mark, " ")
    return " ".join(text.split())


def parse(body: str) -> Reply:
    text = words(body)
    if text in STOP:
        return Reply("stop")
    if text in START:
        return Reply("start")
    if text in CONFIRM:
        return Reply("confirm")
    if text in CANCEL:
        return Reply("cancel")
    match = WITH_CODE.match(text)
    if match:
        word = match["word"] or match["word2"]
        return Reply("confirm" if word in CONFIRM else "cancel", match["code"] or match["code2"])
    return Reply("")


# Writing: the reference a message carries.

def open_reference(*, number: str, source: str, source_id: int, open_until: datetime,
                   now: datetime | None = None) -> ReplyReference:
    """The item's open reference for this number, made if it has none; a moved
    event keeps its reference and stays open until its new start."""
    now = now or timezone.now()
    open_refs = ReplyReference.objects.filter(number=number, closed_at__isnull=True)
    # Expired references give their codes back only now, when the number gets a new one.
    open_refs.filter(open_until__lte=now).update(closed_at=now)
    existing = open_refs.filter(source=source, source_id=source_id).first()
    if existing is not None:
        if existing.open_until != open_until:
            existing.open_until = open_until
            existing.save(update_fields=["open_until"])
        return existing
    taken = set(open_refs.values_list("code", flat=True))
    for _attempt in range(20):
        code = f"{1000 + secrets.randbelow(9000)}"
        if code in taken:
            continue
        try:
            with transaction.atomic():  # a concurrent writer may take the code first
                return ReplyReference.objects.create(
                    number=number, code=code, source=source, source_id=source_id, open_until=open_until)
        except IntegrityError:
            existing = open_refs.filter(source=source, source_id=source_id).first()
            if existing is not None:
                return existing
            taken.add(code)
    raise RuntimeError(f"no free reply code for {number}")  # 9000 codes: a number never has that many items


def close_references(*, source: str, source_id: int | list[int], number: str | None = None,
                     now: datetime | None = None) -> int:
    """The item is over (cancelled), for everyone or for one number: replies
    naming it change nothing any more."""
    about = {"source_id__in": source_id} if isinstance(source_id, list) else {"source_id": source_id}
    if number is not None:
        about["number"] = number
    return ReplyReference.objects.filter(source=source, closed_at__isnull=True, **about).update(
        closed_at=now or timezone.now())


# Reading: what a reply from a number acts on.

def open_items(number: str, now: datetime):
    """The number's open references whose message went to it, oldest event first."""
    return (ReplyReference.objects.filter(number=number, closed_at__isnull=True, open_until__gt=now)
            .filter(messages__recipient=number, messages__status__in=WENT).distinct().order_by("open_until", "pk"))


def _last_message(reference: ReplyReference, number: str) -> Reminder | None:
    return reference.messages.filter(recipient=number, status__in=WENT).order_by("-pk").first()


def choose_text(references: list[ReplyReference], answer: str) -> str:
    """The list of the number's references, in one GSM-7 segment where it fits:
    with what each is about, else the codes alone."""
    example = "H" if answer == "cancel" else "C"
    items = []
    for reference in references:
        source = outbox.source_for(reference.source)
        label = source.describe(reference.source_id) if source is not None else ""
        items.append(f"{reference.code} {label}".strip())
    fields = {"count": len(references), "example": example, "code": references[0].code}
    text = prepare(CHOOSE_TEXT.format(items="; ".join(items), **fields), unicode=settings.SMS_UNICODE)
    if segments(text)[1] > 1:
        text = prepare(CHOOSE_TEXT.format(items=", ".join(r.code for r in references), **fields), unicode=settings.SMS_UNICODE)
    return text


def help_text_for(number: str) -> str:
    """The help of the source that last wrote to this number (a clinic's and a
    school's replies differ), else the generic one."""
    last = (Reminder.objects.filter(recipient=number, channel=Reminder.Channel.SMS).exclude(source__in=["", "booking.reply"])
            .order_by("-created_at", "-pk").values_list("source", flat=True).first())
    source = outbox.source_for(last) if last else None
    return source.help_text if source is not None and source.help_text else HELP_TEXT


def _help_recently_sent(number: str, now: datetime) -> bool:
    return Reminder.objects.filter(recipient=number, purpose="help", created_at__gte=now - HELP_EVERY).exists()


def handle(message: InboundMessage, now: datetime | None = None) -> str:
    """Act on a reply once (the caller stores it by the provider's id); returns what was done."""
    now = now or timezone.now()
    number = message.from_number
    reply = parse(message.body)
    if reply.answer == "stop":
        SmsOptOut.objects.get_or_create(number=number)
        Reminder.objects.filter(recipient=number, status=Reminder.Status.PENDING).update(status=Reminder.Status.OPTED_OUT)
        return "opted_out"
    if reply.answer == "start":
        SmsOptOut.objects.filter(number=number).delete()
        return "opted_in"
    if not reply.answer:
        if _help_recently_sent(number, now):
            return "ignored"  # one help text an hour is enough; more only costs the sender nothing and us money
        outbox.enqueue_reply(to=number, text=help_text_for(number), purpose="help", now=now)
        return "help"
    items = list(open_items(number, now))
    if reply.code is not None:
        chosen = [item for item in items if item.code == reply.code]
        if not chosen:
            outbox.enqueue_reply(to=number, text=UNKNOWN_CODE_TEXT.format(code=reply.code), purpose="unknown_code", now=now)
            return "unknown_code"
        return _act(message, chosen[0], reply.answer, now)
    if len(items) == 1:
        return _act(message, items[0], reply.answer, now)
    if not items:
        outbox.enqueue_reply(to=number, text=NOTHING_OPEN_TEXT, purpose="nothing_open", now=now)
        return "nothing_open"
    outbox.enqueue_reply(to=number, text=choose_text(items, reply.answer), purpose="choose", now=now)
    return "ambiguous"


def _act(message: InboundMessage, reference: ReplyReference, answer: str, now: datetime) -> str:
    number = message.from_number
    message.reminder = _last_message(reference, number)
    source = outbox.source_for(reference.source)
    # The source closes the reference when the answer ends the item (a cancelled consultation).
    text = source.on_reply(reference.source_id, answer, number) if source is not None else ""
    if text:
        outbox.enqueue_reply(to=number, text=text, about=message.reminder, now=now)
    return answer
