"""Replaying and downloading recordings: who may, HTTP Range for the player's
seeks, and purge_recordings after RECORDINGS_KEEP_DAYS."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from classrooms import actions
from classrooms.models import Lesson, Recording
from tests.conftest import make_user

VIDEO = bytes(range(256)) * 40  # 10 240 bytes
AUDIO = b"OggS" + b"\x00" * 1000


@pytest.fixture
def recording(scheduled, settings, tmp_path, frozen_now):
    settings.RECORDINGS_DIR = tmp_path
    lesson = Lesson.objects.order_by("starts_at").first()
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "a.webm").write_bytes(VIDEO)
    (tmp_path / "lessons" / "a.ogg").write_bytes(AUDIO)
    return Recording.objects.create(
        lesson=lesson, path="lessons/a.webm", audio_path="lessons/a.ogg", started_at=lesson.starts_at,
        ended_at=lesson.starts_at + timedelta(minutes=45), duration_seconds=2700, size_bytes=len(VIDEO),
    )


def test_enrolled_pupils_their_learning_point_the_teacher_and_school_staff_may_replay(client, recording, pupils, point, teacher, school_staff):
    for user in (pupils[0].user, pupils[2].user, point.device_user, teacher.user, school_staff):
        client.force_login(user)
        page = client.get(f"/recordings/{recording.pk}/")
        assert page.status_code == 200 and b"<video" in page.content, user
        response = client.get(f"/recordings/{recording.pk}/video/")
        assert response.status_code == 200 and b"".join(response.streaming_content) == VIDEO
        assert response["Accept-Ranges"] == "bytes" and response["Content-Type"] == "video/webm"


def test_others_and_unenrolled_pupils_get_404(client, recording, pupils, other_class):
    for user in (other_class.active_pupils().get().user, other_class.teacher.user, make_user("someone")):
        client.force_login(user)
        assert client.get(f"/recordings/{recording.pk}/").status_code == 404
        assert client.get(f"/recordings/{recording.pk}/video/").status_code == 404
    mai = pupils[0]
    actions.unenrol(enrolment=mai.enrolments.get())
    client.force_login(mai.user)
    assert client.get(f"/recordings/{recording.pk}/video/").status_code == 404
    client.logout()
    assert client.get(f"/recordings/{recording.pk}/video/").status_code == 302  # to the login page


def test_range_requests_return_the_bytes_asked_for(client, recording, pupils):
    client.force_login(pupils[0].user)
    url = f"/recordings/{recording.pk}/video/"
    cases = {"bytes=0-99": (0, 99), "bytes=10000-": (10000, 10239), "bytes=-40": (10200, 10239), "bytes=10200-99999": (10200, 10239)}
    for header, (first, last) in cases.items():
        response = client.get(url, HTTP_RANGE=header)
        assert response.status_code == 206, header
        assert response["Content-Range"] == f"bytes {first}-{last}/{len(VIDEO)}"
        assert int(response["Content-Length"]) == last - first + 1
        assert b"".join(response.streaming_content) == VIDEO[first:last + 1]
    unsatisfiable = client.get(url, HTTP_RANGE="bytes=20000-")
    assert unsatisfiable.status_code == 416 and unsatisfiable["Content-Range"] == f"bytes */{len(VIDEO)}"
    ignored = client.get(url, HTTP_RANGE="pages=1-2")
    assert ignored.status_code == 200 and b"".join(ignored.streaming_content) == VIDEO


def test_the_small_audio_file_downloads_as_an_attachment(client, recording, pupils):
    client.force_login(pupils[0].user)
    response = client.get(f"/recordings/{recording.pk}/audio/?download=1")
    assert response.status_code == 200 and b"".join(response.streaming_content) == AUDIO
    assert response["Content-Disposition"].startswith("attachment;")
    assert client.get(f"/recordings/{recording.pk}/nothing/").status_code == 404


def test_a_path_outside_the_recordings_folder_is_never_served(client, recording, pupils):
    Recording.objects.filter(pk=recording.pk).update(path="../../etc/passwd")
    client.force_login(pupils[0].user)
    assert client.get(f"/recordings/{recording.pk}/video/").status_code == 404


def test_purge_recordings_deletes_old_files_and_marks_them(recording, settings, tmp_path, frozen_now, client, pupils):
    settings.RECORDINGS_KEEP_DAYS = 30
    recent = Recording.objects.create(lesson=recording.lesson, path="lessons/b.webm", started_at=recording.started_at + timedelta(days=20))
    (tmp_path / "lessons" / "b.webm").write_bytes(b"new")
    frozen_now.set(recording.started_at + timedelta(days=31))
    out = StringIO()
    call_command("purge_recordings", stdout=out)
    assert "Deleted 1 recordings older than 30 days" in out.getvalue()
    recording.refresh_from_db()
    assert recording.deleted_at == frozen_now() and recording.is_deleted
    assert not (tmp_path / "lessons" / "a.webm").exists() and not (tmp_path / "lessons" / "a.ogg").exists()
    assert (tmp_path / "lessons" / "b.webm").exists() and Recording.objects.get(pk=recent.pk).deleted_at is None
    client.force_login(pupils[0].user)
    assert client.get(f"/recordings/{recording.pk}/").status_code == 404
    call_command("purge_recordings", stdout=StringIO())  # again: nothing left to do, no error
