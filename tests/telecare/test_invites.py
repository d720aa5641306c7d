"""Invites parsed by two independent parsers (icalendar and vobject) for a
booking, a reschedule and a cancellation."""

from datetime import timedelta

import icalendar
import pytest
import vobject

from booking.ical import build_invite
from telecare import actions
from telecare.calendar_events import consultation_event
from tests.conftest import MONDAY_MORNING, at

MONDAY = MONDAY_MORNING.date()


@pytest.fixture
def booked(doctor, patient, station_worker, frozen_now):
    doctor.user.email = "minh@benhvien.example.vn"
    doctor.user.save()
    return actions.book_consultation(doctor=doctor, patient=patient, start=at(MONDAY, 9), booked_by=station_worker, reason="Ho")


def parse_both(body: bytes):
    return icalendar.Calendar.from_ical(body), vobject.readOne(body.decode("utf-8"))


def test_a_booking_is_an_invite_both_parsers_read_alike(booked):
    method, body = build_invite(consultation_event(booked))
    cal, vcal = parse_both(body)
    assert method == "REQUEST" and cal["method"] == "REQUEST" and vcal.method.value == "REQUEST"
    assert cal["version"] == "2.0" and "PRODID" in cal
    [event] = cal.walk("VEVENT")
    assert str(event["uid"]) == f"{booked.uid}@telecare" == vcal.vevent.uid.value
    assert event["sequence"] == 0 and vcal.vevent.sequence.value == "0"
    assert event["status"] == "CONFIRMED"
    assert event.decoded("dtstart") == at(MONDAY, 9) == vcal.vevent.dtstart.value
    assert event.decoded("dtend") == at(MONDAY, 9, 20) == vcal.vevent.dtend.value
    assert event["dtstart"].params["TZID"] == "Asia/Ho_Chi_Minh"
    assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Ho_Chi_Minh"]
    assert "DTSTAMP" in event and hasattr(vcal.vevent, "dtstamp")
    assert "Hoàng Thị Hoa" in str(event["summary"]) and "Hoàng Thị Hoa" in vcal.vevent.summary.value
    assert booked.room_url() in str(event["location"]) and booked.room_url() in str(event["description"])
    assert "Trạm Y tế xã Phúc Thuận" in str(event["location"])
    assert str(event["organizer"]).startswith("mailto:")
    [attendee] = event["attendee"] if isinstance(event["attendee"], list) else [event["attendee"]]
    assert str(attendee) == "mailto:minh@benhvien.example.vn"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT" and attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    assert vcal.vevent.attendee.params["ROLE"] == ["REQ-PARTICIPANT"]
    [alarm] = event.walk("VALARM")
    assert alarm.decoded("trigger") == -timedelta(minutes=15) and alarm["action"] == "DISPLAY"
    assert vcal.vevent.valarm.trigger.value == -timedelta(minutes=15)
    # The reason stays out (the room's random address may hold those letters).
    assert "Ho" not in str(event.get("description", "")).split("\n")[0].replace(booked.room_url(), "")


def test_a_reschedule_keeps_the_uid_with_a_higher_sequence(booked, station_worker):
    _, first = build_invite(consultation_event(booked))
    moved = actions.reschedule_consultation(consultation=booked, start=at(MONDAY, 10), by=station_worker)
    method, body = build_invite(consultation_event(moved))
    cal, vcal = parse_both(body)
    [event] = cal.walk("VEVENT")
    [old] = icalendar.Calendar.from_ical(first).walk("VEVENT")
    assert method == "REQUEST" and str(event["uid"]) == str(old["uid"])
    assert event["sequence"] == 1 > old["sequence"] and vcal.vevent.sequence.value == "1"
    assert event.decoded("dtstart") == at(MONDAY, 10) == vcal.vevent.dtstart.value


def test_a_cancellation_is_method_cancel_with_status_cancelled(booked, station_worker):
    cancelled = actions.cancel_consultation(consultation=booked, by=station_worker)
    method, body = build_invite(consultation_event(cancelled))
    cal, vcal = parse_both(body)
    [event] = cal.walk("VEVENT")
    assert method == "CANCEL" and cal["method"] == "CANCEL" and vcal.method.value == "CANCEL"
    assert event["status"] == "CANCELLED" and vcal.vevent.status.value == "CANCELLED"
    assert event["sequence"] == 1 and str(event["uid"]) == f"{booked.uid}@telecare"
    assert not event.walk("VALARM")


def test_the_invite_downloads_as_text_calendar(api_for, booked, station_worker, stranger):
    response = api_for(station_worker).get(f"/api/v1/consultations/{booked.pk}/invite.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(response.content)
    assert cal["method"] == "REQUEST"
    assert api_for(stranger).get(f"/api/v1/consultations/{booked.pk}/invite.ics").status_code == 404
    assert api_for(booked.doctor.user).get(f"/api/v1/consultations/{booked.pk}/invite.ics").status_code == 200
