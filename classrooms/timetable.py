"""The weekly timetable's arithmetic: which dates a timetable entry falls on in
its class's term, and which of them holidays take away. Local time throughout."""

from datetime import date, datetime, timedelta

from django.utils import timezone

from classrooms.models import SchoolClass, TimetableEntry


def holiday_dates(school_class: SchoolClass) -> set[date]:
    """The days of the class's term on which no lesson takes place."""
    days = set()
    for holiday in school_class.holidays().filter(end_date__gte=school_class.term_start, start_date__lte=school_class.term_end):
        day = max(holiday.start_date, school_class.term_start)
        while day <= min(holiday.end_date, school_class.term_end):
            days.add(day)
            day += timedelta(days=1)
    return days


def rule_dates(entry: TimetableEntry) -> list[date]:
    """Every date of the weekly rule in the term, holidays included (what RRULE says)."""
    school_class = entry.school_class
    first = school_class.term_start + timedelta(days=(entry.weekday - school_class.term_start.weekday()) % 7)
    count = max(0, (school_class.term_end - first).days // 7 + 1)
    return [first + timedelta(weeks=n) for n in range(count)]


def local_start(entry: TimetableEntry, day: date) -> datetime:
    return datetime.combine(day, entry.start_time, tzinfo=timezone.get_default_timezone())


def occurrences(entry: TimetableEntry, *, holidays: set[date] | None = None) -> list[datetime]:
    """The starts of the entry's lessons: the rule's dates minus holidays."""
    if holidays is None:
        holidays = holiday_dates(entry.school_class)
    return [local_start(entry, day) for day in rule_dates(entry) if day not in holidays]


def term_until(school_class: SchoolClass) -> datetime:
    """The last moment of the term, for RRULE's UNTIL (inclusive)."""
    last = datetime.combine(school_class.term_end, datetime.max.time().replace(microsecond=0))
    return last.replace(tzinfo=timezone.get_default_timezone())
