"""Who may enter a room. Signaling knows rooms, not consultations or lessons:
each app registers a RoomKind that recognises its room ids and admits users.

A room is a call (two sides, each receiving the other's media, decoded and
re-encoded; telecare's consultations) or a broadcast (one presenter sending
to an audience, media forwarded without re-encoding; classrooms' lessons)."""

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
    # Which side of the room, in the app's words (they go on the wire): "doctor"
    # or "station" in a call, "teacher" (the presenter) or "pupil" in a broadcast.
    side: str


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
    # The room's media router class (signaling.media.router.PairMediaRouter
    # for calls, signaling.media.broadcast.BroadcastMediaRouter for broadcasts).
    media_router: type
    # A broadcast room also offers state/start/end, records_broadcasts (whether
    # its broadcasts are recorded), still_seconds (how often low-data stills are
    # renewed), recording_path/recorded (signaling.broadcast); a call room may
    # offer recording_side and
    # start_recording/recording_failed/recorded (signaling.call_recording).
    broadcast: bool

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
