"""One response of each kind the app serves, for the header tests: pages of
each role, the login page, the admin, the JSON API, an invite, a calendar feed,
the attendance export, recording downloads (whole and a Range), errors,
redirects and a static file."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from booking import feeds
from classrooms.models import Lesson, Recording
from telecare import actions
from tests.conftest import MONDAY_MORNING, at
from tests.samples import WEBM

MONDAY = MONDAY_MORNING.date()


@pytest.fixture
def served(client, frozen_now, settings, tmp_path, doctor, station_worker, patient, school_class, pupils, teacher,
           school_staff):
    """{name: response} for every kind of response."""
    settings.RECORDINGS_DIR = tmp_path
    consultation = actions.book_consultation(doctor=doctor, patient=patient, start=at(MONDAY, 9),
                                             booked_by=station_worker, reason="Ho")
    actions.give_recording_consent(consultation=consultation, by=station_worker)
    frozen_now.set(at(MONDAY, 9, 3))
    call = actions.start_recording(consultation=consultation, by=doctor.user, path=f"consultations/{consultation.pk}/a.webm")
    (tmp_path / "consultations" / str(consultation.pk)).mkdir(parents=True)
    call.file().write_bytes(WEBM)
    call = actions.finish_recording(recording=call, ended_at=at(MONDAY, 9, 13), duration_seconds=600,
                                    size_bytes=len(WEBM), stopped_by=doctor.user)
    from classrooms import actions as lessons

    lessons.schedule_term(school_class=school_class)
    lesson = Lesson.objects.filter(school_class=school_class).order_by("starts_at").first()
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "a.webm").write_bytes(WEBM)
    replay = Recording.objects.create(lesson=lesson, path="lessons/a.webm", started_at=lesson.starts_at,
                                      ended_at=lesson.starts_at + timedelta(minutes=45), duration_seconds=2700,
                                      size_bytes=len(WEBM))
    feed = feeds.renew_feed(station_worker.station_staff.station)
    mai = pupils[0]
    manager = get_user_model().objects.create_superuser("admin", "admin@huyen.example.vn", "district-manager-pw")

    def as_user(user, path, **extra):
        client.force_login(user)
        response = client.get(path, **extra)
        client.logout()
        return response

    token = Token.objects.create(user=station_worker)
    responses = {
        "login page": client.get("/accounts/login/"),
        "redirect to login": client.get("/station/"),
        "not found": client.get("/no-such-page/"),
        "feed": client.get(f"/calendars/{feed.token}.ics"),
        "feed with a bad token": client.get("/calendars/not-a-token.ics"),
        "static file": client.get("/static/css/app.css"),
        "api": client.get("/api/v1/patients/", {"q": "Hoa"}, HTTP_AUTHORIZATION=f"Token {token.key}"),
        "api invite": client.get(f"/api/v1/consultations/{consultation.pk}/invite.ics",
                                 HTTP_AUTHORIZATION=f"Token {token.key}"),
        "station page": as_user(station_worker, "/station/", data={"q": "Hoa"}),
        "patient page": as_user(station_worker, f"/patients/{patient.pk}/"),
        "consultation page": as_user(doctor.user, f"/consultations/{consultation.pk}/"),
        "consultation room": as_user(doctor.user, consultation.room_url()),
        "recording download": as_user(doctor.user, f"/consultations/{consultation.pk}/recordings/{call.pk}/"),
        "forbidden": as_user(doctor.user, "/station/"),
        "teacher page": as_user(teacher.user, "/teacher/"),
        "class page": as_user(teacher.user, f"/classes/{school_class.pk}/"),
        "attendance export": as_user(teacher.user, f"/classes/{school_class.pk}/attendance.csv"),
        "lesson room": as_user(teacher.user, lesson.room_url()),
        "school page": as_user(school_staff, "/school/"),
        "pupil page": as_user(mai.user, "/pupil/"),
        "replay page": as_user(mai.user, f"/recordings/{replay.pk}/"),
        "replay file": as_user(mai.user, f"/recordings/{replay.pk}/video/"),
        "replay range": as_user(mai.user, f"/recordings/{replay.pk}/video/", HTTP_RANGE="bytes=100-199"),
        "admin": as_user(manager, "/admin/"),
        "admin list": as_user(manager, "/admin/booking/reminder/"),
    }
    expected = {"redirect to login": 302, "not found": 404, "feed with a bad token": 404, "forbidden": 403,
                "replay range": 206}
    for name, response in responses.items():
        assert response.status_code == expected.get(name, 200), name
    return responses
