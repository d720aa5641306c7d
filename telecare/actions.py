"""Operations on consultations and patients, each one database transaction.

The pages, the API and management commands all call these; they raise the
domain errors of telecare.errors and never return half-done work.
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from telecare import audit, notifications
from telecare.availability import find_offered_slot
from telecare.errors import (
    ConsentNotChangeable,
    InPast,
    NoConsent,
    NotAllowed,
    NotChangeable,
    PatientBusy,
    SlotNotOffered,
    SlotTaken,
    TooEarly,
    TooFarAhead,
)
from telecare.models import AuditEntry, Consultation, ConsultationRecording, Doctor, HealthStation, Patient

# Names of the PostgreSQL exclusion constraints (migration 0002).
DOCTOR_OVERLAP_CONSTRAINT = "consultation_doctor_no_overlap"
PATIENT_OVERLAP_CONSTRAINT = "consultation_patient_no_overlap"


def station_of(user) -> HealthStation | None:
    staff = getattr(user, "station_staff", None)
    return staff.station if staff is not None else None


def register_patient(*, registered_by, **fields) -> Patient:
    """A station worker registers a patient of their own station."""
    station = station_of(registered_by)
    if station is None:
        raise NotAllowed()
    fields.setdefault("commune", station.commune)
    with transaction.atomic():
        patient = Patient.objects.create(station=station, created_by=registered_by, **fields)
        audit.append(AuditEntry(
            actor=registered_by,
            actor_username=registered_by.get_username(),
            action=AuditEntry.Action.REGISTER_PATIENT,
            patient=patient,
        ))
    return patient


def _slot_for(doctor: Doctor, start: datetime, *, duration: timedelta | None, now: datetime) -> datetime:
    """Check the requested start and return the end of the consultation."""
    if start <= now:
        raise InPast()
    horizon = settings.BOOKING_HORIZON_DAYS
    if start > now + timedelta(days=horizon):
        raise TooFarAhead(TooFarAhead.default_message % {"days": horizon})
    if duration is not None:
        # Booked outside the doctor's timetable (demo and urgent calls).
        return start + duration
    slot = find_offered_slot(doctor, start)
    if slot is None:
        raise SlotNotOffered()
    return slot.end


def _check_no_overlap(*, doctor_id, patient_id, start, end, exclude_pk=None):
    clashes = Consultation.objects.overlapping(start, end).exclude(pk=exclude_pk)
    if clashes.filter(doctor_id=doctor_id).exists():
        raise SlotTaken()
    if clashes.filter(patient_id=patient_id).exists():
        raise PatientBusy()


def _raise_for_overlap(error: IntegrityError):
    """Turn a lost race on PostgreSQL's exclusion constraints into a conflict."""
    constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
    if constraint == DOCTOR_OVERLAP_CONSTRAINT:
        raise SlotTaken() from error
    if constraint == PATIENT_OVERLAP_CONSTRAINT:
        raise PatientBusy() from error
    raise error


def book_consultation(
    *,
    doctor: Doctor,
    patient: Patient,
    start: datetime,
    booked_by,
    reason: str,
    mode: str = Consultation.Mode.VIDEO,
    duration: timedelta | None = None,
    now: datetime | None = None,
) -> Consultation:
    """Book a slot of the doctor's timetable (or, with `duration`, any time).

    Raises NotAllowed for another station's patient, SlotNotOffered, InPast or
    TooFarAhead for a bad time, SlotTaken or PatientBusy when it clashes, also
    when another request wins the race for the same slot.
    """
    now = now or timezone.now()
    station = station_of(booked_by)
    if station is None or patient.station_id != station.pk:
        raise NotAllowed()
    if not doctor.is_active:
        raise SlotNotOffered()
    end = _slot_for(doctor, start, duration=duration, now=now)
    try:
        # On SQLite this transaction starts IMMEDIATE: one writer at a time, so
        # the check below cannot be overtaken. On PostgreSQL two checks can pass
        # at once; the exclusion constraint then refuses the second insert.
        with transaction.atomic():
            _check_no_overlap(doctor_id=doctor.pk, patient_id=patient.pk, start=start, end=end)
            consultation = Consultation.objects.create(
                doctor=doctor,
                patient=patient,
                station=station,
                starts_at=start,
                ends_at=end,
                reason=reason,
                mode=mode,
                booked_by=booked_by,
            )
            notifications.consultation_booked(consultation)
            return consultation
    except IntegrityError as error:
        _raise_for_overlap(error)


def _locked(consultation: Consultation) -> Consultation:
    return Consultation.objects.select_for_update().get(pk=consultation.pk)


def reschedule_consultation(
    *, consultation: Consultation, start: datetime, by, now: datetime | None = None
) -> Consultation:
    """Move to another slot of the same doctor: same UID, SEQUENCE raised."""
    now = now or timezone.now()
    if not consultation.can_be_changed_by(by):
        raise NotAllowed()
    end = _slot_for(consultation.doctor, start, duration=None, now=now)
    try:
        with transaction.atomic():
            current = _locked(consultation)
            if not current.is_open or current.starts_at <= now:
                raise NotChangeable()
            _check_no_overlap(
                doctor_id=current.doctor_id, patient_id=current.patient_id, start=start, end=end, exclude_pk=current.pk
            )
            current.starts_at, current.ends_at = start, end
            current.status = Consultation.Status.RESCHEDULED
            current.sequence += 1
            current.patient_confirmed_at = None
            current.save(update_fields=["starts_at", "ends_at", "status", "sequence", "patient_confirmed_at", "updated_at"])
            notifications.consultation_rescheduled(current)
            return current
    except IntegrityError as error:
        _raise_for_overlap(error)


def cancel_consultation(*, consultation: Consultation, by, reason: str = "", now: datetime | None = None) -> Consultation:
    if not consultation.can_be_changed_by(by):
        raise NotAllowed()
    return _cancel(consultation, reason=reason, now=now or timezone.now())


def cancel_by_patient(*, consultation: Consultation, now: datetime | None = None) -> Consultation:
    """The patient answered the reminder SMS with "cancel"."""
    return _cancel(consultation, reason="Bệnh nhân hủy qua tin nhắn", now=now or timezone.now())


def _cancel(consultation: Consultation, *, reason: str, now: datetime) -> Consultation:
    with transaction.atomic():
        current = _locked(consultation)
        if not current.is_open or current.ends_at <= now:
            raise NotChangeable()
        current.status = Consultation.Status.CANCELLED
        current.cancel_reason = reason[:300]
        current.sequence += 1
        current.save(update_fields=["status", "cancel_reason", "sequence", "updated_at"])
        notifications.consultation_cancelled(current)
        return current


def confirm_by_patient(*, consultation: Consultation, now: datetime | None = None) -> Consultation:
    """The patient answered the reminder SMS with "confirm"."""
    Consultation.objects.filter(pk=consultation.pk, patient_confirmed_at__isnull=True).update(
        patient_confirmed_at=now or timezone.now()
    )
    consultation.refresh_from_db(fields=["patient_confirmed_at"])
    return consultation


def close_consultation(*, consultation: Consultation, by, status: str, now: datetime | None = None) -> Consultation:
    """Record that a consultation took place (completed) or the patient did not come (no-show)."""
    now = now or timezone.now()
    if status not in (Consultation.Status.COMPLETED, Consultation.Status.NO_SHOW):
        raise ValueError(f"not a closing status: {status}")
    if not consultation.can_be_closed_by(by):
        raise NotAllowed()
    with transaction.atomic():
        current = _locked(consultation)
        if not current.is_open:
            raise NotChangeable()
        if current.starts_at > now:
            raise TooEarly()
        current.status = status
        current.save(update_fields=["status", "updated_at"])
        return current


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    return start, start + timedelta(days=1)


# Recording the call, with the patient's consent.

def _audit(action: str, consultation: Consultation, by, *, path: str = "", at: datetime | None = None) -> None:
    audit.append(AuditEntry(
        actor=by, actor_username=by.get_username() if by is not None else "system", action=action,
        patient_id=consultation.patient_id, consultation=consultation, path=path[:300], at=at or timezone.now(),
    ))


def give_recording_consent(*, consultation: Consultation, by, now: datetime | None = None) -> Consultation:
    """The station records that the patient agrees to the call being recorded."""
    now = now or timezone.now()
    if not consultation.can_be_changed_by(by):
        raise NotAllowed()
    with transaction.atomic():
        current = _locked(consultation)
        if not current.can_record_consent(by, now):
            raise ConsentNotChangeable()
        if current.has_recording_consent:
            return current  # already given: who and when stay those of the first time
        current.recording_consent_at, current.recording_consent_by = now, by
        current.save(update_fields=["recording_consent_at", "recording_consent_by", "updated_at"])
        _audit(AuditEntry.Action.GIVE_RECORDING_CONSENT, current, by, at=now)
        return current


def withdraw_recording_consent(*, consultation: Consultation, by, now: datetime | None = None) -> Consultation:
    """The patient changed their mind before the call was recorded."""
    now = now or timezone.now()
    if not consultation.can_be_changed_by(by):
        raise NotAllowed()
    with transaction.atomic():
        current = _locked(consultation)
        if not current.has_recording_consent:
            return current
        if current.has_ended(now):
            raise ConsentNotChangeable()
        if not current.can_withdraw_consent(by, now):
            raise ConsentNotChangeable(_("The call was already recorded with this consent; it can no longer be withdrawn."))
        current.recording_consent_at = current.recording_consent_by = None
        current.save(update_fields=["recording_consent_at", "recording_consent_by", "updated_at"])
        _audit(AuditEntry.Action.WITHDRAW_RECORDING_CONSENT, current, by, at=now)
        return current


def start_recording(*, consultation: Consultation, by, path: str, now: datetime | None = None) -> ConsultationRecording:
    """The doctor starts recording the call into `path` (relative to RECORDINGS_DIR)."""
    now = now or timezone.now()
    if consultation.side_of(by) != "doctor":
        raise NotAllowed(_("Only the consultation's doctor can record the call."))
    with transaction.atomic():
        current = _locked(consultation)
        if current.has_ended(now):
            raise NotChangeable()
        if not current.has_recording_consent:
            raise NoConsent()
        recording = ConsultationRecording.objects.create(consultation=current, path=path, started_at=now, started_by=by)
        _audit(AuditEntry.Action.START_RECORDING, current, by, path=path, at=now)
        return recording


def finish_recording(*, recording: ConsultationRecording, ended_at: datetime, duration_seconds: float, size_bytes: int,
                     stopped_by=None) -> ConsultationRecording:
    """The file is complete. stopped_by is the doctor who stopped it; None when
    the call ended or the doctor left."""
    with transaction.atomic():
        updated = ConsultationRecording.objects.filter(pk=recording.pk, ended_at__isnull=True).update(
            ended_at=max(ended_at, recording.started_at), duration_seconds=duration_seconds, size_bytes=size_bytes)
        if updated:  # Nothing updated: it was finished already
            _audit(AuditEntry.Action.STOP_RECORDING, recording.consultation, stopped_by, path=recording.path)
    recording.refresh_from_db()
    return recording


def purge_consultation_recordings(*, keep_days: int, now: datetime | None = None) -> tuple[int, int]:
    """Delete the files of consultation recordings older than keep_days, mark
    them deleted and audit each; answers (recordings purged, bytes freed).
    A file already gone is no error."""
    now = now or timezone.now()
    purged = freed = 0
    old = ConsultationRecording.objects.kept().filter(started_at__lt=now - timedelta(days=keep_days))
    for recording in old.select_related("consultation"):
        path = recording.file()
        if path is not None and path.is_file():
            freed += path.stat().st_size
            path.unlink()
        with transaction.atomic():
            # Conditional: another purge run that got here first is not counted twice.
            if ConsultationRecording.objects.filter(pk=recording.pk, deleted_at__isnull=True).update(deleted_at=now):
                purged += 1
                _audit(AuditEntry.Action.DELETE_RECORDING, recording.consultation, None, path=recording.path, at=now)
    return purged, freed
