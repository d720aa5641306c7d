"""A doctor's slots: weekly windows in local time, minus leave, minus bookings."""

from datetime import date, datetime, timedelta

from django.utils import timezone

from booking.slots import Interval, free_slots as cut_free_slots
from telecare.models import Consultation, Doctor, Leave, WeeklyAvailability


def _days(first_day: date, last_day: date):
    day = first_day
    while day <= last_day:
        yield day
        day += timedelta(days=1)


def offered_windows(doctor: Doctor, first_day: date, last_day: date) -> dict[timedelta, list[Interval]]:
    """The doctor's windows on each day not on leave, grouped by slot length."""
    tz = timezone.get_current_timezone()
    by_weekday: dict[int, list[WeeklyAvailability]] = {}
    for window in WeeklyAvailability.objects.filter(doctor=doctor):
        by_weekday.setdefault(window.weekday, []).append(window)
    leave_days = set()
    for leave in Leave.objects.filter(doctor=doctor, first_day__lte=last_day, last_day__gte=first_day):
        leave_days.update(_days(max(leave.first_day, first_day), min(leave.last_day, last_day)))

    windows: dict[timedelta, list[Interval]] = {}
    for day in _days(first_day, last_day):
        if day in leave_days:
            continue
        for w in by_weekday.get(day.weekday(), []):
            start = datetime.combine(day, w.starts_at, tzinfo=tz)
            end = datetime.combine(day, w.ends_at, tzinfo=tz)
            windows.setdefault(timedelta(minutes=w.slot_minutes), []).append(Interval(start, end))
    return windows


def offered_slots(doctor: Doctor, first_day: date, last_day: date) -> list[Interval]:
    """Every slot the doctor's timetable offers, booked or not."""
    return free_slots(doctor, first_day, last_day, now=None, include_booked=True, include_past=True)


def free_slots(
    doctor: Doctor,
    first_day: date,
    last_day: date,
    *,
    now: datetime | None = None,
    include_booked: bool = False,
    include_past: bool = False,
) -> list[Interval]:
    """Free slots between two local dates (inclusive), in time order."""
    tz = timezone.get_current_timezone()
    range_start = datetime.combine(first_day, datetime.min.time(), tzinfo=tz)
    range_end = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    busy = []
    if not include_booked:
        busy = [
            Interval(start, end)
            for start, end in Consultation.objects.filter(doctor=doctor)
            .overlapping(range_start, range_end)
            .values_list("starts_at", "ends_at")
        ]
    not_before = None if include_past else (now or timezone.now())
    slots = set()
    for length, windows in offered_windows(doctor, first_day, last_day).items():
        slots.update(cut_free_slots(windows, length, busy, not_before=not_before))
    return sorted(slots)


def find_offered_slot(doctor: Doctor, start: datetime) -> Interval | None:
    """The slot of the doctor's timetable that begins at `start`, if any."""
    day = timezone.localtime(start).date()
    for slot in offered_slots(doctor, day, day):
        if slot.start == start:
            return slot
    return None
