"""What a guardian's SMS reply does to a lesson, once booking.replies has
decided which lesson it is about (its reference, or the number's only open
item): "H" reports the number's pupils in that class absent, "C" takes it back."""

from django.utils import timezone

from classrooms import actions, notifications
from classrooms.models import Lesson

# A guardian's answer to a reply we do not understand (booking.replies), not the clinic's.
HELP_TEXT = ("Neu con nghi hoc, tra loi H kem ma 4 so trong tin nhan (vd: H 1234); C kem ma de rut lai. "
             "STOP de ngung nhan tin. Can ho tro, xin lien he nha truong.")


def on_reply(lesson_id: int, answer: str, number: str) -> str:
    lesson = Lesson.objects.select_related("school_class__school").filter(pk=lesson_id).first()
    if lesson is None:
        return ""
    if lesson.is_cancelled or lesson.started_at is not None or lesson.starts_at <= timezone.now():
        return notifications.sms_text("closed", lesson)
    pupils = notifications.guardians(lesson.school_class).get(number, [])
    if not pupils:  # the pupil left the class, or the guardian's number changed since
        return notifications.sms_text("closed", lesson)
    if answer == "cancel":
        actions.report_absence(lesson=lesson, pupils=pupils, number=number)
        ref = notifications.reference_for(lesson, number).code
        return notifications.sms_text("absent", lesson, pupils, ref=ref)
    actions.withdraw_absence(lesson=lesson, pupils=pupils)
    return notifications.sms_text("coming", lesson, pupils)
