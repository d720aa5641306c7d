"""What a consultation tells people when it is booked, moved or cancelled,
through booking's outbox: SMS to the patient (or the relative's phone, texts in
telecare.sms_texts) and email invites to the doctor and station (events from
telecare.calendar_events). Called by the actions, inside their transactions;
what replies do is telecare.outbox_source's."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from booking import outbox, replies
from booking.ical import build_invite
from telecare.calendar_events import consultation_event
from telecare.models import Consultation
from telecare.sms_texts import INVITES_REPLY, sms_text

SOURCE = "telecare.consultation"


def _invite(consultation: Consultation, purpose: str):
    event = consultation_event(consultation)
    method, body = build_invite(event)
    local = timezone.localtime(consultation.starts_at)
    heading = {"booked": "Lịch khám mới", "rescheduled": "Lịch khám đổi giờ", "cancelled": "Lịch khám đã hủy"}[purpose]
    subject = f"{heading}: {local:%H:%M %d/%m/%Y}, {consultation.station.short_name}"
    text = (
        f"{heading}\n\nThời gian: {local:%H:%M}–{timezone.localtime(consultation.ends_at):%H:%M} ngày {local:%d/%m/%Y}\n"
        f"Trạm y tế: {consultation.station.name}\nBệnh nhân: {consultation.patient.full_name}\n"
        f"Phòng khám trực tuyến: {event.url}\n"
    )
    for person in event.attendees:
        outbox.enqueue_email(
            source=SOURCE, source_id=consultation.pk, version=consultation.sequence, purpose=f"invite_{purpose}",
            to=person.email, subject=subject, text=text, calendar=body, calendar_method=method,
            stale_at=consultation.ends_at,
        )


def _sms(consultation: Consultation, purpose: str, *, due_at=None):
    patient = consultation.patient
    if not patient.sms_consent or not patient.sms_number:
        return
    reference = None
    if purpose in INVITES_REPLY:
        reference = replies.open_reference(
            number=patient.sms_number, source=SOURCE, source_id=consultation.pk, open_until=consultation.starts_at)
    outbox.enqueue_sms(
        source=SOURCE, source_id=consultation.pk, version=consultation.sequence, purpose=purpose,
        to=patient.sms_number, text=sms_text(purpose, consultation, ref=reference.code if reference else ""),
        due_at=due_at or timezone.now(), event_start=consultation.starts_at, reply_reference=reference,
    )


def _reminders(consultation: Consultation):
    for hours in settings.SMS_REMINDER_HOURS_BEFORE:
        due = consultation.starts_at - timedelta(hours=hours)
        if due > timezone.now():
            _sms(consultation, "day_before" if hours >= 12 else "hours_before", due_at=due)


def consultation_booked(consultation: Consultation):
    _sms(consultation, "booked")
    _reminders(consultation)
    _invite(consultation, "booked")


def consultation_rescheduled(consultation: Consultation):
    outbox.withdraw(source=SOURCE, source_id=consultation.pk)
    _sms(consultation, "rescheduled")
    _reminders(consultation)
    _invite(consultation, "rescheduled")


def consultation_cancelled(consultation: Consultation):
    outbox.withdraw(source=SOURCE, source_id=consultation.pk)
    replies.close_references(source=SOURCE, source_id=consultation.pk)
    _sms(consultation, "cancelled")
    _invite(consultation, "cancelled")


def messages_of(consultation: Consultation):
    return outbox.messages_about(source=SOURCE, source_id=consultation.pk)
