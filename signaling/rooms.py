"""Who may enter a room. Signaling knows rooms, not consultations or lessons:
each app registers a RoomKind that recognises its room ids and admits users."""

from dataclasses import dataclass
from typing import Protocol

from django.utils.translation import gettext as _

# Application close codes the page understands (docs/signaling.md).
NOT_LOGGED_IN = 4401
REFUSED = 4403
NO_SUCH_ROOM = 4404
TOO_MANY_MESSAGES = 4429


@dataclass(frozen=True)
class Participant:
    name: str
    side: str  # which side of the room: "doctor" or "station"; later "teacher" or "pupil"


@dataclass(frozen=True)
class Admission:
    participant: Participant | None = None
    close_code: int = REFUSED
    code: str = ""
    message: str = ""

    @property
    def allowed(self) -> bool:
        return self.participant is not None


class RoomKind(Protocol):
    # The room's media router class (signaling.media.router.RoomMediaRouter
    # for consultations, signaling.media.lesson.LessonMediaRouter for lessons).
    media_router: type
    # Lesson rooms also offer start/end/state/recorded (signaling.lessons.LessonKind).
    lessons: bool

    def admit(self, room_id: str, user) -> Admission | None:
        """None when the room id is not one of this kind's."""

    def joined(self, room_id: str, user, ip_address: str | None):
        """Record the join (audit log, attendance); what it answers goes back to left()."""

    def left(self, room_id: str, user, visit, at) -> None:
        """Record the leave (at that time)."""


_kinds: list[RoomKind] = []


def register_room_kind(kind: RoomKind) -> None:
    _kinds.append(kind)


def admit(room_id: str, user) -> tuple[Admission, RoomKind | None]:
    for kind in _kinds:
        admission = kind.admit(room_id, user)
        if admission is not None:
            return admission, kind
    return Admission(close_code=NO_SUCH_ROOM, code="no_room", message=str(_("There is no such room."))), None
