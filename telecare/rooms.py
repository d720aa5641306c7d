"""Consultation rooms for signaling: only the consultation's doctor and its
station's staff, only inside the room's window, never for a cancelled one."""

from django.utils import timezone
from django.utils.translation import gettext as _

from signaling.media.router import RoomMediaRouter
from signaling.rooms import NO_SUCH_ROOM, REFUSED, Admission, Participant
from telecare.models import AuditEntry, Consultation, person_name


class ConsultationRooms:
    media_router = RoomMediaRouter
    lessons = False

    def admit(self, room_id: str, user) -> Admission | None:
        consultation = Consultation.objects.select_related("station").filter(room_id=room_id).first()
        if consultation is None:
            return None
        if consultation.status == Consultation.Status.CANCELLED:
            return Admission(close_code=NO_SUCH_ROOM, code="cancelled", message=_("This consultation was cancelled."))
        side = consultation.side_of(user)
        if side is None:
            return Admission(close_code=REFUSED, code="not_participant", message=_("You are not part of this consultation."))
        opens, closes = consultation.room_window()
        now = timezone.now()
        if now < opens:
            return Admission(close_code=REFUSED, code="not_open_yet", message=_("The room opens at %(time)s.") % {
                "time": timezone.localtime(opens).strftime("%H:%M %d/%m")})
        if now > closes or not consultation.is_open:
            return Admission(close_code=REFUSED, code="closed", message=_("This consultation's room is closed."))
        name = person_name(user) if side == "doctor" else consultation.station.name
        return Admission(participant=Participant(name=name, side=side))

    def joined(self, room_id: str, user, ip_address: str | None) -> None:
        consultation = Consultation.objects.get(room_id=room_id)
        AuditEntry.objects.create(
            actor=user, actor_username=user.get_username(), action=AuditEntry.Action.JOIN_ROOM,
            patient_id=consultation.patient_id, consultation=consultation, ip_address=ip_address,
            path=f"/ws/rooms/{room_id}/",
        )

    def left(self, room_id: str, user, visit, at) -> None:
        pass
