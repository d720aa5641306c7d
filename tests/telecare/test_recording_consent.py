"""The patient's consent to recording the call: given and withdrawn by the
station on the consultation's page, seen by the doctor, audited, refused once
the consultation is over, and kept in the database with who and when."""

import pytest
from django.db import IntegrityError, transaction

from telecare import actions
from telecare.errors import ConsentNotChangeable, NoConsent, NotAllowed
from telecare.models import AuditEntry, Consultation, ConsultationRecording
from tests.conftest import MONDAY_MORNING, at

MONDAY = MONDAY_MORNING.date()


@pytest.fixture
def booked(doctor, patient, station_worker, frozen_now):
    return actions.book_consultation(doctor=doctor, patient=patient, start=at(MONDAY, 9), booked_by=station_worker, reason="Ho kéo dài")


def consent_url(consultation):
    return f"/consultations/{consultation.pk}/recording-consent/"


def test_the_station_records_the_patients_consent_on_the_consultation_page(client, station_worker, booked, frozen_now):
    client.force_login(station_worker)
    page = client.get(f"/consultations/{booked.pk}/").content.decode()
    assert 'data-consent="none"' in page and "Bệnh nhân đồng ý cho ghi hình cuộc gọi" in page
    response = client.post(consent_url(booked), {"consent": "give"}, follow=True)
    assert "Đã ghi nhận bệnh nhân đồng ý ghi hình" in response.content.decode()
    booked.refresh_from_db()
    assert booked.has_recording_consent and booked.recording_consent_by == station_worker
    assert booked.recording_consent_at == frozen_now()
    page = client.get(f"/consultations/{booked.pk}/").content.decode()
    assert 'data-consent="given"' in page and "Trạm Y sĩ" in page and "Rút lại sự đồng ý" in page
    entry = AuditEntry.objects.get(action=AuditEntry.Action.GIVE_RECORDING_CONSENT)
    assert (entry.actor, entry.patient_id, entry.consultation_id) == (station_worker, booked.patient_id, booked.pk)


def test_the_doctor_sees_the_consent_but_cannot_give_or_withdraw_it(client, doctor, station_worker, booked):
    client.force_login(doctor.user)
    page = client.get(f"/consultations/{booked.pk}/").content.decode()
    assert 'data-consent="none"' in page and consent_url(booked) not in page
    assert client.post(consent_url(booked), {"consent": "give"}).status_code == 403
    actions.give_recording_consent(consultation=booked, by=station_worker)
    page = client.get(f"/consultations/{booked.pk}/").content.decode()
    assert 'data-consent="given"' in page and consent_url(booked) not in page
    assert client.post(consent_url(booked), {"consent": "withdraw"}).status_code == 403
    with pytest.raises(NotAllowed):
        actions.give_recording_consent(consultation=booked, by=doctor.user)


def test_another_stations_worker_gets_404(client, stranger, booked):
    client.force_login(stranger)
    assert client.post(consent_url(booked), {"consent": "give"}).status_code == 404
    booked.refresh_from_db()
    assert not booked.has_recording_consent


def test_consent_is_withdrawn_before_the_call_is_recorded_and_not_after(client, station_worker, doctor, booked, frozen_now):
    client.force_login(station_worker)
    client.post(consent_url(booked), {"consent": "give"})
    client.post(consent_url(booked), {"consent": "withdraw"})
    booked.refresh_from_db()
    assert not booked.has_recording_consent and booked.recording_consent_by is None
    assert list(AuditEntry.objects.filter(action__contains="consent").order_by("at", "pk").values_list("action", flat=True)) == [
        "give_recording_consent", "withdraw_recording_consent"]
    with pytest.raises(NoConsent):
        actions.start_recording(consultation=booked, by=doctor.user, path="consultations/x.webm")
    # Given again and the call recorded: it stays given.
    client.post(consent_url(booked), {"consent": "give"})
    frozen_now.set(at(MONDAY, 9, 2))
    actions.start_recording(consultation=booked, by=doctor.user, path="consultations/x.webm")
    page = client.get(f"/consultations/{booked.pk}/").content.decode()
    assert "Rút lại sự đồng ý" not in page
    response = client.post(consent_url(booked), {"consent": "withdraw"}, follow=True)
    assert "không thể rút lại" in response.content.decode()
    booked.refresh_from_db()
    assert booked.has_recording_consent


@pytest.mark.parametrize("how", ["completed", "room closed", "cancelled"])
def test_consent_is_refused_once_the_consultation_is_over(client, station_worker, booked, frozen_now, how):
    if how == "completed":
        Consultation.objects.filter(pk=booked.pk).update(status=Consultation.Status.COMPLETED)
    elif how == "cancelled":
        Consultation.objects.filter(pk=booked.pk).update(status=Consultation.Status.CANCELLED)
    else:
        frozen_now.set(at(MONDAY, 9, 51))  # 30 minutes after the end
    booked.refresh_from_db()
    client.force_login(station_worker)
    assert consent_url(booked) not in client.get(f"/consultations/{booked.pk}/").content.decode()
    response = client.post(consent_url(booked), {"consent": "give"}, follow=True)
    assert "Buổi khám đã kết thúc" in response.content.decode()
    booked.refresh_from_db()
    assert not booked.has_recording_consent
    with pytest.raises(ConsentNotChangeable):
        actions.give_recording_consent(consultation=booked, by=station_worker)


def test_only_the_consultations_doctor_starts_a_recording_and_only_with_consent(booked, doctor, other_doctor, station_worker):
    with pytest.raises(NoConsent):
        actions.start_recording(consultation=booked, by=doctor.user, path="consultations/a.webm")
    actions.give_recording_consent(consultation=booked, by=station_worker)
    for someone in (other_doctor.user, station_worker):
        with pytest.raises(NotAllowed):
            actions.start_recording(consultation=booked, by=someone, path="consultations/a.webm")
    recording = actions.start_recording(consultation=booked, by=doctor.user, path="consultations/a.webm")
    assert recording.is_running and recording.started_by == doctor.user
    assert ConsultationRecording.objects.get().consultation == booked


def test_the_database_keeps_consent_with_who_and_when(booked, frozen_now):
    with pytest.raises(IntegrityError), transaction.atomic():
        Consultation.objects.filter(pk=booked.pk).update(recording_consent_at=frozen_now())
