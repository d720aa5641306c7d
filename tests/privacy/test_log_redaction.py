"""Log lines at INFO carry no phone numbers, feed tokens, search terms or
secrets: the filter on settings.LOGGING's handlers masks them, in the app's own
lines, httpx's, Django's request log and daphne's access log (config.server)."""

import io
import logging
import sys
from datetime import datetime, time, timedelta
from datetime import timezone as dt_timezone

import pytest
from daphne.access import AccessLogGenerator
from django.utils import timezone

from booking.models import Reminder
from booking.sms import SmsGateway
from booking.worker import OutboxWorker
from config.log_redaction import RedactSecrets, redact
from config.server import AccessLoggedServer
from telecare.models import WeeklyAvailability
from tests.conftest import make_patient
from tests.privacy.conftest import PATIENT_PHONE, written_forms
from tests.sms_webhooks import post_signed, reply

MASKED = "+8498****321"
API_TOKEN = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize("line, masked", [
    (f"To={PATIENT_PHONE}", f"To={MASKED}"),
    ("To=%2B84987654321&PageSize=100", f"To={MASKED}&PageSize=100"),
    ("gọi 0987 654 321 hoặc 0987.654.321", f"gọi {MASKED} hoặc {MASKED}"),
    ("from 84987654321: C", f"from {MASKED}: C"),
    ("GET /calendars/Zq3-kT_9aB7xY2mW4pL6nR8sV0uC1eD5.ics 404", "GET /calendars/[redacted].ics 404"),
    ("GET /station/?q=Ho%C3%A0ng%20Th%E1%BB%8B%20Hoa HTTP/1.1", "GET /station/?q=[redacted] HTTP/1.1"),
    ("/api/v1/patients/?page=2&q=0987654321", "/api/v1/patients/?page=2&q=[redacted]"),
    (f"{{'HTTP_AUTHORIZATION': 'Token {API_TOKEN}'}}", "{'HTTP_AUTHORIZATION': 'Token [redacted]'}"),
    (f"Authorization: Token {API_TOKEN}", "Authorization: Token [redacted]"),
    ("Authorization: Basic QUMwMDAwOnN0dWItYXV0aC10b2tlbg==", "Authorization: Basic [redacted]"),
    ('{"type": "join", "resume": "kY7_2bQz9LmN4pR1sT6v"}', '{"type": "join", "resume": "[redacted]"}'),
    ("{'urls': ['turn:turn.example.vn:3478'], 'username': '1767225600:p42', 'credential': 'Zm9vYmFyYmF6cXV4='}",
     "{'urls': ['turn:turn.example.vn:3478'], 'username': '1767225600:p42', 'credential': '[redacted]'}"),
    ("X-Twilio-Signature: 0wYyZ2s+Q1k=", "X-Twilio-Signature: [redacted]"),
    ("redis://:s3cret-pass@10.0.0.5:6379/0", "redis://:[redacted]@10.0.0.5:6379/0"),
    ("Cookie: sessionid=abc123; csrftoken=def456", "Cookie: [redacted]"),
])
def test_each_kind_of_secret_is_masked(line, masked):
    assert redact(line) == masked


@pytest.mark.parametrize("line", [
    "outbox: message 12 was taken over by another worker",
    "room Xk2_9aQ: p1 steps to AUDIO (loss)",
    "took 0.123456789 s", "provider sid SM0987654321abcdef", "listening on 127.0.0.1:8000",
    "webhook /webhooks/sms/inbound/: bad or missing signature",
])
def test_ordinary_lines_stay_as_they_are(line):
    assert redact(line) == line


@pytest.fixture
def console(caplog):
    """What the handler of settings.LOGGING writes, at INFO (and caplog beside it)."""
    caplog.set_level(logging.INFO)
    [handler] = [h for h in logging.getLogger().handlers if any(isinstance(f, RedactSecrets) for f in h.filters)]
    written = io.StringIO()
    previous = handler.setStream(written)
    yield written
    handler.setStream(previous)


def assert_clean(text: str, raw: list[str]):
    for value in raw:
        assert value not in text, f"{value!r} in the log:\n{text}"


def test_exceptions_and_arguments_are_masked_too(console, caplog):
    log = logging.getLogger("booking.worker")
    try:
        raise RuntimeError(f"provider refused {PATIENT_PHONE}")
    except RuntimeError:
        log.exception("sending to %s failed", PATIENT_PHONE)
    text = console.getvalue()
    assert_clean(text + caplog.text, written_forms(PATIENT_PHONE))
    assert text.count(MASKED) == 2 and "RuntimeError: provider refused" in text


@pytest.fixture
def clock(frozen_now):
    """07:01 in Vietnam on the real UTC day (00:01 UTC): the stub's dates (real)
    and ours agree, and ours are never later than the real ones."""
    today_utc = datetime.now(tz=dt_timezone.utc).replace(hour=0, minute=1, second=0, microsecond=0)
    frozen_now.set(today_utc.astimezone(timezone.get_current_timezone()))
    return frozen_now


@pytest.mark.django_db(transaction=True)
def test_a_booking_its_sms_a_reply_a_search_and_a_bad_feed_leave_no_number_term_or_token(
        client, console, caplog, clock, doctor, station_worker, sms_stub):
    doctor.availability.all().delete()
    for weekday in range(7):
        WeeklyAvailability.objects.create(doctor=doctor, weekday=weekday, starts_at=time(8), ends_at=time(11))
    patient = make_patient(station_worker.station_staff.station, station_worker, phone=PATIENT_PHONE, relative_phone="")
    client.force_login(station_worker)
    assert client.get("/station/", {"q": "Hoàng Thị Hoa"}).status_code == 200
    assert client.get("/station/", {"q": "0987 654 321"}).status_code == 200
    start = timezone.localtime(clock()).replace(hour=9, minute=0) + timedelta(days=1)
    booked = client.post(f"/station/patients/{patient.pk}/book/",
                         {"doctor": doctor.pk, "start": start.isoformat(), "reason": "Ho", "mode": "video"})
    assert booked.status_code == 302, booked.content.decode()[:2000]

    # The provider's answer comes too late once: the worker asks it, by number, before sending again.
    gateway = SmsGateway(base_url=sms_stub.base_url, account_sid=sms_stub.account_sid,
                         auth_token=sms_stub.auth_token, timeout=0.5)
    worker = OutboxWorker(gateway=gateway, name="test-worker")
    sms_stub.faults(mode="timeout", count=1)
    worker.step()
    clock.set(clock() + timedelta(minutes=5))
    worker.step()
    gateway.close()
    sms = Reminder.objects.get(purpose="booked", channel="sms")
    assert sms.status == "sent" and [m["to"] for m in sms_stub.messages()] == [PATIENT_PHONE]

    code = sms.reply_reference.code if sms.reply_reference else ""
    assert reply(client, PATIENT_PHONE, f"C {code}".strip(), sid="SMreplied").status_code == 200
    assert reply(client, PATIENT_PHONE, "C", sid="SMreplied").status_code == 200  # posted again
    post_signed(client, "/webhooks/sms/inbound/", {"MessageSid": "SMx", "From": PATIENT_PHONE}, signature="bad")
    assert client.get("/calendars/Zq3-kT_9aB7xY2mW4pL6nR8sV0uC1eD5.ics").status_code == 404

    text = console.getvalue()
    assert_clean(text + caplog.text, written_forms(PATIENT_PHONE) + ["Zq3-kT_9aB7xY2mW4pL6nR8sV0uC1eD5", "Hoàng", "654"])
    assert f"To={MASKED}" in text  # httpx's line of the provider's message list
    assert "Not Found: /calendars/[redacted].ics" in text


def test_daphnes_access_log_goes_through_logging_redacted(console, caplog):
    server = AccessLoggedServer(application=None, endpoints=["tcp:port=0"], action_logger=AccessLogGenerator(sys.stdout))
    for path in ["/station/?q=0987654321", "/calendars/Zq3-kT_9aB7xY2mW4pL6nR8sV0uC1eD5.ics",
                 f"/admin/booking/reminder/?q=%2B{PATIENT_PHONE[1:]}"]:
        server.log_action("http", "complete", {"path": path, "status": 200, "method": "GET",
                                               "client": "127.0.0.1:5000", "time_taken": 0.01, "size": 10})
    server.log_action("websocket", "connecting", {"path": "/ws/rooms/abc/", "client": "127.0.0.1:5001"})
    text = console.getvalue()
    assert_clean(text + caplog.text, ["0987654321", "Zq3-kT_9aB7xY2mW4pL6nR8sV0uC1eD5", PATIENT_PHONE[1:]])
    assert '"GET /station/?q=[redacted]" 200 10' in text and "GET /calendars/[redacted].ics" in text
    assert "WSCONNECTING /ws/rooms/abc/" in text
    assert [r.name for r in caplog.records].count("daphne.access") == 4


def test_an_access_log_file_is_redacted_too(tmp_path):
    with (tmp_path / "access.log").open("w") as file:
        server = AccessLoggedServer(application=None, endpoints=["tcp:port=0"], action_logger=AccessLogGenerator(file))
        server.log_action("http", "complete", {"path": "/station/?q=Hoa", "status": 200, "method": "GET",
                                               "client": "127.0.0.1:5000", "time_taken": 0.01, "size": 10})
    assert '"GET /station/?q=[redacted]" 200' in (tmp_path / "access.log").read_text()
