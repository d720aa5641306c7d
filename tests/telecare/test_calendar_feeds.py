from datetime import timedelta

import icalendar
import pytest
import vobject

from booking import feeds
from telecare import actions
from tests.conftest import MONDAY_MORNING, at

TUESDAY = MONDAY_MORNING.date() + timedelta(days=1)


@pytest.fixture
def two_consultations(doctor, patient, station_worker, frozen_now):
    kept = actions.book_consultation(doctor=doctor, patient=patient, start=at(TUESDAY, 9), booked_by=station_worker, reason="x")
    dropped = actions.book_consultation(doctor=doctor, patient=patient, start=at(TUESDAY, 10), booked_by=station_worker, reason="x")
    actions.cancel_consultation(consultation=dropped, by=station_worker)
    return kept, dropped


def test_a_doctor_creates_a_private_feed_that_needs_no_login(client, doctor, two_consultations):
    kept, dropped = two_consultations
    client.force_login(doctor.user)
    client.post("/calendar/doctor/", {"action": "renew", "next": "/doctor/"})
    page = client.get("/doctor/").content.decode()
    feed = feeds.active_feed(doctor)
    assert f"/calendars/{feed.token}.ics" in page
    client.logout()
    response = client.get(f"/calendars/{feed.token}.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(response.content)
    assert cal["method"] == "PUBLISH"
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    assert events[f"{kept.uid}@telecare"]["status"] == "CONFIRMED"
    assert events[f"{dropped.uid}@telecare"]["status"] == "CANCELLED"
    assert len(list(vobject.readOne(response.content.decode()).vevent_list)) == 2


def test_renewing_or_revoking_a_feed_kills_the_old_address(client, doctor, two_consultations):
    client.force_login(doctor.user)
    client.post("/calendar/doctor/", {"action": "renew"})
    old = feeds.active_feed(doctor).token
    client.post("/calendar/doctor/", {"action": "renew"})
    new = feeds.active_feed(doctor).token
    assert client.get(f"/calendars/{old}.ics").status_code == 404
    assert client.get(f"/calendars/{new}.ics").status_code == 200
    client.post("/calendar/doctor/", {"action": "revoke"})
    assert client.get(f"/calendars/{new}.ics").status_code == 404
    assert client.get("/calendars/not-a-token.ics").status_code == 404


def test_station_and_patient_feeds_show_only_their_consultations(client, station_worker, stranger, patient, other_doctor, two_consultations):
    client.force_login(station_worker)
    client.post("/calendar/station/", {"action": "renew"})
    client.post(f"/calendar/patient/{patient.pk}/", {"action": "renew"})
    station_feed = client.get(f"/calendars/{feeds.active_feed(station_worker.station_staff.station).token}.ics")
    patient_feed = client.get(f"/calendars/{feeds.active_feed(patient).token}.ics")
    assert len(icalendar.Calendar.from_ical(station_feed.content).walk("VEVENT")) == 2
    assert len(icalendar.Calendar.from_ical(patient_feed.content).walk("VEVENT")) == 2
    client.force_login(stranger)
    assert client.post(f"/calendar/patient/{patient.pk}/", {"action": "renew"}).status_code == 404
    client.force_login(other_doctor.user)
    assert client.post("/calendar/station/", {"action": "renew"}).status_code == 403


def test_the_consultation_page_lists_its_messages_and_flags(client, station_worker, two_consultations):
    kept, _ = two_consultations
    kept.follow_up = "SMS không tới được +84912000001"
    kept.save()
    client.force_login(station_worker)
    page = client.get(f"/consultations/{kept.pk}/").content.decode()
    assert 'id="messages-sent"' in page and "+84912000001" in page and 'id="follow-up"' in page
    dashboard = client.get("/station/").content.decode()
    assert "SMS không tới được" in dashboard
