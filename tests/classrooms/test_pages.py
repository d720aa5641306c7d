"""The teacher's, school's, pupil's and learning point's pages."""

import csv
import io
from datetime import timedelta

from django.utils.translation import gettext, override

from classrooms import actions
from classrooms.models import Lesson, Recording
from tests.conftest import MONDAYS, at, make_user


def first_lesson():
    return Lesson.objects.order_by("starts_at").first()


def test_the_teacher_sees_todays_lessons_with_the_room_link_once_open(client, scheduled, teacher, frozen_now):
    client.force_login(teacher.user)
    lesson = first_lesson()
    page = client.get("/teacher/").content.decode()
    assert 'id="today"' in page and "08:00" in page and lesson.room_url() not in page  # 06:00: not open yet
    frozen_now.set(at(MONDAYS[0], 7, 50))
    page = client.get("/teacher/").content.decode()
    assert f'href="/lessons/{lesson.room_id}/"' in page
    assert f"/classes/{scheduled.pk}/" in page


def test_the_class_page_is_for_its_teacher_and_school_staff_only(client, scheduled, teacher, school_staff, other_class, pupils):
    for user in (teacher.user, school_staff):
        client.force_login(user)
        page = client.get(f"/classes/{scheduled.pk}/").content.decode()
        assert "Hoàng Thị Mai" in page and 'id="timetable"' in page and "attendance.csv" in page
    for user in (other_class.teacher.user, pupils[0].user, make_user("someone")):
        client.force_login(user)
        assert client.get(f"/classes/{scheduled.pk}/").status_code == 404
        assert client.get(f"/classes/{scheduled.pk}/attendance.csv").status_code == 404
        assert client.post(f"/lessons/{first_lesson().pk}/cancel/").status_code == 404


def test_the_teacher_moves_cancels_and_adds_lessons_from_the_class_page(client, scheduled, teacher):
    client.force_login(teacher.user)
    lesson = first_lesson()
    response = client.post(f"/lessons/{lesson.pk}/move/", {"start": "2026-12-01T15:00"}, follow=True)
    assert 'class="msg success"' in response.content.decode()
    lesson.refresh_from_db()
    assert lesson.starts_at == at(MONDAYS[0] + timedelta(days=1), 15) and lesson.sequence == 1
    # Bad input: a message, never a 500.
    for data in ({"start": "not a time"}, {}, {"start": "2020-01-01T08:00"}):
        assert client.post(f"/lessons/{lesson.pk}/move/", data).status_code == 302
    assert client.post(f"/lessons/{lesson.pk}/cancel/").status_code == 302
    lesson.refresh_from_db()
    assert lesson.is_cancelled
    assert client.post(f"/lessons/{lesson.pk}/cancel/", follow=True).status_code == 200  # already cancelled: a message
    client.post(f"/classes/{scheduled.pk}/lessons/add/", {"start": "2026-12-05T09:00", "duration_minutes": "60"})
    extra = Lesson.objects.get(entry__isnull=True)
    assert extra.ends_at - extra.starts_at == timedelta(minutes=60)
    assert client.post(f"/classes/{scheduled.pk}/lessons/add/", {"start": "2026-12-05T09:00", "duration_minutes": "9999"}).status_code == 302
    assert client.get(f"/lessons/{lesson.pk}/move/").status_code == 405


def _hold_lesson(lesson, teacher, pupils, frozen_now):
    mai, nam, lan = pupils
    frozen_now.set(lesson.starts_at)
    actions.start_lesson(lesson=lesson, user=teacher.user)
    [mai_row] = actions.mark_joined(lesson=lesson, pupils=[mai], via="own")
    actions.mark_joined(lesson=lesson, pupils=[nam], via="device")
    frozen_now.set(lesson.starts_at + timedelta(minutes=20))
    actions.mark_left(attendance_ids=[mai_row])
    frozen_now.set(lesson.starts_at + timedelta(minutes=45))
    actions.end_lesson(lesson=lesson, user=teacher.user)


def test_attendance_shows_on_the_class_page_and_in_the_csv(client, scheduled, teacher, pupils, frozen_now):
    lesson = first_lesson()
    _hold_lesson(lesson, teacher, pupils, frozen_now)
    client.force_login(teacher.user)
    page = client.get(f"/classes/{scheduled.pk}/").content.decode()
    assert f'data-lesson="{lesson.pk}"' in page and "08:00:00" in page and "08:20:00" in page
    response = client.get(f"/classes/{scheduled.pk}/attendance.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    with override("vi"):
        absent = gettext("absent")
    body = sorted(rows[1:], key=lambda r: r[3])
    assert [(r[3], r[4], r[5], r[6]) for r in body] == [
        ("Hoàng Thị Mai", "08:00:00", "08:20:00", "20"),
        ("Lường Thị Lan", absent, "", "0"),
        ("Nông Văn Nam", "08:00:00", "08:45:00", "45"),
    ]
    assert all(r[0] == "2026-11-30" and r[1] == "08:00" and r[2] == "08:45" for r in body)


def test_school_staff_see_attendance_of_every_class(client, scheduled, teacher, pupils, frozen_now, school_staff, other_class):
    _hold_lesson(first_lesson(), teacher, pupils, frozen_now)
    client.force_login(school_staff)
    page = client.get("/school/").content.decode()
    assert f'data-class="{scheduled.pk}"' in page and f'data-class="{other_class.pk}"' in page
    assert 'data-present="2" data-enrolled="3"' in page
    client.force_login(teacher.user)
    assert client.get("/school/").status_code == 403


def test_pupils_and_the_learning_point_see_their_lessons_and_recordings(client, scheduled, pupils, point, other_class, frozen_now, tmp_path, settings):
    lesson = first_lesson()
    Recording.objects.create(lesson=lesson, path="r.webm", started_at=lesson.starts_at, ended_at=lesson.ends_at, duration_seconds=2700)
    frozen_now.set(at(MONDAYS[0], 7, 50))
    client.force_login(pupils[0].user)
    page = client.get("/pupil/").content.decode()
    assert f'href="/lessons/{lesson.room_id}/"' in page and "Toán" in page and "Ngữ văn" not in page
    assert 'id="recordings"' in page and 'id="feed-url"' not in page and "lesson-calendars/pupil/" in page
    client.force_login(point.device_user)
    page = client.get("/pupil/").content.decode()
    # The device follows both classes of its pupils (6A's Nam and Lan, 7B's Páo).
    assert "Nông Văn Nam" in page and "Triệu Văn Páo" in page and "Hoàng Thị Mai" not in page
    assert f'href="/lessons/{lesson.room_id}/"' in page and "Ngữ văn" in page
    client.force_login(make_user("someone"))
    assert client.get("/pupil/").status_code == 403
