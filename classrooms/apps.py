from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClassroomsConfig(AppConfig):
    name = "classrooms"
    verbose_name = _("Remote lessons")

    def ready(self):
        from booking import feeds, outbox
        from classrooms import notifications, replies
        from classrooms.models import Pupil, SchoolClass, Teacher
        from classrooms.rooms import LessonRooms
        from signaling.rooms import register_room_kind

        register_room_kind(LessonRooms())

        outbox.register_source(notifications.SOURCE, outbox.Source(
            is_current=notifications.is_current, on_reply=replies.on_reply, describe=notifications.describe,
            help_text=replies.HELP_TEXT,
        ))
        feeds.register_owner(SchoolClass, events=notifications.class_events, name=lambda c: f"Lịch học – {c.name} {c.subject}")
        feeds.register_owner(Teacher, events=notifications.teacher_events, name=lambda t: f"Lịch dạy – {t.name}")
        feeds.register_owner(Pupil, events=notifications.pupil_events, name=lambda p: f"Lịch học – {p.full_name}")
