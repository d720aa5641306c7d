"""Who may see which patient and consultation. Fetches raise 404 rather than
403, so that a guess at another station's ids learns nothing."""

import unicodedata

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from telecare.models import Consultation, Patient


def patients_visible_to(user) -> QuerySet[Patient]:
    """Station staff: their station's patients. Doctors: patients they have a consultation with."""
    if not user.is_authenticated:
        return Patient.objects.none()
    staff = getattr(user, "station_staff", None)
    if staff is not None:
        return Patient.objects.filter(station_id=staff.station_id)
    doctor = getattr(user, "doctor", None)
    if doctor is not None:
        return Patient.objects.filter(pk__in=Consultation.objects.filter(doctor=doctor).values("patient_id"))
    return Patient.objects.none()


def get_patient_for(user, pk) -> Patient:
    return get_object_or_404(patients_visible_to(user).select_related("commune", "station"), pk=pk)


def get_consultation_for(user, pk) -> Consultation:
    return get_object_or_404(
        Consultation.objects.visible_to(user).select_related("doctor__user", "doctor__hospital", "patient", "station"),
        pk=pk,
    )


MAX_SEARCH_CHARS = 100


def search_term(q: str) -> str:
    """What a search box sends, as names are stored: NFC (a phone or an old
    keyboard may send decomposed marks), without control characters (PostgreSQL
    refuses NUL in a query), and no longer than a name."""
    q = unicodedata.normalize("NFC", q or "")
    return "".join(ch for ch in q if unicodedata.category(ch) != "Cc").strip()[:MAX_SEARCH_CHARS]


def search_patients(patients: QuerySet[Patient], q: str) -> QuerySet[Patient]:
    """By part of the name, or by a phone number however it was typed."""
    q = search_term(q)
    if not q:
        return patients
    match = Q(full_name__icontains=q)
    digits = "".join(ch for ch in q if ch in "0123456789")
    if len(digits) >= 4:
        # Stored as +84..., typed as 09...: compare without the leading zero.
        tail = digits.lstrip("0")
        match |= Q(phone__contains=tail) | Q(relative_phone__contains=tail)
    return patients.filter(match)
