"""Lesson rooms for signaling: the class's teacher, its enrolled pupils and
the device of a learning point where enrolled pupils sit; only inside the
lesson's window, never for a cancelled or ended lesson. Joins and leaves are
the attendance; the recording of a lesson is stored here."""

from datetime import datetime, timezone as dt_timezone
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from classrooms import actions
from classrooms.errors import LessonError
from classrooms.models import Attendance, Lesson, Recording, person_name
from signaling.media.broadcast import BroadcastMediaRouter
from signaling.messages import ProtocolError
from signaling.rooms import NO_SUCH_ROOM, REFUSED, Admission, Participant


def _lesson(room_id: str) -> Lesson | None:
    return Lesson.objects.select_related("school_class__teacher__user", "school_class__school").filter(room_id=room_id).first()


class LessonRooms:
    media_router = BroadcastMediaRouter
    broadcast = True

    # The deployment's choices for lessons (README, Configuration), read when a room's media starts.
    def records_broadcasts(self) -> bool:
        return settings.LESSON_RECORDING

    def still_seconds(self) -> int:
        return settings.LESSON_STILL_SECONDS

    def admit(self, room_id: str, user) -> Admission | None:
        lesson = _lesson(room_id)
        if lesson is None:
            return None
        if lesson.is_cancelled:
            return Admission(close_code=NO_SUCH_ROOM, code="cancelled", message=_("This lesson was cancelled."))
        role = lesson.role_of(user)
        if role is None:
            return Admission(close_code=REFUSED, code="not_enrolled", message=_("You are not in this class."))
        opens, closes = lesson.room_window()
        now = timezone.now()
        if now < opens:
            return Admission(close_code=REFUSED, code="not_open_yet", message=_("The lesson room opens at %(time)s.") % {
                "time": timezone.localtime(opens).strftime("%H:%M %d/%m")})
        if now > closes or lesson.ended_at is not None:
            return Admission(close_code=REFUSED, code="closed", message=_("This lesson is over."))
        side, pupils = role
        if side == "teacher":
            name = person_name(user)
        elif len(pupils) == 1 and getattr(user, "learning_point", None) is None:
            name = pupils[0].full_name
        else:  # a learning point's device, for the pupils sitting there
            name = _("%(place)s (%(count)d pupils)") % {"place": user.learning_point.name, "count": len(pupils)}
        return Admission(participant=Participant(name=name, side=side))

    def joined(self, room_id: str, user, ip_address: str | None) -> list[int]:
        lesson = _lesson(room_id)
        role = lesson.role_of(user) if lesson is not None else None
        if role is None or role[0] != "pupil":
            return []
        via = Attendance.Via.DEVICE if getattr(user, "learning_point", None) is not None else Attendance.Via.OWN
        return actions.mark_joined(lesson=lesson, pupils=role[1], via=via)

    def left(self, room_id: str, user, visit, at) -> None:
        if visit:
            actions.mark_left(attendance_ids=visit, now=at)

    def state(self, room_id: str) -> str:
        lesson = _lesson(room_id)
        if lesson is None or lesson.ended_at is not None:
            return "ended"
        return "live" if lesson.started_at is not None else "waiting"

    def start(self, room_id: str, user) -> None:
        try:
            actions.start_lesson(lesson=_lesson(room_id), user=user)
        except LessonError as error:
            raise ProtocolError(error.code, str(error.message)) from None

    def end(self, room_id: str, user) -> None:
        try:
            actions.end_lesson(lesson=_lesson(room_id), user=user)
        except LessonError as error:
            raise ProtocolError(error.code, str(error.message)) from None

    def recording_path(self, room_id: str) -> Path:
        lesson = _lesson(room_id)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        return Path(settings.RECORDINGS_DIR) / f"class-{lesson.school_class_id}" / f"lesson-{lesson.pk}-{stamp}.webm"

    def recorded(self, room_id: str, info) -> Recording:
        """The recorder finished: the file becomes the lesson's recording."""
        root = Path(settings.RECORDINGS_DIR).resolve()
        return Recording.objects.create(
            lesson=_lesson(room_id),
            path=str(info.path.resolve().relative_to(root)),
            audio_path=str(info.audio_path.resolve().relative_to(root)) if info.audio_path else "",
            started_at=datetime.fromtimestamp(info.started_at, dt_timezone.utc),
            ended_at=datetime.fromtimestamp(info.ended_at, dt_timezone.utc),
            duration_seconds=info.duration_seconds,
            size_bytes=info.size_bytes,
        )
