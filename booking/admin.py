"""The district manager sees whether messages went out, replies and opt-outs, and
which calendar feeds exist; not who the patients and guardians are: numbers are
masked, message texts (which name the patient) and feed tokens never shown."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import CalendarFeed, InboundMessage, Reminder, SmsOptOut
from booking.phone_admin import WholeNumberSearch, masked_phone
from config.log_redaction import redact


@admin.register(Reminder)
class ReminderAdmin(WholeNumberSearch, admin.ModelAdmin):
    """Failures show here (filter by status) and on the consultation's page."""

    list_display = ["due_at", "channel", "purpose", "source", "source_id", "recipient_masked", "status", "attempts",
                    "sent_at", "error"]
    list_filter = ["status", "channel", "purpose"]
    search_fields = ["=recipient", "=provider_sid"]
    phone_search_fields = ("recipient",)
    date_hierarchy = "due_at"
    # Not subject, body, attachment: they carry the patient's or pupil's name.
    fields = readonly_fields = [
        "channel", "purpose", "source", "source_id", "source_version", "recipient_masked", "status", "attempts",
        "due_at", "stale_at", "next_attempt_at", "first_attempt_at", "sent_at", "provider_sid", "provider_status",
        "needs_reconcile", "claimed_by", "claimed_at", "error", "created_at", "updated_at",
    ]

    @admin.display(description=_("recipient"), ordering="recipient")
    def recipient_masked(self, reminder):
        return reminder.recipient_masked

    @admin.display(description=_("last error"))
    def error(self, reminder):
        # A provider's error may quote the number.
        return redact(reminder.last_error)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ["received_at", "from_masked", "action"]
    list_filter = ["action"]
    # Not the body: people sign their replies.
    fields = readonly_fields = ["provider_sid", "from_masked", "action", "reminder", "received_at"]
    from_masked = masked_phone("from_number", _("from"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SmsOptOut)
class SmsOptOutAdmin(WholeNumberSearch, admin.ModelAdmin):
    """An opt-out can be added by hand (a patient asked the station); once stored,
    its number shows masked."""

    list_display = ["number_masked", "at"]
    search_fields = ["=number"]
    phone_search_fields = ("number",)
    number_masked = masked_phone("number", _("number"))

    def get_fields(self, request, obj=None):
        return ["number", "at"] if obj is None else ["number_masked", "at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["number_masked", "at"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Which feeds exist and who owns them; the token, which is the feed's whole
    secret, is shown only to its owner on their page."""

    list_display = ["content_type", "object_id", "created_at", "revoked_at"]
    list_filter = ["content_type"]
    fields = ["content_type", "object_id", "created_at", "revoked_at"]
    readonly_fields = ["content_type", "object_id", "created_at"]
    actions = ["revoke"]

    @admin.action(description=_("Revoke the selected feeds"))
    def revoke(self, request, queryset):
        queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())

    def has_add_permission(self, request):
        return False
