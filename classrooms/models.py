"""Schools, learning points, teachers, pupils, classes, their weekly timetable,
lessons, attendance and recordings."""

import secrets
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.phones import validate_e164
from communes.models import Commune

GRADES = [(grade, str(grade)) for grade in range(1, 13)]


def person_name(user) -> str:
    """Vietnamese order: family and middle names (last_name), then the given name."""
    return f"{user.last_name} {user.first_name}".strip() or user.get_username()


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class School(models.Model):
    """A district or commune school that runs classes for remote pupils."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="schools")
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="schools", verbose_name=_("staff"),
        help_text=_("May see the attendance of every class of the school."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("school")
        verbose_name_plural = _("schools")

    def __str__(self):
        return self.name

    @property
    def short_name(self) -> str:
        """How an SMS signs: 'THCS Phúc Thuận' rather than 'Trường THCS Phúc Thuận'."""
        return self.name.removeprefix("Trường ").removeprefix("trường ")


class LearningPoint(models.Model):
    """A commune's school room or community room, with one shared device account
    that stands for the pupils who follow lessons there."""

    class Kind(models.TextChoices):
        SCHOOL = "school", _("School room")
        COMMUNITY_ROOM = "community_room", _("Community room")

    name = models.CharField(_("name"), max_length=200)
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="learning_points")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.COMMUNITY_ROOM)
    device_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="learning_point",
        verbose_name=_("device account"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("learning point")
        verbose_name_plural = _("learning points")
        constraints = [models.UniqueConstraint(fields=["commune", "name"], name="learning_point_unique_name")]

    def __str__(self):
        return self.name


class Teacher(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="teacher")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="teachers")
    phone = models.CharField(_("phone"), max_length=16, blank=True, validators=[validate_e164])
    email = models.EmailField(_("email"), blank=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        verbose_name = _("teacher")
        verbose_name_plural = _("teachers")

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return person_name(self.user)


class SchoolClass(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="classes")
    name = models.CharField(_("name"), max_length=100)
    grade = models.PositiveSmallIntegerField(_("grade"), choices=GRADES)
    subject = models.CharField(_("subject"), max_length=100)
    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="classes")
    term_start = models.DateField(_("term starts"))
    term_end = models.DateField(_("term ends"))
    reminder_minutes_before = models.PositiveIntegerField(
        _("reminder (minutes before a lesson)"), default=60,
        help_text=_("When guardians who agreed to SMS get a reminder before each lesson."),
    )

    class Meta:
        ordering = ["school", "grade", "name"]
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        constraints = [
            models.UniqueConstraint(fields=["school", "name", "term_start"], name="class_unique_name_per_term"),
            models.CheckConstraint(condition=Q(grade__gte=1, grade__lte=12), name="class_grade_1_to_12"),
            models.CheckConstraint(condition=Q(term_end__gte=models.F("term_start")), name="class_term_ends_after_start"),
            # At most a week ahead: the reminder must still fit the outbox's lateness rules.
            models.CheckConstraint(condition=Q(reminder_minutes_before__lte=7 * 24 * 60), name="class_reminder_at_most_a_week"),
        ]

    def __str__(self):
        return f"{self.name} – {self.subject}"

    def active_pupils(self):
        return Pupil.objects.filter(enrolments__school_class=self, enrolments__ended_at__isnull=True)

    def holidays(self):
        """Province-wide holidays and the school's own."""
        return Holiday.objects.filter(Q(school__isnull=True) | Q(school_id=self.school_id))

    def is_seen_by(self, user) -> bool:
        """Its teacher and its school's staff see the class page and attendance."""
        if not user.is_authenticated:
            return False
        teacher = getattr(user, "teacher", None)
        if teacher is not None and teacher.pk == self.teacher_id:
            return True
        return self.school.staff.filter(pk=user.pk).exists()


class TimetableEntry(models.Model):
    """A weekly lesson of a class, in local time, from term start to term end."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    school_class = models.ForeignKey(SchoolClass, on_delete=models.CASCADE, related_name="timetable")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("starts at"))
    duration_minutes = models.PositiveSmallIntegerField(_("length (minutes)"), default=45)

    class Meta:
        ordering = ["school_class", "weekday", "start_time"]
        verbose_name = _("timetable entry")
        verbose_name_plural = _("timetable")
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="timetable_weekday"),
            models.CheckConstraint(condition=Q(duration_minutes__gte=5, duration_minutes__lte=300), name="timetable_duration"),
            models.UniqueConstraint(fields=["school_class", "weekday", "start_time"], name="timetable_unique_slot"),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start_time:%H:%M} ({self.duration_minutes}′)"

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


class Holiday(models.Model):
    """Whole days (inclusive) without lessons: of one school, or province-wide."""

    name = models.CharField(_("name"), max_length=200)
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, null=True, blank=True, related_name="holidays",
        help_text=_("Empty: a holiday of every school of the province."),
    )

    class Meta:
        ordering = ["start_date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="holiday_ends_after_start"),
        ]

    def __str__(self):
        return f"{self.name} ({self.start_date:%d/%m}–{self.end_date:%d/%m/%Y})"


def new_room_id() -> str:
    return secrets.token_urlsafe(16)  # 22 URL-safe characters


class LessonQuerySet(models.QuerySet):
    def held(self):
        return self.exclude(status=Lesson.Status.CANCELLED)

    def live(self):
        return self.filter(started_at__isnull=False, ended_at__isnull=True)

    def for_teacher(self, teacher):
        return self.filter(school_class__teacher=teacher)

    def for_pupils(self, pupils):
        """Lessons of classes these pupils are actively enrolled in."""
        return self.filter(
            school_class__enrolments__pupil__in=pupils, school_class__enrolments__ended_at__isnull=True
        ).distinct()


class Lesson(models.Model):
    """One lesson of a class: an occurrence of a timetable entry (maybe moved or
    cancelled), or an extra lesson outside the timetable (entry is null)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    room_id = models.CharField(max_length=32, default=new_room_id, unique=True, editable=False)
    school_class = models.ForeignKey(SchoolClass, on_delete=models.CASCADE, related_name="lessons")
    entry = models.ForeignKey(
        TimetableEntry, on_delete=models.SET_NULL, null=True, blank=True, related_name="lessons",
        help_text=_("Empty for an extra lesson outside the timetable."),
    )
    # The occurrence of the entry this lesson is (the iCalendar RECURRENCE-ID).
    original_start = models.DateTimeField(_("originally at"), null=True, blank=True)
    starts_at = models.DateTimeField(_("start"))
    ends_at = models.DateTimeField(_("end"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    sequence = models.PositiveIntegerField(default=0, help_text=_("Raised on every change (iCalendar SEQUENCE)."))
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LessonQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="lesson_ends_after_start"),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(started_at__isnull=False, ended_at__gte=models.F("started_at")),
                name="lesson_ends_after_it_started",
            ),
            # One lesson per occurrence of a timetable entry: rerunning the term never duplicates.
            models.UniqueConstraint(
                fields=["entry", "original_start"], condition=Q(entry__isnull=False), name="lesson_one_per_occurrence"
            ),
        ]
        indexes = [models.Index(fields=["school_class", "starts_at"])]

    def __str__(self):
        return f"{self.school_class} {timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}"

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    @property
    def is_live(self) -> bool:
        return self.started_at is not None and self.ended_at is None

    @property
    def is_extra(self) -> bool:
        return self.entry_id is None and self.original_start is None

    @property
    def is_moved(self) -> bool:
        return self.original_start is not None and self.starts_at != self.original_start

    def room_url(self) -> str:
        return f"/lessons/{self.room_id}/"

    def room_window(self) -> tuple[datetime, datetime]:
        """Open a little before the start; closed once the teacher ends it, or a while after the end."""
        opens = self.starts_at - timedelta(minutes=settings.LESSON_ROOM_OPENS_MINUTES_BEFORE)
        if self.ended_at is not None:
            return opens, self.ended_at
        return opens, self.ends_at + timedelta(minutes=settings.ROOM_CLOSES_MINUTES_AFTER)

    def is_open_at(self, moment: datetime) -> bool:
        opens, closes = self.room_window()
        return not self.is_cancelled and opens <= moment <= closes

    def role_of(self, user) -> tuple[str, list["Pupil"]] | None:
        """("teacher", []) for the class's teacher; ("pupil", [the pupils the
        account stands for]) for an enrolled pupil's own account or the device
        account of a learning point where enrolled pupils sit; else None."""
        if user is None or not user.is_authenticated:
            return None
        teacher = getattr(user, "teacher", None)
        if teacher is not None and teacher.pk == self.school_class.teacher_id:
            return "teacher", []
        enrolled = self.school_class.active_pupils()
        pupil = getattr(user, "pupil", None)
        if pupil is not None and enrolled.filter(pk=pupil.pk).exists():
            return "pupil", [pupil]
        point = getattr(user, "learning_point", None)
        if point is not None:
            present = list(enrolled.filter(learning_point=point).order_by("full_name"))
            if present:
                return "pupil", present
        return None

    def can_be_changed_by(self, user) -> bool:
        """The class's teacher and its school's staff move, cancel and add lessons."""
        return self.school_class.is_seen_by(user)

    def recordings_visible_to(self, user) -> bool:
        """The teacher, the school's staff and the pupils the account stands for."""
        if not user.is_authenticated:
            return False
        return self.role_of(user) is not None or self.school_class.school.staff.filter(pk=user.pk).exists()


class Pupil(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="pupil",
        help_text=_("Empty for a pupil who only follows lessons at a learning point."),
    )
    full_name = models.CharField(_("full name"), max_length=120)
    grade = models.PositiveSmallIntegerField(_("grade"), choices=GRADES)
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="pupils")
    learning_point = models.ForeignKey(
        LearningPoint, on_delete=models.SET_NULL, null=True, blank=True, related_name="pupils",
        verbose_name=_("learning point"), help_text=_("Where the pupil follows lessons when not at home."),
    )
    guardian_name = models.CharField(_("guardian's name"), max_length=120)
    guardian_phone = models.CharField(_("guardian's phone"), max_length=16, blank=True, validators=[validate_e164])
    sms_consent = models.BooleanField(_("guardian agrees to SMS reminders"), default=False)
    sms_consent_at = models.DateTimeField(_("agreed to SMS on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["full_name"]
        verbose_name = _("pupil")
        verbose_name_plural = _("pupils")
        constraints = [
            # Consent to SMS needs a number to send to, and a record of when it was given.
            models.CheckConstraint(
                condition=Q(sms_consent=False) | (~Q(guardian_phone="") & Q(sms_consent_at__isnull=False)),
                name="pupil_sms_consent_needs_phone",
            ),
            models.CheckConstraint(condition=Q(grade__gte=1, grade__lte=12), name="pupil_grade_1_to_12"),
        ]

    def __str__(self):
        return self.full_name

    def save(self, *args, **kwargs):
        # The consent time follows the consent: set when given, cleared when withdrawn.
        if self.sms_consent and self.sms_consent_at is None:
            self.sms_consent_at = timezone.now()
        elif not self.sms_consent:
            self.sms_consent_at = None
        super().save(*args, **kwargs)

    @property
    def given_name(self) -> str:
        """Vietnamese names end with the given name, the one people are addressed by."""
        return self.full_name.split()[-1] if self.full_name.strip() else ""

    @property
    def wants_sms(self) -> bool:
        return self.sms_consent and bool(self.guardian_phone)


class Enrolment(models.Model):
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="enrolments")
    school_class = models.ForeignKey(SchoolClass, on_delete=models.CASCADE, related_name="enrolments")
    enrolled_at = models.DateTimeField(_("enrolled"), default=timezone.now)
    ended_at = models.DateTimeField(_("left the class"), null=True, blank=True)

    class Meta:
        ordering = ["school_class", "pupil__full_name"]
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.UniqueConstraint(
                fields=["pupil", "school_class"], condition=Q(ended_at__isnull=True), name="enrolment_one_active"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("enrolled_at")), name="enrolment_ends_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.pupil} → {self.school_class}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class AbsenceNotice(models.Model):
    """A guardian said by SMS that a pupil will miss a lesson (a reply "H <ref>"
    to its reminder); a later "C <ref>" takes it back."""

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="absence_notices")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="absence_notices")
    from_number = models.CharField(_("from"), max_length=20)
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["lesson", "pupil__full_name"]
        verbose_name = _("absence notice")
        verbose_name_plural = _("absence notices")
        constraints = [models.UniqueConstraint(fields=["lesson", "pupil"], name="one_absence_notice_per_lesson")]

    def __str__(self):
        return f"{self.pupil} ✗ {self.lesson}"


class Attendance(models.Model):
    """One join of a lesson's room by a pupil; a reconnect makes a new row."""

    class Via(models.TextChoices):
        OWN = "own", _("Own account")
        DEVICE = "device", _("Learning point's device")

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="attendance")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="attendance")
    joined_at = models.DateTimeField(_("joined"))
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    via = models.CharField(_("via"), max_length=6, choices=Via.choices)

    class Meta:
        ordering = ["lesson", "pupil__full_name", "joined_at"]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=models.F("joined_at")), name="attendance_left_after_join"
            ),
        ]
        indexes = [models.Index(fields=["lesson", "pupil"])]

    def __str__(self):
        return f"{self.pupil} @ {self.lesson}"

    @property
    def duration(self) -> timedelta | None:
        return self.left_at - self.joined_at if self.left_at else None


class RecordingQuerySet(models.QuerySet):
    def kept(self):
        return self.filter(deleted_at__isnull=True)


class Recording(models.Model):
    """A lesson's recording; files live under settings.RECORDINGS_DIR."""

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="recordings")
    path = models.CharField(_("file"), max_length=300, help_text=_("Relative to RECORDINGS_DIR."))
    audio_path = models.CharField(_("audio-only file"), max_length=300, blank=True)
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    duration_seconds = models.FloatField(_("length (seconds)"), default=0)
    size_bytes = models.BigIntegerField(_("size (bytes)"), default=0)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    objects = RecordingQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("recording")
        verbose_name_plural = _("recordings")
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")), name="recording_ends_after_start"
            ),
            models.CheckConstraint(condition=~Q(path=""), name="recording_has_a_path"),
        ]

    def __str__(self):
        return f"{self.lesson} ({self.path})"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def file(self, kind: str = "video") -> Path | None:
        """The absolute path of the video or audio file, None if there is none
        or it would lie outside RECORDINGS_DIR (a bad path never serves other files)."""
        relative = self.path if kind == "video" else self.audio_path
        if not relative:
            return None
        root = Path(settings.RECORDINGS_DIR).resolve()
        full = (root / relative).resolve()
        return full if full.is_relative_to(root) else None
