
import pytest

from telecare.models import AuditEntry, Consultation, Patient
from tests.conftest import MONDAY_MORNING, PASSWORD, at, make_patient

MONDAY = MONDAY_MORNING.date()


def booking(doctor, patient, start, **extra):
    return {"doctor": doctor.pk, "patient": patient.pk, "start": start.isoformat(), "reason": "Đau đầu", "mode": "video", **extra}


def test_a_token_comes_from_username_and_password(client, station_worker):
    response = client.post("/api/v1/auth/token/", {"username": "station_phucthuan", "password": PASSWORD})
    assert response.status_code == 200 and len(response.json()["token"]) == 40
    bad = client.post("/api/v1/auth/token/", {"username": "station_phucthuan", "password": "wrong"})
    assert bad.status_code == 400


def test_requests_without_a_token_are_refused(client, doctor):
    assert client.get("/api/v1/doctors/").status_code == 401
    assert client.get("/api/v1/doctors/", HTTP_AUTHORIZATION="Token not-a-token").status_code == 401


def test_the_schema_describes_the_api(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ["/api/v1/auth/token/", "/api/v1/doctors/", "/api/v1/doctors/{id}/slots/", "/api/v1/patients/",
                 "/api/v1/consultations/", "/api/v1/consultations/{id}/", "/api/v1/consultations/{id}/reschedule/",
                 "/api/v1/consultations/{id}/cancel/"]:
        assert path in paths


def test_doctors_are_listed(api_for, station_worker, doctor, other_doctor):
    body = api_for(station_worker).get("/api/v1/doctors/").json()
    assert {d["id"] for d in body} == {doctor.pk, other_doctor.pk}
    assert body[0].keys() >= {"name", "specialty", "hospital"}


def test_slots_come_in_local_time_with_the_offset(api_for, station_worker, doctor, frozen_now):
    response = api_for(station_worker).get(f"/api/v1/doctors/{doctor.pk}/slots/?from={MONDAY}&to={MONDAY}")
    assert response.status_code == 200
    slots = response.json()
    assert slots[0] == {"start": "2026-11-30T08:00:00+07:00", "end": "2026-11-30T08:20:00+07:00"}
    assert len(slots) == 9


@pytest.mark.parametrize(
    "query",
    ["from=2026-13-01", "from=2026-12-05&to=2026-12-01", "from=2026-12-01&to=2027-06-01", "to=yesterday"],
)
def test_bad_slot_ranges_get_400(api_for, station_worker, doctor, frozen_now, query):
    response = api_for(station_worker).get(f"/api/v1/doctors/{doctor.pk}/slots/?{query}")
    assert response.status_code == 400


def test_slots_of_an_unknown_doctor_get_404(api_for, station_worker):
    assert api_for(station_worker).get("/api/v1/doctors/999/slots/").status_code == 404


def test_booking_answers_201_with_the_room_url(api_for, station_worker, doctor, patient, frozen_now):
    response = api_for(station_worker).post("/api/v1/consultations/", booking(doctor, patient, at(MONDAY, 9)), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    c = Consultation.objects.get()
    assert body["id"] == c.pk and body["uid"] == str(c.uid)
    assert body["start"] == "2026-11-30T09:00:00+07:00" and body["end"] == "2026-11-30T09:20:00+07:00"
    assert body["status"] == "booked"
    assert body["room_url"] == f"http://testserver/rooms/{c.room_id}/"


def test_a_naive_start_is_read_as_local_time(api_for, station_worker, doctor, patient, frozen_now):
    data = {**booking(doctor, patient, at(MONDAY, 9)), "start": "2026-11-30T09:00:00"}
    response = api_for(station_worker).post("/api/v1/consultations/", data, format="json")
    assert response.status_code == 201 and response.json()["start"] == "2026-11-30T09:00:00+07:00"


def test_a_taken_slot_gets_409(api_for, station_worker, doctor, patient, frozen_now):
    api = api_for(station_worker)
    api.post("/api/v1/consultations/", booking(doctor, patient, at(MONDAY, 9)), format="json")
    other = make_patient(patient.station, station_worker, name="Nông Văn Thắng")
    response = api.post("/api/v1/consultations/", booking(doctor, other, at(MONDAY, 9)), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "slot_taken"


def test_bad_fields_get_400_with_per_field_errors(api_for, station_worker, doctor, patient, frozen_now):
    api = api_for(station_worker)
    response = api.post("/api/v1/consultations/", {"doctor": 999, "patient": patient.pk, "start": "tomorrow", "mode": "fax"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"doctor", "start", "reason", "mode"}
    off_grid = api.post("/api/v1/consultations/", booking(doctor, patient, at(MONDAY, 9, 7)), format="json")
    assert off_grid.status_code == 400 and "start" in off_grid.json()


def test_booking_another_stations_patient_gets_403(api_for, stranger, doctor, patient, frozen_now):
    response = api_for(stranger).post("/api/v1/consultations/", booking(doctor, patient, at(MONDAY, 9)), format="json")
    assert response.status_code == 403
    assert not Consultation.objects.exists()


def test_doctors_cannot_book_through_the_api(api_for, doctor, patient, frozen_now):
    response = api_for(doctor.user).post("/api/v1/consultations/", booking(doctor, patient, at(MONDAY, 9)), format="json")
    assert response.status_code == 403


def test_reschedule_and_cancel(api_for, station_worker, doctor, patient, frozen_now):
    api = api_for(station_worker)
    cid = api.post("/api/v1/consultations/", booking(doctor, patient, at(MONDAY, 9)), format="json").json()["id"]
    moved = api.post(f"/api/v1/consultations/{cid}/reschedule/", {"start": at(MONDAY, 10).isoformat()}, format="json")
    assert moved.status_code == 200
    assert moved.json()["start"] == "2026-11-30T10:00:00+07:00" and moved.json()["status"] == "rescheduled"
    assert moved.json()["sequence"] == 1
    cancelled = api.post(f"/api/v1/consultations/{cid}/cancel/", {"reason": "Bệnh nhân khỏi"}, format="json")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = api.post(f"/api/v1/consultations/{cid}/cancel/", {}, format="json")
    assert again.status_code == 409


def test_complete_and_no_show(api_for, station_worker, doctor, patient, frozen_now):
    cid = api_for(station_worker).post("/api/v1/consultations/", booking(doctor, patient, at(MONDAY, 9)), format="json").json()["id"]
    early = api_for(doctor.user).post(f"/api/v1/consultations/{cid}/complete/")
    assert early.status_code == 400 and early.json()["code"] == "too_early"
    frozen_now.set(at(MONDAY, 9, 21))
    done = api_for(doctor.user).post(f"/api/v1/consultations/{cid}/complete/")
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert api_for(station_worker).post(f"/api/v1/consultations/{cid}/no-show/").status_code == 409


def test_a_consultation_is_seen_by_its_station_and_doctor_only(api_for, station_worker, stranger, doctor, other_doctor, patient, frozen_now):
    cid = api_for(station_worker).post("/api/v1/consultations/", booking(doctor, patient, at(MONDAY, 9)), format="json").json()["id"]
    assert api_for(station_worker).get(f"/api/v1/consultations/{cid}/").status_code == 200
    assert api_for(doctor.user).get(f"/api/v1/consultations/{cid}/").status_code == 200
    assert api_for(stranger).get(f"/api/v1/consultations/{cid}/").status_code == 404
    assert api_for(other_doctor.user).get(f"/api/v1/consultations/{cid}/").status_code == 404
    assert api_for(stranger).post(f"/api/v1/consultations/{cid}/cancel/").status_code == 404
    assert api_for(doctor.user).post(f"/api/v1/consultations/{cid}/cancel/").status_code == 403
    listed = api_for(stranger).get("/api/v1/consultations/").json()
    assert listed == []


def test_patients_are_searched_within_the_station(api_for, station_worker, stranger_patient, patient):
    make_patient(patient.station, station_worker, name="Lường Thị Mây", phone="+84987654321")
    api = api_for(station_worker)
    names = [p["full_name"] for p in api.get("/api/v1/patients/").json()["results"]]
    assert names == ["Hoàng Thị Hoa", "Lường Thị Mây"]
    assert [p["full_name"] for p in api.get("/api/v1/patients/?q=hoa").json()["results"]] == ["Hoàng Thị Hoa"]
    assert [p["full_name"] for p in api.get("/api/v1/patients/?q=0987 654 321").json()["results"]] == ["Lường Thị Mây"]
    assert api.get("/api/v1/patients/?q=Thắng").json()["results"] == []


def test_registering_a_patient_normalizes_phones_and_sets_the_station(api_for, station_worker):
    data = {"full_name": "  Triệu  Văn Páo ", "date_of_birth": "2016-01-09", "sex": "male",
            "relative_phone": "0912 000 105", "sms_consent": True}
    response = api_for(station_worker).post("/api/v1/patients/", data, format="json")
    assert response.status_code == 201, response.content
    patient = Patient.objects.get(pk=response.json()["id"])
    assert patient.full_name == "Triệu Văn Páo" and patient.relative_phone == "+84912000105"
    assert patient.station == station_worker.station_staff.station
    assert patient.commune == patient.station.commune


@pytest.mark.parametrize(
    "data, field",
    [
        ({"full_name": "A", "date_of_birth": "2016-01-09", "sex": "male", "phone": "12345"}, "phone"),
        ({"full_name": "A", "date_of_birth": "2016-01-09", "sex": "male", "sms_consent": True}, "sms_consent"),
        ({"full_name": "A", "date_of_birth": "09/01/2016", "sex": "male"}, "date_of_birth"),
        ({"full_name": "   ", "date_of_birth": "2016-01-09", "sex": "male"}, "full_name"),
    ],
)
def test_bad_patient_data_gets_400(api_for, station_worker, data, field):
    response = api_for(station_worker).post("/api/v1/patients/", data, format="json")
    assert response.status_code == 400 and field in response.json()


def test_doctors_see_only_their_patients_and_cannot_register(api_for, station_worker, doctor, other_doctor, patient, frozen_now):
    api_for(station_worker).post("/api/v1/consultations/", booking(doctor, patient, at(MONDAY, 9)), format="json")
    assert [p["id"] for p in api_for(doctor.user).get("/api/v1/patients/").json()["results"]] == [patient.pk]
    assert api_for(other_doctor.user).get("/api/v1/patients/").json()["results"] == []
    response = api_for(doctor.user).post("/api/v1/patients/", {"full_name": "X", "date_of_birth": "2000-01-01", "sex": "male"})
    assert response.status_code == 403


def test_users_without_a_role_get_403(api_for, pilot):
    from tests.conftest import make_user

    nobody = make_user("nobody")
    assert api_for(nobody).get("/api/v1/patients/").status_code == 403
    assert api_for(nobody).get("/api/v1/doctors/").status_code == 403


def test_api_views_of_patients_are_audited(api_for, station_worker, doctor, patient, frozen_now):
    api = api_for(station_worker)
    cid = api.post("/api/v1/consultations/", booking(doctor, patient, at(MONDAY, 9)), format="json").json()["id"]
    api.get(f"/api/v1/consultations/{cid}/", REMOTE_ADDR="10.1.2.3")
    api.get("/api/v1/patients/?q=Hoa")
    actions = list(AuditEntry.objects.filter(patient=patient).order_by("at", "pk").values_list("action", "actor_username", "ip_address"))
    assert ("view_consultation", "station_phucthuan", "10.1.2.3") in actions
    assert ("list_patient", "station_phucthuan", "127.0.0.1") in actions
