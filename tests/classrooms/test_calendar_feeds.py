"""Class, teacher and pupil feeds: one VEVENT per timetable entry with a weekly
RRULE, EXDATE for holidays and cancelled lessons, RECURRENCE-ID overrides for
moved ones, extra lessons on their own. Two independent parsers expand them
back into exactly the lessons that take place."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import vobject
from dateutil.rrule import rrulestr

from booking import feeds
from classrooms import actions
from classrooms.models import Lesson
from tests.conftest import HCM, MONDAYS, THURSDAYS, at


@pytest.fixture
def changed_term(scheduled, teacher):
    """A moved lesson, a cancelled one, one moved then cancelled, an extra one and a cancelled extra one."""
    lesson = lambda start: Lesson.objects.get(starts_at=start)  # noqa: E731
    actions.move_lesson(lesson=lesson(at(MONDAYS[1], 8)), new_start=at(MONDAYS[1] + timedelta(days=1), 15, 30), by=teacher.user)
    actions.cancel_lesson(lesson=lesson(at(THURSDAYS[1], 14)), by=teacher.user)
    twice = actions.move_lesson(lesson=lesson(at(MONDAYS[2], 8)), new_start=at(MONDAYS[2], 10), by=teacher.user)
    actions.cancel_lesson(lesson=twice, by=teacher.user)
    actions.add_lesson(school_class=scheduled, start=at(MONDAYS[3] + timedelta(days=5), 9), by=teacher.user)  # a Saturday
    dropped = actions.add_lesson(school_class=scheduled, start=at(MONDAYS[4] + timedelta(days=2), 9), by=teacher.user)
    actions.cancel_lesson(lesson=dropped, by=teacher.user)
    return scheduled


def held_lessons(school_class):
    return {(l.starts_at.astimezone(UTC), l.ends_at.astimezone(UTC)) for l in school_class.lessons.held()}


def expand_with_icalendar(body: bytes) -> set:
    events = icalendar.Calendar.from_ical(body).walk("VEVENT")
    overrides = {(str(e["uid"]), e["recurrence-id"].dt): e for e in events if "recurrence-id" in e}
    found = set()
    for event in events:
        if "recurrence-id" in event or str(event.get("status")) == "CANCELLED":
            continue
        start, end = event["dtstart"].dt, event["dtend"].dt
        if "rrule" not in event:
            found.add((start.astimezone(UTC), end.astimezone(UTC)))
            continue
        excluded = {d.dt for exdate in _list(event.get("exdate")) for d in exdate.dts}
        rule = rrulestr(event["rrule"].to_ical().decode(), dtstart=start)
        for occurrence in rule:
            if occurrence in excluded:
                continue
            override = overrides.get((str(event["uid"]), occurrence))
            if override is not None:
                found.add((override["dtstart"].dt.astimezone(UTC), override["dtend"].dt.astimezone(UTC)))
            else:
                found.add((occurrence.astimezone(UTC), (occurrence + (end - start)).astimezone(UTC)))
    return found


def _list(value):
    return [] if value is None else value if isinstance(value, list) else [value]


def expand_with_vobject(body: bytes) -> set:
    calendar = vobject.readOne(body.decode())
    events = calendar.vevent_list
    overrides = {(e.uid.value, e.recurrence_id.value): e for e in events if hasattr(e, "recurrence_id")}
    found = set()
    for event in events:
        if hasattr(event, "recurrence_id") or getattr(getattr(event, "status", None), "value", "") == "CANCELLED":
            continue
        length = event.dtend.value - event.dtstart.value
        for occurrence in event.getrruleset(addRDate=True) if hasattr(event, "rrule") else [event.dtstart.value]:
            override = overrides.get((event.uid.value, occurrence))
            if override is not None:
                found.add((override.dtstart.value.astimezone(UTC), override.dtend.value.astimezone(UTC)))
            else:
                found.add((occurrence.astimezone(UTC), (occurrence + length).astimezone(UTC)))
    return found


def class_feed(client, school_class):
    client.force_login(school_class.teacher.user)
    client.post(f"/lesson-calendars/class/{school_class.pk}/", {"action": "renew", "next": f"/classes/{school_class.pk}/"})
    client.logout()
    response = client.get(f"/calendars/{feeds.active_feed(school_class).token}.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    return response.content


def test_both_parsers_expand_the_class_feed_into_the_lessons_that_take_place(client, changed_term):
    body = class_feed(client, changed_term)
    expected = held_lessons(changed_term)
    assert len(expected) == 10 - 2 + 1
    assert expand_with_icalendar(body) == expected
    assert expand_with_vobject(body) == expected


def test_the_feed_writes_one_weekly_rule_per_entry_until_the_end_of_the_term(client, changed_term):
    calendar = icalendar.Calendar.from_ical(class_feed(client, changed_term))
    masters = [e for e in calendar.walk("VEVENT") if "rrule" in e]
    assert len(masters) == 2
    monday = next(e for e in masters if e["rrule"]["byday"] == ["MO"])
    assert monday["rrule"]["freq"] == ["WEEKLY"]
    assert monday["rrule"]["until"][0] == datetime(2027, 1, 8, 23, 59, 59, tzinfo=HCM).astimezone(UTC)  # the term's last day
    thursday = next(e for e in masters if e["rrule"]["byday"] == ["TH"])
    exdates = sorted(d.dt for exdate in _list(thursday.get("exdate")) for d in exdate.dts)
    # The school holiday, New Year's Eve, and the cancelled 17 December.
    assert exdates == [at(THURSDAYS[0] + timedelta(days=7), 14), at(THURSDAYS[1], 14), at(THURSDAYS[2] + timedelta(days=7), 14)]
    [override] = [e for e in calendar.walk("VEVENT") if "recurrence-id" in e]
    assert override["uid"] == monday["uid"] and override["recurrence-id"].dt == at(MONDAYS[1], 8) and override["sequence"] == 1
    assert "/lessons/" in str(override["url"])


def test_teacher_and_pupil_feeds_show_their_classes(client, changed_term, other_class, pupils):
    teacher = changed_term.teacher
    client.force_login(teacher.user)
    assert client.post("/lesson-calendars/teacher/", {"action": "renew"}).status_code == 302
    mai = pupils[0]
    client.force_login(mai.user)
    assert client.post("/lesson-calendars/pupil/", {"action": "renew"}).status_code == 302
    teacher_feed = client.get(f"/calendars/{feeds.active_feed(teacher).token}.ics").content
    pupil_feed = client.get(f"/calendars/{feeds.active_feed(mai).token}.ics").content
    assert expand_with_icalendar(teacher_feed) == held_lessons(changed_term)
    assert expand_with_vobject(pupil_feed) == held_lessons(changed_term)
    other = other_class.active_pupils().get()
    client.force_login(other.user)
    client.post("/lesson-calendars/pupil/", {"action": "renew"})
    assert expand_with_icalendar(client.get(f"/calendars/{feeds.active_feed(other).token}.ics").content) == held_lessons(other_class)


def test_only_the_class_teacher_or_school_staff_manage_the_class_feed(client, scheduled, other_class, pupils, school_staff):
    client.force_login(other_class.teacher.user)
    assert client.post(f"/lesson-calendars/class/{scheduled.pk}/", {"action": "renew"}).status_code == 404
    client.force_login(pupils[0].user)
    assert client.post(f"/lesson-calendars/class/{scheduled.pk}/", {"action": "renew"}).status_code == 404
    assert client.post("/lesson-calendars/teacher/", {"action": "renew"}).status_code == 403
    client.force_login(school_staff)
    assert client.post(f"/lesson-calendars/class/{scheduled.pk}/", {"action": "renew"}).status_code == 302
    token = feeds.active_feed(scheduled).token
    client.post(f"/lesson-calendars/class/{scheduled.pk}/", {"action": "revoke"})
    assert client.get(f"/calendars/{token}.ics").status_code == 404
