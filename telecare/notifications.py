"""What a consultation tells people, through the booking module: SMS to the
patient (or the relative's phone), email invites to the doctor and station,
and calendar feeds. Called inside the actions' transactions."""

from datetime import timedelta
from email.utils import parseaddr

from django.conf import settings
from django.utils import timezone

from booking import outbox, replies
from booking.ical import CalendarEvent, Person, build_invite
from telecare.models import Consultation, Doctor, HealthStation, Patient

SOURCE = "telecare.consultation"

# Vietnamese SMS, short enough for one GSM-7 segment once diacritics are
# dropped (SMS_UNICODE off); no reason or diagnosis ever goes in an SMS. Those
# that invite a reply carry the consultation's reference for this phone
# ({ref}, booking.replies), since one phone may serve several patients.
SMS_TEXTS = {
    "booked": "{station}: {name} có lịch khám từ xa với bác sĩ lúc {time} ngày {date}. Trả lời C {ref} để xác nhận, H {ref} để hủy.",
    "day_before": "{station}: nhắc {name} lịch khám từ xa {time} ngày mai {date}. Trả lời C {ref} để xác nhận, H {ref} để hủy.",
    "hours_before": "{station}: {name} có lịch khám từ xa lúc {time} hôm nay. Xin đến trạm trước 10 phút.",
    "rescheduled": "{station}: lịch khám của {name} đổi sang {time} ngày {date}. Trả lời C {ref} để xác nhận, H {ref} để hủy.",
    "cancelled": "{station}: lịch khám {time} ngày {date} của {name} đã hủy. Liên hệ trạm để đặt lịch mới.",
    "confirmed": "{station}: đã xác nhận lịch khám {time} ngày {date} của {name}. Cảm ơn!",
    "closed": "{station}: lịch khám này không còn hiệu lực. Xin liên hệ trạm nếu cần.",
}


INVITES_REPLY = {"booked", "day_before", "rescheduled"}


def sms_text(purpose: str, consultation: Consultation, *, ref: str = "") -> str:
    local = timezone.localtime(consultation.starts_at)
    return SMS_TEXTS[purpose].format(
        station=consultation.station.short_name, name=consultation.patient.given_name,
        time=f"{local:%H:%M}", date=f"{local:%d/%m}", ref=ref,
    )


def describe(consultation_id: int) -> str:
    """'Hoa 09:00 01/12': which of a shared phone's consultations this is."""
    consultation = Consultation.objects.select_related("patient").filter(pk=consultation_id).first()
    if consultation is None:
        return ""
    local = timezone.localtime(consultation.starts_at)
    return f"{consultation.patient.given_name[:12]} {local:%H:%M %d/%m}"


def _absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL + path


def consultation_event(consultation: Consultation) -> CalendarEvent:
    station, doctor = consultation.station, consultation.doctor
    room = _absolute(consultation.room_url())
    _, sender = parseaddr(settings.DEFAULT_FROM_EMAIL)
    attendees = [Person(doctor.name, doctor.user.email)]
    if station.email:
        attendees.append(Person(station.name, station.email, partstat="ACCEPTED"))
    return CalendarEvent(
        uid=f"{consultation.uid}@telecare",
        sequence=consultation.sequence,
        start=consultation.starts_at,
        end=consultation.ends_at,
        summary=f"Khám từ xa: {consultation.patient.full_name} ({station.short_name})",
        description=f"Phòng khám trực tuyến: {room}\nChi tiết: {_absolute(consultation.get_absolute_url())}",
        location=f"{station.name} · {room}",
        url=room,
        organizer=Person(station.name, sender),
        attendees=tuple(attendees),
        cancelled=consultation.status == Consultation.Status.CANCELLED,
    )


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


# The source interface booking's worker and webhooks call.
def is_current(consultation_id: int, version: int) -> bool:
    return Consultation.objects.filter(pk=consultation_id, sequence=version).exists()


def on_reply(consultation_id: int, answer: str, number: str) -> str:
    """booking.replies chose this consultation for the phone at `number`: its
    reference was named, or it is the number's only open item."""
    from telecare import actions

    consultation = Consultation.objects.select_related("patient", "station__commune").filter(pk=consultation_id).first()
    if consultation is None or not consultation.is_open or consultation.starts_at <= timezone.now():
        return sms_text("closed", consultation) if consultation else ""
    if answer == "confirm":
        actions.confirm_by_patient(consultation=consultation)
        return sms_text("confirmed", consultation)
    actions.cancel_by_patient(consultation=consultation)
    return ""  # the cancellation notice answers


def on_delivery_failed(consultation_id: int, reminder) -> None:
    Consultation.objects.filter(pk=consultation_id).update(
        follow_up=f"SMS không tới được {reminder.recipient} ({reminder.last_error or reminder.status})"[:200]
    )


def calendar_events(consultations):
    return [consultation_event(c) for c in consultations.select_related("patient", "station__commune", "doctor__user")]


def _window(qs):
    now = timezone.now()
    return qs.filter(starts_at__gte=now - timedelta(days=30), starts_at__lte=now + timedelta(days=120))


def doctor_events(doctor: Doctor):
    return calendar_events(_window(Consultation.objects.filter(doctor=doctor)))


def station_events(station: HealthStation):
    return calendar_events(_window(Consultation.objects.filter(station=station)))


def patient_events(patient: Patient):
    return calendar_events(_window(Consultation.objects.filter(patient=patient)))
