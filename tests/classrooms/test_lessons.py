"""Moving, cancelling and adding lessons; who is who in a lesson; the lesson's
life (start, end) and attendance; unenrolling drops the pupil from a live room."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from classrooms import actions
from classrooms.errors import InPast, NotAllowed, NotChangeable, NotOpenYet, NotStarted, TeacherBusy
from classrooms.models import Attendance, Enrolment, Lesson
from tests.conftest import MONDAY_MORNING, MONDAYS, at, make_user

TUESDAY = MONDAYS[0] + timedelta(days=1)


@pytest.fixture
def first(scheduled):
    return Lesson.objects.order_by("starts_at").first()  # Monday 30 November, 08:00


def test_moving_keeps_the_occurrence_and_raises_the_sequence(first, teacher):
    moved = actions.move_lesson(lesson=first, new_start=at(TUESDAY, 9), by=teacher.user)
    assert (moved.starts_at, moved.ends_at, moved.original_start, moved.sequence) == (at(TUESDAY, 9), at(TUESDAY, 9, 45), at(MONDAYS[0], 8), 1)
    assert moved.is_moved and not moved.is_extra
    back = actions.move_lesson(lesson=moved, new_start=at(MONDAYS[0], 8), by=teacher.user)
    assert not back.is_moved and back.sequence == 2


def test_only_the_teacher_or_the_school_staff_change_a_lesson(first, school_staff, pupils, other_class):
    mai = pupils[0]
    for outsider in (mai.user, other_class.teacher.user, make_user("someone")):
        with pytest.raises(NotAllowed):
            actions.move_lesson(lesson=first, new_start=at(TUESDAY, 9), by=outsider)
        with pytest.raises(NotAllowed):
            actions.cancel_lesson(lesson=first, by=outsider)
    assert actions.cancel_lesson(lesson=first, by=school_staff).is_cancelled


def test_a_lesson_cannot_move_into_the_past_or_onto_another_lesson_of_the_teacher(first, teacher):
    with pytest.raises(InPast):
        actions.move_lesson(lesson=first, new_start=MONDAY_MORNING - timedelta(hours=1), by=teacher.user)
    thursday = Lesson.objects.filter(entry__weekday=3).order_by("starts_at").first()
    with pytest.raises(TeacherBusy):
        actions.move_lesson(lesson=first, new_start=thursday.starts_at + timedelta(minutes=30), by=teacher.user)


def test_cancelled_started_or_past_lessons_no_longer_change(first, teacher, frozen_now):
    cancelled = actions.cancel_lesson(lesson=first, by=teacher.user)
    with pytest.raises(NotChangeable):
        actions.cancel_lesson(lesson=cancelled, by=teacher.user)
    with pytest.raises(NotChangeable):
        actions.move_lesson(lesson=cancelled, new_start=at(TUESDAY, 9), by=teacher.user)
    second = Lesson.objects.held().order_by("starts_at").first()
    frozen_now.set(second.starts_at + timedelta(minutes=1))
    with pytest.raises(NotChangeable):
        actions.move_lesson(lesson=second, new_start=second.starts_at + timedelta(days=1), by=teacher.user)


def test_an_extra_lesson_may_start_now_but_not_end_in_the_past(scheduled, teacher, frozen_now):
    extra = actions.add_lesson(school_class=scheduled, start=MONDAY_MORNING, by=teacher.user, duration=timedelta(minutes=30))
    assert extra.is_extra and extra.ends_at == MONDAY_MORNING + timedelta(minutes=30)
    with pytest.raises(InPast):
        actions.add_lesson(school_class=scheduled, start=MONDAY_MORNING - timedelta(hours=2), by=teacher.user)
    with pytest.raises(TeacherBusy):
        actions.add_lesson(school_class=scheduled, start=at(MONDAYS[0], 7, 30), by=teacher.user)


def test_roles_in_a_lesson(first, teacher, pupils, point, other_class, school_staff):
    mai, nam, lan = pupils
    assert first.role_of(teacher.user) == ("teacher", [])
    assert first.role_of(mai.user) == ("pupil", [mai])
    assert first.role_of(lan.user) == ("pupil", [lan])
    # The device stands for the class's pupils at its point, not for 7B's pupil there.
    assert first.role_of(point.device_user) == ("pupil", [lan, nam])
    outsider = other_class.active_pupils().get()
    for nobody in (outsider.user, other_class.teacher.user, school_staff, make_user("someone")):
        assert first.role_of(nobody) is None
    actions.unenrol(enrolment=Enrolment.objects.get(pupil=mai, school_class=first.school_class))
    assert first.role_of(mai.user) is None


def test_a_device_stands_for_nobody_when_none_of_the_class_learns_there(first, pupils, point):
    for pupil in pupils[1:]:
        actions.unenrol(enrolment=pupil.enrolments.get())
    assert first.role_of(point.device_user) is None


def test_the_room_opens_before_the_lesson_and_closes_when_the_teacher_ends_it(first, teacher, frozen_now, settings):
    settings.LESSON_ROOM_OPENS_MINUTES_BEFORE = 10
    settings.ROOM_CLOSES_MINUTES_AFTER = 30
    assert first.room_window() == (at(MONDAYS[0], 7, 50), at(MONDAYS[0], 9, 15))
    frozen_now.set(at(MONDAYS[0], 7, 45))
    with pytest.raises(NotOpenYet):
        actions.start_lesson(lesson=first, user=teacher.user)
    frozen_now.set(at(MONDAYS[0], 7, 55))
    started = actions.start_lesson(lesson=first, user=teacher.user)
    assert started.started_at == at(MONDAYS[0], 7, 55) and started.is_live
    frozen_now.set(at(MONDAYS[0], 8, 40))
    ended = actions.end_lesson(lesson=first, user=teacher.user)
    assert not ended.is_live and ended.room_window()[1] == at(MONDAYS[0], 8, 40)
    with pytest.raises(NotChangeable):
        actions.start_lesson(lesson=first, user=teacher.user)


def test_only_the_teacher_starts_and_ends_the_lesson(first, pupils, frozen_now, point):
    frozen_now.set(first.starts_at)
    for user in (pupils[0].user, point.device_user):
        with pytest.raises(NotAllowed):
            actions.start_lesson(lesson=first, user=user)
        with pytest.raises(NotAllowed):
            actions.end_lesson(lesson=first, user=user)
    with pytest.raises(NotStarted):
        actions.end_lesson(lesson=first, user=first.school_class.teacher.user)


def test_joins_and_leaves_make_attendance_rows_and_the_end_closes_them(first, teacher, pupils, frozen_now):
    mai, nam, lan = pupils
    frozen_now.set(first.starts_at)
    actions.start_lesson(lesson=first, user=teacher.user)
    [mai_row] = actions.mark_joined(lesson=first, pupils=[mai], via="own")
    device_rows = actions.mark_joined(lesson=first, pupils=[nam, lan], via="device")
    frozen_now.set(first.starts_at + timedelta(minutes=10))
    assert actions.mark_left(attendance_ids=[mai_row]) == 1
    assert actions.mark_left(attendance_ids=[mai_row]) == 0  # a second leave keeps the first time
    frozen_now.set(first.starts_at + timedelta(minutes=12))
    [again] = actions.mark_joined(lesson=first, pupils=[mai], via="own")  # a reconnect: a new row
    frozen_now.set(first.starts_at + timedelta(minutes=45))
    actions.end_lesson(lesson=first, user=teacher.user)
    rows = {a.pk: a for a in Attendance.objects.filter(lesson=first)}
    assert len(rows) == 4 and {rows[pk].via for pk in device_rows} == {"device"}
    assert rows[mai_row].left_at == first.starts_at + timedelta(minutes=10)
    assert all(rows[pk].left_at == first.starts_at + timedelta(minutes=45) for pk in [again, *device_rows])
    with pytest.raises(ValueError):
        actions.mark_joined(lesson=first, pupils=[mai], via="teleport")


def test_unenrolling_a_pupil_tells_the_live_room_to_drop_their_account(first, teacher, pupils, frozen_now, django_capture_on_commit_callbacks):
    mai = pupils[0]
    frozen_now.set(first.starts_at)
    actions.start_lesson(lesson=first, user=teacher.user)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"room.{first.room_id}", channel)
    with django_capture_on_commit_callbacks(execute=True):
        actions.unenrol(enrolment=Enrolment.objects.get(pupil=mai, school_class=first.school_class))
    assert async_to_sync(layer.receive)(channel) == {"type": "signal.revoke", "user_id": mai.user_id}
    async_to_sync(layer.group_discard)(f"room.{first.room_id}", channel)


def test_enrolling_twice_is_refused_but_re_enrolling_after_leaving_is_fine(scheduled, pupils):
    from classrooms.errors import AlreadyEnrolled

    mai = pupils[0]
    with pytest.raises(AlreadyEnrolled):
        actions.enrol(pupil=mai, school_class=scheduled)
    actions.unenrol(enrolment=mai.enrolments.get())
    assert actions.enrol(pupil=mai, school_class=scheduled).is_active
    assert mai.enrolments.count() == 2
