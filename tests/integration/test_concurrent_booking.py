"""Twenty clients race for one slot, each on its own database connection, on
whichever database the suite runs on (SQLite, then PostgreSQL): exactly one wins."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from telecare import actions
from telecare.errors import PatientBusy, SlotTaken
from telecare.models import Consultation
from tests.conftest import MONDAY_MORNING, at, make_doctor, make_patient

CLIENTS = 20
MONDAY = MONDAY_MORNING.date()


def race(calls):
    """Run the calls at the same instant from separate threads; return results or errors."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait(timeout=30)
            return call()
        except (SlotTaken, PatientBusy) as error:
            return error
        finally:
            connections.close_all()  # this thread's connection

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.mark.django_db(transaction=True)
def test_twenty_clients_racing_for_one_slot_leave_exactly_one_booking(doctor, station_worker, frozen_now):
    station = station_worker.station_staff.station
    patients = [make_patient(station, station_worker, name=f"Bệnh nhân {i}") for i in range(CLIENTS)]
    start = at(MONDAY, 9)
    results = race([
        (lambda p=p: actions.book_consultation(doctor=doctor, patient=p, start=start, booked_by=station_worker, reason="x", now=MONDAY_MORNING))
        for p in patients
    ])
    winners = [r for r in results if isinstance(r, Consultation)]
    assert len(winners) == 1, results
    assert all(isinstance(r, SlotTaken) for r in results if r not in winners)
    assert Consultation.objects.filter(doctor=doctor, starts_at=start).count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_patient_booked_with_twenty_doctors_at_once_gets_one_consultation(pilot, patient, station_worker, frozen_now):
    doctors = [make_doctor(f"doctor_{i}", pilot["phoyen"]["hospital"]) for i in range(CLIENTS)]
    start = at(MONDAY, 9)
    results = race([
        (lambda d=d: actions.book_consultation(doctor=d, patient=patient, start=start, booked_by=station_worker, reason="x", now=MONDAY_MORNING))
        for d in doctors
    ])
    assert sum(isinstance(r, Consultation) for r in results) == 1, results
    assert sum(isinstance(r, PatientBusy) for r in results) == CLIENTS - 1
    assert Consultation.objects.filter(patient=patient).count() == 1


@pytest.mark.django_db(transaction=True)
def test_overlapping_rows_are_refused_by_postgresql_itself(doctor, patient, station_worker, frozen_now):
    """The exclusion constraint holds even for writes that skip the app's check."""
    if connection.vendor != "postgresql":
        pytest.skip("exclusion constraints are PostgreSQL's; SQLite relies on serialized transactions")
    from django.db import IntegrityError

    other = make_patient(patient.station, station_worker, name="Nông Văn Thắng")
    common = {"doctor": doctor, "station": patient.station, "reason": "x", "booked_by": station_worker}
    Consultation.objects.create(patient=patient, starts_at=at(MONDAY, 9), ends_at=at(MONDAY, 9, 20), **common)
    with pytest.raises(IntegrityError, match="consultation_doctor_no_overlap"):
        Consultation.objects.create(patient=other, starts_at=at(MONDAY, 9, 10), ends_at=at(MONDAY, 9, 30), **common)
    # Touching intervals are fine, and a cancelled row holds nothing.
    Consultation.objects.create(patient=other, starts_at=at(MONDAY, 9, 20), ends_at=at(MONDAY, 9, 40), **common)
    Consultation.objects.filter(patient=patient).update(status=Consultation.Status.CANCELLED)
    Consultation.objects.create(patient=other, starts_at=at(MONDAY, 9), ends_at=at(MONDAY, 9, 20), **common)


@pytest.mark.django_db(transaction=True)
def test_a_race_lost_at_the_constraint_is_a_conflict_not_an_error(doctor, patient, station_worker, frozen_now, monkeypatch):
    """When both requests pass the check, PostgreSQL refuses the second insert and
    the action turns that into SlotTaken (so the API answers 409, not 500)."""
    if connection.vendor != "postgresql":
        pytest.skip("on SQLite the check and the insert are one serialized transaction")
    monkeypatch.setattr(actions, "_check_no_overlap", lambda **kwargs: None)  # as if the rival had not committed yet
    other = make_patient(patient.station, station_worker, name="Nông Văn Thắng")
    book = dict(doctor=doctor, start=at(MONDAY, 9), booked_by=station_worker, reason="x", now=MONDAY_MORNING)
    actions.book_consultation(patient=patient, **book)
    with pytest.raises(SlotTaken):
        actions.book_consultation(patient=other, **book)
    with pytest.raises(PatientBusy):
        actions.book_consultation(patient=patient, **{**book, "doctor": make_doctor("doctor_2", doctor.hospital)})
