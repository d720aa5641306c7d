"""A district as the demo has it, for the privacy tests: a booked consultation
whose reminders and invites went out, replies from the patient's and the
relative's phones, an opt-out, feeds of a doctor, a station, a patient and a
class, pupils with guardians, and the station's searches in the audit log."""

from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest

from booking import feeds
from booking.models import CalendarFeed, Reminder
from booking.sms import SmsGateway
from booking.worker import OutboxWorker
from classrooms.actions import schedule_term
from telecare import actions
from telecare.models import Consultation, Patient
from tests.conftest import MONDAY_MORNING, at, make_patient
from tests.privacy.responses import served  # noqa: F401 (a fixture for this folder's tests)
from tests.sms_webhooks import reply

PATIENT_PHONE = "+84987654321"
RELATIVE_PHONE = "+84912000001"
# A provider's refusal quotes the number, as Twilio's do.
INVALID = {"code": 21211, "message": f"The 'To' number {PATIENT_PHONE} is not a valid phone number."}


def written_forms(number: str) -> list[str]:
    """+84987654321 as people and systems write it."""
    national = "0" + number[3:]
    return [number, number[1:], national, f"{national[:4]} {national[4:7]} {national[7:]}",
            f"+84 {number[3:6]} {number[6:9]} {number[9:]}", f"{national[:4]}.{national[4:7]}.{national[7:]}",
            "%2B" + number[1:]]


class Provider:
    """The SMS provider as httpx sees it: accepts every message, or refuses each as an invalid number."""

    def __init__(self):
        self.refuse = False
        self.sent = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.refuse:
            return httpx.Response(400, json=INVALID)
        self.sent += 1
        return httpx.Response(201, json={"sid": f"SM{self.sent:032d}", "status": "queued"})


@dataclass
class District:
    consultation: Consultation
    patient: Patient
    pupils: tuple
    feeds: list[CalendarFeed]
    worker: OutboxWorker
    provider: Provider
    names: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)

    def send_due(self):
        while self.worker.step():
            pass


@pytest.fixture
def district(client, frozen_now, pilot, doctor, station_worker, school_class, pupils, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    frozen_now.set(MONDAY_MORNING + timedelta(hours=4))  # 10:00, outside the SMS quiet hours
    station = station_worker.station_staff.station
    station.email = "tram.phucthuan@example.vn"
    station.save()
    doctor.user.email = "bs.minh@benhvien.example.vn"
    doctor.user.save()
    patient = make_patient(station, station_worker, name="Hoàng Thị Hoa", phone=PATIENT_PHONE,
                           relative_name="Hoàng Văn Toàn", relative_phone=RELATIVE_PHONE)
    consultation = actions.book_consultation(
        doctor=doctor, patient=patient, start=at(MONDAY_MORNING.date() + timedelta(days=1), 9),
        booked_by=station_worker, reason="Tăng huyết áp")

    provider = Provider()
    worker = OutboxWorker(gateway=SmsGateway(base_url="http://provider.test", transport=httpx.MockTransport(provider)),
                          name="test-worker")
    district = District(consultation, patient, pupils, [], worker, provider)
    district.send_due()
    assert Reminder.objects.filter(status="sent", channel="sms").exists()
    assert Reminder.objects.filter(status="sent", channel="email").exists()

    # The patient answers, the relative writes something else, and the answers to them fail.
    booked = Reminder.objects.get(source_id=consultation.pk, purpose="booked")
    code = booked.reply_reference.code if booked.reply_reference else ""
    assert reply(client, PATIENT_PHONE, f"C {code}".strip()).status_code == 200
    assert reply(client, RELATIVE_PHONE, "Chào bác sĩ, tôi là Hoàng Văn Toàn").status_code == 200
    provider.refuse = True
    district.send_due()
    assert Reminder.objects.filter(status="failed", last_error__contains=PATIENT_PHONE).exists()
    assert reply(client, PATIENT_PHONE, "STOP").status_code == 200

    # The station searches by name and by number (both kept in the audit log's paths).
    client.force_login(station_worker)
    assert client.get("/station/", {"q": "Hoàng Thị Hoa"}).status_code == 200
    assert client.get("/station/", {"q": "0987654321"}).status_code == 200
    assert client.get(f"/patients/{patient.pk}/").status_code == 200
    client.logout()

    schedule_term(school_class=school_class)  # lessons, and the reminders to guardians who agreed

    district.feeds = [feeds.renew_feed(owner) for owner in (doctor, station, patient, school_class)]
    district.names = [patient.full_name, patient.relative_name]
    district.numbers = [form for number in (PATIENT_PHONE, RELATIVE_PHONE) for form in written_forms(number)]
    return district
