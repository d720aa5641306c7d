"""The outbox worker: claims due messages, sends them, records what happened.

Crash safety. A message is marked `sending` (and committed) before the HTTP
call. If the worker dies, the row stays `sending` until its lease runs out; the
next worker to claim it, and any attempt after a time-out, first lists the
provider's messages to that number and adopts a match instead of sending
again. Several workers share the outbox through `FOR UPDATE SKIP LOCKED` on
PostgreSQL; on SQLite the claiming transaction is serialized.
"""

import logging
import os
import socket
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from booking import sms
from booking.delivery import apply_status_reports
from booking.models import Reminder, SmsOptOut
from booking.outbox import quiet_until, source_for

log = logging.getLogger(__name__)

STATUS_CALLBACK_PATH = "/webhooks/sms/status/"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_due(*, worker: str, now: datetime, limit: int) -> list[Reminder]:
    """Take up to `limit` due messages for this worker, in one short transaction."""
    lease_expired = now - timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    due = Q(status=Reminder.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Reminder.Status.SENDING, claimed_at__lt=lease_expired
    )
    with transaction.atomic():
        candidates = Reminder.objects.filter(due).order_by("next_attempt_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        rows = list(candidates.values_list("pk", "status")[:limit])
        abandoned = [pk for pk, status in rows if status == Reminder.Status.SENDING]
        if abandoned:
            # Their worker died mid-send: the provider may have the message.
            Reminder.objects.filter(pk__in=abandoned).update(needs_reconcile=True)
        ids = [pk for pk, _ in rows]
        Reminder.objects.filter(pk__in=ids).update(
            status=Reminder.Status.SENDING, claimed_at=now, claimed_by=worker,
            attempts=F("attempts") + 1, first_attempt_at=Coalesce("first_attempt_at", now), updated_at=now,
        )
    return list(Reminder.objects.filter(pk__in=ids, claimed_by=worker, claimed_at=now).order_by("next_attempt_at", "pk"))


class OutboxWorker:
    def __init__(self, *, gateway: sms.SmsGateway | None = None, name: str | None = None, batch_size: int = 10):
        self.gateway = gateway or sms.SmsGateway()
        self.name = name or worker_name()
        self.batch_size = batch_size

    def now(self) -> datetime:
        return timezone.now()

    def step(self) -> bool:
        """Send one batch of due messages; False when there was nothing to do."""
        claimed = claim_due(worker=self.name, now=self.now(), limit=self.batch_size)
        for reminder in claimed:
            try:
                self.deliver(reminder)
            except Exception:  # one bad message must not stop the others
                log.exception("outbox: message %s failed unexpectedly", reminder.pk)
                self._retry(reminder, "internal error", unknown=reminder.channel == Reminder.Channel.SMS)
        return bool(claimed)

    # Outcomes. Each is a conditional update on our claim: if another worker
    # took the row over (our lease ran out), nothing is overwritten.
    def _finish(self, reminder: Reminder, status: str, error: str = "", **fields) -> bool:
        updated = Reminder.objects.filter(pk=reminder.pk, status=Reminder.Status.SENDING, claimed_by=self.name,
                                          claimed_at=reminder.claimed_at).update(
            status=status, last_error=error[:300], needs_reconcile=False, updated_at=self.now(), **fields
        )
        if not updated:
            log.warning("outbox: message %s was taken over by another worker", reminder.pk)
        return bool(updated)

    def _retry(self, reminder: Reminder, error: str, *, unknown: bool, retry_after: float | None = None):
        if reminder.attempts >= settings.OUTBOX_MAX_ATTEMPTS and not unknown:
            self._give_up(reminder, f"gave up after {reminder.attempts} attempts: {error}")
            return
        backoff = min(settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** (reminder.attempts - 1), settings.OUTBOX_RETRY_MAX_SECONDS)
        delay = retry_after if retry_after is not None else backoff
        Reminder.objects.filter(pk=reminder.pk, status=Reminder.Status.SENDING, claimed_by=self.name,
                                claimed_at=reminder.claimed_at).update(
            status=Reminder.Status.PENDING, next_attempt_at=self.now() + timedelta(seconds=delay),
            last_error=error[:300], needs_reconcile=unknown or reminder.needs_reconcile,
            updated_at=self.now(),
        )

    def _give_up(self, reminder: Reminder, error: str):
        if self._finish(reminder, Reminder.Status.FAILED, error):
            source = source_for(reminder.source)
            if source and reminder.channel == Reminder.Channel.SMS:
                source.on_delivery_failed(reminder.source_id, reminder)

    def _record_sent(self, reminder: Reminder, sid: str, provider_status: str):
        if self._finish(reminder, Reminder.Status.SENT, provider_sid=sid, provider_status=provider_status,
                        sent_at=self.now()):
            apply_status_reports(sid)

    def _renew_claim(self, reminder: Reminder) -> bool:
        """Restart the lease right before talking to the provider. A message of a
        batch can wait behind slow calls; if its lease ran out meanwhile another
        worker may have it, and sending it here could send it twice."""
        now = self.now()
        renewed = Reminder.objects.filter(pk=reminder.pk, status=Reminder.Status.SENDING, claimed_by=self.name,
                                          claimed_at=reminder.claimed_at).update(claimed_at=now)
        if not renewed:
            log.info("outbox: message %s was taken over by another worker; leaving it", reminder.pk)
            return False
        reminder.claimed_at = now
        return True

    def deliver(self, reminder: Reminder):
        if not self._renew_claim(reminder):
            return
        now = self.now()
        if reminder.channel == Reminder.Channel.SMS and reminder.needs_reconcile:
            try:
                found = self._find_at_provider(reminder)
            except sms.RetryLater as error:
                self._retry(reminder, f"could not check with the provider: {error}", unknown=True, retry_after=error.retry_after)
                return
            if found is not None:
                self._record_sent(reminder, found.sid, found.status)
                return
        if reminder.is_stale(now):
            self._finish(reminder, Reminder.Status.DROPPED, "too late to be useful")
            return
        source = source_for(reminder.source)
        versioned = reminder.source_version is not None
        if source is not None and versioned and not source.is_current(reminder.source_id, reminder.source_version):
            self._finish(reminder, Reminder.Status.WITHDRAWN, "changed since it was written")
            return
        if reminder.attempts > settings.OUTBOX_MAX_ATTEMPTS:
            self._give_up(reminder, f"gave up after {reminder.attempts - 1} attempts: {reminder.last_error}")
            return
        if reminder.channel == Reminder.Channel.SMS:
            self._send_sms(reminder, now)
        else:
            self._send_email(reminder)

    def _send_sms(self, reminder: Reminder, now: datetime):
        if SmsOptOut.objects.filter(number=reminder.recipient).exists():
            self._finish(reminder, Reminder.Status.OPTED_OUT, "the number opted out")
            return
        morning = quiet_until(now)
        if morning is not None and morning < reminder.stale_at:
            # A retry that slipped into the night waits for the morning (not an attempt).
            Reminder.objects.filter(pk=reminder.pk, claimed_by=self.name, claimed_at=reminder.claimed_at).update(
                status=Reminder.Status.PENDING, next_attempt_at=morning, attempts=F("attempts") - 1, updated_at=now
            )
            return
        try:
            sent = self.gateway.send(to=reminder.recipient, body=reminder.body,
                                     status_callback=settings.PUBLIC_BASE_URL + STATUS_CALLBACK_PATH)
        except sms.RetryLater as error:
            self._retry(reminder, str(error), unknown=error.outcome_unknown, retry_after=error.retry_after)
        except sms.OptedOut as error:
            SmsOptOut.objects.get_or_create(number=reminder.recipient)
            self._finish(reminder, Reminder.Status.OPTED_OUT, str(error))
        except (sms.InvalidNumber, sms.Rejected) as error:
            self._give_up(reminder, f"{error.code or error.status}: {error}")
        else:
            self._record_sent(reminder, sent.sid, sent.status)

    def _find_at_provider(self, reminder: Reminder) -> sms.ProviderMessage | None:
        since = (reminder.first_attempt_at or reminder.created_at) - timedelta(minutes=2)
        for message in self.gateway.list_messages(to=reminder.recipient, sent_after=since):
            if message.body == reminder.body and not Reminder.objects.filter(provider_sid=message.sid).exists():
                return message
        return None

    def _send_email(self, reminder: Reminder):
        mail = EmailMultiAlternatives(subject=reminder.subject, body=reminder.body, to=[reminder.recipient])
        if reminder.attachment:
            # The inline part makes calendars show the invite; the file is for the rest.
            mail.attach_alternative(reminder.attachment, f"text/calendar; method={reminder.attachment_method}")
            mail.attach("invite.ics", reminder.attachment, "application/ics")
        try:
            mail.send()
        except Exception as error:  # SMTP refusals, connection errors, time-outs
            self._retry(reminder, f"email: {error}", unknown=False)
        else:
            self._finish(reminder, Reminder.Status.SENT, sent_at=self.now())
