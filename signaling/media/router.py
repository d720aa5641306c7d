"""A room's media router: who receives whose tracks.

Calls (PairMediaRouter) pair two sides: each participant receives the media of
the most recent participant of the other side (in a consultation the doctor
sees the station's device, the station sees the doctor). Audio-only stops video
both ways for that participant. Broadcasts (signaling.media.broadcast) fan the
presenter out to every audience member. One router per room, in this process
(`routers`).
"""

import asyncio
import inspect
import logging

from aiortc.mediastreams import MediaStreamTrack
from django.conf import settings

from signaling.media import encoded
from signaling.media.encoded import SenderControl
from signaling.media.fanout import FanoutSubscriber, PacketFanout
from signaling.media.peer import CODECS, KINDS, ParticipantPeer
from signaling.media.quality import Level, LinkAdapter, call_levels
from signaling.media.relay import BoundedRelay
from signaling.media.transcode import DecodedTrack, LevelStream

log = logging.getLogger(__name__)


class MediaError(Exception):
    pass


class MediaRouter:
    """What every room's router offers the consumer; subclasses wire the tracks."""

    LINK_CHECK_SECONDS = 1.0

    def __init__(self, room_id: str, *, ice_servers: list[dict]):
        self.room_id = room_id
        self.ice_servers = ice_servers
        self.participants: dict[str, ParticipantPeer] = {}
        # participant id -> callable(level, reason), told when the server steps them down or up
        self.quality_listeners: dict = {}
        self._link_watch: asyncio.Task | None = None
        # The room's recorder while it records: the router holds it, so that it
        # outlives the socket that started it and stops when the room closes.
        self.recorder = None

    async def start_recording(self, recorder) -> None:
        """Records from now on through `recorder` (its start may be async or not)."""
        self.recorder = recorder
        started = recorder.start()
        if inspect.isawaitable(started):
            await started

    async def stop_recording(self, **details):
        """Stops the recording, if one runs; what the recorder's stop answers
        (its file's RecordingInfo). `details` go to the recorder's stop."""
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            return await recorder.stop(**details)
        return None

    def _new_peer(self, participant_id: str, side: str) -> ParticipantPeer:
        return ParticipantPeer(participant_id, side, ice_servers=self.ice_servers,
                               on_track=self._track_arrived, on_failed=self._failed)

    def _sender_added(self, peer: ParticipantPeer, slot: str, sender) -> None:
        # A browser that lost the picture asks for a keyframe: with forwarded
        # frames only the sending browser (or the server's level encoder) can make it.
        def keyframe_requested():
            source = peer.outgoing[slot].source
            if isinstance(source, FanoutSubscriber):
                source.request_keyframe()

        encoded.on_keyframe_request(sender, keyframe_requested)

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
        if self._link_watch is None:
            self._link_watch = asyncio.ensure_future(self._watch_links())
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
        """Broadcast rooms only; a call has no still pictures."""

    async def leave(self, participant_id: str) -> None:
        self.quality_listeners.pop(participant_id, None)
        peer = self.participants.pop(participant_id, None)
        if peer is not None:
            await self._retire(peer)
            self._rewire()

    async def _retire(self, peer: ParticipantPeer) -> None:
        await peer.close()

    async def close(self) -> None:
        if self._link_watch is not None:
            self._link_watch.cancel()
        await asyncio.gather(*(self.leave(pid) for pid in list(self.participants)))

    # Weak links (signaling.media.quality).
    def _levels_for(self, peer: ParticipantPeer) -> tuple[Level, ...] | None:
        """The levels this participant's downlink can step through; None: not adapted."""
        return None

    def _apply_level(self, peer: ParticipantPeer, level: Level) -> None:
        peer.auto_audio_only = not level.video
        self._rewire()

    async def _watch_links(self) -> None:
        while True:
            await asyncio.sleep(self.LINK_CHECK_SECONDS)
            for peer in list(self.participants.values()):
                try:
                    await self._check_link(peer)
                except Exception:  # a peer closing under us; the next round sees it gone
                    log.debug("link check of %s failed", peer.id, exc_info=True)

    async def _check_link(self, peer: ParticipantPeer) -> None:
        if peer.link is None:
            levels = self._levels_for(peer)
            if not levels or "video" not in peer.senders:
                return
            peer.link = LinkAdapter(levels)
            peer.bandwidth = SenderControl(peer.senders["video"])
            peer.bandwidth.set_cap(levels[0].bitrate)
        measured = peer.senders["video" if peer.link.level.video else "audio"] if "audio" in peer.senders else peer.senders["video"]
        loss = await _fresh_loss(peer, measured)
        sent = await peer.bandwidth.sent_rate()
        peer.bandwidth.apply()
        was_video = peer.link.level.video
        level = peer.link.observe(loss, peer.bandwidth.estimate, sent)
        if level is None:
            return
        if level.video and not was_video:
            peer.bandwidth.forget_estimate()
        log.info("room %s: %s steps to %s (%s)", self.room_id, peer.id, level.name, peer.link.reason)
        self._apply_level(peer, level)
        listener = self.quality_listeners.get(peer.id)
        if listener is not None:
            asyncio.ensure_future(listener(level, peer.link.reason))

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


async def _fresh_loss(peer: ParticipantPeer, sender) -> float | None:
    """The loss in the browser's latest receiver report on this sender's
    stream (0..1), or None when no new report came since the last look."""
    for stats in (await sender.getStats()).values():
        if stats.type == "remote-inbound-rtp":
            key = (sender, stats.timestamp)
            if peer.last_reports.get(sender.kind) == key:
                return None
            peer.last_reports[sender.kind] = key
            return stats.fractionLost / 256
    return None


class PairMediaRouter(MediaRouter):
    """A call's router: two sides, each receiving the other's media.

    fanout="forward" (the default, settings.CALL_MEDIA): each side's encoded
    frames go to the other as they arrive, never decoded while both links are
    good; a receiver the link adapter stepped down gets the source at its
    level, decoded once and encoded once per level (signaling.media.transcode).
    fanout="transcode": every receiver's sender re-encodes a decoded copy (the
    baseline bench/calls.py measures against)."""

    def __init__(self, room_id: str, *, ice_servers: list[dict], fanout: str | None = None):
        super().__init__(room_id, ice_servers=ice_servers)
        fanout = fanout or settings.CALL_MEDIA
        if fanout not in ("forward", "transcode"):
            raise ValueError(f"fanout is 'forward' or 'transcode', not {fanout!r}")
        self.forward = fanout == "forward"
        self.fanouts: dict[MediaStreamTrack, PacketFanout] = {}  # each incoming track's encoded frames
        self.decoded: dict[MediaStreamTrack, DecodedTrack] = {}  # read through self.relay
        self.levels: dict[tuple, PacketFanout] = {}  # (incoming track, level name) -> its LevelStream's fanout
        self.relay = BoundedRelay()
        self.recording_lock = asyncio.Lock()  # one start or stop at a time

    def _new_peer(self, participant_id: str, side: str) -> ParticipantPeer:
        return ParticipantPeer(participant_id, side, ice_servers=self.ice_servers,
                               on_track=self._track_arrived, on_failed=self._failed,
                               codecs=CODECS, on_sender=self._sender_added,
                               send_caps={"video": settings.VIDEO_MAX_BITRATE, "audio": settings.AUDIO_BITRATE})

    def _levels_for(self, peer: ParticipantPeer) -> tuple[Level, ...]:
        return call_levels()

    def _apply_level(self, peer: ParticipantPeer, level: Level) -> None:
        if level.video:
            peer.outgoing["video"].shape(level.width, level.height, level.fps)  # what a re-encoding sender sends
            peer.bandwidth.set_cap(level.bitrate)
        super()._apply_level(peer, level)

    def subscribe(self, track: MediaStreamTrack):
        """The encoded frames of a participant's incoming track (for the
        recorder); None before they flow."""
        fanout = self.fanouts.get(track)
        return fanout.subscribe() if fanout is not None else None

    async def _retire(self, peer: ParticipantPeer) -> None:
        for track in peer.incoming.values():
            self._forget(track)
        await super()._retire(peer)

    async def leave(self, participant_id: str) -> None:
        await super().leave(participant_id)
        if self.recorder is not None and self.recorder.orphaned:
            await self.stop_recording()  # the side that controls it has gone

    async def close(self) -> None:
        await super().close()
        await self.stop_recording()  # the call ended: what was recorded is kept
        for track in list(self.fanouts):
            self._forget(track)
        self.relay.close()

    def _counterpart(self, peer: ParticipantPeer) -> ParticipantPeer | None:
        others = [p for p in self.participants.values() if p.side != peer.side]
        return others[-1] if others else None  # dicts keep join order: the latest

    # Wiring.
    def _track_arrived(self, peer: ParticipantPeer, track: MediaStreamTrack) -> None:
        # Read from the start, wanted or not: aiortc queues what nobody reads without bound.
        self.fanouts[track] = forwarded(peer, track)
        self._rewire()

    def _forget(self, track: MediaStreamTrack) -> None:
        for key in [key for key in self.levels if key[0] is track]:
            stream = self.levels.pop(key)
            stream.close()
            stream.source.stop()
        decoded = self.decoded.pop(track, None)
        if decoded is not None:
            decoded.stop()
        fanout = self.fanouts.pop(track, None)
        if fanout is not None:
            fanout.close()

    def _decoded_of(self, track: MediaStreamTrack) -> DecodedTrack:
        if track not in self.decoded:
            self.decoded[track] = DecodedTrack(self.fanouts[track].subscribe())
        return self.decoded[track]

    def _level_of(self, track: MediaStreamTrack, level: Level) -> PacketFanout:
        key = (track, level.name if track.kind == "video" else "voice")
        if key not in self.levels:
            stream = LevelStream(self.relay.subscribe(self._decoded_of(track)), level)

            async def ask_for_keyframe() -> bool:
                stream.request_keyframe()
                return True

            self.levels[key] = PacketFanout(stream, request_keyframe=ask_for_keyframe)
        return self.levels[key]

    def _feed(self, peer: ParticipantPeer, source: MediaStreamTrack):
        """What carries `source` to this participant: (what it is, how to subscribe to it)."""
        if not self.forward:
            return source, lambda: self.relay.subscribe(self._decoded_of(source))
        level = peer.link.level if peer.link is not None and peer.link.index > 0 else None
        fanout = self.fanouts[source] if level is None else self._level_of(source, level)
        return fanout, fanout.subscribe

    def _rewire(self) -> None:
        for peer in self.participants.values():
            other = self._counterpart(peer)
            for kind in KINDS:
                forward = peer.outgoing[kind]
                source = other.incoming.get(kind) if other else None
                without_video = kind == "video" and (_without_video(peer) or (other is not None and _without_video(other)))
                forward.pause(without_video)
                if source is None or source not in self.fanouts or (without_video and self.forward):
                    forward.use(None)
                    continue
                wanted, subscribe = self._feed(peer, source)
                if forward.origin is not wanted:
                    forward.use(subscribe(), origin=wanted)
        self._collect()
        if self.recorder is not None:
            self.recorder.rewire()

    def _collect(self) -> None:
        """Stop encoding levels nobody receives, and decoding what nothing reads."""
        for key, stream in list(self.levels.items()):
            if not stream.subscribers:
                del self.levels[key]
                stream.close()
                stream.source.stop()
        for track, decoded in list(self.decoded.items()):
            if not self.relay.has_receivers(decoded):
                del self.decoded[track]
                decoded.stop()


def forwarded(peer: ParticipantPeer, track: MediaStreamTrack) -> PacketFanout:
    """The fanout of a participant's incoming track (receiving encoded frames),
    asking that participant's browser for keyframes when a receiver needs one."""
    receiver = next((r for r in peer.pc.getReceivers() if r.track is track), None)
    request = (lambda: encoded.request_keyframe(receiver)) if receiver is not None else None
    return PacketFanout(track, request_keyframe=request)


def _without_video(peer: ParticipantPeer) -> bool:
    """Chose audio only, or the server stepped them down to it: video stops both ways."""
    return peer.audio_only or peer.auto_audio_only


routers: dict[str, MediaRouter] = {}


def router_for(room_id: str, *, ice_servers: list[dict], factory=PairMediaRouter) -> MediaRouter:
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
