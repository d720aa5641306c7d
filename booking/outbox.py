"""Writing to the outbox: messages are enqueued in the caller's transaction, so a
change and the messages about it are stored together or not at all.

Sources (consultations, lessons) register what the worker must ask them:
whether a message still holds, what to do with a reply, and with a failure.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from booking.models import Reminder, SmsOptOut
from booking.sms_text import prepare


@dataclass(frozen=True)
class Source:
    """What booking asks of the app a message is about.

    is_current(source_id, version): does a message written at that version still hold?
    on_reply(source_id, answer, number) -> reply text or "": the phone at `number`
        answered "confirm" or "cancel" about this item (booking.replies decided which).
    describe(source_id) -> a few words that tell a shared phone's items apart
        ("Hoa 09:00 01/12"), without anything private.
    on_delivery_failed(source_id, reminder): the provider could not deliver an SMS.
    help_text: the answer to a reply we do not understand from a number this
        source last wrote to (booking.replies.HELP_TEXT if empty).
    """

    is_current: Callable[[int, int], bool]
    on_reply: Callable[[int, str, str], str] = lambda source_id, answer, number: ""
    describe: Callable[[int], str] = lambda source_id: ""
    on_delivery_failed: Callable[[int, Reminder], None] = lambda source_id, reminder: None
    help_text: str = ""


_sources: dict[str, Source] = {}


def register_source(name: str, source: Source) -> None:
    _sources[name] = source


def source_for(name: str) -> Source | None:
    return _sources.get(name)


def _quiet_window() -> tuple[time, time]:
    try:
        start, end = (time.fromisoformat(part.strip()) for part in settings.SMS_QUIET_HOURS.split("-"))
    except ValueError:
        raise ImproperlyConfigured(f"SMS_QUIET_HOURS must look like 21:00-07:00, not {settings.SMS_QUIET_HOURS!r}") from None
    return start, end


def quiet_until(moment: datetime) -> datetime | None:
    """The end of the quiet window `moment` falls in, or None outside it."""
    start, end = _quiet_window()
    local = timezone.localtime(moment)
    clock = local.time()
    in_window = (start <= clock or clock < end) if start > end else (start <= clock < end)
    if not in_window:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=local.tzinfo)


def allowed_send_time(when: datetime, *, event_start: datetime) -> datetime:
    """Night-time messages wait for the morning, unless the event comes first."""
    morning = quiet_until(when)
    if morning is None or event_start <= morning:
        return when
    return morning


def enqueue_sms(*, source: str, source_id: int, version: int, purpose: str, to: str, text: str,
                due_at: datetime, event_start: datetime, reply_reference=None,
                now: datetime | None = None) -> Reminder | None:
    """Queue an SMS unless the number opted out or it would already be too late.
    A message that invites a reply names the reference its text carries
    (booking.replies.open_reference)."""
    now = now or timezone.now()
    if not to or SmsOptOut.objects.filter(number=to).exists():
        return None
    due_at = allowed_send_time(max(due_at, now), event_start=event_start)
    stale_at = min(due_at + timedelta(minutes=settings.REMINDER_MAX_LATENESS_MINUTES), event_start)
    if stale_at <= due_at:
        return None  # nothing useful can be said in time
    return Reminder.objects.create(
        channel=Reminder.Channel.SMS, purpose=purpose, source=source, source_id=source_id, source_version=version,
        recipient=to, body=prepare(text, unicode=settings.SMS_UNICODE), reply_reference=reply_reference,
        due_at=due_at, next_attempt_at=due_at, stale_at=stale_at,
    )


def enqueue_reply(*, to: str, text: str, about: Reminder | None = None, purpose: str = "reply",
                  now: datetime | None = None) -> Reminder:
    """An answer to a phone that just wrote to us: sent at once, whatever the
    hour, and whatever has happened since to what it is about (no version)."""
    now = now or timezone.now()
    return Reminder.objects.create(
        channel=Reminder.Channel.SMS, purpose=purpose, recipient=to,
        source=about.source if about else "booking.reply", source_id=about.source_id if about else 0,
        source_version=None, body=prepare(text, unicode=settings.SMS_UNICODE),
        due_at=now, next_attempt_at=now, stale_at=now + timedelta(hours=2),
    )


def enqueue_email(*, source: str, source_id: int, version: int, purpose: str, to: str, subject: str, text: str,
                  calendar: bytes = b"", calendar_method: str = "", stale_at: datetime,
                  now: datetime | None = None) -> Reminder | None:
    now = now or timezone.now()
    if not to or stale_at <= now:
        return None
    return Reminder.objects.create(
        channel=Reminder.Channel.EMAIL, purpose=purpose, source=source, source_id=source_id, source_version=version,
        recipient=to, subject=subject, body=text, attachment=calendar.decode("utf-8"), attachment_method=calendar_method,
        due_at=now, next_attempt_at=now, stale_at=stale_at,
    )


def withdraw(*, source: str, source_id: int | list[int], recipient: str | None = None) -> int:
    """Withdraw what has not gone out yet (a change makes it wrong), about one
    source or several, to everyone or one recipient. A message being sent right
    now, or one that may have gone out, is left to the worker: it asks the
    provider first, then re-checks the source."""
    about = {"source_id__in": source_id} if isinstance(source_id, list) else {"source_id": source_id}
    if recipient is not None:
        about["recipient"] = recipient
    return Reminder.objects.filter(
        source=source, **about, status=Reminder.Status.PENDING, needs_reconcile=False
    ).update(
        status=Reminder.Status.WITHDRAWN, updated_at=timezone.now()
    )


def messages_about(*, source: str, source_id: int):
    return Reminder.objects.filter(source=source, source_id=source_id).order_by("created_at", "pk")
