"""Operations on a class's lessons, enrolments and attendance, each one database
transaction. Pages, commands and the lesson room's socket consumer call these;
they raise the domain errors of classrooms.errors and never leave half-done work.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import IntegrityError, transaction
from django.utils import timezone

from classrooms import notifications
from classrooms.errors import AlreadyEnrolled, InPast, NotAllowed, NotChangeable, NotOpenYet, NotStarted, TeacherBusy
from classrooms.models import AbsenceNotice, Attendance, Enrolment, Lesson, Pupil, Recording, SchoolClass
from classrooms.timetable import holiday_dates, occurrences


@dataclass
class TermChanges:
    created: int = 0
    retimed: int = 0
    removed: int = 0
    kept_as_extra: int = 0


def _is_history(lesson: Lesson, now: datetime) -> bool:
    """Lessons that began (or should have) are a record; the timetable no longer changes them."""
    return lesson.started_at is not None or lesson.starts_at <= now


def schedule_term(*, school_class: SchoolClass, now: datetime | None = None) -> TermChanges:
    """Bring the class's lessons in line with its timetable, term and holidays.

    Idempotent: one lesson per occurrence of an entry (matched by entry and day),
    created once. Moved and cancelled lessons stay moved and cancelled; a lesson
    whose day left the timetable (a new holiday, a changed weekday) is removed,
    or, if it had been moved, kept as an extra lesson. Lessons that have begun
    are never touched, and none are created in the past.
    """
    now = now or timezone.now()
    changes = TermChanges()
    with transaction.atomic():
        # Two reruns at once would both create the same occurrences; one waits.
        school_class = SchoolClass.objects.select_for_update().select_related("school", "teacher__user").get(pk=school_class.pk)
        holidays = holiday_dates(school_class)
        wanted = {}
        for entry in school_class.timetable.all():
            for start in occurrences(entry, holidays=holidays):
                wanted[(entry.pk, start.date())] = (entry, start)
        phones = notifications.guardians(school_class)

        # Lessons of the timetable, and those whose entry was deleted since.
        for lesson in school_class.lessons.select_for_update().filter(original_start__isnull=False):
            key = (lesson.entry_id, timezone.localtime(lesson.original_start).date())
            target = wanted.pop(key, None) if lesson.entry_id else None
            if _is_history(lesson, now):
                continue
            if target is None:
                if lesson.is_moved and not lesson.is_cancelled:
                    # Someone chose this time on purpose: keep it, outside the timetable.
                    lesson.entry, lesson.original_start = None, None
                    lesson.save(update_fields=["entry", "original_start", "updated_at"])
                    changes.kept_as_extra += 1
                else:
                    notifications.lesson_removed(lesson)
                    lesson.delete()
                    changes.removed += 1
                continue
            entry, start = target
            end = start + entry.duration
            if lesson.is_moved:
                if lesson.original_start == start:
                    continue
                lesson.original_start = start  # the override must name the rule's new occurrence
            elif (lesson.original_start, lesson.starts_at, lesson.ends_at) == (start, start, end):
                continue
            else:
                lesson.original_start, lesson.starts_at, lesson.ends_at = start, start, end
            lesson.sequence += 1
            lesson.save(update_fields=["original_start", "starts_at", "ends_at", "sequence", "updated_at"])
            notifications.lesson_retimed(lesson, phones)
            changes.retimed += 1

        for entry, start in wanted.values():
            if start <= now:
                continue
            lesson = Lesson.objects.create(
                school_class=school_class, entry=entry, original_start=start, starts_at=start, ends_at=start + entry.duration,
            )
            notifications.lesson_scheduled(lesson, phones)
            changes.created += 1
    return changes


def _locked(lesson: Lesson) -> Lesson:
    return Lesson.objects.select_for_update().select_related("school_class__school", "school_class__teacher").get(pk=lesson.pk)


def _check_teacher_free(school_class: SchoolClass, start: datetime, end: datetime, *, exclude_pk=None):
    clashes = Lesson.objects.held().for_teacher(school_class.teacher_id).filter(starts_at__lt=end, ends_at__gt=start)
    if clashes.exclude(pk=exclude_pk).exists():
        raise TeacherBusy()


def move_lesson(*, lesson: Lesson, new_start: datetime, by, now: datetime | None = None) -> Lesson:
    """Move one lesson, keeping its length: same UID and RECURRENCE-ID, SEQUENCE raised."""
    now = now or timezone.now()
    if not lesson.can_be_changed_by(by):
        raise NotAllowed()
    if new_start <= now:
        raise InPast()
    with transaction.atomic():
        current = _locked(lesson)
        if current.is_cancelled or _is_history(current, now):
            raise NotChangeable()
        old_start = current.starts_at
        end = new_start + current.duration
        _check_teacher_free(current.school_class, new_start, end, exclude_pk=current.pk)
        current.starts_at, current.ends_at = new_start, end
        current.sequence += 1
        current.save(update_fields=["starts_at", "ends_at", "sequence", "updated_at"])
        notifications.lesson_moved(current, old_start)
        return current


def cancel_lesson(*, lesson: Lesson, by, now: datetime | None = None) -> Lesson:
    now = now or timezone.now()
    if not lesson.can_be_changed_by(by):
        raise NotAllowed()
    with transaction.atomic():
        current = _locked(lesson)
        if current.is_cancelled or _is_history(current, now):
            raise NotChangeable()
        current.status = Lesson.Status.CANCELLED
        current.sequence += 1
        current.save(update_fields=["status", "sequence", "updated_at"])
        notifications.lesson_cancelled(current)
        return current


def add_lesson(*, school_class: SchoolClass, start: datetime, by, duration: timedelta = timedelta(minutes=45),
               now: datetime | None = None) -> Lesson:
    """An extra lesson outside the timetable; it may start at once, not end in the past."""
    now = now or timezone.now()
    if not school_class.is_seen_by(by):
        raise NotAllowed()
    if start + duration <= now:
        raise InPast()
    with transaction.atomic():
        _check_teacher_free(school_class, start, start + duration)
        lesson = Lesson.objects.create(school_class=school_class, starts_at=start, ends_at=start + duration)
        notifications.lesson_added(lesson)
        return lesson


def enrol(*, pupil: Pupil, school_class: SchoolClass, now: datetime | None = None) -> Enrolment:
    try:
        with transaction.atomic():
            enrolment = Enrolment.objects.create(pupil=pupil, school_class=school_class, enrolled_at=now or timezone.now())
            notifications.pupil_enrolled(pupil, school_class)
            return enrolment
    except IntegrityError as error:
        if Enrolment.objects.filter(pupil=pupil, school_class=school_class, ended_at__isnull=True).exists():
            raise AlreadyEnrolled() from error
        raise


def unenrol(*, enrolment: Enrolment, now: datetime | None = None) -> Enrolment:
    """End an enrolment; the pupil's account is dropped from any live lesson of the class."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = Enrolment.objects.filter(pk=enrolment.pk, ended_at__isnull=True).update(ended_at=max(now, enrolment.enrolled_at))
        enrolment.refresh_from_db()
        if not updated:
            return enrolment  # already ended
        pupil, school_class = enrolment.pupil, enrolment.school_class
        notifications.pupil_left(pupil, school_class)
        if pupil.user_id is not None:
            rooms = list(school_class.lessons.live().values_list("room_id", flat=True))
            transaction.on_commit(lambda: _revoke(rooms, pupil.user_id))
    return enrolment


def _revoke(room_ids: list[str], user_id: int) -> None:
    layer = get_channel_layer()
    for room_id in room_ids:
        async_to_sync(layer.group_send)(f"room.{room_id}", {"type": "signal.revoke", "user_id": user_id})


# The lesson's life, called from the room's socket consumer.

def start_lesson(*, lesson: Lesson, user, now: datetime | None = None) -> Lesson:
    """The teacher opens the lesson (again after a reconnect: no change)."""
    now = now or timezone.now()
    role = lesson.role_of(user)
    if role is None or role[0] != "teacher":
        raise NotAllowed()
    opens, closes = lesson.room_window()
    if lesson.is_cancelled or lesson.ended_at is not None or now > closes:
        raise NotChangeable()
    if now < opens:
        raise NotOpenYet()
    Lesson.objects.filter(pk=lesson.pk, started_at__isnull=True).update(started_at=now, updated_at=now)
    lesson.refresh_from_db(fields=["started_at", "ended_at"])
    return lesson


def end_lesson(*, lesson: Lesson, user, now: datetime | None = None) -> Lesson:
    """The teacher ends the lesson: the room closes and open attendance rows end too."""
    now = now or timezone.now()
    role = lesson.role_of(user)
    if role is None or role[0] != "teacher":
        raise NotAllowed()
    with transaction.atomic():
        current = _locked(lesson)
        if current.started_at is None:
            raise NotStarted()
        if current.ended_at is None:
            current.ended_at = max(now, current.started_at)
            current.save(update_fields=["ended_at", "updated_at"])
            Attendance.objects.filter(lesson=current, left_at__isnull=True).update(left_at=current.ended_at)
    lesson.started_at, lesson.ended_at = current.started_at, current.ended_at
    return lesson


def mark_joined(*, lesson: Lesson, pupils, via: str, now: datetime | None = None) -> list[int]:
    """One attendance row per pupil for this join; answers their ids for mark_left."""
    if via not in Attendance.Via.values:
        raise ValueError(f"not a way to join: {via}")
    now = now or timezone.now()
    with transaction.atomic():
        return [Attendance.objects.create(lesson=lesson, pupil=pupil, joined_at=now, via=via).pk for pupil in pupils]


def mark_left(*, attendance_ids, now: datetime | None = None) -> int:
    """Close these attendance rows (a row already closed keeps its time)."""
    now = now or timezone.now()
    return Attendance.objects.filter(pk__in=list(attendance_ids), left_at__isnull=True).update(left_at=now)


def purge_recordings(*, keep_days: int, now: datetime | None = None) -> tuple[int, int]:
    """Delete the files of recordings older than keep_days and mark them deleted;
    answers (recordings purged, bytes freed). A file already gone is no error."""
    now = now or timezone.now()
    purged = freed = 0
    for recording in Recording.objects.kept().filter(started_at__lt=now - timedelta(days=keep_days)):
        for kind in ("video", "audio"):
            path = recording.file(kind)
            if path is not None and path.is_file():
                freed += path.stat().st_size
                path.unlink()
        # Conditional: another purge run that got here first is not counted twice.
        purged += Recording.objects.filter(pk=recording.pk, deleted_at__isnull=True).update(deleted_at=now)
    return purged, freed


def report_absence(*, lesson: Lesson, pupils, number: str, now: datetime | None = None) -> int:
    """A guardian said these pupils will miss the lesson; answers how many notices are new."""
    now = now or timezone.now()
    created = 0
    with transaction.atomic():
        for pupil in pupils:
            _, made = AbsenceNotice.objects.get_or_create(lesson=lesson, pupil=pupil, defaults={"from_number": number, "at": now})
            created += made
    return created


def withdraw_absence(*, lesson: Lesson, pupils) -> int:
    """The guardian took it back: the pupils will come after all."""
    deleted, _ = AbsenceNotice.objects.filter(lesson=lesson, pupil__in=list(pupils)).delete()
    return deleted
