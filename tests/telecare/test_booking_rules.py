from datetime import timedelta

import pytest

from telecare import actions
from telecare.availability import free_slots
from telecare.errors import InPast, NotAllowed, NotChangeable, PatientBusy, SlotNotOffered, SlotTaken, TooEarly, TooFarAhead
from telecare.models import Consultation, Leave
from tests.conftest import MONDAY_MORNING, at, make_patient

MONDAY = MONDAY_MORNING.date()


def book(doctor, patient, by, start, **extra):
    return actions.book_consultation(doctor=doctor, patient=patient, start=start, booked_by=by, reason="Đau đầu", **extra)


def test_booking_a_free_slot_takes_the_slot_length(doctor, patient, station_worker, frozen_now):
    c = book(doctor, patient, station_worker, at(MONDAY, 8, 20))
    assert (c.starts_at, c.ends_at) == (at(MONDAY, 8, 20), at(MONDAY, 8, 40))
    assert c.status == Consultation.Status.BOOKED and c.sequence == 0
    assert c.station == patient.station and c.uid and len(c.room_id) >= 20


def test_second_booking_of_a_taken_slot_is_refused(doctor, patient, station_worker, frozen_now):
    book(doctor, patient, station_worker, at(MONDAY, 9))
    other = make_patient(patient.station, station_worker, name="Nông Văn Thắng")
    with pytest.raises(SlotTaken):
        book(doctor, other, station_worker, at(MONDAY, 9))
    assert Consultation.objects.count() == 1


def test_a_patient_cannot_be_in_two_consultations_at_once(doctor, other_doctor, patient, station_worker, frozen_now):
    book(doctor, patient, station_worker, at(MONDAY, 9))
    with pytest.raises(PatientBusy):
        book(other_doctor, patient, station_worker, at(MONDAY, 9))


def test_a_slot_freed_by_cancelling_can_be_booked_again(doctor, patient, station_worker, frozen_now):
    first = book(doctor, patient, station_worker, at(MONDAY, 9))
    actions.cancel_consultation(consultation=first, by=station_worker)
    again = book(doctor, patient, station_worker, at(MONDAY, 9))
    assert again.pk != first.pk


def test_times_off_the_doctors_timetable_are_refused(doctor, patient, station_worker, frozen_now):
    with pytest.raises(SlotNotOffered):
        book(doctor, patient, station_worker, at(MONDAY, 8, 10))  # not a slot start
    with pytest.raises(SlotNotOffered):
        book(doctor, patient, station_worker, at(MONDAY, 12))  # outside the window
    Leave.objects.create(doctor=doctor, first_day=MONDAY, last_day=MONDAY)
    with pytest.raises(SlotNotOffered):
        book(doctor, patient, station_worker, at(MONDAY, 9))


def test_past_and_far_future_times_are_refused(doctor, patient, station_worker, frozen_now):
    frozen_now.set(at(MONDAY, 9, 5))
    with pytest.raises(InPast):
        book(doctor, patient, station_worker, at(MONDAY, 9))
    with pytest.raises(TooFarAhead):
        book(doctor, patient, station_worker, at(MONDAY + timedelta(days=63), 9))


def test_an_inactive_doctor_takes_no_bookings(doctor, patient, station_worker, frozen_now):
    doctor.is_active = False
    doctor.save()
    with pytest.raises(SlotNotOffered):
        book(doctor, patient, station_worker, at(MONDAY, 9))


def test_station_staff_book_only_for_their_own_patients(doctor, stranger, patient, frozen_now):
    with pytest.raises(NotAllowed):
        book(doctor, patient, stranger, at(MONDAY, 9))


def test_doctors_cannot_book(doctor, patient, frozen_now):
    with pytest.raises(NotAllowed):
        book(doctor, patient, doctor.user, at(MONDAY, 9))


def test_a_digital_team_member_books_on_the_patients_behalf(doctor, patient, pilot, frozen_now):
    from telecare.models import StationStaff
    from tests.conftest import make_station_worker

    helper = make_station_worker("digital_phucthuan", pilot["phoyen"]["station"], role=StationStaff.Role.DIGITAL_TEAM)
    c = book(doctor, patient, helper, at(MONDAY, 9))
    assert c.booked_by == helper


def test_a_demo_booking_may_lie_outside_the_timetable(doctor, patient, station_worker, frozen_now):
    c = book(doctor, patient, station_worker, at(MONDAY, 19), duration=timedelta(minutes=30))
    assert c.ends_at == at(MONDAY, 19, 30)


def test_rescheduling_keeps_the_uid_and_raises_the_sequence(doctor, patient, station_worker, frozen_now):
    c = book(doctor, patient, station_worker, at(MONDAY, 9))
    moved = actions.reschedule_consultation(consultation=c, start=at(MONDAY, 10), by=station_worker)
    assert moved.uid == c.uid and moved.sequence == 1
    assert moved.status == Consultation.Status.RESCHEDULED
    assert (moved.starts_at, moved.ends_at) == (at(MONDAY, 10), at(MONDAY, 10, 20))
    # The old slot is free again, and moving within its own slot is no clash with itself.
    assert at(MONDAY, 9) in [s.start for s in free_slots(doctor, MONDAY, MONDAY)]


def test_rescheduling_onto_a_taken_slot_is_refused_and_changes_nothing(doctor, patient, station_worker, frozen_now):
    c = book(doctor, patient, station_worker, at(MONDAY, 9))
    other = make_patient(patient.station, station_worker, name="Lường Thị Mây")
    book(doctor, other, station_worker, at(MONDAY, 10))
    with pytest.raises(SlotTaken):
        actions.reschedule_consultation(consultation=c, start=at(MONDAY, 10), by=station_worker)
    c.refresh_from_db()
    assert c.starts_at == at(MONDAY, 9) and c.sequence == 0


def test_cancelling_records_the_reason_and_raises_the_sequence(doctor, patient, station_worker, frozen_now):
    c = book(doctor, patient, station_worker, at(MONDAY, 9))
    cancelled = actions.cancel_consultation(consultation=c, by=station_worker, reason="Bệnh nhân đi viện")
    assert cancelled.status == Consultation.Status.CANCELLED and cancelled.sequence == 1
    assert cancelled.cancel_reason == "Bệnh nhân đi viện"
    with pytest.raises(NotChangeable):
        actions.cancel_consultation(consultation=c, by=station_worker)
    with pytest.raises(NotChangeable):
        actions.reschedule_consultation(consultation=c, start=at(MONDAY, 10), by=station_worker)


def test_only_the_station_moves_or_cancels(doctor, patient, station_worker, stranger, frozen_now):
    c = book(doctor, patient, station_worker, at(MONDAY, 9))
    for user in (stranger, doctor.user):
        with pytest.raises(NotAllowed):
            actions.cancel_consultation(consultation=c, by=user)
        with pytest.raises(NotAllowed):
            actions.reschedule_consultation(consultation=c, start=at(MONDAY, 10), by=user)


def test_completing_needs_the_consultation_to_have_started(doctor, patient, station_worker, frozen_now):
    c = book(doctor, patient, station_worker, at(MONDAY, 9))
    with pytest.raises(TooEarly):
        actions.close_consultation(consultation=c, by=doctor.user, status=Consultation.Status.COMPLETED)
    frozen_now.set(at(MONDAY, 9, 25))
    done = actions.close_consultation(consultation=c, by=doctor.user, status=Consultation.Status.COMPLETED)
    assert done.status == Consultation.Status.COMPLETED
    with pytest.raises(NotChangeable):
        actions.close_consultation(consultation=c, by=station_worker, status=Consultation.Status.NO_SHOW)


def test_a_no_show_is_recorded_by_the_station(doctor, patient, station_worker, stranger, frozen_now):
    c = book(doctor, patient, station_worker, at(MONDAY, 9))
    frozen_now.set(at(MONDAY, 9, 30))
    with pytest.raises(NotAllowed):
        actions.close_consultation(consultation=c, by=stranger, status=Consultation.Status.NO_SHOW)
    assert actions.close_consultation(consultation=c, by=station_worker, status=Consultation.Status.NO_SHOW).status == "no_show"


def test_a_consultation_that_began_can_no_longer_be_moved(doctor, patient, station_worker, frozen_now):
    c = book(doctor, patient, station_worker, at(MONDAY, 9))
    frozen_now.set(at(MONDAY, 9, 1))
    with pytest.raises(NotChangeable):
        actions.reschedule_consultation(consultation=c, start=at(MONDAY, 10), by=station_worker)
