"""Invites reach a real SMTP server on loopback (aiosmtpd) as calendar mail."""

import email
import socket
from datetime import timedelta

import icalendar
import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from booking.models import Reminder
from booking.worker import OutboxWorker
from telecare import actions
from telecare.models import WeeklyAvailability
from tests.conftest import at


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield inbox
    controller.stop()


def test_booking_and_cancelling_send_request_and_cancel_invites_by_smtp(smtp_server, doctor, patient, station_worker):
    doctor.user.email = "minh@benhvien.example.vn"
    doctor.user.save()
    WeeklyAvailability.objects.filter(doctor=doctor).update(starts_at="00:00", ends_at="23:40")
    for weekday in range(5, 7):
        WeeklyAvailability.objects.create(doctor=doctor, weekday=weekday, starts_at="00:00", ends_at="23:40", slot_minutes=20)
    tomorrow = timezone.localdate() + timedelta(days=1)
    consultation = actions.book_consultation(doctor=doctor, patient=patient, start=at(tomorrow, 9), booked_by=station_worker, reason="Ho")
    Reminder.objects.filter(channel="sms").delete()  # this test is about email
    worker = OutboxWorker(name="smtp-test")
    worker.step()
    actions.cancel_consultation(consultation=consultation, by=station_worker)
    worker.step()
    worker.gateway.close()

    assert [to for to, _ in smtp_server.messages] == [["minh@benhvien.example.vn"], ["minh@benhvien.example.vn"]]
    methods = []
    for _, message in smtp_server.messages:
        parts = {part.get_content_type(): part for part in message.walk()}
        inline = parts["text/calendar"]
        assert inline.get_param("method") in ("REQUEST", "CANCEL")
        attached = parts["application/ics"]
        assert attached.get_filename() == "invite.ics"
        calendar = icalendar.Calendar.from_ical(inline.get_payload(decode=True))
        assert calendar["method"] == inline.get_param("method")
        [event] = calendar.walk("VEVENT")
        assert str(event["uid"]) == f"{consultation.uid}@telecare"
        methods.append((str(calendar["method"]), event["sequence"], str(event["status"])))
        assert "Hoàng Thị Hoa" in str(event["summary"])  # UTF-8 survives the trip
    assert methods == [("REQUEST", 0, "CONFIRMED"), ("CANCEL", 1, "CANCELLED")]
    assert set(Reminder.objects.filter(channel="email").values_list("status", flat=True)) == {"sent"}
