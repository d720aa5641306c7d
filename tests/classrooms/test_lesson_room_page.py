"""The lesson room page: its teacher, its enrolled pupils and the learning point
device where they sit get it, each with their own controls; nobody else does."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from classrooms import actions
from classrooms.models import Enrolment, Lesson
from tests.conftest import make_user


@pytest.fixture
def lesson(scheduled):
    return scheduled.lessons.order_by("starts_at").first()


def config_of(response) -> dict:
    found = re.search(r'<script id="lesson-config" type="application/json">(.*?)</script>', response.content.decode(), re.S)
    assert found, "the page has no lesson-config"
    return json.loads(found[1])


def test_the_lesson_room_has_its_url_on_the_lesson(lesson):
    assert reverse("lesson-room", args=[lesson.room_id]) == lesson.room_url() == f"/lessons/{lesson.room_id}/"


def test_the_teacher_gets_the_teachers_page(client, teacher, lesson):
    client.force_login(teacher.user)
    response = client.get(lesson.room_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-role="teacher"' in html and "signaling/lesson.js" in html
    for control in ("start", "end", "share", "pupils", "floor-audio", "chat-form", "camera"):
        assert f'data-room="{control}"' in html, control
    assert 'data-room="hand"' not in html and 'data-room="low-data"' not in html
    assert "Bắt đầu buổi học" in html and "Toán · 6A" in html  # Vietnamese by default
    config = config_of(response)
    assert config["roomId"] == lesson.room_id and config["role"] == "teacher"
    assert config["labels"]["give_floor"] == "Cho phát biểu"
    assert config["labels"]["connecting"]  # the room's own texts are there too


def test_an_enrolled_pupil_gets_the_pupils_page(client, pupils, lesson):
    mai = pupils[0]
    client.force_login(mai.user)
    response = client.get(lesson.room_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-role="pupil"' in html
    for control in ("teacher-video", "teacher-audio", "floor-audio", "hand", "low-data", "still", "chat-form", "mic"):
        assert f'data-room="{control}"' in html, control
    for teacher_only in ("start", "end", "share", "pupils", "camera"):
        assert f'data-room="{teacher_only}"' not in html, teacher_only
    assert "Nguyễn Thị Hằng" in html  # the teacher's name under the picture
    assert "Giơ tay" in html
    config = config_of(response)
    assert config["role"] == "pupil" and config["labels"]["floor_you"] == "Em được phát biểu — hãy nói."


def test_the_learning_point_device_gets_the_pupils_page_for_the_pupils_sitting_there(client, point, pupils, lesson):
    client.force_login(point.device_user)
    response = client.get(lesson.room_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert config_of(response)["role"] == "pupil"
    assert "Lường Thị Lan, Nông Văn Nam" in html and "Hoàng Thị Mai" not in html


@pytest.mark.parametrize("who", ["pupil of another class", "station worker", "unenrolled pupil"])
def test_people_outside_the_class_get_a_clear_403(client, other_class, stranger, pupils, lesson, who):
    user = {
        "pupil of another class": lambda: other_class.active_pupils().get().user,
        "station worker": lambda: stranger,
        "unenrolled pupil": lambda: pupils[0].user,
    }[who]()
    if who == "unenrolled pupil":
        actions.unenrol(enrolment=Enrolment.objects.get(pupil=pupils[0], school_class=lesson.school_class))
    client.force_login(user)
    response = client.get(lesson.room_url())
    assert response.status_code == 403
    html = response.content.decode()
    assert "Buổi học này chỉ dành cho giáo viên của lớp và học sinh đã ghi danh vào lớp." in html
    assert "lesson-config" not in html and lesson.school_class.teacher.name not in html


def test_a_pupil_account_of_no_class_gets_403(client, lesson):
    client.force_login(make_user("pupil_nobody"))
    assert client.get(lesson.room_url()).status_code == 403


def test_an_unknown_room_is_404(client, teacher, lesson):
    client.force_login(teacher.user)
    assert client.get("/lessons/no-such-room-0000000000/").status_code == 404


def test_the_page_needs_a_login(client, lesson):
    response = client.get(lesson.room_url())
    assert response.status_code == 302 and response.url == f"/accounts/login/?next={lesson.room_url()}"


def test_a_cancelled_lesson_says_so_and_opens_no_room(client, teacher, lesson):
    actions.cancel_lesson(lesson=lesson, by=teacher.user)
    client.force_login(teacher.user)
    html = client.get(lesson.room_url()).content.decode()
    assert "Buổi học này đã bị hủy." in html and "lesson.js" not in html


def test_an_ended_lesson_says_so_and_opens_no_room(client, teacher, lesson, frozen_now):
    frozen_now.set(lesson.starts_at)
    actions.start_lesson(lesson=lesson, user=teacher.user)
    frozen_now.set(lesson.starts_at + timedelta(minutes=40))
    actions.end_lesson(lesson=lesson, user=teacher.user)
    client.force_login(teacher.user)
    html = client.get(lesson.room_url()).content.decode()
    assert "Buổi học đã kết thúc." in html and "lesson.js" not in html
    assert Lesson.objects.get(pk=lesson.pk).ended_at is not None
