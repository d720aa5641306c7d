"""The room socket, /ws/rooms/<room_id>/: thin over signaling.messages (parsing),
signaling.rooms (admission) and the room's media router. A room is a call
(two sides; recording in signaling.call_recording) or a broadcast (a presenter
and an audience; signaling.broadcast), as its kind says."""

import asyncio
import logging
import secrets
import uuid

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from config.client_address import scope_client_ip
from signaling import grace, messages
from signaling.broadcast import BroadcastMessages
from signaling.call_recording import CallRecordingMessages
from signaling.ice import ice_servers_for
from signaling.media import router as media
from signaling.messages import ProtocolError
from signaling.ratelimit import TokenBucket
from signaling.rooms import NO_SUCH_ROOM, NOT_LOGGED_IN, TOO_MANY_MESSAGES, admit
from signaling.socket_slots import SocketSlot

log = logging.getLogger(__name__)

# Other participants answer a newcomer's hello through the channel layer; the
# "joined" message waits this long to list them.
PRESENCE_WAIT_SECONDS = 0.05
FLOOD_STRIKES = 3
# What the server sends is bounded like what it receives (bin/serve's frame limit).
MAX_ANSWER_BYTES = 128 * 1024
INTERNAL_ERROR = 1011


@database_sync_to_async
def admit_user(room_id, user):
    return admit(room_id, user)


@database_sync_to_async
def record_join(kind, room_id, user, ip_address):
    return kind.joined(room_id, user, ip_address)


@database_sync_to_async
def record_leave(kind, room_id, user, visit, at):
    kind.left(room_id, user, visit, at)


class NoSuchRoomConsumer(AsyncWebsocketConsumer):
    """A socket on a path that is no room's: refused like an unknown room."""

    async def connect(self):
        await self.accept()
        await self.send(messages.error("no_room", str(_("There is no such room."))))
        await self.close(code=NO_SUCH_ROOM)


class RoomConsumer(BroadcastMessages, CallRecordingMessages, AsyncWebsocketConsumer):
    async def dispatch(self, message):
        """Whatever goes wrong while handling this socket's events, the participant
        leaves the room for good (the router closes their peer, the others are
        told) and only this socket closes."""
        try:
            await super().dispatch(message)
        except (StopConsumer, asyncio.CancelledError):
            raise
        except Exception:
            log.exception("room socket %s failed on %s", self.participant_id, message.get("type"))
            await self.fail()
            raise StopConsumer() from None

    async def fail(self):
        self.leaving = True
        try:
            await self.leave_room()
        except Exception:
            log.exception("room socket %s: leaving after a failure failed too", self.participant_id)
        finally:
            await self.release_slot()
        await self.close(code=INTERNAL_ERROR)

    def spawn(self, coroutine):
        """A task of this socket's, whose failure is this socket's failure."""
        async def guarded():
            try:
                await coroutine
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("room socket %s: a task failed", self.participant_id)
                await self.fail()
        return asyncio.ensure_future(guarded())

    async def connect(self):
        self.room_id = self.scope["url_route"]["kwargs"]["room_id"]
        self.group = f"room.{self.room_id}"
        self.participant_id = uuid.uuid4().hex[:12]
        self.admission = None
        self.joined = False
        self.leaving = False  # said "leave" (or was put out): no place is kept
        self.resumed = False
        self.resume_token = secrets.token_urlsafe(18)
        self.announced = False  # the page has its "joined" list
        self.visit = None
        self.others: dict[str, dict] = {}
        self.state = messages.MediaState()
        self.limiter = TokenBucket(rate=settings.SIGNALING_MESSAGES_PER_SECOND, burst=settings.SIGNALING_MESSAGE_BURST)
        self.strikes = 0
        self.slot = None
        # Accept first: a refusal then reaches the page as a close code and a reason.
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.refuse(NOT_LOGGED_IN, "not_logged_in", _("Log in to enter the room."))
            return
        admission, self.kind = await admit_user(self.room_id, user)
        if not admission.allowed:
            await self.refuse(admission.close_code, admission.code, admission.message)
            return
        slot = SocketSlot(self.room_id, user.pk, self.channel_name)
        if not await slot.claim():
            await self.refuse(TOO_MANY_MESSAGES, "too_many_sockets",
                              _("This account already has too many connections to this room. Close another tab first."))
            return
        self.slot = slot
        self.admission = admission

    async def release_slot(self):
        slot, self.slot = self.slot, None
        if slot is not None:
            await slot.release()

    async def refuse(self, close_code: int, code: str, message: str):
        await self.send(messages.error(code, str(message)))
        await self.close(code=close_code)

    async def disconnect(self, close_code):
        try:
            if self.joined and not self.leaving:
                await self.hold_place()
            else:
                await self.leave_room()
        finally:
            await self.release_slot()

    async def leave_room(self):
        if self.joined:
            self.joined = False
            self.stop_stills()
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await self.leave_for_good()()

    def leave_for_good(self):
        """What leaving does, as a coroutine function that outlives this consumer
        (a held place runs it when its time is up)."""
        layer, group, room_id, pid, kind, user, visit = (
            self.channel_layer, self.group, self.room_id, self.participant_id, self.kind, self.scope["user"], self.visit)
        gone_at = timezone.now()  # a held place that expires left when its socket dropped

        async def leave():
            # Each step even if the one before failed: the others must hear of it.
            try:
                await media.leave_room(room_id, pid)
            finally:
                try:
                    await record_leave(kind, room_id, user, visit, gone_at)
                finally:
                    await layer.group_send(group, {"type": "signal.participant_left", "id": pid})

        return leave

    async def hold_place(self):
        """The socket dropped without "leave": keep the place for a while
        (signaling.grace); the others see the participant reconnecting."""
        self.joined = False
        self.stop_stills()
        await self.channel_layer.group_discard(self.group, self.channel_name)
        await self.channel_layer.group_send(self.group, {"type": "signal.participant_reconnecting", "id": self.participant_id})
        grace.hold(self.resume_token, grace.HeldPlace(
            room_id=self.room_id, participant_id=self.participant_id, user_id=self.scope["user"].pk, state=self.state,
            hand=self.hand_raised, visit=self.visit, leave=self.leave_for_good(),
        ), settings.RECONNECT_GRACE_SECONDS)

    async def receive(self, text_data=None, bytes_data=None):
        if self.admission is None:
            return  # refused; the socket is closing
        if not self.limiter.allow():
            self.strikes += 1
            await self.send(messages.error("too_many", _("Too many messages; slow down.")))
            if self.strikes >= FLOOD_STRIKES:
                await self.close(code=TOO_MANY_MESSAGES)
            return
        try:
            message = messages.parse(text_data if bytes_data is None else None)
            await getattr(self, f"on_{message.type}")(message)
        except ProtocolError as error:
            await self.send(messages.error(error.code, error.message))
        except media.MediaError as error:
            await self.send(messages.error("media_error", str(error)))

    def require_joined(self):
        if not self.joined:
            raise ProtocolError("not_joined", "send 'join' first")

    async def on_join(self, message):
        if self.joined:
            raise ProtocolError("already_joined", "already in the room")
        place = grace.reclaim(message.resume, self.room_id, self.scope["user"].pk) if message.resume else None
        if place is not None:  # back after a dropped socket: the same participant
            self.resumed = True
            self.participant_id, self.visit, self.state, self.hand_raised = place.participant_id, place.visit, place.state, place.hand
            self.resume_token = message.resume
            if self.kind.broadcast:
                self.low_data_changed(self.state.low_data)
            router = media.routers.get(self.room_id)
            if router is not None and self.participant_id in router.participants:
                router.quality_listeners[self.participant_id] = self.quality_changed
        else:
            self.visit = await record_join(self.kind, self.room_id, self.scope["user"], scope_client_ip(self.scope))
        self.joined = True
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.channel_layer.group_send(self.group, {"type": "signal.participant_joined", **self.me()})
        asyncio.get_running_loop().call_later(PRESENCE_WAIT_SECONDS, lambda: self.spawn(self.send_joined()))

    def me(self) -> dict:
        participant = self.admission.participant
        return {"id": self.participant_id, "name": participant.name, "side": participant.side,
                "channel": self.channel_name, "media": messages.state_dict(self.state), "hand": self.hand_raised}

    @staticmethod
    def public(info: dict) -> dict:
        return {key: info[key] for key in ("id", "name", "side", "media", "hand")}

    async def send_joined(self):
        if not self.joined:
            return
        extras = {**await self.broadcast_joined_extras(), **self.recording_joined_extras()}
        if not self.joined:
            return
        # No await between this list and the flag: whoever answers later is
        # told with participant-joined (signal_participant_present).
        participants = [self.public(o) for o in self.others.values()]
        self.announced = True
        await self.send(messages.dump(
            "joined", you=self.public(self.me()), participants=participants,
            ice_servers=ice_servers_for(f"{self.scope['user'].pk}-{self.participant_id}"),
            resume=self.resume_token, resumed=self.resumed, **extras,
        ))

    async def on_leave(self, message):
        self.leaving = True
        await self.leave_room()
        await self.close(code=1000)

    async def on_offer(self, message):
        self.require_joined()
        router = self.room_router()
        answer = await router.offer(self.participant_id, self.admission.participant.side, message.sdp)
        reply = messages.dump("answer", sdp=answer)
        if len(reply.encode("utf-8")) > MAX_ANSWER_BYTES:
            await media.leave_room(self.room_id, self.participant_id)  # no peer kept for an answer the page never gets
            raise media.MediaError("the answer to this offer would be too large to send; offer fewer media sections")
        router.quality_listeners[self.participant_id] = self.quality_changed
        await self.send(reply)

    async def quality_changed(self, level, reason: str):
        """The server stepped what it sends this participant up or down
        (signaling.media.quality): both sides are told, and why."""
        quality = {"level": level.name, "video": level.video, "reason": reason,
                   "width": level.width, "height": level.height, "fps": level.fps}
        if self.kind.broadcast:  # an audience member stepped down to sound gets still pictures
            self.low_data_changed(self.state.low_data or not level.video)
        await self.send(messages.dump("quality", **quality))
        await self.channel_layer.group_send(self.group, {"type": "signal.participant_quality", "id": self.participant_id, "quality": quality})

    async def on_ice(self, message):
        self.require_joined()
        router = media.routers.get(self.room_id)
        if router is None:
            raise ProtocolError("no_offer", "send an offer before ICE candidates")
        await router.add_candidate(self.participant_id, message.candidate, message.sdp_mid, message.sdp_mline_index)

    async def on_media(self, message):
        self.require_joined()
        self.state = message
        router = media.routers.get(self.room_id)
        if router is not None:
            router.set_audio_only(self.participant_id, message.audio_only)
            router.set_low_data(self.participant_id, message.low_data)
        if self.kind.broadcast:
            self.low_data_changed(message.low_data)
        await self.channel_layer.group_send(self.group, {
            "type": "signal.participant_media", "id": self.participant_id, "media": messages.state_dict(message),
        })

    # Events from the room's other participants, through the channel layer.
    async def signal_participant_joined(self, event):
        if event["id"] == self.participant_id:
            return
        self.others[event["id"]] = event
        await self.channel_layer.send(event["channel"], {"type": "signal.participant_present", **self.me()})
        await self.send(messages.dump("participant-joined", participant=self.public(event)))

    async def signal_participant_present(self, event):
        known = event["id"] in self.others
        self.others[event["id"]] = event
        if self.announced and not known:  # answered after "joined" went out: tell the page now
            await self.send(messages.dump("participant-joined", participant=self.public(event)))

    async def signal_participant_reconnecting(self, event):
        if event["id"] in self.others:
            await self.send(messages.dump("participant-reconnecting", id=event["id"]))

    async def signal_participant_left(self, event):
        if self.others.pop(event["id"], None) is not None:
            await self.send(messages.dump("participant-left", id=event["id"]))

    async def signal_participant_quality(self, event):
        if event["id"] in self.others:
            await self.send(messages.dump("participant-quality", id=event["id"], quality=event["quality"]))

    async def signal_participant_media(self, event):
        if event["id"] in self.others:
            self.others[event["id"]]["media"] = event["media"]
            await self.send(messages.dump("participant-media", id=event["id"], media=event["media"]))
