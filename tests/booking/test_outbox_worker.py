"""The outbox worker against the SMS stub process, over HTTP."""

from datetime import timezone as dt_timezone
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from booking import outbox
from booking.models import Reminder, SmsOptOut
from booking.sms import SmsGateway
from booking.worker import OutboxWorker, claim_due

NUMBER = "+84912000001"


@pytest.fixture
def clock(frozen_now):
    """Frozen on the real UTC day, so the stub's dates (real) and ours agree, at
    07:01 in Vietnam (00:01 UTC), just after the SMS quiet hours, and never later
    than the real time: the stub dates its messages with the real clock, and the
    worker looks for them from its own first try on (frozen at 03:00 UTC, the
    tests failed whenever they ran before 03:00 UTC)."""
    today_utc = datetime.now(tz=dt_timezone.utc).replace(hour=0, minute=1, second=0, microsecond=0)
    frozen_now.set(today_utc.astimezone(timezone.get_current_timezone()))
    return frozen_now


@pytest.fixture
def worker(sms_stub, db):
    gateway = SmsGateway(base_url=sms_stub.base_url, account_sid=sms_stub.account_sid, auth_token=sms_stub.auth_token, timeout=0.5)
    yield OutboxWorker(gateway=gateway, name="test-worker")
    gateway.close()


def queue_sms(clock, text="TYT Phuc Thuan: nhac Hoa lich kham 09:00 ngay mai.", to=NUMBER, source="test.event", version=None, **extra):
    now = clock()
    return Reminder.objects.create(
        channel="sms", purpose="day_before", source=source, source_id=1, source_version=version, recipient=to, body=text,
        due_at=now, next_attempt_at=now, stale_at=now + timedelta(hours=2), **extra,
    )


def outbound(stub):
    return [m for m in stub.messages() if m["direction"] == "outbound-api"]


def test_a_due_reminder_is_sent_once_with_the_provider_id_recorded(sms_stub, worker, clock):
    reminder = queue_sms(clock)
    assert worker.step() is True
    assert worker.step() is False  # nothing left
    reminder.refresh_from_db()
    [sent] = outbound(sms_stub)
    assert reminder.status == "sent" and reminder.provider_sid == sent["sid"] and reminder.attempts == 1
    assert sent["to"] == NUMBER and sent["body"] == reminder.body


def test_a_500_is_retried_with_backoff_and_sent_once(sms_stub, worker, clock):
    reminder = queue_sms(clock)
    sms_stub.faults(mode="error500", count=1)
    worker.step()
    reminder.refresh_from_db()
    assert reminder.status == "pending" and reminder.needs_reconcile
    assert reminder.next_attempt_at == clock() + timedelta(seconds=settings.OUTBOX_RETRY_BASE_SECONDS)
    assert worker.step() is False  # not due yet
    clock.set(clock() + timedelta(seconds=31))
    worker.step()
    reminder.refresh_from_db()
    assert reminder.status == "sent" and len(outbound(sms_stub)) == 1


def test_a_429_waits_as_long_as_retry_after_says(sms_stub, worker, clock):
    reminder = queue_sms(clock)
    sms_stub.faults(mode="rate_limit", count=1, retry_after=7)
    worker.step()
    reminder.refresh_from_db()
    assert reminder.status == "pending" and not reminder.needs_reconcile
    assert reminder.next_attempt_at == clock() + timedelta(seconds=7)


def test_after_a_timeout_the_worker_asks_the_provider_instead_of_sending_again(sms_stub, worker, clock):
    reminder = queue_sms(clock)
    sms_stub.faults(mode="timeout", count=1, delay=1.5)  # stored, but answered too late
    worker.step()
    reminder.refresh_from_db()
    assert reminder.status == "pending" and reminder.needs_reconcile
    clock.set(clock() + timedelta(minutes=1))
    worker.step()
    reminder.refresh_from_db()
    [stored] = outbound(sms_stub)
    assert reminder.status == "sent" and reminder.provider_sid == stored["sid"]


def test_a_message_abandoned_by_a_dead_worker_is_reconciled_not_resent(sms_stub, worker, clock, settings):
    reminder = queue_sms(clock)
    # Another worker claimed it, reached the provider, and died before recording the answer.
    claim_due(worker="dead-worker", now=clock(), limit=10)
    worker.gateway.send(to=reminder.recipient, body=reminder.body)
    assert worker.step() is False  # its lease still runs
    clock.set(clock() + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS + 1))
    assert worker.step() is True
    reminder.refresh_from_db()
    assert reminder.status == "sent" and reminder.attempts == 2 and len(outbound(sms_stub)) == 1


def test_a_provider_outage_gives_up_visibly_after_the_bounded_tries(sms_stub, worker, clock, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    reminder = queue_sms(clock)
    sms_stub.faults(mode="error500")
    for _ in range(6):
        worker.step()
        clock.set(clock() + timedelta(hours=1))
        reminder.stale_at = clock() + timedelta(hours=2)  # keep it worth sending
        Reminder.objects.filter(pk=reminder.pk).update(stale_at=reminder.stale_at)
    reminder.refresh_from_db()
    assert reminder.status == "failed" and "gave up after 3 attempts" in reminder.last_error
    assert outbound(sms_stub) == []


def test_an_invalid_number_fails_at_once(sms_stub, worker, clock):
    reminder = queue_sms(clock, to="0912345678")  # not E.164: the provider refuses it
    worker.step()
    reminder.refresh_from_db()
    assert reminder.status == "failed" and "21211" in reminder.last_error


def test_an_opted_out_number_gets_nothing(sms_stub, worker, clock):
    reminder = queue_sms(clock)
    SmsOptOut.objects.create(number=NUMBER)
    worker.step()
    reminder.refresh_from_db()
    assert reminder.status == "opted_out" and outbound(sms_stub) == []


def test_a_number_the_provider_says_opted_out_is_remembered(sms_stub, worker, clock):
    sms_stub.inbound(NUMBER, "STOP")
    reminder = queue_sms(clock)
    worker.step()
    reminder.refresh_from_db()
    assert reminder.status == "opted_out" and SmsOptOut.objects.filter(number=NUMBER).exists()


def test_a_reminder_past_its_time_is_dropped_not_sent_late(sms_stub, worker, clock):
    reminder = queue_sms(clock)
    clock.set(reminder.stale_at)
    worker.step()
    reminder.refresh_from_db()
    assert reminder.status == "dropped" and outbound(sms_stub) == []


def test_the_worker_asks_the_source_right_before_sending(sms_stub, worker, clock):
    versions = {"current": 1}
    outbox.register_source("test.versioned", outbox.Source(is_current=lambda source_id, version: version == versions["current"]))
    stale = queue_sms(clock, source="test.versioned", version=1)
    versions["current"] = 2  # the consultation moved after the reminder was written
    worker.step()
    stale.refresh_from_db()
    assert stale.status == "withdrawn" and outbound(sms_stub) == []


def test_a_retry_that_falls_in_the_night_waits_for_the_morning(sms_stub, worker, clock):
    night = clock().replace(hour=22, minute=0)
    clock.set(night)
    reminder = queue_sms(clock)
    Reminder.objects.filter(pk=reminder.pk).update(stale_at=night + timedelta(hours=12))
    worker.step()
    reminder.refresh_from_db()
    assert reminder.status == "pending" and reminder.attempts == 0
    assert timezone.localtime(reminder.next_attempt_at).hour == 7 and outbound(sms_stub) == []


def test_an_email_invite_carries_the_calendar_inline_and_attached(worker, clock, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    now = clock()
    ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    reminder = Reminder.objects.create(
        channel="email", purpose="invite_booked", source="test.event", source_id=1, recipient="bs@benhvien.example.vn",
        subject="Lịch khám mới", body="Thời gian: 09:00", attachment=ics, attachment_method="REQUEST",
        due_at=now, next_attempt_at=now, stale_at=now + timedelta(days=1),
    )
    worker.step()
    reminder.refresh_from_db()
    assert reminder.status == "sent"
    [message] = mail.outbox
    assert message.to == ["bs@benhvien.example.vn"]
    assert message.alternatives[0].mimetype == "text/calendar; method=REQUEST"
    assert message.attachments[0][0] == "invite.ics"


def test_a_message_whose_claim_was_taken_over_mid_batch_is_left_alone(sms_stub, worker, clock):
    first, second = queue_sms(clock, text="first"), queue_sms(clock, text="second")
    claimed = claim_due(worker=worker.name, now=clock(), limit=10)
    # While the worker was busy with the first, its lease on the second ran out
    # and another worker took it over.
    Reminder.objects.filter(pk=second.pk).update(claimed_by="other-worker")
    for reminder in claimed:
        worker.deliver(reminder)
    assert [m["body"] for m in outbound(sms_stub)] == ["first"]
    second.refresh_from_db()
    assert second.status == "sending" and second.claimed_by == "other-worker"
