"""iCalendar (RFC 5545) invites and feeds, built with the `icalendar` package.

Knows events, not consultations or lessons: callers describe each as a
CalendarEvent. Times are written with TZID=Asia/Ho_Chi_Minh and its VTIMEZONE.
"""

from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timedelta

import icalendar
from django.utils import timezone

PRODID = "-//Telecare Thai Nguyen//Scheduler 1.0//VI"


@dataclass(frozen=True)
class Person:
    name: str
    email: str = ""  # mailto: address; without one, a person is named but not invited
    role: str = "REQ-PARTICIPANT"
    partstat: str = "NEEDS-ACTION"

    def cal_address(self, *, attendee: bool) -> icalendar.vCalAddress:
        address = icalendar.vCalAddress(f"mailto:{self.email}" if self.email else "mailto:noreply@invalid")
        address.params["cn"] = self.name
        if attendee:
            address.params["role"] = self.role
            address.params["partstat"] = self.partstat
            address.params["rsvp"] = "TRUE" if self.email else "FALSE"
        return address


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    sequence: int
    start: datetime
    end: datetime
    summary: str
    organizer: Person
    attendees: tuple[Person, ...] = ()
    description: str = ""
    location: str = ""
    url: str = ""
    cancelled: bool = False
    alarm_before: timedelta | None = timedelta(minutes=15)
    # Weekly lessons: a recurrence rule, dates left out, and a moved occurrence.
    rrule: dict = field(default_factory=dict)
    exdates: tuple[datetime, ...] = ()
    recurrence_id: datetime | None = None


@lru_cache(maxsize=1)
def _vtimezone() -> icalendar.Timezone:
    """The VTIMEZONE of the local zone. icalendar takes ~10 ms to build it, so
    it is built once (every event is written in that zone)."""
    probe = icalendar.Calendar()
    event = icalendar.Event()
    event.add("dtstart", timezone.localtime(timezone.now(), timezone.get_default_timezone()))
    probe.add_component(event)
    probe.add_missing_timezones()
    [vtimezone] = probe.walk("VTIMEZONE")
    return vtimezone


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment, timezone.get_default_timezone())


def build_event(event: CalendarEvent, *, stamp: datetime | None = None) -> icalendar.Event:
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", stamp or timezone.now())
    vevent.add("dtstart", _local(event.start))
    vevent.add("dtend", _local(event.end))
    vevent.add("sequence", event.sequence)
    vevent.add("summary", event.summary)
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    if event.description:
        vevent.add("description", event.description)
    if event.location:
        vevent.add("location", event.location)
    if event.url:
        vevent.add("url", event.url)
    vevent.add("organizer", event.organizer.cal_address(attendee=False))
    for person in event.attendees:
        vevent.add("attendee", person.cal_address(attendee=True))
    if event.rrule:
        vevent.add("rrule", event.rrule)
    for excluded in event.exdates:
        vevent.add("exdate", _local(excluded))
    if event.recurrence_id is not None:
        vevent.add("recurrence-id", _local(event.recurrence_id))
    if event.alarm_before and not event.cancelled:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", event.summary)
        alarm.add("trigger", -event.alarm_before)
        vevent.add_component(alarm)
    return vevent


def build_calendar(events, *, method: str, name: str = "") -> bytes:
    """A VCALENDAR of the events. METHOD is REQUEST or CANCEL for an invite
    (RFC 5546), PUBLISH for a subscribed feed."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
        calendar.add("x-wr-timezone", "Asia/Ho_Chi_Minh")
    stamp = timezone.now()
    events = list(events)
    if events:
        calendar.add_component(_vtimezone())
    for event in events:
        calendar.add_component(build_event(event, stamp=stamp))
    return calendar.to_ical()


def build_invite(event: CalendarEvent) -> tuple[str, bytes]:
    """(method, body) of an invite: REQUEST for a new or moved event, CANCEL
    with STATUS:CANCELLED for a cancelled one."""
    method = "CANCEL" if event.cancelled else "REQUEST"
    return method, build_calendar([event], method=method)
