"""What booking, moving and cancelling write to the outbox, in the same transaction."""

from datetime import timedelta

import pytest
from django.db import transaction

from booking.models import Reminder, ReplyReference, SmsOptOut
from booking.sms_text import is_gsm7, prepare, segments
from telecare import actions, notifications, sms_texts
from tests.conftest import MONDAY_MORNING, at, make_patient

MONDAY = MONDAY_MORNING.date()
TUESDAY = MONDAY + timedelta(days=1)


def book(doctor, patient, by, start):
    return actions.book_consultation(doctor=doctor, patient=patient, start=start, booked_by=by, reason="Đau đầu kéo dài")


def sms(consultation, **filters):
    return list(notifications.messages_of(consultation).filter(channel="sms", **filters).values_list("purpose", "status", "due_at"))


def test_booking_queues_a_notice_two_reminders_and_the_doctors_invite(doctor, patient, station_worker, frozen_now):
    doctor.user.email = "minh@benhvien.example.vn"
    doctor.user.save()
    c = book(doctor, patient, station_worker, at(TUESDAY, 9))
    assert sms(c) == [
        ("booked", "pending", MONDAY_MORNING.replace(hour=7)),  # 06:00 is night: waits for 07:00
        ("day_before", "pending", at(MONDAY, 9)),
        ("hours_before", "pending", at(TUESDAY, 7)),
    ]
    [invite] = notifications.messages_of(c).filter(channel="email")
    assert invite.recipient == "minh@benhvien.example.vn" and invite.attachment_method == "REQUEST"
    assert "BEGIN:VCALENDAR" in invite.attachment and invite.purpose == "invite_booked"
    assert all(r.recipient == "+84912000001" and r.source_version == 0 for r in notifications.messages_of(c).filter(channel="sms"))


def test_the_sms_names_the_patient_time_and_station_but_never_the_reason(doctor, patient, station_worker, frozen_now):
    c = book(doctor, patient, station_worker, at(TUESDAY, 9))
    body = notifications.messages_of(c).get(purpose="booked").body
    code = ReplyReference.objects.get(source_id=c.pk).code
    assert body == f"TYT Phuc Thuan: Hoa co lich kham tu xa voi bac si luc 09:00 ngay 01/12. Tra loi C {code} de xac nhan, H {code} de huy."
    assert "dau" not in body.lower()


@pytest.mark.parametrize("commune", ["Phúc Thuận", "La Bằng", "Bình Thành", "Sảng Mộc"])
def test_every_standard_sms_fits_one_cheap_segment(doctor, station_worker, frozen_now, commune):
    station = station_worker.station_staff.station
    station.commune.name = f"Xã {commune}"
    station.commune.save()
    patient = make_patient(station, station_worker, name="Nguyễn Thị Phương Khuyến")  # a long given name
    c = book(doctor, patient, station_worker, at(TUESDAY, 9))
    for purpose in sms_texts.SMS_TEXTS:
        text = prepare(sms_texts.sms_text(purpose, c, ref="9999"), unicode=False)
        assert is_gsm7(text) and segments(text) == ("GSM-7", 1), (purpose, len(text), text)


def test_no_sms_without_consent_and_none_to_an_opted_out_number(doctor, patient, station_worker, frozen_now):
    patient.sms_consent = False
    patient.save()
    assert sms(book(doctor, patient, station_worker, at(TUESDAY, 9))) == []
    other = make_patient(patient.station, station_worker, name="Lường Thị Mây", relative_phone="+84912000009")
    SmsOptOut.objects.create(number="+84912000009")
    assert sms(book(doctor, other, station_worker, at(TUESDAY, 10))) == []


def test_reminders_whose_time_has_passed_are_not_queued(doctor, patient, station_worker, frozen_now):
    frozen_now.set(at(MONDAY, 8, 30))
    c = book(doctor, patient, station_worker, at(MONDAY, 10))  # less than 2 hours ahead
    assert [p for p, _, _ in sms(c)] == ["booked"]


def test_a_reminder_due_at_night_waits_for_morning_unless_the_consultation_is_earlier(doctor, patient, station_worker, frozen_now):
    from booking.outbox import allowed_send_time

    night = at(MONDAY, 22)
    assert allowed_send_time(night, event_start=at(TUESDAY, 9)) == at(TUESDAY, 7)
    assert allowed_send_time(night, event_start=at(TUESDAY, 6, 30)) == night
    assert allowed_send_time(at(MONDAY, 12), event_start=at(TUESDAY, 9)) == at(MONDAY, 12)
    assert allowed_send_time(at(TUESDAY, 3), event_start=at(TUESDAY, 9)) == at(TUESDAY, 7)


def test_rescheduling_replaces_pending_reminders_and_tells_the_patient(doctor, patient, station_worker, frozen_now):
    c = book(doctor, patient, station_worker, at(TUESDAY, 9))
    moved = actions.reschedule_consultation(consultation=c, start=at(TUESDAY, 10), by=station_worker)
    messages = notifications.messages_of(moved).filter(channel="sms")
    assert sorted(messages.filter(source_version=0).values_list("status", flat=True)) == ["withdrawn"] * 3
    assert sorted(messages.filter(source_version=1).values_list("purpose", flat=True)) == ["day_before", "hours_before", "rescheduled"]
    assert "10:00" in messages.get(purpose="rescheduled").body


def test_cancelling_withdraws_reminders_and_queues_a_notice_and_a_cancel_invite(doctor, patient, station_worker, frozen_now):
    doctor.user.email = "minh@benhvien.example.vn"
    doctor.user.save()
    c = book(doctor, patient, station_worker, at(TUESDAY, 9))
    actions.cancel_consultation(consultation=c, by=station_worker)
    messages = notifications.messages_of(c)
    assert set(messages.filter(source_version=0, channel="sms").values_list("status", flat=True)) == {"withdrawn"}
    assert messages.get(source_version=1, channel="sms").purpose == "cancelled"
    cancel_invite = messages.get(source_version=1, channel="email")
    assert cancel_invite.attachment_method == "CANCEL" and "STATUS:CANCELLED" in cancel_invite.attachment


def test_a_failed_booking_leaves_no_messages(doctor, patient, station_worker, frozen_now):
    with pytest.raises(RuntimeError), transaction.atomic():
        book(doctor, patient, station_worker, at(TUESDAY, 9))
        raise RuntimeError("the request failed after booking")
    assert not Reminder.objects.exists()
