"""Domain errors of lessons and enrolments. The pages turn them into messages
(or 400/403/409 answers); the socket consumer into close codes."""

from django.utils.translation import gettext_lazy as _


class LessonError(Exception):
    status = 400
    code = "invalid"
    default_message = _("This is not possible for this lesson.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


class NotAllowed(LessonError):
    status = 403
    code = "forbidden"
    default_message = _("You may not do this for this class or lesson.")


class NotChangeable(LessonError):
    status = 409
    code = "not_changeable"
    default_message = _("This lesson can no longer be changed: it was cancelled, has started or is over.")


class InPast(LessonError):
    code = "in_past"
    default_message = _("This time has already passed.")


class TeacherBusy(LessonError):
    status = 409
    code = "teacher_busy"
    default_message = _("The teacher already has another lesson at this time.")


class NotOpenYet(LessonError):
    status = 409
    code = "not_open_yet"
    default_message = _("The lesson's room is not open yet.")


class NotStarted(LessonError):
    status = 409
    code = "not_started"
    default_message = _("The lesson has not started.")


class AlreadyEnrolled(LessonError):
    status = 409
    code = "already_enrolled"
    default_message = _("The pupil is already enrolled in this class.")
