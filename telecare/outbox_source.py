"""What booking's outbox worker and the SMS webhooks ask of a consultation
(booking.outbox.Source): whether a message still holds, which consultation a
shared phone's reference names, what a reply does, a failed delivery, and the
help text for replies that say nothing we understand. It calls the actions;
notifications, which the actions call, never call back."""

from django.utils import timezone

from telecare import actions
from telecare.models import Consultation
from telecare.sms_texts import sms_text

HELP_TEXT = ("Tra loi C kem ma 4 so trong tin nhan de xac nhan lich kham, H kem ma de huy (vd: H 1234). "
             "STOP de ngung nhan tin. Can ho tro, xin goi tram y te.")


def is_current(consultation_id: int, version: int) -> bool:
    return Consultation.objects.filter(pk=consultation_id, sequence=version).exists()


def describe(consultation_id: int) -> str:
    """'Hoa 09:00 01/12': which of a shared phone's consultations this is."""
    consultation = Consultation.objects.select_related("patient").filter(pk=consultation_id).first()
    if consultation is None:
        return ""
    local = timezone.localtime(consultation.starts_at)
    return f"{consultation.patient.given_name[:12]} {local:%H:%M %d/%m}"


def on_reply(consultation_id: int, answer: str, number: str) -> str:
    """booking.replies chose this consultation for the phone at `number`: its
    reference was named, or it is the number's only open item."""
    consultation = Consultation.objects.select_related("patient", "station__commune").filter(pk=consultation_id).first()
    if consultation is None or not consultation.is_open or consultation.starts_at <= timezone.now():
        return sms_text("closed", consultation) if consultation else ""
    if answer == "confirm":
        actions.confirm_by_patient(consultation=consultation)
        return sms_text("confirmed", consultation)
    actions.cancel_by_patient(consultation=consultation)
    return ""  # the cancellation notice answers


def on_delivery_failed(consultation_id: int, reminder) -> None:
    Consultation.objects.filter(pk=consultation_id).update(
        follow_up=f"SMS không tới được {reminder.recipient} ({reminder.last_error or reminder.status})"[:200]
    )
