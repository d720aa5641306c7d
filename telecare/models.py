"""Hospitals, stations, doctors, patients, availability and consultations."""

import secrets
import unicodedata
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.phones import validate_e164
from communes.models import Commune, District
from telecare.audit_chain import GENESIS


def person_name(user) -> str:
    """Vietnamese order: family and middle names (last_name), then the given name."""
    return f"{user.last_name} {user.first_name}".strip() or user.get_username()


class Hospital(models.Model):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="hospitals")
    name = models.CharField(_("name"), max_length=200, unique=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=16, blank=True, validators=[validate_e164])

    class Meta:
        ordering = ["name"]
        verbose_name = _("district hospital")
        verbose_name_plural = _("district hospitals")

    def __str__(self):
        return self.name


class HealthStation(models.Model):
    commune = models.OneToOneField(Commune, on_delete=models.PROTECT, related_name="health_station")
    hospital = models.ForeignKey(
        Hospital, on_delete=models.PROTECT, related_name="stations",
        help_text=_("The district hospital this station refers patients to."),
    )
    name = models.CharField(_("name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=16, blank=True, validators=[validate_e164])
    email = models.EmailField(_("email"), blank=True, help_text=_("Receives the calendar invites of its consultations."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("commune health station")
        verbose_name_plural = _("commune health stations")

    def __str__(self):
        return self.name

    @property
    def short_name(self) -> str:
        """How an SMS signs: 'TYT Phúc Thuận' (trạm y tế) rather than the full name."""
        return "TYT " + self.commune.name.removeprefix("Xã ").removeprefix("xã ")


class StationStaff(models.Model):
    """A person who books for one station's patients."""

    class Role(models.TextChoices):
        HEALTH_WORKER = "health_worker", _("Health-station worker")
        DIGITAL_TEAM = "digital_team", _("Community digital-technology team member")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="station_staff")
    station = models.ForeignKey(HealthStation, on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.HEALTH_WORKER)

    class Meta:
        verbose_name = _("station staff member")
        verbose_name_plural = _("station staff")

    def __str__(self):
        return f"{person_name(self.user)} ({self.station})"


class Doctor(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="doctor")
    hospital = models.ForeignKey(Hospital, on_delete=models.PROTECT, related_name="doctors")
    specialty = models.CharField(_("specialty"), max_length=100)
    is_active = models.BooleanField(_("accepts bookings"), default=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        verbose_name = _("doctor")
        verbose_name_plural = _("doctors")

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return person_name(self.user)


class WeeklyAvailability(models.Model):
    """A recurring window, in local time, in which a doctor takes consultations.

    Weekdays without a window are the doctor's days off."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    doctor = models.ForeignKey(Doctor, on_delete=models.CASCADE, related_name="availability")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts_at = models.TimeField(_("from"))
    ends_at = models.TimeField(_("until"))
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"), default=20)

    class Meta:
        ordering = ["doctor", "weekday", "starts_at"]
        verbose_name = _("weekly availability")
        verbose_name_plural = _("weekly availability")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="availability_ends_after_start"),
            models.CheckConstraint(condition=Q(slot_minutes__gte=5, slot_minutes__lte=240), name="availability_slot_length"),
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="availability_weekday"),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.starts_at:%H:%M}-{self.ends_at:%H:%M}"


class Leave(models.Model):
    """Whole days (inclusive) on which a doctor takes no consultations."""

    doctor = models.ForeignKey(Doctor, on_delete=models.CASCADE, related_name="leaves")
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["doctor", "first_day"]
        verbose_name = _("leave")
        verbose_name_plural = _("leave")
        constraints = [
            models.CheckConstraint(condition=Q(last_day__gte=models.F("first_day")), name="leave_ends_after_start"),
        ]

    def __str__(self):
        return f"{self.doctor}: {self.first_day} - {self.last_day}"


class Patient(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")

    full_name = models.CharField(_("full name"), max_length=120)
    date_of_birth = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices)
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="patients")
    station = models.ForeignKey(HealthStation, on_delete=models.PROTECT, related_name="patients")
    phone = models.CharField(_("own phone"), max_length=16, blank=True, validators=[validate_e164])
    relative_name = models.CharField(_("relative's name"), max_length=120, blank=True)
    relative_phone = models.CharField(_("relative's phone"), max_length=16, blank=True, validators=[validate_e164])
    sms_consent = models.BooleanField(_("agrees to SMS reminders"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["full_name"]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        constraints = [
            # Consent to SMS needs a number to send to.
            models.CheckConstraint(
                condition=Q(sms_consent=False) | ~Q(phone="") | ~Q(relative_phone=""),
                name="patient_sms_consent_needs_phone",
            ),
        ]
        indexes = [models.Index(fields=["station", "full_name"])]

    def __str__(self):
        return self.full_name

    def save(self, *args, **kwargs):
        # One spelling per name: decomposed input (NFD from some keyboards) is stored
        # NFC, so that a search typed either way finds it.
        self.full_name = unicodedata.normalize("NFC", self.full_name)
        self.relative_name = unicodedata.normalize("NFC", self.relative_name)
        super().save(*args, **kwargs)

    @property
    def given_name(self) -> str:
        """Vietnamese names end with the given name, the one people are addressed by."""
        return self.full_name.split()[-1] if self.full_name.strip() else ""

    @property
    def sms_number(self) -> str:
        return self.phone or self.relative_phone


class ConsultationQuerySet(models.QuerySet):
    def holding_slots(self):
        return self.exclude(status=Consultation.Status.CANCELLED)

    def overlapping(self, start: datetime, end: datetime):
        return self.holding_slots().filter(starts_at__lt=end, ends_at__gt=start)

    def visible_to(self, user):
        """Station staff see their station's consultations; doctors their own."""
        if not user.is_authenticated:
            return self.none()
        staff = getattr(user, "station_staff", None)
        doctor = getattr(user, "doctor", None)
        if staff is not None:
            return self.filter(station_id=staff.station_id)
        if doctor is not None:
            return self.filter(doctor=doctor)
        return self.none()


def new_room_id() -> str:
    return secrets.token_urlsafe(16)


class Consultation(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        RESCHEDULED = "rescheduled", _("Rescheduled")
        CANCELLED = "cancelled", _("Cancelled")
        COMPLETED = "completed", _("Completed")
        NO_SHOW = "no_show", _("No-show")

    class Mode(models.TextChoices):
        VIDEO = "video", _("Video")
        AUDIO = "audio", _("Audio only")

    OPEN_STATUSES = (Status.BOOKED, Status.RESCHEDULED)

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    room_id = models.CharField(max_length=32, default=new_room_id, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0, help_text=_("Raised on every change (iCalendar SEQUENCE)."))
    doctor = models.ForeignKey(Doctor, on_delete=models.PROTECT, related_name="consultations")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consultations")
    station = models.ForeignKey(HealthStation, on_delete=models.PROTECT, related_name="consultations")
    starts_at = models.DateTimeField(_("start"))
    ends_at = models.DateTimeField(_("end"))
    reason = models.CharField(_("reason"), max_length=500)
    mode = models.CharField(_("mode"), max_length=5, choices=Mode.choices, default=Mode.VIDEO)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.BOOKED)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    cancel_reason = models.CharField(_("cancellation reason"), max_length=300, blank=True)
    patient_confirmed_at = models.DateTimeField(_("confirmed by the patient"), null=True, blank=True)
    follow_up = models.CharField(
        _("needs the station's follow-up"), max_length=200, blank=True,
        help_text=_("Why the station should call the patient, e.g. an SMS that could not be delivered."),
    )
    # The patient's consent to recording the call, as the station recorded it.
    recording_consent_at = models.DateTimeField(_("consent to recording given"), null=True, blank=True)
    recording_consent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True,
        verbose_name=_("consent recorded by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConsultationQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="consultation_ends_after_start"),
            # Consent is recorded with who recorded it, or not at all.
            models.CheckConstraint(
                condition=Q(recording_consent_at__isnull=True, recording_consent_by__isnull=True)
                | Q(recording_consent_at__isnull=False, recording_consent_by__isnull=False),
                name="consultation_consent_has_who_and_when",
            ),
            # PostgreSQL also has exclusion constraints against overlaps
            # (migration 0002); SQLite relies on serialized transactions.
        ]
        indexes = [
            models.Index(fields=["doctor", "starts_at"]),
            models.Index(fields=["station", "starts_at"]),
        ]

    def __str__(self):
        return f"{self.patient} / {self.doctor} {timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}"

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def room_url(self) -> str:
        return reverse("telecare:room", args=[self.room_id])

    def get_absolute_url(self) -> str:
        return reverse("telecare:consultation", args=[self.pk])

    def room_window(self) -> tuple[datetime, datetime]:
        """When the call's room is open: a little before the start, a while after the end."""
        return (
            self.starts_at - timedelta(minutes=settings.ROOM_OPENS_MINUTES_BEFORE),
            self.ends_at + timedelta(minutes=settings.ROOM_CLOSES_MINUTES_AFTER),
        )

    def side_of(self, user) -> str | None:
        """'doctor' for the consultation's doctor, 'station' for its station's staff, else None."""
        doctor = getattr(user, "doctor", None)
        if doctor is not None and doctor.pk == self.doctor_id:
            return "doctor"
        staff = getattr(user, "station_staff", None)
        if staff is not None and staff.station_id == self.station_id:
            return "station"
        return None

    def can_be_changed_by(self, user) -> bool:
        """Station staff of the consultation's station may move or cancel it."""
        staff = getattr(user, "station_staff", None)
        return staff is not None and staff.station_id == self.station_id

    def can_be_closed_by(self, user) -> bool:
        """The doctor or the station records how a consultation ended."""
        doctor = getattr(user, "doctor", None)
        return self.can_be_changed_by(user) or (doctor is not None and doctor.pk == self.doctor_id)

    @property
    def has_recording_consent(self) -> bool:
        return self.recording_consent_at is not None

    def has_ended(self, now: datetime) -> bool:
        """Over for good: closed, cancelled, or its room has closed."""
        return not self.is_open or now > self.room_window()[1]

    def can_record_consent(self, user, now: datetime) -> bool:
        """The station gives the patient's consent until the consultation ends."""
        return self.can_be_changed_by(user) and not self.has_ended(now)

    def can_withdraw_consent(self, user, now: datetime) -> bool:
        """Consent is withdrawn before the call is recorded; once a recording
        exists, it was made with that consent."""
        return (self.has_recording_consent and self.can_record_consent(user, now)
                and not self.recordings.exists())


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit log is append-only")

    def delete(self):
        raise PermissionError("The audit log is append-only")


class AuditEntry(models.Model):
    """Who looked at which patient's record, when and from where. Append-only:
    the app refuses updates and deletes, and on PostgreSQL a trigger does too.
    Tamper-evident: each entry is chained to the one before it by its hash
    (telecare.audit_chain); write entries only through telecare.audit.append."""

    class Action(models.TextChoices):
        VIEW_PATIENT = "view_patient", _("Viewed patient record")
        VIEW_CONSULTATION = "view_consultation", _("Viewed consultation")
        LIST_PATIENT = "list_patient", _("Patient listed in search results")
        REGISTER_PATIENT = "register_patient", _("Registered patient")
        JOIN_ROOM = "join_room", _("Joined the consultation's call")
        GIVE_RECORDING_CONSENT = "give_recording_consent", _("Recorded the patient's consent to recording")
        WITHDRAW_RECORDING_CONSENT = "withdraw_recording_consent", _("Withdrew the patient's consent to recording")
        START_RECORDING = "start_recording", _("Started recording the call")
        STOP_RECORDING = "stop_recording", _("Stopped recording the call")
        DOWNLOAD_RECORDING = "download_recording", _("Downloaded a recording of the call")
        DELETE_RECORDING = "delete_recording", _("Deleted a recording after the retention period")

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    actor_username = models.CharField(_("who"), max_length=150)
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("from"), null=True, blank=True)
    path = models.CharField(_("page or endpoint"), max_length=300, blank=True)
    seq = models.PositiveBigIntegerField(_("position"), unique=True, editable=False)
    prev_hash = models.CharField(_("previous entry's hash"), max_length=64, editable=False)
    entry_hash = models.CharField(_("hash"), max_length=64, editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        constraints = [models.CheckConstraint(condition=Q(seq__gte=1), name="audit_entry_seq_from_one")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} #{self.patient_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("The audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit log is append-only")


class AuditHead(models.Model):
    """The one row that holds the end of the audit log's chain: the last entry's
    seq and hash. Kept apart from the entries so that a truncated table or a
    removed tail shows; writers lock it, so that the chain never forks."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    seq = models.PositiveBigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, default=GENESIS)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="audit_head_is_one_row")]

    def __str__(self):
        return f"{self.seq}:{self.entry_hash}"


class ConsultationRecordingQuerySet(models.QuerySet):
    def kept(self):
        return self.filter(deleted_at__isnull=True)


class ConsultationRecording(models.Model):
    """A recording of a consultation's call, made with the patient's consent;
    the file lives under settings.RECORDINGS_DIR. While the call is recorded,
    ended_at is empty."""

    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT, related_name="recordings")
    path = models.CharField(_("file"), max_length=300, unique=True, help_text=_("Relative to RECORDINGS_DIR."))
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    duration_seconds = models.FloatField(_("length (seconds)"), default=0)
    size_bytes = models.BigIntegerField(_("size (bytes)"), default=0)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("started by"))
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    objects = ConsultationRecordingQuerySet.as_manager()

    class Meta:
        ordering = ["started_at"]
        verbose_name = _("consultation recording")
        verbose_name_plural = _("consultation recordings")
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="consultation_recording_ends_after_start",
            ),
            models.CheckConstraint(condition=~Q(path=""), name="consultation_recording_has_a_path"),
        ]

    def __str__(self):
        return f"{self.consultation} ({self.path})"

    @property
    def is_running(self) -> bool:
        return self.ended_at is None

    def file(self) -> Path | None:
        """The file's absolute path; None if it would lie outside RECORDINGS_DIR
        (a bad path never serves other files)."""
        root = Path(settings.RECORDINGS_DIR).resolve()
        full = (root / self.path).resolve()
        return full if full.is_relative_to(root) else None

    @property
    def length(self) -> str:
        """'12:05': minutes and seconds."""
        minutes, seconds = divmod(round(self.duration_seconds), 60)
        return f"{minutes}:{seconds:02d}"

    def download_name(self) -> str:
        return f"consultation-{self.consultation_id}-{timezone.localtime(self.started_at):%Y%m%d-%H%M}.webm"
