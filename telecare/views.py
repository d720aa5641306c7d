"""Server-rendered pages for station staff and doctors."""

from datetime import timedelta
from functools import wraps
from itertools import groupby

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from booking import feeds
from signaling.pages import room_config, room_page
from telecare import actions, notifications
from telecare.access import get_consultation_for, get_patient_for, patients_visible_to, search_patients
from telecare.audit import record_access, record_accesses
from telecare.availability import free_slots
from telecare.errors import BookingError
from telecare.forms import BookingForm, CancelForm, PatientForm, RescheduleForm
from telecare.models import AuditEntry, Consultation, Doctor, person_name

SLOT_DAYS_SHOWN = 7


def station_staff_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not hasattr(request.user, "station_staff"):
            raise PermissionDenied(_("This page is for commune health-station staff."))
        return view(request, *args, **kwargs)

    return wrapper


def doctor_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not hasattr(request.user, "doctor"):
            raise PermissionDenied(_("This page is for doctors."))
        return view(request, *args, **kwargs)

    return wrapper


def slots_by_day(slots):
    return [(day, list(group)) for day, group in groupby(slots, key=lambda s: timezone.localtime(s.start).date())]


def _first_day(request):
    """The ?from= day of a slot picker, kept between today and the booking horizon."""
    today = timezone.localdate()
    try:
        day = parse_date(request.GET.get("from", ""))
    except ValueError:  # well-formed but impossible, like 2026-02-30
        day = None
    if day is None:
        return today
    return min(max(day, today), today + timedelta(days=settings.BOOKING_HORIZON_DAYS))


@station_staff_required
def station_dashboard(request):
    station = request.user.station_staff.station
    now = timezone.now()
    upcoming = (
        Consultation.objects.filter(station=station, ends_at__gte=now - timedelta(hours=1))
        .exclude(status=Consultation.Status.CANCELLED)
        .select_related("doctor__user", "patient")[:50]
    )
    q = request.GET.get("q", "").strip()
    found = None
    if q:
        found = list(search_patients(patients_visible_to(request.user), q)[:20])
        record_accesses(request, AuditEntry.Action.LIST_PATIENT, found)
    return render(request, "telecare/station_dashboard.html", {
        "station": station, "upcoming": upcoming, "q": q, "found": found, "feed_url": feed_url(request, station),
        "follow_ups": Consultation.objects.filter(station=station).exclude(follow_up="").filter(ends_at__gte=now - timedelta(days=7)).select_related("patient"),
    })


@station_staff_required
def patient_new(request):
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        patient = actions.register_patient(registered_by=request.user, **form.cleaned_data)
        messages.success(request, _("Patient %(name)s registered.") % {"name": patient.full_name})
        return redirect("telecare:book", patient_id=patient.pk)
    return render(request, "telecare/patient_new.html", {"form": form})


@login_required
def patient_detail(request, pk):
    patient = get_patient_for(request.user, pk)
    record_access(request, AuditEntry.Action.VIEW_PATIENT, patient)
    consultations = Consultation.objects.visible_to(request.user).filter(patient=patient).select_related("doctor__user")
    return render(request, "telecare/patient_detail.html", {
        "patient": patient, "consultations": consultations,
        "feed_url": feed_url(request, patient) if hasattr(request.user, "station_staff") else None,
    })


@station_staff_required
def book(request, patient_id):
    patient = get_patient_for(request.user, patient_id)
    doctors = Doctor.objects.filter(is_active=True).select_related("user", "hospital")
    doctor = None
    doctor_id = request.POST.get("doctor") or request.GET.get("doctor")
    if doctor_id and doctor_id.isascii() and doctor_id.isdigit() and len(doctor_id) <= 18:
        doctor = doctors.filter(pk=doctor_id).first()
    form = BookingForm(request.POST or None, initial={"doctor": doctor})
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                consultation = actions.book_consultation(
                    doctor=data["doctor"], patient=patient, start=data["start"],
                    reason=data["reason"], mode=data["mode"], booked_by=request.user,
                )
            except BookingError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("Consultation booked."))
                return redirect(consultation)
        else:
            messages.error(request, _("Please correct the errors below."))
    first_day = _first_day(request)
    slots = free_slots(doctor, first_day, first_day + timedelta(days=SLOT_DAYS_SHOWN - 1)) if doctor else []
    return render(request, "telecare/book.html", {
        "patient": patient, "doctors": doctors, "doctor": doctor, "form": form,
        "days": slots_by_day(slots), "first_day": first_day,
        "next_week": first_day + timedelta(days=SLOT_DAYS_SHOWN),
    })


@doctor_required
def doctor_dashboard(request):
    doctor = request.user.doctor
    today_start, today_end = actions.local_day_bounds(timezone.localdate())
    week_end = today_start + timedelta(days=7)
    mine = Consultation.objects.filter(doctor=doctor).select_related("patient", "station")
    today = mine.filter(starts_at__gte=today_start, starts_at__lt=today_end)
    week = mine.filter(starts_at__gte=today_end, starts_at__lt=week_end).exclude(status=Consultation.Status.CANCELLED)
    return render(request, "telecare/doctor_dashboard.html", {
        "doctor": doctor, "today": today, "days": _by_day(week), "feed_url": feed_url(request, doctor),
    })


def _by_day(consultations):
    return [(day, list(group)) for day, group in groupby(consultations, key=lambda c: timezone.localtime(c.starts_at).date())]


@login_required
def consultation_detail(request, pk):
    consultation = get_consultation_for(request.user, pk)
    record_access(request, AuditEntry.Action.VIEW_CONSULTATION, consultation.patient, consultation)
    can_change = consultation.can_be_changed_by(request.user) and consultation.is_open
    days = []
    if can_change:
        first_day = _first_day(request)
        days = slots_by_day(free_slots(consultation.doctor, first_day, first_day + timedelta(days=SLOT_DAYS_SHOWN - 1)))
    now = timezone.now()
    return render(request, "telecare/consultation_detail.html", {
        "c": consultation, "can_change": can_change, "days": days, "cancel_form": CancelForm(),
        "messages_sent": [(m, PURPOSES.get(m.purpose, m.purpose)) for m in notifications.messages_of(consultation)],
        "can_close": consultation.can_be_closed_by(request.user) and consultation.is_open
        and consultation.starts_at <= now,
        "consent_by": person_name(consultation.recording_consent_by) if consultation.has_recording_consent else "",
        "can_give_consent": not consultation.has_recording_consent and consultation.can_record_consent(request.user, now),
        "can_withdraw_consent": consultation.can_withdraw_consent(request.user, now),
        "recordings": consultation.recordings.kept().select_related("started_by"),
    })


def _run(request, action, success_message, **kwargs):
    """Call an action for a page and turn a refusal into a message."""
    try:
        action(**kwargs)
    except BookingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success_message)


@require_POST
@login_required
def consultation_reschedule(request, pk):
    consultation = get_consultation_for(request.user, pk)
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a new time."))
    else:
        _run(request, actions.reschedule_consultation, _("Consultation moved."),
             consultation=consultation, start=form.cleaned_data["start"], by=request.user)
    return redirect(consultation)


@require_POST
@login_required
def consultation_cancel(request, pk):
    consultation = get_consultation_for(request.user, pk)
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    _run(request, actions.cancel_consultation, _("Consultation cancelled."),
         consultation=consultation, by=request.user, reason=reason)
    return redirect(consultation)


@require_POST
@login_required
def consultation_close(request, pk):
    consultation = get_consultation_for(request.user, pk)
    status = request.POST.get("status")
    if status not in (Consultation.Status.COMPLETED, Consultation.Status.NO_SHOW):
        messages.error(request, _("Unknown outcome."))
    else:
        _run(request, actions.close_consultation, _("Outcome recorded."),
             consultation=consultation, by=request.user, status=status)
    return redirect(consultation)


@require_POST
@station_staff_required
def recording_consent(request, pk):
    """The station records the patient's consent to recording the call, or its withdrawal."""
    consultation = get_consultation_for(request.user, pk)
    if request.POST.get("consent") == "withdraw":
        _run(request, actions.withdraw_recording_consent, _("The consent to recording was withdrawn."),
             consultation=consultation, by=request.user)
    else:
        _run(request, actions.give_recording_consent, _("The patient's consent to recording is recorded."),
             consultation=consultation, by=request.user)
    return redirect(f"{consultation.get_absolute_url()}#recording")


@login_required
def recording_download(request, pk, recording_id):
    """Only the consultation's doctor and its station's staff; 404 for anyone else."""
    consultation = get_consultation_for(request.user, pk)
    recording = get_object_or_404(consultation.recordings.kept().filter(ended_at__isnull=False), pk=recording_id)
    path = recording.file()
    if path is None or not path.is_file():
        raise Http404
    record_access(request, AuditEntry.Action.DOWNLOAD_RECORDING, consultation.patient, consultation)
    return FileResponse(path.open("rb"), as_attachment=True, filename=recording.download_name(), content_type="video/webm")


PURPOSES = {
    "booked": gettext_lazy("SMS: booked"), "day_before": gettext_lazy("SMS: reminder the day before"),
    "hours_before": gettext_lazy("SMS: reminder on the day"), "rescheduled": gettext_lazy("SMS: moved"),
    "cancelled": gettext_lazy("SMS: cancelled"), "reply": gettext_lazy("SMS: answer to the patient"),
    "invite_booked": gettext_lazy("Email invite"), "invite_rescheduled": gettext_lazy("Email invite: moved"),
    "invite_cancelled": gettext_lazy("Email invite: cancelled"),
}


def _feed_owner(request, kind, pk=None):
    if kind == "doctor" and hasattr(request.user, "doctor"):
        return request.user.doctor
    if kind == "station" and hasattr(request.user, "station_staff"):
        return request.user.station_staff.station
    if kind == "patient" and hasattr(request.user, "station_staff"):
        return get_patient_for(request.user, pk)
    raise PermissionDenied(_("You may not manage this calendar."))


@require_POST
@login_required
def calendar_feed(request, kind, pk=None):
    """Create a new private calendar address (the old one stops working), or revoke it."""
    owner = _feed_owner(request, kind, pk)
    if request.POST.get("action") == "revoke":
        feeds.revoke_feed(owner)
        messages.success(request, _("The calendar address no longer works."))
    else:
        feeds.renew_feed(owner)
        messages.success(request, _("New calendar address created. Anyone with it can see the calendar: share it with care."))
    return redirect(request.POST.get("next") if url_has_allowed_host_and_scheme(request.POST.get("next"), None) else "home")


def feed_url(request, owner):
    feed = feeds.active_feed(owner)
    return request.build_absolute_uri(reverse("calendar-feed", args=[feed.token])) if feed else None


@room_page()
@login_required
def room(request, room_id):
    """The consultation's call. The socket decides who may enter and when; the
    page only shows the consultation to those who may see it."""
    consultation = get_object_or_404(
        Consultation.objects.visible_to(request.user).select_related("doctor__user", "station", "patient"), room_id=room_id
    )
    return render(request, "telecare/room.html", {"c": consultation, "room_config": room_config(room_id)})
