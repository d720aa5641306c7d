"""Recording a consultation in Chromium, through daphne and the server's aiortc
peer: refused before the patient's consent; the station records the consent on
the consultation's page; the doctor starts and stops recording in the room
while both pages show the badge; the recording is listed on the consultation's
page, downloads, and av opens it; a stranger gets 404; purge_recordings
deletes it once it is old."""

import os
import time
from datetime import timedelta
from io import StringIO

import av
import pytest
from django.core.management import call_command

from telecare.models import AuditEntry, ConsultationRecording
from tests.e2e.pages import frames_decoded, log_in
from tests.live_server import ARTIFACTS
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_doctor_records_a_consultation_the_station_consented_to(
        live_stack, new_page, live_consultation, doctor, station_worker, stranger, settings):
    base = live_stack.base_url
    ARTIFACTS.mkdir(exist_ok=True)
    pages = {}
    for name, user in [("doctor", doctor.user), ("station", station_worker)]:
        page = new_page()
        log_in(page, base, user)
        page.goto(f"{base}{live_consultation.room_url()}")
        pages[name] = page
    for name, page in pages.items():
        assert frames_decoded(page, 10) >= 10, f"{name} decoded no video"
    doctor_page, station_page = pages["doctor"], pages["station"]
    record = doctor_page.locator("[data-room=record]")
    assert record.is_visible() and record.text_content() == "Ghi hình"
    assert not station_page.locator("[data-room=record]").is_visible()  # only the doctor records

    # Without the patient's consent: refused, nothing recorded.
    record.click()
    status = doctor_page.locator("[data-room=status]")
    wait_for(lambda: "chưa đồng ý ghi hình" in (status.text_content() or ""), "the no-consent message", 10, interval=0.1)
    assert not doctor_page.locator("[data-room=recording]").is_visible()
    assert not ConsultationRecording.objects.exists()

    # The station records the consent on the consultation's page.
    consent_page = new_page()
    log_in(consent_page, base, station_worker)
    consent_page.goto(f"{base}{live_consultation.get_absolute_url()}")
    assert consent_page.locator("#consent-state").get_attribute("data-consent") == "none"
    consent_page.click("button[name=consent][value=give]")
    assert consent_page.locator("#consent-state").get_attribute("data-consent") == "given"
    assert "Trạm Y sĩ" in consent_page.locator("#consent-state").text_content()
    consent_page.screenshot(path=ARTIFACTS / "e2e-recording-consent.png", full_page=True)

    # The doctor starts recording: both pages show the badge.
    asked = time.monotonic()
    record.click()
    badges = {name: page.locator("[data-room=recording]") for name, page in pages.items()}
    for name, badge in badges.items():
        wait_for(badge.is_visible, f"the badge on the {name}'s page", 10, interval=0.1)
        assert badge.text_content() == "● Đang ghi hình" and badge.get_attribute("role") == "status"
    started = time.monotonic()
    assert record.text_content() == "Dừng ghi hình" and record.get_attribute("aria-pressed") == "true"
    doctor_page.screenshot(path=ARTIFACTS / "e2e-recording-doctor.png", full_page=True)
    station_page.screenshot(path=ARTIFACTS / "e2e-recording-station.png", full_page=True)
    running = ConsultationRecording.objects.get()
    assert running.is_running and running.started_by == doctor.user
    time.sleep(3)

    # The doctor stops it: the badges go, the recording is complete.
    stopped = time.monotonic()
    record.click()
    for name, badge in badges.items():
        wait_for(lambda: not badge.is_visible(), f"the badge on the {name}'s page to go", 10, interval=0.1)
    told = time.monotonic()
    recording = ConsultationRecording.objects.get()
    # The server recorded from after the first click to before the badges showed,
    # until after the second click and before the badges went.
    assert not recording.is_running
    assert stopped - started - 0.2 <= recording.duration_seconds <= told - asked + 0.2, (
        asked, started, stopped, told, recording.duration_seconds)
    assert list(AuditEntry.objects.filter(action__in=["give_recording_consent", "start_recording", "stop_recording"])
                .order_by("at", "pk").values_list("action", "actor_username")) == [
        ("give_recording_consent", "station_phucthuan"), ("start_recording", "doctor_phoyen"), ("stop_recording", "doctor_phoyen")]

    # Listed on the consultation's page, where the doctor downloads it.
    doctor_page.goto(f"{base}{live_consultation.get_absolute_url()}")
    listed = doctor_page.locator(f"[data-recording='{recording.pk}']")
    assert listed.is_visible() and "Tải xuống" in listed.text_content()
    doctor_page.screenshot(path=ARTIFACTS / "e2e-recording-listed.png", full_page=True)
    with doctor_page.expect_download() as download_info:
        listed.locator("a").click()
    saved = ARTIFACTS / "e2e-recording.webm"
    download_info.value.save_as(saved)
    assert download_info.value.suggested_filename.startswith(f"consultation-{live_consultation.pk}-")
    assert saved.stat().st_size == recording.size_bytes > 10_000
    with av.open(str(saved)) as container:
        assert [(s.type, s.codec_context.name) for s in container.streams] == [("video", "vp8"), ("audio", "opus")]
        assert abs(container.duration / av.time_base - recording.duration_seconds) < 0.5
        pictures = sum(1 for _ in container.decode(video=0))
    assert pictures >= 15 * recording.duration_seconds / 3  # the station's fake camera, up to 15 a second
    assert AuditEntry.objects.filter(action="download_recording", actor_username="doctor_phoyen").count() == 1

    # A stranger cannot have it.
    outsider = new_page()
    log_in(outsider, base, stranger)
    download_url = f"{base}/consultations/{live_consultation.pk}/recordings/{recording.pk}/"
    assert outsider.request.get(download_url).status == 404

    # Old enough, purge_recordings deletes it: gone from the page and the link.
    ConsultationRecording.objects.filter(pk=recording.pk).update(
        started_at=recording.started_at - timedelta(days=40), ended_at=recording.ended_at - timedelta(days=40))
    if "RECORDINGS_DIR" not in os.environ:  # else the live server uses the same folder as this process
        settings.RECORDINGS_DIR = live_stack.mail_dir.parent / "recordings"  # the live server's, under its VAR_DIR
    call_command("purge_recordings", "--consultation-days", "30", stdout=StringIO())
    assert not (settings.RECORDINGS_DIR / recording.path).exists()
    doctor_page.goto(f"{base}{live_consultation.get_absolute_url()}")
    assert doctor_page.locator(f"[data-recording='{recording.pk}']").count() == 0
    assert doctor_page.request.get(download_url).status == 404
