"""The outbox of messages (SMS reminders, email invites), what the SMS provider
told us about them, the short references that let a reply name what it is
about, replies from phones, opt-outs, and calendar feed tokens."""

import secrets
from datetime import datetime

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.phones import mask_phone


class ReplyReference(models.Model):
    """A short code that a message inviting a reply carries ("H 4821"), so that a
    phone several people share can say which of its open items it answers.

    Open until `open_until` (the event's start) or until closed (cancelled);
    unique among one number's open references, so never reused while open."""

    number = models.CharField(max_length=20)
    code = models.CharField(max_length=4)
    source = models.CharField(max_length=50)
    source_id = models.BigIntegerField()
    open_until = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reply reference")
        verbose_name_plural = _("reply references")
        constraints = [
            models.UniqueConstraint(
                fields=["number", "code"], condition=Q(closed_at__isnull=True), name="reply_code_unique_while_open"),
            models.UniqueConstraint(
                fields=["number", "source", "source_id"], condition=Q(closed_at__isnull=True),
                name="one_open_reference_per_item"),
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{4}$"), name="reply_code_four_digits"),
        ]

    def __str__(self):
        return f"{self.code} ({self.source} #{self.source_id})"

    def is_open(self, now: datetime) -> bool:
        return self.closed_at is None and now < self.open_until


class Reminder(models.Model):
    """One message to send: an SMS reminder or notice, or an email invite.

    Written in the same transaction as the change it is about, sent later by the
    outbox worker (booking.outbox). `source`, `source_id` and `source_version`
    name what it is about (a consultation at a given SEQUENCE) without booking
    knowing what that is; the worker asks the source, right before sending,
    whether the message still holds.
    """

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        UNDELIVERED = "undelivered", _("Not delivered")
        FAILED = "failed", _("Failed")
        WITHDRAWN = "withdrawn", _("Withdrawn (consultation changed)")
        DROPPED = "dropped", _("Dropped (too late to send)")
        OPTED_OUT = "opted_out", _("Not sent (number opted out)")

    OPEN_STATUSES = (Status.PENDING, Status.SENDING)
    # Provider statuses only move forward; a late "sent" never undoes "delivered".
    PROGRESS = {Status.SENT: 1, Status.DELIVERED: 2, Status.UNDELIVERED: 3, Status.FAILED: 3}

    channel = models.CharField(max_length=5, choices=Channel.choices)
    purpose = models.CharField(_("purpose"), max_length=20)
    source = models.CharField(max_length=50)
    source_id = models.BigIntegerField()
    # None: the message holds whatever happens to its source (a reply to a phone).
    source_version = models.IntegerField(null=True, blank=True)
    recipient = models.CharField(_("recipient"), max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    attachment = models.TextField(blank=True, help_text=_("iCalendar text of an email invite"))
    attachment_method = models.CharField(max_length=10, blank=True)
    # The reference a message that invites a reply carries (booking.replies).
    reply_reference = models.ForeignKey(
        ReplyReference, null=True, blank=True, on_delete=models.PROTECT, related_name="messages")

    due_at = models.DateTimeField(_("due"))
    stale_at = models.DateTimeField(_("pointless after"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    # Set when an attempt may have reached the provider without us learning the
    # answer (time-out, crash): the next attempt asks the provider first.
    needs_reconcile = models.BooleanField(default=False)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    provider_sid = models.CharField(max_length=64, null=True, blank=True, unique=True)
    provider_status = models.CharField(max_length=20, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["source", "source_id"]),
            models.Index(fields=["recipient", "sent_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(stale_at__gte=models.F("due_at")), name="reminder_stale_after_due"),
        ]

    def __str__(self):
        return f"{self.channel} {self.purpose} → {self.recipient_masked} ({self.status})"

    @property
    def recipient_masked(self) -> str:
        """As names and admin pages show it: never a patient's or guardian's whole
        number (the emails are the staff's own)."""
        return mask_phone(self.recipient) if self.channel == self.Channel.SMS else self.recipient

    def is_stale(self, now: datetime) -> bool:
        return now >= self.stale_at


class SmsStatusReport(models.Model):
    """A status callback from the provider, kept so that reports arriving before
    the worker recorded the message id, twice, or out of order all count once."""

    provider_sid = models.CharField(max_length=64)
    status = models.CharField(max_length=20)
    error_code = models.CharField(max_length=10, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider_sid", "status"], name="one_report_per_status")]


class InboundMessage(models.Model):
    """A reply from a phone; the provider's MessageSid makes handling it idempotent."""

    provider_sid = models.CharField(max_length=64, unique=True)
    from_number = models.CharField(max_length=20)
    body = models.TextField()
    action = models.CharField(max_length=20, blank=True)
    reminder = models.ForeignKey(Reminder, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies")
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("SMS reply")
        verbose_name_plural = _("SMS replies")

    def __str__(self):
        return mask_phone(self.from_number)  # the body may name the patient


class SmsOptOut(models.Model):
    number = models.CharField(max_length=20, unique=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("SMS opt-out")
        verbose_name_plural = _("SMS opt-outs")

    def __str__(self):
        return mask_phone(self.number)


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class CalendarFeed(models.Model):
    """A private, revocable address of one owner's calendar (a doctor, a station,
    a patient, a class...), readable without logging in."""

    token = models.CharField(max_length=64, unique=True, default=new_feed_token, editable=False)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    owner = GenericForeignKey("content_type", "object_id")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self):
        return f"{self.content_type.model} #{self.object_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
