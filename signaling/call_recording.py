"""Recording a call, on the room socket. A call room pairs two sides and the
server decodes and re-encodes what each sends the other (telecare's
consultation rooms are calls: the doctor and the station; docs/signaling.md,
"Recording a consultation"). The controlling side's `record` message, and
`recording` to both sides. Mixed into RoomConsumer; the room kind
(telecare.rooms.ConsultationRooms) holds the rules (who, the consent) and the
records, signaling.media.call_recorder writes the file.

The recorder lives with the room's media router, so it outlives the socket
that started it: it stops when the controlling side says so, when nobody of
that side is left in the room, or when the call ends; the file is kept in every
case."""

import logging

import av
from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from signaling import messages
from signaling.media import router as media
from signaling.media.call_recorder import CallRecorder
from signaling.messages import ProtocolError

log = logging.getLogger(__name__)


class CallRecordingMessages:
    """The recording messages of RoomConsumer, for call rooms whose kind has a `recording_side`."""

    def recording_joined_extras(self) -> dict:
        """What a newcomer's "joined" says about a recording that runs."""
        if self.kind.broadcast:
            return {}  # broadcasts say it in "lesson" (signaling.broadcast)
        recorder = getattr(media.routers.get(self.room_id), "recorder", None)
        return {"recording": {"on": recorder is not None, "by": recorder.started_by if recorder else None}}

    # From the browser.
    async def on_record(self, message):
        self.require_joined()
        side = getattr(self.kind, "recording_side", None)
        if side is None:
            raise ProtocolError("unknown_type", "lessons are recorded from 'start' to 'end'")
        if self.admission.participant.side != side:
            raise ProtocolError(f"{side}_only", str(_("Only the doctor can record the call.")))
        router = self.room_router()
        async with router.recording_lock:
            if message.on:
                await self.start_recording(router)
            else:
                await self.stop_recording(router)

    async def start_recording(self, router):
        if router.recorder is not None:  # already running (started from another tab of this side)
            await self.send(messages.dump("recording", on=True, by=router.recorder.started_by))
            return
        user = self.scope["user"]
        # Refused without consent (no_consent): nothing is written.
        recording_id, path = await database_sync_to_async(self.kind.start_recording)(self.room_id, user)
        try:
            recorder = CallRecorder(router, path, on_finished=self.when_recorded(recording_id))
        except (OSError, av.FFmpegError):
            log.exception("cannot record room %s into %s", self.room_id, path)
            await database_sync_to_async(self.kind.recording_failed)(self.room_id, recording_id, user)
            raise ProtocolError("recording_failed", str(_("The recording could not start."))) from None
        recorder.started_by = self.participant_id
        await router.start_recording(recorder)
        await self.channel_layer.group_send(self.group, {"type": "signal.recording", "on": True, "by": self.participant_id})

    async def stop_recording(self, router):
        if router.recorder is None:
            await self.send(messages.dump("recording", on=False, by=None))
            return
        await router.stop_recording(by=(self.scope["user"], self.participant_id))

    def when_recorded(self, recording_id: int):
        """What a finished file does, as a coroutine function that outlives this
        consumer (the router may stop the recorder after its starter left)."""
        layer, group, room_id, kind = self.channel_layer, self.group, self.room_id, self.kind

        async def recorded(info, by):
            user, participant_id = by or (None, None)
            await database_sync_to_async(kind.recorded)(room_id, recording_id, info, user)
            await layer.group_send(group, {"type": "signal.recording", "on": False, "by": participant_id})

        return recorded

    # From the room, through the channel layer.
    async def signal_recording(self, event):
        await self.send(messages.dump("recording", on=event["on"], by=event["by"]))
