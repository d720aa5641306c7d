from django.contrib import admin

from booking.models import CalendarFeed, InboundMessage, Reminder, SmsOptOut


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    """Failures show here (filter by status) and on the consultation's page."""

    list_display = ["due_at", "channel", "purpose", "recipient", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["status", "channel", "purpose"]
    search_fields = ["recipient", "provider_sid"]
    date_hierarchy = "due_at"
    readonly_fields = [f.name for f in Reminder._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ["received_at", "from_number", "body", "action"]
    list_filter = ["action"]
    readonly_fields = [f.name for f in InboundMessage._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(SmsOptOut)
class SmsOptOutAdmin(admin.ModelAdmin):
    list_display = ["number", "at"]
    search_fields = ["number"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["content_type", "object_id", "created_at", "revoked_at"]
    list_filter = ["content_type"]
    readonly_fields = ["token", "content_type", "object_id", "created_at"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected feeds")
    def revoke(self, request, queryset):
        from django.utils import timezone

        queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())

    def has_add_permission(self, request):
        return False
