"""A room's media router: who receives whose tracks.

Consultations pair two sides: each participant receives the media of the most
recent participant of the other side (the doctor sees the station's device,
the station sees the doctor). Audio-only stops video both ways for that
participant. Lessons (signaling.media.lesson) fan the teacher out to every
pupil. One router per room, in this process (`routers`).
"""

import asyncio
import logging

from signaling.media.peer import KINDS, ParticipantPeer
from signaling.media.relay import BoundedRelay

log = logging.getLogger(__name__)


class MediaError(Exception):
    pass


class MediaRouter:
    """What every room's router offers the consumer; subclasses wire the tracks."""

    def __init__(self, room_id: str, *, ice_servers: list[dict]):
        self.room_id = room_id
        self.ice_servers = ice_servers
        self.participants: dict[str, ParticipantPeer] = {}

    def _new_peer(self, participant_id: str, side: str) -> ParticipantPeer:
        return ParticipantPeer(participant_id, side, ice_servers=self.ice_servers,
                               on_track=self._track_arrived, on_failed=self._failed)

    # The interface the consumer uses.
    async def offer(self, participant_id: str, side: str, sdp: str) -> str:
        peer = self.participants.get(participant_id)
        if peer is not None and peer.is_new_connection(sdp):
            # The page lost its media path and starts over (a new RTCPeerConnection
            # or an ICE restart): a fresh server peer takes the old one's place.
            fresh = self._new_peer(participant_id, side)
            fresh.audio_only = peer.audio_only
            self.participants[participant_id] = fresh  # same place in the join order
            await self._retire(peer)
            peer = fresh
        if peer is None:
            peer = self._new_peer(participant_id, side)
            self.participants[participant_id] = peer
        try:
            answer = await peer.answer(sdp)
        except Exception as error:  # aiortc refuses SDP it cannot use with assorted errors
            await self.leave(participant_id)
            raise MediaError(f"cannot answer this offer: {error}") from error
        self._rewire()
        return answer

    async def add_candidate(self, participant_id: str, candidate: str, sdp_mid, sdp_mline_index) -> None:
        peer = self.participants.get(participant_id)
        if peer is None:
            raise MediaError("send an offer before ICE candidates")
        try:
            await peer.add_candidate(candidate, sdp_mid, sdp_mline_index)
        except Exception as error:
            raise MediaError(f"bad ICE candidate: {error}") from error

    def set_audio_only(self, participant_id: str, audio_only: bool) -> None:
        peer = self.participants.get(participant_id)
        if peer is not None:
            peer.audio_only = audio_only
            self._rewire()

    def set_low_data(self, participant_id: str, low_data: bool) -> None:
        """Lesson rooms only; a consultation has no still pictures."""

    async def leave(self, participant_id: str) -> None:
        peer = self.participants.pop(participant_id, None)
        if peer is not None:
            await self._retire(peer)
            self._rewire()

    async def _retire(self, peer: ParticipantPeer) -> None:
        await peer.close()

    async def close(self) -> None:
        await asyncio.gather(*(self.leave(pid) for pid in list(self.participants)))

    @property
    def is_empty(self) -> bool:
        return not self.participants

    # Wiring.
    def _track_arrived(self, peer: ParticipantPeer, track) -> None:
        self._rewire()

    async def _failed(self, peer: ParticipantPeer) -> None:
        log.info("room %s: media of %s failed", self.room_id, peer.id)

    def _rewire(self) -> None:
        raise NotImplementedError


class RoomMediaRouter(MediaRouter):
    def __init__(self, room_id: str, *, ice_servers: list[dict]):
        super().__init__(room_id, ice_servers=ice_servers)
        self.relay = BoundedRelay()

    async def close(self) -> None:
        await super().close()
        self.relay.close()

    def _counterpart(self, peer: ParticipantPeer) -> ParticipantPeer | None:
        others = [p for p in self.participants.values() if p.side != peer.side]
        return others[-1] if others else None  # dicts keep join order: the latest

    def _rewire(self) -> None:
        for peer in self.participants.values():
            other = self._counterpart(peer)
            for kind in KINDS:
                forward = peer.outgoing[kind]
                source = other.incoming.get(kind) if other else None
                forward.pause(kind == "video" and (peer.audio_only or (other is not None and other.audio_only)))
                if source is None:
                    forward.use(None)
                elif forward.origin is not source:
                    forward.use(self.relay.subscribe(source), origin=source)


routers: dict[str, MediaRouter] = {}


def router_for(room_id: str, *, ice_servers: list[dict], factory=RoomMediaRouter) -> MediaRouter:
    if room_id not in routers:
        routers[room_id] = factory(room_id, ice_servers=ice_servers)
    return routers[room_id]


async def leave_room(room_id: str, participant_id: str) -> None:
    router = routers.get(room_id)
    if router is None:
        return
    await router.leave(participant_id)
    if router.is_empty:
        routers.pop(room_id, None)
        await router.close()


async def close_all() -> None:
    """On shutdown: every peer closed."""
    await asyncio.gather(*(router.close() for router in list(routers.values())))
    routers.clear()
