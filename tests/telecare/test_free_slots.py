from datetime import time, timedelta

from telecare.availability import free_slots
from telecare.models import Consultation, Leave, WeeklyAvailability
from tests.conftest import MONDAY_MORNING, at

MONDAY = MONDAY_MORNING.date()
TUESDAY = MONDAY + timedelta(days=1)


def book(doctor, patient, booked_by, start, minutes=20):
    return Consultation.objects.create(
        doctor=doctor, patient=patient, station=patient.station, starts_at=start,
        ends_at=start + timedelta(minutes=minutes), reason="ho", booked_by=booked_by,
    )


def test_slots_follow_the_weekly_windows_in_local_time(doctor, frozen_now):
    slots = free_slots(doctor, MONDAY, MONDAY)
    assert len(slots) == 9  # 08:00 to 11:00 in 20-minute slots
    assert slots[0].start == at(MONDAY, 8) and slots[-1].end == at(MONDAY, 11)
    assert slots[0].start.isoformat() == "2026-11-30T08:00:00+07:00"


def test_days_without_a_window_are_days_off(doctor, frozen_now):
    saturday, sunday = MONDAY + timedelta(days=5), MONDAY + timedelta(days=6)
    assert free_slots(doctor, saturday, sunday) == []


def test_leave_removes_whole_days(doctor, frozen_now):
    Leave.objects.create(doctor=doctor, first_day=TUESDAY, last_day=TUESDAY + timedelta(days=1))
    days = {s.start.date() for s in free_slots(doctor, MONDAY, MONDAY + timedelta(days=4))}
    assert days == {MONDAY, MONDAY + timedelta(days=3), MONDAY + timedelta(days=4)}


def test_booked_consultations_are_not_free_but_cancelled_ones_are(doctor, patient, station_worker, frozen_now):
    book(doctor, patient, station_worker, at(MONDAY, 8, 20))
    cancelled = book(doctor, patient, station_worker, at(MONDAY, 9))
    cancelled.status = Consultation.Status.CANCELLED
    cancelled.save()
    starts = [s.start for s in free_slots(doctor, MONDAY, MONDAY)]
    assert at(MONDAY, 8, 20) not in starts
    assert at(MONDAY, 9) in starts


def test_a_booking_off_the_grid_blocks_every_slot_it_touches(doctor, patient, station_worker, frozen_now):
    book(doctor, patient, station_worker, at(MONDAY, 8, 30), minutes=30)  # 08:30-09:00
    starts = [s.start for s in free_slots(doctor, MONDAY, MONDAY)]
    assert at(MONDAY, 8, 20) not in starts and at(MONDAY, 8, 40) not in starts
    assert at(MONDAY, 8) in starts and at(MONDAY, 9) in starts


def test_slots_that_already_began_are_not_offered(doctor, frozen_now):
    frozen_now.set(at(MONDAY, 9, 5))
    assert free_slots(doctor, MONDAY, MONDAY)[0].start == at(MONDAY, 9, 20)


def test_windows_with_different_slot_lengths_each_keep_their_length(doctor, frozen_now):
    WeeklyAvailability.objects.create(doctor=doctor, weekday=0, starts_at=time(14), ends_at=time(15), slot_minutes=30)
    afternoon = [s for s in free_slots(doctor, MONDAY, MONDAY) if s.start.hour >= 14]
    assert [(s.start, s.end) for s in afternoon] == [(at(MONDAY, 14), at(MONDAY, 14, 30)), (at(MONDAY, 14, 30), at(MONDAY, 15))]


def test_any_date_range_works(doctor, frozen_now):
    slots = free_slots(doctor, MONDAY, MONDAY + timedelta(days=29))
    weekdays = sum(1 for i in range(30) if (MONDAY + timedelta(days=i)).weekday() < 5)
    assert len(slots) == 9 * weekdays
