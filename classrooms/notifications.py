"""What lessons tell people, through the booking module: SMS to guardians who
agreed to them (a reminder before each lesson, a notice when one is added,
moved or cancelled) and calendar feeds of classes, teachers and pupils.
Called inside the actions' transactions."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.utils import timezone

from booking import outbox, replies
from booking.ical import CalendarEvent, Person
from classrooms.models import Lesson, Pupil, SchoolClass, Teacher
from classrooms.timetable import holiday_dates, local_start, rule_dates, term_until

SOURCE = "classrooms.lesson"

# Vietnamese SMS, one GSM-7 segment once diacritics are dropped (SMS_UNICODE off).
# Those that invite a reply carry the lesson's reference for this phone ({ref},
# booking.replies): a guardian may answer for pupils of several classes.
SMS_TEXTS = {
    "reminder": "{school}: nhắc {name} có buổi học {subject} lúc {time} ngày {date}. Nếu con nghỉ, trả lời H {ref}.",
    "added": "{school}: {name} có thêm buổi học {subject} lúc {time} ngày {date}. Nếu con nghỉ, trả lời H {ref}.",
    "moved": "{school}: buổi học {subject} ngày {old} của {name} đổi sang {time} ngày {date}. Nếu con nghỉ, trả lời H {ref}.",
    "cancelled": "{school}: buổi học {subject} lúc {time} ngày {date} của {name} đã hủy.",
    "absent": "{school}: đã ghi nhận {name} nghỉ buổi {subject} {time} ngày {date}. Nếu con vẫn học, trả lời C {ref}.",
    "coming": "{school}: đã ghi nhận {name} sẽ học buổi {subject} {time} ngày {date}. Cảm ơn!",
    "closed": "{school}: buổi học này đã bắt đầu hoặc không còn. Xin liên hệ nhà trường nếu cần.",
}
INVITES_REPLY = {"reminder", "added", "moved"}
RRULE_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "."


def sms_text(purpose: str, lesson: Lesson, pupils: list[Pupil] = (), *, old_start: datetime | None = None,
             ref: str = "") -> str:
    school_class = lesson.school_class
    local = timezone.localtime(lesson.starts_at)
    old = timezone.localtime(old_start) if old_start else local
    return SMS_TEXTS[purpose].format(
        school=_short(school_class.school.short_name, 28), subject=_short(school_class.subject, 20),
        name=_short(", ".join(p.given_name for p in pupils), 20),
        time=f"{local:%H:%M}", date=f"{local:%d/%m}", old=f"{old:%H:%M %d/%m}", ref=ref,
    )


def describe(lesson_id: int) -> str:
    """'Toan 08:00 01/12': which of a guardian's lessons this is."""
    lesson = Lesson.objects.select_related("school_class").filter(pk=lesson_id).first()
    if lesson is None:
        return ""
    local = timezone.localtime(lesson.starts_at)
    return f"{_short(lesson.school_class.subject, 12)} {local:%H:%M %d/%m}"


def guardians(school_class: SchoolClass) -> dict[str, list[Pupil]]:
    """Each opted-in guardian's phone and the enrolled pupils it answers for
    (siblings in one class share one SMS)."""
    phones = defaultdict(list)
    for pupil in school_class.active_pupils().filter(sms_consent=True).exclude(guardian_phone="").order_by("full_name"):
        phones[pupil.guardian_phone].append(pupil)
    return dict(phones)


def reference_for(lesson: Lesson, phone: str):
    return replies.open_reference(number=phone, source=SOURCE, source_id=lesson.pk, open_until=lesson.starts_at)


def _sms(lesson: Lesson, purpose: str, phone: str, pupils, *, due_at: datetime | None = None, old_start=None):
    reference = reference_for(lesson, phone) if purpose in INVITES_REPLY else None
    return outbox.enqueue_sms(
        source=SOURCE, source_id=lesson.pk, version=lesson.sequence, purpose=purpose, to=phone,
        text=sms_text(purpose, lesson, pupils, old_start=old_start, ref=reference.code if reference else ""),
        due_at=due_at or timezone.now(), event_start=lesson.starts_at, reply_reference=reference,
    )


def _reminder(lesson: Lesson, phone: str, pupils):
    due = lesson.starts_at - timedelta(minutes=lesson.school_class.reminder_minutes_before)
    if due > timezone.now():
        _sms(lesson, "reminder", phone, pupils, due_at=due)


def _reminders(lesson: Lesson, phones: dict[str, list[Pupil]] | None = None):
    for phone, pupils in (guardians(lesson.school_class) if phones is None else phones).items():
        _reminder(lesson, phone, pupils)


def lesson_scheduled(lesson: Lesson, phones: dict[str, list[Pupil]] | None = None):
    """A timetabled lesson: only the reminder, no notice (the timetable is known)."""
    _reminders(lesson, phones)


def lesson_retimed(lesson: Lesson, phones: dict[str, list[Pupil]] | None = None):
    """The timetable changed under a lesson: reminders follow, without a notice per lesson."""
    outbox.withdraw(source=SOURCE, source_id=lesson.pk)
    if lesson.is_cancelled:
        replies.close_references(source=SOURCE, source_id=lesson.pk)
    else:
        _reminders(lesson, phones)


def lesson_removed(lesson: Lesson):
    outbox.withdraw(source=SOURCE, source_id=lesson.pk)
    replies.close_references(source=SOURCE, source_id=lesson.pk)


def lesson_added(lesson: Lesson):
    for phone, pupils in guardians(lesson.school_class).items():
        _sms(lesson, "added", phone, pupils)
        _reminder(lesson, phone, pupils)


def lesson_moved(lesson: Lesson, old_start: datetime):
    outbox.withdraw(source=SOURCE, source_id=lesson.pk)
    for phone, pupils in guardians(lesson.school_class).items():
        _sms(lesson, "moved", phone, pupils, old_start=old_start)
        _reminder(lesson, phone, pupils)


def lesson_cancelled(lesson: Lesson):
    outbox.withdraw(source=SOURCE, source_id=lesson.pk)
    replies.close_references(source=SOURCE, source_id=lesson.pk)
    for phone, pupils in guardians(lesson.school_class).items():
        _sms(lesson, "cancelled", phone, pupils)


def _upcoming(school_class: SchoolClass):
    return school_class.lessons.held().filter(starts_at__gt=timezone.now(), started_at__isnull=True)


def pupil_enrolled(pupil: Pupil, school_class: SchoolClass):
    """Reminders of the coming lessons, unless a sibling's already go to that phone."""
    if not pupil.wants_sms:
        return
    for lesson in _upcoming(school_class):
        covered = outbox.messages_about(source=SOURCE, source_id=lesson.pk).filter(
            purpose="reminder", recipient=pupil.guardian_phone, source_version=lesson.sequence,
            status__in=("pending", "sending"),
        )
        if not covered.exists():
            _reminder(lesson, pupil.guardian_phone, [pupil])


def pupil_left(pupil: Pupil, school_class: SchoolClass):
    """No more reminders to the guardian, unless a sibling is still in the class."""
    phone = pupil.guardian_phone
    if not phone or guardians(school_class).get(phone):
        return
    lesson_ids = list(_upcoming(school_class).values_list("pk", flat=True))
    outbox.withdraw(source=SOURCE, source_id=lesson_ids, recipient=phone)
    replies.close_references(source=SOURCE, source_id=lesson_ids, number=phone)


def messages_of(lesson: Lesson):
    return outbox.messages_about(source=SOURCE, source_id=lesson.pk)


# The source interface booking's worker and webhooks call.
def is_current(lesson_id: int, version: int) -> bool:
    return Lesson.objects.filter(pk=lesson_id, sequence=version).exists()


# Calendars: one VEVENT per timetable entry with its weekly RRULE, EXDATE for
# holidays and cancelled lessons, an override (RECURRENCE-ID) per moved lesson,
# and extra lessons as events of their own.

def _absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL + path


def _event(school_class: SchoolClass, *, uid, sequence, start, end, **extra) -> CalendarEvent:
    _, sender = parseaddr(settings.DEFAULT_FROM_EMAIL)
    teacher = school_class.teacher
    attendees = (Person(teacher.name, teacher.email or teacher.user.email, partstat="ACCEPTED"),)
    return CalendarEvent(
        uid=uid, sequence=sequence, start=start, end=end,
        summary=f"{school_class.subject} – {school_class.name} ({teacher.name})",
        organizer=Person(school_class.school.name, sender), attendees=attendees, **extra,
    )


def _lesson_extra(lesson: Lesson) -> dict:
    room = _absolute(lesson.room_url())
    return {"description": f"Vào lớp trực tuyến: {room}", "location": room, "url": room}


def class_events(school_class: SchoolClass) -> list[CalendarEvent]:
    holidays = holiday_dates(school_class)
    lessons = list(school_class.lessons.all())
    events = []
    for entry in school_class.timetable.all():
        dates = rule_dates(entry)
        if not dates:
            continue
        first = local_start(entry, dates[0])
        mine = [lesson for lesson in lessons if lesson.entry_id == entry.pk]
        excluded = {local_start(entry, day) for day in dates if day in holidays}
        excluded |= {lesson.original_start for lesson in mine if lesson.is_cancelled}
        uid = f"{entry.uid}@classrooms"
        events.append(_event(
            school_class, uid=uid, sequence=0, start=first, end=first + entry.duration,
            rrule={"freq": "WEEKLY", "byday": RRULE_DAYS[entry.weekday], "until": term_until(school_class).astimezone(UTC)},
            exdates=tuple(sorted(excluded)),
            description=f"Vào lớp trực tuyến từ trang chủ: {_absolute('/')}",
        ))
        for lesson in mine:
            if lesson.is_moved and not lesson.is_cancelled:
                events.append(_event(
                    school_class, uid=uid, sequence=lesson.sequence, start=lesson.starts_at, end=lesson.ends_at,
                    recurrence_id=lesson.original_start, **_lesson_extra(lesson),
                ))
    for lesson in lessons:
        if lesson.entry_id is None:
            events.append(_event(
                school_class, uid=f"{lesson.uid}@classrooms", sequence=lesson.sequence, start=lesson.starts_at,
                end=lesson.ends_at, cancelled=lesson.is_cancelled, **_lesson_extra(lesson),
            ))
    return events


def _current(classes):
    """Classes of this term and the last one; older terms drop out of the feeds."""
    since = timezone.localdate() - timedelta(days=180)
    return classes.filter(term_end__gte=since).select_related("school", "teacher__user")


def teacher_events(teacher: Teacher) -> list[CalendarEvent]:
    return [event for school_class in _current(teacher.classes.all()) for event in class_events(school_class)]


def pupil_events(pupil: Pupil) -> list[CalendarEvent]:
    classes = SchoolClass.objects.filter(enrolments__pupil=pupil, enrolments__ended_at__isnull=True).distinct()
    return [event for school_class in _current(classes) for event in class_events(school_class)]
