"""What the provider reports about sent messages, applied in any order.

Reports are stored first, then folded into the message: so a report that
arrives before the worker recorded the message id, arrives twice, or arrives
after a later one, can never move a status backwards or be lost.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from booking.models import Reminder, SmsStatusReport
from booking.outbox import source_for

# Twilio's statuses, by how far along a message is.
PROVIDER_PROGRESS = {
    "accepted": 0, "scheduled": 0, "queued": 0, "sending": 0,
    "sent": 1, "delivered": 2, "read": 2, "undelivered": 3, "failed": 3, "canceled": 3,
}
OUR_STATUS = {1: Reminder.Status.SENT, 2: Reminder.Status.DELIVERED}
FAILED_STATUSES = {"undelivered": Reminder.Status.UNDELIVERED, "failed": Reminder.Status.UNDELIVERED,
                   "canceled": Reminder.Status.UNDELIVERED}


def record_status_report(*, sid: str, status: str, error_code: str = "") -> None:
    try:
        with transaction.atomic():
            SmsStatusReport.objects.create(provider_sid=sid, status=status, error_code=error_code)
    except IntegrityError:
        pass  # the same report again
    apply_status_reports(sid)


def apply_status_reports(sid: str) -> None:
    """Move the message to the furthest status reported for it; tell its source
    when this marks it undelivered."""
    reports = list(SmsStatusReport.objects.filter(provider_sid=sid))
    if not reports:
        return
    best = max(reports, key=lambda r: PROVIDER_PROGRESS.get(r.status, 0))
    progress = PROVIDER_PROGRESS.get(best.status, 0)
    if progress == 0:
        return
    new_status = FAILED_STATUSES.get(best.status) or OUR_STATUS[progress]
    # Only from a status of lower progress: repeated or late reports change nothing.
    lower = [s for s, p in Reminder.PROGRESS.items() if p < Reminder.PROGRESS[new_status]]
    error = f"provider error {best.error_code}" if best.error_code else ""
    updated = Reminder.objects.filter(provider_sid=sid, status__in=lower).update(
        status=new_status, provider_status=best.status, updated_at=timezone.now(),
        **({"last_error": error} if error else {}),
    )
    if updated and new_status == Reminder.Status.UNDELIVERED:
        reminder = Reminder.objects.get(provider_sid=sid)
        source = source_for(reminder.source)
        if source is not None:
            source.on_delivery_failed(reminder.source_id, reminder)
