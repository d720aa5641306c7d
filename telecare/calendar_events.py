"""A consultation as a calendar event: for the doctor's and the station's
invites, and for the private feeds of doctors, stations and patients."""

from datetime import timedelta
from email.utils import parseaddr

from django.conf import settings
from django.utils import timezone

from booking.ical import CalendarEvent, Person
from telecare.models import Consultation, Doctor, HealthStation, Patient


def _absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL + path


def consultation_event(consultation: Consultation) -> CalendarEvent:
    station, doctor = consultation.station, consultation.doctor
    room = _absolute(consultation.room_url())
    _, sender = parseaddr(settings.DEFAULT_FROM_EMAIL)
    attendees = [Person(doctor.name, doctor.user.email)]
    if station.email:
        attendees.append(Person(station.name, station.email, partstat="ACCEPTED"))
    return CalendarEvent(
        uid=f"{consultation.uid}@telecare",
        sequence=consultation.sequence,
        start=consultation.starts_at,
        end=consultation.ends_at,
        summary=f"Khám từ xa: {consultation.patient.full_name} ({station.short_name})",
        description=f"Phòng khám trực tuyến: {room}\nChi tiết: {_absolute(consultation.get_absolute_url())}",
        location=f"{station.name} · {room}",
        url=room,
        organizer=Person(station.name, sender),
        attendees=tuple(attendees),
        cancelled=consultation.status == Consultation.Status.CANCELLED,
    )


def calendar_events(consultations):
    return [consultation_event(c) for c in consultations.select_related("patient", "station__commune", "doctor__user")]


def _window(qs):
    now = timezone.now()
    return qs.filter(starts_at__gte=now - timedelta(days=30), starts_at__lte=now + timedelta(days=120))


def doctor_events(doctor: Doctor):
    return calendar_events(_window(Consultation.objects.filter(doctor=doctor)))


def station_events(station: HealthStation):
    return calendar_events(_window(Consultation.objects.filter(station=station)))


def patient_events(patient: Patient):
    return calendar_events(_window(Consultation.objects.filter(patient=patient)))
