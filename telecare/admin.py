"""The district manager's admin: hospitals, stations, doctors, accounts, and the
read-only audit log. Patients and consultations are not here on purpose: only
their station and their doctors see them."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from config.log_redaction import redact
from telecare.models import AuditEntry, Doctor, HealthStation, Hospital, Leave, StationStaff, WeeklyAvailability


@admin.register(Hospital)
class HospitalAdmin(admin.ModelAdmin):
    list_display = ["name", "district", "phone"]
    list_filter = ["district__province"]
    search_fields = ["name"]


@admin.register(HealthStation)
class HealthStationAdmin(admin.ModelAdmin):
    list_display = ["name", "commune", "hospital", "phone"]
    list_select_related = ["commune__district", "hospital"]
    search_fields = ["name", "commune__name"]


@admin.register(StationStaff)
class StationStaffAdmin(admin.ModelAdmin):
    list_display = ["user", "station", "role"]
    list_filter = ["station", "role"]
    list_select_related = ["user", "station"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]


class AvailabilityInline(admin.TabularInline):
    model = WeeklyAvailability
    extra = 1


class LeaveInline(admin.TabularInline):
    model = Leave
    extra = 0


@admin.register(Doctor)
class DoctorAdmin(admin.ModelAdmin):
    list_display = ["name", "specialty", "hospital", "is_active"]
    list_filter = ["hospital", "is_active"]
    list_select_related = ["user", "hospital"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "specialty"]
    autocomplete_fields = ["user"]
    inlines = [AvailabilityInline, LeaveInline]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Who looked at which record, by the record's number: a patient's name (and
    a consultation's, which names its patient) stays with the station and doctors."""

    list_display = ["at", "actor_username", "action", "patient_id", "consultation_id", "ip_address", "page"]
    list_filter = ["action"]
    search_fields = ["actor_username", "=patient__id"]
    date_hierarchy = "at"
    exclude = ["patient", "consultation", "path"]
    readonly_fields = ["patient_number", "consultation_number", "page"]

    @admin.display(description=_("patient"))
    def patient_number(self, entry):
        return f"#{entry.patient_id}"

    @admin.display(description=_("consultation"))
    def consultation_number(self, entry):
        return f"#{entry.consultation_id}" if entry.consultation_id else "—"

    @admin.display(description=_("page or endpoint"))
    def page(self, entry):
        # A search's address holds what was searched for: a name or a phone number.
        return redact(entry.path)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
