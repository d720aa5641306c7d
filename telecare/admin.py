"""The district manager's admin: hospitals, stations, doctors, accounts, and the
read-only audit log. Patients and consultations are not here on purpose: only
their station and their doctors see them."""

from django.contrib import admin

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
    list_display = ["at", "actor_username", "action", "patient_id", "consultation_id", "ip_address", "path"]
    list_filter = ["action"]
    search_fields = ["actor_username", "=patient__id"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
