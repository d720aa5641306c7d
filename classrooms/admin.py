"""The district's admin for remote lessons: schools and their staff, learning
points, teachers, classes with their timetable, holidays, pupils, enrolments,
and lessons with their attendance and recordings (read-mostly)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from booking.phone_admin import WholeNumberSearch, masked_phone
from classrooms.models import (
    Attendance, Enrolment, Holiday, LearningPoint, Lesson, Pupil, Recording, School, SchoolClass, Teacher, TimetableEntry,
)


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["name", "commune"]
    search_fields = ["name"]
    filter_horizontal = ["staff"]


@admin.register(LearningPoint)
class LearningPointAdmin(admin.ModelAdmin):
    list_display = ["name", "commune", "kind", "device_user"]
    list_filter = ["kind"]
    search_fields = ["name"]
    autocomplete_fields = ["device_user"]


@admin.register(Teacher)
class TeacherAdmin(admin.ModelAdmin):
    list_display = ["__str__", "school", "phone", "email"]
    list_select_related = ["user", "school"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]


class TimetableInline(admin.TabularInline):
    model = TimetableEntry
    extra = 1


class EnrolmentInline(admin.TabularInline):
    model = Enrolment
    extra = 0
    autocomplete_fields = ["pupil"]


@admin.register(SchoolClass)
class SchoolClassAdmin(admin.ModelAdmin):
    list_display = ["name", "subject", "grade", "school", "teacher", "term_start", "term_end"]
    list_filter = ["school", "grade"]
    list_select_related = ["school", "teacher__user"]
    search_fields = ["name", "subject"]
    inlines = [TimetableInline, EnrolmentInline]
    actions = ["schedule"]

    @admin.action(description=_("Schedule the term's lessons from the timetable"))
    def schedule(self, request, queryset):
        from classrooms import actions

        for school_class in queryset:
            actions.schedule_term(school_class=school_class)


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["name", "start_date", "end_date", "school"]
    list_filter = ["school"]


@admin.register(Pupil)
class PupilAdmin(WholeNumberSearch, admin.ModelAdmin):
    """The district enters pupils, so a pupil's own page has the guardian's number
    to edit; lists show it masked, and it is found only whole."""

    list_display = ["full_name", "grade", "commune", "learning_point", "guardian_name", "guardian_phone_masked", "sms_consent"]
    list_filter = ["commune", "grade", "sms_consent"]
    search_fields = ["full_name", "guardian_name", "=guardian_phone"]
    phone_search_fields = ("guardian_phone",)
    guardian_phone_masked = masked_phone("guardian_phone", _("guardian's phone"))
    autocomplete_fields = ["user"]
    readonly_fields = ["sms_consent_at"]


class AttendanceInline(admin.TabularInline):
    model = Attendance
    extra = 0
    readonly_fields = ["pupil", "joined_at", "left_at", "via"]
    can_delete = False


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    """Moving and cancelling go through the class page, which tells guardians."""

    list_display = ["__str__", "status", "starts_at", "started_at", "ended_at"]
    list_filter = ["status", "school_class__school"]
    list_select_related = ["school_class"]
    readonly_fields = [f.name for f in Lesson._meta.fields if f.name != "id"]
    inlines = [AttendanceInline]


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = ["lesson", "started_at", "duration_seconds", "size_bytes", "deleted_at"]
    list_filter = ["deleted_at"]
    readonly_fields = ["lesson", "path", "audio_path", "started_at", "ended_at", "duration_seconds", "size_bytes", "deleted_at"]
