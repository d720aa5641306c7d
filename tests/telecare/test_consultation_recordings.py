"""A consultation's recordings: listed on its page, downloaded only by its
doctor and its station's staff (each download audited, 404 for anyone else),
and deleted by purge_recordings after CONSULTATION_RECORDINGS_KEEP_DAYS."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from telecare import actions
from telecare.models import AuditEntry, ConsultationRecording
from tests.conftest import MONDAY_MORNING, at, make_user
from tests.samples import WEBM

MONDAY = MONDAY_MORNING.date()


@pytest.fixture
def recording(doctor, patient, station_worker, frozen_now, settings, tmp_path):
    settings.RECORDINGS_DIR = tmp_path
    consultation = actions.book_consultation(
        doctor=doctor, patient=patient, start=at(MONDAY, 9), booked_by=station_worker, reason="Ho kéo dài")
    actions.give_recording_consent(consultation=consultation, by=station_worker)
    frozen_now.set(at(MONDAY, 9, 3))
    recording = actions.start_recording(consultation=consultation, by=doctor.user, path=f"consultations/{consultation.pk}/a.webm")
    (tmp_path / "consultations" / str(consultation.pk)).mkdir(parents=True)
    recording.file().write_bytes(WEBM)
    return actions.finish_recording(recording=recording, ended_at=at(MONDAY, 9, 13), duration_seconds=600,
                                     size_bytes=len(WEBM), stopped_by=doctor.user)


def download_url(recording):
    return f"/consultations/{recording.consultation_id}/recordings/{recording.pk}/"


def test_the_consultation_page_lists_its_recordings_with_a_download_link(client, recording, doctor):
    client.force_login(doctor.user)
    page = client.get(f"/consultations/{recording.consultation_id}/").content.decode()
    assert f'data-recording="{recording.pk}"' in page and download_url(recording) in page
    assert "10:00" in page and "Tải xuống" in page


def test_the_doctor_and_the_station_download_it_and_each_download_is_audited(client, recording, doctor, station_worker):
    for user in (doctor.user, station_worker):
        client.force_login(user)
        response = client.get(download_url(recording), REMOTE_ADDR="203.0.113.5")
        assert response.status_code == 200 and b"".join(response.streaming_content) == WEBM
        assert response["Content-Type"] == "video/webm"
        assert response["Content-Disposition"] == f'attachment; filename="consultation-{recording.consultation_id}-20261130-0903.webm"'
    downloads = AuditEntry.objects.filter(action=AuditEntry.Action.DOWNLOAD_RECORDING).order_by("at", "pk")
    assert [(e.actor_username, e.ip_address, e.consultation_id, e.patient_id, e.path) for e in downloads] == [
        (user.username, "203.0.113.5", recording.consultation_id, recording.consultation.patient_id, download_url(recording))
        for user in (doctor.user, station_worker)
    ]


def test_anyone_else_gets_404_and_is_not_audited(client, recording, stranger, other_doctor):
    for user in (stranger, other_doctor.user, make_user("someone")):
        client.force_login(user)
        assert client.get(download_url(recording)).status_code == 404, user
    client.logout()
    assert client.get(download_url(recording)).status_code == 302  # to the login page
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.DOWNLOAD_RECORDING).exists()


def test_a_running_deleted_missing_or_misplaced_recording_is_not_served(client, recording, doctor, tmp_path):
    client.force_login(doctor.user)
    running = actions.start_recording(consultation=recording.consultation, by=doctor.user, path="consultations/b.webm")
    (tmp_path / "consultations" / "b.webm").write_bytes(WEBM)
    assert client.get(download_url(running)).status_code == 404
    ConsultationRecording.objects.filter(pk=recording.pk).update(path="../../etc/passwd")
    assert client.get(download_url(recording)).status_code == 404
    ConsultationRecording.objects.filter(pk=recording.pk).update(path="consultations/gone.webm")
    assert client.get(download_url(recording)).status_code == 404
    assert client.get(f"/consultations/{recording.consultation_id}/recordings/99999/").status_code == 404


def test_purge_recordings_deletes_an_old_consultation_recording_and_keeps_a_new_one(recording, doctor, settings, tmp_path, frozen_now, client):
    settings.RECORDINGS_KEEP_DAYS = 30
    settings.CONSULTATION_RECORDINGS_KEEP_DAYS = 60
    frozen_now.set(recording.started_at + timedelta(days=40))
    recent = ConsultationRecording.objects.create(
        consultation=recording.consultation, path="consultations/new.webm", started_at=frozen_now() - timedelta(days=1),
        ended_at=frozen_now() - timedelta(days=1), started_by=doctor.user)
    (tmp_path / "consultations" / "new.webm").write_bytes(b"new")
    call_command("purge_recordings", stdout=StringIO())
    assert recording.file().exists()  # 40 days: kept under a 60-day rule
    frozen_now.set(recording.started_at + timedelta(days=61))
    out = StringIO()
    call_command("purge_recordings", stdout=out)
    assert "Deleted 1 consultation recordings older than 60 days" in out.getvalue()
    recording.refresh_from_db()
    assert recording.deleted_at == frozen_now() and not recording.file().exists()
    assert (tmp_path / "consultations" / "new.webm").exists() and ConsultationRecording.objects.get(pk=recent.pk).deleted_at is None
    deletion = AuditEntry.objects.get(action=AuditEntry.Action.DELETE_RECORDING)
    assert (deletion.actor, deletion.actor_username, deletion.path) == (None, "system", recording.path)
    client.force_login(doctor.user)
    assert client.get(download_url(recording)).status_code == 404
    assert f'data-recording="{recording.pk}"' not in client.get(f"/consultations/{recording.consultation_id}/").content.decode()
    call_command("purge_recordings", "--consultation-days", "60", stdout=StringIO())  # again: nothing left, no error
    assert AuditEntry.objects.filter(action=AuditEntry.Action.DELETE_RECORDING).count() == 1
