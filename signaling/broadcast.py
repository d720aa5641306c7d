"""The broadcast half of the room socket. A broadcast room has one presenter,
who sends to an audience; one audience member at a time may hold the floor
(classrooms' lesson rooms are broadcasts: the teacher presents to the pupils;
docs/signaling.md, "Lesson rooms"). Start and end, hands, the floor, muting,
chat, low-data stills, recording. Mixed into RoomConsumer; the room kind
(classrooms.rooms.LessonRooms) holds the rules and the records, the media
router (signaling.media.broadcast) the media.

Hands, chat and the broadcast's state travel through the channel layer like
presence; the floor and the recording live with the room's media router."""

import asyncio
import base64
from datetime import UTC, datetime
from functools import partial

from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from signaling import messages
from signaling.ice import server_ice_servers
from signaling.media import router as media
from signaling.media.broadcast import AUDIENCE, PRESENTER
from signaling.media.recording import BroadcastRecorder
from signaling.messages import ProtocolError
from signaling.rooms import REFUSED


class BroadcastMessages:
    """The broadcast messages of RoomConsumer, for rooms whose kind says `broadcast`."""

    broadcast_state = "waiting"
    hand_raised = False
    _stills_task: asyncio.Task | None = None

    # Checks.
    def require_broadcast(self, side: str | None = None, *, live: bool = False):
        """A broadcast room's message, from that side (PRESENTER or AUDIENCE) if
        given, and once the broadcast is live if asked."""
        self.require_joined()
        if not self.kind.broadcast:
            raise ProtocolError("unknown_type", "this message is for lesson rooms")
        if side is not None and self.admission.participant.side != side:
            raise ProtocolError(f"{side}_only", str(_("Only the teacher can do this.") if side == PRESENTER else _("Only pupils can do this.")))
        if live and self.broadcast_state != "live":
            raise ProtocolError("not_live", str(_("The lesson has not started.")))

    def require_audience_member_here(self, participant_id: str | None):
        """None (nobody), or a member of the audience who is in the room."""
        if participant_id is not None and self.others.get(participant_id, {}).get("side") != AUDIENCE:
            raise ProtocolError("no_such_participant", str(_("That pupil is not in the lesson.")))

    def room_router(self):
        """This room's media router, made on first use with the kind's router class."""
        factory = self.kind.media_router
        if self.kind.broadcast:
            factory = partial(factory, still_seconds=self.kind.still_seconds())
        return media.router_for(self.room_id, ice_servers=server_ice_servers, factory=factory)

    async def broadcast_joined_extras(self) -> dict:
        """What a newcomer's "joined" says about the broadcast (its "lesson" field)."""
        if not self.kind.broadcast:
            return {}
        self.broadcast_state = await database_sync_to_async(self.kind.state)(self.room_id)
        router = media.routers.get(self.room_id)
        hands = [o["id"] for o in self.others.values() if o.get("hand")]
        return {"lesson": {
            "state": self.broadcast_state, "floor": getattr(router, "floor", None), "hands": hands,
            "recording": getattr(router, "recorder", None) is not None,
        }}

    # From the browser.
    async def on_start(self, message):
        self.require_broadcast(PRESENTER)
        await database_sync_to_async(self.kind.start)(self.room_id, self.scope["user"])
        router = self.room_router()
        if self.kind.records_broadcasts() and router.recorder is None:
            path = await database_sync_to_async(self.kind.recording_path)(self.room_id)
            kind, room_id = self.kind, self.room_id
            await router.start_recording(BroadcastRecorder(
                router, path, on_finished=lambda info: database_sync_to_async(kind.recorded)(room_id, info)))
        await self.channel_layer.group_send(self.group, {
            "type": "signal.broadcast_state", "state": "live", "recording": router.recorder is not None})

    async def on_end(self, message):
        self.require_broadcast(PRESENTER)
        await database_sync_to_async(self.kind.end)(self.room_id, self.scope["user"])
        router = media.routers.get(self.room_id)
        if router is not None:
            await router.stop_recording()
        await self.channel_layer.group_send(self.group, {"type": "signal.broadcast_ended"})

    async def on_hand(self, message):
        self.require_broadcast(AUDIENCE, live=True)
        self.hand_raised = message.raised
        await self.channel_layer.group_send(self.group, {"type": "signal.hand", "id": self.participant_id, "raised": message.raised})

    async def on_floor(self, message):
        self.require_broadcast(PRESENTER, live=True)
        self.require_audience_member_here(message.id)
        self.room_router().give_floor(message.id)
        await self.channel_layer.group_send(self.group, {"type": "signal.floor", "id": message.id})

    async def on_mute(self, message):
        self.require_broadcast(PRESENTER)
        self.require_audience_member_here(message.id)
        router = self.room_router()
        had_floor = router.floor == message.id
        router.mute(message.id)
        await self.channel_layer.send(self.others[message.id]["channel"], {"type": "signal.muted"})
        if had_floor:
            await self.channel_layer.group_send(self.group, {"type": "signal.floor", "id": None})

    async def on_chat(self, message):
        self.require_broadcast()
        await self.channel_layer.group_send(self.group, {
            "type": "signal.chat", "id": self.participant_id, "name": self.admission.participant.name,
            "text": message.text, "at": datetime.now(UTC).isoformat(timespec="seconds"),
        })

    def low_data_changed(self, low_data: bool):
        if low_data and self._stills_task is None:
            self._stills_task = self.spawn(self.send_stills())
        elif not low_data:
            self.stop_stills()

    def stop_stills(self):
        if self._stills_task is not None:
            self._stills_task.cancel()
            self._stills_task = None

    async def send_stills(self):
        """The room's latest still picture, whenever it is renewed."""
        sent_at = None
        while True:
            router = media.routers.get(self.room_id)
            stills = getattr(router, "stills", None)
            if stills is not None and stills.jpeg is not None and stills.taken_at != sent_at:
                sent_at = stills.taken_at
                await self.send(messages.dump("still", jpeg=base64.b64encode(stills.jpeg).decode(),
                                              at=datetime.now(UTC).isoformat(timespec="seconds")))
            await asyncio.sleep(0.5)

    # From the room, through the channel layer.
    async def signal_broadcast_state(self, event):
        self.broadcast_state = event["state"]
        await self.send(messages.dump("lesson", state=event["state"], recording=event["recording"]))

    async def signal_broadcast_ended(self, event):
        self.broadcast_state = "ended"
        await self.send(messages.dump("lesson", state="ended", recording=False))
        self.leaving = True
        await self.leave_room()
        await self.close(code=1000)

    async def signal_hand(self, event):
        if event["id"] == self.participant_id:
            return
        if event["id"] in self.others:
            self.others[event["id"]]["hand"] = event["raised"]
        await self.send(messages.dump("hand", id=event["id"], raised=event["raised"]))

    async def signal_floor(self, event):
        if event["id"] == self.participant_id:
            self.hand_raised = False  # given the floor: the hand goes down
        if event["id"] in self.others:
            self.others[event["id"]]["hand"] = False
        await self.send(messages.dump("floor", id=event["id"]))

    async def signal_muted(self, event):
        await self.send(messages.dump("muted-by-teacher"))

    async def signal_chat(self, event):
        await self.send(messages.dump("chat", id=event["id"], name=event["name"], text=event["text"], at=event["at"]))

    async def signal_revoke(self, event):
        """This user may no longer be in the room (classrooms.actions.unenrol: a pupil
        unenrolled mid-lesson)."""
        user = self.scope.get("user")
        if user is None or user.pk != event["user_id"] or self.admission is None:
            return
        await self.send(messages.error("unenrolled", str(_("You are no longer enrolled in this class."))))
        self.leaving = True
        await self.leave_room()
        await self.close(code=REFUSED)
