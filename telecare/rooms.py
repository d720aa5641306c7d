"""Consultation rooms for signaling: only the consultation's doctor and its
station's staff, only inside the room's window, never for a cancelled one.
The doctor records the call with the patient's consent (signaling.call_recording)."""

import secrets
from datetime import UTC, datetime
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _

from signaling.media.router import PairMediaRouter
from signaling.messages import ProtocolError
from signaling.rooms import NO_SUCH_ROOM, REFUSED, Admission, Participant
from telecare import actions, audit
from telecare.errors import BookingError, NotAllowed
from telecare.models import AuditEntry, Consultation, ConsultationRecording, person_name


class ConsultationRooms:
    media_router = PairMediaRouter
    broadcast = False
    recording_side = "doctor"  # who starts and stops recording the call

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
        audit.append(AuditEntry(
            actor=user, actor_username=user.get_username(), action=AuditEntry.Action.JOIN_ROOM,
            patient_id=consultation.patient_id, consultation=consultation, ip_address=ip_address,
            path=f"/ws/rooms/{room_id}/",
        ))

    def left(self, room_id: str, user, visit, at) -> None:
        pass

    def start_recording(self, room_id: str, user) -> tuple[int, Path]:
        """A new recording of the call, if the patient consented: its id and the file to write."""
        consultation = Consultation.objects.get(room_id=room_id)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        path = f"consultations/{consultation.pk}/{stamp}-{secrets.token_hex(3)}.webm"
        try:
            recording = actions.start_recording(consultation=consultation, by=user, path=path)
        except NotAllowed as error:
            raise ProtocolError("doctor_only", str(error.message)) from None
        except BookingError as error:  # no_consent; not_changeable once the consultation is over
            raise ProtocolError(error.code, str(error.message)) from None
        return recording.pk, recording.file()

    def recorded(self, room_id: str, recording_id: int, info, stopped_by) -> None:
        """The file is complete; stopped_by is None when the call ended or the doctor left."""
        actions.finish_recording(
            recording=ConsultationRecording.objects.select_related("consultation").get(pk=recording_id),
            ended_at=datetime.fromtimestamp(info.ended_at, UTC), duration_seconds=info.duration_seconds,
            size_bytes=info.size_bytes, stopped_by=stopped_by,
        )

    def recording_failed(self, room_id: str, recording_id: int, user) -> None:
        """The file could not be opened: the recording ends at once, empty."""
        actions.finish_recording(
            recording=ConsultationRecording.objects.select_related("consultation").get(pk=recording_id),
            ended_at=timezone.now(), duration_seconds=0, size_bytes=0, stopped_by=user,
        )
