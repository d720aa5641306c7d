"""The logs of what bin/up runs (daphne through bin/serve, the outbox worker, the
SMS stub) carry no phone number, search term or feed token: a station worker
searches, books, the SMS goes out, the phone answers, a feed is fetched with
its token and with a wrong one."""

import os
import re
import subprocess
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path

import httpx
import pytest
from django.utils import timezone

from booking import feeds
from booking.models import Reminder
from telecare.availability import free_slots
from telecare.models import WeeklyAvailability
from tests.conftest import make_patient
from django.conf import settings
from django.db import connection

from tests.live_server import database_url, free_port, stop, wait_for_http
from tests.sms_stub_fixtures import SmsStubProcess, spawn_sms_stub
from tests.privacy.conftest import PATIENT_PHONE, written_forms
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
WRONG_TOKEN = "Zq3-kT_9aB7xY2mW4pL6nR8sV0uC1eD5"


@dataclass
class Stack:
    base_url: str
    stub: SmsStubProcess
    logs: Path


@pytest.fixture
def own_stack(django_db_setup, tmp_path):
    """tests.live_server's stack, with logs of its own (other runs share artifacts/)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    stub = spawn_sms_stub(tmp_path / "sms-stub.log", inbound_url=f"{base_url}/webhooks/sms/inbound/")
    env = {**os.environ, "DATABASE_URL": database_url(connection.settings_dict), "PYTHONUNBUFFERED": "1",
           "PUBLIC_BASE_URL": base_url, "SMS_API_BASE": stub.base_url, "VAR_DIR": str(tmp_path / "var"),
           "LOG_LEVEL": "INFO"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    children = []
    try:
        with (tmp_path / "daphne.log").open("w") as out:
            children.append(subprocess.Popen([str(settings.BASE_DIR / "bin/serve"), "-b", "127.0.0.1", "-p", str(port)],
                                             cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT))
        with (tmp_path / "outbox-worker.log").open("w") as out:
            children.append(subprocess.Popen(
                [str(settings.BASE_DIR / ".venv/bin/python"), "manage.py", "outbox_worker", "--idle-sleep", "0.2"],
                cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT))
        wait_for_http(f"{base_url}/accounts/login/", children[0], tmp_path / "daphne.log")
        yield Stack(base_url, stub, tmp_path)
    finally:
        for child in children:
            stop(child)
        stub.stop()


def logged_in(client, base_url, user) -> httpx.Client:
    """An HTTP client with the user's session (made here: the test's password hasher is not the server's)."""
    client.force_login(user)
    browser = httpx.Client(base_url=base_url, trust_env=False, timeout=10, follow_redirects=True)
    browser.cookies.set("sessionid", client.cookies["sessionid"].value)
    browser.get("/station/")  # the CSRF cookie
    return browser


def test_no_number_term_or_token_reaches_the_logs(client, own_stack, doctor, station_worker):
    doctor.availability.all().delete()
    for weekday in range(7):
        WeeklyAvailability.objects.create(doctor=doctor, weekday=weekday, starts_at=time(0), ends_at=time(23, 40))
    patient = make_patient(station_worker.station_staff.station, station_worker, phone=PATIENT_PHONE, relative_phone="")
    feed = feeds.renew_feed(patient)
    browser = logged_in(client, own_stack.base_url, station_worker)
    assert browser.get("/station/", params={"q": "Hoàng Thị Hoa"}).status_code == 200
    assert browser.get("/station/", params={"q": "0987 654 321"}).status_code == 200
    assert browser.get("/api/v1/patients/", params={"q": "0987654321"}).status_code == 200

    start = next(s.start for s in free_slots(doctor, timezone.localdate(), timezone.localdate() + timedelta(days=1))
                 if s.start > timezone.now() + timedelta(minutes=2))
    booked = browser.post(f"/station/patients/{patient.pk}/book/", data={
        "doctor": doctor.pk, "start": timezone.localtime(start).isoformat(), "reason": "Ho", "mode": "video",
        "csrfmiddlewaretoken": browser.cookies["csrftoken"]})
    assert re.search(r"/consultations/\d+/$", str(booked.url)), booked.text[:500]
    sms = Reminder.objects.filter(purpose="booked", recipient=PATIENT_PHONE)
    wait_for(lambda: sms.filter(status="delivered").exists(), "the delivery report", 15)
    code = sms.get().reply_reference.code if sms.get().reply_reference else ""
    answer = own_stack.stub.inbound(PATIENT_PHONE, f"C {code}".strip())
    assert answer["posts"][0]["status"] == 200, answer

    anonymous = httpx.Client(base_url=own_stack.base_url, trust_env=False, timeout=10)
    assert anonymous.get(f"/calendars/{feed.token}.ics").status_code == 200
    assert anonymous.get(f"/calendars/{WRONG_TOKEN}.ics").status_code == 404

    def read_logs():
        return {name: (own_stack.logs / name).read_text() for name in ("daphne.log", "outbox-worker.log", "sms-stub.log")}

    # The last access lines and the worker's request line may come a little later on a loaded machine.
    wait_for(lambda: '"GET /calendars/[redacted].ics" 404' in (current := read_logs())["daphne.log"]
             and '"POST /webhooks/sms/inbound/" 200' in current["daphne.log"]
             and "HTTP Request: POST" in current["outbox-worker.log"], "the last log lines", 15, interval=0.2)
    logs = read_logs()
    raw = written_forms(PATIENT_PHONE) + [feed.token, WRONG_TOKEN, "Hoàng", "Ho%C3%A0ng"]
    for name, text in logs.items():
        for value in raw:
            assert value not in text, f"{value!r} in {name}"
    daphne = logs["daphne.log"]
    assert '"GET /station/?q=[redacted]" 200' in daphne and '"GET /api/v1/patients/?q=[redacted]" 200' in daphne
    assert '"GET /calendars/[redacted].ics" 200' in daphne and "Not Found: /calendars/[redacted].ics" in daphne
    assert '"POST /webhooks/sms/inbound/" 200' in daphne and "HTTP Request: POST" in logs["outbox-worker.log"]
