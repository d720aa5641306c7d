"""Lessons of the weekly timetable: occurrences in the term, holidays left out,
and reruns of schedule_term after changes that lose and duplicate nothing."""

from datetime import date, time, timedelta

import pytest
from django.db import IntegrityError, transaction

from classrooms import actions
from classrooms.models import Holiday, Lesson, Pupil, TimetableEntry
from classrooms.timetable import occurrences, rule_dates
from tests.conftest import MONDAYS, THURSDAYS, at



def starts(school_class, **filters):
    return sorted(Lesson.objects.filter(school_class=school_class, **filters).values_list("starts_at", flat=True))


def test_occurrences_are_weekly_in_the_term_without_holidays(school_class):
    monday, thursday = school_class.timetable.order_by("weekday")
    assert occurrences(monday) == [at(day, 8) for day in MONDAYS]
    assert occurrences(thursday) == [at(day, 14) for day in THURSDAYS]
    assert len(rule_dates(thursday)) == 6  # the rule itself still has the holidays (EXDATE in the feed)


def test_another_schools_holiday_does_not_count(school_class, pilot):
    from classrooms.models import School

    elsewhere = School.objects.create(name="Trường TH La Bằng", commune=pilot["daitu"]["commune"])
    Holiday.objects.create(name="Lễ hội xã", start_date=date(2026, 12, 7), end_date=date(2026, 12, 7), school=elsewhere)
    assert occurrences(school_class.timetable.get(weekday=0)) == [at(day, 8) for day in MONDAYS]


def test_scheduling_the_term_creates_each_lesson_once(school_class, pupils):
    changes = actions.schedule_term(school_class=school_class)
    assert changes.created == 10
    expected = sorted([at(d, 8) for d in MONDAYS] + [at(d, 14) for d in THURSDAYS])
    assert starts(school_class) == expected
    lesson = Lesson.objects.get(starts_at=at(MONDAYS[1], 8))
    assert lesson.ends_at == at(MONDAYS[1], 8, 45) and lesson.original_start == lesson.starts_at and not lesson.is_moved
    assert len({lesson.room_id for lesson in Lesson.objects.all()}) == 10
    again = actions.schedule_term(school_class=school_class)
    assert again == actions.TermChanges() and starts(school_class) == expected


def test_no_lessons_are_created_in_the_past(school_class, frozen_now):
    frozen_now.set(at(MONDAYS[2], 9))
    actions.schedule_term(school_class=school_class)
    assert min(starts(school_class)) == at(THURSDAYS[1], 14)


def test_a_rerun_keeps_moved_and_cancelled_lessons(scheduled, teacher):
    moved = Lesson.objects.get(starts_at=at(MONDAYS[1], 8))
    actions.move_lesson(lesson=moved, new_start=at(MONDAYS[1] + timedelta(days=1), 15), by=teacher.user)
    cancelled = Lesson.objects.get(starts_at=at(THURSDAYS[1], 14))
    actions.cancel_lesson(lesson=cancelled, by=teacher.user)
    assert actions.schedule_term(school_class=scheduled) == actions.TermChanges()
    moved.refresh_from_db()
    cancelled.refresh_from_db()
    assert moved.starts_at == at(date(2026, 12, 8), 15) and moved.original_start == at(MONDAYS[1], 8) and moved.is_moved
    assert cancelled.is_cancelled
    assert Lesson.objects.count() == 10


def test_a_new_holiday_removes_its_lessons_but_a_moved_one_stays_as_an_extra_lesson(scheduled, teacher):
    moved = Lesson.objects.get(starts_at=at(MONDAYS[3], 8))
    actions.move_lesson(lesson=moved, new_start=at(MONDAYS[3], 10), by=teacher.user)
    Holiday.objects.create(name="Nghỉ đông", start_date=MONDAYS[3], end_date=MONDAYS[3] + timedelta(days=3), school=scheduled.school)
    changes = actions.schedule_term(school_class=scheduled)
    assert (changes.removed, changes.kept_as_extra) == (1, 1)  # Thursday 24 December; the moved Monday
    moved.refresh_from_db()
    assert moved.is_extra and moved.starts_at == at(MONDAYS[3], 10)
    assert not Lesson.objects.filter(starts_at=at(THURSDAYS[2], 14)).exists()


def test_a_changed_start_time_moves_the_lessons_that_were_not_moved_by_hand(scheduled, teacher, frozen_now):
    by_hand = Lesson.objects.get(starts_at=at(MONDAYS[4], 8))
    actions.move_lesson(lesson=by_hand, new_start=at(MONDAYS[4], 16), by=teacher.user)
    frozen_now.set(at(MONDAYS[0], 9))  # the first Monday's lesson has begun: history
    TimetableEntry.objects.filter(school_class=scheduled, weekday=0).update(start_time=time(7, 30), duration_minutes=60)
    changes = actions.schedule_term(school_class=scheduled)
    assert changes.retimed == 5 and changes.created == 0
    mondays = Lesson.objects.filter(entry__weekday=0).order_by("original_start")
    assert mondays[0].starts_at == at(MONDAYS[0], 8)  # untouched
    second = mondays[1]
    assert (second.starts_at, second.ends_at, second.sequence) == (at(MONDAYS[1], 7, 30), at(MONDAYS[1], 8, 30), 1)
    by_hand.refresh_from_db()
    assert by_hand.starts_at == at(MONDAYS[4], 16) and by_hand.original_start == at(MONDAYS[4], 7, 30)


def test_a_deleted_entry_takes_its_future_lessons_with_it(scheduled, frozen_now):
    frozen_now.set(at(THURSDAYS[0], 15))
    TimetableEntry.objects.get(school_class=scheduled, weekday=3).delete()
    changes = actions.schedule_term(school_class=scheduled)
    assert changes.removed == 3
    assert Lesson.objects.filter(starts_at=at(THURSDAYS[0], 14)).exists()  # it took place


def test_one_lesson_per_occurrence_is_a_database_constraint(scheduled):
    lesson = Lesson.objects.filter(entry__isnull=False).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Lesson.objects.create(school_class=scheduled, entry=lesson.entry, original_start=lesson.original_start,
                              starts_at=lesson.starts_at, ends_at=lesson.ends_at)


def test_consent_to_sms_needs_the_guardians_phone(school_class):
    with pytest.raises(IntegrityError), transaction.atomic():
        Pupil.objects.create(full_name="Lý Văn Tú", grade=6, commune=school_class.school.commune,
                             guardian_name="Lý Thị Hiền", sms_consent=True)
    pupil = Pupil.objects.create(full_name="Lý Văn Tú", grade=6, commune=school_class.school.commune,
                                 guardian_name="Lý Thị Hiền", guardian_phone="+84912100009", sms_consent=True)
    assert pupil.sms_consent_at is not None
    pupil.sms_consent = False
    pupil.save()
    assert pupil.sms_consent_at is None
