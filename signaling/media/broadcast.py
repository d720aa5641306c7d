"""A broadcast room's media: one presenter sends to an audience. The
presenter's voice and picture go to every member of the audience; the voice of
the audience member who has the floor goes to the presenter and the rest of
the audience. (classrooms' lesson rooms are broadcasts: the teacher presents,
the pupils are the audience.)

fanout="forward" (the default): every incoming track is read as encoded
frames and fanned out by signaling.media.fanout: nothing is decoded or encoded
per audience member. fanout="relay": aiortc's stock MediaRelay, which decodes
once and encodes once per audience member; kept as the baseline bench/fanout.py
measures.

Slots of an audience member's peer (docs/signaling.md): "audio" the
presenter's voice, "video" the presenter's picture, "audio2" the floor. The
presenter's "audio" carries the floor; their "video" carries nothing.
"""

import asyncio
import logging

from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from signaling.media.fanout import PacketFanout
from signaling.media.peer import CODECS, ParticipantPeer
from signaling.media.quality import BROADCAST_LEVELS, Level
from signaling.media.router import MediaRouter, forwarded
from signaling.media.stills import StillPictures

log = logging.getLogger(__name__)

# The sides as the room kind names them, on the wire too (docs/signaling.md).
PRESENTER, AUDIENCE = "teacher", "pupil"


class BroadcastMediaRouter(MediaRouter):
    """A broadcast's router: the presenter to the whole audience, the floor's voice
    to everyone else; frames forwarded as they arrive (fanout="forward")."""

    def __init__(self, room_id: str, *, ice_servers: list[dict], fanout: str = "forward", still_seconds: float = 5.0):
        super().__init__(room_id, ice_servers=ice_servers)
        if fanout not in ("forward", "relay"):
            raise ValueError(f"fanout is 'forward' or 'relay', not {fanout!r}")
        self.forward = fanout == "forward"
        self.fanouts: dict[MediaStreamTrack, PacketFanout] = {}
        self.relay = MediaRelay() if not self.forward else None
        self._drains: dict[MediaStreamTrack, asyncio.Task] = {}
        self.floor: str | None = None
        self.muted: set[str] = set()
        self.low_data: set[str] = set()
        self.taps: list = []  # recorders and still pictures: see tap()
        self.still_seconds = still_seconds
        self.stills: StillPictures | None = None  # while any audience member is in low-data mode

    def _new_peer(self, participant_id: str, side: str) -> ParticipantPeer:
        return ParticipantPeer(participant_id, side, ice_servers=self.ice_servers,
                               on_track=self._track_arrived, on_failed=self._failed,
                               codecs=CODECS if self.forward else None, on_sender=self._sender_added)

    # What the consumer asks of a broadcast room.
    @property
    def presenter(self) -> ParticipantPeer | None:
        presenters = [p for p in self.participants.values() if p.side == PRESENTER]
        return presenters[-1] if presenters else None  # a presenter who reloads the page: the latest

    def give_floor(self, participant_id: str | None) -> None:
        if participant_id is not None:
            self.muted.discard(participant_id)
        self.floor = participant_id
        self._rewire()

    def mute(self, participant_id: str) -> None:
        self.muted.add(participant_id)
        if self.floor == participant_id:
            self.floor = None
        self._rewire()

    def set_low_data(self, participant_id: str, low_data: bool) -> None:
        if participant_id not in self.participants:
            return
        (self.low_data.add if low_data else self.low_data.discard)(participant_id)
        self._keep_stills()
        self._rewire()

    def _levels_for(self, peer: ParticipantPeer):
        return BROADCAST_LEVELS if peer.side == AUDIENCE else None

    def _apply_level(self, peer: ParticipantPeer, level: Level) -> None:
        # An audience member stepped down gets what low-data mode gives: sound and still pictures.
        peer.auto_audio_only = not level.video
        self._keep_stills()
        self._rewire()

    def _needs_stills(self) -> bool:
        return bool(self.low_data) or any(p.auto_audio_only for p in self.participants.values())

    def _keep_stills(self) -> None:
        if self._needs_stills() and self.stills is None and self.forward:
            self.stills = StillPictures(self, interval=self.still_seconds)
            self.tap(self.stills)
        elif not self._needs_stills() and self.stills is not None:
            self.stills.close()
            self.stills = None

    def source(self, who: str, kind: str):
        """A subscription to the presenter's ("presenter") or the floor's ("floor")
        track of that kind, for a tap (recorder, still pictures); None if absent."""
        peer = self.presenter if who == "presenter" else self.participants.get(self.floor or "")
        track = peer.incoming.get(kind) if peer else None
        return self._subscribe(track) if track is not None else None

    def tap(self, tap) -> None:
        """`tap.rewire()` runs whenever the wiring changes, so a recorder can
        follow the floor and a presenter who rejoins."""
        self.taps.append(tap)
        tap.rewire()

    def untap(self, tap) -> None:
        if tap in self.taps:
            self.taps.remove(tap)

    async def _retire(self, peer: ParticipantPeer) -> None:
        for track in peer.incoming.values():
            self._forget(track)
        await super()._retire(peer)

    async def leave(self, participant_id: str) -> None:
        self.low_data.discard(participant_id)
        self.muted.discard(participant_id)
        if self.floor == participant_id:
            self.floor = None
        await super().leave(participant_id)
        self._keep_stills()

    async def close(self) -> None:
        await super().close()
        await self.stop_recording()  # everyone left without ending the broadcast: keep what was recorded
        for track in list(self.fanouts) + list(self._drains):
            self._forget(track)

    # Wiring.
    def _track_arrived(self, peer: ParticipantPeer, track: MediaStreamTrack) -> None:
        # Every incoming track is read from the start, subscribed or not:
        # aiortc queues what nobody reads without bound.
        if self.forward:
            self.fanouts[track] = forwarded(peer, track)
        else:
            self._drains[track] = asyncio.ensure_future(_drain(self.relay.subscribe(track)))
        self._rewire()

    def _forget(self, track: MediaStreamTrack) -> None:
        fanout = self.fanouts.pop(track, None)
        if fanout is not None:
            fanout.close()
        drain = self._drains.pop(track, None)
        if drain is not None:
            drain.cancel()

    def _subscribe(self, track: MediaStreamTrack):
        if self.forward:
            fanout = self.fanouts.get(track)
            return fanout.subscribe() if fanout is not None else None
        return self.relay.subscribe(track)

    def _wanted(self, peer: ParticipantPeer, slot: str) -> MediaStreamTrack | None:
        presenter = self.presenter
        floor = self.participants.get(self.floor or "")
        floor_voice = floor.incoming.get("audio") if floor is not None and floor is not peer else None
        if peer.side == PRESENTER:
            return floor_voice if slot == "audio" else None
        if slot == "audio2":
            return floor_voice
        if presenter is None:
            return None
        if slot == "video" and (peer.audio_only or peer.auto_audio_only or peer.id in self.low_data):
            return None
        return presenter.incoming.get(slot)

    def _rewire(self) -> None:
        for peer in self.participants.values():
            for slot, forward in peer.outgoing.items():
                wanted = self._wanted(peer, slot)
                if wanted is None:
                    forward.use(None)
                elif forward.origin is not wanted:
                    forward.use(self._subscribe(wanted), origin=wanted)
        for tap in list(self.taps):
            tap.rewire()


async def _drain(track: MediaStreamTrack) -> None:
    try:
        while True:
            await track.recv()
    except MediaStreamError:
        pass
