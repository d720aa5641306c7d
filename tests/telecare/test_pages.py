from datetime import timedelta

import pytest

from telecare import actions
from telecare.models import AuditEntry, Consultation, Patient
from tests.conftest import MONDAY_MORNING, at

MONDAY = MONDAY_MORNING.date()


@pytest.fixture
def booked(doctor, patient, station_worker, frozen_now):
    return actions.book_consultation(doctor=doctor, patient=patient, start=at(MONDAY, 9), booked_by=station_worker, reason="Ho kéo dài")


def test_a_wrong_password_gets_a_clear_message_in_vietnamese(client, station_worker):
    response = client.post("/accounts/login/", {"username": "station_phucthuan", "password": "x"})
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.content.decode()


def test_pages_need_a_login(client):
    for url in ["/station/", "/doctor/", "/consultations/1/"]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_the_station_dashboard_lists_upcoming_consultations(client, station_worker, booked):
    client.force_login(station_worker)
    html = client.get("/station/").content.decode()
    assert f'data-id="{booked.pk}"' in html and "Hoàng Thị Hoa" in html
    assert booked.room_url() in html


def test_patient_search_finds_only_the_stations_patients(client, station_worker, patient, stranger_patient):
    client.force_login(station_worker)
    html = client.get("/station/", {"q": "h"}).content.decode()
    assert "Hoàng Thị Hoa" in html and "Nông Văn Thắng" not in html


def test_quick_registration_leads_to_booking(client, station_worker):
    client.force_login(station_worker)
    response = client.post("/station/patients/new/", {
        "full_name": "Lò Thị Dung", "date_of_birth": "1970-05-05", "sex": "female", "relative_phone": "0912 345 678",
        "sms_consent": "on",
    })
    patient = Patient.objects.get(full_name="Lò Thị Dung")
    assert response.status_code == 302 and response.url == f"/station/patients/{patient.pk}/book/"
    assert patient.relative_phone == "+84912345678" and patient.station == station_worker.station_staff.station


def test_registration_with_a_bad_phone_shows_the_error(client, station_worker):
    client.force_login(station_worker)
    response = client.post("/station/patients/new/", {"full_name": "X", "date_of_birth": "1970-05-05", "sex": "female", "phone": "123"})
    assert response.status_code == 200 and not Patient.objects.exists()
    assert "errorlist" in response.content.decode()


def test_booking_page_shows_free_slots_and_books_one(client, station_worker, doctor, patient, frozen_now):
    client.force_login(station_worker)
    page = client.get(f"/station/patients/{patient.pk}/book/", {"doctor": doctor.pk}).content.decode()
    assert 'value="2026-11-30T08:00:00+07:00"' in page
    response = client.post(f"/station/patients/{patient.pk}/book/", {
        "doctor": doctor.pk, "start": "2026-11-30T08:00:00+07:00", "reason": "Đau lưng", "mode": "video",
    })
    c = Consultation.objects.get()
    assert response.status_code == 302 and response.url == f"/consultations/{c.pk}/"
    assert c.starts_at == at(MONDAY, 8)


def test_booking_a_taken_slot_on_the_page_says_so(client, station_worker, doctor, patient, booked):
    from tests.conftest import make_patient

    other = make_patient(patient.station, station_worker, name="Lường Thị Mây")
    client.force_login(station_worker)
    response = client.post(f"/station/patients/{other.pk}/book/", {
        "doctor": doctor.pk, "start": "2026-11-30T09:00:00+07:00", "reason": "Đau lưng", "mode": "video",
    }, follow=True)
    assert "vừa được người khác đặt" in response.content.decode()
    assert Consultation.objects.count() == 1


def test_another_stations_worker_cannot_open_our_patient(client, stranger, patient, booked):
    client.force_login(stranger)
    assert client.get(f"/station/patients/{patient.pk}/book/").status_code == 404
    assert client.get(f"/patients/{patient.pk}/").status_code == 404
    assert client.get(f"/consultations/{booked.pk}/").status_code == 404
    assert client.post(f"/consultations/{booked.pk}/cancel/").status_code == 404
    assert client.get(booked.room_url()).status_code == 404


def test_doctors_cannot_open_station_pages(client, doctor):
    client.force_login(doctor.user)
    assert client.get("/station/").status_code == 403


def test_the_doctor_sees_today_and_this_week(client, doctor, patient, station_worker, booked, frozen_now):
    later = actions.book_consultation(doctor=doctor, patient=patient, start=at(MONDAY + timedelta(days=2), 8), booked_by=station_worker, reason="Tái khám")
    next_month = actions.book_consultation(doctor=doctor, patient=patient, start=at(MONDAY + timedelta(days=21), 8), booked_by=station_worker, reason="Tái khám")
    client.force_login(doctor.user)
    html = client.get("/doctor/").content.decode()
    assert f'data-id="{booked.pk}"' in html and f'data-id="{later.pk}"' in html
    assert f'data-id="{next_month.pk}"' not in html
    assert booked.room_url() in html


def test_the_station_moves_and_cancels_on_the_detail_page(client, station_worker, booked):
    client.force_login(station_worker)
    page = client.get(f"/consultations/{booked.pk}/").content.decode()
    assert "Dời sang giờ khác" in page
    client.post(f"/consultations/{booked.pk}/reschedule/", {"start": "2026-11-30T10:00:00+07:00"})
    booked.refresh_from_db()
    assert booked.starts_at == at(MONDAY, 10) and booked.sequence == 1
    response = client.post(f"/consultations/{booked.pk}/cancel/", {"reason": "Gia đình xin hủy"}, follow=True)
    booked.refresh_from_db()
    assert booked.status == "cancelled" and "Đã hủy" in response.content.decode()


def test_refusals_on_the_detail_page_are_messages_not_errors(client, station_worker, booked, frozen_now):
    client.force_login(station_worker)
    frozen_now.set(at(MONDAY, 9, 5))
    response = client.post(f"/consultations/{booked.pk}/reschedule/", {"start": "2026-11-30T10:00:00+07:00"}, follow=True)
    assert response.status_code == 200 and "không thể thay đổi" in response.content.decode()


def test_the_doctor_records_the_outcome(client, doctor, booked, frozen_now):
    frozen_now.set(at(MONDAY, 9, 25))
    client.force_login(doctor.user)
    client.post(f"/consultations/{booked.pk}/close/", {"status": "completed"})
    booked.refresh_from_db()
    assert booked.status == "completed"


def test_viewing_a_record_is_audited_with_who_and_where(client, station_worker, patient, booked):
    client.force_login(station_worker)
    client.get(f"/patients/{patient.pk}/", REMOTE_ADDR="203.0.113.9")
    client.get(f"/consultations/{booked.pk}/")
    entries = AuditEntry.objects.filter(actor=station_worker).order_by("at", "pk")
    assert [(e.action, e.patient_id, e.ip_address, e.path) for e in entries] == [
        ("view_patient", patient.pk, "203.0.113.9", f"/patients/{patient.pk}/"),
        ("view_consultation", patient.pk, "127.0.0.1", f"/consultations/{booked.pk}/"),
    ]


def test_the_interface_is_available_in_english(client, station_worker):
    client.force_login(station_worker)
    client.post("/i18n/setlang/", {"language": "en", "next": "/station/"})
    html = client.get("/station/").content.decode()
    assert "Upcoming consultations" in html


def test_pages_stay_vietnamese_when_the_browser_asks_for_english(client, station_worker):
    client.force_login(station_worker)
    html = client.get("/station/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Lịch khám sắp tới" in html


@pytest.mark.parametrize("day", ["2026-02-30", "9999-12-31", "junk", "2020-01-01"])
def test_odd_slot_picker_dates_fall_back_to_a_sensible_week(client, station_worker, doctor, patient, frozen_now, day):
    client.force_login(station_worker)
    response = client.get(f"/station/patients/{patient.pk}/book/", {"doctor": doctor.pk, "from": day})
    assert response.status_code == 200
