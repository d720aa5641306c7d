"""Input that used to end in a 500: slots at the ends of the calendar, NUL in a
search (PostgreSQL refuses it), digits that are not ASCII in phone numbers,
decomposed names; each gets a clear 400 or the right answer."""

import unicodedata

import pytest
from django.core.exceptions import ValidationError

from booking.phones import normalize_phone, validate_e164
from telecare.models import Patient
from tests.conftest import make_patient

NFD_NAME = unicodedata.normalize("NFD", "Hoàng Thị Hoa")


@pytest.mark.parametrize("query", ["from=9999-12-31", "from=9999-12-30&to=9999-12-31", "from=0001-01-01",
                                   "from=0001-01-01&to=0001-01-05", "to=9999-12-31"])
def test_slots_at_the_ends_of_the_calendar_are_a_clear_400(api_for, doctor, station_worker, query):
    response = api_for(station_worker).get(f"/api/v1/doctors/{doctor.pk}/slots/?{query}")
    assert response.status_code == 400
    assert set(response.json()) & {"from", "to", "detail"}


def test_a_nul_byte_in_a_patient_search_finds_by_the_rest(client, api_for, patient, station_worker):
    api = api_for(station_worker)
    response = api.get("/api/v1/patients/", {"q": "Ho\x00a"})
    assert response.status_code == 200
    client.force_login(station_worker)
    assert client.get("/station/", {"q": "Hoa\x00"}).status_code == 200
    assert [p["full_name"] for p in api.get("/api/v1/patients/", {"q": "\x00Hoa"}).json()["results"]] == ["Hoàng Thị Hoa"]


@pytest.mark.parametrize("typed", [
    "٠٩١٢٣٤٥٦٧٨",  # Arabic-Indic
    "０９１２３４５６７８",  # full-width
    "+84९१२३४५६७८",  # Devanagari after the country code
    "0912३45678",
])
def test_phone_numbers_with_digits_that_are_not_ascii_are_refused(typed, api_for, station_worker):
    with pytest.raises(ValidationError):
        normalize_phone(typed)
    with pytest.raises(ValidationError):
        validate_e164(typed)
    response = api_for(station_worker).post("/api/v1/patients/", {
        "full_name": "Lò Văn Pử", "date_of_birth": "1960-01-01", "sex": "male", "phone": typed,
    }, format="json")
    assert response.status_code == 400 and "phone" in response.json()


def test_names_are_stored_nfc_so_either_spelling_finds_them(api_for, station_worker):
    api = api_for(station_worker)
    created = api.post("/api/v1/patients/", {"full_name": NFD_NAME, "date_of_birth": "1958-03-14", "sex": "female",
                                             "relative_name": unicodedata.normalize("NFD", "Hoàng Văn Sinh")}, format="json")
    assert created.status_code == 201
    stored = Patient.objects.get(pk=created.json()["id"])
    assert stored.full_name == "Hoàng Thị Hoa" and unicodedata.is_normalized("NFC", stored.relative_name)
    for typed in (NFD_NAME, "Hoàng Thị Hoa", unicodedata.normalize("NFD", "Thị Ho")):
        results = api.get("/api/v1/patients/", {"q": typed}).json()["results"]
        assert [p["id"] for p in results] == [stored.pk], typed


def test_a_name_saved_decomposed_by_code_is_normalised_too(station_worker):
    patient = make_patient(station_worker.station_staff.station, station_worker, name=NFD_NAME)
    patient.refresh_from_db()
    assert patient.full_name == "Hoàng Thị Hoa"


@pytest.mark.parametrize("doctor_id", ["9" * 40, "٣", "-1", "1e9"])
def test_the_booking_page_ignores_a_doctor_id_that_is_no_id(client, patient, station_worker, doctor_id):
    client.force_login(station_worker)
    assert client.get(f"/station/patients/{patient.pk}/book/", {"doctor": doctor_id}).status_code == 200
